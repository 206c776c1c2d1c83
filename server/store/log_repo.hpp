#pragma once
// Log lines of flow runs and task runs (migrations/0006_logs.sql): multi-row inserts and
// keyset paging by id.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/time.hpp"
#include "server/store/database.hpp"

namespace weft::server::store {

struct LogRecord {
  std::int64_t id = 0;
  std::string flow_run_id;
  std::string task_run_id;  // "" = none
  std::string task_run_name;
  int level = 20;
  std::string message;
  core::TimePoint timestamp{};
  std::string source = "sdk";
};

struct LogQuery {
  std::string flow_run_id;  // "" = any (then task_run_id is set)
  std::string task_run_id;  // "" = any
  std::string task_name;    // "" = any; else task runs named NAME or NAME-<digits>
  int min_level = 0;
  std::int64_t after_id = 0;
  int limit = 1000;
};

// Methods throw database exceptions; Database::WithTransaction translates them.
class LogRepo {
 public:
  // The ids among `flow_run_ids` that name existing flow runs.
  static std::vector<std::string> ExistingFlowRuns(Tx& tx,
                                                   const std::vector<std::string>& flow_run_ids);
  // The flow run of a task run; nullopt when there is no such task run.
  static std::optional<std::string> FlowRunOfTask(Tx& tx, const std::string& task_run_id);
  // Takes the per-flow-run write locks (transaction-scoped advisory locks, in the given
  // order: pass them sorted), so that a flow run's lines become visible in id order.
  static void LockFlowRuns(Tx& tx, const std::vector<std::string>& flow_run_ids);
  // One multi-row INSERT; ids are assigned in the order of `lines`.
  static void Insert(Tx& tx, const std::vector<LogRecord>& lines);
  static std::vector<LogRecord> List(Tx& tx, const LogQuery& q);
};

}  // namespace weft::server::store
