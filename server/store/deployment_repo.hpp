#pragma once
// Deployments, and the scheduler's batched reads and writes of their runs.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/store/database.hpp"
#include "server/store/records.hpp"

namespace weft::server::store {

// A future run of a deployment, as the re-creation check sees it.
struct ScheduledRunRow {
  std::string id;
  std::string deployment_id;
  core::TimePoint expected_start_time{};
  std::string state_name;
  std::string parameters_json;
  std::vector<std::string> tags;
  std::string work_queue;
  bool auto_scheduled = false;
};

// One run the scheduler (or a backfill) creates: state Scheduled at `time`, with the
// idempotency key "auto:<deployment_id>:<RFC 3339 UTC time>".
// The flow, parameters, tags and work queue come from the deployment row itself.
struct AutoRunRow {
  std::string deployment_id;
  std::string name;
  core::TimePoint time{};
  std::string idempotency_key;
  core::State state;  // the initial Scheduled state (already decided by the rules)
};

// Methods throw database exceptions; Database::WithTransaction translates them.
class DeploymentRepo {
 public:
  // Insert or update on (flow_id, name). Returns the stored row and whether it was created.
  // `now` is the creation time (and the scheduler's starting point) of a new deployment;
  // an update moves last_scheduled_time back to `now` when it was ahead of it.
  static std::pair<DeploymentRecord, bool> Upsert(Tx& tx, const DeploymentRecord& d,
                                                  core::TimePoint now);
  static std::optional<DeploymentRecord> GetById(Tx& tx, const std::string& id);
  static std::optional<DeploymentRecord> GetByName(Tx& tx, const std::string& flow_name,
                                                   const std::string& name);
  // Locks the row (FOR UPDATE) and returns it.
  static std::optional<DeploymentRecord> LockById(Tx& tx, const std::string& id);
  // Ordered by flow name, then name; keyset after (after_flow, after_name).
  static std::vector<DeploymentRecord> List(Tx& tx, const std::string& flow_name,
                                            const std::string& after_flow,
                                            const std::string& after_name, int limit);
  static void Delete(Tx& tx, const std::string& id);
  // Sets paused (bumps revision); when resuming, last_scheduled_time moves to `now`.
  static void SetPaused(Tx& tx, const std::string& id, bool paused, core::TimePoint now);

  // Active = not paused and scheduled; ordered by id. Only the scheduler's fields are
  // filled: id, flow_id, name, schedule_json, catchup_policy, max_lateness_seconds,
  // last_scheduled_time, revision, created.
  static std::vector<DeploymentRecord> ListActive(Tx& tx);
  // Raises last_scheduled_time (never lowers it) of deployments still at `revision` and
  // active; locks them. Returns the ids updated.
  struct Advance {
    std::string id;
    std::int64_t revision = 0;
    core::TimePoint last_scheduled_time{};
  };
  static std::vector<std::string> AdvanceScheduled(Tx& tx, const std::vector<Advance>& rows);

  // Runs of the deployment in state type SCHEDULED with expected start after `after`
  // (auto and manual), ascending.
  static std::vector<ScheduledRunRow> FutureScheduledRuns(Tx& tx, const std::string& deployment_id,
                                                          core::TimePoint after);
  // For each (deployment id, upto): how many of its auto runs have a time in (after, upto].
  static std::vector<int> CountAutoRuns(Tx& tx, const std::vector<std::string>& ids,
                                        const std::vector<core::TimePoint>& upto,
                                        core::TimePoint after);
  // Auto runs still SCHEDULED whose time is before `before`, of active deployments.
  static std::vector<ScheduledRunRow> MissedAutoRuns(Tx& tx, core::TimePoint before);
  // Deletes the runs by id; returns how many.
  static int DeleteRuns(Tx& tx, const std::vector<std::string>& ids);
  // Deletes every run of the deployment in state type SCHEDULED; returns how many.
  static int DeleteScheduledRuns(Tx& tx, const std::string& deployment_id);
  // Deletes the deployment's auto runs in state "Scheduled" after `after`; returns how many.
  static int DeleteFutureAutoRuns(Tx& tx, const std::string& deployment_id, core::TimePoint after);
  // Multi-row insert of runs and their first history rows (ON CONFLICT DO NOTHING on the
  // idempotency key). Returns the ids of the runs created, in no particular order.
  static std::vector<std::string> InsertAutoRuns(Tx& tx, const std::vector<AutoRunRow>& rows);
  // NOTIFY weft_deployments with the id (delivered when the transaction commits).
  static void NotifyChanged(Tx& tx, const std::string& id);
  // Run ids by idempotency key of one flow (for backfill answers).
  static std::vector<std::string> RunIdsByKeys(Tx& tx, const std::string& flow_id,
                                               const std::vector<std::string>& keys);
};

// Leader leases of background services.
class LeaseRepo {
 public:
  // Takes or renews the lease `name` for `holder` until now + ttl. True when `holder`
  // holds it afterwards (it was free, expired, or already ours).
  static bool Acquire(Tx& tx, const std::string& name, const std::string& holder,
                      core::TimePoint now, double ttl_seconds);
  static void Release(Tx& tx, const std::string& name, const std::string& holder);
};

}  // namespace weft::server::store
