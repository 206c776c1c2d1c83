#include <string>

#include "sdk/core/orchestration/rules/rules.hpp"

namespace weft::core::orchestration::rules {

namespace {

constexpr double kSlotWaitSeconds = 30;  // a hint: the client long-polls for a freed slot
constexpr std::size_t kHoldersNamed = 5;

std::string ShortId(const std::string& id) { return id.size() > 8 ? id.substr(0, 8) : id; }

std::string DescribeHolders(const std::vector<SlotHolder>& holders) {
  std::string out;
  for (std::size_t i = 0; i < holders.size() && i < kHoldersNamed; ++i) {
    if (i > 0) out += ", ";
    const SlotHolder& h = holders[i];
    out += h.task_run_name.empty() ? h.task_run_id : h.task_run_name;
    if (!h.flow_run_id.empty()) out += " (flow run " + ShortId(h.flow_run_id) + ")";
  }
  if (holders.size() > kHoldersNamed) {
    out += " and " + std::to_string(holders.size() - kHoldersNamed) + " more";
  }
  return out;
}

}  // namespace

const char* SecureConcurrencySlots::Transitions() const { return "* -> RUNNING (task runs)"; }
const char* SecureConcurrencySlots::Description() const {
  return "a task run carrying a tag with a concurrency limit starts only when a slot of every "
         "such tag is free: WAIT while one is full (limit 0: ABORT); accepted, it holds the slots "
         "until it leaves RUNNING";
}
bool SecureConcurrencySlots::AppliesTo(RunKind kind) const { return kind == RunKind::kTaskRun; }

void SecureConcurrencySlots::Apply(TransitionContext& ctx, Verdict& v) const {
  if (ctx.tag_limits.empty() || ctx.proposed.type != StateType::kRunning) return;
  if (ctx.initial && ctx.initial->type == StateType::kRunning) return;
  for (const TagLimit& l : ctx.tag_limits) {
    if (l.limit <= 0) {
      v.decision = Decision::kAbort;
      v.reason = "tag \"" + l.tag +
                 "\" has a concurrency limit of 0: task runs carrying it never run";
      return;
    }
  }
  for (const TagLimit& l : ctx.tag_limits) {
    if (static_cast<int>(l.holders.size()) < l.limit) continue;
    v.decision = Decision::kWait;
    v.wait_seconds = kSlotWaitSeconds;
    v.reason = "concurrency limit on tag \"" + l.tag + "\" is full (" +
               std::to_string(l.holders.size()) + "/" + std::to_string(l.limit) +
               " slots): held by " + DescribeHolders(l.holders);
    return;
  }
}

}  // namespace weft::core::orchestration::rules
