#include "sdk/core/net_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace weft::core {

namespace {

struct Range {
  const char* network;
  const char* kind;
};

// Most specific first: the first range that contains an address names its kind.
constexpr Range kV4Ranges[] = {
    {"169.254.169.254/32", "cloud metadata"},
    {"0.0.0.0/8", "unspecified"},
    {"127.0.0.0/8", "loopback"},
    {"10.0.0.0/8", "private"},
    {"172.16.0.0/12", "private"},
    {"192.168.0.0/16", "private"},
    {"100.64.0.0/10", "shared address space"},
    {"169.254.0.0/16", "link-local"},
    {"192.0.0.0/24", "reserved"},
    {"192.0.2.0/24", "reserved"},
    {"198.18.0.0/15", "reserved"},
    {"198.51.100.0/24", "reserved"},
    {"203.0.113.0/24", "reserved"},
    {"224.0.0.0/4", "multicast"},
    {"255.255.255.255/32", "broadcast"},
    {"240.0.0.0/4", "reserved"},
};

constexpr Range kV6Ranges[] = {
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"64:ff9b:1::/48", "private"},
    {"100::/64", "reserved"},
    {"2001:db8::/32", "reserved"},
    {"fd00:ec2::254/128", "cloud metadata"},
    {"fc00::/7", "unique-local"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "private"},
    {"ff00::/8", "multicast"},
    {"::/8", "reserved"},
};

const std::vector<std::pair<IpNetwork, const char*>>& Table(bool v6) {
  static const auto build = [](const auto& ranges) {
    std::vector<std::pair<IpNetwork, const char*>> out;
    for (const auto& r : ranges) out.emplace_back(*ParseIpNetwork(r.network), r.kind);
    return out;
  };
  static const auto v4 = build(kV4Ranges);
  static const auto v6table = build(kV6Ranges);
  return v6 ? v6table : v4;
}

bool StartsWith(const IpAddress& a, std::initializer_list<std::uint8_t> prefix) {
  return std::equal(prefix.begin(), prefix.end(), a.bytes.begin());
}

}  // namespace

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string t(text);
  IpAddress a;
  if (t.find(':') != std::string::npos) {
    if (auto pct = t.find('%'); pct != std::string::npos) t.resize(pct);
    a.v6 = true;
    if (inet_pton(AF_INET6, t.c_str(), a.bytes.data()) != 1) return std::nullopt;
    return a;
  }
  if (inet_pton(AF_INET, t.c_str(), a.bytes.data()) != 1) return std::nullopt;
  return a;
}

std::optional<IpAddress> ParseHostAddress(std::string_view host) {
  if (auto a = ParseIpAddress(host)) return a;
  if (host.empty() || host.size() > 64 || host.find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string h(host);
  if (!std::isdigit(static_cast<unsigned char>(h.front()))) return std::nullopt;
  in_addr in{};
  if (inet_aton(h.c_str(), &in) == 0) return std::nullopt;
  return IpAddressFromBytes(false, reinterpret_cast<const std::uint8_t*>(&in.s_addr));
}

IpAddress IpAddressFromBytes(bool v6, const std::uint8_t* bytes) {
  IpAddress a;
  a.v6 = v6;
  std::memcpy(a.bytes.data(), bytes, v6 ? 16 : 4);
  return a;
}

std::string FormatIpAddress(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (!inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf)) return "?";
  return buf;
}

IpAddress Unmapped(const IpAddress& a) {
  if (a.v6 && StartsWith(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})) {
    return IpAddressFromBytes(false, a.bytes.data() + 12);
  }
  return a;
}

bool IpNetwork::Contains(const IpAddress& address) const {
  IpAddress a = base.v6 ? address : Unmapped(address);
  if (a.v6 != base.v6) return false;
  int full = prefix / 8;
  if (!std::equal(base.bytes.begin(), base.bytes.begin() + full, a.bytes.begin())) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (base.bytes[full] & mask) == (a.bytes[full] & mask);
}

std::optional<IpNetwork> ParseIpNetwork(std::string_view text) {
  IpNetwork n;
  auto slash = text.find('/');
  auto a = ParseIpAddress(text.substr(0, slash));
  if (!a || (slash == std::string_view::npos && text.find('%') != std::string_view::npos)) {
    return std::nullopt;
  }
  n.base = *a;
  int max = a->v6 ? 128 : 32;
  n.prefix = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    n.prefix = std::stoi(std::string(digits));
    if (n.prefix > max) return std::nullopt;
  }
  // No host bits below the prefix.
  for (int bit = n.prefix; bit < max; ++bit) {
    if (n.base.bytes[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  }
  return n;
}

std::string InternalAddressKind(const IpAddress& address) {
  IpAddress a = Unmapped(address);
  if (a.v6) {
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that is reached.
    if (StartsWith(a, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) {
      return InternalAddressKind(IpAddressFromBytes(false, a.bytes.data() + 12));
    }
    if (StartsWith(a, {0x20, 0x02})) {
      return InternalAddressKind(IpAddressFromBytes(false, a.bytes.data() + 2));
    }
  }
  for (const auto& [network, kind] : Table(a.v6)) {
    if (network.Contains(a)) return kind;
  }
  return "";
}

bool AddressAllowed(const IpAddress& a, const std::vector<IpNetwork>& allowed) {
  if (InternalAddressKind(a).empty()) return true;
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const IpNetwork& n) { return n.Contains(a); });
}

std::string UrlHost(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  auto rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  std::string_view host;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return "";
    host = rest.substr(1, close - 1);
  } else {
    host = rest.substr(0, rest.find(':'));
  }
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace weft::core
