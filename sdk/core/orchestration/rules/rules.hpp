#pragma once
// The rules of the default chain; each is a small class in its own file.
#include "sdk/core/orchestration/rule.hpp"

namespace weft::core::orchestration::rules {

#define WEFT_DECLARE_RULE(NAME)                                   \
  class NAME final : public Rule {                                \
   public:                                                        \
    const char* Name() const override { return #NAME; }           \
    const char* Transitions() const override;                     \
    const char* Description() const override;                     \
    void Apply(TransitionContext& ctx, Verdict& v) const override; \
  };

// A proposal carrying the idempotency key of the state that holds is accepted without a write.
WEFT_DECLARE_RULE(IgnoreRepeatedProposals)
// A run in a terminal state stays there (a retry's follow-up or a forced state aside).
WEFT_DECLARE_RULE(KeepTerminalStatesTerminal)
// Only a SCHEDULED run can be claimed (moved to PENDING); a second claim is told ABORT.
WEFT_DECLARE_RULE(PreventDuplicateClaims)
// Rejects transitions the state machine does not have, and redundant ones (RUNNING -> RUNNING).
WEFT_DECLARE_RULE(PreventInvalidTransitions)
// A SCHEDULED run cannot start before its scheduled time: WAIT.
WEFT_DECLARE_RULE(WaitForScheduledTime)
// A SCHEDULED proposal without a time keeps the run's scheduled time.
WEFT_DECLARE_RULE(CopyScheduledTime)
// RUNNING -> FAILED with retries left: the failure is recorded, then AwaitingRetry.
WEFT_DECLARE_RULE(RetryFailedRuns)

#undef WEFT_DECLARE_RULE

// A task run carrying a tag whose concurrency limit is full cannot start: WAIT (limit 0: ABORT).
class SecureConcurrencySlots final : public Rule {
 public:
  const char* Name() const override { return "SecureConcurrencySlots"; }
  const char* Transitions() const override;
  const char* Description() const override;
  bool AppliesTo(RunKind kind) const override;
  void Apply(TransitionContext& ctx, Verdict& v) const override;
};

// A task run with a valid cached result for its key does not run: RUNNING is refused and
// the run is written Cached (COMPLETED) carrying that result.
class UseCachedResult final : public Rule {
 public:
  const char* Name() const override { return "UseCachedResult"; }
  const char* Transitions() const override;
  const char* Description() const override;
  bool AppliesTo(RunKind kind) const override;
  void Apply(TransitionContext& ctx, Verdict& v) const override;
};

}  // namespace weft::core::orchestration::rules
