#include <string>

#include "sdk/core/orchestration/rules/rules.hpp"

namespace weft::core::orchestration::rules {

const char* UseCachedResult::Transitions() const { return "* -> RUNNING (task runs with a cache key)"; }
const char* UseCachedResult::Description() const {
  return "a task run whose cache key has a valid stored result (from a COMPLETED, non-Cached "
         "run, not expired) does not run: RUNNING is rejected and the run is written Cached "
         "(COMPLETED) with that result";
}
bool UseCachedResult::AppliesTo(RunKind kind) const { return kind == RunKind::kTaskRun; }
void UseCachedResult::Apply(TransitionContext& ctx, Verdict& v) const {
  if (!ctx.cached || ctx.proposed.type != StateType::kRunning) return;
  const CachedResult& c = *ctx.cached;
  std::string msg = "result of task run " + c.task_run_id + ", cached ";
  msg += c.expiration ? "until " + FormatTime(*c.expiration) : std::string("without expiration");
  State cached = Cached(ctx.now, msg);
  cached.result_json = c.result_json;
  v.decision = Decision::kReject;
  v.reason = "cached: " + msg;
  v.write_instead = std::move(cached);
}

}  // namespace weft::core::orchestration::rules
