#include <utility>

#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/orchestration/rules/rules.hpp"

namespace weft::core::orchestration {

const char* DecisionName(Decision d) {
  switch (d) {
    case Decision::kAccept: return "ACCEPT";
    case Decision::kReject: return "REJECT";
    case Decision::kWait: return "WAIT";
    case Decision::kAbort: return "ABORT";
  }
  return "UNKNOWN";
}

const char* RunKindName(RunKind k) { return k == RunKind::kFlowRun ? "flow_run" : "task_run"; }

int RunCountAfter(const std::optional<State>& initial, const State& proposed, int run_count) {
  if (proposed.type != StateType::kRunning) return run_count;
  if (initial && (initial->type == StateType::kRunning || initial->type == StateType::kPaused)) {
    return run_count;
  }
  return run_count + 1;
}

Outcome Policy::Apply(TransitionContext ctx) const {
  if (ctx.proposed.timestamp == TimePoint{}) ctx.proposed.timestamp = ctx.now;
  if (ctx.proposed.name.empty()) ctx.proposed.name = DefaultStateName(ctx.proposed.type);
  Outcome out;
  out.run_count = ctx.run_count;
  Verdict verdict;
  std::string last_rule;
  if (!ctx.force) {
    for (const auto& rule : rules_) {
      if (!rule->AppliesTo(ctx.kind)) continue;
      size_t follow_ups_before = verdict.follow_ups.size();
      rule->Apply(ctx, verdict);
      if (verdict.follow_ups.size() != follow_ups_before) last_rule = rule->Name();
      if (verdict.decision != Decision::kAccept || verdict.already_applied) {
        last_rule = rule->Name();
        break;
      }
    }
  }
  out.decision = verdict.decision;
  out.reason = verdict.reason;
  out.rule = last_rule;
  out.wait_seconds = verdict.wait_seconds;
  if (verdict.decision == Decision::kReject && verdict.write_instead) {
    State instead = std::move(*verdict.write_instead);
    if (instead.timestamp == TimePoint{}) instead.timestamp = ctx.now;
    if (instead.name.empty()) instead.name = DefaultStateName(instead.type);
    out.to_write.push_back(std::move(instead));
    out.state = out.to_write.back();
    return out;
  }
  if (verdict.decision != Decision::kAccept || verdict.already_applied) {
    out.state = ctx.initial;
    return out;
  }
  out.run_count = RunCountAfter(ctx.initial, ctx.proposed, ctx.run_count);
  out.to_write.push_back(ctx.proposed);
  for (auto& s : verdict.follow_ups) out.to_write.push_back(std::move(s));
  out.state = out.to_write.back();
  return out;
}

const Policy& DefaultPolicy() {
  static const Policy policy = [] {
    std::vector<std::unique_ptr<Rule>> r;
    r.push_back(std::make_unique<rules::IgnoreRepeatedProposals>());
    r.push_back(std::make_unique<rules::KeepTerminalStatesTerminal>());
    r.push_back(std::make_unique<rules::PreventDuplicateClaims>());
    r.push_back(std::make_unique<rules::PreventInvalidTransitions>());
    r.push_back(std::make_unique<rules::WaitForScheduledTime>());
    r.push_back(std::make_unique<rules::CopyScheduledTime>());
    r.push_back(std::make_unique<rules::RetryFailedRuns>());
    r.push_back(std::make_unique<rules::UseCachedResult>());
    r.push_back(std::make_unique<rules::SecureConcurrencySlots>());
    return Policy(std::move(r));
  }();
  return policy;
}

}  // namespace weft::core::orchestration
