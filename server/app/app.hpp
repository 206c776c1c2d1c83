#pragma once
// Composition root of weft-server. Start order: logging -> embedded PostgreSQL (when no
// database URL) -> pool -> migrations -> domain -> gRPC server. Shutdown reverses it.
#include <memory>
#include <string>

#include "sdk/core/error.hpp"
#include "sdk/core/time.hpp"
#include "server/app/settings.hpp"

namespace weft::server::app {

class App {
 public:
  explicit App(Settings settings, const core::Clock& clock = core::SystemClock::Instance());
  ~App();  // Shutdown()
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Everything up to a listening gRPC server. On error nothing is left running.
  core::Status Start();
  // The address the gRPC server listens on, with the real port when 0 was asked for.
  std::string grpc_address() const;
  // host:port of the HTTP server (dashboard, /api), real port; "" when HTTP is off.
  std::string http_address() const;
  // The Prometheus text that /metrics serves (also when HTTP is off).
  std::string metrics_text() const;
  // The token of the server's "local-admin" key (what it wrote to its admin key file).
  std::string admin_key() const;
  // The file the admin key was written to ("" when kept in memory only).
  std::string admin_key_file() const;
  // "embedded" or "external".
  std::string database_kind() const;
  // Blocks until Shutdown() is called (from another thread).
  void Wait();
  // Stops accepting calls, lets in-flight ones finish (short deadline), stops the
  // embedded PostgreSQL. Idempotent.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Creates (or returns) the named logger "server.<component>" at the configured level.
void ConfigureLogging(const std::string& level);

}  // namespace weft::server::app
