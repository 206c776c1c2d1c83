#pragma once
// Deployments: validation, upsert (with replacement of future auto runs that no longer
// match), manual runs, upcoming runs, backfills, pause/resume, delete. No gRPC or pqxx
// types. Changes poke the scheduler through `on_change`.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/deployment_spec.hpp"
#include "sdk/core/error.hpp"
#include "sdk/core/schedule.hpp"
#include "server/orchestration/run_service.hpp"
#include "server/store/records.hpp"

namespace weft::server::store {
struct AutoRunRow;
}  // namespace weft::server::store

namespace weft::server::orchestration {

// What CreateDeployment receives: the spec plus the uploaded bundle.
struct DeploymentInput {
  core::DeploymentSpec spec;  // spec.storage: "" = the default storage
  std::string bundle_digest;  // "sha256:<hex>"
  std::int64_t bundle_size = 0;
};

// A deployment as stored, with its spec decoded.
struct DeploymentView {
  store::DeploymentRecord record;
  core::DeploymentSpec spec;
};

// Either an id or "flow/name".
struct DeploymentKey {
  std::string id;
  std::string full_name;
};

struct UpsertResult {
  DeploymentView deployment;
  bool created = false;
  int replaced_runs = 0;
};

struct ManualRun {
  std::string parameters_json;                // overrides, merged over the deployment's
  std::optional<core::TimePoint> start_time;  // none = now
  std::vector<std::string> tags;              // added to the deployment's
  std::string idempotency_key;
};

struct BackfillResult {
  int created = 0;
  int existing = 0;
  std::vector<store::FlowRunRecord> runs;
};

class DeploymentManager {
 public:
  static constexpr std::size_t kMaxBackfill = 1000;

  DeploymentManager(Orchestrator& orchestrator, RunService& runs,
                    std::shared_ptr<spdlog::logger> logger);

  // Called after a change that the scheduler should see at once (set by the app).
  void SetOnChange(std::function<void()> on_change) { on_change_ = std::move(on_change); }

  core::Result<UpsertResult> Upsert(const DeploymentInput& input);
  core::Result<DeploymentView> Get(const DeploymentKey& key);
  // Ordered by flow name, then name. `after` = "flow/name" of the last one seen.
  core::Result<std::vector<DeploymentView>> List(const std::string& flow_name,
                                                 const std::string& after, int limit);
  // Returns how many SCHEDULED runs were deleted with it.
  core::Result<int> Delete(const DeploymentKey& key);
  core::Result<DeploymentView> SetPaused(const DeploymentKey& key, bool paused);
  core::Result<Created<store::FlowRunRecord>> Run(const DeploymentKey& key, const ManualRun& run);
  core::Result<std::vector<store::FlowRunRecord>> Upcoming(const DeploymentKey& key, int limit);
  core::Result<BackfillResult> Backfill(const DeploymentKey& key, core::TimePoint from,
                                        core::TimePoint to);
  // The deployment id for a ListFlowRuns filter ("flow/name" or an id).
  core::Result<std::string> ResolveId(const std::string& text);

 private:
  core::Result<store::DeploymentRecord> Find(store::Tx& tx, const DeploymentKey& key);
  void Changed();

  Orchestrator& orch_;
  RunService& runs_;
  std::shared_ptr<spdlog::logger> logger_;
  std::function<void()> on_change_;
};

// ---- pure helpers (shared with the scheduler) ----------------------------------------

// The idempotency key of a deployment's run at `time`: "auto:<id>:<RFC 3339 UTC time>".
std::string AutoRunKey(const std::string& deployment_id, core::TimePoint time);
// Schedule <-> the JSON kept in deployments.schedule.
std::string ScheduleToJson(const core::ScheduleSpec& spec);
core::Result<core::ScheduleSpec> ScheduleFromJson(const std::string& json);
// The spec of a stored deployment.
core::DeploymentSpec SpecOf(const store::DeploymentRecord& d);
// Checks the spec (no I/O). INVALID_ARGUMENT naming the field: spec.name, spec.entrypoint,
// spec.schedule.cron, spec.runner.type, ...; compiles the schedule into `compiled`.
core::Status CheckDeploymentInput(const DeploymentInput& input,
                                  std::optional<core::Schedule>* compiled);
// True when `t` is a time of the schedule.
bool IsScheduleTime(const core::Schedule& schedule, core::TimePoint t);
// The row of an auto-scheduled run of `d` at `time` (state decided by the rules).
store::AutoRunRow MakeAutoRun(const Orchestrator& orch, const store::DeploymentRecord& d,
                              core::TimePoint time, core::TimePoint now,
                              const std::string& message);

}  // namespace weft::server::orchestration
