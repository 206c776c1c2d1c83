#include "sdk/core/state.hpp"

#include <algorithm>
#include <cctype>

#include "sdk/core/bounds.hpp"

namespace weft::core {

const char* StateTypeName(StateType type) {
  switch (type) {
    case StateType::kScheduled: return "SCHEDULED";
    case StateType::kPending: return "PENDING";
    case StateType::kRunning: return "RUNNING";
    case StateType::kCompleted: return "COMPLETED";
    case StateType::kFailed: return "FAILED";
    case StateType::kCancelling: return "CANCELLING";
    case StateType::kCancelled: return "CANCELLED";
    case StateType::kCrashed: return "CRASHED";
    case StateType::kPaused: return "PAUSED";
  }
  return "UNKNOWN";
}

const char* DefaultStateName(StateType type) {
  switch (type) {
    case StateType::kScheduled: return "Scheduled";
    case StateType::kPending: return "Pending";
    case StateType::kRunning: return "Running";
    case StateType::kCompleted: return "Completed";
    case StateType::kFailed: return "Failed";
    case StateType::kCancelling: return "Cancelling";
    case StateType::kCancelled: return "Cancelled";
    case StateType::kCrashed: return "Crashed";
    case StateType::kPaused: return "Paused";
  }
  return "Unknown";
}

std::optional<StateType> ParseStateType(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (int i = 1; i <= 9; ++i) {
    auto t = static_cast<StateType>(i);
    if (upper == StateTypeName(t)) return t;
  }
  if (upper == "LATE" || upper == "AWAITINGRETRY") return StateType::kScheduled;
  if (upper == "RETRYING") return StateType::kRunning;
  if (upper == "CACHED") return StateType::kCompleted;
  if (upper == "TIMEDOUT") return StateType::kFailed;
  return std::nullopt;
}

std::string_view StateNameLabel(std::string_view name) {
  static constexpr std::string_view kKnown[] = {
      "Scheduled", "Late",   "AwaitingRetry", "Pending",  "Running",    "Retrying",  "Completed",
      "Cached",    "Failed", "TimedOut",      "Crashed",  "Cancelling", "Cancelled", "Paused"};
  for (auto known : kKnown) {
    if (name == known) return known;
  }
  return "other";
}

bool IsTerminal(StateType type) {
  return type == StateType::kCompleted || type == StateType::kFailed ||
         type == StateType::kCancelled || type == StateType::kCrashed;
}

std::string State::Describe() const {
  std::string out = name.empty() ? DefaultStateName(type) : name;
  if (!message.empty()) out += ": " + message;
  return out;
}

State MakeState(StateType type, TimePoint now, std::string name, std::string message) {
  State s;
  s.type = type;
  s.name = name.empty() ? DefaultStateName(type) : std::move(name);
  s.timestamp = now;
  s.message = std::move(message);
  return s;
}

State Scheduled(TimePoint now, TimePoint when, std::string message) {
  State s = MakeState(StateType::kScheduled, now, "Scheduled", std::move(message));
  s.scheduled_time = when;
  return s;
}
State Late(TimePoint now, TimePoint when) {
  State s = MakeState(StateType::kScheduled, now, "Late");
  s.scheduled_time = when;
  return s;
}
State AwaitingRetry(TimePoint now, TimePoint when, std::string message) {
  State s = MakeState(StateType::kScheduled, now, "AwaitingRetry", std::move(message));
  s.scheduled_time = when;
  return s;
}
State Pending(TimePoint now) { return MakeState(StateType::kPending, now); }
State Running(TimePoint now) { return MakeState(StateType::kRunning, now); }
State Retrying(TimePoint now) { return MakeState(StateType::kRunning, now, "Retrying"); }
State Completed(TimePoint now, std::string message) {
  return MakeState(StateType::kCompleted, now, "Completed", std::move(message));
}
State Cached(TimePoint now, std::string message) {
  return MakeState(StateType::kCompleted, now, "Cached", std::move(message));
}
State Failed(TimePoint now, std::string message, std::string details_json) {
  State s = MakeState(StateType::kFailed, now, "Failed", std::move(message));
  s.details_json = std::move(details_json);
  return s;
}
State TimedOut(TimePoint now, std::string message) {
  return MakeState(StateType::kFailed, now, "TimedOut", std::move(message));
}
State Crashed(TimePoint now, std::string message) {
  return MakeState(StateType::kCrashed, now, "Crashed", std::move(message));
}
State Cancelling(TimePoint now, std::string message) {
  return MakeState(StateType::kCancelling, now, "Cancelling", std::move(message));
}
State Cancelled(TimePoint now, std::string message) {
  return MakeState(StateType::kCancelled, now, "Cancelled", std::move(message));
}
State Paused(TimePoint now, std::string message) {
  return MakeState(StateType::kPaused, now, "Paused", std::move(message));
}

}  // namespace weft::core
