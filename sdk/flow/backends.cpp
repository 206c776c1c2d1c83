// Where states go: nowhere (ephemeral: the flow run's policy is applied locally) or to the
// server (flow-run proposals as RPCs; task-run states batched by a background reporter).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "sdk/client/client.hpp"
#include "sdk/client/convert.hpp"
#include "sdk/client/log_shipper.hpp"
#include "sdk/flow/internal.hpp"

namespace weft::detail {

using core::State;
using core::orchestration::Decision;

namespace {
core::TimePoint Now() { return std::chrono::system_clock::now(); }
}  // namespace

core::Result<TaskRunAnswer> Backend::CreateTaskRun(const TaskRunCreate& create) {
  return core::Error{core::Code::kUnimplemented,
                     "task run " + create.name + ": this backend has no synchronous path"};
}

core::Result<TaskRunAnswer> Backend::ProposeTaskRunState(const std::string& task_run_id,
                                                         const State&, const std::string&) {
  return core::Error{core::Code::kUnimplemented,
                     "task run " + task_run_id + ": this backend has no synchronous path"};
}

void Backend::WaitForSlot(const std::vector<std::string>&, double max_seconds) {
  std::this_thread::sleep_for(core::FromSeconds(std::clamp(max_seconds, 0.01, 1.0)));
}

namespace {

// The states a proposal appended, from the proposal and the state that holds afterwards
// (the server answers with the latter only): the proposal, then a follow-up (AwaitingRetry)
// when the state that holds differs.
std::vector<State> WrittenStates(const State& proposed, const std::optional<State>& now) {
  std::vector<State> written{proposed};
  if (now && (now->name != proposed.name || now->type != proposed.type)) {
    written.push_back(*now);
  } else if (now) {
    written.back() = *now;
  }
  return written;
}

// ------------------------------------------------------------------ ephemeral

class EphemeralBackend final : public Backend {
 public:
  explicit EphemeralBackend(core::RetryPolicy policy) : policy_(std::move(policy)) {}
  bool ephemeral() const override { return true; }

  core::Result<FlowRunAnswer> ProposeFlowRunState(const State& proposed) override {
    core::orchestration::TransitionContext ctx;
    ctx.kind = core::orchestration::RunKind::kFlowRun;
    ctx.initial = state_;
    ctx.proposed = proposed;
    ctx.run_count = run_count_;
    ctx.retry_policy = policy_;
    ctx.now = Now();
    ctx.unit_random = UnitRandom();
    auto out = core::orchestration::DefaultPolicy().Apply(std::move(ctx));
    FlowRunAnswer a;
    a.decision = out.decision;
    a.reason = out.reason;
    a.wait_seconds = out.wait_seconds;
    if (out.decision == Decision::kAccept) {
      state_ = out.state;
      run_count_ = out.run_count;
      a.written = std::move(out.to_write);
    }
    a.state = state_;
    a.run_count = run_count_;
    return a;
  }
  void TaskRunCreated(const TaskRunCreate&) override {}
  void TaskRunStates(const std::string&, const std::vector<State>&) override {}
  void Flush() override {}

 private:
  core::RetryPolicy policy_;
  std::optional<State> state_;
  int run_count_ = 0;
};

// ------------------------------------------------------------------ server


constexpr size_t kFlushThreshold = 500;  // states queued -> send now
constexpr size_t kMaxBatch = 2000;       // states per RPC
constexpr size_t kMaxQueued = 100000;    // per lane; beyond this, producers wait
constexpr auto kFlushInterval = std::chrono::milliseconds(100);
constexpr size_t kLanes = 4;  // concurrent ReportTaskRuns streams
constexpr auto kLogFlushTimeout = std::chrono::seconds(5);  // bound on waiting for run logs

struct ReportItem {
  std::shared_ptr<const TaskRunCreate> create;  // the run's first report
  std::string task_run_id;
  std::optional<State> state;
};

// One ordered stream of task-run reports with its own sender thread. A task run always uses
// the same lane, so its states arrive in order; lanes send concurrently.
class ReportLane {
 public:
  using Item = ReportItem;
  explicit ReportLane(client::Client& client) : client_(client) {
    thread_ = std::jthread([this](std::stop_token st) { Loop(st); });
  }
  ~ReportLane() {
    Flush();
    thread_.request_stop();
    cv_.notify_all();
  }
  ReportLane(const ReportLane&) = delete;
  ReportLane& operator=(const ReportLane&) = delete;

  void Flush() {
    std::unique_lock lock(mu_);
    ++flush_requests_;
    cv_.notify_all();
    idle_cv_.wait(lock, [&] { return queue_.empty() && !in_flight_; });
  }

  int dropped() const {
    std::lock_guard lock(mu_);
    return dropped_;
  }

  void Push(Item item) {
    std::unique_lock lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      // Back-pressure only when the server cannot keep up at all.
      idle_cv_.wait(lock, [&] { return queue_.size() < kMaxQueued / 2; });
    }
    queue_.push_back(std::move(item));
    if (queue_.size() == kFlushThreshold) cv_.notify_all();
  }

 private:
  void Loop(std::stop_token st) {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait_for(lock, kFlushInterval, [&] {
        return st.stop_requested() || queue_.size() >= kFlushThreshold || flush_requests_ > 0;
      });
      if (queue_.empty()) {
        flush_requests_ = 0;
        idle_cv_.notify_all();
        if (st.stop_requested()) return;
        continue;
      }
      size_t n = std::min(queue_.size(), kMaxBatch);
      std::vector<Item> batch(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
      in_flight_ = true;
      lock.unlock();
      Send(batch);
      lock.lock();
      in_flight_ = false;
      if (queue_.empty()) {
        flush_requests_ = 0;
        idle_cv_.notify_all();
      } else if (queue_.size() < kMaxQueued / 2) {
        idle_cv_.notify_all();
      }
    }
  }

  std::string Mapped(const std::string& id) const {
    auto it = id_map_.find(id);
    return it == id_map_.end() ? id : it->second;
  }

  // Sends one batch (one report per task run, its states in order). Runs on the reporter
  // thread only, so id_map_ needs no lock.
  void Send(const std::vector<Item>& batch) {
    v1::ReportTaskRunsRequest req;
    std::unordered_map<std::string, int> index;  // client task-run id -> report index
    std::vector<std::string> client_ids;
    for (const auto& item : batch) {
      auto [it, inserted] = index.try_emplace(item.task_run_id, req.reports_size());
      v1::TaskRunReport* report;
      if (inserted) {
        report = req.add_reports();
        report->set_task_run_id(Mapped(item.task_run_id));
        client_ids.push_back(item.task_run_id);
      } else {
        report = req.mutable_reports(it->second);
      }
      if (item.create) {
        const TaskRunCreate& c = *item.create;
        auto* cr = report->mutable_create();
        cr->set_id(c.id);
        cr->set_flow_run_id(c.flow_run_id);
        cr->set_task_key(c.task_key);
        cr->set_dynamic_key(c.dynamic_key);
        cr->set_name(c.name);
        *cr->mutable_retry_policy() = client::ToProto(c.retry_policy);
        for (const auto& t : c.tags) cr->add_tags(t);
        cr->set_task_inputs_json(c.task_inputs_json);
        *cr->mutable_initial_state() = client::ToProto(c.initial);
      }
      if (item.state) *report->add_states() = client::ToProto(*item.state);
    }
    auto resp = WithRetries([&] { return client_.ReportTaskRuns(req); });
    if (!resp) {
      int states = 0;
      for (const auto& item : batch) states += item.state || item.create ? 1 : 0;
      {
        std::lock_guard lock(mu_);
        dropped_ += states;
      }
      log::Current().error("could not report {} task-run states: {}", states, resp.error().message);
      return;
    }
    int count = std::min(resp->results_size(), static_cast<int>(client_ids.size()));
    for (int i = 0; i < count; ++i) {
      const auto& r = resp->results(i);
      const std::string& cid = client_ids[static_cast<size_t>(i)];
      if (!r.task_run_id().empty() && r.task_run_id() != Mapped(cid)) {
        id_map_[cid] = r.task_run_id();
      }
      if (!r.rejected_reason().empty()) {
        Logger("Task run " + r.task_run_id())
            .warning("server stored {} of the reported states: {}", r.accepted(),
                     r.rejected_reason());
      }
    }
  }

  client::Client& client_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the sender
  std::condition_variable idle_cv_;  // wakes flushers and blocked producers
  std::deque<Item> queue_;
  bool in_flight_ = false;
  int flush_requests_ = 0;
  int dropped_ = 0;
  std::unordered_map<std::string, std::string> id_map_;  // client id -> server id
  std::jthread thread_;                                  // last: stopped and joined first
};

class ServerBackend final : public Backend {
 public:
  ServerBackend(client::Client& client, std::string flow_run_id, std::optional<State> current,
                bool stop_on_cancel)
      : client_(client),
        flow_run_id_(std::move(flow_run_id)),
        state_(std::move(current)),
        stop_on_cancel_(stop_on_cancel) {
    for (size_t i = 0; i < kLanes; ++i) lanes_.push_back(std::make_unique<ReportLane>(client_));
    logs_ = std::make_shared<client::LogShipper>(client_);
    SetLogShipper(flow_run_id_, logs_);
    heartbeat_ = std::jthread([this](std::stop_token st) { Heartbeats(st); });
  }
  ~ServerBackend() override {
    heartbeat_.request_stop();
    heartbeat_cv_.notify_all();
    if (heartbeat_.joinable()) heartbeat_.join();
    Flush();
    SetLogShipper(flow_run_id_, nullptr);
  }

  bool ephemeral() const override { return false; }

  core::Result<FlowRunAnswer> ProposeFlowRunState(const State& proposed) override {
    v1::SetFlowRunStateRequest req;
    req.set_flow_run_id(flow_run_id_);
    State s = proposed;
    if (s.timestamp == core::TimePoint{}) s.timestamp = Now();
    if (s.idempotency_key.empty()) s.idempotency_key = NewUuid();  // safe to resend
    *req.mutable_state() = client::ToProto(s);
    auto resp = WithRetries([&] { return client_.SetFlowRunState(req); });
    if (!resp) return resp.error();
    const auto& r = resp->result();
    FlowRunAnswer a;
    a.decision = client::FromProto(r.decision());
    a.reason = r.reason();
    a.wait_seconds = r.wait_seconds();
    a.run_count = r.run_count();
    if (r.has_state()) a.state = client::FromProto(r.state());
    // The server appended the proposal, and maybe follow-ups (AwaitingRetry): the state
    // that holds now tells which.
    if (a.decision == Decision::kAccept) a.written = WrittenStates(s, a.state);
    return a;
  }

  bool sync_tasks() const override { return true; }

  core::Result<TaskRunAnswer> CreateTaskRun(const TaskRunCreate& c) override {
    v1::CreateTaskRunRequest req;
    req.set_id(c.id);
    req.set_flow_run_id(c.flow_run_id);
    req.set_task_key(c.task_key);
    req.set_dynamic_key(c.dynamic_key);
    req.set_name(c.name);
    *req.mutable_retry_policy() = client::ToProto(c.retry_policy);
    for (const auto& t : c.tags) req.add_tags(t);
    req.set_task_inputs_json(c.task_inputs_json);
    State initial = c.initial;
    if (initial.timestamp == core::TimePoint{}) initial.timestamp = Now();
    *req.mutable_initial_state() = client::ToProto(initial);
    req.set_cache_key(c.cache_key);
    req.set_cache_expiration_seconds(c.cache_expiration_seconds);
    auto resp = WithRetries([&] { return client_.CreateTaskRun(req); });
    if (!resp) return resp.error();
    const auto& run = resp->task_run();
    TaskRunAnswer a;
    a.task_run_id = run.id();
    a.run_count = run.run_count();
    if (run.has_state()) a.state = client::FromProto(run.state());
    if (resp->created() && a.state) a.written.push_back(*a.state);
    return a;
  }

  core::Result<TaskRunAnswer> ProposeTaskRunState(const std::string& task_run_id,
                                                  const State& proposed,
                                                  const std::string& result_json) override {
    v1::SetTaskRunStateRequest req;
    req.set_task_run_id(task_run_id);
    State s = proposed;
    if (s.timestamp == core::TimePoint{}) s.timestamp = Now();
    if (s.idempotency_key.empty()) s.idempotency_key = NewUuid();  // safe to resend
    *req.mutable_state() = client::ToProto(s);
    if (!result_json.empty()) req.mutable_state()->set_result_json(result_json);
    auto resp = WithRetries([&] { return client_.SetTaskRunState(req); });
    if (!resp) return resp.error();
    const auto& r = resp->result();
    TaskRunAnswer a;
    a.task_run_id = task_run_id;
    a.decision = client::FromProto(r.decision());
    a.reason = r.reason();
    a.rule = r.rule();
    a.wait_seconds = r.wait_seconds();
    a.run_count = r.run_count();
    if (r.has_state()) {
      a.state = client::FromProto(r.state());
      a.result_json = r.state().result_json();
    }
    if (a.decision == Decision::kAccept) {
      a.written = WrittenStates(s, a.state);
    } else if (a.state && a.state->name == "Cached") {
      a.written.push_back(*a.state);  // the server wrote Cached instead of Running
    }
    return a;
  }

  void WaitForSlot(const std::vector<std::string>& tags, double max_seconds) override {
    v1::WaitForConcurrencySlotRequest req;
    for (const auto& t : tags) req.add_tags(t);
    req.set_timeout_seconds(std::clamp(max_seconds, 0.05, 30.0));
    auto resp = client_.WaitForConcurrencySlot(req);
    if (!resp) Backend::WaitForSlot(tags, max_seconds);  // e.g. the server is restarting
  }

  void TaskRunCreated(const TaskRunCreate& create) override {
    ReportItem item;
    item.create = std::make_shared<TaskRunCreate>(create);
    item.task_run_id = create.id;
    Lane(create.id).Push(std::move(item));
  }

  void TaskRunStates(const std::string& task_run_id, const std::vector<State>& states) override {
    ReportLane& lane = Lane(task_run_id);
    for (const auto& s : states) {
      ReportItem item;
      item.task_run_id = task_run_id;
      item.state = s;
      lane.Push(std::move(item));
    }
  }

  void Flush() override {
    for (auto& lane : lanes_) lane->Flush();
    logs_->Flush(kLogFlushTimeout);  // run logs too, before the final state is proposed
  }

  int dropped() const override {
    int n = 0;
    for (const auto& lane : lanes_) n += lane->dropped();
    return n;
  }

 private:
  ReportLane& Lane(const std::string& task_run_id) {
    return *lanes_[std::hash<std::string>{}(task_run_id) % lanes_.size()];
  }

  // FlowRunHeartbeat every interval the server asks for (5 s until it says), so the server
  // can tell a live flow from a dead one. Stops on UNIMPLEMENTED (an older server).
  void Heartbeats(std::stop_token st) {
    double interval = 5;
    std::mutex mu;
    std::unique_lock lock(mu);
    for (;;) {
      v1::FlowRunHeartbeatRequest req;
      req.set_flow_run_id(flow_run_id_);
      lock.unlock();
      auto resp = client_.FlowRunHeartbeat(req);
      lock.lock();
      if (!resp && resp.error().code == core::Code::kUnimplemented) return;
      if (resp) {
        if (resp->heartbeat_interval_seconds() > 0) {
          interval = std::clamp(resp->heartbeat_interval_seconds(), 0.05, 300.0);
        }
        if (resp->state().type() == v1::CANCELLING) {
          if (stop_on_cancel_) StopForCancel();
          NotifyCancel();
        }
        if (auto now_state = client::FromProto(resp->state()); now_state && now_state->IsTerminal()) {
          return;
        }
      }
      if (heartbeat_cv_.wait_for(lock, st, core::FromSeconds(interval),
                                 [&] { return st.stop_requested(); })) {
        return;
      }
    }
  }

  void NotifyCancel() {
    std::function<void()> fn;
    {
      std::lock_guard lock(cancel_mu_);
      if (cancel_seen_) return;
      cancel_seen_ = true;
      fn = on_cancel_;
    }
    if (fn) fn();
  }

 public:
  void OnCancelRequested(std::function<void()> fn) override {
    bool seen;
    {
      std::lock_guard lock(cancel_mu_);
      on_cancel_ = fn;
      seen = cancel_seen_;
    }
    if (seen && fn) fn();
  }

 private:
  // A run started by hand was cancelled: record Cancelled and end the process (the task
  // threads cannot be stopped from outside). An agent stops the runs it started itself.
  [[noreturn]] void StopForCancel() {
    Logger("Flow run " + flow_run_id_)
        .warning("cancellation requested: stopping the flow run (exit code 130)");
    Flush();
    v1::SetFlowRunStateRequest req;
    req.set_flow_run_id(flow_run_id_);
    State cancelled = core::Cancelled(Now(), "cancelled while running; the process stopped");
    cancelled.idempotency_key = NewUuid();
    *req.mutable_state() = client::ToProto(cancelled);
    auto resp = WithRetries([&] { return client_.SetFlowRunState(req); });
    if (!resp) {
      Logger("Flow run " + flow_run_id_).error("proposing Cancelled: {}", resp.error().message);
    }
    std::_Exit(130);
  }

  client::Client& client_;
  std::string flow_run_id_;
  std::optional<State> state_;
  bool stop_on_cancel_ = false;
  std::vector<std::unique_ptr<ReportLane>> lanes_;
  std::shared_ptr<client::LogShipper> logs_;  // also held by the run loggers (logger.cpp)
  std::mutex cancel_mu_;  // on_cancel_, cancel_seen_
  std::function<void()> on_cancel_;
  bool cancel_seen_ = false;
  std::condition_variable_any heartbeat_cv_;
  std::jthread heartbeat_;
};

}  // namespace

std::unique_ptr<Backend> MakeEphemeralBackend(core::RetryPolicy flow_retry_policy) {
  return std::make_unique<EphemeralBackend>(std::move(flow_retry_policy));
}

std::unique_ptr<Backend> MakeServerBackend(client::Client& client, std::string flow_run_id,
                                           std::optional<core::State> current_state,
                                           bool stop_on_cancel) {
  return std::make_unique<ServerBackend>(client, std::move(flow_run_id), std::move(current_state),
                                         stop_on_cancel);
}

}  // namespace weft::detail
