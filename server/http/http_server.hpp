#pragma once
// The HTTP side of weft-server: the dashboard (ui/ assets embedded at build time), the JSON
// API under /api/ (docs/api.md), /healthz, /readyz and /metrics. cpp-httplib stays inside
// the .cpp files (pimpl). Handlers call the same orchestration objects as the gRPC
// services, so validation and errors are shared.
#include <functional>
#include <memory>
#include <string>

#include "sdk/core/error.hpp"
#include "sdk/core/time.hpp"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::orchestration {
class RunService;
class StorageCatalog;
class DeploymentManager;
class WorkQueueManager;
class AgentManager;
class LogService;
class NotificationManager;
class ConcurrencyManager;
}  // namespace weft::server::orchestration

namespace weft::server::auth {
class Authenticator;
}  // namespace weft::server::auth

namespace weft::server::http {

struct HttpDomain {
  orchestration::RunService& runs;
  orchestration::StorageCatalog& storage;
  orchestration::DeploymentManager& deployments;
  orchestration::WorkQueueManager& work_queues;
  orchestration::AgentManager& agents;
  orchestration::LogService* logs;  // nullptr: GET /api/flow-runs/{id}/logs answers 404
  orchestration::NotificationManager* notifications;  // nullptr: /api/notifications* 404
  orchestration::ConcurrencyManager* concurrency = nullptr;  // nullptr: /api/concurrency-limits 404
};

struct HttpOptions {
  std::string address = "127.0.0.1:4200";  // host:port; port 0 picks a free one
  std::string tls_cert;                    // PEM files: serve HTTPS (empty: plain HTTP)
  std::string tls_key;
  // Prometheus text for /metrics; unset: /metrics answers 404.
  std::function<std::string()> metrics;
  // Checks API keys and dashboard sessions (http/auth_middleware.cpp). Required: Start()
  // refuses to serve without it.
  auth::Authenticator* authenticator = nullptr;
  // The dashboard's public URL (--public-url, e.g. https://weft.example.com): its host joins
  // the Host allowlist (loopback names and the bound host:port are always on it).
  std::string public_url;
  // Lifetime of a dashboard session cookie (POST /api/login).
  double session_seconds = 12 * 3600.0;
};

class HttpServer {
 public:
  HttpServer(HttpDomain domain, HttpOptions options, std::shared_ptr<spdlog::logger> logger,
             const core::Clock& clock = core::SystemClock::Instance());
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on a thread. UNAVAILABLE naming the address when it cannot bind.
  core::Status Start();
  // host:port with the real port.
  std::string address() const;
  // Stops accepting, finishes in-flight requests, joins the thread. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::server::http
