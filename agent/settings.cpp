#include "agent/settings.hpp"

#include "sdk/core/image_ref.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "sdk/core/names.hpp"
#include "sdk/core/bounds.hpp"
#include "sdk/core/time.hpp"

namespace weft::agent {

namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::optional<bool> ParseBool(std::string_view v) {
  std::string t = Trim(v);
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  return std::nullopt;
}

std::optional<std::string> Duration(double& out, std::string_view value, std::string_view source) {
  if (core::IsNegativeDuration(value)) {
    return fmt::format("{}: must not be negative, got \"{}\"", source, value);
  }
  auto d = core::ParseDurationSeconds(Trim(value));
  if (!d) {
    return fmt::format("{}: \"{}\" is not a duration (e.g. 500ms, 10s, 5m)", source, value);
  }
  out = *d;
  return std::nullopt;
}

void AddList(std::vector<std::string>& list, std::string_view value) {
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string q = Trim(value.substr(start, comma - start));
    if (!q.empty()) list.push_back(q);
    start = comma + 1;
  }
}

bool ValidEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}


}  // namespace

std::string Settings::WorkDir() const { return work_dir.empty() ? home + "/agent/runs" : work_dir; }

std::string Settings::CacheDir() const {
  return cache_dir.empty() ? home + "/agent/bundles" : cache_dir;
}

std::optional<std::string> ApplySetting(Settings& s, std::string_view key, std::string_view value,
                                        std::string_view source) {
  if (key == "work-queue" || key == "work-queues") {
    AddList(s.work_queues, value);
    return std::nullopt;
  }
  if (key == "pass-env") {
    std::vector<std::string> names;
    AddList(names, value);
    for (const auto& n : names) {
      if (!ValidEnvName(n)) {
        return fmt::format(
            "{}: \"{}\" is not an environment variable name (letters, digits, '_', not "
            "starting with a digit)",
            source, n);
      }
      if (std::find(s.pass_env.begin(), s.pass_env.end(), n) == s.pass_env.end()) {
        s.pass_env.push_back(n);
      }
    }
    return std::nullopt;
  }
  if (key == "docker-network") {
    std::string t = Trim(value);
    if (!t.empty() && !core::IsDockerNetworkName(t)) {
      return fmt::format(
          "{}: \"{}\" is not a docker network name (letters, digits, '_', '.', '-', starting "
          "with a letter or digit)",
          source, value);
    }
    s.docker_network = t;
    return std::nullopt;
  }
  if (key == "limit") {
    std::string t = Trim(value);
    char* end = nullptr;
    long n = std::strtol(t.c_str(), &end, 10);
    if (t.empty() || !end || *end != '\0' || n > 100000 || n < -100000) {
      return fmt::format("{}: \"{}\" is not a whole number", source, value);
    }
    s.limit = static_cast<int>(n);
    return std::nullopt;
  }
  if (key == "poll-interval") return Duration(s.poll_interval, value, source);
  if (key == "prefetch") return Duration(s.prefetch, value, source);
  if (key == "long-poll-wait") return Duration(s.long_poll_wait, value, source);
  if (key == "kill-grace") return Duration(s.kill_grace, value, source);
  if (key == "long-poll" || key == "keep-run-dirs" || key == "dry-run") {
    auto b = ParseBool(value);
    if (!b) return fmt::format("{}: \"{}\" is not true or false", source, value);
    if (key == "long-poll") s.long_poll = *b;
    if (key == "keep-run-dirs") s.keep_run_dirs = *b;
    if (key == "dry-run") s.dry_run = *b;
    return std::nullopt;
  }
  if (key == "no-long-poll") {
    s.long_poll = false;
    return std::nullopt;
  }
  if (key == "cache-size") {
    auto n = ParseByteSize(value);
    if (!n)
      return fmt::format("{}: \"{}\" is not a size (e.g. 1073741824, 500MiB, 1GiB)", source, value);
    s.cache_size = *n;
    return std::nullopt;
  }
  if (key == "name") {
    s.name = Trim(value);
    return std::nullopt;
  }
  if (key == "work-dir") {
    s.work_dir = Trim(value);
    return std::nullopt;
  }
  if (key == "cache-dir") {
    s.cache_dir = Trim(value);
    return std::nullopt;
  }
  if (key == "home") {
    s.home = Trim(value);
    return std::nullopt;
  }
  if (key == "log-level") {
    s.log_level = Trim(value);
    return std::nullopt;
  }
  if (key == "metrics-port") {
    std::string t = Trim(value);
    char* end = nullptr;
    long n = std::strtol(t.c_str(), &end, 10);
    if (t.empty() || !end || *end != '\0' || n < 0 || n > 65535) {
      return fmt::format("{}: \"{}\" is not a port (0-65535; 0 = off)", source, value);
    }
    s.metrics_port = static_cast<int>(n);
    return std::nullopt;
  }
  if (key == "metrics-address") {
    s.metrics_address = Trim(value);
    return std::nullopt;
  }
  return fmt::format("{}: unknown setting", source);
}

std::string DefaultHome(const std::function<const char*(const char*)>& getenv) {
  auto env = [&](const char* n) -> const char* {
    const char* v = getenv(n);
    return v && *v ? v : nullptr;
  };
  if (const char* h = env("WEFT_HOME")) return h;
  if (const char* h = env("HOME")) return std::string(h) + "/.weft";
  return "/tmp/weft";
}

Settings SettingsFromEnvironment(const std::function<const char*(const char*)>& getenv,
                                 std::vector<std::string>& problems) {
  Settings s;
  s.home = DefaultHome(getenv);
  struct Var {
    const char* env;
    const char* key;
  };
  // WEFT_LOG_LEVEL first so that the agent's own variable wins.
  static const Var kVars[] = {
      {"WEFT_LOG_LEVEL", "log-level"},
      {"WEFT_AGENT_WORK_QUEUES", "work-queues"},
      {"WEFT_AGENT_WORK_QUEUE", "work-queues"},
      {"WEFT_AGENT_LIMIT", "limit"},
      {"WEFT_AGENT_POLL_INTERVAL", "poll-interval"},
      {"WEFT_AGENT_PREFETCH", "prefetch"},
      {"WEFT_AGENT_LONG_POLL", "long-poll"},
      {"WEFT_AGENT_LONG_POLL_WAIT", "long-poll-wait"},
      {"WEFT_AGENT_NAME", "name"},
      {"WEFT_AGENT_WORK_DIR", "work-dir"},
      {"WEFT_AGENT_CACHE_DIR", "cache-dir"},
      {"WEFT_AGENT_CACHE_SIZE", "cache-size"},
      {"WEFT_AGENT_KILL_GRACE", "kill-grace"},
      {"WEFT_AGENT_LOG_LEVEL", "log-level"},
      {"WEFT_AGENT_KEEP_RUN_DIRS", "keep-run-dirs"},
      {"WEFT_AGENT_METRICS_PORT", "metrics-port"},
      {"WEFT_AGENT_METRICS_ADDRESS", "metrics-address"},
      {"WEFT_AGENT_PASS_ENV", "pass-env"},
      {"WEFT_AGENT_DOCKER_NETWORK", "docker-network"},
  };
  for (const Var& v : kVars) {
    const char* value = getenv(v.env);
    if (!value || !*value) continue;
    if (auto p = ApplySetting(s, v.key, value, v.env)) problems.push_back(*p);
  }
  return s;
}

std::vector<std::string> Validate(const Settings& s, bool require_queues) {
  std::vector<std::string> problems;
  if (require_queues && s.work_queues.empty()) {
    problems.push_back("--work-queue: at least one work queue is required (-q NAME)");
  }
  for (const auto& q : s.work_queues) {
    if (q.size() > 200)
      problems.push_back(fmt::format("--work-queue: \"{}...\" is too long", q.substr(0, 20)));
  }
  if (s.limit < 0)
    problems.push_back(fmt::format("--limit: must be >= 0 (0 = unbounded), got {}", s.limit));
  if (s.poll_interval <= 0) {
    problems.push_back(
        fmt::format("--poll-interval: must be > 0, got {}", core::FormatDuration(s.poll_interval)));
  }
  if (s.prefetch < 0 || s.prefetch > core::bounds::kMaxPrefetchSeconds) {
    problems.push_back("--prefetch: must be between 0 and 1h");
  }
  if (s.long_poll_wait <= 0 || s.long_poll_wait > 60) {
    problems.push_back("WEFT_AGENT_LONG_POLL_WAIT: must be > 0 and at most 60s");
  }
  if (s.kill_grace < 0) problems.push_back("--kill-grace: must be >= 0");
  if (s.cache_size < 1) problems.push_back("--cache-size: must be at least 1 byte");
  if (s.work_dir.empty() && s.home.empty()) problems.push_back("--work-dir: must not be empty");
  if (auto p = core::DisplayNameProblem(s.name, false); !p.empty()) {
    problems.push_back("--name: " + p);
  }
  if (s.metrics_port > 0 && s.metrics_address.empty()) {
    problems.push_back("--metrics-address: must not be empty with --metrics-port");
  }
  static const char* kLevels[] = {"trace",   "debug", "info",     "warn",
                                  "warning", "error", "critical", "off"};
  bool level_ok = false;
  for (const char* l : kLevels) level_ok = level_ok || s.log_level == l;
  if (!level_ok) {
    problems.push_back(fmt::format(
        "--log-level: \"{}\" is not one of trace, debug, info, warn, error, critical, off",
        s.log_level));
  }
  return problems;
}

}  // namespace weft::agent
