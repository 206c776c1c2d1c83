#include "sdk/core/orchestration/rules/rules.hpp"

namespace weft::core::orchestration::rules {

const char* KeepTerminalStatesTerminal::Transitions() const {
  return "COMPLETED|FAILED|CANCELLED|CRASHED -> any";
}
const char* KeepTerminalStatesTerminal::Description() const {
  return "a finished run stays finished; only a forced (manual) state can move it";
}
void KeepTerminalStatesTerminal::Apply(TransitionContext& ctx, Verdict& v) const {
  if (!ctx.initial || !ctx.initial->IsTerminal()) return;
  v.decision = Decision::kReject;
  v.reason = std::string("run is already ") + StateTypeName(ctx.initial->type) + " (" +
             ctx.initial->name + "); terminal states are final";
}

}  // namespace weft::core::orchestration::rules
