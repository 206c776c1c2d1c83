// The one name rule (sdk/core/names.hpp) and the negative-duration check (sdk/core/time.hpp).
#include "sdk/core/names.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "sdk/core/deployment_spec.hpp"
#include "sdk/core/time.hpp"

using namespace weft::core;

namespace {

std::string MessageOf(const Status& s) { return s.ok() ? "" : s.error().message; }

// The first error reading and checking a deployment spec with `extra` fields, "" when none.
std::string SpecError(const std::string& extra) {
  std::string text =
      R"({"name": "weekly", "flow_name": "etl", "entrypoint": ["./etl"], )" + extra + "}";
  auto specs = DeploymentSpecsFromJson(text, "deploy.yaml");
  if (!specs.ok()) return specs.error().message;
  auto s = ValidateDeploymentSpec(specs->front(), "deploy.yaml");
  return s.ok() ? "" : s.error().message;
}

}  // namespace

TEST_CASE("names: letters, digits, '_', '.', '-', 1 to 200 characters", "[names]") {
  CHECK(IsValidName("etl"));
  CHECK(IsValidName("nightly-2.v_1"));
  CHECK(IsValidName(std::string(kMaxNameLength, 'q')));
  CHECK_FALSE(IsValidName(""));
  CHECK_FALSE(IsValidName(std::string(kMaxNameLength + 1, 'q')));
  CHECK_FALSE(IsValidName("bad name"));
  CHECK_FALSE(IsValidName("flow/deployment"));
  CHECK_FALSE(IsValidName("caf\xc3\xa9"));  // ASCII letters only
  CHECK_FALSE(IsValidName("a@b"));
  CHECK(IsValidName("a@b", 64, "@"));
  CHECK_FALSE(IsValidName(std::string(65, 'k'), 64, "@"));
}

TEST_CASE("names: the message names the field, the characters and the maximum", "[names]") {
  CHECK(MessageOf(CheckName("", "name")) == "name: required");
  CHECK(MessageOf(CheckName(std::string(2000, 'q'), "name")) ==
        "name: is 2000 characters long; at most 200 (letters, digits, '_', '.' and '-')");
  CHECK(MessageOf(CheckName("bad name", "work_queue")) ==
        "work_queue: \"bad name\" may contain only letters, digits, '_', '.' and '-' (at most "
        "200)");
  CHECK(MessageOf(CheckName("a b", "name", 64, "@")) ==
        "name: \"a b\" may contain only letters, digits, '_', '.', '-' and '@' (at most 64)");
  CHECK(CheckName("etl", "name").ok());
  CHECK(CheckName("etl", "name").ok());
  // A 100,000-character name is not echoed back.
  std::string huge(100000, 'x');
  huge[50000] = ' ';
  CHECK(MessageOf(CheckName(huge, "name")).size() < 200);
}

TEST_CASE("names: quoted in messages without control bytes and cut after 80 bytes", "[names]") {
  CHECK(QuoteName("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(QuoteName("a\nb\x1b[31m") == "\"a\\x0ab\\x1b[31m\"");
  std::string long_name(300, 'z');
  CHECK(QuoteName(long_name) == "\"" + std::string(80, 'z') + "\"...");
  // Not cut inside a UTF-8 sequence: 79 ASCII bytes, then a 2-byte character.
  std::string utf8 = std::string(79, 'a') + "\xc3\xa9" + std::string(10, 'b');
  CHECK(QuoteName(utf8) == "\"" + std::string(79, 'a') + "\"...");
}

TEST_CASE("display names: flows, runs and agents are text without control characters", "[names]") {
  CHECK(CheckFlowName("hello", "name").ok());
  CHECK(CheckFlowName("Daily report (EU)", "name").ok());
  CHECK(CheckFlowName("r\xc3\xa9sum\xc3\xa9", "name").ok());
  CHECK(CheckFlowName(std::string(kMaxDisplayNameLength, 'f'), "name").ok());
  CHECK(MessageOf(CheckFlowName("", "name")) == "name: required");
  CHECK(MessageOf(CheckFlowName(std::string(2700, 'f'), "name")) ==
        "name: is 2700 bytes long; at most 200");
  CHECK(MessageOf(CheckFlowName("a\nb", "name")) ==
        "name: \"a\\x0ab\" contains a control character");
  CHECK(MessageOf(CheckFlowName("a\x7f", "name")) ==
        "name: \"a\\x7f\" contains a control character");
  CHECK(MessageOf(CheckFlowName("\xff\xfe", "name")) == "name: is not valid UTF-8");
  CHECK(MessageOf(CheckFlowName("a\xc2\x9b[2J", "name")) ==
        "name: \"a\\u009b[2J\" contains a control character");
  CHECK(MessageOf(CheckFlowName("etl/nightly", "flow_name")) ==
        "flow_name: \"etl/nightly\" must not contain '/' (FLOW/NAME names a deployment)");
  // Optional display names (a run's name, an agent's name) may be empty.
  CHECK(CheckDisplayName("", "agent.name", false).ok());
  CHECK(CheckDisplayName("build box #3", "agent.name", false).ok());
  CHECK(MessageOf(CheckDisplayName("a\tb", "agent.name", false)) ==
        "agent.name: \"a\\x09b\" contains a control character");
}

TEST_CASE("durations: a negative one is called negative", "[names][time]") {
  CHECK(IsNegativeDuration("-5"));
  CHECK(IsNegativeDuration(" -10m "));
  CHECK(IsNegativeDuration("-1h30m"));
  CHECK_FALSE(IsNegativeDuration("5"));
  CHECK_FALSE(IsNegativeDuration("-"));
  CHECK_FALSE(IsNegativeDuration("-x"));
  CHECK_FALSE(IsNegativeDuration("-0"));
  CHECK_FALSE(IsNegativeDuration("--5"));
  CHECK_FALSE(ParseDurationSeconds("-5").has_value());
}

TEST_CASE("deployment specs: a negative duration says so", "[names][deployment_spec]") {
  // YAML hands `timeout: -5` over as the string "-5".
  CHECK(SpecError(R"("timeout": "-5")") ==
        "deploy.yaml: timeout: must not be negative, got \"-5\"");
  CHECK(SpecError(R"("max_lateness": "-10m")") ==
        "deploy.yaml: max_lateness: must not be negative, got \"-10m\"");
  CHECK(SpecError(R"("schedule": {"interval": "-1h"})") ==
        "deploy.yaml: schedule.interval: must not be negative, got \"-1h\"");
  CHECK(SpecError(R"("timeout": "-soon")").find("expected a duration") != std::string::npos);
  CHECK(SpecError(R"("timeout": "5m")") == "");
}

TEST_CASE("deployment specs: names follow the one rule", "[names][deployment_spec]") {
  std::string q2000(2000, 'q');
  CHECK(SpecError(R"("work_queue": ")" + q2000 + "\"") ==
        "deploy.yaml: work_queue: is 2000 characters long; at most 200 (letters, digits, '_', "
        "'.' and '-')");
  CHECK(SpecError(R"("work_queue": ")" + std::string(200, 'q') + "\"") == "");
}
