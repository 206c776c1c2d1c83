#pragma once
// Internal to weft_server_http (includes httplib): route registration.
#include <httplib.h>

#include <memory>

#include "server/http/http_server.hpp"

namespace weft::server::http {

struct ApiContext {
  HttpDomain domain;
  const core::Clock& clock;
  std::shared_ptr<spdlog::logger> logger;
};

// Every /api/... route (docs/api.md).
void RegisterJsonApi(httplib::Server& server, const ApiContext& ctx);

}  // namespace weft::server::http
