// Deployments declared in a flow program: schedules, parameter maps and the specs that
// `--weft-describe` prints.
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "sdk/core/text.hpp"
#include "sdk/flow/weft.hpp"

namespace weft {

namespace {

using core::Quote;

using json = nlohmann::json;

json ToJson(const core::ParamValue& v) {
  return std::visit([](const auto& x) { return json(x); }, v);
}

// The file name of argv[0]: "./build/x/taxi_training" -> "taxi_training".
std::string ProgramFileName(std::string_view program) {
  std::string name(program);
  while (!name.empty() && name.back() == '/') name.pop_back();
  if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  return name;
}

}  // namespace

std::string ParamMapToJson(const ParamMap& params) {
  json doc = json::object();
  for (const auto& [name, arg] : params) doc[name] = ToJson(arg.value());
  return doc.dump();
}

Schedule Cron(std::string expression, std::string timezone) {
  return Schedule(core::ScheduleSpec{core::CronSchedule{std::move(expression), std::move(timezone)}});
}

Schedule Interval(std::chrono::duration<double> every, std::string timezone, std::string anchor) {
  core::IntervalSchedule s;
  s.interval_seconds = every.count();
  s.timezone = std::move(timezone);
  if (!anchor.empty()) {
    auto t = core::ParseTime(anchor);
    if (!t) {
      return Schedule::Invalid("anchor: expected an RFC 3339 time like \"2026-01-05T06:00:00Z\", got " +
                               Quote(anchor));
    }
    s.anchor = *t;
  }
  return Schedule(core::ScheduleSpec{std::move(s)});
}

Schedule RRule(std::string rule, std::string timezone) {
  return Schedule(core::ScheduleSpec{core::RRuleSchedule{std::move(rule), std::move(timezone)}});
}

core::Result<std::vector<core::DeploymentSpec>> DeploymentSpecs(
    const Flow& flow, const std::vector<Deployment>& deployments, std::string_view program) {
  const std::string file = ProgramFileName(program);
  const std::string source = "program ./" + file;
  if (!flow.declaration_error().empty()) {
    return core::InvalidArgument(source + ": " + flow.declaration_error());
  }
  std::vector<core::DeploymentSpec> specs;
  std::set<std::string> names;
  for (const Deployment& d : deployments) {
    const std::string where = source + ": deployment " + Quote(d.name);
    auto fail = [&](const std::string& problem) { return core::InvalidArgument(where + ": " + problem); };
    if (!names.insert(d.name).second) return fail("declared twice (names are unique per flow)");

    core::DeploymentSpec spec;
    spec.name = d.name;
    spec.flow_name = flow.name();
    spec.description = d.description;
    spec.version = d.version;
    spec.entrypoint = {"./" + file};
    spec.include.push_back(file);
    for (const auto& extra : d.include) {
      if (extra != file) spec.include.push_back(extra);
    }
    spec.storage = d.storage;
    if (!d.schedule.error().empty()) return fail("schedule." + d.schedule.error());
    spec.schedule = d.schedule.spec();
    spec.tags = d.tags;
    spec.work_queue = d.work_queue;
    spec.runner.type = d.runner.type;
    spec.runner.image = d.runner.image;
    spec.runner.kube_namespace = d.runner.kube_namespace;
    spec.runner.network = d.runner.network;
    spec.runner.env = d.runner.env;
    spec.catchup = d.catchup;
    spec.paused = d.paused;
    // The flow's own timeout unless the deployment sets one (the agent enforces it).
    spec.timeout_seconds =
        d.timeout_seconds > 0 ? d.timeout_seconds : flow.options().timeout_seconds;
    spec.parameters_schema_json = core::SpecsToJson(flow.param_specs());

    // Parameters: the names, types and bounds the flow declares. Defaults stay the flow's;
    // the spec holds only what the deployment sets.
    for (const auto& [name, arg] : d.parameters) {
      if (const auto* x = std::get_if<double>(&arg.value()); x && !std::isfinite(*x)) {
        return fail("parameter " + Quote(name) + ": must be a finite number");
      }
    }
    spec.parameters_json = ParamMapToJson(d.parameters);
    std::vector<core::ParamSpec> relaxed = flow.param_specs();
    for (auto& p : relaxed) p.required = false;
    auto resolved = core::ResolveParams(relaxed, spec.parameters_json, {});
    if (!resolved) return fail(resolved.error().message);
    if (spec.schedule) {
      for (const auto& p : flow.param_specs()) {
        if (p.required && !p.default_value && !d.parameters.count(p.name)) {
          return fail("parameter " + Quote(p.name) + ": required (" + core::ParamTypeName(p.type) +
                      ") but not given; a scheduled deployment must set it in .parameters");
        }
      }
    }

    if (auto s = core::ValidateDeploymentSpec(spec, where); !s.ok()) return s.error();
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace weft
