#pragma once
// Task runs and their state history; batch methods serve ReportTaskRuns.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/store/database.hpp"
#include "server/store/records.hpp"

namespace weft::server::store {

struct InsertedTaskRun {
  std::string id;        // the stored id: the new row's, or the existing row's with this key;
                         // "" when the client's id is taken by a task run with another key
  bool created = false;
};

// Methods throw database exceptions; Database::WithTransaction translates them.
class TaskRunRepo {
 public:
  // Inserts task runs without a state (run.id may be "" = generated). Idempotent on
  // (flow_run_id, task_key, dynamic_key): an existing row's id is returned instead.
  // One result per input, in order.
  static std::vector<InsertedTaskRun> InsertMany(Tx& tx, const std::vector<TaskRunRecord>& runs);
  static std::optional<TaskRunRecord> Get(Tx& tx, const std::string& id);
  // (task run id, its flow run id) for each of `ids` that exists (access checks).
  static std::vector<std::pair<std::string, std::string>> FlowRunsOf(
      Tx& tx, const std::vector<std::string>& ids);
  // Ordered by (created, id); `after` is the keyset cursor.
  static std::vector<TaskRunRecord> List(Tx& tx, const std::string& flow_run_id,
                                         const std::optional<Cursor>& after, int limit);
  // SELECT ... FOR UPDATE, in id order (so concurrent batches lock alike and never deadlock).
  static std::vector<RunFacts> LockMany(Tx& tx, const std::vector<std::string>& ids);
  static std::optional<RunFacts> Lock(Tx& tx, const std::string& id);
  static void UpdateMany(Tx& tx, const std::vector<RunFacts>& runs);
  // (task_run_id, state) rows appended in order; returns their history ids in order.
  static std::vector<std::int64_t> InsertStates(
      Tx& tx, const std::vector<std::pair<std::string, const core::State*>>& rows);
  static std::vector<StateRecord> ListStates(Tx& tx, const std::string& id,
                                             const StatePage& page = {});
};

}  // namespace weft::server::store
