#include "sdk/core/orchestration/rules/rules.hpp"

namespace weft::core::orchestration::rules {

const char* IgnoreRepeatedProposals::Transitions() const { return "any -> any (same idempotency key)"; }
const char* IgnoreRepeatedProposals::Description() const {
  return "a proposal whose idempotency key matches the state that holds was already applied: "
         "accept it again without writing (safe client retries)";
}
void IgnoreRepeatedProposals::Apply(TransitionContext& ctx, Verdict& v) const {
  if (!ctx.initial || ctx.proposed.idempotency_key.empty()) return;
  if (ctx.initial->idempotency_key != ctx.proposed.idempotency_key) return;
  v.already_applied = true;
  v.reason = "already applied (idempotency key " + ctx.proposed.idempotency_key + ")";
}

}  // namespace weft::core::orchestration::rules
