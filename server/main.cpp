// weft-server: Settings -> App -> serve until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <signal.h>

#include <cstdio>

#include "server/app/app.hpp"
#include "server/app/settings.hpp"

int main(int argc, char** argv) {
  using weft::server::app::Settings;
  Settings s = Settings::FromEnvironment();

  CLI::App cli{"weft-server: the Weft API server (gRPC) on PostgreSQL"};
  cli.set_version_flag("--version", std::string("weft-server ") + WEFT_VERSION);
  cli.add_option("--grpc-address", s.grpc_address,
                 "gRPC listen address host:port or unix:/path (env WEFT_SERVER_GRPC_ADDRESS)")
      ->capture_default_str();
  cli.add_option("--database-url", s.database_url,
                 "postgresql:// URL; empty = embedded PostgreSQL under --home (env "
                 "WEFT_DATABASE_URL)");
  cli.add_option("--home", s.home, "state directory (env WEFT_HOME)")->capture_default_str();
  auto* pool = cli.add_option("--pool-size", s.pool_size,
                              "database connections (env WEFT_SERVER_POOL_SIZE)")
                   ->capture_default_str();
  cli.add_option("--log-level", s.log_level,
                 "trace|debug|info|warn|error|critical|off (env WEFT_LOG_LEVEL)")
      ->capture_default_str();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);
    std::fprintf(stderr, "error: %s\nRun with --help for usage.\n", e.what());
    return 2;
  }
  if (pool->count() > 0) {
    std::erase_if(s.env_problems,
                  [](const std::string& p) { return p.rfind("WEFT_SERVER_POOL_SIZE", 0) == 0; });
  }
  auto problems = s.Validate();
  if (!problems.empty()) {
    std::fprintf(stderr, "error: invalid settings:\n");
    for (const auto& p : problems) std::fprintf(stderr, "  - %s\n", p.c_str());
    return 2;
  }

  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  weft::server::app::ConfigureLogging(s.log_level);
  weft::server::app::App app(s);
  if (auto st = app.Start(); !st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
    return 1;
  }
  std::printf("weft-server ready grpc=%s database=%s\n", app.grpc_address().c_str(),
              app.database_kind().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  app.Shutdown();
  return 0;
}
