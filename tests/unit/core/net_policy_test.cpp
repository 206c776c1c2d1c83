// sdk/core/net_policy: which addresses are "inside", CIDR networks, the host of a URL.
#include <catch2/catch.hpp>

#include <string>

#include "sdk/core/net_policy.hpp"

using weft::core::AddressAllowed;
using weft::core::InternalAddressKind;
using weft::core::IpNetwork;
using weft::core::ParseIpAddress;
using weft::core::ParseIpNetwork;

namespace {

std::string Kind(const std::string& text) {
  auto a = ParseIpAddress(text);
  REQUIRE(a);
  return InternalAddressKind(*a);
}

IpNetwork Net(const std::string& text) {
  auto n = ParseIpNetwork(text);
  REQUIRE(n);
  return *n;
}

}  // namespace

TEST_CASE("net policy: IPv4 addresses inside and outside") {
  CHECK(Kind("127.0.0.1") == "loopback");
  CHECK(Kind("127.255.255.254") == "loopback");
  CHECK(Kind("0.0.0.0") == "unspecified");
  CHECK(Kind("10.1.2.3") == "private");
  CHECK(Kind("172.16.0.1") == "private");
  CHECK(Kind("172.31.255.255") == "private");
  CHECK(Kind("192.168.1.1") == "private");
  CHECK(Kind("100.64.0.1") == "shared address space");
  CHECK(Kind("100.127.255.255") == "shared address space");
  CHECK(Kind("169.254.169.254") == "cloud metadata");
  CHECK(Kind("169.254.1.1") == "link-local");
  CHECK(Kind("224.0.0.1") == "multicast");
  CHECK(Kind("255.255.255.255") == "broadcast");
  CHECK(Kind("240.0.0.1") == "reserved");
  // Public neighbours of the ranges.
  CHECK(Kind("8.8.8.8").empty());
  CHECK(Kind("172.15.255.255").empty());
  CHECK(Kind("172.32.0.0").empty());
  CHECK(Kind("100.63.255.255").empty());
  CHECK(Kind("100.128.0.0").empty());
  CHECK(Kind("11.0.0.1").empty());
  CHECK(Kind("126.255.255.255").empty());
  CHECK(Kind("128.0.0.1").empty());
}

TEST_CASE("net policy: IPv6 addresses, mapped and embedded IPv4 forms") {
  CHECK(Kind("::1") == "loopback");
  CHECK(Kind("::") == "unspecified");
  CHECK(Kind("fe80::1") == "link-local");
  CHECK(Kind("fe80::1%eth0") == "link-local");
  CHECK(Kind("febf::1") == "link-local");
  CHECK(Kind("fc00::1") == "unique-local");
  CHECK(Kind("fdff:1234::1") == "unique-local");
  CHECK(Kind("fd00:ec2::254") == "cloud metadata");
  CHECK(Kind("ff02::1") == "multicast");
  CHECK(Kind("fec0::1") == "private");
  // IPv4-mapped: judged as the IPv4 address, in every spelling.
  CHECK(Kind("::ffff:127.0.0.1") == "loopback");
  CHECK(Kind("::ffff:7f00:1") == "loopback");
  CHECK(Kind("::ffff:169.254.169.254") == "cloud metadata");
  CHECK(Kind("::ffff:10.0.0.1") == "private");
  CHECK(Kind("::ffff:0.0.0.0") == "unspecified");
  CHECK(Kind("::ffff:8.8.8.8").empty());
  // IPv4-compatible (deprecated) and the rest of ::/8.
  CHECK(Kind("::127.0.0.1") == "reserved");
  // NAT64 and 6to4 carry an IPv4 address.
  CHECK(Kind("64:ff9b::7f00:1") == "loopback");
  CHECK(Kind("64:ff9b::808:808").empty());
  CHECK(Kind("2002:a00:1::") == "private");
  CHECK(Kind("2002:808:808::").empty());
  // Public.
  CHECK(Kind("2606:4700::1111").empty());
  CHECK(Kind("2a00:1450:4001::1").empty());
}

TEST_CASE("net policy: parsing addresses and networks") {
  CHECK_FALSE(ParseIpAddress(""));
  CHECK_FALSE(ParseIpAddress("localhost"));
  CHECK_FALSE(ParseIpAddress("127.1"));
  CHECK_FALSE(ParseIpAddress("1.2.3.4.5"));
  CHECK_FALSE(ParseIpAddress("256.0.0.1"));
  CHECK_FALSE(ParseIpAddress("[::1]"));
  CHECK(weft::core::FormatIpAddress(*ParseIpAddress("::ffff:127.0.0.1")) == "::ffff:127.0.0.1");
  CHECK(weft::core::FormatIpAddress(weft::core::Unmapped(*ParseIpAddress("::ffff:7f00:1"))) ==
        "127.0.0.1");

  CHECK(Net("127.0.0.0/8").prefix == 8);
  CHECK(Net("10.1.2.3").prefix == 32);
  CHECK(Net("::1").prefix == 128);
  CHECK(Net("0.0.0.0/0").prefix == 0);
  CHECK(Net("fe80::/10").prefix == 10);
  CHECK_FALSE(ParseIpNetwork("10.0.0.1/8"));  // host bits set
  CHECK_FALSE(ParseIpNetwork("10.0.0.0/33"));
  CHECK_FALSE(ParseIpNetwork("::/129"));
  CHECK_FALSE(ParseIpNetwork("10.0.0.0/"));
  CHECK_FALSE(ParseIpNetwork("10.0.0.0/-1"));
  CHECK_FALSE(ParseIpNetwork("10.0.0.0/8x"));
  CHECK_FALSE(ParseIpNetwork("example.com/8"));
  CHECK_FALSE(ParseIpNetwork(""));

  CHECK(Net("10.0.0.0/8").Contains(*ParseIpAddress("10.255.0.1")));
  CHECK_FALSE(Net("10.0.0.0/8").Contains(*ParseIpAddress("11.0.0.1")));
  CHECK(Net("172.16.0.0/12").Contains(*ParseIpAddress("172.31.0.1")));
  CHECK_FALSE(Net("172.16.0.0/12").Contains(*ParseIpAddress("172.32.0.1")));
  CHECK(Net("127.0.0.0/8").Contains(*ParseIpAddress("::ffff:127.0.0.1")));
  CHECK_FALSE(Net("127.0.0.0/8").Contains(*ParseIpAddress("::1")));
  CHECK(Net("0.0.0.0/0").Contains(*ParseIpAddress("1.2.3.4")));
  CHECK_FALSE(Net("::/0").Contains(*ParseIpAddress("1.2.3.4")));
  CHECK(Net("::/0").Contains(*ParseIpAddress("::1")));
}

TEST_CASE("net policy: an allowlist opens exactly its networks") {
  std::vector<IpNetwork> none;
  std::vector<IpNetwork> loopback = {Net("127.0.0.0/8")};
  auto allowed = [](const std::string& text, const std::vector<IpNetwork>& list) {
    return AddressAllowed(*ParseIpAddress(text), list);
  };
  CHECK(allowed("8.8.8.8", none));
  CHECK_FALSE(allowed("127.0.0.1", none));
  CHECK(allowed("127.0.0.1", loopback));
  CHECK(allowed("::ffff:127.0.0.1", loopback));
  CHECK_FALSE(allowed("::1", loopback));
  CHECK_FALSE(allowed("169.254.169.254", loopback));
  CHECK_FALSE(allowed("10.0.0.1", loopback));
  CHECK(allowed("10.0.0.1", {Net("10.0.0.0/8")}));
}

TEST_CASE("net policy: a URL host read as an address the way libcurl reads it") {
  using weft::core::FormatIpAddress;
  using weft::core::ParseHostAddress;
  for (const char* host : {"127.0.0.1", "127.1", "0x7f000001", "2130706433", "0177.0.0.1",
                           "0x7f.0.0.1"}) {
    INFO(host);
    auto a = ParseHostAddress(host);
    REQUIRE(a);
    CHECK(FormatIpAddress(*a) == "127.0.0.1");
  }
  CHECK(FormatIpAddress(*ParseHostAddress("::ffff:127.0.0.1")) == "::ffff:127.0.0.1");
  CHECK_FALSE(ParseHostAddress("localhost"));
  CHECK_FALSE(ParseHostAddress("example.com"));
  CHECK_FALSE(ParseHostAddress("a127.0.0.1"));
  CHECK_FALSE(ParseHostAddress("127.0.0.1.example.com"));
  CHECK_FALSE(ParseHostAddress(""));
}

TEST_CASE("net policy: the host of a URL") {
  using weft::core::UrlHost;
  CHECK(UrlHost("http://127.0.0.1:8080/hook") == "127.0.0.1");
  CHECK(UrlHost("https://Hooks.Example.com/x?y#z") == "hooks.example.com");
  CHECK(UrlHost("http://[::1]:80/") == "::1");
  CHECK(UrlHost("http://[::ffff:127.0.0.1]/") == "::ffff:127.0.0.1");
  CHECK(UrlHost("http://user:pw@10.0.0.1/") == "10.0.0.1");
  CHECK(UrlHost("http://example.com?q=@127.0.0.1") == "example.com");
  CHECK(UrlHost("http://169.254.169.254") == "169.254.169.254");
  CHECK(UrlHost("example.com").empty());
  CHECK(UrlHost("http://[::1/").empty());
}
