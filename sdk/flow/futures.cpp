// Futures of submitted task runs, task inputs, and states returned as values.
#include "sdk/flow/futures.hpp"

#include <chrono>

#include "sdk/flow/internal.hpp"
#include "sdk/flow/task_runner.hpp"

namespace weft {

namespace {
core::TimePoint Now() { return std::chrono::system_clock::now(); }
}  // namespace

core::State Completed(std::string message) { return core::Completed(Now(), std::move(message)); }
core::State Failed(std::string message, std::string details_json) {
  return core::Failed(Now(), std::move(message), std::move(details_json));
}
core::State Cancelled(std::string message) { return core::Cancelled(Now(), std::move(message)); }

namespace detail {

std::string FutureCore::task_run_id() const {
  std::lock_guard lock(mu_);
  return id_;
}
std::string FutureCore::task_run_name() const {
  std::lock_guard lock(mu_);
  return name_;
}
void FutureCore::SetIdentity(std::string id, std::string name) {
  std::lock_guard lock(mu_);
  id_ = std::move(id);
  name_ = std::move(name);
}

void FutureCore::SetPendingJob(std::shared_ptr<PendingJob> job) {
  std::lock_guard lock(mu_);
  if (!done_) pending_ = std::move(job);
}

core::State FutureCore::Wait() const {
  if (InPoolWorker()) {
    std::shared_ptr<PendingJob> job;
    {
      std::lock_guard lock(mu_);
      if (!done_) job = pending_;
    }
    if (job) job->TryRun();  // still queued: run it here rather than wait for a worker
  }
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return done_; });
  return *state_;
}

core::State FutureCore::Current() const {
  std::lock_guard lock(mu_);
  return state_ ? *state_ : core::Pending(Now());
}

bool FutureCore::done() const {
  std::lock_guard lock(mu_);
  return done_;
}

bool FutureCore::failed() const {
  std::lock_guard lock(mu_);
  return done_ && (error_ || (state_ && state_->type != core::StateType::kCompleted));
}

std::exception_ptr FutureCore::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void FutureCore::SetState(const core::State& state) {
  std::lock_guard lock(mu_);
  if (!done_) state_ = state;
}

void FutureCore::Finish(core::State final_state, std::exception_ptr error) {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lock(mu_);
    state_ = std::move(final_state);
    error_ = std::move(error);
    done_ = true;
    pending_.reset();
    callbacks.swap(on_done_);
  }
  cv_.notify_all();
  for (auto& fn : callbacks) fn();
}

void FutureCore::OnDone(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!done_) {
      on_done_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

std::string TaskInputsJson(const std::vector<Dep>& deps) {
  if (deps.empty()) return "";
  std::string args, waits;
  for (const auto& d : deps) {
    std::string id = d.core->task_run_id();
    std::string item = "{\"task_run_id\":\"" + id + "\"";
    if (d.arg >= 0) item += ",\"arg\":" + std::to_string(d.arg);
    if (d.allow_failure) item += ",\"allow_failure\":true";
    item += "}";
    std::string& list = d.arg >= 0 ? args : waits;
    if (!list.empty()) list += ",";
    list += item;
  }
  return "{\"args\":[" + args + "],\"wait_for\":[" + waits + "]}";
}

std::string UpstreamProblem(const std::vector<Dep>& deps) {
  std::string problem;
  for (const auto& d : deps) {
    if (d.allow_failure || !d.core->failed()) continue;
    core::State s = d.core->Current();
    d.core->MarkHandled();  // passed on to this run
    if (!problem.empty()) continue;  // the first one explains it
    problem = "upstream task run '" + d.core->task_run_name() + "' ended " + s.name;
    if (!s.message.empty()) problem += ": " + s.message;
  }
  return problem;
}

std::string AwaitDeps(const std::vector<Dep>& deps) {
  for (const auto& d : deps) d.core->Wait();
  return UpstreamProblem(deps);
}

void PrepareNextCall(std::string inputs_json, std::string upstream_failure) {
  auto call = std::make_shared<CallContext>();
  call->inputs_json = std::move(inputs_json);
  call->upstream_failure = std::move(upstream_failure);
  SetNextCall(std::move(call));
}

void ReturnState(TaskContext& ctx, const core::State& state) { ctx.returned_state_ = state; }
void ReturnFlowState(FlowContext& ctx, const core::State& state) { ctx.returned_state_ = state; }

}  // namespace detail
}  // namespace weft
