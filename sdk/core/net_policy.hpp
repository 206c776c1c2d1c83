#pragma once
// Which IP addresses count as "inside" (loopback, private, link-local, ...), networks in
// CIDR form, and the host of an http(s) URL. Used to keep webhooks from reaching the
// server's own network (docs/notifications.md). Pure: no I/O, no name resolution.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::core {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4 bytes
};

// "192.0.2.1" or "2001:db8::1" (no brackets; a "%zone" suffix is ignored); nullopt otherwise.
// Only the strict dotted quad is an IPv4 address here ("127.1" is not).
std::optional<IpAddress> ParseIpAddress(std::string_view text);
// From network-order bytes (4 for IPv4, 16 for IPv6).
// A URL host that is an address literal, read as libcurl and getaddrinfo read it: IPv6, or
// IPv4 in any inet_aton form ("127.1", "0x7f000001", "2130706433", "0177.0.0.1").
std::optional<IpAddress> ParseHostAddress(std::string_view host);
IpAddress IpAddressFromBytes(bool v6, const std::uint8_t* bytes);
std::string FormatIpAddress(const IpAddress& a);
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address; others unchanged.
IpAddress Unmapped(const IpAddress& a);

struct IpNetwork {
  IpAddress base;
  int prefix = 0;  // 0-32 or 0-128
  bool Contains(const IpAddress& a) const;  // an IPv4-mapped address counts as IPv4
};

// "10.0.0.0/8", "fe80::/10", or one address ("127.0.0.1" = /32, "::1" = /128). Host bits
// set below the prefix are an error ("10.0.0.1/8"), so a typo cannot widen a network.
std::optional<IpNetwork> ParseIpNetwork(std::string_view text);

// Why `a` is an internal address, or "" when it is a public one. One of: "loopback",
// "unspecified", "private", "shared address space", "link-local", "cloud metadata",
// "unique-local", "multicast", "broadcast", "reserved". IPv4-mapped, NAT64 (64:ff9b::/96)
// and 6to4 (2002::/16) addresses are judged by the IPv4 address they carry.
std::string InternalAddressKind(const IpAddress& a);

// True when `a` may be contacted: a public address, or one inside an allowed network.
bool AddressAllowed(const IpAddress& a, const std::vector<IpNetwork>& allowed);

// The host of an http:// or https:// URL, lower-cased, without port, user info or IPv6
// brackets ("" when there is none).
std::string UrlHost(std::string_view url);

}  // namespace weft::core
