#pragma once
// Small text helpers shared by messages across the project.
#include <cstddef>
#include <cstdint>
#include <optional>
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

// Length of the valid UTF-8 sequence starting at text[i] (1-4), or 0 when the bytes there
// are not one (a stray continuation byte, an overlong form, a surrogate, > U+10FFFF, or a
// sequence cut by the end of `text`).
inline std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  unsigned char c1 = b(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xF0 && c1 < 0x90)) return 0;  // overlong
  if (c == 0xED && c1 > 0x9F) return 0;                                // surrogates
  if (c == 0xF4 && c1 > 0x8F) return 0;                                // > U+10FFFF
  return n;
}

// A size in bytes: "1073741824", "1GiB", "500MiB", "64KiB", "1.5G", "10 MB", "1TB".
// K/M/G/T and KiB/MiB/GiB/TiB are powers of 1024, KB/MB/GB/TB powers of 1000; units are
// case-insensitive. nullopt when malformed or negative.
std::optional<std::int64_t> ParseByteSize(std::string_view text);

}  // namespace weft::core
