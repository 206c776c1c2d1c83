#include "sdk/core/image_ref.hpp"

#include <cctype>

namespace weft::core {

namespace {

bool LowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool Alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool Hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// [a-z0-9]+ (("." | "_" | "__" | "-"+) [a-z0-9]+)*
bool ValidComponent(std::string_view c) {
  if (c.empty() || !LowerAlnum(c.front()) || !LowerAlnum(c.back())) return false;
  std::size_t i = 0;
  while (i < c.size()) {
    if (LowerAlnum(c[i])) {
      ++i;
      continue;
    }
    std::size_t start = i;
    while (i < c.size() && !LowerAlnum(c[i])) ++i;
    std::string_view sep = c.substr(start, i - start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
  }
  return true;
}

// label ("." label)* [":" port]
bool ValidHost(std::string_view h) {
  std::string_view host = h;
  if (auto colon = h.find(':'); colon != std::string_view::npos) {
    std::string_view port = h.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port) {
      if (c < '0' || c > '9') return false;
    }
    host = h.substr(0, colon);
  }
  if (host.empty()) return false;
  std::size_t start = 0;
  while (start <= host.size()) {
    std::size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view label = host.substr(start, dot - start);
    if (label.empty() || !Alnum(label.front()) || !Alnum(label.back())) return false;
    for (char c : label) {
      if (!Alnum(c) && c != '-') return false;
    }
    start = dot + 1;
  }
  return true;
}

}  // namespace

std::string ImageReferenceProblem(std::string_view ref) {
  if (ref.empty()) return "is empty";
  if (ref.front() == '-') return "starts with '-'";
  for (char c : ref) {
    if (std::isspace(static_cast<unsigned char>(c))) return "contains whitespace";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "contains a control character";
  }
  std::string_view name = ref;
  if (auto at = ref.find('@'); at != std::string_view::npos) {
    std::string_view digest = ref.substr(at + 1);
    name = ref.substr(0, at);
    constexpr std::string_view kAlgo = "sha256:";
    bool ok = digest.size() == kAlgo.size() + 64 && digest.substr(0, kAlgo.size()) == kAlgo;
    for (std::size_t i = kAlgo.size(); ok && i < digest.size(); ++i) ok = Hex(digest[i]);
    if (!ok) return "digest " + Quoted(digest) + " must be sha256: and 64 lowercase hex digits";
  }
  std::size_t last_slash = name.rfind('/');
  std::size_t colon = name.rfind(':');
  if (colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    std::string_view tag = name.substr(colon + 1);
    name = name.substr(0, colon);
    bool ok = !tag.empty() && tag.size() <= 128 && (Alnum(tag[0]) || tag[0] == '_');
    for (char c : tag) ok = ok && (Alnum(c) || c == '_' || c == '.' || c == '-');
    if (!ok) {
      return "tag " + Quoted(tag) +
             " must be 1-128 of letters, digits, '_', '.' and '-', not starting with '.' or '-'";
    }
  }
  if (name.empty()) return "has no name";
  if (name.size() > 255) return "name is longer than 255 characters";
  std::string_view path = name;
  if (auto slash = name.find('/'); slash != std::string_view::npos) {
    std::string_view first = name.substr(0, slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
        first == "localhost") {
      if (!ValidHost(first)) {
        return "registry host " + Quoted(first) +
               " must be DNS labels (letters, digits, '-') with an optional :port";
      }
      path = name.substr(slash + 1);
    }
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view component = path.substr(start, slash - start);
    if (!ValidComponent(component)) {
      return "path component " + Quoted(component) +
             " must be lowercase letters and digits joined by '.', '_', '__' or '-'";
    }
    start = slash + 1;
  }
  return "";
}

bool IsDockerNetworkName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name[0])) return false;
  for (char c : name) {
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace weft::core
