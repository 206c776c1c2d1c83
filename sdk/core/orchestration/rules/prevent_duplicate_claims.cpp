#include "sdk/core/orchestration/rules/rules.hpp"

namespace weft::core::orchestration::rules {

const char* PreventDuplicateClaims::Transitions() const { return "not SCHEDULED -> PENDING"; }
const char* PreventDuplicateClaims::Description() const {
  return "a run is claimed once: proposing PENDING is only possible from SCHEDULED; "
         "any other claimer is told ABORT";
}
void PreventDuplicateClaims::Apply(TransitionContext& ctx, Verdict& v) const {
  if (ctx.proposed.type != StateType::kPending || !ctx.initial) return;
  if (ctx.initial->type == StateType::kScheduled) return;
  v.decision = Decision::kAbort;
  v.reason = std::string("run was already claimed: it is ") + StateTypeName(ctx.initial->type) +
             " (" + ctx.initial->name + ")";
}

}  // namespace weft::core::orchestration::rules
