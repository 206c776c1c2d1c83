// Each rule of the default chain, alone, on a hand-built TransitionContext with a fixed `now`.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/orchestration/rules/rules.hpp"
#include "sdk/core/retry.hpp"
#include "sdk/core/state.hpp"
#include "sdk/core/time.hpp"
#include "tests/unit/core/fixtures.hpp"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using weft::core::RetryPolicy;
using weft::core::State;
using weft::core::StateType;
using weft::core::orchestration::Decision;
using weft::core::orchestration::TransitionContext;
using weft::core::orchestration::Verdict;
using weft::test::Context;
using weft::test::Now;
namespace core = weft::core;
namespace rules = weft::core::orchestration::rules;

namespace {

// Runs one rule on the context and returns what it said.
template <typename RuleT>
Verdict Run(TransitionContext& ctx) {
  Verdict v;
  RuleT().Apply(ctx, v);
  return v;
}

// True when the verdict lets the chain go on unchanged.
bool PassesThrough(const Verdict& v) {
  return v.decision == Decision::kAccept && !v.already_applied && v.reason.empty() &&
         v.follow_ups.empty() && v.wait_seconds == 0;
}

State WithKey(State s, std::string key) {
  s.idempotency_key = std::move(key);
  return s;
}

}  // namespace

TEST_CASE("IgnoreRepeatedProposals accepts a repeat of the state that holds without writing",
          "[rules]") {
  auto ctx = Context(WithKey(core::Running(Now() - 5s), "attempt-1"),
                     WithKey(core::Running(Now()), "attempt-1"));
  Verdict v = Run<rules::IgnoreRepeatedProposals>(ctx);
  CHECK(v.decision == Decision::kAccept);
  CHECK(v.already_applied);
  CHECK_THAT(v.reason, Contains("attempt-1"));
  CHECK(v.follow_ups.empty());
}

TEST_CASE("IgnoreRepeatedProposals lets other proposals through", "[rules]") {
  SECTION("a different key") {
    auto ctx = Context(WithKey(core::Running(Now()), "attempt-1"),
                       WithKey(core::Completed(Now()), "attempt-2"));
    CHECK(PassesThrough(Run<rules::IgnoreRepeatedProposals>(ctx)));
  }
  SECTION("no key on either side") {
    auto ctx = Context(core::Running(Now()), core::Running(Now()));
    CHECK(PassesThrough(Run<rules::IgnoreRepeatedProposals>(ctx)));
  }
  SECTION("a key but no state yet") {
    auto ctx = Context(std::nullopt, WithKey(core::Pending(Now()), "create-1"));
    CHECK(PassesThrough(Run<rules::IgnoreRepeatedProposals>(ctx)));
  }
}

TEST_CASE("KeepTerminalStatesTerminal rejects any move out of a terminal state", "[rules]") {
  auto [terminal, type_name, state_name] = GENERATE(table<State, std::string, std::string>({
      {core::Completed(Now()), "COMPLETED", "Completed"},
      {core::Cached(Now()), "COMPLETED", "Cached"},
      {core::Failed(Now(), "boom"), "FAILED", "Failed"},
      {core::TimedOut(Now(), "too slow"), "FAILED", "TimedOut"},
      {core::Cancelled(Now()), "CANCELLED", "Cancelled"},
      {core::Crashed(Now(), "lost"), "CRASHED", "Crashed"},
  }));
  auto ctx = Context(terminal, core::Running(Now()));
  Verdict v = Run<rules::KeepTerminalStatesTerminal>(ctx);
  CHECK(v.decision == Decision::kReject);
  CHECK_THAT(v.reason, Contains(type_name) && Contains(state_name));
}

TEST_CASE("KeepTerminalStatesTerminal ignores runs that have not finished", "[rules]") {
  auto initial = GENERATE(as<std::optional<State>>{}, std::nullopt,
                          core::Scheduled(Now(), Now()), core::Pending(Now()),
                          core::Running(Now()), core::Cancelling(Now()), core::Paused(Now()));
  auto ctx = Context(initial, core::Failed(Now(), "boom"));
  CHECK(PassesThrough(Run<rules::KeepTerminalStatesTerminal>(ctx)));
}

TEST_CASE("PreventDuplicateClaims aborts a claim of a run that is not SCHEDULED", "[rules]") {
  SECTION("PENDING over PENDING") {
    auto ctx = Context(core::Pending(Now() - 1s), core::Pending(Now()));
    Verdict v = Run<rules::PreventDuplicateClaims>(ctx);
    CHECK(v.decision == Decision::kAbort);
    CHECK_THAT(v.reason, Contains("PENDING"));
  }
  SECTION("PENDING over RUNNING") {
    auto ctx = Context(core::Retrying(Now() - 1s), core::Pending(Now()));
    Verdict v = Run<rules::PreventDuplicateClaims>(ctx);
    CHECK(v.decision == Decision::kAbort);
    CHECK_THAT(v.reason, Contains("RUNNING") && Contains("Retrying"));
  }
}

TEST_CASE("PreventDuplicateClaims lets the first claim through", "[rules]") {
  SECTION("from Scheduled") {
    auto ctx = Context(core::Scheduled(Now() - 1min, Now() - 1min), core::Pending(Now()));
    CHECK(PassesThrough(Run<rules::PreventDuplicateClaims>(ctx)));
  }
  SECTION("from Late") {
    auto ctx = Context(core::Late(Now() - 1min, Now() - 2min), core::Pending(Now()));
    CHECK(PassesThrough(Run<rules::PreventDuplicateClaims>(ctx)));
  }
  SECTION("a run created as Pending") {
    auto ctx = Context(std::nullopt, core::Pending(Now()));
    CHECK(PassesThrough(Run<rules::PreventDuplicateClaims>(ctx)));
  }
  SECTION("proposals other than PENDING are not its business") {
    auto ctx = Context(core::Pending(Now()), core::Running(Now()));
    CHECK(PassesThrough(Run<rules::PreventDuplicateClaims>(ctx)));
  }
}

TEST_CASE("PreventInvalidTransitions rejects redundant transitions", "[rules]") {
  SECTION("RUNNING -> RUNNING") {
    auto ctx = Context(core::Running(Now() - 1s), core::Running(Now()));
    Verdict v = Run<rules::PreventInvalidTransitions>(ctx);
    CHECK(v.decision == Decision::kReject);
    CHECK_THAT(v.reason, Contains("redundant") && Contains("Running"));
  }
  SECTION("Late -> Late for the same time") {
    auto when = Now() - 1min;
    auto ctx = Context(core::Late(Now() - 1s, when), core::Late(Now(), when));
    Verdict v = Run<rules::PreventInvalidTransitions>(ctx);
    CHECK(v.decision == Decision::kReject);
    CHECK_THAT(v.reason, Contains("redundant"));
  }
}

TEST_CASE("PreventInvalidTransitions rejects transitions the state machine does not have",
          "[rules]") {
  auto [initial, proposed, text] = GENERATE(table<State, State, std::string>({
      {core::Running(Now()), core::Pending(Now()), "RUNNING -> PENDING"},
      {core::Cancelling(Now()), core::Running(Now()), "CANCELLING -> RUNNING"},
      {core::Cancelling(Now()), core::Pending(Now()), "CANCELLING -> PENDING"},
      {core::Pending(Now()), core::Paused(Now()), "PENDING -> PAUSED"},
      {core::Scheduled(Now(), Now()), core::Paused(Now()), "SCHEDULED -> PAUSED"},
      {core::Paused(Now()), core::Completed(Now()), "PAUSED -> COMPLETED"},
  }));
  auto ctx = Context(initial, proposed);
  Verdict v = Run<rules::PreventInvalidTransitions>(ctx);
  CHECK(v.decision == Decision::kReject);
  CHECK_THAT(v.reason, Contains("invalid transition") && Contains(text));
}

TEST_CASE("PreventInvalidTransitions allows the state machine's transitions", "[rules]") {
  auto [initial, proposed] = GENERATE(table<std::optional<State>, State>({
      {std::nullopt, core::Scheduled(Now(), Now() + 1h)},
      {core::Scheduled(Now(), Now()), core::Late(Now(), Now())},
      {core::Scheduled(Now(), Now()), core::Scheduled(Now(), Now() + 1h)},
      {core::Scheduled(Now(), Now()), core::Pending(Now())},
      {core::Pending(Now()), core::Running(Now())},
      {core::Running(Now()), core::Completed(Now())},
      {core::Running(Now()), core::Failed(Now(), "boom")},
      {core::Running(Now()), core::Paused(Now())},
      {core::Paused(Now()), core::Running(Now())},
      {core::AwaitingRetry(Now(), Now()), core::Retrying(Now())},
      {core::Cancelling(Now()), core::Cancelled(Now())},
  }));
  auto ctx = Context(initial, proposed);
  CHECK(PassesThrough(Run<rules::PreventInvalidTransitions>(ctx)));
}

TEST_CASE("WaitForScheduledTime makes an early start wait for the time left", "[rules]") {
  auto proposed = GENERATE(core::Pending(Now()), core::Running(Now()));
  auto ctx = Context(core::Scheduled(Now() - 1h, Now() + 90s + 250ms), proposed);
  Verdict v = Run<rules::WaitForScheduledTime>(ctx);
  CHECK(v.decision == Decision::kWait);
  CHECK(v.wait_seconds == Approx(90.25));
  CHECK_THAT(v.reason, Contains(core::FormatTime(Now() + 90s + 250ms)));
}

TEST_CASE("WaitForScheduledTime lets due runs and other transitions through", "[rules]") {
  SECTION("due exactly now") {
    auto ctx = Context(core::Scheduled(Now() - 1h, Now()), core::Pending(Now()));
    CHECK(PassesThrough(Run<rules::WaitForScheduledTime>(ctx)));
  }
  SECTION("overdue") {
    auto ctx = Context(core::Late(Now() - 1min, Now() - 10min), core::Running(Now()));
    CHECK(PassesThrough(Run<rules::WaitForScheduledTime>(ctx)));
  }
  SECTION("cancelling a future run") {
    auto ctx = Context(core::Scheduled(Now(), Now() + 1h), core::Cancelled(Now()));
    CHECK(PassesThrough(Run<rules::WaitForScheduledTime>(ctx)));
  }
  SECTION("a run that is not SCHEDULED") {
    auto ctx = Context(core::Pending(Now()), core::Running(Now()));
    CHECK(PassesThrough(Run<rules::WaitForScheduledTime>(ctx)));
  }
}

TEST_CASE("CopyScheduledTime fills a SCHEDULED proposal that has no time", "[rules]") {
  State proposed = core::MakeState(StateType::kScheduled, Now(), "Late");
  REQUIRE_FALSE(proposed.scheduled_time);

  SECTION("from the run's scheduled time") {
    auto when = Now() - 3min;
    auto ctx = Context(core::Scheduled(Now() - 1h, when), proposed);
    CHECK(PassesThrough(Run<rules::CopyScheduledTime>(ctx)));
    REQUIRE(ctx.proposed.scheduled_time);
    CHECK(*ctx.proposed.scheduled_time == when);
  }
  SECTION("with now when the run has none") {
    auto initial = GENERATE(as<std::optional<State>>{}, std::nullopt, core::Running(Now() - 1h),
                            core::MakeState(StateType::kScheduled, Now() - 1h));
    auto ctx = Context(initial, proposed);
    CHECK(PassesThrough(Run<rules::CopyScheduledTime>(ctx)));
    REQUIRE(ctx.proposed.scheduled_time);
    CHECK(*ctx.proposed.scheduled_time == Now());
  }
}

TEST_CASE("CopyScheduledTime keeps a proposal's own time and ignores other types", "[rules]") {
  SECTION("own time") {
    auto ctx = Context(core::Scheduled(Now(), Now() - 1h), core::Scheduled(Now(), Now() + 1h));
    Run<rules::CopyScheduledTime>(ctx);
    CHECK(*ctx.proposed.scheduled_time == Now() + 1h);
  }
  SECTION("not SCHEDULED") {
    auto ctx = Context(core::Scheduled(Now(), Now() - 1h), core::Pending(Now()));
    Run<rules::CopyScheduledTime>(ctx);
    CHECK_FALSE(ctx.proposed.scheduled_time);
  }
}

TEST_CASE("RetryFailedRuns schedules AwaitingRetry after the policy's delay while retries are left",
          "[rules]") {
  auto ctx = Context(core::Running(Now() - 30s), core::Failed(Now(), "boom"));
  ctx.retry_policy = RetryPolicy::Fixed(3, 10);
  ctx.run_count = GENERATE(1, 2, 3);

  Verdict v = Run<rules::RetryFailedRuns>(ctx);
  CHECK(v.decision == Decision::kAccept);
  CHECK_FALSE(v.already_applied);
  REQUIRE(v.follow_ups.size() == 1);
  const State& next = v.follow_ups.front();
  CHECK(next.type == StateType::kScheduled);
  CHECK(next.name == "AwaitingRetry");
  CHECK(next.timestamp == Now());
  REQUIRE(next.scheduled_time);
  CHECK(*next.scheduled_time == Now() + 10s);
  CHECK_THAT(next.message, Contains("retry " + std::to_string(ctx.run_count) + " of 3"));
  // The failure itself is still what gets written first.
  CHECK(ctx.proposed.type == StateType::kFailed);
}

TEST_CASE("RetryFailedRuns uses the retry number and the injected draw for the delay", "[rules]") {
  auto ctx = Context(core::Running(Now() - 30s), core::Failed(Now(), "boom"));
  ctx.retry_policy = RetryPolicy::Exponential(5, 2, 0.5);
  ctx.run_count = 3;  // third attempt failed: base delay 2 * 2^2 = 8 s, jitter band [4, 12]
  SECTION("lowest draw") {
    ctx.unit_random = 0;
    Verdict v = Run<rules::RetryFailedRuns>(ctx);
    REQUIRE(v.follow_ups.size() == 1);
    CHECK(*v.follow_ups[0].scheduled_time == Now() + 4s);
  }
  SECTION("a draw of 0.75") {
    ctx.unit_random = 0.75;
    Verdict v = Run<rules::RetryFailedRuns>(ctx);
    REQUIRE(v.follow_ups.size() == 1);
    CHECK(*v.follow_ups[0].scheduled_time == Now() + 10s);
  }
}

TEST_CASE("RetryFailedRuns adds nothing once the retries are spent", "[rules]") {
  auto ctx = Context(core::Running(Now() - 30s), core::Failed(Now(), "boom"));
  SECTION("run_count above max_retries") {
    ctx.retry_policy = RetryPolicy::Fixed(3, 10);
    ctx.run_count = GENERATE(4, 5, 100);
    CHECK(PassesThrough(Run<rules::RetryFailedRuns>(ctx)));
  }
  SECTION("no retries configured") {
    ctx.run_count = 1;
    CHECK(PassesThrough(Run<rules::RetryFailedRuns>(ctx)));
  }
  SECTION("the run never ran") {
    ctx.retry_policy = RetryPolicy::Fixed(3, 10);
    ctx.run_count = 0;
    CHECK(PassesThrough(Run<rules::RetryFailedRuns>(ctx)));
  }
}

TEST_CASE("RetryFailedRuns only retries RUNNING -> FAILED", "[rules]") {
  auto [initial, proposed] = GENERATE(table<std::optional<State>, State>({
      {std::nullopt, core::Failed(Now(), "boom")},
      {core::Pending(Now()), core::Failed(Now(), "boom")},
      {core::Running(Now()), core::Crashed(Now(), "lost")},
      {core::Running(Now()), core::Completed(Now())},
      {core::Running(Now()), core::Cancelled(Now())},
  }));
  auto ctx = Context(initial, proposed);
  ctx.retry_policy = RetryPolicy::Fixed(3, 10);
  ctx.run_count = 1;
  CHECK(PassesThrough(Run<rules::RetryFailedRuns>(ctx)));
}

TEST_CASE("RetryFailedRuns never schedules a retry in the past, even for a huge backoff",
          "[rules]") {
  auto ctx = Context(core::Running(Now() - 30s), core::Failed(Now(), "boom"));
  // No cap: 10 s * 2^(n-1) outgrows what a time point can hold after about 30 retries.
  ctx.retry_policy = RetryPolicy::Exponential(1000, 10, 0, 0);
  ctx.run_count = GENERATE(20, 40, 200, 1000);
  Verdict v = Run<rules::RetryFailedRuns>(ctx);
  REQUIRE(v.follow_ups.size() == 1);
  REQUIRE(v.follow_ups[0].scheduled_time);
  CHECK(*v.follow_ups[0].scheduled_time > Now() + 24h);
}

TEST_CASE("every rule names itself and describes what it governs", "[rules]") {
  auto check = [](const weft::core::orchestration::Rule& r, const std::string& name) {
    CHECK(r.Name() == name);
    CHECK(std::string(r.Transitions()).size() > 0);
    CHECK(std::string(r.Description()).size() > 0);
    CHECK(r.AppliesTo(weft::core::orchestration::RunKind::kFlowRun));
    CHECK(r.AppliesTo(weft::core::orchestration::RunKind::kTaskRun));
  };
  check(rules::IgnoreRepeatedProposals(), "IgnoreRepeatedProposals");
  check(rules::KeepTerminalStatesTerminal(), "KeepTerminalStatesTerminal");
  check(rules::PreventDuplicateClaims(), "PreventDuplicateClaims");
  check(rules::PreventInvalidTransitions(), "PreventInvalidTransitions");
  check(rules::WaitForScheduledTime(), "WaitForScheduledTime");
  check(rules::CopyScheduledTime(), "CopyScheduledTime");
  check(rules::RetryFailedRuns(), "RetryFailedRuns");
}
