#include "sdk/core/address.hpp"

namespace weft::core {

std::string HostOf(std::string_view address) {
  if (address.rfind("unix:", 0) == 0) return "";
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string_view::npos) return "";
    return std::string(address.substr(1, close - 1));
  }
  auto colon = address.rfind(':');
  return std::string(colon == std::string_view::npos ? address : address.substr(0, colon));
}

bool IsLoopbackAddress(std::string_view address) {
  if (address.rfind("unix:", 0) == 0) return true;
  std::string host = HostOf(address);
  if (host == "localhost" || host == "::1") return true;
  if (host.rfind("127.", 0) != 0) return false;
  // 127.a.b.c with digits only.
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace weft::core
