#pragma once
// Orchestration rules: pure code, no I/O. The server runs the chain inside its locked
// transaction; the flow runtime runs the same chain for task runs it orchestrates locally.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/retry.hpp"
#include "sdk/core/state.hpp"

namespace weft::core::orchestration {

enum class RunKind { kFlowRun, kTaskRun };
enum class Decision { kAccept = 1, kReject = 2, kWait = 3, kAbort = 4 };

const char* DecisionName(Decision d);
const char* RunKindName(RunKind k);

// A task run holding a slot of a tag concurrency limit.
struct SlotHolder {
  std::string task_run_id;
  std::string task_run_name;
  std::string flow_run_id;
  TimePoint since{};
};

// A tag concurrency limit on one of the proposed task run's tags, with the slots taken by
// other task runs (live holders only).
struct TagLimit {
  std::string tag;
  int limit = 0;
  std::vector<SlotHolder> holders;
};

// A stored result the server found for a task run's cache key: the newest result of a
// COMPLETED, non-Cached task run with the same key whose expiration has not passed.
struct CachedResult {
  std::string task_run_id;             // the run that stored it
  std::string result_json;
  std::optional<TimePoint> expiration;  // none = never expires
};

// What a rule sees: the run's state now, the proposal, and the run's facts.
struct TransitionContext {
  RunKind kind = RunKind::kFlowRun;
  std::optional<State> initial;  // none when the run is being created
  State proposed;
  int run_count = 0;             // times the run has entered RUNNING (before this proposal)
  RetryPolicy retry_policy;
  TimePoint now{};
  double unit_random = 0.5;      // a draw in [0,1) for retry jitter (injected: rules stay pure)
  bool force = false;            // manual override: rules are skipped
  // Task runs proposed RUNNING that have a cache key: a valid cached result, loaded by the
  // server. None elsewhere (and in the flow runtime).
  std::optional<CachedResult> cached;
  // Task runs proposed RUNNING: the concurrency limits of their tags, loaded (and locked) by
  // the server. Empty elsewhere (and in the flow runtime).
  std::vector<TagLimit> tag_limits;
};

// What a rule says. A rule that leaves `decision` at kAccept lets the chain go on.
struct Verdict {
  Decision decision = Decision::kAccept;
  std::string reason;
  double wait_seconds = 0;
  bool already_applied = false;   // ACCEPT without writing: the proposal was applied before
  std::vector<State> follow_ups;  // states written right after the proposed one
  // REJECT and write this state instead of the proposal (e.g. Cached for RUNNING).
  std::optional<State> write_instead;
};

class Rule {
 public:
  virtual ~Rule() = default;
  virtual const char* Name() const = 0;
  virtual const char* Transitions() const = 0;  // for people: "RUNNING -> FAILED"
  virtual const char* Description() const = 0;
  virtual bool AppliesTo(RunKind kind) const {
    (void)kind;
    return true;
  }
  // May adjust ctx.proposed (fill a field) or set a verdict that stops the chain.
  virtual void Apply(TransitionContext& ctx, Verdict& verdict) const = 0;
};

// The result of running the chain.
struct Outcome {
  Decision decision = Decision::kAccept;
  std::vector<State> to_write;  // ACCEPT: the states to append to the history, in order;
                                // REJECT: the state a rule wrote instead (Cached), if any
  std::optional<State> state;   // the state that holds afterwards (none: run has no state yet)
  std::string reason;
  std::string rule;             // the rule that decided, when not ACCEPT (or that added follow-ups)
  double wait_seconds = 0;
  int run_count = 0;            // the run's run_count afterwards
};

class Policy {
 public:
  explicit Policy(std::vector<std::unique_ptr<Rule>> rules) : rules_(std::move(rules)) {}
  Outcome Apply(TransitionContext ctx) const;
  const std::vector<std::unique_ptr<Rule>>& rules() const { return rules_; }

 private:
  std::vector<std::unique_ptr<Rule>> rules_;
};

// The chain the server and the flow runtime use, in order.
const Policy& DefaultPolicy();

// run_count after `proposed` is accepted over `initial`.
int RunCountAfter(const std::optional<State>& initial, const State& proposed, int run_count);

}  // namespace weft::core::orchestration
