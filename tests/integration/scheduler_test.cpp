// The scheduler on real PostgreSQL with an injected FakeClock: materialising ahead,
// idempotency across instances, re-creation of deployments, catch-up after an outage.
#include "server/services/scheduler.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <thread>

#include "server/orchestration/deployment_manager.hpp"
#include "server/orchestration/storage_catalog.hpp"
#include "tests/integration/test_database.hpp"

using namespace weft;
using namespace std::chrono_literals;
using server::orchestration::DeploymentInput;
using server::orchestration::DeploymentKey;
using server::services::Scheduler;
using server::services::SchedulerOptions;

namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

// A whole hour, so hourly interval schedules anchored at it line up with the clock.
core::TimePoint HourFloor(core::TimePoint t) { return std::chrono::floor<std::chrono::hours>(t); }

struct World {
  test::TestDatabase t;
  server::orchestration::StorageCatalog storage{t.db(), 1 << 20, nullptr};
  server::orchestration::DeploymentManager deployments{t.orchestrator(), t.runs(), nullptr};
  core::TimePoint t0;

  World() {
    t0 = HourFloor(t.clock().Now()) + 30min;
    t.clock().Set(t0);
    server::orchestration::StorageSpec s{"flows", "local", {{"path", "/srv/flows"}}, false};
    auto r = storage.Create(s);
    REQUIRE(r.ok());
  }

  SchedulerOptions Options() {
    SchedulerOptions o;
    o.use_lease = false;
    return o;
  }

  DeploymentInput Input(const std::string& name, core::ScheduleSpec schedule,
                        const std::string& policy = "latest", double max_lateness = 0) {
    DeploymentInput in;
    in.spec.name = name;
    in.spec.flow_name = "etl";
    in.spec.entrypoint = {"./etl"};
    in.spec.storage = "flows";
    in.spec.schedule = std::move(schedule);
    in.spec.parameters_json = R"({"n":1})";
    in.spec.tags = {"nightly"};
    in.spec.work_queue = "etl";
    in.spec.catchup.policy = policy == "all"    ? core::CatchupPolicy::kAll
                             : policy == "none" ? core::CatchupPolicy::kNone
                                                : core::CatchupPolicy::kLatest;
    in.spec.catchup.max_lateness_seconds = max_lateness;
    in.bundle_digest = kDigest;
    in.bundle_size = 10;
    return in;
  }

  core::IntervalSchedule Hourly() {
    core::IntervalSchedule i;
    i.interval_seconds = 3600;
    i.anchor = HourFloor(t0);
    return i;
  }

  std::string Create(const DeploymentInput& in) {
    auto r = deployments.Upsert(in);
    if (!r.ok()) FAIL(r.error().message);
    return r->deployment.record.id;
  }

  std::vector<server::store::FlowRunRecord> Runs(const std::string& deployment_id) {
    server::store::FlowRunFilter f;
    f.deployment_id = deployment_id;
    f.oldest_first = true;
    f.limit = 10000;
    auto r = t.runs().ListFlowRuns(f);
    REQUIRE(r.ok());
    return *r;
  }
};

core::TimePoint TimeOf(const server::store::FlowRunRecord& r) {
  return r.run.expected_start_time.value_or(core::TimePoint{});
}

}  // namespace

TEST_CASE("the scheduler keeps min_runs and min_time ahead, idempotently", "[scheduler]") {
  World w;
  auto id = w.Create(w.Input("hourly", w.Hourly()));
  Scheduler s(w.t.orchestrator(), w.Options(), nullptr);
  auto p = s.RunPass();
  REQUIRE(p.ok());
  CHECK(p->runs_created == 3);
  auto runs = w.Runs(id);
  REQUIRE(runs.size() == 3);
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    CHECK(TimeOf(r) == HourFloor(w.t0) + std::chrono::hours(i + 1));
    CHECK(r.auto_scheduled);
    CHECK(r.deployment_id == id);
    CHECK(r.deployment_name == "etl/hourly");
    CHECK(r.work_queue == "etl");
    CHECK(r.tags == std::vector<std::string>{"nightly"});
    CHECK(r.parameters_json == R"({"n": 1})");
    REQUIRE(r.run.state);
    CHECK(r.run.state->name == "Scheduled");
    CHECK(r.idempotency_key == "auto:" + id + ":" + core::FormatTime(TimeOf(r)));
    auto history = w.t.runs().ListFlowRunStates(r.run.id);
    REQUIRE(history.ok());
    REQUIRE(history->size() == 1);
    CHECK((*history)[0].state.name == "Scheduled");
  }
  // Nothing changed: a second pass and a restarted scheduler add nothing.
  auto again = s.RunPass();
  REQUIRE(again.ok());
  CHECK(again->runs_created == 0);
  Scheduler restarted(w.t.orchestrator(), w.Options(), nullptr);
  auto fresh = restarted.RunPass();
  REQUIRE(fresh.ok());
  CHECK(fresh->runs_created == 0);
  // An hour later one more run keeps three ahead.
  w.t.clock().Advance(1h);
  auto later = s.RunPass();
  REQUIRE(later.ok());
  CHECK(later->runs_created == 1);
  CHECK(w.Runs(id).size() == 4);
}

TEST_CASE("max_runs bounds a fast schedule; min_time fills a slow hour", "[scheduler]") {
  World w;
  core::IntervalSchedule every_minute;
  every_minute.interval_seconds = 60;
  auto fast = w.Create(w.Input("fast", every_minute));
  SchedulerOptions o = w.Options();
  o.max_runs = 20;
  Scheduler s(w.t.orchestrator(), o, nullptr);
  REQUIRE(s.RunPass().ok());
  CHECK(w.Runs(fast).size() == 20);  // 1 h would need 60

  World w2;
  auto fast2 = w2.Create(w2.Input("fast", every_minute));
  Scheduler s2(w2.t.orchestrator(), w2.Options(), nullptr);
  REQUIRE(s2.RunPass().ok());
  auto runs = w2.Runs(fast2);
  CHECK(runs.size() == 60);  // every minute within the next hour
  CHECK(TimeOf(runs.back()) <= w2.t0 + 1h);
}

TEST_CASE("two scheduler instances running passes at once never duplicate a run", "[scheduler]") {
  World w;
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    core::IntervalSchedule every;
    every.interval_seconds = 600 + 60 * (i % 5);
    ids.push_back(w.Create(w.Input("d" + std::to_string(i), every)));
  }
  Scheduler a(w.t.orchestrator(), w.Options(), nullptr);
  Scheduler b(w.t.orchestrator(), w.Options(), nullptr);
  std::atomic<int> created{0};
  std::atomic<int> failures{0};
  auto run = [&](Scheduler& s) {
    for (int k = 0; k < 4; ++k) {
      auto r = s.RunPass();
      if (r.ok()) {
        created += r->runs_created;
      } else {
        ++failures;
      }
    }
  };
  std::thread ta(run, std::ref(a));
  std::thread tb(run, std::ref(b));
  ta.join();
  tb.join();
  CHECK(failures == 0);
  int total = 0;
  for (const auto& id : ids) {
    std::map<core::TimePoint, int> per_time;
    for (const auto& r : w.Runs(id)) ++per_time[TimeOf(r)];
    for (const auto& [t, n] : per_time) {
      INFO("deployment " << id << " time " << core::FormatTime(t));
      CHECK(n == 1);
    }
    CHECK(per_time.size() >= 3);
    total += static_cast<int>(per_time.size());
  }
  CHECK(created == total);
}

TEST_CASE("the leader lease lets one scheduler instance work at a time", "[scheduler]") {
  World w;
  w.Create(w.Input("hourly", w.Hourly()));
  SchedulerOptions oa = w.Options();
  oa.use_lease = true;
  oa.holder = "replica-a";
  SchedulerOptions ob = oa;
  ob.holder = "replica-b";
  Scheduler a(w.t.orchestrator(), oa, nullptr);
  Scheduler b(w.t.orchestrator(), ob, nullptr);
  auto pa = a.RunPass();
  auto pb = b.RunPass();
  REQUIRE(pa.ok());
  REQUIRE(pb.ok());
  CHECK(pa->leader);
  CHECK_FALSE(pb->leader);
  // The holder stops renewing (crash): after the lease expires the other one takes over.
  w.t.clock().Advance(2min);
  auto pb2 = b.RunPass();
  REQUIRE(pb2.ok());
  CHECK(pb2->leader);
  auto pa2 = a.RunPass();
  REQUIRE(pa2.ok());
  CHECK_FALSE(pa2->leader);
}

TEST_CASE(
    "re-creating a deployment keeps manual and Late runs and replaces non-matching "
    "future auto runs",
    "[scheduler][deployments]") {
  World w;
  auto in = w.Input("hourly", w.Hourly());
  auto id = w.Create(in);
  Scheduler s(w.t.orchestrator(), w.Options(), nullptr);
  REQUIRE(s.RunPass().ok());
  auto runs = w.Runs(id);
  REQUIRE(runs.size() == 3);  // +1h, +2h, +3h from the hour
  // A manual run, and the first auto run marked Late.
  server::orchestration::ManualRun manual;
  manual.start_time = w.t0 + 20min;
  auto m = w.deployments.Run(DeploymentKey{id, ""}, manual);
  REQUIRE(m.ok());
  auto late = w.t.orchestrator().SetState(core::orchestration::RunKind::kFlowRun, runs[0].run.id,
                                          core::Late(w.t.clock().Now(), TimeOf(runs[0])), false);
  REQUIRE(late.ok());
  REQUIRE(late->outcome.decision == core::orchestration::Decision::kAccept);

  // Every 90 minutes from the same anchor: +3h is still a time of the schedule, +2h is not.
  auto every90 = w.Hourly();
  every90.interval_seconds = 5400;
  in.spec.schedule = every90;
  auto up = w.deployments.Upsert(in);
  REQUIRE(up.ok());
  CHECK_FALSE(up->created);
  CHECK(up->replaced_runs == 1);
  std::set<core::TimePoint> times;
  for (const auto& r : w.Runs(id)) times.insert(TimeOf(r));
  const auto hour = HourFloor(w.t0);
  CHECK(times == std::set<core::TimePoint>{w.t0 + 20min, hour + 1h, hour + 3h});

  // The scheduler fills in the new schedule's times.
  REQUIRE(s.RunPass().ok());
  times.clear();
  for (const auto& r : w.Runs(id)) times.insert(TimeOf(r));
  CHECK(times.count(hour + 90min) == 1);
  CHECK(times.count(hour + 3h) == 1);
  CHECK(times.count(hour + 2h) == 0);

  // Different parameters: every plain Scheduled future auto run is replaced; manual and
  // Late ones stay.
  in.spec.parameters_json = R"({"n":2})";
  auto up2 = w.deployments.Upsert(in);
  REQUIRE(up2.ok());
  int manual_left = 0, late_left = 0, auto_left = 0;
  for (const auto& r : w.Runs(id)) {
    if (!r.auto_scheduled) ++manual_left;
    if (r.run.state && r.run.state->name == "Late") ++late_left;
    if (r.auto_scheduled && r.run.state && r.run.state->name == "Scheduled") ++auto_left;
  }
  CHECK(up2->replaced_runs >= 2);
  CHECK(manual_left == 1);
  CHECK(late_left == 1);
  CHECK(auto_left == 0);
  REQUIRE(s.RunPass().ok());
  for (const auto& r : w.Runs(id)) {
    if (r.auto_scheduled && r.run.state->name == "Scheduled") {
      CHECK(r.parameters_json == R"({"n": 2})");
    }
  }
}

TEST_CASE("catch-up policies after an outage: all, latest, none, max_lateness", "[scheduler]") {
  World w;
  auto all = w.Create(w.Input("all", w.Hourly(), "all"));
  auto latest = w.Create(w.Input("latest", w.Hourly(), "latest"));
  auto none = w.Create(w.Input("none", w.Hourly(), "none"));
  auto lateness = w.Create(w.Input("lateness", w.Hourly(), "all", 2.5 * 3600));
  Scheduler s(w.t.orchestrator(), w.Options(), nullptr);
  REQUIRE(s.RunPass().ok());  // +1h, +2h, +3h each
  for (const auto& id : {all, latest, none, lateness}) CHECK(w.Runs(id).size() == 3);

  // The server is down for ten hours.
  w.t.clock().Advance(10h);
  Scheduler after(w.t.orchestrator(), w.Options(), nullptr);
  auto p = after.RunPass();
  REQUIRE(p.ok());
  const auto hour = HourFloor(w.t0);
  auto summarize = [&](const std::string& id) {
    std::map<int, std::string> by_hour;  // hours after `hour` -> state name
    for (const auto& r : w.Runs(id)) {
      int h = static_cast<int>(
          std::chrono::duration_cast<std::chrono::hours>(TimeOf(r) - hour).count());
      by_hour[h] = r.run.state->name;
      if (r.run.state->name == "Cancelled") {
        CHECK_THAT(r.run.state->message, Catch::StartsWith("skipped by catch-up policy"));
      }
    }
    return by_hour;
  };
  using M = std::map<int, std::string>;
  const std::string S = "Scheduled", C = "Cancelled";
  // Missed: +1..+3 (materialised) and +4..+10 (never made; +10 is 30 min ago).
  // Ahead of now (+10h30m): +11, +12, +13.
  CHECK(summarize(all) == M{{1, S},
                            {2, S},
                            {3, S},
                            {4, S},
                            {5, S},
                            {6, S},
                            {7, S},
                            {8, S},
                            {9, S},
                            {10, S},
                            {11, S},
                            {12, S},
                            {13, S}});
  CHECK(summarize(latest) == M{{1, C}, {2, C}, {3, C}, {10, S}, {11, S}, {12, S}, {13, S}});
  CHECK(summarize(none) == M{{1, C}, {2, C}, {3, C}, {11, S}, {12, S}, {13, S}});
  // max_lateness 2.5 h: missed times before +8h are skipped.
  CHECK(summarize(lateness) ==
        M{{1, C}, {2, C}, {3, C}, {8, S}, {9, S}, {10, S}, {11, S}, {12, S}, {13, S}});
  for (const auto& r : w.Runs(latest)) {
    if (r.run.state->name == "Cancelled") {
      CHECK(r.run.state->message == "skipped by catch-up policy latest");
    }
  }
  // A second pass changes nothing.
  auto again = after.RunPass();
  REQUIRE(again.ok());
  CHECK(again->runs_created == 0);
  CHECK(again->runs_cancelled == 0);
}

TEST_CASE("a new deployment starts from its creation time, never the anchor's past",
          "[scheduler]") {
  World w;
  auto id = w.Create(w.Input("old-anchor", w.Hourly(), "all"));  // anchor hours ago
  Scheduler s(w.t.orchestrator(), w.Options(), nullptr);
  REQUIRE(s.RunPass().ok());
  auto runs = w.Runs(id);
  REQUIRE(runs.size() == 3);
  CHECK(TimeOf(runs.front()) > w.t0);
}

TEST_CASE("pausing removes future auto runs; resuming materialises them again", "[scheduler]") {
  World w;
  auto id = w.Create(w.Input("hourly", w.Hourly()));
  Scheduler s(w.t.orchestrator(), w.Options(), nullptr);
  REQUIRE(s.RunPass().ok());
  server::orchestration::ManualRun manual;
  REQUIRE(w.deployments.Run(DeploymentKey{id, ""}, manual).ok());
  REQUIRE(w.Runs(id).size() == 4);
  auto paused = w.deployments.SetPaused(DeploymentKey{"", "etl/hourly"}, true);
  REQUIRE(paused.ok());
  CHECK(paused->record.paused);
  auto left = w.Runs(id);
  REQUIRE(left.size() == 1);
  CHECK_FALSE(left[0].auto_scheduled);
  REQUIRE(s.RunPass().ok());
  CHECK(w.Runs(id).size() == 1);
  w.t.clock().Advance(5h);  // paused times are not caught up
  REQUIRE(w.deployments.SetPaused(DeploymentKey{"", "etl/hourly"}, false).ok());
  auto p = s.RunPass();
  REQUIRE(p.ok());
  CHECK(p->runs_created == 3);
  CHECK(p->runs_cancelled == 0);
  CHECK(p->missed_skipped == 0);
}
