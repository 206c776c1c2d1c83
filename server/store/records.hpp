#pragma once
// Plain rows the repositories read and write. Core types only: no pqxx, no protobuf.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/retry.hpp"
#include "sdk/core/state.hpp"

namespace weft::server::store {

struct FlowRecord {
  std::string id;
  std::string name;
  std::vector<std::string> tags;
  std::string parameters_schema_json;  // "" when none was declared
  core::TimePoint created{};
};

// The part of a flow-run or task-run row that orchestration reads and writes.
struct RunFacts {
  std::string id;
  std::optional<core::State> state;  // none: the run has no state yet
  std::int64_t state_id = 0;         // history row of `state`
  int run_count = 0;
  core::RetryPolicy retry_policy;
  std::optional<core::TimePoint> expected_start_time;
  std::optional<core::TimePoint> start_time;
  std::optional<core::TimePoint> end_time;
  double total_run_time = 0;  // seconds spent RUNNING
};

struct FlowRunRecord {
  RunFacts run;
  std::string flow_id;
  std::string flow_name;
  std::string name;
  std::string parameters_json = "{}";
  std::vector<std::string> tags;
  std::string idempotency_key;
  core::TimePoint created{};
  core::TimePoint updated{};
  int task_run_count = 0;       // filled by FlowRunRepo::Get only
  std::string deployment_id;    // "" = not made from a deployment
  std::string deployment_name;  // "flow/name" (read only)
  bool auto_scheduled = false;  // created by the scheduler or a backfill
  std::string work_queue;
  std::string agent_id;    // the agent that claimed it ("" = none)
  std::string agent_name;  // read only
  std::optional<core::TimePoint> last_heartbeat;  // from its agent or its flow program
  std::string parent_task_run_id;  // a subflow's wrapper task run ("" = not a subflow)
  std::string parent_flow_run_id;  // the parent flow run (set from the task run on insert)
};

struct StorageRecord {
  std::string id;
  std::string name;
  std::string kind;         // local | server | s3
  std::string config_json;  // JSON object of strings
  bool is_default = false;
  core::TimePoint created{};
  std::vector<std::string> used_by;  // "flow/name" of deployments using it
};

struct BundleInfo {
  std::string digest;
  std::int64_t size = 0;
  int chunks = 0;
};

struct DeploymentRecord {
  std::string id;
  std::string flow_id;
  std::string flow_name;
  std::string name;
  std::string description;
  std::string version;
  std::vector<std::string> entrypoint;
  std::string storage_id;
  std::string storage_name;  // read only
  std::string bundle_digest;
  std::int64_t bundle_size = 0;
  std::string schedule_json;  // "" = no schedule
  std::string schedule_description;
  std::string parameters_json = "{}";
  std::vector<std::string> tags;
  std::string work_queue = "default";
  std::string runner_json = "{}";
  std::string catchup_policy = "latest";
  double max_lateness_seconds = 0;
  double timeout_seconds = 0;  // > 0: the agent stops a run's process after this (TimedOut)
  bool paused = false;
  std::optional<core::TimePoint> last_scheduled_time;
  std::int64_t revision = 0;
  core::TimePoint created{};
  core::TimePoint updated{};

  std::string FullName() const { return flow_name + "/" + name; }
};

struct TaskRunRecord {
  RunFacts run;
  std::string flow_run_id;
  std::string task_key;
  std::string dynamic_key;
  std::string name;
  std::vector<std::string> tags;
  std::string cache_key;
  core::TimePoint created{};
  core::TimePoint updated{};
  bool has_result = false;                          // read only: task_run_results has a row
  std::optional<core::TimePoint> cache_expiration;  // read only: when its cached result expires
  std::string task_inputs_json;  // upstream runs that fed it (migrations/0011), "" = none
};

// One row of a state history.
struct StateRecord {
  std::int64_t id = 0;
  core::State state;
};

// A page of a run's state history, by history id: oldest first (ids after `cursor`) or
// newest first (ids before `cursor`); cursor 0 = the first page. limit 0 = no limit (for
// callers inside the server; the APIs always pass one).
struct StatePage {
  bool newest_first = false;
  std::int64_t cursor = 0;
  int limit = 0;
};

// Keyset position for listings: rows strictly after (created, id) in listing order.
struct Cursor {
  core::TimePoint created{};
  std::string id;
};

}  // namespace weft::server::store
