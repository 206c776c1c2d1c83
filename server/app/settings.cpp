#include "server/app/settings.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "sdk/core/address.hpp"
#include "sdk/core/net_policy.hpp"
#include "sdk/core/text.hpp"
#include "sdk/core/time.hpp"

namespace weft::server::app {

namespace {

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

void EnvDuration(const char* name, double& out, std::vector<std::string>& problems) {
  const char* v = Env(name);
  if (!v) return;
  if (core::IsNegativeDuration(v)) {
    problems.push_back(std::string(name) + ": must not be negative, got \"" + v + "\"");
    return;
  }
  auto d = core::ParseDurationSeconds(v);
  if (!d) {
    problems.push_back(std::string(name) + ": \"" + v +
                       "\" is not a duration (e.g. 30s, 5m, 1h, 2d)");
    return;
  }
  out = *d;
}

void EnvInt(const char* name, int& out, std::vector<std::string>& problems) {
  const char* v = Env(name);
  if (!v) return;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (end && *end == '\0') {
    out = static_cast<int>(n);
  } else {
    problems.push_back(std::string(name) + ": \"" + v + "\" is not a whole number");
  }
}

}  // namespace

std::string Settings::DefaultHome() {
  if (const char* h = Env("WEFT_HOME")) return h;
  if (geteuid() == 0) return "/var/lib/weft";
  if (const char* h = Env("HOME")) return std::string(h) + "/.weft";
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_dir) {
    return std::string(pw->pw_dir) + "/.weft";
  }
  return "/tmp/weft";
}

Settings Settings::FromEnvironment() {
  Settings s;
  if (const char* v = Env("WEFT_SERVER_GRPC_ADDRESS")) s.grpc_address = v;
  s.http_enabled = true;
  s.write_admin_key = true;
  if (const char* v = Env("WEFT_SERVER_ADMIN_KEY_FILE")) s.admin_key_file = v;
  if (const char* v = Env("WEFT_SERVER_TLS_CERT")) s.tls_cert = v;
  if (const char* v = Env("WEFT_SERVER_TLS_KEY")) s.tls_key = v;
  if (const char* v = Env("WEFT_SERVER_TLS_CLIENT_CA")) s.tls_client_ca = v;
  if (const char* v = Env("WEFT_SERVER_INSECURE_NO_TLS")) {
    std::string t = v;
    s.insecure_no_tls = t == "true" || t == "1" || t == "yes";
  }
  if (const char* v = Env("WEFT_SERVER_HTTP_ADDRESS")) s.http_address = v;
  if (const char* v = Env("WEFT_SERVER_HTTP_ENABLED")) {
    std::string t = v;
    if (t == "false" || t == "0" || t == "no") {
      s.http_enabled = false;
    } else if (t != "true" && t != "1" && t != "yes") {
      s.env_problems.push_back("WEFT_SERVER_HTTP_ENABLED: \"" + t + "\" is not true or false");
    }
  }
  if (const char* v = Env("WEFT_DATABASE_URL")) s.database_url = v;
  s.home = DefaultHome();
  if (const char* v = Env("WEFT_SERVER_POOL_SIZE")) {
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (end && *end == '\0') {
      s.pool_size = static_cast<int>(n);
    } else {
      s.env_problems.push_back(std::string("WEFT_SERVER_POOL_SIZE: \"") + v +
                               "\" is not a whole number");
    }
  }
  if (const char* v = Env("WEFT_LOG_LEVEL")) s.log_level = v;
  if (const char* v = Env("WEFT_SERVER_MAX_BUNDLE_SIZE")) {
    auto n = core::ParseByteSize(v);
    if (n) {
      s.max_bundle_size = *n;
    } else {
      s.env_problems.push_back(std::string("WEFT_SERVER_MAX_BUNDLE_SIZE: \"") + v +
                               "\" is not a size (e.g. 104857600, 100MiB, 1GiB)");
    }
  }
  if (const char* v = Env("WEFT_SERVER_MAX_RESULT_SIZE")) {
    auto n = core::ParseByteSize(v);
    if (n) {
      s.max_result_size = *n;
    } else {
      s.env_problems.push_back(std::string("WEFT_SERVER_MAX_RESULT_SIZE: \"") + v +
                               "\" is not a size (e.g. 1048576, 1MiB, 64KiB)");
    }
  }
  EnvDuration("WEFT_SERVER_RPC_TIMEOUT", s.rpc_timeout, s.env_problems);
  EnvDuration("WEFT_SERVER_STREAM_IDLE_TIMEOUT", s.stream_idle_timeout, s.env_problems);
  EnvDuration("WEFT_SERVER_TRANSFER_TIMEOUT", s.transfer_timeout, s.env_problems);
  EnvInt("WEFT_SERVER_MAX_CONCURRENT_UPLOADS", s.max_concurrent_uploads, s.env_problems);
  if (const char* v = Env("WEFT_SERVER_UPLOAD_DIR")) s.upload_dir = v;
  EnvDuration("WEFT_SERVER_DB_STATEMENT_TIMEOUT", s.db_statement_timeout, s.env_problems);
  EnvDuration("WEFT_SERVER_DB_IDLE_IN_TRANSACTION_TIMEOUT", s.db_idle_in_transaction_timeout,
              s.env_problems);
  if (const char* v = Env("WEFT_SCHEDULER_ENABLED")) {
    std::string t = v;
    if (t == "true" || t == "1" || t == "yes" || t == "on") {
      s.scheduler_enabled = true;
    } else if (t == "false" || t == "0" || t == "no" || t == "off") {
      s.scheduler_enabled = false;
    } else {
      s.env_problems.push_back("WEFT_SCHEDULER_ENABLED: \"" + t + "\" is not true or false");
    }
  }
  EnvDuration("WEFT_SCHEDULER_INTERVAL", s.scheduler_interval, s.env_problems);
  EnvInt("WEFT_SCHEDULER_MIN_RUNS", s.scheduler_min_runs, s.env_problems);
  EnvInt("WEFT_SCHEDULER_MAX_RUNS", s.scheduler_max_runs, s.env_problems);
  EnvDuration("WEFT_SCHEDULER_MIN_TIME", s.scheduler_min_time, s.env_problems);
  EnvDuration("WEFT_SCHEDULER_MAX_TIME", s.scheduler_max_time, s.env_problems);
  EnvDuration("WEFT_SCHEDULER_GRACE", s.scheduler_grace, s.env_problems);
  EnvDuration("WEFT_SERVER_HEARTBEAT_INTERVAL", s.heartbeat_interval, s.env_problems);
  EnvDuration("WEFT_SERVER_HEARTBEAT_TIMEOUT", s.heartbeat_timeout, s.env_problems);
  EnvDuration("WEFT_SERVER_LATE_AFTER", s.late_after, s.env_problems);
  if (const char* v = Env("WEFT_SERVER_LIVENESS_ENABLED")) {
    std::string t = v;
    if (t == "true" || t == "1" || t == "yes" || t == "on") {
      s.liveness_enabled = true;
    } else if (t == "false" || t == "0" || t == "no" || t == "off") {
      s.liveness_enabled = false;
    } else {
      s.env_problems.push_back("WEFT_SERVER_LIVENESS_ENABLED: \"" + t + "\" is not true or false");
    }
  }
  if (const char* v = Env("WEFT_SERVER_NOTIFIER_ENABLED")) {
    std::string t = v;
    if (t == "true" || t == "1" || t == "yes" || t == "on") {
      s.notifier_enabled = true;
    } else if (t == "false" || t == "0" || t == "no" || t == "off") {
      s.notifier_enabled = false;
    } else {
      s.env_problems.push_back("WEFT_SERVER_NOTIFIER_ENABLED: \"" + t + "\" is not true or false");
    }
  }
  EnvDuration("WEFT_SERVER_NOTIFICATION_TIMEOUT", s.notification_timeout, s.env_problems);
  EnvInt("WEFT_SERVER_NOTIFICATION_MAX_ATTEMPTS", s.notification_max_attempts, s.env_problems);
  EnvDuration("WEFT_SERVER_NOTIFICATION_BACKOFF", s.notification_backoff, s.env_problems);
  EnvDuration("WEFT_SERVER_METRICS_REFRESH", s.metrics_refresh, s.env_problems);
  EnvInt("WEFT_SERVER_MAX_SLOT_WAITERS", s.max_slot_waiters, s.env_problems);
  if (const char* v = Env("WEFT_SERVER_PUBLIC_URL")) s.public_url = v;
  if (const char* v = Env("WEFT_SERVER_WEBHOOK_ALLOW_NETWORK")) {
    std::string list = v;
    std::size_t start = 0;
    while (start <= list.size()) {
      auto comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      std::string item = list.substr(start, comma - start);
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty()) s.webhook_allow_networks.push_back(item);
      start = comma + 1;
    }
  }
  return s;
}

std::vector<std::string> Settings::Validate() const {
  std::vector<std::string> problems = env_problems;
  if (notification_timeout <= 0) problems.push_back("notification-timeout: must be more than 0");
  if (notification_max_attempts < 1) {
    problems.push_back("notification-max-attempts: must be at least 1");
  }
  if (notification_backoff < 0) problems.push_back("notification-backoff: must not be negative");
  if (metrics_refresh < 0) problems.push_back("metrics-refresh: must not be negative");
  if (webhook_allow_networks.size() > kMaxWebhookAllowNetworks) {
    problems.push_back("webhook-allow-network: at most " +
                       std::to_string(kMaxWebhookAllowNetworks) + " networks, got " +
                       std::to_string(webhook_allow_networks.size()));
  }
  for (const auto& n : webhook_allow_networks) {
    if (!core::ParseIpNetwork(n)) {
      problems.push_back("webhook-allow-network: \"" + n.substr(0, 100) +
                         "\" is not a network (e.g. 10.0.0.0/8, 127.0.0.1, fd00::/8; no host "
                         "bits below the prefix)");
    }
  }
  if (max_slot_waiters < 1 || max_slot_waiters > 1000000) {
    problems.push_back("max-slot-waiters: must be between 1 and 1000000, got " +
                       std::to_string(max_slot_waiters));
  }
  if (!public_url.empty() && public_url.rfind("http://", 0) != 0 &&
      public_url.rfind("https://", 0) != 0) {
    problems.push_back("public-url: \"" + public_url + "\" must start with http:// or https://");
  }
  if (grpc_address.empty()) {
    problems.push_back("grpc-address: must not be empty");
  } else if (grpc_address.rfind("unix:", 0) != 0) {
    auto colon = grpc_address.rfind(':');
    std::string port = colon == std::string::npos ? "" : grpc_address.substr(colon + 1);
    bool digits = !port.empty() && port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stol(port) > 65535) {
      problems.push_back("grpc-address: \"" + grpc_address +
                         "\" must be host:port (port 0-65535) or unix:/path");
    }
  }
  if (http_enabled) {
    auto colon = http_address.rfind(':');
    std::string port = colon == std::string::npos ? "" : http_address.substr(colon + 1);
    bool digits = !port.empty() && port.size() <= 5 &&
                  port.find_first_not_of("0123456789") == std::string::npos;
    if (colon == 0 || !digits || std::stol(port) > 65535) {
      problems.push_back("http-address: \"" + http_address +
                         "\" must be host:port (port 0-65535), e.g. 127.0.0.1:4200");
    }
  }
  if (tls_cert.empty() != tls_key.empty()) {
    problems.push_back(tls_cert.empty() ? "tls-cert: required with --tls-key"
                                        : "tls-key: required with --tls-cert");
  }
  if (!tls_client_ca.empty() && tls_cert.empty()) {
    problems.push_back("tls-client-ca: needs --tls-cert and --tls-key (mutual TLS is TLS)");
  }
  for (const auto* f : {&tls_cert, &tls_key, &tls_client_ca}) {
    if (!f->empty() && ::access(f->c_str(), R_OK) != 0) {
      const char* which = f == &tls_cert ? "tls-cert" : f == &tls_key ? "tls-key" : "tls-client-ca";
      problems.push_back(std::string(which) + ": cannot read " + *f);
    }
  }
  if (tls_cert.empty() && !insecure_no_tls) {
    const char* hint =
        " is not a loopback address: off loopback TLS is required (--tls-cert and --tls-key; "
        "`weft server cert --host NAME` makes a private CA and a certificate; "
        "--insecure-no-tls allows plaintext on a network you trust)";
    if (!grpc_address.empty() && !core::IsLoopbackAddress(grpc_address)) {
      problems.push_back("grpc-address: " + grpc_address + hint);
    }
    if (http_enabled && !core::IsLoopbackAddress(http_address)) {
      problems.push_back("http-address: " + http_address + hint);
    }
  }
  if (!database_url.empty() && database_url.rfind("postgresql://", 0) != 0 &&
      database_url.rfind("postgres://", 0) != 0) {
    problems.push_back(
        "database-url: must start with postgresql:// (or be empty for the "
        "embedded PostgreSQL)");
  }
  if (database_url.empty() && home.empty()) problems.push_back("home: must not be empty");
  if (pool_size < 1 || pool_size > 256) {
    problems.push_back("pool-size: must be between 1 and 256, got " + std::to_string(pool_size));
  }
  static const char* kLevels[] = {"trace",   "debug", "info",     "warn",
                                  "warning", "error", "critical", "off"};
  bool level_ok = false;
  for (const char* l : kLevels) level_ok = level_ok || log_level == l;
  if (!level_ok) {
    problems.push_back("log-level: \"" + log_level +
                       "\" is not one of trace, debug, info, warn, error, critical, off");
  }
  if (max_bundle_size < 1) {
    problems.push_back("max-bundle-size: must be at least 1 byte, got " +
                       std::to_string(max_bundle_size));
  }
  if (max_result_size < 1) {
    problems.push_back("max-result-size: must be at least 1 byte, got " +
                       std::to_string(max_result_size));
  } else if (max_result_size > (32LL << 20)) {
    problems.push_back("max-result-size: at most 32MiB (a result travels in one gRPC message, "
                       "limited to 64MiB), got " + std::to_string(max_result_size));
  }
  if (!(rpc_timeout > 60)) {
    problems.push_back("rpc-timeout: must be more than 60s (agents' long polls wait up to 60 s)");
  }
  if (!(stream_idle_timeout > 0)) problems.push_back("stream-idle-timeout: must be more than 0");
  if (!(transfer_timeout > 0)) problems.push_back("transfer-timeout: must be more than 0");
  if (max_concurrent_uploads < 1 || max_concurrent_uploads > 1024) {
    problems.push_back("max-concurrent-uploads: must be between 1 and 1024, got " +
                       std::to_string(max_concurrent_uploads));
  }
  if (!upload_dir.empty() && upload_dir[0] != '/') {
    problems.push_back("upload-dir: must be an absolute path, got \"" + upload_dir + "\"");
  }
  if (!(db_statement_timeout >= 0)) {
    problems.push_back("db-statement-timeout: must not be negative (0 = off)");
  }
  if (!(db_idle_in_transaction_timeout >= 0)) {
    problems.push_back("db-idle-in-transaction-timeout: must not be negative (0 = off)");
  }
  if (scheduler_interval <= 0) problems.push_back("scheduler-interval: must be > 0 seconds");
  if (scheduler_min_runs < 0) problems.push_back("scheduler-min-runs: must be >= 0");
  if (scheduler_max_runs < 1 || scheduler_max_runs < scheduler_min_runs) {
    problems.push_back("scheduler-max-runs: must be >= 1 and >= scheduler-min-runs (" +
                       std::to_string(scheduler_min_runs) + "), got " +
                       std::to_string(scheduler_max_runs));
  }
  if (scheduler_min_time < 0) problems.push_back("scheduler-min-time: must be >= 0");
  if (scheduler_max_time <= 0 || scheduler_max_time < scheduler_min_time) {
    problems.push_back("scheduler-max-time: must be > 0 and >= scheduler-min-time");
  }
  if (scheduler_grace < 0) problems.push_back("scheduler-grace: must be >= 0");
  if (!(heartbeat_interval > 0)) problems.push_back("heartbeat-interval: must be > 0 seconds");
  if (!(heartbeat_timeout > 0) || heartbeat_timeout < heartbeat_interval) {
    char interval[32];
    std::snprintf(interval, sizeof interval, "%g", heartbeat_interval);
    problems.push_back(std::string("heartbeat-timeout: must be > 0 and >= heartbeat-interval (") +
                       interval + " s)");
  }
  if (!(late_after >= 0)) problems.push_back("late-after: must be >= 0 seconds");
  return problems;
}

}  // namespace weft::server::app
