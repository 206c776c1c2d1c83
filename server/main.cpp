// weft-server: Settings -> App -> serve until SIGINT/SIGTERM.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "sdk/core/text.hpp"
#include "sdk/core/time.hpp"
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
  cli.add_option("--tls-cert", s.tls_cert,
                 "PEM certificate (chain) for gRPC and HTTP; TLS is required off loopback (env "
                 "WEFT_SERVER_TLS_CERT; `weft server cert` makes one)");
  cli.add_option("--tls-key", s.tls_key, "PEM private key of --tls-cert (env WEFT_SERVER_TLS_KEY)");
  cli.add_option("--tls-client-ca", s.tls_client_ca,
                 "require gRPC clients to present a certificate signed by this CA: mutual TLS "
                 "(env WEFT_SERVER_TLS_CLIENT_CA)");
  cli.add_flag("--insecure-no-tls", s.insecure_no_tls,
               "allow plaintext on a non-loopback address (keys still required, but they and "
               "all data cross the network in clear; warned at every start; env "
               "WEFT_SERVER_INSECURE_NO_TLS=true)");
  cli.add_option("--admin-key-file", s.admin_key_file,
                 "where the local admin key is written, mode 0600 (env "
                 "WEFT_SERVER_ADMIN_KEY_FILE; default <home>/admin.key)");
  auto* pool =
      cli.add_option("--pool-size", s.pool_size, "database connections (env WEFT_SERVER_POOL_SIZE)")
          ->capture_default_str();
  cli.add_option("--log-level", s.log_level,
                 "trace|debug|info|warn|error|critical|off (env WEFT_LOG_LEVEL)")
      ->capture_default_str();
  std::string max_bundle;
  auto* max_bundle_opt =
      cli.add_option("--max-bundle-size", max_bundle,
                     "largest bundle accepted by server storage: bytes or 100MiB, 1GiB (env "
                     "WEFT_SERVER_MAX_BUNDLE_SIZE; default 100MiB)");
  std::string max_result;
  auto* max_result_opt =
      cli.add_option("--max-result-size", max_result,
                     "largest task run result stored (cached or persisted): bytes or 1MiB, "
                     "64KiB (env WEFT_SERVER_MAX_RESULT_SIZE; default 1MiB)");
  std::string rpc_timeout, stream_idle_timeout, transfer_timeout, db_statement_timeout,
      db_idle_timeout;
  auto* o_rpc_timeout = cli.add_option(
      "--rpc-timeout", rpc_timeout,
      "a call (long polls included) is cancelled after this, e.g. 120s (env "
      "WEFT_SERVER_RPC_TIMEOUT)");
  auto* o_stream_idle = cli.add_option(
      "--stream-idle-timeout", stream_idle_timeout,
      "a bundle upload or download with no message for this long is cancelled, e.g. 30s (env "
      "WEFT_SERVER_STREAM_IDLE_TIMEOUT)");
  auto* o_transfer_timeout = cli.add_option(
      "--transfer-timeout", transfer_timeout,
      "a bundle upload or download is cancelled after this, e.g. 15m (env "
      "WEFT_SERVER_TRANSFER_TIMEOUT)");
  auto* o_uploads =
      cli.add_option("--max-concurrent-uploads", s.max_concurrent_uploads,
                     "bundle uploads in progress at once; more are RESOURCE_EXHAUSTED (env "
                     "WEFT_SERVER_MAX_CONCURRENT_UPLOADS)")
          ->capture_default_str();
  cli.add_option("--upload-dir", s.upload_dir,
                 "where uploads are spooled before they are stored (env WEFT_SERVER_UPLOAD_DIR; "
                 "default <home>/tmp/uploads)");
  auto* o_db_statement = cli.add_option(
      "--db-statement-timeout", db_statement_timeout,
      "PostgreSQL statement_timeout of the server's connections, 0 = off, e.g. 30s (env "
      "WEFT_SERVER_DB_STATEMENT_TIMEOUT)");
  auto* o_db_idle = cli.add_option(
      "--db-idle-in-transaction-timeout", db_idle_timeout,
      "PostgreSQL idle_in_transaction_session_timeout of the server's connections, 0 = off, "
      "e.g. 60s (env WEFT_SERVER_DB_IDLE_IN_TRANSACTION_TIMEOUT)");
  bool no_scheduler = false;
  cli.add_flag("--no-scheduler", no_scheduler,
               "do not run the scheduler in this replica (env WEFT_SCHEDULER_ENABLED=false)");
  std::string sched_interval, sched_min_time, sched_max_time, sched_grace;
  auto* o_interval =
      cli.add_option("--scheduler-interval", sched_interval,
                     "scheduler loop interval, e.g. 5s (env WEFT_SCHEDULER_INTERVAL)");
  auto* o_min_runs = cli.add_option("--scheduler-min-runs", s.scheduler_min_runs,
                                    "runs kept ahead at least (env WEFT_SCHEDULER_MIN_RUNS)")
                         ->capture_default_str();
  auto* o_max_runs = cli.add_option("--scheduler-max-runs", s.scheduler_max_runs,
                                    "runs kept ahead at most (env WEFT_SCHEDULER_MAX_RUNS)")
                         ->capture_default_str();
  auto* o_min_time =
      cli.add_option("--scheduler-min-time", sched_min_time,
                     "time kept ahead at least, e.g. 1h (env WEFT_SCHEDULER_MIN_TIME)");
  auto* o_max_time =
      cli.add_option("--scheduler-max-time", sched_max_time,
                     "time kept ahead at most, e.g. 100d (env WEFT_SCHEDULER_MAX_TIME)");
  auto* o_grace = cli.add_option("--scheduler-grace", sched_grace,
                                 "a schedule time older than now - grace is missed (catch-up "
                                 "policy applies), e.g. 60s (env WEFT_SCHEDULER_GRACE)");
  std::string hb_interval, hb_timeout, late_after;
  auto* o_hb_interval =
      cli.add_option("--heartbeat-interval", hb_interval,
                     "how often agents heartbeat, e.g. 5s (env WEFT_SERVER_HEARTBEAT_INTERVAL)");
  auto* o_hb_timeout = cli.add_option("--heartbeat-timeout", hb_timeout,
                                      "a run whose heartbeats stop this long is Crashed, e.g. "
                                      "30s (env WEFT_SERVER_HEARTBEAT_TIMEOUT)");
  auto* o_late_after = cli.add_option("--late-after", late_after,
                                      "a Scheduled run this overdue is marked Late, e.g. 5s (env "
                                      "WEFT_SERVER_LATE_AFTER)");
  cli.add_option("--http-address", s.http_address,
                 "dashboard, /api, /metrics, /healthz, /readyz: host:port, port 0 picks a free "
                 "one (env WEFT_SERVER_HTTP_ADDRESS)")
      ->capture_default_str();
  bool no_http = false;
  cli.add_flag("--no-http", no_http,
               "serve no HTTP (dashboard, /api, /metrics) (env WEFT_SERVER_HTTP_ENABLED=false)");
  std::string notification_timeout, notification_backoff, metrics_refresh;
  auto* o_notification_timeout =
      cli.add_option("--notification-timeout", notification_timeout,
                     "webhook POST timeout, e.g. 5s (env WEFT_SERVER_NOTIFICATION_TIMEOUT)");
  auto* o_notification_backoff = cli.add_option(
      "--notification-backoff", notification_backoff,
      "first webhook retry delay, doubling per attempt, e.g. 2s (env "
      "WEFT_SERVER_NOTIFICATION_BACKOFF)");
  auto* o_notification_attempts =
      cli.add_option("--notification-max-attempts", s.notification_max_attempts,
                     "webhook attempts before a delivery fails (env "
                     "WEFT_SERVER_NOTIFICATION_MAX_ATTEMPTS)")
          ->capture_default_str();
  cli.add_option("--max-slot-waiters", s.max_slot_waiters,
                 "WaitForConcurrencySlot calls waiting at once (env WEFT_SERVER_MAX_SLOT_WAITERS)")
      ->capture_default_str();
  bool no_notifier = false;
  cli.add_flag("--no-notifier", no_notifier,
               "send no webhooks from this replica (env WEFT_SERVER_NOTIFIER_ENABLED=false)");
  auto* o_metrics_refresh = cli.add_option(
      "--metrics-refresh", metrics_refresh,
      "/metrics database gauges are re-read at most this often, e.g. 5s (env "
      "WEFT_SERVER_METRICS_REFRESH)");
  cli.add_option("--public-url", s.public_url,
                 "base URL of the dashboard in notification links (env WEFT_SERVER_PUBLIC_URL; "
                 "default http://<http-address>)");
  std::vector<std::string> webhook_allow;
  auto* o_webhook_allow =
      cli.add_option("--webhook-allow-network", webhook_allow,
                     "internal networks webhooks may reach anyway (loopback, private, "
                     "link-local, ... are refused by default): CIDR[,CIDR...], repeatable, "
                     "e.g. 10.20.0.0/16 or 127.0.0.1 (env WEFT_SERVER_WEBHOOK_ALLOW_NETWORK)")
          ->delimiter(',');
  bool no_liveness = false;
  cli.add_flag("--no-liveness", no_liveness,
               "run neither the zombie reaper nor the late-runs service in this replica (env "
               "WEFT_SERVER_LIVENESS_ENABLED=false)");
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
  auto drop_env = [&](const char* name) {
    std::erase_if(s.env_problems, [&](const std::string& p) { return p.rfind(name, 0) == 0; });
  };
  std::vector<std::string> flag_problems;
  if (max_bundle_opt->count() > 0) {
    drop_env("WEFT_SERVER_MAX_BUNDLE_SIZE");
    auto n = weft::core::ParseByteSize(max_bundle);
    if (n) {
      s.max_bundle_size = *n;
    } else {
      flag_problems.push_back("max-bundle-size: \"" + max_bundle +
                              "\" is not a size (e.g. 104857600, 100MiB, 1GiB)");
    }
  }
  if (max_result_opt->count() > 0) {
    drop_env("WEFT_SERVER_MAX_RESULT_SIZE");
    auto n = weft::core::ParseByteSize(max_result);
    if (n) {
      s.max_result_size = *n;
    } else {
      flag_problems.push_back("max-result-size: \"" + max_result +
                              "\" is not a size (e.g. 1048576, 1MiB, 64KiB)");
    }
  }
  if (no_scheduler) {
    drop_env("WEFT_SCHEDULER_ENABLED");
    s.scheduler_enabled = false;
  }
  if (no_http) {
    drop_env("WEFT_SERVER_HTTP_ENABLED");
    s.http_enabled = false;
  }
  if (no_notifier) {
    drop_env("WEFT_SERVER_NOTIFIER_ENABLED");
    s.notifier_enabled = false;
  }
  if (o_notification_attempts->count() > 0) drop_env("WEFT_SERVER_NOTIFICATION_MAX_ATTEMPTS");
  if (o_webhook_allow->count() > 0) {
    s.webhook_allow_networks.clear();
    for (auto n : webhook_allow) {
      n.erase(0, n.find_first_not_of(" \t"));
      n.erase(n.find_last_not_of(" \t") + 1);
      s.webhook_allow_networks.push_back(n);
    }
  }
  if (no_liveness) {
    drop_env("WEFT_SERVER_LIVENESS_ENABLED");
    s.liveness_enabled = false;
  }
  if (o_uploads->count() > 0) drop_env("WEFT_SERVER_MAX_CONCURRENT_UPLOADS");
  if (o_min_runs->count() > 0) drop_env("WEFT_SCHEDULER_MIN_RUNS");
  if (o_max_runs->count() > 0) drop_env("WEFT_SCHEDULER_MAX_RUNS");
  struct DurationFlag {
    CLI::Option* opt;
    const std::string* text;
    double* out;
    const char* env;
    const char* flag;
  };
  for (const DurationFlag& d :
       {DurationFlag{o_interval, &sched_interval, &s.scheduler_interval, "WEFT_SCHEDULER_INTERVAL",
                     "scheduler-interval"},
        DurationFlag{o_min_time, &sched_min_time, &s.scheduler_min_time, "WEFT_SCHEDULER_MIN_TIME",
                     "scheduler-min-time"},
        DurationFlag{o_max_time, &sched_max_time, &s.scheduler_max_time, "WEFT_SCHEDULER_MAX_TIME",
                     "scheduler-max-time"},
        DurationFlag{o_grace, &sched_grace, &s.scheduler_grace, "WEFT_SCHEDULER_GRACE",
                     "scheduler-grace"},
        DurationFlag{o_hb_interval, &hb_interval, &s.heartbeat_interval,
                     "WEFT_SERVER_HEARTBEAT_INTERVAL", "heartbeat-interval"},
        DurationFlag{o_hb_timeout, &hb_timeout, &s.heartbeat_timeout,
                     "WEFT_SERVER_HEARTBEAT_TIMEOUT", "heartbeat-timeout"},
        DurationFlag{o_late_after, &late_after, &s.late_after, "WEFT_SERVER_LATE_AFTER",
                     "late-after"},
        DurationFlag{o_notification_timeout, &notification_timeout, &s.notification_timeout,
                     "WEFT_SERVER_NOTIFICATION_TIMEOUT", "notification-timeout"},
        DurationFlag{o_notification_backoff, &notification_backoff, &s.notification_backoff,
                     "WEFT_SERVER_NOTIFICATION_BACKOFF", "notification-backoff"},
        DurationFlag{o_metrics_refresh, &metrics_refresh, &s.metrics_refresh,
                     "WEFT_SERVER_METRICS_REFRESH", "metrics-refresh"},
        DurationFlag{o_rpc_timeout, &rpc_timeout, &s.rpc_timeout, "WEFT_SERVER_RPC_TIMEOUT",
                     "rpc-timeout"},
        DurationFlag{o_stream_idle, &stream_idle_timeout, &s.stream_idle_timeout,
                     "WEFT_SERVER_STREAM_IDLE_TIMEOUT", "stream-idle-timeout"},
        DurationFlag{o_transfer_timeout, &transfer_timeout, &s.transfer_timeout,
                     "WEFT_SERVER_TRANSFER_TIMEOUT", "transfer-timeout"},
        DurationFlag{o_db_statement, &db_statement_timeout, &s.db_statement_timeout,
                     "WEFT_SERVER_DB_STATEMENT_TIMEOUT", "db-statement-timeout"},
        DurationFlag{o_db_idle, &db_idle_timeout, &s.db_idle_in_transaction_timeout,
                     "WEFT_SERVER_DB_IDLE_IN_TRANSACTION_TIMEOUT",
                     "db-idle-in-transaction-timeout"}}) {
    if (d.opt->count() == 0) continue;
    drop_env(d.env);
    auto v = weft::core::ParseDurationSeconds(*d.text);
    if (weft::core::IsNegativeDuration(*d.text)) {
      flag_problems.push_back(std::string(d.flag) + ": must not be negative, got \"" + *d.text +
                              "\"");
    } else if (v) {
      *d.out = *v;
    } else {
      flag_problems.push_back(std::string(d.flag) + ": \"" + *d.text +
                              "\" is not a duration (e.g. 30s, 5m, 1h, 2d)");
    }
  }
  auto problems = s.Validate();
  problems.insert(problems.end(), flag_problems.begin(), flag_problems.end());
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
  std::string http = app.http_address().empty() ? "off" : app.http_address();
  std::printf("weft-server ready grpc=%s http=%s database=%s\n", app.grpc_address().c_str(),
              http.c_str(), app.database_kind().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  app.Shutdown();
  return 0;
}
