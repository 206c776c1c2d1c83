#pragma once
// States: a type, a name refining it, a time and a message. Pure values, no I/O.
#include <optional>
#include <string>
#include <string_view>

#include "sdk/core/time.hpp"

namespace weft::core {

enum class StateType {
  kScheduled = 1,
  kPending = 2,
  kRunning = 3,
  kCompleted = 4,
  kFailed = 5,
  kCancelling = 6,
  kCancelled = 7,
  kCrashed = 8,
  kPaused = 9,
};

// "SCHEDULED", "PENDING", ...
const char* StateTypeName(StateType type);
// The default state name of a type: "Scheduled", "Pending", ...
const char* DefaultStateName(StateType type);
// Accepts type names in any case ("failed", "FAILED") and state names ("Late", "TimedOut").
std::optional<StateType> ParseStateType(std::string_view text);
bool IsTerminal(StateType type);

struct State {
  StateType type = StateType::kPending;
  std::string name;                        // never empty once built through the helpers below
  TimePoint timestamp{};
  std::string message;
  std::string details_json;                // "" or a JSON object
  std::optional<TimePoint> scheduled_time;  // SCHEDULED states: when due
  std::string idempotency_key;
  // A COMPLETED task run's result as JSON text ("" = none): proposed with Completed when the
  // run has a cache key or persists its result; set on a Cached answer. Not part of the history.
  std::string result_json;

  bool IsTerminal() const { return core::IsTerminal(type); }
  // "Failed", or "Failed(TimedOut)" style when the name differs from the type's default? No:
  // the name is what people read; the type is what rules read.
  std::string Describe() const;
};

// Builders for the named states. `now` is the state's timestamp.
State MakeState(StateType type, TimePoint now, std::string name = {}, std::string message = {});
State Scheduled(TimePoint now, TimePoint when, std::string message = {});
State Late(TimePoint now, TimePoint when);
State AwaitingRetry(TimePoint now, TimePoint when, std::string message = {});
State Pending(TimePoint now);
State Running(TimePoint now);
State Retrying(TimePoint now);
State Completed(TimePoint now, std::string message = {});
State Cached(TimePoint now, std::string message = {});
State Failed(TimePoint now, std::string message, std::string details_json = {});
State TimedOut(TimePoint now, std::string message);
State Crashed(TimePoint now, std::string message);
State Cancelling(TimePoint now, std::string message = {});
State Cancelled(TimePoint now, std::string message = {});
State Paused(TimePoint now, std::string message = {});

}  // namespace weft::core
