#pragma once
// A deployment spec: what `weft deployment create` reads from YAML or from a flow
// program's `--weft-describe` JSON. Pure: validation and JSON (de)serialisation; reading
// YAML and packing files is the CLI's job.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/error.hpp"
#include "sdk/core/schedule.hpp"

namespace weft::core {

struct RunnerSpec {
  std::string type = "process";  // process | docker | kubernetes
  std::string image;             // required for docker and kubernetes
  std::string kube_namespace;    // kubernetes; "" = "default"
  std::string network;           // docker: --network ("" = the agent's setting)
  std::map<std::string, std::string> env;
};

enum class CatchupPolicy { kAll, kLatest, kNone };
const char* CatchupPolicyName(CatchupPolicy p);  // "all", "latest", "none"

struct CatchupSpec {
  CatchupPolicy policy = CatchupPolicy::kLatest;
  double max_lateness_seconds = 0;  // > 0: missed times older than this are skipped
};

struct DeploymentSpec {
  std::string name;                     // required; [A-Za-z0-9_.-]+
  std::string flow_name;                // required
  std::string description;
  std::string version;
  std::vector<std::string> entrypoint;  // required: command + args, relative to the bundle
  std::vector<std::string> include;     // files to pack (relative to the spec's directory)
  std::string storage;                  // "" = the server's default storage
  std::optional<ScheduleSpec> schedule;
  std::string parameters_json = "{}";   // JSON object
  std::vector<std::string> tags;
  std::string work_queue = "default";
  RunnerSpec runner;
  CatchupSpec catchup;
  bool paused = false;
  double timeout_seconds = 0;           // > 0: a run's process is stopped after this (TimedOut)
  // The flow's declared parameters (core::SpecsToJson: a JSON array), as a flow program's
  // --weft-describe reports them; "" = unknown (deploy.yaml). JSON key "parameters_schema".
  // The server registers it as the flow's schema, so runs are checked before any process starts.
  std::string parameters_schema_json;

  std::string FullName() const { return flow_name + "/" + name; }
};

// Checks everything that can be checked without I/O (names, entrypoint, runner, schedule
// compiles, parameters are an object, catchup). Errors are InvalidArgument:
//   "<where>: <field>: <problem>", e.g. `deploy.yaml: schedule.cron: field 5 (day of week)
//   "8" is out of range 0-7`. `where` names the source (a file, or "program ./x").
Status ValidateDeploymentSpec(const DeploymentSpec& spec, const std::string& where);

// JSON form used by --weft-describe (an array of these objects) and by tools:
// {"name", "flow_name", "description", "version", "entrypoint": [..], "include": [..],
//  "storage", "schedule": {"interval": 3600, "anchor": "...", "timezone": ".."} |
//  {"cron": "0 9 * * 1", "timezone": ".."} | {"rrule": "...", "timezone": ".."},
//  "parameters": {..}, "tags": [..], "work_queue", "runner": {"type", "image", "namespace",
//  "env": {..}}, "catchup": {"policy": "latest", "max_lateness": "1h" | seconds}, "paused",
//  "timeout": "30m" | seconds}
// The same field names are the YAML keys. Unknown fields are errors naming them.
std::string DeploymentSpecsToJson(const std::vector<DeploymentSpec>& specs);
Result<std::vector<DeploymentSpec>> DeploymentSpecsFromJson(const std::string& json,
                                                           const std::string& where);

}  // namespace weft::core
