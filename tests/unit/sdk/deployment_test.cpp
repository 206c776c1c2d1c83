// Deployments declared in a flow program: what `program --weft-describe` prints, and the
// checks of a declaration against the flow (parameters, schedule, names).
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "sdk/core/deployment_spec.hpp"
#include "sdk/flow/weft.hpp"

namespace {

using namespace std::chrono_literals;
using weft::core::CatchupPolicy;

weft::Flow TestFlow() {
  return weft::flow(
      "train", [](weft::FlowContext&) {},
      weft::FlowOptions{.params = {
                            weft::Param::Int("months").Default(2).Range(1, 11),
                            weft::Param::Double("rate").Default(0.5),
                            weft::Param::String("region"),  // required
                            weft::Param::Bool("dry_run").Default(false),
                        }});
}

// Runs Main with these arguments and returns {exit code, stdout, stderr}.
struct Ran {
  int code;
  std::string out;
  std::string err;
};
Ran RunMain(const weft::Flow& flow, const std::vector<weft::Deployment>& deployments,
            std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  int code = weft::Main(static_cast<int>(args.size()), argv.data(), flow, deployments);
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  return {code, out.str(), err.str()};
}

std::string ErrorOf(const weft::Deployment& d) {
  auto specs = weft::DeploymentSpecs(TestFlow(), {d}, "./build/train");
  if (specs.ok()) return "";
  CHECK(specs.error().code == weft::core::Code::kInvalidArgument);
  return specs.error().message;
}

}  // namespace

TEST_CASE("describe: --weft-describe prints the declared deployments as spec JSON and exits 0",
          "[deployment]") {
  std::vector<weft::Deployment> deployments = {
      weft::Deployment{
          .name = "weekly",
          .description = "every Monday morning",
          .version = "3",
          .schedule = weft::Cron("0 6 * * 1", "Europe/Berlin"),
          .parameters = {{"months", 3}, {"region", "eu"}, {"rate", 0.25}, {"dry_run", true}},
          .tags = {"ml"},
          .work_queue = "ml",
          .storage = "server",
          .include = {"data/zones.csv"},
          .catchup = {.policy = CatchupPolicy::kAll, .max_lateness_seconds = 3600},
      },
      weft::Deployment{.name = "adhoc", .parameters = {{"region", "us"}}},
      weft::Deployment{.name = "hourly",
                       .schedule = weft::Interval(1h, "UTC", "2026-01-05T06:00:00Z"),
                       .parameters = {{"region", "eu"}},
                       .runner = {.type = "docker", .image = "weft/train:3"}},
      weft::Deployment{.name = "rule",
                       .schedule = weft::RRule("FREQ=WEEKLY;BYDAY=MO;BYHOUR=6;BYMINUTE=0",
                                               "America/New_York"),
                       .parameters = {{"region", "us"}}},
      weft::Deployment{.name = "mondays",
                       .schedule = weft::Interval(std::chrono::hours(24 * 7), "Europe/Berlin"),
                       .parameters = {{"region", "eu"}},
                       .paused = true},
  };
  Ran r = RunMain(TestFlow(), deployments, {"/opt/flows/train", "--weft-describe"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());

  auto specs = weft::core::DeploymentSpecsFromJson(r.out, "program ./train");
  REQUIRE(specs.ok());
  REQUIRE(specs->size() == 5);
  const auto& weekly = specs->at(0);
  CHECK(weekly.FullName() == "train/weekly");
  CHECK(weekly.description == "every Monday morning");
  CHECK(weekly.version == "3");
  CHECK(weekly.entrypoint == std::vector<std::string>{"./train"});
  CHECK(weekly.include == std::vector<std::string>{"train", "data/zones.csv"});
  CHECK(weekly.storage == "server");
  CHECK(weekly.work_queue == "ml");
  CHECK(weekly.tags == std::vector<std::string>{"ml"});
  CHECK(weekly.parameters_json ==
        R"({"dry_run":true,"months":3,"rate":0.25,"region":"eu"})");
  const auto& cron = std::get<weft::core::CronSchedule>(*weekly.schedule);
  CHECK(cron.expression == "0 6 * * 1");
  CHECK(cron.timezone == "Europe/Berlin");
  CHECK(weekly.catchup.policy == CatchupPolicy::kAll);
  CHECK(weekly.catchup.max_lateness_seconds == 3600);
  CHECK(weekly.runner.type == "process");
  CHECK_FALSE(weekly.paused);

  const auto& adhoc = specs->at(1);
  CHECK_FALSE(adhoc.schedule.has_value());
  CHECK(adhoc.work_queue == "default");
  CHECK(adhoc.include == std::vector<std::string>{"train"});
  CHECK(adhoc.catchup.policy == CatchupPolicy::kLatest);

  const auto& hourly = std::get<weft::core::IntervalSchedule>(*specs->at(2).schedule);
  CHECK(hourly.interval_seconds == 3600);
  CHECK(weft::core::FormatTime(*hourly.anchor) ==
        weft::core::FormatTime(*weft::core::ParseTime("2026-01-05T06:00:00Z")));
  CHECK(specs->at(2).runner.type == "docker");
  CHECK(specs->at(2).runner.image == "weft/train:3");

  const auto& rule = std::get<weft::core::RRuleSchedule>(*specs->at(3).schedule);
  CHECK(rule.rrule == "FREQ=WEEKLY;BYDAY=MO;BYHOUR=6;BYMINUTE=0");
  CHECK(rule.timezone == "America/New_York");

  const auto& weekly_interval = std::get<weft::core::IntervalSchedule>(*specs->at(4).schedule);
  CHECK(weekly_interval.interval_seconds == 7 * 24 * 3600);
  CHECK(weekly_interval.timezone == "Europe/Berlin");
  CHECK_FALSE(weekly_interval.anchor.has_value());
  CHECK(specs->at(4).paused);

  // The text is exactly the core JSON form of the same specs.
  auto direct = weft::DeploymentSpecs(TestFlow(), deployments, "/opt/flows/train");
  REQUIRE(direct.ok());
  CHECK(r.out == weft::core::DeploymentSpecsToJson(*direct) + "\n");
}

TEST_CASE("a program without deployments describes an empty list", "[deployment]") {
  Ran r = RunMain(TestFlow(), {}, {"./train", "--weft-describe"});
  CHECK(r.code == 0);
  CHECK(r.out == "[]\n");
}

TEST_CASE("describe: --help mentions --weft-describe", "[deployment]") {
  Ran r = RunMain(TestFlow(), {}, {"./train", "--help"});
  CHECK(r.code == 0);
  CHECK(r.out.find("--weft-describe") != std::string::npos);
}

TEST_CASE("deployment parameters are checked against the flow's declared parameters",
          "[deployment]") {
  const std::string at = "program ./train: deployment \"d\": ";
  CHECK(ErrorOf({.name = "d", .parameters = {{"monthz", 3}, {"region", "eu"}}}) ==
        at + "parameter \"monthz\": unknown parameter (known: months, rate, region, dry_run)");
  CHECK(ErrorOf({.name = "d", .parameters = {{"months", "three"}, {"region", "eu"}}}) ==
        at + "parameter \"months\": expected an integer, got \"three\"");
  CHECK(ErrorOf({.name = "d", .parameters = {{"months", 12}, {"region", "eu"}}}) ==
        at + "parameter \"months\": must be between 1 and 11, got 12");
  CHECK(ErrorOf({.name = "d", .parameters = {{"dry_run", 3}, {"region", "eu"}}}).rfind(
            at + "parameter \"dry_run\": ", 0) == 0);
  CHECK(ErrorOf({.name = "d", .parameters = {{"region", 7}}}).rfind(
            at + "parameter \"region\": ", 0) == 0);
  // Text forms parse like --param text; an int for a double converts.
  CHECK(ErrorOf({.name = "d", .parameters = {{"months", "4"}, {"rate", 1}, {"region", "eu"}}})
            .empty());
  // A required parameter may be left to each run of an unscheduled deployment...
  CHECK(ErrorOf({.name = "d"}).empty());
  // ... but scheduled runs need it.
  CHECK(ErrorOf({.name = "d", .schedule = weft::Cron("@daily")}) ==
        at + "parameter \"region\": required (string) but not given; a scheduled deployment "
             "must set it in .parameters");
}

TEST_CASE("declaration errors name the program, the deployment and the field",
          "[deployment]") {
  const std::string at = "program ./train: deployment ";
  CHECK(ErrorOf({.name = "we ekly"}) ==
        at + "\"we ekly\": name: \"we ekly\" may contain only letters, digits, '_', '.' and '-' "
             "(at most 200)");
  CHECK(ErrorOf({.name = ""}) == at + "\"\": name: required");
  CHECK(ErrorOf({.name = "d",
                 .schedule = weft::Cron("0 6 * * 8"),
                 .parameters = {{"region", "eu"}}}) ==
        at + "\"d\": schedule.cron: field 5 (day of week) \"8\" is out of range 0-7");
  CHECK(ErrorOf({.name = "d",
                 .schedule = weft::Cron("0 6 * * 1", "Mars/Olympus"),
                 .parameters = {{"region", "eu"}}}) ==
        at + "\"d\": schedule.timezone: unknown time zone \"Mars/Olympus\"");
  CHECK(ErrorOf({.name = "d",
                 .schedule = weft::Interval(1h, "", "monday"),
                 .parameters = {{"region", "eu"}}}) ==
        at + "\"d\": schedule.anchor: expected an RFC 3339 time like \"2026-01-05T06:00:00Z\", "
             "got \"monday\"");
  CHECK(ErrorOf({.name = "d", .runner = {.type = "docker"}}) ==
        at + "\"d\": runner.image: required for runner type docker");

  auto twice = weft::DeploymentSpecs(TestFlow(), {{.name = "d"}, {.name = "d"}}, "./train");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().message ==
        at + "\"d\": declared twice (names are unique per flow)");

  Ran r = RunMain(TestFlow(), {{.name = "d", .parameters = {{"monthz", 1}}}},
                  {"./train", "--weft-describe"});
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "error: " + at +
            "\"d\": parameter \"monthz\": unknown parameter (known: months, rate, region, "
            "dry_run)\n");
}

TEST_CASE("a flow with a bad declaration cannot describe deployments", "[deployment]") {
  auto bad = weft::flow("bad", [] {},
                        weft::FlowOptions{.params = {weft::Param::Int("n").Default("x")}});
  auto specs = weft::DeploymentSpecs(bad, {{.name = "d"}}, "./bad");
  REQUIRE_FALSE(specs.ok());
  CHECK(specs.error().message.rfind("program ./bad: flow \"bad\": ", 0) == 0);
}

TEST_CASE("ParamMapToJson writes typed JSON values", "[deployment]") {
  CHECK(weft::ParamMapToJson({}) == "{}");
  CHECK(weft::ParamMapToJson({{"a", 1}, {"b", 2.5}, {"c", true}, {"d", "x\"y"}}) ==
        R"({"a":1,"b":2.5,"c":true,"d":"x\"y"})");
}
