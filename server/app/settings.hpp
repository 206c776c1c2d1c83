#pragma once
// weft-server settings: flags > environment (WEFT_*) > defaults.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/connection_limits.hpp"
#include "sdk/core/bounds.hpp"

namespace weft::server::app {

// The most networks --webhook-allow-network takes.
inline constexpr std::size_t kMaxWebhookAllowNetworks = 100;

struct Settings {
  std::string grpc_address = "127.0.0.1:4201";  // --grpc-address, WEFT_SERVER_GRPC_ADDRESS
  std::string database_url;                     // --database-url, WEFT_DATABASE_URL ("" = embedded)
  std::string home;                             // --home, WEFT_HOME (see DefaultHome)
  int pool_size = 8;                            // --pool-size, WEFT_SERVER_POOL_SIZE
  std::string log_level = "info";               // --log-level, WEFT_LOG_LEVEL
  // --max-bundle-size, WEFT_SERVER_MAX_BUNDLE_SIZE: bytes, or with a unit (100MiB, 1GiB, 500MB)
  long long max_bundle_size = 100LL << 20;
  // --max-result-size, WEFT_SERVER_MAX_RESULT_SIZE: the largest task run result stored
  // (State.result_json), bytes or with a unit (1MiB, 64KiB)
  long long max_result_size = 1LL << 20;
  // --max-slot-waiters, WEFT_SERVER_MAX_SLOT_WAITERS: WaitForConcurrencySlot calls waiting at
  // once; one more is RESOURCE_EXHAUSTED (docs/limits.md)
  int max_slot_waiters = core::bounds::kDefaultMaxSlotWaiters;

  // Connections, deadlines and uploads (docs/limits.md; WEFT_SERVER_<KEY>, --<key>).
  // Durations accept 30s, 5m, ...
  double rpc_timeout = core::limits::kRpcTimeoutSeconds;  // RPC_TIMEOUT: a unary call at most
  double stream_idle_timeout = core::limits::kStreamIdleTimeoutSeconds;  // STREAM_IDLE_TIMEOUT
  double transfer_timeout = core::limits::kTransferTimeoutSeconds;  // TRANSFER_TIMEOUT: a stream
  int max_concurrent_uploads = core::limits::kMaxConcurrentUploads;  // MAX_CONCURRENT_UPLOADS
  // UPLOAD_DIR: where uploads are spooled ("" = <home>/tmp/uploads; the system's temporary
  // directory when home is empty, as in embedded tests)
  std::string upload_dir;
  // PostgreSQL session settings of the pooled connections, seconds (0 = off).
  double db_statement_timeout = core::limits::kStatementTimeoutSeconds;  // DB_STATEMENT_TIMEOUT
  double db_idle_in_transaction_timeout =  // DB_IDLE_IN_TRANSACTION_TIMEOUT
      core::limits::kIdleInTransactionTimeoutSeconds;

  // Scheduler (WEFT_SCHEDULER_<KEY>, --scheduler-<key>); durations accept 10s, 5m, 1h, 2d.
  bool scheduler_enabled = true;              // ENABLED (true/false)
  double scheduler_interval = 5;              // INTERVAL: loop interval, seconds
  int scheduler_min_runs = 3;                 // MIN_RUNS
  int scheduler_max_runs = 100;               // MAX_RUNS
  double scheduler_min_time = 3600;           // MIN_TIME, seconds ahead
  double scheduler_max_time = 100 * 86400.0;  // MAX_TIME, seconds ahead
  double scheduler_grace = 60;                // GRACE: a time older than now - grace is missed

  // Agents and liveness (WEFT_SERVER_<KEY>, --<key>); durations accept 5s, 1m, ...
  double heartbeat_interval = 5;  // HEARTBEAT_INTERVAL: asked of agents, seconds
  double heartbeat_timeout = 30;  // HEARTBEAT_TIMEOUT: silence after which a run is Crashed
  double late_after = 5;          // LATE_AFTER: a Scheduled run this overdue becomes Late
  bool liveness_enabled = true;   // LIVENESS_ENABLED (--no-liveness): reaper + late runs

  // HTTP: dashboard, /api/, /healthz, /readyz, /metrics. A default-constructed Settings (an
  // App embedded in a test or bench) serves no HTTP; FromEnvironment() (the weft-server
  // binary) turns it on, so `--no-http` / WEFT_SERVER_HTTP_ENABLED=false turn it off.
  std::string http_address = "127.0.0.1:4200";  // --http-address, WEFT_SERVER_HTTP_ADDRESS
  bool http_enabled = false;                     // HTTP_ENABLED (--no-http)

  // Notifications and metrics (WEFT_SERVER_<KEY>, --<key>).
  bool notifier_enabled = true;       // NOTIFIER_ENABLED (--no-notifier): send webhooks here
  double notification_timeout = 5;    // NOTIFICATION_TIMEOUT: per POST, seconds
  int notification_max_attempts = 5;  // NOTIFICATION_MAX_ATTEMPTS
  double notification_backoff = 2;    // NOTIFICATION_BACKOFF: first retry delay, doubling
  double notifier_interval = 2;       // loop interval (a NOTIFY wakes it at once); tests only
  double metrics_refresh = 5;         // METRICS_REFRESH: database gauges at most this often
  std::string public_url;             // PUBLIC_URL: dashboard links ("" = http://<http address>)
  // --webhook-allow-network CIDR[,CIDR...], WEFT_SERVER_WEBHOOK_ALLOW_NETWORK: internal
  // networks (loopback, private, link-local, ...) that webhooks may reach anyway; by default
  // none (docs/notifications.md). One address ("127.0.0.1") is a /32 (/128).
  std::vector<std::string> webhook_allow_networks;

  // Authentication (docs/security.md). The server keeps a key named "local-admin" whose token
  // it writes to `admin_key_file` (mode 0600) so that clients of the same user on this machine
  // find it; a default-constructed Settings (in-process tests) only keeps it in memory
  // (App::admin_key()). FromEnvironment() turns writing on.
  bool write_admin_key = false;  // WEFT_SERVER_WRITE_ADMIN_KEY
  std::string admin_key_file;    // --admin-key-file, WEFT_SERVER_ADMIN_KEY_FILE ("" = <home>/admin.key)
  double auth_cache_seconds = 1;  // a revoked key is refused at most this much later

  // TLS for gRPC and HTTP from one certificate pair (PEM files; `weft server cert` makes a
  // private CA and a pair). Required when either address is not loopback: API keys never
  // cross a network in plaintext.
  std::string tls_cert;       // --tls-cert, WEFT_SERVER_TLS_CERT
  std::string tls_key;        // --tls-key, WEFT_SERVER_TLS_KEY
  std::string tls_client_ca;  // --tls-client-ca, WEFT_SERVER_TLS_CLIENT_CA: mutual TLS (gRPC
                              // clients must present a certificate this CA signed)
  bool tls() const { return !tls_cert.empty(); }
  // --insecure-no-tls, WEFT_SERVER_INSECURE_NO_TLS=true: allow plaintext on a non-loopback
  // address (keys still required; they cross the network in clear). Warned about at start.
  bool insecure_no_tls = false;

  // Defaults overridden by the environment. Unparsable numbers are kept as problems
  // reported by Validate().
  static Settings FromEnvironment();
  // ~/.weft; /var/lib/weft when running as root with WEFT_HOME unset (the postgres
  // user cannot enter /root).
  static std::string DefaultHome();

  // Every problem at once, each naming the setting; empty when valid.
  std::vector<std::string> Validate() const;

  std::vector<std::string> env_problems;  // filled by FromEnvironment
};


}  // namespace weft::server::app
