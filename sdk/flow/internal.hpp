#pragma once
// libweft internals: the run engine and its backends (ephemeral or server). Not installed;
// users include sdk/flow/weft.hpp only.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sdk/core/error.hpp"
#include "sdk/core/orchestration/rule.hpp"
#include "sdk/flow/weft.hpp"

namespace weft::client {
class Client;
class LogShipper;
}

namespace weft::detail {

// ---- helpers (util.cpp)
std::string NewUuid();     // random UUID v4
std::string NewRunName();  // "amber-otter-42"
double UnitRandom();       // [0, 1), thread-local generator
std::string Demangle(const char* mangled);
struct ExceptionInfo {
  std::string type;                 // demangled, e.g. "std::runtime_error"
  std::string message;              // what()
  std::string Text() const;         // "std::runtime_error: boom"
  std::string DetailsJson() const;  // {"exception_type": ..., "message": ...}
};
ExceptionInfo DescribeException(std::exception_ptr error);
// Prefect style: Completed(), Failed('boom')
std::string DescribeState(const core::State& state);
void WriteConsoleLine(std::string_view line);  // raw line on stderr, serialized with the logs
// Where the loggers of a flow run ship their lines (logger.cpp): set by the server backend
// while the run lives, removed with nullptr. Runs without one (ephemeral) log to the console
// only. Keyed by flow run, so concurrent runs in one process keep their own.
void SetLogShipper(const std::string& flow_run_id, std::shared_ptr<client::LogShipper> shipper);

// ---- talking to the server

// UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED: the server is restarting or
// busy; the same call may be sent again.
inline bool Transient(const core::Error& e) {
  return e.code == core::Code::kUnavailable || e.code == core::Code::kDeadlineExceeded ||
         e.code == core::Code::kAborted || e.code == core::Code::kResourceExhausted;
}

// Transient errors are retried with capped exponential backoff for this long, so a flow
// rides out a server restart. Resends must be idempotent (same idempotency key, upserts).
constexpr auto kRetryWindow = std::chrono::seconds(60);

// Calls `call` (returning core::Result<T>) until it succeeds, fails for good, or the
// retry window has passed; returns the last result.
template <typename Call>
auto WithRetries(Call call) {
  auto start = std::chrono::steady_clock::now();
  auto delay = std::chrono::milliseconds(100);
  for (;;) {
    auto r = call();
    if (r || !Transient(r.error()) || std::chrono::steady_clock::now() - start > kRetryWindow) {
      return r;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
}

// ---- backends

// The task-run creation a backend reports (the first report of a run).
struct TaskRunCreate {
  std::string id;
  std::string flow_run_id;
  std::string task_key;
  std::string dynamic_key;
  std::string name;
  core::RetryPolicy retry_policy;
  std::vector<std::string> tags;
  core::State initial;  // Pending
  std::string task_inputs_json;  // upstream runs that fed it ("" = none)
  // The synchronous path only (see Backend::CreateTaskRun):
  std::string cache_key;                // "" = no caching
  double cache_expiration_seconds = 0;  // 0 = the cached result never expires
};

// The server's answer to a synchronous task-run creation or proposal.
struct TaskRunAnswer {
  core::orchestration::Decision decision = core::orchestration::Decision::kAccept;
  std::string task_run_id;           // the server's id (an existing run when it matched one)
  std::optional<core::State> state;  // holds afterwards
  std::vector<core::State> written;  // states appended, in order, for the log
  std::string reason;
  std::string rule;  // the rule that decided when not ACCEPT
  double wait_seconds = 0;
  int run_count = 0;
  std::string result_json;  // a Cached answer: the stored result
};

struct FlowRunAnswer {
  core::orchestration::Decision decision = core::orchestration::Decision::kAccept;
  std::optional<core::State> state;  // holds afterwards
  std::vector<core::State> written;  // states appended (proposed + follow-ups), for the log
  std::string reason;
  double wait_seconds = 0;
  int run_count = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual bool ephemeral() const = 0;
  // Flow-run transitions are synchronous.
  virtual core::Result<FlowRunAnswer> ProposeFlowRunState(const core::State& proposed) = 0;
  // Task-run states are fire-and-forget (queued); the task's path never waits on them.
  virtual void TaskRunCreated(const TaskRunCreate& create) = 0;
  virtual void TaskRunStates(const std::string& task_run_id,
                             const std::vector<core::State>& states) = 0;
  // Blocks until every queued task-run report was sent (or given up on).
  virtual void Flush() = 0;
  virtual int dropped() const { return 0; }

  // The synchronous task-run path, for task runs a server rule must decide (a tag that may
  // be limited, a cache key, a persisted result): creation and each proposal are RPCs
  // (transient errors retried with the same idempotency key). Only server backends have it
  // (sync_tasks()); these runs are never also reported in batches.
  virtual bool sync_tasks() const { return false; }
  virtual core::Result<TaskRunAnswer> CreateTaskRun(const TaskRunCreate& create);
  // `result_json`: the run's result, sent with a COMPLETED proposal ("" = none).
  virtual core::Result<TaskRunAnswer> ProposeTaskRunState(const std::string& task_run_id,
                                                          const core::State& proposed,
                                                          const std::string& result_json);
  // `fn` is called once, on a backend thread, when the server says the run is being
  // cancelled (at once if it already said so); nullptr unregisters. Server backends only.
  virtual void OnCancelRequested(std::function<void()> fn) { (void)fn; }
  // After a WAIT from a tag-concurrency rule: blocks until a slot of one of `tags` frees or
  // `max_seconds` pass (whichever first); the caller proposes again.
  virtual void WaitForSlot(const std::vector<std::string>& tags, double max_seconds);
};

// Applies the default policy locally to the flow run; task reports go nowhere.
std::unique_ptr<Backend> MakeEphemeralBackend(core::RetryPolicy flow_retry_policy);
// Talks to the server: flow-run proposals are RPCs (transient errors are retried for up to
// a minute, with the same idempotency key), task-run reports are batched by a background
// thread (ReportTaskRuns), and a heartbeat thread sends FlowRunHeartbeat while the run
// lives. When a heartbeat answers CANCELLING and `stop_on_cancel` (a run started by hand;
// an agent stops the runs it started itself), the run is proposed Cancelled and the process
// exits with code 130. `client` must outlive the backend.
std::unique_ptr<Backend> MakeServerBackend(client::Client& client, std::string flow_run_id,
                                           std::optional<core::State> current_state,
                                           bool stop_on_cancel);

// ---- engine (engine.cpp)

struct EngineConfig {
  const Flow* flow = nullptr;
  Params params;
  Backend* backend = nullptr;
  std::string flow_run_id;
  std::string flow_run_name;
  bool keep_history = false;
  // The run's state when the engine starts. An adopted run that its agent already moved to
  // RUNNING is not proposed Running again; `initial_run_count` is then its attempt.
  std::optional<core::State> initial_state;
  int initial_run_count = 0;
  bool adopted = false;  // the run was created elsewhere (WEFT_FLOW_RUN_ID)
  // A run cancelled on the server while it runs (seen through the backend's heartbeats)
  // signals the flow's stop token and ends Cancelled; for runs whose process must go on
  // (a subflow inside its parent's process).
  bool cancel_cooperatively = false;
};

class Engine {
 public:
  explicit Engine(EngineConfig config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Proposes Running, runs the body (and the flow's retries), flushes the task reports and
  // proposes the final state. `result` gets the outcome.
  void Execute(FlowRunResult& result);

  int RunTaskCall(const TaskDef& def, const AttemptBody& body);
  // A submitted call (weft::Task::Submit/Map): see detail::SubmitTaskCall.
  void Submit(const std::shared_ptr<const TaskDef>& def, const std::shared_ptr<FutureCore>& core,
              std::vector<Dep> deps, SubmitJob job);
  const Logger& flow_logger() const;

  static Engine* Current();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::detail
