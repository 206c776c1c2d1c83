#pragma once
// Work queues: named filters over due flow runs (see docs/work-queues.md).
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/time.hpp"
#include "server/store/database.hpp"
#include "server/store/records.hpp"

namespace weft::server::store {

struct WorkQueueRecord {
  std::string id;
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  std::vector<std::string> deployments;  // "flow/name"
  std::vector<std::string> runner_types;
  std::optional<int> concurrency_limit;  // nullopt = unlimited
  int priority = 0;
  bool paused = false;
  core::TimePoint created{};
  core::TimePoint updated{};
};

// Methods throw database exceptions; Database::WithTransaction translates them.
class WorkQueueRepo {
 public:
  // nullopt when the name is taken.
  static std::optional<WorkQueueRecord> Insert(Tx& tx, const WorkQueueRecord& q);
  static std::optional<WorkQueueRecord> GetByName(Tx& tx, const std::string& name);
  // SELECT ... FOR UPDATE.
  static std::optional<WorkQueueRecord> LockByName(Tx& tx, const std::string& name);
  // By (priority, name) after the keyset (after_priority, after_name); no keyset when
  // after_name is empty.
  static std::vector<WorkQueueRecord> List(Tx& tx, int after_priority,
                                           const std::string& after_name, int limit);
  // Writes every field of `q` (by id); returns the stored row.
  static WorkQueueRecord Update(Tx& tx, const WorkQueueRecord& q);
  static bool Delete(Tx& tx, const std::string& name);
  // Ids of the unowned SCHEDULED runs the queue matches that are due (state_scheduled_time:
  // the scheduled time, or the retry time of AwaitingRetry) by `until`, in order (due time
  // ascending, then id), at most `limit`. The same rule as the agents' claim.
  static std::vector<std::string> DueRunIds(Tx& tx, const WorkQueueRecord& q, core::TimePoint until,
                                            int limit);
  // Number of unowned SCHEDULED runs the queue matches due by `until`.
  static int CountDue(Tx& tx, const WorkQueueRecord& q, core::TimePoint until);
  // Number of PENDING + RUNNING runs the queue matches.
  static int CountActive(Tx& tx, const WorkQueueRecord& q);
};

// Store-internal: the SQL of the matching rule (" FROM flow_runs fr ... WHERE ..." with the
// queue's name, tags, deployments and runner types in $1..$4), and the condition that makes
// a matching run available to a claim (unowned and SCHEDULED). Used by the preview and by
// the agents' claim so that both hand out the same runs.
std::string QueueMatchSql();
std::string QueueDueSql();

}  // namespace weft::server::store
