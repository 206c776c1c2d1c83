// sdk/core/deployment_spec: the JSON form (what deploy.yaml becomes and what --weft-describe
// prints) and every validation message a user can meet.
#include <catch2/catch.hpp>
#include <string>

#include "sdk/core/deployment_spec.hpp"
#include "sdk/core/image_ref.hpp"
#include "sdk/core/params.hpp"

namespace {

using namespace weft::core;

// The message of the first error for a JSON document (parsing, then validation); "" if fine.
std::string ErrorOf(const std::string& json_text, const std::string& where = "deploy.yaml") {
  auto specs = DeploymentSpecsFromJson(json_text, where);
  if (!specs.ok()) {
    CHECK(specs.error().code == Code::kInvalidArgument);
    return specs.error().message;
  }
  for (const auto& spec : *specs) {
    auto s = ValidateDeploymentSpec(spec, where);
    if (!s.ok()) {
      CHECK(s.error().code == Code::kInvalidArgument);
      return s.error().message;
    }
  }
  return "";
}

// A valid spec with `extra` merged in (extra is `"key": value, ...` or empty).
std::string Spec(const std::string& extra) {
  std::string base = R"("name": "weekly", "flow_name": "taxi_training", "entrypoint": ["./taxi_training"])";
  return "{" + base + (extra.empty() ? "" : ", " + extra) + "}";
}

DeploymentSpec FullSpec() {
  DeploymentSpec s;
  s.name = "weekly";
  s.flow_name = "taxi_training";
  s.description = "retrain every Monday";
  s.version = "1.2";
  s.entrypoint = {"./taxi_training", "--param", "months=3"};
  s.include = {"taxi_training", "data/zones.csv"};
  s.storage = "flows";
  s.schedule = CronSchedule{"0 6 * * 1", "Europe/Berlin"};
  s.parameters_json = R"({"model_path":"/tmp/model.txt","months":3})";
  s.tags = {"ml", "weekly"};
  s.work_queue = "ml";
  s.runner.type = "docker";
  s.runner.image = "weft/taxi:1";
  s.runner.env = {{"OMP_NUM_THREADS", "2"}};
  s.catchup = {CatchupPolicy::kAll, 7200};
  s.paused = true;
  s.timeout_seconds = 1800;
  return s;
}

void RequireSame(const DeploymentSpec& a, const DeploymentSpec& b) {
  CHECK(a.name == b.name);
  CHECK(a.flow_name == b.flow_name);
  CHECK(a.description == b.description);
  CHECK(a.version == b.version);
  CHECK(a.entrypoint == b.entrypoint);
  CHECK(a.include == b.include);
  CHECK(a.storage == b.storage);
  CHECK(a.parameters_json == b.parameters_json);
  CHECK(a.tags == b.tags);
  CHECK(a.work_queue == b.work_queue);
  CHECK(a.runner.type == b.runner.type);
  CHECK(a.runner.image == b.runner.image);
  CHECK(a.runner.kube_namespace == b.runner.kube_namespace);
  CHECK(a.runner.env == b.runner.env);
  CHECK(a.catchup.policy == b.catchup.policy);
  CHECK(a.catchup.max_lateness_seconds == b.catchup.max_lateness_seconds);
  CHECK(a.paused == b.paused);
  CHECK(a.timeout_seconds == b.timeout_seconds);
  REQUIRE(a.schedule.has_value() == b.schedule.has_value());
  if (a.schedule) {
    REQUIRE(a.schedule->index() == b.schedule->index());
    if (auto* x = std::get_if<IntervalSchedule>(&*a.schedule)) {
      auto& y = std::get<IntervalSchedule>(*b.schedule);
      CHECK(x->interval_seconds == y.interval_seconds);
      CHECK(x->anchor == y.anchor);
      CHECK(x->timezone == y.timezone);
    } else if (auto* c = std::get_if<CronSchedule>(&*a.schedule)) {
      CHECK(c->expression == std::get<CronSchedule>(*b.schedule).expression);
      CHECK(c->timezone == std::get<CronSchedule>(*b.schedule).timezone);
    } else {
      CHECK(std::get<RRuleSchedule>(*a.schedule).rrule ==
            std::get<RRuleSchedule>(*b.schedule).rrule);
      CHECK(std::get<RRuleSchedule>(*a.schedule).timezone ==
            std::get<RRuleSchedule>(*b.schedule).timezone);
    }
  }
}

}  // namespace

TEST_CASE("a deployment spec survives a JSON round trip, every field", "[deployment_spec]") {
  DeploymentSpec cron = FullSpec();
  DeploymentSpec interval = FullSpec();
  interval.name = "hourly";
  interval.runner = RunnerSpec{};
  interval.runner.type = "kubernetes";
  interval.runner.image = "weft/taxi:1";
  interval.runner.kube_namespace = "ml";
  interval.schedule =
      IntervalSchedule{3600, ParseTime("2026-01-05T06:00:00Z"), "America/New_York"};
  DeploymentSpec rrule = FullSpec();
  rrule.name = "mondays";
  rrule.runner = RunnerSpec{};
  rrule.schedule = RRuleSchedule{"FREQ=WEEKLY;BYDAY=MO;BYHOUR=6;BYMINUTE=0", "America/New_York"};
  DeploymentSpec bare;
  bare.name = "manual";
  bare.flow_name = "hello";
  bare.entrypoint = {"./hello_flow"};

  std::vector<DeploymentSpec> in = {cron, interval, rrule, bare};
  for (const auto& s : in) REQUIRE(ValidateDeploymentSpec(s, "test").ok());
  std::string text = DeploymentSpecsToJson(in);
  auto out = DeploymentSpecsFromJson(text, "describe");
  REQUIRE(out.ok());
  REQUIRE(out->size() == in.size());
  for (std::size_t i = 0; i < in.size(); ++i) RequireSame((*out)[i], in[i]);
  CHECK(DeploymentSpecsToJson(*out) == text);  // stable text, too
}

TEST_CASE("the JSON form uses the documented field names", "[deployment_spec]") {
  std::string text = DeploymentSpecsToJson({FullSpec()});
  for (const char* key :
       {"\"name\"", "\"flow_name\"", "\"description\"", "\"version\"", "\"entrypoint\"",
        "\"include\"", "\"storage\"", "\"schedule\"", "\"cron\"", "\"timezone\"", "\"parameters\"",
        "\"tags\"", "\"work_queue\"", "\"runner\"", "\"image\"", "\"namespace\"", "\"env\"",
        "\"catchup\"", "\"policy\"", "\"max_lateness\"", "\"paused\""}) {
    CHECK(text.find(key) != std::string::npos);
  }
  CHECK(text.front() == '[');
  CHECK(DeploymentSpecsToJson({}) == "[]");
}

TEST_CASE("defaults and short forms from YAML", "[deployment_spec]") {
  auto specs = DeploymentSpecsFromJson(
      R"({"name": "n", "flow_name": "f", "entrypoint": "./f --param x=1",
          "include": "f", "tags": "ml", "description": null, "catchup": "none",
          "max_lateness": "30m", "runner": "process", "paused": "yes", "version": 2,
          "schedule": {"interval": "1h30m", "anchor": "2026-01-05T06:00:00+01:00"}})",
      "deploy.yaml");
  REQUIRE(specs.ok());
  const DeploymentSpec& s = specs->at(0);
  CHECK(s.entrypoint == std::vector<std::string>{"./f", "--param", "x=1"});
  CHECK(s.include == std::vector<std::string>{"f"});
  CHECK(s.tags == std::vector<std::string>{"ml"});
  CHECK(s.description.empty());
  CHECK(s.version == "2");
  CHECK(s.work_queue == "default");
  CHECK(s.parameters_json == "{}");
  CHECK(s.catchup.policy == CatchupPolicy::kNone);
  CHECK(s.catchup.max_lateness_seconds == 1800);
  CHECK(s.paused);
  const auto& interval = std::get<IntervalSchedule>(*s.schedule);
  CHECK(interval.interval_seconds == 5400);
  CHECK(FormatTime(*interval.anchor) == FormatTime(*ParseTime("2026-01-05T05:00:00Z")));

  auto defaults = DeploymentSpecsFromJson(Spec(""), "deploy.yaml");
  REQUIRE(defaults.ok());
  CHECK(defaults->at(0).catchup.policy == CatchupPolicy::kLatest);
  CHECK(defaults->at(0).catchup.max_lateness_seconds == 0);
  CHECK(defaults->at(0).runner.type == "process");
  CHECK_FALSE(defaults->at(0).schedule.has_value());
  CHECK(ErrorOf(Spec(R"("catchup": {"policy": "all", "max_lateness": 3600})")).empty());
  CHECK(ErrorOf(Spec(R"("schedule": null)")).empty());
}

TEST_CASE("unknown fields are errors naming them, with a suggestion", "[deployment_spec]") {
  CHECK(ErrorOf(Spec(R"("shedule": {"cron": "0 6 * * 1"})")) ==
        "deploy.yaml: unknown field \"shedule\" (did you mean \"schedule\"?)");
  CHECK(ErrorOf(Spec(R"("colour": "blue")")).rfind(
            "deploy.yaml: unknown field \"colour\" (known: name, flow_name", 0) == 0);
  CHECK(ErrorOf(Spec(R"("schedule": {"cron": "0 6 * * 1", "timezon": "UTC"})")) ==
        "deploy.yaml: schedule: unknown field \"timezon\" (did you mean \"timezone\"?)");
  CHECK(ErrorOf(Spec(R"("runner": {"type": "docker", "imag": "x"})")) ==
        "deploy.yaml: runner: unknown field \"imag\" (did you mean \"image\"?)");
  CHECK(ErrorOf(Spec(R"("catchup": {"polcy": "all"})")) ==
        "deploy.yaml: catchup: unknown field \"polcy\" (did you mean \"policy\"?)");
}

TEST_CASE("schedule errors take the schedule's own message and name the path",
          "[deployment_spec]") {
  std::string cron = ErrorOf(Spec(R"("schedule": {"cron": "0 6 * * 8"})"));
  CHECK(cron == "deploy.yaml: schedule.cron: field 5 (day of week) \"8\" is out of range 0-7");
  CHECK(ErrorOf(Spec(R"("schedule": {"cron": "0 6 * * 1", "timezone": "Mars/Olympus"})")) ==
        "deploy.yaml: schedule.timezone: unknown time zone \"Mars/Olympus\"");
  std::string rrule = ErrorOf(Spec(R"("schedule": {"rrule": "FREQ=FORTNIGHTLY"})"));
  CHECK(rrule.rfind("deploy.yaml: schedule.rrule: ", 0) == 0);
  CHECK(rrule.find("FORTNIGHTLY") != std::string::npos);
  std::string zero = ErrorOf(Spec(R"("schedule": {"interval": 0})"));
  CHECK(zero.rfind("deploy.yaml: schedule.interval: ", 0) == 0);
  // The minimum interval is 1 s, however it is written.
  CHECK(ErrorOf(Spec(R"("schedule": {"interval": "500ms"})")) ==
        "deploy.yaml: schedule.interval: must be at least 1 second, got 0.5 seconds");
  CHECK(ErrorOf(Spec(R"("schedule": {"interval": 0.000001})")) ==
        "deploy.yaml: schedule.interval: must be at least 1 second, got 1e-06 seconds");
  CHECK(ErrorOf(Spec(R"("schedule": {"interval": "1s"})")).empty());

  CHECK(ErrorOf(Spec(R"("schedule": {"timezone": "UTC"})")) ==
        "deploy.yaml: schedule: expected one of interval, cron or rrule");
  CHECK(ErrorOf(Spec(R"("schedule": {"cron": "@daily", "interval": 60})")) ==
        "deploy.yaml: schedule: give only one of interval, cron or rrule");
  CHECK(ErrorOf(Spec(R"("schedule": {"cron": "@daily", "anchor": "2026-01-01T00:00:00Z"})")) ==
        "deploy.yaml: schedule.anchor: only valid with interval");
  CHECK(ErrorOf(Spec(R"("schedule": {"interval": 60, "anchor": "next monday"})")) ==
        "deploy.yaml: schedule.anchor: expected an RFC 3339 time like "
        "\"2026-01-05T06:00:00Z\" or \"2026-01-05T06:00:00+01:00\", got \"next monday\"");
  CHECK(ErrorOf(Spec(R"("schedule": {"interval": "often"})")) ==
        "deploy.yaml: schedule.interval: expected a duration like \"1h\", \"30m\" or \"90s\", "
        "or a number of seconds, got the string \"often\"");
  CHECK(ErrorOf(Spec(R"("schedule": {"cron": 5})")) ==
        "deploy.yaml: schedule.cron: expected a string, got the number 5");
  CHECK(ErrorOf(Spec(R"("schedule": "daily")")) ==
        "deploy.yaml: schedule: expected an object with one of interval, cron or rrule, got "
        "the string \"daily\"");
}

TEST_CASE("runner, catch-up and parameter errors", "[deployment_spec]") {
  CHECK(ErrorOf(Spec(R"("runner": {"type": "docker"})")) ==
        "deploy.yaml: runner.image: required for runner type docker");
  CHECK(ErrorOf(Spec(R"("runner": {"type": "kubernetes"})")) ==
        "deploy.yaml: runner.image: required for runner type kubernetes");
  CHECK(ErrorOf(Spec(R"("runner": {"type": "lambda"})")) ==
        "deploy.yaml: runner.type: must be process, docker or kubernetes, got \"lambda\"");
  CHECK(ErrorOf(Spec(R"("runner": {"image": "x"})")) ==
        "deploy.yaml: runner.image: only used by runner types docker and kubernetes "
        "(runner.type is process)");
  CHECK(ErrorOf(Spec(R"("runner": {"type": "docker", "image": "x", "namespace": "ml"})")) ==
        "deploy.yaml: runner.namespace: only used by runner type kubernetes");
  CHECK(ErrorOf(Spec(R"("runner": {"network": "flows"})")) ==
        "deploy.yaml: runner.network: only used by runner type docker");
  CHECK(ErrorOf(Spec(R"("runner": {"type": "docker", "image": "x", "network": "--privileged"})")) ==
        "deploy.yaml: runner.network: \"--privileged\" is not a docker network name (letters, "
        "digits, '_', '.', '-', starting with a letter or digit)");
  CHECK(ErrorOf(Spec(R"("runner": {"type": "docker", "image": "x", "network": "flows-net"})")) == "");
  CHECK(ErrorOf(Spec(R"("runner": {"env": {"1X": "a"}})")) ==
        "deploy.yaml: runner.env: \"1X\" is not an environment variable name (letters, "
        "digits, '_', not starting with a digit)");
  CHECK(ErrorOf(Spec(R"("runner": {"env": {"A": [1]}})")) ==
        "deploy.yaml: runner.env.A: expected a string, got a list");

  CHECK(ErrorOf(Spec(R"("catchup": {"policy": "some"})")) ==
        "deploy.yaml: catchup.policy: must be all, latest or none, got \"some\"");
  CHECK(ErrorOf(Spec(R"("catchup": "some")")) ==
        "deploy.yaml: catchup.policy: must be all, latest or none, got \"some\"");
  CHECK(ErrorOf(Spec(R"("max_lateness": "soon")")) ==
        "deploy.yaml: max_lateness: expected a duration like \"1h\", \"30m\" or \"90s\", or a "
        "number of seconds, got the string \"soon\"");
  CHECK(ErrorOf(Spec(R"("catchup": {"max_lateness": true})")) ==
        "deploy.yaml: catchup.max_lateness: expected a duration like \"1h\", \"30m\" or "
        "\"90s\", or a number of seconds, got true");
  CHECK(ErrorOf(Spec(R"("max_lateness": -5)")) ==
        "deploy.yaml: catchup.max_lateness: must be >= 0 seconds (0 = no limit), got -5");
  CHECK(ErrorOf(Spec(R"("catchup": {"max_lateness": "1h"}, "max_lateness": "2h")")) ==
        "deploy.yaml: max_lateness: given twice (also as catchup.max_lateness)");

  CHECK(ErrorOf(Spec(R"("parameters": [1, 2])")) ==
        "deploy.yaml: parameters: expected an object (name: value), got a list");
  DeploymentSpec s = FullSpec();
  s.parameters_json = "{nope";
  CHECK(ValidateDeploymentSpec(s, "x").error().message == "x: parameters: not valid JSON");
  s.parameters_json = "42";
  CHECK(ValidateDeploymentSpec(s, "x").error().message ==
        "x: parameters: expected an object (name: value), got the number 42");
}

TEST_CASE("runner.image must be an image reference", "[deployment_spec]") {
  CHECK(ErrorOf(Spec(R"("runner": {"type": "docker", "image": "--privileged"})")) ==
        "deploy.yaml: runner.image: \"--privileged\" is not a valid image reference: starts "
        "with '-'");
  CHECK(ErrorOf(Spec(R"("runner": {"type": "docker", "image": "alpine -v /:/host"})")) ==
        "deploy.yaml: runner.image: \"alpine -v /:/host\" is not a valid image reference: "
        "contains whitespace");
  CHECK(ErrorOf(Spec(R"("runner": {"type": "kubernetes", "image": "Etl/Job:1"})")) ==
        "deploy.yaml: runner.image: \"Etl/Job:1\" is not a valid image reference: path "
        "component \"Etl\" must be lowercase letters and digits joined by '.', '_', '__' or "
        "'-'");
  CHECK(ErrorOf(Spec(R"("runner": {"type": "docker", "image": "alpine:.x"})")) ==
        "deploy.yaml: runner.image: \"alpine:.x\" is not a valid image reference: tag \".x\" "
        "must be 1-128 of letters, digits, '_', '.' and '-', not starting with '.' or '-'");
  CHECK(ErrorOf(Spec(R"("runner": {"type": "docker", "image": "alpine@sha256:abc"})")) ==
        "deploy.yaml: runner.image: \"alpine@sha256:abc\" is not a valid image reference: "
        "digest \"sha256:abc\" must be sha256: and 64 lowercase hex digits");
}

TEST_CASE("image references: the grammar docker accepts", "[deployment_spec][image]") {
  const std::string digest =
      "sha256:" + std::string(32, 'a') + std::string(32, '0');
  for (const std::string& good : std::vector<std::string>{
           "alpine", "alpine:3.20", "library/alpine:latest", "docker.io/library/alpine",
        "registry.example.com/etl:1.4", "registry.example.com:5000/team/etl-job:v1_2.3-rc1",
        "localhost/weft-flow:dev", "localhost:5000/flow", "ghcr.io/o/a__b.c-d---e:_x",
        "my-registry/x", "alpine@" + digest, "alpine:3.20@" + digest,
        "10.0.0.1:5000/etl:" + std::string(128, 'x')}) {
    INFO(good);
    CHECK(ImageReferenceProblem(good).empty());
  }
  for (const std::string& bad : std::vector<std::string>{
           "", "-it", "--privileged", "alpine ls", " alpine", "alpine\n", "Alpine", "alpine:",
        "alpine:-x", "alpine:" + std::string(129, 'x'), "a//b", "/alpine", "alpine/", "a..b",
        "a_-b", "_a", "a_", "reg.example.com:/x", "reg.example.com:99x/x", "-reg.com/x",
        "alpine@sha256:" + std::string(64, 'A'), "alpine@md5:abc", "alpine@", "a" + std::string(255, 'b'),
        "a;rm -rf", "a$(x)", "a\"b"}) {
    INFO(bad);
    CHECK_FALSE(ImageReferenceProblem(bad).empty());
  }
}

TEST_CASE("names, entrypoint, include and tags", "[deployment_spec]") {
  auto base = [](const std::string& fields) { return ErrorOf("{" + fields + "}"); };
  CHECK(base(R"("flow_name": "f", "entrypoint": "./f")") == "deploy.yaml: name: required");
  CHECK(base(R"("name": "n", "entrypoint": "./f")") == "deploy.yaml: flow_name: required");
  CHECK(base(R"("name": "week ly", "flow_name": "f", "entrypoint": "./f")") ==
        "deploy.yaml: name: \"week ly\" may contain only letters, digits, '_', '.' and '-' (at "
        "most 200)");
  CHECK(base(R"("name": "n", "flow_name": "a/b", "entrypoint": "./f")") ==
        "deploy.yaml: flow_name: \"a/b\" may contain only letters, digits, '_', '.' and '-' (at "
        "most 200)");
  CHECK(base(R"("name": "n", "flow_name": "f")") ==
        "deploy.yaml: entrypoint: required: the command to run, relative to the bundle (e.g. "
        "[\"./my_flow\"])");
  CHECK(base(R"("name": "n", "flow_name": "f", "entrypoint": [])") ==
        "deploy.yaml: entrypoint: required: the command to run, relative to the bundle (e.g. "
        "[\"./my_flow\"])");
  CHECK(base(R"("name": 7, "flow_name": "f", "entrypoint": "./f")") ==
        "deploy.yaml: name: expected a string, got the number 7");
  CHECK(ErrorOf(Spec(R"("tags": ["ml", 3])")) ==
        "deploy.yaml: tags[1]: expected a string, got the number 3");
  CHECK(ErrorOf(Spec(R"("tags": {"a": 1})")) ==
        "deploy.yaml: tags: expected a list of strings, got an object");
  CHECK(ErrorOf(Spec(R"("tags": ["ml", ""])")) == "deploy.yaml: tags[1]: empty tag");
  CHECK(ErrorOf(Spec(R"("include": ["a", ""])")) == "deploy.yaml: include[1]: empty path");
  CHECK(ErrorOf(Spec(R"("work_queue": "m l")")) ==
        "deploy.yaml: work_queue: \"m l\" may contain only letters, digits, '_', '.' and '-' "
        "(at most 200)");
  CHECK(ErrorOf(Spec(R"("storage": "my storage")")) ==
        "deploy.yaml: storage: \"my storage\" may contain only letters, digits, '_', '.' and '-' "
        "(at most 200)");
  CHECK(ErrorOf(Spec(R"("paused": "maybe")")) ==
        "deploy.yaml: paused: expected true or false, got the string \"maybe\"");
}

TEST_CASE("documents: one spec, a list, and what is not a spec", "[deployment_spec]") {
  auto one = DeploymentSpecsFromJson(Spec(""), "deploy.yaml");
  REQUIRE(one.ok());
  CHECK(one->size() == 1);
  CHECK(one->at(0).FullName() == "taxi_training/weekly");
  auto list = DeploymentSpecsFromJson("[" + Spec("") + "," + Spec("") + "]", "deploy.yaml");
  REQUIRE(list.ok());
  CHECK(list->size() == 2);
  auto wrapped = DeploymentSpecsFromJson(R"({"deployments": [)" + Spec("") + "]}", "deploy.yaml");
  REQUIRE(wrapped.ok());
  CHECK(wrapped->size() == 1);
  CHECK(ErrorOf(R"({"deployments": {"name": "x"}})") ==
        "deploy.yaml: deployments: expected a list of deployments, got an object");
  auto empty = DeploymentSpecsFromJson("[]", "program ./x");
  REQUIRE(empty.ok());
  CHECK(empty->empty());

  CHECK(ErrorOf("[" + Spec("") + R"(, {"name": "b", "colour": 1}])") ==
        "deploy.yaml: deployments[1]: unknown field \"colour\" (known: name, flow_name, "
        "description, version, entrypoint, include, storage, schedule, parameters, tags, "
        "work_queue, runner, catchup, max_lateness, paused, timeout, parameters_schema)");
  CHECK(ErrorOf("42") == "deploy.yaml: expected a deployment or a list of deployments, got the "
                         "number 42");
  CHECK(ErrorOf("[42]") ==
        "deploy.yaml: expected a deployment (an object with name, flow_name, entrypoint, ...), "
        "got the number 42");
  std::string bad = ErrorOf(R"({"name": )", "program ./taxi_training");
  CHECK(bad.rfind("program ./taxi_training: not valid JSON: ", 0) == 0);
}

TEST_CASE("a flow timeout: a duration, never negative", "[deployment_spec]") {
  auto specs = DeploymentSpecsFromJson(Spec(R"("timeout": "30m")"), "deploy.yaml");
  REQUIRE(specs.ok());
  CHECK(specs->front().timeout_seconds == 1800);
  CHECK(ErrorOf(Spec(R"("timeout": 90)")) == "");
  CHECK(ErrorOf(Spec(R"("timeout": "soon")")) ==
        "deploy.yaml: timeout: expected a duration like \"1h\", \"30m\" or \"90s\", or a "
        "number of seconds, got the string \"soon\"");
  CHECK(ErrorOf(Spec(R"("timeout": -5)")) ==
        "deploy.yaml: timeout: must be >= 0 seconds (0 = no timeout), got -5");
}

TEST_CASE("catch-up policy names", "[deployment_spec]") {
  CHECK(std::string(CatchupPolicyName(CatchupPolicy::kAll)) == "all");
  CHECK(std::string(CatchupPolicyName(CatchupPolicy::kLatest)) == "latest");
  CHECK(std::string(CatchupPolicyName(CatchupPolicy::kNone)) == "none");
}

TEST_CASE("parameters_schema: the flow's declared parameters survive the JSON form",
          "[deployment_spec]") {
  DeploymentSpec s;
  s.name = "manual";
  s.flow_name = "nested";
  s.entrypoint = {"./nested"};
  s.parameters_schema_json = SpecsToJson(
      {ParamSpec{.name = "n",
                 .type = ParamType::kInt,
                 .default_value = ParamValue{std::int64_t{3}},
                 .required = false,
                 .minimum = 0,
                 .maximum = 100}});
  std::string text = DeploymentSpecsToJson({s});
  CHECK(text.find("\"parameters_schema\"") != std::string::npos);
  auto out = DeploymentSpecsFromJson(text, "describe");
  REQUIRE(out.ok());
  REQUIRE(out->size() == 1);
  CHECK((*out)[0].parameters_schema_json == s.parameters_schema_json);

  // Without one, the key is absent and the field empty (deploy.yaml).
  s.parameters_schema_json.clear();
  std::string bare = DeploymentSpecsToJson({s});
  CHECK(bare.find("parameters_schema") == std::string::npos);
  REQUIRE(DeploymentSpecsFromJson(bare, "describe")->at(0).parameters_schema_json.empty());

  // A malformed one names the field.
  auto bad = DeploymentSpecsFromJson(
      R"([{"name":"manual","flow_name":"nested","entrypoint":["./nested"],)"
      R"("parameters_schema":{"n":"int"}}])",
      "deploy.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("parameters_schema") != std::string::npos);
}

// Found by tests/fuzz (deployment_spec_json): a number a double cannot hold is refused with
// out_of_range, which escaped (the CLI died reading a program's --weft-describe).
TEST_CASE("a JSON number out of range is a clear error, not an exception", "[deployment_spec]") {
  CHECK_THAT(ErrorOf("51e30858090658E", "program ./f"),
             Catch::StartsWith("program ./f: not valid JSON") && Catch::Contains("overflow"));
  CHECK_THAT(ErrorOf(R"([{"name": "n", "timeout": 1e999}])"),
             Catch::StartsWith("deploy.yaml: not valid JSON"));
}
