// UseCachedResult alone and in the default chain, on hand-built contexts: a task run
// proposing RUNNING with a valid cached result is rejected and written Cached (COMPLETED)
// carrying the result; anything else is left alone.
#include <catch2/catch.hpp>

#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/orchestration/rules/rules.hpp"
#include "tests/unit/core/fixtures.hpp"

using Catch::Matchers::Contains;
using weft::core::orchestration::CachedResult;
using weft::core::orchestration::Decision;
using weft::core::orchestration::DefaultPolicy;
using weft::core::orchestration::RunKind;
using weft::core::orchestration::TransitionContext;
using weft::core::orchestration::Verdict;
using weft::test::At;
using weft::test::Context;
using weft::test::Now;
namespace core = weft::core;
namespace rules = weft::core::orchestration::rules;

namespace {

CachedResult Hit(bool expires = true) {
  CachedResult c;
  c.task_run_id = "6f1e0d2c-0000-4000-8000-000000000001";
  c.result_json = R"({"rows":3})";
  if (expires) c.expiration = At("2026-11-26T05:49:50Z");
  return c;
}

}  // namespace

TEST_CASE("UseCachedResult: RUNNING with a cached result is rejected and written Cached",
          "[rules][cache]") {
  auto ctx = Context(core::Pending(Now()), core::Running(Now()));
  ctx.cached = Hit();
  Verdict v;
  rules::UseCachedResult().Apply(ctx, v);
  CHECK(v.decision == Decision::kReject);
  REQUIRE(v.write_instead);
  CHECK(v.write_instead->type == core::StateType::kCompleted);
  CHECK(v.write_instead->name == "Cached");
  CHECK(v.write_instead->result_json == R"({"rows":3})");
  CHECK_THAT(v.write_instead->message, Contains("6f1e0d2c-0000-4000-8000-000000000001"));
  CHECK_THAT(v.write_instead->message, Contains("until 2026-11-26T05:49:50"));

  ctx.cached = Hit(false);
  Verdict forever;
  rules::UseCachedResult().Apply(ctx, forever);
  CHECK_THAT(forever.write_instead->message, Contains("without expiration"));
}

TEST_CASE("UseCachedResult: no cached result, another proposal or a flow run: no verdict",
          "[rules][cache]") {
  auto none = Context(core::Pending(Now()), core::Running(Now()));
  Verdict v1;
  rules::UseCachedResult().Apply(none, v1);
  CHECK(v1.decision == Decision::kAccept);
  CHECK_FALSE(v1.write_instead);

  auto completing = Context(core::Running(Now()), core::Completed(Now()));
  completing.cached = Hit();
  Verdict v2;
  rules::UseCachedResult().Apply(completing, v2);
  CHECK(v2.decision == Decision::kAccept);
  CHECK_FALSE(v2.write_instead);

  CHECK_FALSE(rules::UseCachedResult().AppliesTo(RunKind::kFlowRun));
  CHECK(rules::UseCachedResult().AppliesTo(RunKind::kTaskRun));
}

TEST_CASE("the chain writes the Cached state instead of RUNNING and keeps run_count",
          "[policy][cache]") {
  auto ctx = Context(core::Pending(Now()), core::Running(Now()));
  ctx.cached = Hit();
  auto out = DefaultPolicy().Apply(ctx);
  CHECK(out.decision == Decision::kReject);
  CHECK(out.rule == "UseCachedResult");
  REQUIRE(out.to_write.size() == 1);
  CHECK(out.to_write[0].name == "Cached");
  CHECK(out.to_write[0].timestamp == Now());
  REQUIRE(out.state);
  CHECK(out.state->name == "Cached");
  CHECK(out.state->result_json == R"({"rows":3})");
  CHECK(out.run_count == 0);

  // An invalid proposal is refused by the earlier rules, cache or not.
  auto done = Context(core::Completed(Now()), core::Running(Now()));
  done.cached = Hit();
  auto refused = DefaultPolicy().Apply(done);
  CHECK(refused.decision == Decision::kReject);
  CHECK(refused.rule == "KeepTerminalStatesTerminal");
  CHECK(refused.to_write.empty());
}
