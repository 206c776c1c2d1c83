#include "sdk/core/orchestration/rules/rules.hpp"

namespace weft::core::orchestration::rules {

const char* WaitForScheduledTime::Transitions() const { return "SCHEDULED -> PENDING|RUNNING"; }
const char* WaitForScheduledTime::Description() const {
  return "a scheduled run cannot start before its scheduled time: WAIT until then";
}
void WaitForScheduledTime::Apply(TransitionContext& ctx, Verdict& v) const {
  if (!ctx.initial || ctx.initial->type != StateType::kScheduled) return;
  if (ctx.proposed.type != StateType::kPending && ctx.proposed.type != StateType::kRunning) return;
  if (!ctx.initial->scheduled_time || *ctx.initial->scheduled_time <= ctx.now) return;
  v.decision = Decision::kWait;
  v.wait_seconds = ToSeconds(*ctx.initial->scheduled_time - ctx.now);
  v.reason = "scheduled for " + FormatTime(*ctx.initial->scheduled_time);
}

}  // namespace weft::core::orchestration::rules
