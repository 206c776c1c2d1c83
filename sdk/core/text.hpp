#pragma once
// Small text helpers shared by messages across the project.
#include <string>
#include <string_view>

namespace weft::core {

// "abc" -> "\"abc\"", with '"' and '\' escaped: how messages name a value.
inline std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace weft::core
