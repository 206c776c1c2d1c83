#pragma once
// Network addresses as Weft writes them: host:port, [v6]:port or unix:/path. No I/O.
#include <string>
#include <string_view>

namespace weft::core {

// The host of "host:port" / "[v6]:port" ("" for unix: addresses and unparsable text).
std::string HostOf(std::string_view address);

// True for addresses only this machine can reach: unix sockets, localhost, 127.0.0.0/8 and
// ::1. A wildcard (0.0.0.0, ::) or any other host is not loopback.
bool IsLoopbackAddress(std::string_view address);

}  // namespace weft::core
