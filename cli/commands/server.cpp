#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "cli/commands/common.hpp"

namespace weft::cli {

namespace {

// weft-server beside this executable, then the build tree's layout, then PATH.
std::string FindServer() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto dir = self.parent_path();
    for (auto candidate : {dir / "weft-server", dir / ".." / "server" / "weft-server"}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal().string();
    }
  }
  return "weft-server";  // execvp searches PATH
}

}  // namespace

int ServerStart(const std::vector<std::string>& server_args) {
  std::string server = FindServer();
  std::vector<char*> argv;
  argv.push_back(server.data());
  std::vector<std::string> args = server_args;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execvp(server.c_str(), argv.data());
  return Fail("cannot start weft-server (" + server + "): " + std::strerror(errno) +
              "; is it installed beside weft or on PATH?");
}

}  // namespace weft::cli
