// The one door: SetState locks the run, applies the rules, writes the history.
#include <catch2/catch.hpp>
#include <thread>

#include "tests/integration/test_database.hpp"

using namespace weft;
using core::orchestration::Decision;
using core::orchestration::RunKind;
using server::orchestration::FlowRunSpec;

namespace {

std::vector<std::string> Names(const std::vector<server::store::StateRecord>& states) {
  std::vector<std::string> out;
  for (const auto& s : states) out.push_back(s.state.name);
  return out;
}

}  // namespace

TEST_CASE("8 threads claiming one scheduled flow run: exactly one ACCEPT, 7 ABORT",
          "[set_state]") {
  test::TestDatabase t;
  FlowRunSpec spec;
  spec.flow_name = "etl";
  spec.initial_state = core::Scheduled(t.clock().Now(), t.clock().Now() - std::chrono::seconds(1));
  auto run = t.runs().CreateFlowRun(spec);
  REQUIRE(run.ok());
  const std::string id = run->record.run.id;

  std::vector<Decision> decisions(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = t.orchestrator().SetState(RunKind::kFlowRun, id, core::Pending(t.clock().Now()),
                                         false);
      decisions[i] = r.ok() ? r->outcome.decision : Decision::kReject;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(std::count(decisions.begin(), decisions.end(), Decision::kAccept) == 1);
  CHECK(std::count(decisions.begin(), decisions.end(), Decision::kAbort) == 7);

  auto states = t.runs().ListFlowRunStates(id);
  REQUIRE(states.ok());
  CHECK(Names(*states) == std::vector<std::string>{"Scheduled", "Pending"});
}

TEST_CASE("the history holds every accepted state in order, with retries, and nothing for "
          "rejected proposals",
          "[set_state]") {
  test::TestDatabase t;
  auto& o = t.orchestrator();
  FlowRunSpec spec;
  spec.flow_name = "etl";
  spec.retry_policy = core::RetryPolicy::Fixed(1, 10);
  auto run = t.runs().CreateFlowRun(spec);
  REQUIRE(run.ok());
  const std::string id = run->record.run.id;
  auto now = [&] { return t.clock().Now(); };

  auto running = o.SetState(RunKind::kFlowRun, id, core::Running(now()), false);
  REQUIRE(running.ok());
  CHECK(running->outcome.decision == Decision::kAccept);
  CHECK(running->outcome.run_count == 1);

  // Rejected: RUNNING -> RUNNING is redundant; RUNNING -> PENDING is invalid.
  auto again = o.SetState(RunKind::kFlowRun, id, core::Running(now()), false);
  REQUIRE(again.ok());
  CHECK(again->outcome.decision == Decision::kReject);
  CHECK_FALSE(again->outcome.reason.empty());

  t.clock().Advance(std::chrono::seconds(3));
  auto failed = o.SetState(RunKind::kFlowRun, id, core::Failed(now(), "boom"), false);
  REQUIRE(failed.ok());
  CHECK(failed->outcome.decision == Decision::kAccept);
  REQUIRE(failed->outcome.state);
  CHECK(failed->outcome.state->name == "AwaitingRetry");
  CHECK(failed->outcome.rule == "RetryFailedRuns");

  // Too early to retry: WAIT, nothing written.
  auto early = o.SetState(RunKind::kFlowRun, id, core::Retrying(now()), false);
  REQUIRE(early.ok());
  CHECK(early->outcome.decision == Decision::kWait);
  CHECK(early->outcome.wait_seconds > 0);

  t.clock().Advance(std::chrono::seconds(11));
  auto retrying = o.SetState(RunKind::kFlowRun, id, core::Retrying(now()), false);
  REQUIRE(retrying.ok());
  CHECK(retrying->outcome.decision == Decision::kAccept);
  CHECK(retrying->outcome.run_count == 2);
  t.clock().Advance(std::chrono::seconds(2));
  auto failed2 = o.SetState(RunKind::kFlowRun, id, core::Failed(now(), "boom again"), false);
  REQUIRE(failed2.ok());
  CHECK(failed2->outcome.state->name == "Failed");  // retries used up

  // Terminal stays terminal, unless forced.
  auto late = o.SetState(RunKind::kFlowRun, id, core::Completed(now()), false);
  REQUIRE(late.ok());
  CHECK(late->outcome.decision == Decision::kReject);

  auto states = t.runs().ListFlowRunStates(id);
  REQUIRE(states.ok());
  CHECK(Names(*states) == std::vector<std::string>{"Pending", "Running", "Failed",
                                                   "AwaitingRetry", "Retrying", "Failed"});
  for (size_t i = 1; i < states->size(); ++i) CHECK((*states)[i - 1].id < (*states)[i].id);

  auto got = t.runs().GetFlowRun(id);
  REQUIRE(got.ok());
  CHECK(got->run.run_count == 2);
  CHECK(got->run.start_time.has_value());
  CHECK(got->run.end_time.has_value());
  CHECK(got->run.total_run_time == Approx(5.0));
  CHECK(got->run.state_id == states->back().id);

  auto forced = o.SetState(RunKind::kFlowRun, id, core::Cancelled(now(), "manual"), true);
  REQUIRE(forced.ok());
  CHECK(forced->outcome.decision == Decision::kAccept);
  CHECK(t.runs().ListFlowRunStates(id)->back().state.name == "Cancelled");
}

TEST_CASE("SetState on an unknown run is NOT_FOUND naming the id", "[set_state]") {
  test::TestDatabase t;
  const std::string id = "4b0d7a8e-9d2f-4c55-8f0e-1f2a3b4c5d6e";
  auto r = t.orchestrator().SetState(RunKind::kFlowRun, id, core::Running(t.clock().Now()), false);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kNotFound);
  CHECK_THAT(r.error().message, Catch::Contains(id));
  auto tr = t.orchestrator().SetState(RunKind::kTaskRun, id, core::Running(t.clock().Now()), false);
  REQUIRE_FALSE(tr.ok());
  CHECK(tr.error().code == core::Code::kNotFound);
}

TEST_CASE("a repeated proposal with the same idempotency key is accepted once", "[set_state]") {
  test::TestDatabase t;
  FlowRunSpec spec;
  spec.flow_name = "etl";
  auto run = t.runs().CreateFlowRun(spec);
  REQUIRE(run.ok());
  auto s = core::Running(t.clock().Now());
  s.idempotency_key = "attempt-1";
  auto a = t.orchestrator().SetState(RunKind::kFlowRun, run->record.run.id, s, false);
  auto b = t.orchestrator().SetState(RunKind::kFlowRun, run->record.run.id, s, false);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->outcome.decision == Decision::kAccept);
  CHECK(b->outcome.decision == Decision::kAccept);
  CHECK(t.runs().ListFlowRunStates(run->record.run.id)->size() == 2);
}
