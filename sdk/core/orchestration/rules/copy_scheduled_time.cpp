#include "sdk/core/orchestration/rules/rules.hpp"

namespace weft::core::orchestration::rules {

const char* CopyScheduledTime::Transitions() const { return "any -> SCHEDULED"; }
const char* CopyScheduledTime::Description() const {
  return "a SCHEDULED proposal without a time keeps the run's scheduled time (or now)";
}
void CopyScheduledTime::Apply(TransitionContext& ctx, Verdict& v) const {
  (void)v;
  if (ctx.proposed.type != StateType::kScheduled || ctx.proposed.scheduled_time) return;
  if (ctx.initial && ctx.initial->type == StateType::kScheduled && ctx.initial->scheduled_time) {
    ctx.proposed.scheduled_time = ctx.initial->scheduled_time;
  } else {
    ctx.proposed.scheduled_time = ctx.now;
  }
}

}  // namespace weft::core::orchestration::rules
