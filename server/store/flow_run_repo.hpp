#pragma once
// Flow runs and their state history.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/store/database.hpp"
#include "server/store/records.hpp"

namespace weft::server::store {

struct FlowRunFilter {
  std::string flow_name;                     // "" = any
  std::vector<core::StateType> state_types;  // empty = any
  std::vector<std::string> state_names;      // empty = any
  std::optional<Cursor> after;               // keyset: rows after this one in listing order
                                             // (oldest_first: `created` holds the sort time)
  int limit = 100;
  std::string deployment_id;  // "" = any
  bool oldest_first = false;  // by expected start time ascending
  std::string tag;                        // "" = any; else runs carrying this tag
  std::optional<core::TimePoint> since;   // created >= since
  std::optional<core::TimePoint> until;   // created < until
  std::string parent_flow_run_id;         // "" = any; else only this run's subflow runs
};

// One run of a lineage (FlowRunRepo::Lineage).
struct LineageRow {
  std::string id;
  std::string work_queue;  // "" = none
};

// Methods throw database exceptions; Database::WithTransaction translates them.
class FlowRunRepo {
 public:
  // Inserts the run with its current state columns (record.run); fills id, created and
  // updated. nullopt when the flow already has a run with this idempotency key.
  static std::optional<FlowRunRecord> Insert(Tx& tx, const FlowRunRecord& record);
  static std::optional<FlowRunRecord> FindByIdempotencyKey(Tx& tx, const std::string& flow_id,
                                                           const std::string& key);
  // With flow_name and task_run_count.
  static std::optional<FlowRunRecord> Get(Tx& tx, const std::string& id);
  // Newest first.
  static std::vector<FlowRunRecord> List(Tx& tx, const FlowRunFilter& filter);
  // SELECT ... FOR UPDATE of the run's orchestration facts.
  static std::optional<RunFacts> Lock(Tx& tx, const std::string& id);
  static void Update(Tx& tx, const RunFacts& facts);
  // Appends states in order; returns their history ids.
  static std::vector<std::int64_t> InsertStates(Tx& tx, const std::string& id,
                                                const std::vector<core::State>& states);
  static std::vector<StateRecord> ListStates(Tx& tx, const std::string& id,
                                             const StatePage& page = {});
  // Non-final subflow runs of `parent_id`, locked FOR UPDATE, oldest first.
  static std::vector<std::string> LockActiveChildren(Tx& tx, const std::string& parent_id);
  // Paused runs whose resume deadline (state_scheduled_time) is before `before`, locked
  // (SKIP LOCKED), at most `limit`.
  static std::vector<RunFacts> LockExpiredPauses(Tx& tx, core::TimePoint before, int limit);
  // The run `id` followed by its ancestors (parent_flow_run_id upward), nearest first, at
  // most `max_ancestors` of them; empty when the run does not exist. One recursive statement.
  static std::vector<LineageRow> Lineage(Tx& tx, const std::string& id, int max_ancestors);
  // The ids among `ids` that exist.
  static std::vector<std::string> ExistingIds(Tx& tx, const std::vector<std::string>& ids);
};

}  // namespace weft::server::store
