#include "sdk/core/text.hpp"

#include <cctype>
#include <cstdlib>
#include <map>

namespace weft::core {

std::optional<std::int64_t> ParseByteSize(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
  };
  std::string t = trim(text);
  if (t.empty() || !(std::isdigit(static_cast<unsigned char>(t[0])) || t[0] == '.')) {
    return std::nullopt;
  }
  char* end = nullptr;
  double n = std::strtod(t.c_str(), &end);
  if (end == t.c_str() || !(n >= 0)) return std::nullopt;
  std::string unit = trim(end);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, double> kUnits = {
      {"", 1.0},          {"b", 1.0},
      {"k", 1024.0},      {"kib", 1024.0},         {"kb", 1e3},
      {"m", 1048576.0},   {"mib", 1048576.0},      {"mb", 1e6},
      {"g", 1073741824.0}, {"gib", 1073741824.0},  {"gb", 1e9},
      {"t", 1099511627776.0}, {"tib", 1099511627776.0}, {"tb", 1e12},
  };
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) return std::nullopt;
  double bytes = n * it->second;
  if (bytes > 9e18) return std::nullopt;
  return static_cast<std::int64_t>(bytes);
}

}  // namespace weft::core
