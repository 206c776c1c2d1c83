#pragma once
// Agents (domain): claims with long polling, heartbeats, cancellation, the agent list, and
// the passes of the liveness services (zombie reaper, late runs). No gRPC or pqxx types.
//
// A claim is one transaction: the queues with a concurrency limit are locked (FOR UPDATE)
// so that claimers of a limited queue serialise; the due, unowned SCHEDULED runs that the
// queue's rule matches are locked with FOR UPDATE SKIP LOCKED (queue priority, then due
// time, then id); each gets Pending through the rule chain (Orchestrator::Decide, as in
// set_state) and the row records the agent and last_heartbeat = now.
//
// Long polls hold no thread: a poll that claimed nothing waits as an entry in a table,
// subscribed to its queues and its agent id in a DispatchSignal. NOTIFY weft_dispatch
// (sent by triggers when a run of a queue becomes due or a queue slot frees, from any
// replica) and a due-time timer move it back onto a small worker pool, which claims again.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sdk/core/error.hpp"
#include "server/orchestration/deployment_manager.hpp"
#include "server/orchestration/dispatch_signal.hpp"
#include "server/orchestration/set_state.hpp"
#include "server/store/agent_repo.hpp"
#include "server/store/records.hpp"

namespace weft::server::store {
class NotificationListener;
}  // namespace weft::server::store

namespace weft::server::orchestration {

struct AgentIdentity {
  std::string id;    // UUID chosen by the agent
  std::string name;  // "" = hostname
  std::string hostname;
  int limit = 0;
  std::string version;
};

struct PollRequest {
  AgentIdentity agent;
  std::vector<std::string> work_queues;
  int max_runs = 1;
  double wait_seconds = 0;
  double prefetch_seconds = 0;
  std::vector<std::string> runner_types;  // empty = any
};

struct ClaimedRun {
  store::FlowRunRecord run;
  std::optional<DeploymentView> deployment;  // none for runs not made from a deployment
  std::optional<core::TimePoint> due;        // the due time it was claimed at
};

struct PollResult {
  std::vector<ClaimedRun> runs;
  std::vector<std::string> cancel_ids;  // runs of this agent now CANCELLING
};

struct HeartbeatResult {
  std::vector<std::string> cancel_ids;
  std::vector<std::string> unknown_ids;
  double interval_seconds = 5;
};

struct AgentOptions {
  double heartbeat_interval_seconds = 5;  // asked of agents
  double heartbeat_timeout_seconds = 30;  // silence after which a run is Crashed
  double late_after_seconds = 5;          // a Scheduled run this overdue becomes Late
  double max_wait_seconds = 60;           // long-poll cap
  int workers = 4;                        // threads that claim for woken polls
  bool listen = true;                     // LISTEN weft_dispatch (other replicas, triggers)
};

class AgentManager {
 public:
  static constexpr int kMaxRuns = 1000;

  AgentManager(Orchestrator& orch, AgentOptions options, std::shared_ptr<spdlog::logger> logger);
  ~AgentManager();  // answers waiting polls, stops the workers
  AgentManager(const AgentManager&) = delete;
  AgentManager& operator=(const AgentManager&) = delete;

  const AgentOptions& options() const { return options_; }
  DispatchSignal& signal() { return signal_; }

  // INVALID_ARGUMENT naming the field (agent.id, work_queues, max_runs, ...); no I/O.
  static core::Status CheckPoll(const PollRequest& req);

  // One claim now, on the caller's thread (one transaction). Unknown queue -> NOT_FOUND.
  // `record_poll` upserts the agent with last_polled = now. `next_due` (when given) gets
  // the earliest due time after now + prefetch of the runs these queues could hand out.
  core::Result<PollResult> Claim(const PollRequest& req, bool record_poll,
                                 std::optional<core::TimePoint>* next_due = nullptr);

  // The long poll. `done` is called exactly once, on a worker or timer thread (never on the
  // caller's): with the claimed runs, with an empty result when the wait ends, or with an
  // error. Returns an id for CancelPoll.
  using PollDone = std::function<void(core::Result<PollResult>)>;
  std::uint64_t StartPoll(PollRequest req, PollDone done);
  // The caller is gone: drop the poll without claiming (`done` gets CANCELLED). Runs it
  // claimed but never answered are returned to Scheduled.
  void CancelPoll(std::uint64_t id);
  // Answers every waiting poll at once (empty); later polls do not wait. For shutdown.
  void ShutdownPolls();
  std::size_t waiting_polls() const;

  core::Result<HeartbeatResult> Heartbeat(const AgentIdentity& agent,
                                          const std::vector<std::string>& work_queues,
                                          const std::vector<std::string>& run_ids);
  // The run's state; renews its heartbeat when it is not finished. NOT_FOUND for unknown ids.
  core::Result<core::State> FlowRunHeartbeat(const std::string& run_id);
  // seen_within <= 0 -> 1 hour.
  core::Result<std::vector<store::AgentRecord>> List(double seen_within_seconds,
                                                     const std::string& work_queue);
  // The first `limit` of List, limited in SQL.
  core::Result<std::vector<store::AgentRecord>> ListFirst(double seen_within_seconds,
                                                          const std::string& work_queue,
                                                          int limit);
  // SCHEDULED or unowned PENDING -> Cancelled; owned (or heartbeating) -> Cancelling, and the
  // owner's waiting poll is woken; terminal -> FAILED_PRECONDITION.
  // Cancelling a run also cancels its non-final subflow runs, recursively (CancelChildren).
  core::Result<SetStateResult> Cancel(const std::string& run_id, const std::string& message);
  // The cancel cascade alone: returns how many subflow runs changed state.
  core::Result<int> CancelChildren(const std::string& parent_id);
  // Paused runs past their resume deadline (state scheduled_time) by more than
  // kPauseGraceSeconds -> Failed (the flow process normally ends the pause itself).
  static constexpr double kPauseGraceSeconds = 5;
  core::Result<int> FailExpiredPauses(int limit);

  // Liveness passes (services/liveness.*), each one transaction of at most `limit` runs.
  // Runs whose last_heartbeat is older than now - heartbeat timeout -> Crashed.
  core::Result<int> ReapZombies(int limit);
  // Unowned runs named Scheduled due before now - late_after -> Late.
  core::Result<int> MarkLate(int limit);

 private:
  struct Waiter;
  using Steady = std::chrono::steady_clock;
  void OnSignal(const std::shared_ptr<Waiter>& w, DispatchSignal::Reason reason);
  void WorkerLoop();
  void TimerLoop(std::stop_token stop);
  void Attempt(const std::shared_ptr<Waiter>& w);
  void Finish(const std::shared_ptr<Waiter>& w, core::Result<PollResult> result);
  void Release(const AgentIdentity& agent, const std::vector<ClaimedRun>& runs);

  Orchestrator& orch_;
  AgentOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  DispatchSignal signal_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable_any timer_cv_;
  std::map<std::uint64_t, std::shared_ptr<Waiter>> waiters_;
  std::deque<std::shared_ptr<Waiter>> tasks_;
  std::uint64_t next_id_ = 1;
  bool polls_closed_ = false;
  bool timer_kick_ = false;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::jthread timer_;
  std::unique_ptr<store::NotificationListener> listener_;
};

// The agent's display name: its name, else its hostname, else "agent-<id prefix>".
std::string AgentDisplayName(const AgentIdentity& a);

}  // namespace weft::server::orchestration
