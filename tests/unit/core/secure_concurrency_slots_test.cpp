// SecureConcurrencySlots alone, on hand-built contexts: WAIT naming the tag and its holders
// when a tag is full, ABORT for a limit of 0, nothing to say otherwise.
#include <catch2/catch.hpp>

#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/orchestration/rules/rules.hpp"
#include "tests/unit/core/fixtures.hpp"

using Catch::Matchers::Contains;
using weft::core::orchestration::Decision;
using weft::core::orchestration::RunKind;
using weft::core::orchestration::SlotHolder;
using weft::core::orchestration::TagLimit;
using weft::core::orchestration::TransitionContext;
using weft::core::orchestration::Verdict;
using weft::test::Context;
using weft::test::Now;
namespace core = weft::core;
namespace rules = weft::core::orchestration::rules;

namespace {

Verdict Apply(TransitionContext& ctx) {
  Verdict v;
  rules::SecureConcurrencySlots().Apply(ctx, v);
  return v;
}

TagLimit Limit(const std::string& tag, int limit, int holders) {
  TagLimit l{tag, limit, {}};
  for (int i = 0; i < holders; ++i) {
    l.holders.push_back(SlotHolder{"id-" + std::to_string(i), "load-" + std::to_string(i),
                                   "0123456789abcdef", Now()});
  }
  return l;
}

}  // namespace

TEST_CASE("SecureConcurrencySlots: a full tag answers WAIT naming it and its holders",
          "[rules]") {
  auto ctx = Context(core::Pending(Now()), core::Running(Now()));
  ctx.tag_limits = {Limit("api", 5, 1), Limit("db", 2, 2)};
  Verdict v = Apply(ctx);
  CHECK(v.decision == Decision::kWait);
  CHECK(v.wait_seconds == 30);
  CHECK(v.reason ==
        "concurrency limit on tag \"db\" is full (2/2 slots): held by load-0 (flow run "
        "01234567), load-1 (flow run 01234567)");
}

TEST_CASE("SecureConcurrencySlots: room on every tag, other proposals, no limits: no verdict",
          "[rules]") {
  auto ctx = Context(core::Pending(Now()), core::Running(Now()));
  ctx.tag_limits = {Limit("db", 2, 1)};
  CHECK(Apply(ctx).decision == Decision::kAccept);

  auto completed = Context(core::Running(Now()), core::Completed(Now()));
  completed.tag_limits = {Limit("db", 1, 1)};
  CHECK(Apply(completed).decision == Decision::kAccept);

  auto none = Context(core::Pending(Now()), core::Running(Now()));
  CHECK(Apply(none).decision == Decision::kAccept);
  CHECK_FALSE(rules::SecureConcurrencySlots().AppliesTo(RunKind::kFlowRun));
  CHECK(rules::SecureConcurrencySlots().AppliesTo(RunKind::kTaskRun));
}

TEST_CASE("SecureConcurrencySlots: a limit of 0 aborts", "[rules]") {
  auto ctx = Context(core::Pending(Now()), core::Running(Now()));
  ctx.tag_limits = {Limit("db", 2, 2), Limit("never", 0, 0)};
  Verdict v = Apply(ctx);
  CHECK(v.decision == Decision::kAbort);
  CHECK_THAT(v.reason, Contains("tag \"never\" has a concurrency limit of 0"));
}

TEST_CASE("SecureConcurrencySlots: many holders are summarised", "[rules]") {
  auto ctx = Context(core::Pending(Now()), core::Running(Now()));
  ctx.tag_limits = {Limit("db", 8, 8)};
  Verdict v = Apply(ctx);
  CHECK_THAT(v.reason, Contains("load-4 (flow run 01234567) and 3 more"));
}

TEST_CASE("the default chain answers WAIT for a full tag, after the other rules", "[policy]") {
  auto ctx = Context(core::Pending(Now()), core::Running(Now()));
  ctx.tag_limits = {Limit("db", 1, 1)};
  auto out = weft::core::orchestration::DefaultPolicy().Apply(ctx);
  CHECK(out.decision == Decision::kWait);
  CHECK(out.rule == "SecureConcurrencySlots");
  REQUIRE(out.state);
  CHECK(out.state->type == core::StateType::kPending);
  CHECK(out.to_write.empty());
}
