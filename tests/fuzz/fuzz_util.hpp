#pragma once
// Shared bits of the libFuzzer targets: splitting an input into fields, and a check that
// aborts with a message (an invariant broken is a finding, like a sanitizer report).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace weft::fuzz {

// Up to `max_parts` fields separated by `sep`; the last one keeps any further separators.
inline std::vector<std::string> Split(std::string_view text, char sep, std::size_t max_parts) {
  std::vector<std::string> out;
  while (out.size() + 1 < max_parts) {
    auto at = text.find(sep);
    if (at == std::string_view::npos) break;
    out.emplace_back(text.substr(0, at));
    text.remove_prefix(at + 1);
  }
  out.emplace_back(text);
  return out;
}

[[noreturn]] inline void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz invariant broken: %s: %s\n", what, detail.c_str());
  std::abort();
}

// 2026-03-29T00:00:00Z (a week with a DST change in Europe) as a fixed "now".
inline std::chrono::system_clock::time_point FixedNow() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1774742400));
}

}  // namespace weft::fuzz
