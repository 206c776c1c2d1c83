#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/agent.hpp"

using namespace weft::agent;
using weft::core::StateType;

namespace {
const weft::core::TimePoint kNow =
    std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 56);
}

TEST_CASE("agent outcome: exit 0 -> Completed", "[agent][outcome]") {
  auto s = OutcomeFor(ExitStatus{false, 0, 0}, StopReason::kNone, 0, kNow);
  CHECK(s.type == StateType::kCompleted);
  CHECK(s.name == "Completed");
  CHECK(s.message == "process exited with code 0");
  CHECK(nlohmann::json::parse(s.details_json) == nlohmann::json{{"exit_code", 0}});
  CHECK(s.timestamp == kNow);
}

TEST_CASE("agent outcome: exit N -> Failed with the code", "[agent][outcome]") {
  auto s = OutcomeFor(ExitStatus{false, 3, 0}, StopReason::kNone, 0, kNow);
  CHECK(s.type == StateType::kFailed);
  CHECK(s.name == "Failed");
  CHECK(s.message == "process exited with code 3");
  CHECK(nlohmann::json::parse(s.details_json)["exit_code"] == 3);
}

TEST_CASE("agent outcome: a signal -> Crashed naming it", "[agent][outcome]") {
  auto s = OutcomeFor(ExitStatus{true, 0, SIGSEGV}, StopReason::kNone, 0, kNow);
  CHECK(s.type == StateType::kCrashed);
  CHECK(s.message == "process killed by signal SIGSEGV (11)");
  auto d = nlohmann::json::parse(s.details_json);
  CHECK(d["signal"] == 11);
  CHECK(d["signal_name"] == "SIGSEGV");
}

TEST_CASE("agent outcome: the agent's own stops", "[agent][outcome]") {
  auto t = OutcomeFor(ExitStatus{true, 0, SIGTERM}, StopReason::kTimeout, 30, kNow);
  CHECK(t.type == StateType::kFailed);
  CHECK(t.name == "TimedOut");
  CHECK(t.message.find("timeout of 30s") != std::string::npos);
  CHECK(nlohmann::json::parse(t.details_json)["timeout_seconds"] == 30.0);

  auto c = OutcomeFor(ExitStatus{false, 0, 0}, StopReason::kCancel, 0, kNow);
  CHECK(c.type == StateType::kCancelled);
  CHECK(c.name == "Cancelled");

  auto sd = OutcomeFor(ExitStatus{true, 0, SIGKILL}, StopReason::kShutdown, 0, kNow);
  CHECK(sd.type == StateType::kCrashed);
  CHECK(sd.message.find("SIGKILL") != std::string::npos);
}

TEST_CASE("agent outcome: signal names", "[agent][outcome]") {
  CHECK(SignalName(SIGSEGV) == "SIGSEGV");
  CHECK(SignalName(SIGKILL) == "SIGKILL");
  CHECK(SignalName(SIGTERM) == "SIGTERM");
  CHECK(SignalName(200) == "SIG200");
}

TEST_CASE("agent backoff: full jitter under an exponential cap", "[agent][backoff]") {
  CHECK(BackoffSeconds(0, 0.0) == 0.0);
  CHECK(BackoffSeconds(0, 0.999) == Approx(0.0999));
  CHECK(BackoffSeconds(3, 0.5) == Approx(0.4));  // 0.1 * 2^3 = 0.8, half of it
  CHECK(BackoffSeconds(20, 0.999) <= 30.0);
  CHECK(BackoffSeconds(20, 0.999) == Approx(29.97));
  CHECK(BackoffSeconds(1000, 0.5) == Approx(15));
}

TEST_CASE("agent ids are version 4 UUIDs, different each time", "[agent]") {
  std::string a = NewAgentId(), b = NewAgentId();
  CHECK(a.size() == 36);
  CHECK(a[14] == '4');
  CHECK(a != b);
}
