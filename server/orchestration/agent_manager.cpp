#include "server/orchestration/agent_manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "sdk/core/names.hpp"
#include "sdk/core/bounds.hpp"
#include "server/orchestration/validate.hpp"
#include "server/store/deployment_repo.hpp"
#include "server/store/flow_run_repo.hpp"
#include "server/store/notification_listener.hpp"
#include "server/store/work_queue_repo.hpp"

namespace weft::server::orchestration {

using core::orchestration::Decision;
using core::orchestration::DecisionName;

struct AgentManager::Waiter {
  enum class Phase { kQueued, kWaiting, kFinished };
  std::uint64_t id = 0;
  std::uint64_t subscription = 0;
  PollRequest req;
  PollDone done;
  Steady::time_point deadline{};
  std::optional<Steady::time_point> due;
  Phase phase = Phase::kQueued;
  bool first = true;
  bool queue_signal = false;
  bool agent_signal = false;
  bool cancelled = false;
};

namespace {

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

// Writes an accepted outcome for a locked flow run (history + row), as SetState does.
void WriteAccepted(store::Tx& tx, store::RunFacts& facts, const Outcome& o) {
  auto ids = store::FlowRunRepo::InsertStates(tx, facts.id, o.to_write);
  Orchestrator::ApplyAccepted(facts, o.to_write);
  facts.run_count = o.run_count;
  if (!ids.empty()) facts.state_id = ids.back();
  store::FlowRunRepo::Update(tx, facts);
}

void LogTransition(spdlog::logger& log, const std::string& id, const std::string& from,
                   const core::State& to, const Outcome& o) {
  log.info("transition kind=flow_run id={} from={} to={} decision={} rule={} reason=\"{}\"", id,
           from, to.name.empty() ? core::DefaultStateName(to.type) : to.name,
           DecisionName(o.decision), o.rule, o.reason);
}

store::AgentRecord ToRecord(const AgentIdentity& a, const std::vector<std::string>& queues) {
  store::AgentRecord r;
  r.id = NormalizeUuid(a.id);
  r.name = AgentDisplayName(a);
  r.hostname = a.hostname;
  r.work_queues = queues;
  std::sort(r.work_queues.begin(), r.work_queues.end());
  r.work_queues.erase(std::unique(r.work_queues.begin(), r.work_queues.end()), r.work_queues.end());
  r.limit = a.limit;
  r.version = a.version;
  return r;
}

}  // namespace

std::string AgentDisplayName(const AgentIdentity& a) {
  if (!a.name.empty()) return a.name;
  if (!a.hostname.empty()) return a.hostname;
  return "agent-" + a.id.substr(0, 8);
}

AgentManager::AgentManager(Orchestrator& orch, AgentOptions options,
                           std::shared_ptr<spdlog::logger> logger)
    : orch_(orch), options_(std::move(options)), logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
  int n = std::max(1, options_.workers);
  for (int i = 0; i < n; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  timer_ = std::jthread([this](std::stop_token st) { TimerLoop(st); });
  if (options_.listen) {
    listener_ = std::make_unique<store::NotificationListener>(
        orch_.db().options().url, store::kDispatchChannel,
        [this](const std::string& payload) { signal_.Dispatch(payload); }, logger_,
        // Notifications sent while the connection was down are lost: claim again.
        [this] { signal_.Dispatch({}); });
  }
}

AgentManager::~AgentManager() {
  listener_.reset();
  ShutdownPolls();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  timer_.request_stop();
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  for (auto& t : workers_) t.join();
}

// ---- claims ---------------------------------------------------------------------------

core::Status AgentManager::CheckPoll(const PollRequest& req) {
  if (req.agent.id.empty()) return core::InvalidArgument("agent.id: required (a UUID)");
  if (!IsUuid(req.agent.id)) {
    return core::InvalidArgument("agent.id: \"" + req.agent.id + "\" is not a UUID");
  }
  if (auto st = core::CheckDisplayName(req.agent.name, "agent.name", false); !st.ok()) return st;
  if (auto st = core::CheckDisplayName(req.agent.hostname, "agent.hostname", false); !st.ok()) {
    return st;
  }
  if (req.agent.limit < 0) {
    return core::InvalidArgument("agent.limit: must be >= 0, got " +
                                 std::to_string(req.agent.limit));
  }
  if (req.work_queues.empty()) {
    return core::InvalidArgument("work_queues: name at least one work queue");
  }
  for (std::size_t i = 0; i < req.work_queues.size(); ++i) {
    if (req.work_queues[i].empty()) {
      return core::InvalidArgument("work_queues[" + std::to_string(i) + "]: must not be empty");
    }
    if (auto st = core::CheckName(req.work_queues[i], "work_queues[" + std::to_string(i) + "]");
        !st.ok()) {
      return st;
    }
  }
  if (req.max_runs < 1 || req.max_runs > kMaxRuns) {
    return core::InvalidArgument("max_runs: must be between 1 and " + std::to_string(kMaxRuns) +
                                 ", got " + std::to_string(req.max_runs));
  }
  if (!std::isfinite(req.wait_seconds) || req.wait_seconds < 0) {
    return core::InvalidArgument("wait_seconds: must be >= 0, got " + Seconds(req.wait_seconds));
  }
  if (!std::isfinite(req.prefetch_seconds) || req.prefetch_seconds < 0 ||
      req.prefetch_seconds > core::bounds::kMaxPrefetchSeconds) {
    return core::InvalidArgument(
        "prefetch_seconds: must be between 0 and " +
        std::to_string(static_cast<int>(core::bounds::kMaxPrefetchSeconds)) + ", got " +
        Seconds(req.prefetch_seconds));
  }
  for (std::size_t i = 0; i < req.runner_types.size(); ++i) {
    const auto& t = req.runner_types[i];
    if (t != "process" && t != "docker" && t != "kubernetes") {
      return core::InvalidArgument("runner_types[" + std::to_string(i) +
                                   "]: must be process, docker or kubernetes, got \"" + t + "\"");
    }
  }
  return {};
}

core::Result<PollResult> AgentManager::Claim(const PollRequest& req, bool record_poll,
                                             std::optional<core::TimePoint>* next_due) {
  if (auto st = CheckPoll(req); !st.ok()) return st.error();
  const std::string agent_id = NormalizeUuid(req.agent.id);
  std::vector<std::string> logs;
  auto result = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<PollResult> {
    logs.clear();
    const core::TimePoint now = orch_.clock().Now();
    const core::TimePoint until = now + core::FromSeconds(req.prefetch_seconds);
    std::vector<store::WorkQueueRecord> queues;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < req.work_queues.size(); ++i) {
      const auto& name = req.work_queues[i];
      if (!seen.insert(name).second) continue;
      auto q = store::WorkQueueRepo::GetByName(tx, name);
      if (!q) {
        return core::NotFound("work_queues[" + std::to_string(i) + "]: work queue \"" + name +
                              "\" not found (run `weft work-queue ls`)");
      }
      queues.push_back(std::move(*q));
    }
    if (record_poll) {
      store::AgentRepo::Upsert(tx, ToRecord(req.agent, req.work_queues), now, true, std::nullopt);
    }
    // Claimers of a limited queue serialise on its row (in name order: no deadlocks).
    std::sort(queues.begin(), queues.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    for (auto& q : queues) {
      if (!q.concurrency_limit || q.paused) continue;
      if (auto locked = store::WorkQueueRepo::LockByName(tx, q.name)) q = std::move(*locked);
    }
    std::stable_sort(queues.begin(), queues.end(),
                     [](const auto& a, const auto& b) { return a.priority < b.priority; });

    PollResult out;
    int remaining = req.max_runs;
    std::vector<store::RunFacts> claimed;
    std::vector<std::optional<core::TimePoint>> dues;
    for (const auto& q : queues) {
      if (remaining <= 0) break;
      if (q.paused) continue;
      int n = remaining;
      if (q.concurrency_limit) {
        n = std::min(n, *q.concurrency_limit - store::WorkQueueRepo::CountActive(tx, q));
      }
      if (n <= 0) continue;
      for (auto& f : store::AgentRepo::LockClaimable(tx, q, until, req.runner_types, n)) {
        std::optional<core::TimePoint> due = f.state ? f.state->scheduled_time : std::nullopt;
        std::string from = f.state ? f.state->name : "none";
        core::State pending = core::Pending(now);
        Outcome o = orch_.Decide(RunKind::kFlowRun, f, pending, false, now);
        if (o.decision == Decision::kWait && o.rule == "WaitForScheduledTime" &&
            o.wait_seconds <= req.prefetch_seconds + 1e-3) {
          // Prefetched: due within the agent's prefetch window; it starts the process then.
          o = orch_.Decide(RunKind::kFlowRun, f, pending, false,
                           now + core::FromSeconds(o.wait_seconds + 1e-6));
        }
        if (o.decision != Decision::kAccept || o.to_write.empty()) {
          logs.push_back("claim skipped flow_run_id=" + f.id +
                         " decision=" + DecisionName(o.decision) + " rule=" + o.rule +
                         " reason=\"" + o.reason + "\"");
          continue;
        }
        WriteAccepted(tx, f, o);
        logs.push_back("transition kind=flow_run id=" + f.id + " from=" + from +
                       " to=Pending decision=ACCEPT agent=" + agent_id + " queue=" + q.name);
        claimed.push_back(f);
        dues.push_back(due);
        --remaining;
      }
    }
    std::vector<std::string> ids;
    for (const auto& f : claimed) ids.push_back(f.id);
    store::AgentRepo::SetOwner(tx, ids, agent_id, now);
    std::map<std::string, std::optional<DeploymentView>> deployments;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto rec = store::FlowRunRepo::Get(tx, ids[i]);
      if (!rec) continue;
      ClaimedRun c;
      c.due = dues[i];
      if (!rec->deployment_id.empty()) {
        auto it = deployments.find(rec->deployment_id);
        if (it == deployments.end()) {
          std::optional<DeploymentView> view;
          if (auto d = store::DeploymentRepo::GetById(tx, rec->deployment_id)) {
            view = DeploymentView{*d, SpecOf(*d)};
          }
          it = deployments.emplace(rec->deployment_id, std::move(view)).first;
        }
        c.deployment = it->second;
      }
      c.run = std::move(*rec);
      out.runs.push_back(std::move(c));
    }
    out.cancel_ids = store::AgentRepo::CancellingRuns(tx, agent_id);
    if (next_due) {
      next_due->reset();
      if (out.runs.empty()) {
        for (const auto& q : queues) {
          if (q.paused) continue;
          auto t = store::AgentRepo::NextDue(tx, q, until, req.runner_types);
          if (t && (!*next_due || *t < **next_due)) *next_due = t;
        }
        // The agent's prefetch: wake when the run enters its window.
        if (*next_due) **next_due -= core::FromSeconds(req.prefetch_seconds);
      }
    }
    return out;
  });
  if (result.ok()) {
    for (const auto& l : logs) logger_->info("{}", l);
  }
  return result;
}

void AgentManager::Release(const AgentIdentity& agent, const std::vector<ClaimedRun>& runs) {
  const std::string agent_id = NormalizeUuid(agent.id);
  for (const auto& c : runs) {
    auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Status {
      auto facts = store::FlowRunRepo::Lock(tx, c.run.run.id);
      if (!facts || !facts->state || facts->state->type != core::StateType::kPending) return {};
      if (store::AgentRepo::OwnerOf(tx, facts->id).agent_id != agent_id) return {};
      core::TimePoint now = orch_.clock().Now();
      core::State back = core::Scheduled(now, c.due.value_or(now), "claim not delivered");
      Outcome o = orch_.Decide(RunKind::kFlowRun, *facts, back, false, now);
      if (o.decision != Decision::kAccept) return {};
      WriteAccepted(tx, *facts, o);
      store::AgentRepo::SetOwner(tx, {facts->id}, std::nullopt, std::nullopt);
      return {};
    });
    if (r.ok()) {
      logger_->info("claim returned flow_run_id={} agent={} reason=\"poll cancelled\"",
                    c.run.run.id, agent_id);
    } else {
      logger_->warn("claim return failed flow_run_id={} error=\"{}\"", c.run.run.id,
                    r.error().message);
    }
  }
}

// ---- long polls -----------------------------------------------------------------------

std::uint64_t AgentManager::StartPoll(PollRequest req, PollDone done) {
  auto w = std::make_shared<Waiter>();
  double wait = std::min(std::max(0.0, req.wait_seconds), options_.max_wait_seconds);
  w->deadline = Steady::now() +
                std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(wait));
  w->done = std::move(done);
  std::vector<std::string> queues = req.work_queues;
  std::string agent_id = IsUuid(req.agent.id) ? NormalizeUuid(req.agent.id) : req.agent.id;
  w->req = std::move(req);
  std::weak_ptr<Waiter> weak = w;
  // Subscribed before the first claim: a run created meanwhile wakes it again.
  w->subscription = signal_.Subscribe(std::move(queues), std::move(agent_id),
                                      [this, weak](DispatchSignal::Reason reason) {
                                        if (auto s = weak.lock()) OnSignal(s, reason);
                                      });
  std::uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    w->id = id;
    if (polls_closed_) w->deadline = Steady::now();
    waiters_.emplace(id, w);
    tasks_.push_back(w);
  }
  work_cv_.notify_one();
  return id;
}

void AgentManager::OnSignal(const std::shared_ptr<Waiter>& w, DispatchSignal::Reason reason) {
  {
    std::lock_guard lock(mu_);
    if (w->phase == Waiter::Phase::kFinished) return;
    if (reason == DispatchSignal::Reason::kAgent) {
      w->agent_signal = true;
    } else {
      w->queue_signal = true;
    }
    if (w->phase != Waiter::Phase::kWaiting) return;  // a claim is queued or running
    w->phase = Waiter::Phase::kQueued;
    tasks_.push_back(w);
  }
  work_cv_.notify_one();
}

void AgentManager::CancelPoll(std::uint64_t id) {
  std::shared_ptr<Waiter> w;
  {
    std::lock_guard lock(mu_);
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    it->second->cancelled = true;
    if (it->second->phase != Waiter::Phase::kWaiting) return;  // the worker answers it
    w = it->second;
    w->phase = Waiter::Phase::kFinished;
    waiters_.erase(it);
  }
  signal_.Unsubscribe(w->subscription);
  w->done(core::Error{core::Code::kCancelled, "poll cancelled by the caller"});
}

void AgentManager::ShutdownPolls() {
  std::vector<std::shared_ptr<Waiter>> answer;
  {
    std::lock_guard lock(mu_);
    polls_closed_ = true;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second->phase == Waiter::Phase::kWaiting) {
        it->second->phase = Waiter::Phase::kFinished;
        answer.push_back(it->second);
        it = waiters_.erase(it);
      } else {
        it->second->deadline = Steady::now();  // queued: answered after its claim
        ++it;
      }
    }
  }
  for (auto& w : answer) {
    signal_.Unsubscribe(w->subscription);
    w->done(PollResult{});
  }
}

std::size_t AgentManager::waiting_polls() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

void AgentManager::Finish(const std::shared_ptr<Waiter>& w, core::Result<PollResult> result) {
  signal_.Unsubscribe(w->subscription);
  w->done(std::move(result));
}

void AgentManager::WorkerLoop() {
  for (;;) {
    std::shared_ptr<Waiter> w;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, nothing left
      w = std::move(tasks_.front());
      tasks_.pop_front();
    }
    Attempt(w);
  }
}

void AgentManager::Attempt(const std::shared_ptr<Waiter>& w) {
  const core::Error cancelled{core::Code::kCancelled, "poll cancelled by the caller"};
  bool first = false;
  bool agent_signal = false;
  {
    std::unique_lock lock(mu_);
    if (w->phase == Waiter::Phase::kFinished) return;
    if (w->cancelled) {  // dropped before its claim ran: claim nothing
      w->phase = Waiter::Phase::kFinished;
      waiters_.erase(w->id);
      lock.unlock();
      Finish(w, cancelled);
      return;
    }
    first = w->first;
    w->first = false;
    agent_signal = w->agent_signal;
    w->agent_signal = false;
    w->queue_signal = false;
  }
  std::optional<core::TimePoint> next_due;
  const core::TimePoint clock_now = orch_.clock().Now();
  auto r = Claim(w->req, first, &next_due);
  enum class Next { kWait, kRequeue, kAnswer, kRelease, kCancelled } next = Next::kAnswer;
  {
    std::lock_guard lock(mu_);
    if (w->cancelled) {
      next = r.ok() && !r->runs.empty() ? Next::kRelease : Next::kCancelled;
    } else if (r.ok() && r->runs.empty() && !(agent_signal && !r->cancel_ids.empty()) &&
               !polls_closed_ && !stopping_ && Steady::now() < w->deadline) {
      if (w->queue_signal || w->agent_signal) {
        next = Next::kRequeue;  // woken while claiming: claim again
        tasks_.push_back(w);
      } else {
        next = Next::kWait;
        w->phase = Waiter::Phase::kWaiting;
        w->due.reset();
        if (next_due) {
          auto delta = *next_due - clock_now;
          w->due = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                       std::max(delta, core::TimePoint::duration::zero()));
        }
        timer_kick_ = true;
      }
    }
    if (next != Next::kWait && next != Next::kRequeue) {
      w->phase = Waiter::Phase::kFinished;
      waiters_.erase(w->id);
    }
  }
  switch (next) {
    case Next::kWait:
      timer_cv_.notify_all();
      return;
    case Next::kRequeue:
      work_cv_.notify_one();
      return;
    case Next::kRelease:
      Release(w->req.agent, r->runs);
      Finish(w, cancelled);
      return;
    case Next::kCancelled:
      Finish(w, cancelled);
      return;
    case Next::kAnswer:
      Finish(w, std::move(r));
      return;
  }
}

void AgentManager::TimerLoop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    auto now = Steady::now();
    auto next = now + std::chrono::seconds(1);
    std::vector<std::shared_ptr<Waiter>> expired;
    bool queued = false;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      auto& w = it->second;
      if (w->phase != Waiter::Phase::kWaiting) {
        ++it;
        continue;
      }
      if (w->deadline <= now) {
        w->phase = Waiter::Phase::kFinished;
        expired.push_back(w);
        it = waiters_.erase(it);
        continue;
      }
      if (w->due && *w->due <= now) {
        w->due.reset();
        w->phase = Waiter::Phase::kQueued;
        tasks_.push_back(w);
        queued = true;
      } else {
        next = std::min(next, w->deadline);
        if (w->due) next = std::min(next, *w->due);
      }
      ++it;
    }
    if (queued) work_cv_.notify_all();
    if (!expired.empty()) {
      lock.unlock();
      for (auto& w : expired) Finish(w, PollResult{});
      lock.lock();
      continue;
    }
    timer_cv_.wait_until(lock, stop, next, [&] { return timer_kick_; });
    timer_kick_ = false;
  }
}

// ---- heartbeats, list, cancel ---------------------------------------------------------

core::Result<HeartbeatResult> AgentManager::Heartbeat(const AgentIdentity& agent,
                                                      const std::vector<std::string>& work_queues,
                                                      const std::vector<std::string>& run_ids) {
  if (agent.id.empty()) return core::InvalidArgument("agent.id: required (a UUID)");
  if (!IsUuid(agent.id)) {
    return core::InvalidArgument("agent.id: \"" + agent.id + "\" is not a UUID");
  }
  if (auto st = core::CheckDisplayName(agent.name, "agent.name", false); !st.ok()) {
    return st.error();
  }
  if (auto st = core::CheckDisplayName(agent.hostname, "agent.hostname", false); !st.ok()) {
    return st.error();
  }
  for (std::size_t i = 0; i < work_queues.size(); ++i) {
    if (auto st = core::CheckName(work_queues[i], "work_queues[" + std::to_string(i) + "]");
        !st.ok()) {
      return st.error();
    }
  }
  const std::string agent_id = NormalizeUuid(agent.id);
  std::vector<std::string> ids;
  for (const auto& id : run_ids) {
    if (IsUuid(id)) ids.push_back(NormalizeUuid(id));
  }
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<HeartbeatResult> {
    core::TimePoint now = orch_.clock().Now();
    store::AgentRepo::Upsert(tx, ToRecord(agent, work_queues), now, false,
                             static_cast<int>(run_ids.size()));
    HeartbeatResult out;
    out.interval_seconds = options_.heartbeat_interval_seconds;
    std::set<std::string> live;
    for (const auto& [id, type] : store::AgentRepo::Heartbeat(tx, agent_id, ids, now)) {
      live.insert(id);
      if (type == core::StateType::kCancelling) out.cancel_ids.push_back(id);
    }
    for (const auto& id : run_ids) {
      if (!IsUuid(id) || !live.count(NormalizeUuid(id))) out.unknown_ids.push_back(id);
    }
    return out;
  });
  return r;
}

core::Result<core::State> AgentManager::FlowRunHeartbeat(const std::string& run_id) {
  auto not_found = core::NotFound("flow run \"" + run_id + "\" not found");
  if (!IsUuid(run_id)) return not_found;
  return orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<core::State> {
    auto s = store::AgentRepo::TouchRun(tx, NormalizeUuid(run_id), orch_.clock().Now());
    if (!s) return not_found;
    if (!*s) return core::FailedPrecondition("flow run \"" + run_id + "\" has no state yet");
    return **s;
  });
}

core::Result<std::vector<store::AgentRecord>> AgentManager::List(double seen_within_seconds,
                                                                 const std::string& work_queue) {
  if (!std::isfinite(seen_within_seconds) || seen_within_seconds < 0) {
    return core::InvalidArgument("seen_within_seconds: must be >= 0");
  }
  if (seen_within_seconds == 0) seen_within_seconds = 3600;
  core::TimePoint after = orch_.clock().Now() - core::FromSeconds(seen_within_seconds);
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::AgentRecord>> {
        return store::AgentRepo::List(tx, after, work_queue);
      });
}

core::Result<std::vector<store::AgentRecord>> AgentManager::ListFirst(
    double seen_within_seconds, const std::string& work_queue, int limit) {
  if (!std::isfinite(seen_within_seconds) || seen_within_seconds < 0) {
    return core::InvalidArgument("seen_within_seconds: must be >= 0");
  }
  if (seen_within_seconds == 0) seen_within_seconds = 3600;
  core::TimePoint after = orch_.clock().Now() - core::FromSeconds(seen_within_seconds);
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::AgentRecord>> {
        return store::AgentRepo::ListFirst(tx, after, work_queue, limit);
      });
}

core::Result<SetStateResult> AgentManager::Cancel(const std::string& run_id,
                                                  const std::string& message) {
  if (!IsUuid(run_id)) return core::NotFound("flow run \"" + run_id + "\" not found");
  if (auto st = core::CheckTextLength(message, "message", core::kMaxStateMessageBytes); !st.ok()) {
    return st.error();
  }
  const std::string id = NormalizeUuid(run_id);
  const std::string text = message.empty() ? "cancelled by user" : message;
  std::string owner_to_wake;
  std::string from;
  core::State proposed;
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<SetStateResult> {
    owner_to_wake.clear();
    auto facts = store::FlowRunRepo::Lock(tx, id);
    if (!facts) return core::NotFound("flow run \"" + id + "\" not found");
    core::TimePoint now = orch_.clock().Now();
    SetStateResult out;
    out.state_id = facts->state_id;
    from = facts->state ? facts->state->name : "none";
    if (facts->state && facts->state->IsTerminal()) {
      return core::FailedPrecondition("flow run " + id + " is already " + facts->state->name);
    }
    store::RunOwner owner = store::AgentRepo::OwnerOf(tx, id);
    bool heartbeating = owner.last_heartbeat && core::ToSeconds(now - *owner.last_heartbeat) <
                                                    options_.heartbeat_timeout_seconds;
    bool live = !owner.agent_id.empty() || heartbeating;
    core::StateType type = facts->state ? facts->state->type : core::StateType::kPending;
    bool not_started = (type == core::StateType::kScheduled || type == core::StateType::kPending) &&
                       owner.agent_id.empty();
    if (type == core::StateType::kCancelling && live) {
      // Already asked; the owner will stop it. Nothing new to write.
      out.outcome.decision = Decision::kAccept;
      out.outcome.state = facts->state;
      out.outcome.run_count = facts->run_count;
      out.outcome.reason = "already cancelling";
      owner_to_wake = owner.agent_id;
      return out;
    }
    proposed = (not_started || !live) ? core::Cancelled(now, text) : core::Cancelling(now, text);
    out.outcome = orch_.Decide(RunKind::kFlowRun, *facts, proposed, false, now);
    if (out.outcome.decision != Decision::kAccept || out.outcome.to_write.empty()) return out;
    WriteAccepted(tx, *facts, out.outcome);
    out.state_id = facts->state_id;
    if (proposed.type == core::StateType::kCancelling && !owner.agent_id.empty()) {
      store::AgentRepo::NotifyAgent(tx, owner.agent_id);  // its poll, on any replica
      owner_to_wake = owner.agent_id;
    }
    return out;
  });
  if (!r.ok()) return r;
  if (!r->outcome.to_write.empty()) LogTransition(*logger_, id, from, proposed, r->outcome);
  if (!owner_to_wake.empty()) signal_.NotifyAgent(owner_to_wake);
  if (auto c = CancelChildren(id); !c.ok()) {
    logger_->warn("cancel cascade failed flow_run_id={} error=\"{}\"", id, c.error().message);
  }
  return r;
}

// Subflow runs of a cancelled run: each non-final child (recursively) is cancelled too. A
// subflow runs inside its parent's process, which its cancellation stops: the child goes to
// Cancelled at once, unless an agent of its own holds it (then Cancelling, and that agent
// is woken). One transaction for the whole tree, locked parent before children.
core::Result<int> AgentManager::CancelChildren(const std::string& parent_id) {
  struct Done {
    std::string id, from;
    core::State to;
    Outcome o;
  };
  std::vector<Done> done;
  std::vector<std::string> agents_to_wake;
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<int> {
    done.clear();
    agents_to_wake.clear();
    core::TimePoint now = orch_.clock().Now();
    int n = 0;
    std::vector<std::pair<std::string, int>> pending{{parent_id, 0}};
    while (!pending.empty()) {
      auto [pid, depth] = pending.back();
      pending.pop_back();
      if (depth > 64) continue;  // a tree this deep is a bug elsewhere; stop here
      for (const auto& child : store::FlowRunRepo::LockActiveChildren(tx, pid)) {
        pending.emplace_back(child, depth + 1);
        auto facts = store::FlowRunRepo::Lock(tx, child);
        if (!facts || (facts->state && facts->state->IsTerminal())) continue;
        store::RunOwner owner = store::AgentRepo::OwnerOf(tx, child);
        std::string text = "cancelled with its parent flow run " + pid;
        core::State proposed =
            owner.agent_id.empty() ? core::Cancelled(now, text) : core::Cancelling(now, text);
        if (facts->state && facts->state->type == core::StateType::kCancelling) {
          proposed = core::Cancelled(now, text);
        }
        std::string from = facts->state ? facts->state->name : "none";
        Outcome o = orch_.Decide(RunKind::kFlowRun, *facts, proposed, false, now);
        if (o.decision != Decision::kAccept || o.to_write.empty()) continue;
        WriteAccepted(tx, *facts, o);
        if (proposed.type == core::StateType::kCancelling) {
          store::AgentRepo::NotifyAgent(tx, owner.agent_id);
          agents_to_wake.push_back(owner.agent_id);
        }
        done.push_back({child, from, proposed, o});
        ++n;
      }
    }
    return n;
  });
  if (r.ok()) {
    for (const auto& d : done) LogTransition(*logger_, d.id, d.from, d.to, d.o);
    for (const auto& a : agents_to_wake) signal_.NotifyAgent(a);
  }
  return r;
}

// Paused runs whose resume deadline passed (by more than kPauseGraceSeconds) -> Failed. The
// flow process itself ends the pause at the deadline (weft::PauseTimedOut, and its Failed
// state); this pass is the backstop for a process that is gone or that caught the exception
// and went on.
core::Result<int> AgentManager::FailExpiredPauses(int limit) {
  std::vector<std::string> failed;
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<int> {
    failed.clear();
    core::TimePoint now = orch_.clock().Now();
    int n = 0;
    core::TimePoint before = now - core::FromSeconds(kPauseGraceSeconds);
    for (auto& f : store::FlowRunRepo::LockExpiredPauses(tx, before, limit)) {
      std::string deadline = f.state && f.state->scheduled_time
                                 ? core::FormatTime(*f.state->scheduled_time)
                                 : core::FormatTime(now);
      core::State s = core::Failed(now, "paused flow run was not resumed before " + deadline,
                                   "{\"pause_deadline\":\"" + deadline + "\"}");
      Outcome o = orch_.Decide(RunKind::kFlowRun, f, s, false, now);
      if (o.decision != Decision::kAccept || o.to_write.empty()) continue;
      WriteAccepted(tx, f, o);
      failed.push_back(f.id);
      ++n;
    }
    return n;
  });
  if (r.ok()) {
    for (const auto& id : failed) {
      logger_->info("transition kind=flow_run id={} from=Paused to=Failed decision=ACCEPT "
                    "reason=\"pause deadline passed\"",
                    id);
    }
  }
  return r;
}

// ---- liveness -------------------------------------------------------------------------

core::Result<int> AgentManager::ReapZombies(int limit) {
  struct Done {
    std::string id, from;
    core::State to;
    Outcome o;
  };
  std::vector<Done> done;
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<int> {
    done.clear();
    core::TimePoint now = orch_.clock().Now();
    core::TimePoint before = now - core::FromSeconds(options_.heartbeat_timeout_seconds);
    int n = 0;
    for (auto& row : store::AgentRepo::LockStale(tx, before, limit)) {
      std::string who = row.owner.agent_id.empty()
                            ? std::string("its flow program")
                            : "agent " + (row.owner.agent_name.empty() ? row.owner.agent_id
                                                                       : row.owner.agent_name);
      core::State crashed =
          core::Crashed(now, "no heartbeat for " + Seconds(options_.heartbeat_timeout_seconds) +
                                 " s from " + who);
      std::string details = "{\"last_heartbeat\":\"" +
                            core::FormatTime(row.owner.last_heartbeat.value_or(now)) + "\"";
      if (!row.owner.agent_id.empty()) details += ",\"agent_id\":\"" + row.owner.agent_id + "\"";
      crashed.details_json = details + "}";
      std::string from = row.facts.state ? row.facts.state->name : "none";
      Outcome o = orch_.Decide(RunKind::kFlowRun, row.facts, crashed, false, now);
      if (o.decision != Decision::kAccept || o.to_write.empty()) {
        // Never retried forever: forget the heartbeat so that the reaper moves on.
        store::AgentRepo::SetOwner(tx, {row.facts.id},
                                   row.owner.agent_id.empty()
                                       ? std::nullopt
                                       : std::optional<std::string>(row.owner.agent_id),
                                   std::nullopt);
        done.push_back({row.facts.id, from, crashed, o});
        continue;
      }
      WriteAccepted(tx, row.facts, o);
      done.push_back({row.facts.id, from, crashed, o});
      ++n;
    }
    return n;
  });
  if (r.ok()) {
    for (const auto& d : done) LogTransition(*logger_, d.id, d.from, d.to, d.o);
  }
  return r;
}

core::Result<int> AgentManager::MarkLate(int limit) {
  std::vector<std::string> marked;
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<int> {
    marked.clear();
    core::TimePoint now = orch_.clock().Now();
    core::TimePoint before = now - core::FromSeconds(options_.late_after_seconds);
    int n = 0;
    for (auto& f : store::AgentRepo::LockLate(tx, before, limit)) {
      if (!f.state || !f.state->scheduled_time) continue;
      Outcome o =
          orch_.Decide(RunKind::kFlowRun, f, core::Late(now, *f.state->scheduled_time), false, now);
      if (o.decision != Decision::kAccept || o.to_write.empty()) continue;
      WriteAccepted(tx, f, o);
      marked.push_back(f.id);
      ++n;
    }
    return n;
  });
  if (r.ok()) {
    for (const auto& id : marked) {
      logger_->info("transition kind=flow_run id={} from=Scheduled to=Late decision=ACCEPT", id);
    }
  }
  return r;
}

}  // namespace weft::server::orchestration
