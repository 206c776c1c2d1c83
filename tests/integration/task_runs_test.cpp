// Task runs: idempotent creation, SetTaskRunState, and the batched ReportTaskRuns path.
#include <catch2/catch.hpp>
#include <numeric>
#include <random>
#include <thread>

#include "tests/integration/test_database.hpp"

using namespace weft;
using core::orchestration::Decision;
using core::orchestration::RunKind;
using server::orchestration::FlowRunSpec;
using server::orchestration::TaskRunReport;
using server::orchestration::TaskRunSpec;

namespace {

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012llx",
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xfff), static_cast<unsigned>(b >> 52),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string NewFlowRun(test::TestDatabase& t) {
  FlowRunSpec spec;
  spec.flow_name = "etl";
  auto r = t.runs().CreateFlowRun(spec);
  REQUIRE(r.ok());
  return r->record.run.id;
}

std::vector<std::string> Names(const std::vector<server::store::StateRecord>& states) {
  std::vector<std::string> out;
  for (const auto& s : states) out.push_back(s.state.name);
  return out;
}

}  // namespace

TEST_CASE("8 threads creating the same task run get the same id", "[task_runs]") {
  test::TestDatabase t;
  std::string flow_run = NewFlowRun(t);
  TaskRunSpec spec;
  spec.flow_run_id = flow_run;
  spec.task_key = "read_trips";
  spec.dynamic_key = "0";
  std::vector<std::string> ids(8);
  std::vector<int> created(8, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = t.runs().CreateTaskRun(spec);
      if (r.ok()) {
        ids[i] = r->record.run.id;
        created[i] = r->created ? 1 : 0;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK_FALSE(ids[0].empty());
  for (const auto& id : ids) CHECK(id == ids[0]);
  CHECK(std::accumulate(created.begin(), created.end(), 0) == 1);
  auto states = t.runs().ListTaskRunStates(ids[0]);
  REQUIRE(states.ok());
  CHECK(Names(*states) == std::vector<std::string>{"Pending"});
  auto fr = t.runs().GetFlowRun(flow_run);
  REQUIRE(fr.ok());
  CHECK(fr->task_run_count == 1);
  auto listed = t.runs().ListTaskRuns(flow_run, std::nullopt, 10);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().name == "read_trips-0");
}

TEST_CASE("creating a task run for an unknown flow run is NOT_FOUND", "[task_runs]") {
  test::TestDatabase t;
  TaskRunSpec spec;
  spec.flow_run_id = NewUuid();
  spec.task_key = "x";
  auto r = t.runs().CreateTaskRun(spec);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kNotFound);
  CHECK_THAT(r.error().message, Catch::Contains(spec.flow_run_id));
}

TEST_CASE("SetTaskRunState goes through the rules, with retries", "[task_runs]") {
  test::TestDatabase t;
  TaskRunSpec spec;
  spec.flow_run_id = NewFlowRun(t);
  spec.task_key = "train";
  spec.retry_policy = core::RetryPolicy::Fixed(1, 0);
  auto tr = t.runs().CreateTaskRun(spec);
  REQUIRE(tr.ok());
  const std::string id = tr->record.run.id;
  auto& o = t.orchestrator();
  auto now = t.clock().Now();
  REQUIRE(o.SetState(RunKind::kTaskRun, id, core::Running(now), false)->outcome.decision ==
          Decision::kAccept);
  auto failed = o.SetState(RunKind::kTaskRun, id, core::Failed(now, "x"), false);
  REQUIRE(failed.ok());
  CHECK(failed->outcome.state->name == "AwaitingRetry");
  REQUIRE(o.SetState(RunKind::kTaskRun, id, core::Retrying(now), false)->outcome.decision ==
          Decision::kAccept);
  REQUIRE(o.SetState(RunKind::kTaskRun, id, core::Completed(now), false)->outcome.decision ==
          Decision::kAccept);
  auto bad = o.SetState(RunKind::kTaskRun, id, core::Running(now), false);
  CHECK(bad->outcome.decision == Decision::kReject);
  CHECK(Names(*t.runs().ListTaskRunStates(id)) ==
        std::vector<std::string>{"Pending", "Running", "Failed", "AwaitingRetry", "Retrying",
                                 "Completed"});
  auto got = t.runs().GetTaskRun(id);
  REQUIRE(got.ok());
  CHECK(got->run.run_count == 2);
  CHECK(got->run.state->name == "Completed");
}

TEST_CASE("ReportTaskRuns stores a batch of 1000 task runs with their histories",
          "[task_runs]") {
  test::TestDatabase t;
  std::string flow_run = NewFlowRun(t);
  auto now = t.clock().Now();
  std::vector<TaskRunReport> reports;
  for (int i = 0; i < 1000; ++i) {
    TaskRunReport r;
    TaskRunSpec c;
    c.id = NewUuid();
    c.flow_run_id = flow_run;
    c.task_key = "square";
    c.dynamic_key = std::to_string(i);
    r.create = c;
    r.task_run_id = c.id;
    r.states = {core::Pending(now), core::Running(now + std::chrono::milliseconds(1)),
                core::Completed(now + std::chrono::milliseconds(2))};
    reports.push_back(r);
  }
  auto res = t.runs().ReportTaskRuns(reports);
  REQUIRE(res.ok());
  REQUIRE(res->size() == 1000);
  for (size_t i = 0; i < res->size(); ++i) {
    CHECK((*res)[i].task_run_id == reports[i].create->id);
    CHECK((*res)[i].accepted == 3);
    CHECK((*res)[i].rejected_reason.empty());
  }
  auto fr = t.runs().GetFlowRun(flow_run);
  CHECK(fr->task_run_count == 1000);
  auto one = t.runs().GetTaskRun(reports[500].create->id);
  REQUIRE(one.ok());
  CHECK(one->run.state->name == "Completed");
  CHECK(one->run.run_count == 1);
  CHECK(one->run.total_run_time == Approx(0.001).margin(1e-6));
  CHECK(Names(*t.runs().ListTaskRunStates(one->run.id)) ==
        std::vector<std::string>{"Pending", "Running", "Completed"});

  // Reporting the same creations again (a client retry) returns the stored ids, and the
  // repeated states are rejected as redundant/terminal without new history rows.
  auto again = t.runs().ReportTaskRuns({reports[0]});
  REQUIRE(again.ok());
  CHECK((*again)[0].task_run_id == reports[0].create->id);
  CHECK((*again)[0].accepted == 0);
  CHECK_FALSE((*again)[0].rejected_reason.empty());
  CHECK(t.runs().ListTaskRunStates(reports[0].create->id)->size() == 3);
}

TEST_CASE("ReportTaskRuns rejects an invalid transition with a reason and keeps the rest",
          "[task_runs]") {
  test::TestDatabase t;
  std::string flow_run = NewFlowRun(t);
  auto now = t.clock().Now();
  TaskRunReport good, bad;
  TaskRunSpec c1;
  c1.id = NewUuid();
  c1.flow_run_id = flow_run;
  c1.task_key = "a";
  good.create = c1;
  good.states = {core::Pending(now), core::Running(now), core::Completed(now)};
  TaskRunSpec c2 = c1;
  c2.id = NewUuid();
  c2.task_key = "b";
  bad.create = c2;
  // Completed -> Running is not allowed: the report stops there.
  bad.states = {core::Pending(now), core::Running(now), core::Completed(now), core::Running(now),
                core::Completed(now)};
  TaskRunReport unknown;
  unknown.task_run_id = NewUuid();
  unknown.states = {core::Running(now)};

  auto res = t.runs().ReportTaskRuns({good, bad, unknown});
  REQUIRE(res.ok());
  CHECK((*res)[0].accepted == 3);
  CHECK((*res)[0].rejected_reason.empty());
  CHECK((*res)[1].accepted == 3);
  CHECK_THAT((*res)[1].rejected_reason, Catch::Contains("states[3]"));
  CHECK_THAT((*res)[1].rejected_reason, Catch::Contains("REJECT"));
  CHECK((*res)[2].accepted == 0);
  CHECK_THAT((*res)[2].rejected_reason, Catch::Contains("not found"));
  CHECK(Names(*t.runs().ListTaskRunStates(c2.id)) ==
        std::vector<std::string>{"Pending", "Running", "Completed"});
}

TEST_CASE("ReportTaskRuns stores the client's reported retry follow-up, or the server's",
          "[task_runs]") {
  test::TestDatabase t;
  std::string flow_run = NewFlowRun(t);
  auto now = t.clock().Now();
  auto client_time = now + std::chrono::milliseconds(200);

  TaskRunSpec c;
  c.id = NewUuid();
  c.flow_run_id = flow_run;
  c.task_key = "flaky";
  c.retry_policy = core::RetryPolicy::Fixed(2, 0.2);
  TaskRunReport with_follow_up;
  with_follow_up.create = c;
  with_follow_up.states = {core::Pending(now), core::Running(now), core::Failed(now, "boom"),
                           core::AwaitingRetry(now, client_time, "client"),
                           // Its scheduled time is 0.2 s ahead of the server's clock: within
                           // the clock-skew allowance, so accepted.
                           core::Retrying(client_time), core::Completed(client_time)};
  TaskRunSpec c2 = c;
  c2.id = NewUuid();
  c2.task_key = "flaky2";
  TaskRunReport without;
  without.create = c2;
  without.states = {core::Pending(now), core::Running(now), core::Failed(now, "boom")};

  auto res = t.runs().ReportTaskRuns({with_follow_up, without});
  REQUIRE(res.ok());
  CHECK((*res)[0].rejected_reason.empty());
  CHECK((*res)[0].accepted == 6);
  CHECK((*res)[1].accepted == 3);

  auto h1 = t.runs().ListTaskRunStates(c.id);
  REQUIRE(h1.ok());
  CHECK(Names(*h1) == std::vector<std::string>{"Pending", "Running", "Failed", "AwaitingRetry",
                                               "Retrying", "Completed"});
  REQUIRE((*h1)[3].state.scheduled_time);
  CHECK(core::FormatTime(*(*h1)[3].state.scheduled_time) == core::FormatTime(client_time));
  CHECK((*h1)[3].state.message == "client");

  auto h2 = t.runs().ListTaskRunStates(c2.id);
  REQUIRE(h2.ok());
  CHECK(Names(*h2) ==
        std::vector<std::string>{"Pending", "Running", "Failed", "AwaitingRetry"});
  auto got = t.runs().GetTaskRun(c2.id);
  CHECK(got->run.state->name == "AwaitingRetry");
}
