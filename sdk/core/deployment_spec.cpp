#include "sdk/core/deployment_spec.hpp"

// The JSON form of a deployment spec (what `--weft-describe` prints and what the CLI turns a
// deploy.yaml into) and the checks that need no I/O. Every error is InvalidArgument and reads
// "<where>: <field>: <problem>", the field written as the user wrote it (`schedule.cron`,
// `tags[1]`, `runner.env.PATH`).
//
// Leniency for YAML: null means "not given" for every optional field; numbers and booleans
// may arrive as strings (YAML scalars converted without a schema), so `interval`,
// `max_lateness` and `paused` also accept their text forms, and runner.env values may be any
// scalar.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <utility>

#include "sdk/core/field_limits.hpp"
#include "sdk/core/image_ref.hpp"
#include "sdk/core/names.hpp"
#include "sdk/core/params.hpp"
#include "sdk/core/time.hpp"
#include "sdk/core/text.hpp"

namespace weft::core {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

Error FieldError(const std::string& where, std::string_view field, std::string_view problem) {
  std::string m = where;
  if (!field.empty()) m += ": " + std::string(field);
  m += ": ";
  m += problem;
  return InvalidArgument(std::move(m));
}

// "a string", "a number 3", "an array" - what the user gave, for messages.
std::string Kind(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "the number " + v.dump();
    case json::value_t::string:
      return "the string " + Quote(v.get<std::string>());
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "an object";
    default:
      return "a value of another kind";
  }
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string UnknownField(std::string_view key, const std::vector<std::string_view>& known) {
  std::string m = "unknown field " + Quote(key);
  std::string_view best;
  std::size_t best_d = 3;  // suggest only close matches (two edits at most)
  for (auto k : known) {
    std::size_t d = EditDistance(key, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  if (!best.empty()) {
    m += " (did you mean " + Quote(best) + "?)";
  } else {
    m += " (known: ";
    for (std::size_t i = 0; i < known.size(); ++i) {
      if (i) m += ", ";
      m += known[i];
    }
    m += ")";
  }
  return m;
}

// The object at `field` must have only `known` keys. `prefix` is the path of the object
// ("" for the top level): unknown keys there read `deploy.yaml: unknown field "x"`, below it
// `deploy.yaml: schedule: unknown field "x"`.
Status CheckKeys(const json& obj, const std::vector<std::string_view>& known,
                 const std::string& where, const std::string& prefix) {
  for (const auto& [key, value] : obj.items()) {
    (void)value;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return FieldError(where, prefix, UnknownField(key, known));
    }
  }
  return {};
}

bool Given(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && !it->is_null();
}

Result<std::string> GetString(const json& v, const std::string& where, const std::string& field) {
  if (v.is_string()) return v.get<std::string>();
  return FieldError(where, field, "expected a string, got " + Kind(v));
}

// Strings, or (YAML) numbers and booleans written without quotes.
Result<std::string> GetScalarText(const json& v, const std::string& where,
                                  const std::string& field) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    std::ostringstream out;
    out << v.get<double>();
    return out.str();
  }
  return FieldError(where, field, "expected a string, got " + Kind(v));
}

Result<std::vector<std::string>> GetStringList(const json& v, const std::string& where,
                                               const std::string& field) {
  std::vector<std::string> out;
  if (v.is_string()) {  // a single item may be written without brackets
    out.push_back(v.get<std::string>());
    return out;
  }
  if (!v.is_array()) return FieldError(where, field, "expected a list of strings, got " + Kind(v));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      return FieldError(where, field + "[" + std::to_string(i) + "]",
                        "expected a string, got " + Kind(v[i]));
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

Result<bool> GetBool(const json& v, const std::string& where, const std::string& field) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  return FieldError(where, field, "expected true or false, got " + Kind(v));
}

// Seconds as a number, or a duration text: "1h", "30m", "1h30m", "90s", "2d", "3600".
Result<double> GetDuration(const json& v, const std::string& where, const std::string& field) {
  std::optional<double> seconds;
  if (v.is_number()) {
    seconds = v.get<double>();
  } else if (v.is_string()) {
    const std::string& text = v.get_ref<const std::string&>();
    if (IsNegativeDuration(text)) {
      return FieldError(where, field, "must not be negative, got " + Quote(text));
    }
    seconds = ParseDurationSeconds(text);
  }
  if (!seconds || !std::isfinite(*seconds)) {
    return FieldError(where, field,
                      "expected a duration like \"1h\", \"30m\" or \"90s\", or a number of "
                      "seconds, got " +
                          Kind(v));
  }
  return *seconds;
}

// The entrypoint: a list of strings, or one string split at spaces.
Result<std::vector<std::string>> GetCommand(const json& v, const std::string& where,
                                            const std::string& field) {
  if (v.is_string()) {
    std::vector<std::string> out;
    std::istringstream in(v.get<std::string>());
    std::string word;
    while (in >> word) out.push_back(word);
    return out;
  }
  return GetStringList(v, where, field);
}

Result<CatchupPolicy> ParseCatchupPolicy(const json& v, const std::string& where,
                                         const std::string& field) {
  auto text = GetString(v, where, field);
  if (!text.ok()) return text.error();
  std::string s = *text;
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "all") return CatchupPolicy::kAll;
  if (s == "latest") return CatchupPolicy::kLatest;
  if (s == "none") return CatchupPolicy::kNone;
  return FieldError(where, field, "must be all, latest or none, got " + Quote(*text));
}

Result<ScheduleSpec> ParseSchedule(const json& v, const std::string& where) {
  const std::string f = "schedule";
  if (!v.is_object()) {
    return FieldError(where, f,
                      "expected an object with one of interval, cron or rrule, got " + Kind(v));
  }
  if (auto s = CheckKeys(v, {"interval", "anchor", "cron", "rrule", "timezone"}, where, f);
      !s.ok()) {
    return s.error();
  }
  int kinds = Given(v, "interval") + Given(v, "cron") + Given(v, "rrule");
  if (kinds == 0) return FieldError(where, f, "expected one of interval, cron or rrule");
  if (kinds > 1) return FieldError(where, f, "give only one of interval, cron or rrule");
  std::string timezone;
  if (Given(v, "timezone")) {
    auto tz = GetString(v["timezone"], where, f + ".timezone");
    if (!tz.ok()) return tz.error();
    timezone = *tz;
  }
  if (Given(v, "anchor") && !Given(v, "interval")) {
    return FieldError(where, f + ".anchor", "only valid with interval");
  }
  if (Given(v, "interval")) {
    IntervalSchedule s;
    auto seconds = GetDuration(v["interval"], where, f + ".interval");
    if (!seconds.ok()) return seconds.error();
    s.interval_seconds = *seconds;
    s.timezone = timezone;
    if (Given(v, "anchor")) {
      auto text = GetString(v["anchor"], where, f + ".anchor");
      if (!text.ok()) return text.error();
      auto t = ParseTime(*text);
      if (!t) {
        return FieldError(where, f + ".anchor",
                          "expected an RFC 3339 time like \"2026-01-05T06:00:00Z\" or "
                          "\"2026-01-05T06:00:00+01:00\", got " +
                              Quote(*text));
      }
      s.anchor = *t;
    }
    return ScheduleSpec{s};
  }
  if (Given(v, "cron")) {
    auto text = GetString(v["cron"], where, f + ".cron");
    if (!text.ok()) return text.error();
    return ScheduleSpec{CronSchedule{*text, timezone}};
  }
  auto text = GetString(v["rrule"], where, f + ".rrule");
  if (!text.ok()) return text.error();
  return ScheduleSpec{RRuleSchedule{*text, timezone}};
}

Result<RunnerSpec> ParseRunner(const json& v, const std::string& where) {
  const std::string f = "runner";
  RunnerSpec r;
  if (v.is_string()) {  // `runner: docker` is short for `runner: {type: docker}`
    r.type = v.get<std::string>();
    return r;
  }
  if (!v.is_object()) return FieldError(where, f, "expected an object, got " + Kind(v));
  if (auto s = CheckKeys(v, {"type", "image", "namespace", "network", "env"}, where, f); !s.ok()) {
    return s.error();
  }
  if (Given(v, "type")) {
    auto t = GetString(v["type"], where, f + ".type");
    if (!t.ok()) return t.error();
    r.type = *t;
  }
  if (Given(v, "image")) {
    auto t = GetString(v["image"], where, f + ".image");
    if (!t.ok()) return t.error();
    r.image = *t;
  }
  if (Given(v, "namespace")) {
    auto t = GetString(v["namespace"], where, f + ".namespace");
    if (!t.ok()) return t.error();
    r.kube_namespace = *t;
  }
  if (Given(v, "network")) {
    auto t = GetString(v["network"], where, f + ".network");
    if (!t.ok()) return t.error();
    r.network = *t;
  }
  if (Given(v, "env")) {
    const json& env = v["env"];
    if (!env.is_object()) {
      return FieldError(where, f + ".env", "expected an object (NAME: value), got " + Kind(env));
    }
    for (const auto& [key, value] : env.items()) {
      auto t = GetScalarText(value, where, f + ".env." + key);
      if (!t.ok()) return t.error();
      r.env[key] = *t;
    }
  }
  return r;
}

Result<CatchupSpec> ParseCatchup(const json& v, const std::string& where) {
  const std::string f = "catchup";
  CatchupSpec c;
  if (v.is_string()) {  // `catchup: all` is short for `catchup: {policy: all}`
    auto p = ParseCatchupPolicy(v, where, f + ".policy");
    if (!p.ok()) return p.error();
    c.policy = *p;
    return c;
  }
  if (!v.is_object()) {
    return FieldError(where, f,
                      "expected all, latest, none or an object {policy, max_lateness}, got " +
                          Kind(v));
  }
  if (auto s = CheckKeys(v, {"policy", "max_lateness"}, where, f); !s.ok()) return s.error();
  if (Given(v, "policy")) {
    auto p = ParseCatchupPolicy(v["policy"], where, f + ".policy");
    if (!p.ok()) return p.error();
    c.policy = *p;
  }
  if (Given(v, "max_lateness")) {
    auto d = GetDuration(v["max_lateness"], where, f + ".max_lateness");
    if (!d.ok()) return d.error();
    c.max_lateness_seconds = *d;
  }
  return c;
}

const std::vector<std::string_view>& TopLevelFields() {
  static const std::vector<std::string_view> kFields = {
      "name",       "flow_name", "description", "version", "entrypoint",
      "include",    "storage",   "schedule",    "parameters", "tags",
      "work_queue", "runner",    "catchup",     "max_lateness", "paused",
      "timeout",    "parameters_schema"};
  return kFields;
}

Result<DeploymentSpec> SpecFromJson(const json& v, const std::string& where) {
  if (!v.is_object()) {
    return InvalidArgument(where + ": expected a deployment (an object with name, flow_name, "
                                   "entrypoint, ...), got " +
                           Kind(v));
  }
  if (auto s = CheckKeys(v, TopLevelFields(), where, ""); !s.ok()) return s.error();
  DeploymentSpec spec;
  struct TextField {
    const char* key;
    std::string* out;
  };
  for (auto [key, out] : {TextField{"name", &spec.name}, TextField{"flow_name", &spec.flow_name},
                          TextField{"description", &spec.description},
                          TextField{"storage", &spec.storage},
                          TextField{"work_queue", &spec.work_queue}}) {
    if (!Given(v, key)) continue;
    auto t = GetString(v[key], where, key);
    if (!t.ok()) return t.error();
    *out = *t;
  }
  if (Given(v, "version")) {  // `version: 2` or `version: 1.5` in YAML is a version text too
    auto t = GetScalarText(v["version"], where, "version");
    if (!t.ok()) return t.error();
    spec.version = *t;
  }
  if (Given(v, "entrypoint")) {
    auto e = GetCommand(v["entrypoint"], where, "entrypoint");
    if (!e.ok()) return e.error();
    spec.entrypoint = std::move(*e);
  }
  if (Given(v, "include")) {
    auto e = GetStringList(v["include"], where, "include");
    if (!e.ok()) return e.error();
    spec.include = std::move(*e);
  }
  if (Given(v, "tags")) {
    auto e = GetStringList(v["tags"], where, "tags");
    if (!e.ok()) return e.error();
    spec.tags = std::move(*e);
  }
  if (Given(v, "schedule")) {
    auto s = ParseSchedule(v["schedule"], where);
    if (!s.ok()) return s.error();
    spec.schedule = std::move(*s);
  }
  if (Given(v, "parameters")) {
    const json& p = v["parameters"];
    if (!p.is_object()) {
      return FieldError(where, "parameters", "expected an object (name: value), got " + Kind(p));
    }
    spec.parameters_json = p.dump();
  }
  if (Given(v, "runner")) {
    auto r = ParseRunner(v["runner"], where);
    if (!r.ok()) return r.error();
    spec.runner = std::move(*r);
  }
  if (Given(v, "catchup")) {
    auto c = ParseCatchup(v["catchup"], where);
    if (!c.ok()) return c.error();
    spec.catchup = *c;
  }
  if (Given(v, "max_lateness")) {  // also accepted at the top level, next to `catchup: all`
    if (Given(v, "catchup") && v["catchup"].is_object() && Given(v["catchup"], "max_lateness")) {
      return FieldError(where, "max_lateness", "given twice (also as catchup.max_lateness)");
    }
    auto d = GetDuration(v["max_lateness"], where, "max_lateness");
    if (!d.ok()) return d.error();
    spec.catchup.max_lateness_seconds = *d;
  }
  if (Given(v, "paused")) {
    auto b = GetBool(v["paused"], where, "paused");
    if (!b.ok()) return b.error();
    spec.paused = *b;
  }
  if (Given(v, "timeout")) {
    auto d = GetDuration(v["timeout"], where, "timeout");
    if (!d.ok()) return d.error();
    spec.timeout_seconds = *d;
  }
  if (Given(v, "parameters_schema")) {
    const json& p = v["parameters_schema"];
    if (!p.is_array()) {
      return FieldError(where, "parameters_schema",
                        "expected an array of parameter declarations, got " + Kind(p));
    }
    auto specs = SpecsFromJson(p.dump());
    if (!specs.ok()) return FieldError(where, "parameters_schema", specs.error().message);
    spec.parameters_schema_json = SpecsToJson(*specs);
  }
  return spec;
}

Status CheckName(std::string_view value, const std::string& where, const char* field,
                 bool required) {
  if (value.empty() && !required) return {};
  std::string problem = NameProblem(value);
  if (!problem.empty()) return FieldError(where, field, problem);
  return {};
}

bool ValidEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

ojson ScheduleToJson(const ScheduleSpec& schedule) {
  ojson out = ojson::object();
  std::visit(
      [&out](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, IntervalSchedule>) {
          out["interval"] = s.interval_seconds;
          if (s.anchor) out["anchor"] = FormatTime(*s.anchor);
        } else if constexpr (std::is_same_v<T, CronSchedule>) {
          out["cron"] = s.expression;
        } else {
          out["rrule"] = s.rrule;
        }
        if (!s.timezone.empty()) out["timezone"] = s.timezone;
      },
      schedule);
  return out;
}

ojson SpecToJson(const DeploymentSpec& spec) {
  ojson o = ojson::object();
  o["name"] = spec.name;
  o["flow_name"] = spec.flow_name;
  o["description"] = spec.description;
  o["version"] = spec.version;
  o["entrypoint"] = spec.entrypoint;
  o["include"] = spec.include;
  o["storage"] = spec.storage;
  if (spec.schedule) {
    o["schedule"] = ScheduleToJson(*spec.schedule);
  } else {
    o["schedule"] = nullptr;
  }
  ojson params = ojson::parse(spec.parameters_json.empty() ? "{}" : spec.parameters_json, nullptr,
                              /*allow_exceptions=*/false);
  if (params.is_discarded()) params = spec.parameters_json;  // shown as is; Validate says why
  o["parameters"] = std::move(params);
  o["tags"] = spec.tags;
  o["work_queue"] = spec.work_queue;
  ojson runner = ojson::object();
  runner["type"] = spec.runner.type;
  runner["image"] = spec.runner.image;
  runner["namespace"] = spec.runner.kube_namespace;
  if (!spec.runner.network.empty()) runner["network"] = spec.runner.network;
  ojson env = ojson::object();
  for (const auto& [k, val] : spec.runner.env) env[k] = val;
  runner["env"] = std::move(env);
  o["runner"] = std::move(runner);
  ojson catchup = ojson::object();
  catchup["policy"] = CatchupPolicyName(spec.catchup.policy);
  catchup["max_lateness"] = spec.catchup.max_lateness_seconds;
  o["catchup"] = std::move(catchup);
  o["paused"] = spec.paused;
  if (spec.timeout_seconds > 0) o["timeout"] = spec.timeout_seconds;
  if (!spec.parameters_schema_json.empty()) {
    ojson schema = ojson::parse(spec.parameters_schema_json, nullptr, /*allow_exceptions=*/false);
    if (!schema.is_discarded()) o["parameters_schema"] = std::move(schema);
  }
  return o;
}

}  // namespace

const char* CatchupPolicyName(CatchupPolicy p) {
  switch (p) {
    case CatchupPolicy::kAll:
      return "all";
    case CatchupPolicy::kLatest:
      return "latest";
    case CatchupPolicy::kNone:
      return "none";
  }
  return "latest";
}

Status ValidateDeploymentSpec(const DeploymentSpec& spec, const std::string& where) {
  if (auto s = CheckName(spec.name, where, "name", true); !s.ok()) return s;
  if (auto s = CheckName(spec.flow_name, where, "flow_name", true); !s.ok()) return s;
  if (spec.entrypoint.empty() || spec.entrypoint.front().empty()) {
    return FieldError(where, "entrypoint",
                      "required: the command to run, relative to the bundle (e.g. "
                      "[\"./my_flow\"])");
  }
  for (std::size_t i = 0; i < spec.include.size(); ++i) {
    if (spec.include[i].empty()) {
      return FieldError(where, "include[" + std::to_string(i) + "]", "empty path");
    }
  }
  if (auto s = CheckName(spec.storage, where, "storage", false); !s.ok()) return s;
  if (auto s = CheckName(spec.work_queue, where, "work_queue", false); !s.ok()) return s;
  if (spec.schedule) {
    auto compiled = Schedule::Compile(*spec.schedule);
    // Compile names the field inside the schedule ("cron: field 5 ...", "timezone: ...").
    if (!compiled.ok()) return InvalidArgument(where + ": schedule." + compiled.error().message);
  }
  {
    json params = json::parse(spec.parameters_json.empty() ? "{}" : spec.parameters_json, nullptr,
                              /*allow_exceptions=*/false);
    if (params.is_discarded()) return FieldError(where, "parameters", "not valid JSON");
    if (!params.is_object()) {
      return FieldError(where, "parameters", "expected an object (name: value), got " + Kind(params));
    }
  }
  for (std::size_t i = 0; i < spec.tags.size(); ++i) {
    if (spec.tags[i].empty()) {
      return FieldError(where, "tags[" + std::to_string(i) + "]", "empty tag");
    }
  }
  // The server's limits (sdk/core/field_limits.hpp), checked before anything is packed.
  auto limited = [&](const Status& st) -> Status {
    if (st.ok()) return st;
    return InvalidArgument(where + ": " + st.error().message);
  };
  if (auto st = limited(CheckTags(spec.tags, "tags")); !st.ok()) return st;
  if (auto st = limited(CheckJsonText(spec.parameters_json, "parameters")); !st.ok()) return st;
  if (auto st = limited(CheckTextLength(spec.description, "description", kMaxDescriptionBytes));
      !st.ok()) {
    return st;
  }
  if (auto st = limited(CheckTextLength(spec.version, "version", kMaxVersionBytes)); !st.ok()) {
    return st;
  }
  if (spec.entrypoint.size() > kMaxEntrypointArgs) {
    return FieldError(where, "entrypoint",
                      std::to_string(spec.entrypoint.size()) +
                          " arguments, more than the limit of " +
                          std::to_string(kMaxEntrypointArgs));
  }
  for (std::size_t i = 0; i < spec.entrypoint.size(); ++i) {
    if (auto st = limited(CheckTextLength(spec.entrypoint[i],
                                          "entrypoint[" + std::to_string(i) + "]",
                                          kMaxEntrypointArgBytes));
        !st.ok()) {
      return st;
    }
  }
  const RunnerSpec& r = spec.runner;
  if (r.type != "process" && r.type != "docker" && r.type != "kubernetes") {
    return FieldError(where, "runner.type",
                      "must be process, docker or kubernetes, got " + Quote(r.type));
  }
  if ((r.type == "docker" || r.type == "kubernetes") && r.image.empty()) {
    return FieldError(where, "runner.image", "required for runner type " + r.type);
  }
  if (!r.image.empty()) {
    if (std::string problem = ImageReferenceProblem(r.image); !problem.empty()) {
      return FieldError(where, "runner.image",
                        Quote(r.image) + " is not a valid image reference: " + problem);
    }
  }
  if (r.type == "process" && !r.image.empty()) {
    return FieldError(where, "runner.image",
                      "only used by runner types docker and kubernetes (runner.type is process)");
  }
  if (!r.kube_namespace.empty() && r.type != "kubernetes") {
    return FieldError(where, "runner.namespace", "only used by runner type kubernetes");
  }
  if (!r.network.empty() && r.type != "docker") {
    return FieldError(where, "runner.network", "only used by runner type docker");
  }
  if (!r.network.empty() && !IsDockerNetworkName(r.network)) {
    return FieldError(where, "runner.network",
                      Quote(r.network) + " is not a docker network name (letters, digits, '_', "
                                         "'.', '-', starting with a letter or digit)");
  }
  for (const auto& [name, value] : r.env) {
    (void)value;
    if (!ValidEnvName(name)) {
      return FieldError(where, "runner.env",
                        Quote(name) + " is not an environment variable name (letters, digits, "
                                      "'_', not starting with a digit)");
    }
  }
  if (!std::isfinite(spec.catchup.max_lateness_seconds) || spec.catchup.max_lateness_seconds < 0) {
    std::ostringstream got;
    got << spec.catchup.max_lateness_seconds;
    return FieldError(where, "catchup.max_lateness",
                      "must be >= 0 seconds (0 = no limit), got " + got.str());
  }
  if (!std::isfinite(spec.timeout_seconds) || spec.timeout_seconds < 0) {
    std::ostringstream got;
    got << spec.timeout_seconds;
    return FieldError(where, "timeout", "must be >= 0 seconds (0 = no timeout), got " + got.str());
  }
  return {};
}

std::string DeploymentSpecsToJson(const std::vector<DeploymentSpec>& specs) {
  ojson out = ojson::array();
  for (const auto& spec : specs) out.push_back(SpecToJson(spec));
  return out.dump(2);
}

Result<std::vector<DeploymentSpec>> DeploymentSpecsFromJson(const std::string& text,
                                                           const std::string& where) {
  if (std::string problem = JsonTextProblem(text, {kMaxSpecDocumentBytes, kMaxJsonDepth});
      !problem.empty()) {
    return InvalidArgument(where + ": " + problem);
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Parse again with exceptions for the position of the problem.
    try {
      json probe = json::parse(text);
      (void)probe;
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
      return InvalidArgument(where + ": not valid JSON: " + e.what());
    }
    return InvalidArgument(where + ": not valid JSON");
  }
  std::vector<DeploymentSpec> specs;
  if (doc.is_object() && doc.size() == 1 && doc.contains("deployments")) {
    // The list form of a file: {"deployments": [...]}.
    json list = std::move(doc["deployments"]);
    if (!list.is_array()) {
      return InvalidArgument(where + ": deployments: expected a list of deployments, got " +
                             Kind(list));
    }
    doc = std::move(list);
  }
  if (doc.is_object()) {
    auto spec = SpecFromJson(doc, where);
    if (!spec.ok()) return spec.error();
    specs.push_back(std::move(*spec));
    return specs;
  }
  if (!doc.is_array()) {
    return InvalidArgument(where + ": expected a deployment or a list of deployments, got " +
                           Kind(doc));
  }
  for (std::size_t i = 0; i < doc.size(); ++i) {
    // With several specs the message says which one: `deploy.yaml: deployments[1]: ...`.
    std::string at = doc.size() == 1 ? where : where + ": deployments[" + std::to_string(i) + "]";
    auto spec = SpecFromJson(doc[i], at);
    if (!spec.ok()) return spec.error();
    specs.push_back(std::move(*spec));
  }
  return specs;
}

}  // namespace weft::core
