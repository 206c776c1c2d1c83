#pragma once
// The one door for every state change: lock the run (FOR UPDATE), apply the rule chain
// from sdk/core (DefaultPolicy), append accepted states to the history, update the run
// row, commit. Run creation and batched reports reuse the pure pieces (Decide,
// ApplyAccepted) inside their own transactions, so every state goes through the same rules.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/core/error.hpp"
#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/time.hpp"
#include "server/store/database.hpp"
#include "server/store/records.hpp"

namespace weft::server::orchestration {

using core::orchestration::Outcome;
using core::orchestration::RunKind;

struct SetStateResult {
  Outcome outcome;
  std::int64_t state_id = 0;  // history id of the state that holds afterwards (0: none)
};

class Orchestrator {
 public:
  Orchestrator(store::Database& db, const core::Clock& clock,
               std::shared_ptr<spdlog::logger> logger);

  // Proposes `proposed` for the run. Never throws: database problems come back as Error.
  // Unknown run id -> NOT_FOUND naming the id.
  core::Result<SetStateResult> SetState(RunKind kind, const std::string& run_id,
                                        core::State proposed, bool force);

  // Pure pieces, used inside other transactions with the run row already locked.
  // `tag_limits`: for a task run proposed RUNNING, the concurrency limits of its tags with
  // their other live holders (SlotBook in concurrency_manager.hpp); null = none.
  Outcome Decide(RunKind kind, const store::RunFacts& facts, core::State proposed, bool force,
                 core::TimePoint now,
                 const std::vector<core::orchestration::TagLimit>* tag_limits = nullptr,
                 const core::orchestration::CachedResult* cached = nullptr) const;
  // Updates the run's facts for states appended in order (state, start/end times,
  // expected start, total run time). The caller sets run_count and state_id.
  static void ApplyAccepted(store::RunFacts& facts, const std::vector<core::State>& written);
  static void ApplyAccepted(store::RunFacts& facts, const core::State& written);

  // Called with every decision Decide() makes (metrics), on the deciding thread, inside
  // the caller's transaction: it must be cheap and must not throw. Set before serving.
  using DecisionObserver =
      std::function<void(RunKind kind, std::string_view proposed_name, const Outcome& outcome)>;
  void SetDecisionObserver(DecisionObserver observer) { observer_ = std::move(observer); }

  // Slot holders whose flow run has not heartbeaten for this long are not counted (the
  // reaper will crash them); 0 = not checked. Set before serving.
  void SetSlotHolderTimeout(double seconds) { slot_holder_timeout_seconds_ = seconds; }
  core::TimePoint SlotHoldersLiveAfter(core::TimePoint now) const {
    return slot_holder_timeout_seconds_ > 0 ? now - core::FromSeconds(slot_holder_timeout_seconds_)
                                            : core::TimePoint{};
  }

  // Results (State.result_json): the largest stored, in bytes. Set before serving.
  void SetMaxResultSize(long long bytes) { max_result_size_ = bytes; }
  long long max_result_size() const { return max_result_size_; }
  // A proposed state's result: only a COMPLETED task run state carries one, it must be JSON
  // and at most max_result_size() bytes. INVALID_ARGUMENT naming `field` and the run otherwise.
  core::Status CheckResult(RunKind kind, const std::string& run_id, const core::State& s,
                           const std::string& field = "state.result_json") const;
  // Stores the results of task run states just written (inside the caller's transaction):
  // a COMPLETED state's result_json, or for a Cached state written instead of RUNNING, a
  // reference to `cached`'s run. Clears result_json from `written` afterwards.
  void StoreResults(store::Tx& tx, const std::string& task_run_id,
                    std::vector<core::State>& written,
                    const core::orchestration::CachedResult* cached, core::TimePoint now) const;

  const core::Clock& clock() const { return clock_; }
  spdlog::logger& logger() const { return *logger_; }
  store::Database& db() const { return db_; }

 private:
  store::Database& db_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> logger_;
  DecisionObserver observer_;
  double slot_holder_timeout_seconds_ = 0;
  long long max_result_size_ = 1LL << 20;
};

// A draw in [0, 1) for retry jitter.
double UnitRandom();
// "flow run" / "task run"
const char* RunNoun(RunKind kind);

}  // namespace weft::server::orchestration
