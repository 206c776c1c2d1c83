#pragma once
// Domain functions behind the API: flows, flow runs, task runs and batched task-run
// reports. No gRPC or pqxx types. Every state written goes through the rule chain
// (Orchestrator::Decide inside a transaction holding the run row, or SetState).
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sdk/core/error.hpp"
#include "server/orchestration/set_state.hpp"
#include "server/store/flow_run_repo.hpp"
#include "server/store/records.hpp"
#include "server/store/result_repo.hpp"

namespace weft::server::orchestration {

struct FlowRunSpec {
  std::string flow_name;
  std::string name;             // "" = generated
  std::string parameters_json;  // "" = {}
  std::vector<std::string> tags;
  core::RetryPolicy retry_policy;
  std::optional<core::State> initial_state;  // none = Pending(now)
  std::string idempotency_key;
  std::string deployment_id;  // "" = not from a deployment
  std::string work_queue;
  bool auto_scheduled = false;
  std::string parent_task_run_id;  // a subflow: the wrapper task run (must exist)
};

struct TaskRunSpec {
  std::string id;  // "" = generated
  std::string flow_run_id;
  std::string task_key;
  std::string dynamic_key;
  std::string name;  // "" = task_key-dynamic_key
  core::RetryPolicy retry_policy;
  std::vector<std::string> tags;
  std::optional<core::State> initial_state;  // none = Pending(now)
  std::string cache_key;
  double cache_expiration_seconds = 0;  // a result stored under cache_key serves this long; 0 = ever
  std::string task_inputs_json;         // upstream runs that fed it ("" = none)
};

struct TaskRunReport {
  std::optional<TaskRunSpec> create;  // create.id required
  std::string task_run_id;
  std::vector<core::State> states;  // in order
};

struct TaskRunReportResult {
  std::string task_run_id;
  int accepted = 0;
  std::string rejected_reason;
};

template <typename T>
struct Created {
  T record;
  bool created = false;
};

class RunService {
 public:
  explicit RunService(Orchestrator& orchestrator);

  core::Result<Created<store::FlowRecord>> CreateFlow(const std::string& name,
                                                      const std::vector<std::string>& tags,
                                                      const std::string& parameters_schema_json);
  core::Result<store::FlowRecord> GetFlowById(const std::string& id);
  core::Result<store::FlowRecord> GetFlowByName(const std::string& name);
  core::Result<std::vector<store::FlowRecord>> ListFlows(const std::string& name_prefix,
                                                         const std::string& after_name, int limit);

  core::Result<Created<store::FlowRunRecord>> CreateFlowRun(const FlowRunSpec& spec);
  core::Result<store::FlowRunRecord> GetFlowRun(const std::string& id);
  core::Result<std::vector<store::FlowRunRecord>> ListFlowRuns(const store::FlowRunFilter& filter);
  // A page of the history (page.limit 0 = all of it: for callers inside the server).
  core::Result<std::vector<store::StateRecord>> ListFlowRunStates(
      const std::string& id, const store::StatePage& page = {});
  // Paused -> Running (through the rules), in one transaction holding the run. NOT_FOUND for
  // an unknown run; FAILED_PRECONDITION naming the state when the run is not paused.
  core::Result<SetStateResult> ResumeFlowRun(const std::string& id);

  core::Result<Created<store::TaskRunRecord>> CreateTaskRun(const TaskRunSpec& spec);
  core::Result<store::TaskRunRecord> GetTaskRun(const std::string& id);
  core::Result<std::vector<store::TaskRunRecord>> ListTaskRuns(
      const std::string& flow_run_id, const std::optional<store::Cursor>& after, int limit);
  core::Result<std::vector<store::StateRecord>> ListTaskRunStates(
      const std::string& id, const store::StatePage& page = {});
  // The result the run stored (a Cached run: its source's). NOT_FOUND naming the run when
  // the run is unknown or has no stored result.
  core::Result<store::StoredResult> GetTaskRunResult(const std::string& id);

  // One transaction for the whole batch. A report stops at its first state that is not
  // accepted (rejected_reason says why); the others are unaffected.
  core::Result<std::vector<TaskRunReportResult>> ReportTaskRuns(
      const std::vector<TaskRunReport>& reports);

  core::Result<SetStateResult> SetState(RunKind kind, const std::string& run_id,
                                        core::State proposed, bool force) {
    return orch_.SetState(kind, run_id, std::move(proposed), force);
  }

  struct DatabaseInfo {
    std::string server_version;
    int schema_version = 0;
  };
  core::Result<DatabaseInfo> GetDatabaseInfo();

  // Clock-skew allowance for batched reports: a reported start whose scheduled time is at
  // most this far in the future (by the server's clock) is accepted.
  static constexpr double kClockSkewSeconds = 1.0;

 private:
  Orchestrator& orch_;
};

}  // namespace weft::server::orchestration
