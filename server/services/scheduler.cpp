#include "server/services/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <set>
#include <thread>

#include "server/orchestration/deployment_manager.hpp"
#include "server/store/deployment_repo.hpp"

namespace weft::server::services {

namespace {

using core::TimePoint;
constexpr auto kTick = std::chrono::microseconds(1);
// Bounds on the work one deployment may cause in one pass.
constexpr std::size_t kNextChunk = 1000;
constexpr int kMaxMissedChunks = 100;        // at most 100,000 missed times looked at
constexpr std::size_t kParallelRows = 2000;  // smaller passes write in one transaction

struct Missed {
  TimePoint time{};
  const store::ScheduledRunRow* run = nullptr;  // null: not materialised yet
};

}  // namespace

Scheduler::Scheduler(orchestration::Orchestrator& orch, SchedulerOptions options,
                     std::shared_ptr<spdlog::logger> logger)
    : LoopService("scheduler", options.interval_seconds, std::move(logger)),
      orch_(orch),
      options_(std::move(options)) {
  if (options_.use_lease) {
    double ttl = std::max(30.0, 3 * options_.interval_seconds);
    lease_ =
        std::make_unique<LeaderLease>(orch_.db(), orch_.clock(), "scheduler", ttl, options_.holder);
  }
  if (options_.listen) {
    listener_ = std::make_unique<store::NotificationListener>(
        orch_.db().options().url, store::kDeploymentsChannel,
        [this](const std::string&) { Wake(); }, logger_ptr());
  }
}

Scheduler::~Scheduler() {
  listener_.reset();
  Stop();
  if (lease_) lease_->Release();
}

void Scheduler::RunOnce(std::stop_token) {
  auto started = std::chrono::steady_clock::now();
  auto r = RunPass();
  if (options_.on_pass) {
    options_.on_pass(
        r, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (!r.ok()) {
    logger().warn("scheduler pass failed error=\"{}\"", r.error().message);
  } else if (r->runs_created > 0 || r->runs_cancelled > 0 || r->missed_skipped > 0) {
    logger().info(
        "scheduler pass deployments={} runs_created={} missed_skipped={} runs_cancelled={}",
        r->deployments, r->runs_created, r->missed_skipped, r->runs_cancelled);
  }
}

const core::Schedule* Scheduler::ScheduleOf(const store::DeploymentRecord& d) {
  auto it = cache_.find(d.id);
  if (it != cache_.end() && it->second.revision == d.revision) {
    return it->second.schedule ? &*it->second.schedule : nullptr;
  }
  Compiled c;
  c.revision = d.revision;
  auto spec = orchestration::ScheduleFromJson(d.schedule_json);
  if (spec.ok()) {
    auto compiled = core::Schedule::Compile(*spec);
    if (compiled.ok()) {
      c.schedule = std::move(*compiled);
    } else {
      logger().warn("deployment schedule does not compile id={} error=\"{}\"", d.id,
                    compiled.error().message);
    }
  }
  auto& slot = cache_[d.id];
  slot = std::move(c);
  return slot.schedule ? &*slot.schedule : nullptr;
}

core::Result<PassStats> Scheduler::RunPass() {
  std::lock_guard pass_lock(pass_mu_);
  struct Count {
    std::atomic<std::uint64_t>& n;
    ~Count() { ++n; }
  } count_pass{passes_};
  PassStats stats;
  if (lease_ && !lease_->Hold()) {
    stats.leader = false;
    return stats;
  }
  auto& db = orch_.db();
  using Steady = std::chrono::steady_clock;
  auto mark = Steady::now();
  auto lap = [&mark](double& into) {
    auto t = Steady::now();
    into = std::chrono::duration<double, std::milli>(t - mark).count();
    mark = t;
  };
  const TimePoint now = orch_.clock().Now();
  const TimePoint missed_until = now - core::FromSeconds(options_.grace_seconds) - kTick;
  const TimePoint min_horizon = now + core::FromSeconds(options_.min_time_seconds);
  const TimePoint max_horizon = now + core::FromSeconds(options_.max_time_seconds);
  const std::size_t max_runs = static_cast<std::size_t>(std::max(1, options_.max_runs));
  const std::size_t min_runs = static_cast<std::size_t>(std::max(0, options_.min_runs));

  struct Loaded {
    std::vector<store::DeploymentRecord> active;
    std::vector<store::ScheduledRunRow> missed;
    std::vector<int> ahead;  // auto runs already in (now - grace, last_scheduled_time]
  };
  auto loaded = db.WithTransaction([&](store::Tx& tx) -> core::Result<Loaded> {
    Loaded l;
    l.active = store::DeploymentRepo::ListActive(tx);  // by id
    l.missed = store::DeploymentRepo::MissedAutoRuns(tx, missed_until + kTick);
    std::vector<std::string> ids;
    std::vector<TimePoint> upto;
    ids.reserve(l.active.size());
    upto.reserve(l.active.size());
    for (const auto& d : l.active) {
      ids.push_back(d.id);
      upto.push_back(std::max(d.last_scheduled_time.value_or(d.created), missed_until));
    }
    l.ahead = store::DeploymentRepo::CountAutoRuns(tx, ids, upto, missed_until);
    return l;
  });
  if (!loaded.ok()) return loaded.error();
  lap(stats.load_ms);
  auto& active = loaded->active;
  std::map<std::string, std::vector<const store::ScheduledRunRow*>> missed_runs;
  for (const auto& m : loaded->missed) missed_runs[m.deployment_id].push_back(&m);
  // Forget schedules of deployments that are no longer active.
  {
    std::set<std::string> ids;
    for (const auto& d : active) ids.insert(d.id);
    std::erase_if(cache_, [&](const auto& kv) { return !ids.count(kv.first); });
  }
  stats.deployments = static_cast<int>(active.size());

  std::vector<store::AutoRunRow> rows;
  std::vector<store::DeploymentRepo::Advance> advances;
  std::vector<std::pair<std::size_t, std::size_t>> advance_rows;  // [begin, end) in rows
  std::vector<std::pair<std::string, std::string>> cancels;       // run id, message

  for (std::size_t di = 0; di < active.size(); ++di) {
    const auto& d = active[di];
    const core::Schedule* schedule = ScheduleOf(d);
    if (!schedule) continue;
    const std::size_t row_begin = rows.size();
    const TimePoint last = d.last_scheduled_time.value_or(d.created);
    TimePoint new_last = last;
    const double lateness = d.max_lateness_seconds;
    std::optional<TimePoint> floor;
    if (lateness > 0) floor = now - core::FromSeconds(lateness);

    // 1. Missed times never materialised: schedule times in (last, now - grace).
    std::deque<TimePoint> missed_new;
    if (last < missed_until) {
      TimePoint after = last;
      if (floor && *floor - kTick > after) {
        // Times before the lateness floor are skipped without looking at them one by one.
        after = std::min(*floor - kTick, missed_until);
        new_last = std::max(new_last, after);
      }
      for (int chunk = 0; chunk < kMaxMissedChunks && after < missed_until; ++chunk) {
        auto times = schedule->Next(after, kNextChunk, missed_until);
        for (auto t : times) {
          missed_new.push_back(t);
          if (missed_new.size() > max_runs) {
            missed_new.pop_front();
            ++stats.missed_skipped;
          }
        }
        if (times.empty()) break;
        after = times.back();
        new_last = std::max(new_last, after);
        if (times.size() < kNextChunk) break;
      }
    }

    // 2. The catch-up policy over all missed times (new and already materialised).
    std::vector<Missed> missed;
    for (auto t : missed_new) missed.push_back({t, nullptr});
    if (auto it = missed_runs.find(d.id); it != missed_runs.end()) {
      for (const auto* r : it->second) missed.push_back({r->expected_start_time, r});
    }
    if (!missed.empty()) {
      std::sort(missed.begin(), missed.end(),
                [](const Missed& a, const Missed& b) { return a.time < b.time; });
      std::size_t keep = d.catchup_policy == "all" ? max_runs : d.catchup_policy == "none" ? 0 : 1;
      const std::string policy_msg = "skipped by catch-up policy " + d.catchup_policy;
      std::size_t kept = 0;
      for (std::size_t i = missed.size(); i-- > 0;) {
        const Missed& m = missed[i];
        bool too_late = floor && m.time < *floor;
        bool run = !too_late && kept < keep;
        if (run) {
          ++kept;
          if (!m.run) rows.push_back(orchestration::MakeAutoRun(orch_, d, m.time, now, ""));
          continue;
        }
        if (m.run) {
          cancels.emplace_back(m.run->id, too_late ? policy_msg + " (later than max_lateness " +
                                                         core::FormatDuration(lateness) + ")"
                                                   : policy_msg);
        } else {
          ++stats.missed_skipped;
        }
      }
    }

    // 3. Runs ahead: at least min_runs and min_time, at most max_runs and max_time. Those
    // up to `start` exist already (counted in the database); times after it are offered
    // again (an existing one is a no-op conflict) so each counts once.
    const TimePoint start = std::max(last, missed_until);
    std::size_t ahead = static_cast<std::size_t>(loaded->ahead[di]);
    TimePoint after = start;
    bool done = false;
    while (!done && ahead < max_runs) {
      std::size_t want = std::min<std::size_t>(max_runs - ahead, 64);
      auto times = schedule->Next(after, want, max_horizon);
      for (auto t : times) {
        if (ahead >= min_runs && t > min_horizon) {
          done = true;
          break;
        }
        rows.push_back(orchestration::MakeAutoRun(orch_, d, t, now, ""));
        ++ahead;
        new_last = std::max(new_last, t);
      }
      if (times.size() < want) break;
      after = times.back();
    }
    if (new_last > last) {
      advances.push_back({d.id, d.revision, new_last});
      advance_rows.emplace_back(row_begin, rows.size());
    }
  }
  stats.runs_planned = static_cast<int>(rows.size());
  lap(stats.plan_ms);

  // 4. Per group of deployments one transaction: advance the deployments still at the
  // revision we planned for (locks them in id order, so a concurrent pause or update waits
  // and then sees our runs), then the multi-row inserts of their runs. Big passes write
  // several groups at once (disjoint deployments, so the transactions do not conflict).
  if (!advances.empty()) {
    const int groups = rows.size() >= kParallelRows ? std::max(1, options_.write_parallelism) : 1;
    std::vector<core::Result<int>> results(groups, core::Result<int>(0));
    auto write_group = [&](int g) {
      const std::size_t a0 = advances.size() * g / groups;
      const std::size_t a1 = advances.size() * (g + 1) / groups;
      if (a0 == a1) return;
      std::vector<store::DeploymentRepo::Advance> mine(advances.begin() + a0,
                                                       advances.begin() + a1);
      results[g] = db.WithRetry([&](store::Tx& tx) -> core::Result<int> {
        auto valid_ids = store::DeploymentRepo::AdvanceScheduled(tx, mine);
        std::set<std::string> valid(valid_ids.begin(), valid_ids.end());
        std::vector<store::AutoRunRow> batch;
        int inserted = 0;
        auto flush = [&] {
          inserted += static_cast<int>(store::DeploymentRepo::InsertAutoRuns(tx, batch).size());
          batch.clear();
        };
        for (std::size_t k = a0; k < a1; ++k) {
          if (!valid.count(advances[k].id)) continue;
          for (std::size_t r = advance_rows[k].first; r < advance_rows[k].second; ++r) {
            batch.push_back(rows[r]);
            if (batch.size() >= std::max<std::size_t>(1, options_.insert_batch)) flush();
          }
        }
        if (!batch.empty()) flush();
        return inserted;
      });
    };
    std::vector<std::thread> helpers;
    for (int g = 1; g < groups; ++g) helpers.emplace_back(write_group, g);
    write_group(0);
    for (auto& t : helpers) t.join();
    for (const auto& r : results) {
      if (!r.ok()) return r.error();
      stats.runs_created += *r;
    }
  }
  lap(stats.write_ms);

  // 5. Materialised missed runs skipped by the policy: Cancelled through the one door.
  for (const auto& [id, message] : cancels) {
    auto r = orch_.SetState(core::orchestration::RunKind::kFlowRun, id,
                            core::Cancelled(now, message), false);
    if (r.ok() && r->outcome.decision == core::orchestration::Decision::kAccept) {
      ++stats.runs_cancelled;
    }
  }
  lap(stats.cancel_ms);
  return stats;
}

}  // namespace weft::server::services
