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
  // Ids of the SCHEDULED runs the queue matches with expected start <= until, in order
  // (expected start ascending, then id), at most `limit`.
  static std::vector<std::string> DueRunIds(Tx& tx, const WorkQueueRecord& q, core::TimePoint until,
                                            int limit);
  // Number of SCHEDULED runs the queue matches with expected start <= until.
  static int CountDue(Tx& tx, const WorkQueueRecord& q, core::TimePoint until);
  // Number of PENDING + RUNNING runs the queue matches.
  static int CountActive(Tx& tx, const WorkQueueRecord& q);
};

}  // namespace weft::server::store
