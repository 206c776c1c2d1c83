#include <iostream>

#include "cli/commands/common.hpp"
#include "cli/output/json.hpp"

#ifndef WEFT_VERSION
#define WEFT_VERSION "0.0.0"
#endif

namespace weft::cli {

int Version(const Globals& g) {
  client::ClientOptions o = g.api;
  o.timeout_seconds = 3;
  client::Client c(o);
  auto server = c.GetVersion(v1::GetVersionRequest{});
  if (g.format == Format::kJson) {
    std::cout << "{\"client\": \"" << WEFT_VERSION << "\", \"server\": ";
    if (server) {
      output::PrintJson(std::cout, *server);
    } else {
      std::cout << "null";
    }
    std::cout << "}\n";
    return 0;
  }
  std::cout << "weft " << WEFT_VERSION << "\n";
  if (server) {
    std::cout << "server " << server->version() << " at " << o.address << " ("
              << server->database() << ", schema " << server->schema_version() << ")\n";
  } else if (server.error().code == core::Code::kUnavailable ||
             server.error().code == core::Code::kDeadlineExceeded) {
    std::cout << "server: not reachable at " << o.address << "\n";
  } else {
    // Reachable, but it refused (no or a bad key, a plaintext refusal): say why.
    std::cout << "server at " << o.address << ": " << server.error().message << "\n";
  }
  return 0;
}

}  // namespace weft::cli
