#pragma once
// Agents, run ownership and heartbeats: the rows behind AgentService (claims, heartbeats,
// cancel) and the liveness services (zombie reaper, late runs).
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/time.hpp"
#include "server/store/database.hpp"
#include "server/store/records.hpp"
#include "server/store/work_queue_repo.hpp"

namespace weft::server::store {

struct AgentRecord {
  std::string id;
  std::string name;
  std::string hostname;
  std::vector<std::string> work_queues;
  int limit = 0;
  int running = 0;
  std::string version;
  core::TimePoint started{};
  core::TimePoint last_seen{};
  std::optional<core::TimePoint> last_polled;
};

// A run's owner as the reaper and cancel see it.
struct RunOwner {
  std::string agent_id;  // "" = none
  std::string agent_name;
  std::optional<core::TimePoint> last_heartbeat;
};

// A locked run with its owner (reaper).
struct OwnedRun {
  RunFacts facts;
  RunOwner owner;
};

// Methods throw database exceptions; Database::WithTransaction translates them.
class AgentRepo {
 public:
  // Insert or update by id: identity fields, last_seen = now; last_polled = now when
  // `polled`; running when given.
  static void Upsert(Tx& tx, const AgentRecord& a, core::TimePoint now, bool polled,
                     std::optional<int> running);
  // Seen at or after `seen_after`, most recent first; `queue` "" = any.
  static std::vector<AgentRecord> List(Tx& tx, core::TimePoint seen_after,
                                       const std::string& queue);
  // The first `limit` of List.
  static std::vector<AgentRecord> ListFirst(Tx& tx, core::TimePoint seen_after,
                                            const std::string& queue, int limit);

  // Locks (FOR UPDATE SKIP LOCKED) at most `limit` runs the queue may hand out: unowned,
  // SCHEDULED, matching the queue's rule, due by `until`, and (when runner_types is not
  // empty) for one of those runner types; by due time, then id.
  static std::vector<RunFacts> LockClaimable(Tx& tx, const WorkQueueRecord& q,
                                             core::TimePoint until,
                                             const std::vector<std::string>& runner_types,
                                             int limit);
  // The earliest due time after `after` of the runs the queue may hand out.
  static std::optional<core::TimePoint> NextDue(Tx& tx, const WorkQueueRecord& q,
                                                core::TimePoint after,
                                                const std::vector<std::string>& runner_types);
  // agent_id and last_heartbeat of the runs (already locked by the caller).
  static void SetOwner(Tx& tx, const std::vector<std::string>& run_ids,
                       const std::optional<std::string>& agent_id,
                       std::optional<core::TimePoint> heartbeat);
  // Runs of the agent in state CANCELLING.
  static std::vector<std::string> CancellingRuns(Tx& tx, const std::string& agent_id);
  // Renews last_heartbeat of the listed runs that the agent owns and that are not
  // terminal; returns (id, state type) of those renewed.
  static std::vector<std::pair<std::string, core::StateType>> Heartbeat(
      Tx& tx, const std::string& agent_id, const std::vector<std::string>& run_ids,
      core::TimePoint now);
  // Renews last_heartbeat of one run when it is not terminal. Returns the run's state
  // (renewed or not); nullopt when there is no such run.
  static std::optional<std::optional<core::State>> TouchRun(Tx& tx, const std::string& run_id,
                                                            core::TimePoint now);
  static RunOwner OwnerOf(Tx& tx, const std::string& run_id);
  // Locks (SKIP LOCKED) unfinished runs whose last_heartbeat is before `before`: owned
  // SCHEDULED (a retry in progress), PENDING, RUNNING, CANCELLING, PAUSED.
  static std::vector<OwnedRun> LockStale(Tx& tx, core::TimePoint before, int limit);
  // Locks (SKIP LOCKED) unowned runs still named Scheduled and due before `before`.
  static std::vector<RunFacts> LockLate(Tx& tx, core::TimePoint before, int limit);
  // NOTIFY weft_dispatch 'a:<agent id>' (delivered at commit): wakes its waiting poll on
  // every replica.
  static void NotifyAgent(Tx& tx, const std::string& agent_id);
};

}  // namespace weft::server::store
