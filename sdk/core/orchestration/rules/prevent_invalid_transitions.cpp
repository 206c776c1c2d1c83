#include "sdk/core/orchestration/rules/rules.hpp"

namespace weft::core::orchestration::rules {

namespace {

bool Allowed(StateType from, StateType to) {
  using S = StateType;
  switch (from) {
    case S::kScheduled:
      return to != S::kPaused;
    case S::kPending:
      return to != S::kPaused && to != S::kPending;
    case S::kRunning:
      return to != S::kPending;
    case S::kPaused:
      return to != S::kPending && to != S::kPaused && to != S::kCompleted;
    case S::kCancelling:
      return IsTerminal(to);
    default:
      return false;  // terminal: handled by KeepTerminalStatesTerminal
  }
}

}  // namespace

const char* PreventInvalidTransitions::Transitions() const {
  return "RUNNING -> RUNNING, RUNNING -> PENDING, CANCELLING -> non-terminal, ...";
}
const char* PreventInvalidTransitions::Description() const {
  return "rejects redundant transitions (to the state that already holds) and transitions "
         "the state machine does not have";
}
void PreventInvalidTransitions::Apply(TransitionContext& ctx, Verdict& v) const {
  if (!ctx.initial) return;
  const State& from = *ctx.initial;
  const State& to = ctx.proposed;
  bool redundant = from.type == to.type && from.name == to.name &&
                   (to.type != StateType::kScheduled || from.scheduled_time == to.scheduled_time ||
                    !to.scheduled_time);
  if (redundant) {
    v.decision = Decision::kReject;
    v.reason = "redundant: run is already " + from.name;
    return;
  }
  if (!Allowed(from.type, to.type)) {
    v.decision = Decision::kReject;
    v.reason = std::string("invalid transition ") + StateTypeName(from.type) + " -> " +
               StateTypeName(to.type);
  }
}

}  // namespace weft::core::orchestration::rules
