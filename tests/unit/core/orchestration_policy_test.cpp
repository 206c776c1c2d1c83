// The whole DefaultPolicy chain: order, a flaky run's full history, force, early stops.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/retry.hpp"
#include "sdk/core/state.hpp"
#include "sdk/core/time.hpp"
#include "tests/unit/core/fixtures.hpp"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using weft::core::FakeClock;
using weft::core::RetryPolicy;
using weft::core::State;
using weft::core::StateType;
using weft::core::orchestration::Decision;
using weft::core::orchestration::DefaultPolicy;
using weft::core::orchestration::Outcome;
using weft::core::orchestration::RunKind;
using weft::core::orchestration::TransitionContext;
using weft::test::Now;
namespace core = weft::core;

namespace {

// A run as the server or the flow runtime keeps it: the state that holds, its history and
// run_count. Propose() runs the default chain and applies the outcome the way a caller must.
struct Run {
  RunKind kind = RunKind::kTaskRun;
  RetryPolicy retry_policy;
  std::optional<State> state;
  std::vector<State> history;
  int run_count = 0;

  Outcome Propose(State proposed, core::TimePoint now, bool force = false) {
    TransitionContext ctx;
    ctx.kind = kind;
    ctx.initial = state;
    ctx.proposed = std::move(proposed);
    ctx.run_count = run_count;
    ctx.retry_policy = retry_policy;
    ctx.now = now;
    ctx.force = force;
    Outcome out = DefaultPolicy().Apply(ctx);
    if (out.decision == Decision::kAccept) {
      history.insert(history.end(), out.to_write.begin(), out.to_write.end());
      state = out.state;
      run_count = out.run_count;
    }
    return out;
  }

  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& s : history) names.push_back(s.name);
    return names;
  }
};

}  // namespace

TEST_CASE("the default chain runs its rules in a fixed order", "[policy]") {
  std::vector<std::string> names;
  for (const auto& rule : DefaultPolicy().rules()) names.emplace_back(rule->Name());
  CHECK(names == std::vector<std::string>{
                     "IgnoreRepeatedProposals",
                     "KeepTerminalStatesTerminal",
                     "PreventDuplicateClaims",
                     "PreventInvalidTransitions",
                     "WaitForScheduledTime",
                     "CopyScheduledTime",
                     "RetryFailedRuns",
                     "UseCachedResult",
                     "SecureConcurrencySlots",
                 });
}

TEST_CASE("a flaky run fails once, waits for its retry, and completes", "[policy]") {
  FakeClock clock(Now());
  Run run;
  run.kind = GENERATE(RunKind::kTaskRun, RunKind::kFlowRun);
  run.retry_policy = RetryPolicy::Fixed(2, 10);

  Outcome out = run.Propose(core::Pending(clock.Now()), clock.Now());
  CHECK(out.decision == Decision::kAccept);
  CHECK(out.run_count == 0);

  clock.Advance(1s);
  out = run.Propose(core::Running(clock.Now()), clock.Now());
  CHECK(out.decision == Decision::kAccept);
  CHECK(run.run_count == 1);

  clock.Advance(5s);
  const auto failed_at = clock.Now();
  out = run.Propose(core::Failed(clock.Now(), "connection reset"), clock.Now());
  CHECK(out.decision == Decision::kAccept);
  CHECK(out.rule == "RetryFailedRuns");
  REQUIRE(out.to_write.size() == 2);
  CHECK(out.to_write[0].name == "Failed");
  CHECK(out.to_write[0].message == "connection reset");
  CHECK(out.to_write[1].name == "AwaitingRetry");
  REQUIRE(run.state);
  CHECK(run.state->name == "AwaitingRetry");
  CHECK(*run.state->scheduled_time == failed_at + 10s);
  CHECK(run.run_count == 1);

  SECTION("restarting before the delay is over waits for the time left") {
    clock.Advance(3s);
    out = run.Propose(core::Retrying(clock.Now()), clock.Now());
    CHECK(out.decision == Decision::kWait);
    CHECK(out.rule == "WaitForScheduledTime");
    CHECK(out.wait_seconds == Approx(7));
    CHECK(out.to_write.empty());
    REQUIRE(out.state);
    CHECK(out.state->name == "AwaitingRetry");
    CHECK(run.run_count == 1);
  }

  clock.Set(failed_at + 10s);
  out = run.Propose(core::Retrying(clock.Now()), clock.Now());
  CHECK(out.decision == Decision::kAccept);
  CHECK(run.run_count == 2);

  clock.Advance(2s);
  out = run.Propose(core::Completed(clock.Now()), clock.Now());
  CHECK(out.decision == Decision::kAccept);
  CHECK(out.to_write.size() == 1);
  CHECK(run.state->type == StateType::kCompleted);
  CHECK(run.run_count == 2);

  CHECK(run.Names() == std::vector<std::string>{"Pending", "Running", "Failed", "AwaitingRetry",
                                                "Retrying", "Completed"});
  // Every state carries the time it was proposed at, in order.
  for (size_t i = 1; i < run.history.size(); ++i) {
    CHECK(run.history[i - 1].timestamp <= run.history[i].timestamp);
  }
}

TEST_CASE("a run whose retries are spent stays Failed", "[policy]") {
  FakeClock clock(Now());
  Run run;
  run.retry_policy = RetryPolicy::Fixed(1, 10);
  (void)run.Propose(core::Pending(clock.Now()), clock.Now());
  (void)run.Propose(core::Running(clock.Now()), clock.Now());
  (void)run.Propose(core::Failed(clock.Now(), "first"), clock.Now());
  clock.Advance(10s);
  (void)run.Propose(core::Retrying(clock.Now()), clock.Now());
  REQUIRE(run.run_count == 2);

  Outcome out = run.Propose(core::Failed(clock.Now(), "second"), clock.Now());
  CHECK(out.decision == Decision::kAccept);
  REQUIRE(out.to_write.size() == 1);
  CHECK(run.state->name == "Failed");
  CHECK(run.state->message == "second");

  out = run.Propose(core::Running(clock.Now()), clock.Now());
  CHECK(out.decision == Decision::kReject);
  CHECK(out.rule == "KeepTerminalStatesTerminal");
  CHECK(run.Names() == std::vector<std::string>{"Pending", "Running", "Failed", "AwaitingRetry",
                                                "Retrying", "Failed"});
}

TEST_CASE("a scheduled run is claimed once and waits for its time", "[policy]") {
  FakeClock clock(Now());
  Run run;
  run.kind = RunKind::kFlowRun;
  (void)run.Propose(core::Scheduled(clock.Now(), clock.Now() + 1min), clock.Now());

  Outcome out = run.Propose(core::Pending(clock.Now()), clock.Now());
  CHECK(out.decision == Decision::kWait);
  CHECK(out.wait_seconds == Approx(60));

  clock.Advance(2min);
  out = run.Propose(core::Late(clock.Now(), clock.Now() - 1min), clock.Now());
  CHECK(out.decision == Decision::kAccept);

  out = run.Propose(core::Pending(clock.Now()), clock.Now());
  CHECK(out.decision == Decision::kAccept);

  out = run.Propose(core::Pending(clock.Now()), clock.Now());
  CHECK(out.decision == Decision::kAbort);
  CHECK(out.rule == "PreventDuplicateClaims");
  CHECK_THAT(out.reason, Contains("PENDING"));
  REQUIRE(out.state);
  CHECK(out.state->type == StateType::kPending);
  CHECK(out.to_write.empty());
  CHECK(run.Names() == std::vector<std::string>{"Scheduled", "Late", "Pending"});
}

TEST_CASE("a repeated proposal is accepted again without a second write", "[policy]") {
  Run run;
  State running = core::Running(Now());
  running.idempotency_key = "attempt-1";
  (void)run.Propose(core::Pending(Now()), Now());
  (void)run.Propose(running, Now());

  Outcome out = run.Propose(running, Now() + 1s);
  CHECK(out.decision == Decision::kAccept);
  CHECK(out.rule == "IgnoreRepeatedProposals");
  CHECK(out.to_write.empty());
  REQUIRE(out.state);
  CHECK(out.state->idempotency_key == "attempt-1");
  CHECK(out.run_count == 1);
  CHECK(run.Names() == std::vector<std::string>{"Pending", "Running"});
}

TEST_CASE("a rejected proposal leaves the run as it was", "[policy]") {
  Run run;
  (void)run.Propose(core::Pending(Now()), Now());
  (void)run.Propose(core::Running(Now()), Now());

  Outcome out = run.Propose(core::Running(Now() + 1s), Now() + 1s);
  CHECK(out.decision == Decision::kReject);
  CHECK(out.rule == "PreventInvalidTransitions");
  CHECK_THAT(out.reason, Contains("redundant"));
  CHECK(out.to_write.empty());
  REQUIRE(out.state);
  CHECK(out.state->timestamp == Now());
  CHECK(out.run_count == 1);
}

TEST_CASE("force skips every rule", "[policy]") {
  Run run;
  run.retry_policy = RetryPolicy::Fixed(3, 10);
  (void)run.Propose(core::Pending(Now()), Now());
  (void)run.Propose(core::Running(Now()), Now());

  SECTION("a terminal run can be restarted by hand") {
    (void)run.Propose(core::Crashed(Now(), "agent lost"), Now());
    Outcome refused = run.Propose(core::Running(Now() + 1s), Now() + 1s);
    CHECK(refused.decision == Decision::kReject);

    Outcome out = run.Propose(core::Running(Now() + 1s), Now() + 1s, /*force=*/true);
    CHECK(out.decision == Decision::kAccept);
    CHECK(out.rule.empty());
    CHECK(run.state->type == StateType::kRunning);
    CHECK(run.run_count == 2);
  }
  SECTION("a forced failure gets no retry") {
    Outcome out = run.Propose(core::Failed(Now(), "stopped by hand"), Now(), /*force=*/true);
    CHECK(out.decision == Decision::kAccept);
    REQUIRE(out.to_write.size() == 1);
    CHECK(run.state->name == "Failed");
  }
}

TEST_CASE("the chain fills a proposal's missing timestamp and name", "[policy]") {
  TransitionContext ctx;
  ctx.proposed.type = StateType::kRunning;
  ctx.initial = core::Pending(Now() - 1s);
  ctx.now = Now();
  Outcome out = DefaultPolicy().Apply(ctx);
  REQUIRE(out.decision == Decision::kAccept);
  REQUIRE(out.to_write.size() == 1);
  CHECK(out.to_write[0].timestamp == Now());
  CHECK(out.to_write[0].name == "Running");
}

TEST_CASE("run_count counts entries into RUNNING", "[policy]") {
  using weft::core::orchestration::RunCountAfter;
  CHECK(RunCountAfter(core::Pending(Now()), core::Running(Now()), 0) == 1);
  CHECK(RunCountAfter(core::AwaitingRetry(Now(), Now()), core::Retrying(Now()), 1) == 2);
  CHECK(RunCountAfter(std::nullopt, core::Running(Now()), 0) == 1);
  CHECK(RunCountAfter(core::Paused(Now()), core::Running(Now()), 1) == 1);
  CHECK(RunCountAfter(core::Running(Now()), core::Running(Now()), 1) == 1);
  CHECK(RunCountAfter(core::Running(Now()), core::Completed(Now()), 1) == 1);
}
