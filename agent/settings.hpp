#pragma once
// weft-agent settings: flags > environment (WEFT_AGENT_*) > defaults. Pure: no I/O except
// what the caller passes in (an environment lookup), so it is unit-tested.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/core/text.hpp"

namespace weft::agent {

struct Settings {
  std::vector<std::string>
      work_queues;             // -q/--work-queue (repeatable), WEFT_AGENT_WORK_QUEUES (a,b)
  int limit = 0;               // --limit, WEFT_AGENT_LIMIT: concurrent runs (0 = unbounded)
  double poll_interval = 5;    // --poll-interval, WEFT_AGENT_POLL_INTERVAL
  double prefetch = 10;        // --prefetch, WEFT_AGENT_PREFETCH: claim runs due this soon
  bool long_poll = true;       // --no-long-poll, WEFT_AGENT_LONG_POLL=false
  double long_poll_wait = 30;  // WEFT_AGENT_LONG_POLL_WAIT: how long one poll may wait
  std::string name;            // --name, WEFT_AGENT_NAME ("" = host name)
  std::string home;            // WEFT_HOME (default ~/.weft)
  std::string work_dir;        // --work-dir, WEFT_AGENT_WORK_DIR ("" = $WEFT_HOME/agent/runs)
  std::string cache_dir;       // --cache-dir, WEFT_AGENT_CACHE_DIR ("" = $WEFT_HOME/agent/bundles)
  std::int64_t cache_size = 1LL << 30;  // --cache-size, WEFT_AGENT_CACHE_SIZE
  double kill_grace = 10;               // --kill-grace, WEFT_AGENT_KILL_GRACE
  std::string log_level = "info";       // --log-level, WEFT_AGENT_LOG_LEVEL / WEFT_LOG_LEVEL
  bool dry_run = false;                 // --dry-run
  bool keep_run_dirs = false;           // --keep-run-dirs, WEFT_AGENT_KEEP_RUN_DIRS
  int metrics_port = 0;  // --metrics-port, WEFT_AGENT_METRICS_PORT: /metrics, /healthz, /readyz
  std::string metrics_address = "127.0.0.1";  // --metrics-address, WEFT_AGENT_METRICS_ADDRESS
  // --pass-env NAME (repeatable), WEFT_AGENT_PASS_ENV (A,B): the agent's own variables that
  // flows get besides the basics (runners/flow_env.hpp), runner.env and what Weft sets.
  std::vector<std::string> pass_env;
  // --docker-network, WEFT_AGENT_DOCKER_NETWORK: `docker run --network` for docker runs
  // ("" = not passed: the engine's default network).
  std::string docker_network;

  // The effective work and cache directories (defaults under `home`).
  std::string WorkDir() const;
  std::string CacheDir() const;
};

// One setting's text value from a flag or the environment. `key` is the flag's name
// without dashes ("limit", "poll-interval", "work-queue", "no-long-poll", ...); `source` is
// what problems are named after ("--limit" or "WEFT_AGENT_LIMIT"). Returns a problem
// ("--limit: \"x\" is not a whole number") or nullopt when applied.
std::optional<std::string> ApplySetting(Settings& s, std::string_view key, std::string_view value,
                                        std::string_view source);

// Defaults overridden by the environment, read through `getenv` (nullptr = unset).
// Problems are appended, each naming its variable.
Settings SettingsFromEnvironment(const std::function<const char*(const char*)>& getenv,
                                 std::vector<std::string>& problems);

// Every problem at once, each naming the flag ("--limit: must be >= 0, got -1"); empty
// when valid. Work queues are required unless `require_queues` is false.
std::vector<std::string> Validate(const Settings& s, bool require_queues = true);

// ~/.weft unless WEFT_HOME says otherwise (read through `getenv`).
std::string DefaultHome(const std::function<const char*(const char*)>& getenv);

using core::ParseByteSize;  // sizes like "1GiB" (sdk/core/text.hpp)

}  // namespace weft::agent
