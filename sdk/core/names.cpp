#include "sdk/core/names.hpp"

#include <cstdio>

#include "sdk/core/text.hpp"

namespace weft::core {

namespace {

constexpr std::size_t kQuotedBytes = 80;

// "letters, digits, '_', '.' and '-'" (with `also`: "..., '-' and '@'").
std::string Allowed(std::string_view also) {
  std::string out = "letters, digits, '_', '.'";
  std::string last = "'-'";
  for (char c : also) {
    out += ", " + last;
    last = std::string("'") + c + "'";
  }
  return out + " and " + last;
}

}  // namespace

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool IsValidName(std::string_view name, std::size_t max_length, std::string_view also) {
  return NameProblem(name, max_length, also).empty();
}

std::string NameProblem(std::string_view name, std::size_t max_length, std::string_view also) {
  if (name.empty()) return "required";
  if (name.size() > max_length) {
    return "is " + std::to_string(name.size()) + " characters long; at most " +
           std::to_string(max_length) + " (" + Allowed(also) + ")";
  }
  for (char c : name) {
    if (!IsNameChar(c) && also.find(c) == std::string_view::npos) {
      return QuoteName(name) + " may contain only " + Allowed(also) + " (at most " +
             std::to_string(max_length) + ")";
    }
  }
  return {};
}

Status CheckName(std::string_view name, std::string_view field, std::size_t max_length,
                 std::string_view also) {
  std::string p = NameProblem(name, max_length, also);
  if (p.empty()) return {};
  return InvalidArgument(std::string(field) + ": " + p);
}

std::string DisplayNameProblem(std::string_view name, bool required) {
  if (name.empty()) return required ? "required" : "";
  if (name.size() > kMaxDisplayNameLength) {
    return "is " + std::to_string(name.size()) + " bytes long; at most " +
           std::to_string(kMaxDisplayNameLength);
  }
  for (std::size_t i = 0; i < name.size();) {
    std::size_t n = Utf8SequenceLength(name, i);
    if (n == 0) return "is not valid UTF-8";
    auto c = static_cast<unsigned char>(name[i]);
    bool c0 = n == 1 && (c < 0x20 || c == 0x7f);
    bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(name[i + 1]) < 0xA0;  // U+0080-9F
    if (c0 || c1) return QuoteName(name) + " contains a control character";
    i += n;
  }
  return {};
}

Status CheckDisplayName(std::string_view name, std::string_view field, bool required) {
  std::string p = DisplayNameProblem(name, required);
  if (p.empty()) return {};
  return InvalidArgument(std::string(field) + ": " + p);
}

Status CheckFlowName(std::string_view name, std::string_view field) {
  if (auto s = CheckDisplayName(name, field, true); !s.ok()) return s;
  if (name.find('/') != std::string_view::npos) {
    return InvalidArgument(std::string(field) + ": " + QuoteName(name) +
                           " must not contain '/' (FLOW/NAME names a deployment)");
  }
  return {};
}

std::string QuoteName(std::string_view name) {
  bool cut = false;
  if (name.size() > kQuotedBytes) {
    std::size_t end = kQuotedBytes;
    // Not in the middle of a UTF-8 sequence.
    while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) --end;
    name = name.substr(0, end);
    cut = true;
  }
  std::string out = "\"";
  for (std::size_t i = 0; i < name.size(); ++i) {
    char ch = name[i];
    auto c = static_cast<unsigned char>(ch);
    if (c == 0xC2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(name[i + 1]) < 0xA0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u00%02x", static_cast<unsigned char>(name[++i]));
      out += buf;
    } else if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
  if (cut) out += "...";
  return out;
}

}  // namespace weft::core
