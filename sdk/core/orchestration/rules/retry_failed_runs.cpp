#include <cstdio>

#include "sdk/core/orchestration/rules/rules.hpp"

namespace weft::core::orchestration::rules {

const char* RetryFailedRuns::Transitions() const { return "RUNNING -> FAILED (+ AwaitingRetry)"; }
const char* RetryFailedRuns::Description() const {
  return "a failed run with retries left records the failure, then goes to AwaitingRetry "
         "scheduled after the retry policy's delay";
}
void RetryFailedRuns::Apply(TransitionContext& ctx, Verdict& v) const {
  if (!ctx.initial || ctx.initial->type != StateType::kRunning) return;
  if (ctx.proposed.type != StateType::kFailed) return;
  int attempt = ctx.run_count;  // the run that just failed
  if (attempt < 1 || attempt > ctx.retry_policy.max_retries) return;
  double delay = ctx.retry_policy.DelayBeforeRetry(attempt, ctx.unit_random);
  char msg[128];
  std::snprintf(msg, sizeof msg, "retry %d of %d in %.3gs", attempt, ctx.retry_policy.max_retries,
                delay);
  // A huge backoff saturates at the latest representable time instead of wrapping to the past.
  Duration wait = FromSeconds(delay);
  TimePoint when = wait > TimePoint::max() - ctx.now ? TimePoint::max() : ctx.now + wait;
  v.follow_ups.push_back(AwaitingRetry(ctx.now, when, msg));
}

}  // namespace weft::core::orchestration::rules
