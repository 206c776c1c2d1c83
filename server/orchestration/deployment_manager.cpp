#include "server/orchestration/deployment_manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "sdk/core/image_ref.hpp"
#include "sdk/core/names.hpp"
#include "sdk/core/params.hpp"
#include "server/orchestration/storage_catalog.hpp"
#include "server/orchestration/validate.hpp"
#include "server/store/deployment_repo.hpp"
#include "server/store/flow_repo.hpp"
#include "server/store/storage_repo.hpp"

namespace weft::server::orchestration {

using core::orchestration::Decision;
using nlohmann::json;

namespace {

core::Error DeploymentNotFound(const std::string& what) {
  return core::NotFound("deployment \"" + what + "\" not found");
}

std::string RunnerToJson(const core::RunnerSpec& r) {
  json j = {{"type", r.type},
            {"image", r.image},
            {"namespace", r.kube_namespace},
            {"network", r.network},
            {"env", json::object()}};
  for (const auto& [k, v] : r.env) j["env"][k] = v;
  return j.dump();
}

core::RunnerSpec RunnerFromJson(const std::string& text) {
  core::RunnerSpec r;
  auto j = json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (!j.is_object()) return r;
  r.type = j.value("type", std::string("process"));
  r.image = j.value("image", std::string());
  r.kube_namespace = j.value("namespace", std::string());
  r.network = j.value("network", std::string());
  if (j.contains("env") && j["env"].is_object()) {
    for (auto it = j["env"].begin(); it != j["env"].end(); ++it) {
      if (it.value().is_string()) r.env[it.key()] = it.value().get<std::string>();
    }
  }
  return r;
}

std::string PolicyName(core::CatchupPolicy p) { return core::CatchupPolicyName(p); }

core::CatchupPolicy PolicyFromName(const std::string& s) {
  if (s == "all") return core::CatchupPolicy::kAll;
  if (s == "none") return core::CatchupPolicy::kNone;
  return core::CatchupPolicy::kLatest;
}

// Deployment parameters merged with overrides (top-level keys of the overrides win).
core::Result<std::string> MergeParameters(const std::string& base, const std::string& overrides) {
  auto b = json::parse(base.empty() ? "{}" : base, nullptr, false);
  if (!b.is_object()) b = json::object();
  if (overrides.empty()) return b.dump();
  std::string problem = CheckJsonObject(overrides);
  if (!problem.empty()) return core::InvalidArgument("parameters_json: " + problem);
  auto o = json::parse(overrides);
  for (auto it = o.begin(); it != o.end(); ++it) b[it.key()] = it.value();
  std::string merged = b.dump();
  if (merged.size() > core::kMaxParametersBytes) {
    return core::InvalidArgument("parameters_json: with the deployment's parameters, larger than " +
                                 core::DescribeBytes(core::kMaxParametersBytes) + " (" +
                                 std::to_string(merged.size()) + " bytes)");
  }
  return merged;
}

// Validates run parameters against the flow's registered schema (when it has one).
core::Status CheckAgainstSchema(const store::FlowRecord* flow, const std::string& params,
                                const std::string& field) {
  if (!flow || flow->parameters_schema_json.empty()) return {};
  auto specs = core::SpecsFromJson(flow->parameters_schema_json);
  if (!specs.ok()) return {};  // an unreadable schema is the flow's problem, not this run's
  auto resolved = core::ResolveParams(*specs, params, {});
  if (!resolved.ok()) {
    return core::InvalidArgument(field + ": " + resolved.error().message + " (flow \"" +
                                 flow->name + "\")");
  }
  return {};
}

bool SameJson(const std::string& a, const std::string& b) {
  auto ja = json::parse(a.empty() ? "{}" : a, nullptr, false);
  auto jb = json::parse(b.empty() ? "{}" : b, nullptr, false);
  return ja == jb;
}

}  // namespace

// ---- pure helpers ---------------------------------------------------------------------

std::string AutoRunKey(const std::string& deployment_id, core::TimePoint time) {
  return "auto:" + deployment_id + ":" + core::FormatTime(time);
}

std::string ScheduleToJson(const core::ScheduleSpec& spec) {
  json j;
  if (const auto* i = std::get_if<core::IntervalSchedule>(&spec)) {
    j = {{"interval", i->interval_seconds}, {"timezone", i->timezone}};
    if (i->anchor) j["anchor"] = core::FormatTime(*i->anchor);
  } else if (const auto* c = std::get_if<core::CronSchedule>(&spec)) {
    j = {{"cron", c->expression}, {"timezone", c->timezone}};
  } else if (const auto* r = std::get_if<core::RRuleSchedule>(&spec)) {
    j = {{"rrule", r->rrule}, {"timezone", r->timezone}};
  }
  return j.dump();
}

core::Result<core::ScheduleSpec> ScheduleFromJson(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return core::Internal("stored schedule is not a JSON object");
  std::string tz = j.value("timezone", std::string());
  if (j.contains("interval")) {
    core::IntervalSchedule i;
    i.interval_seconds = j["interval"].get<double>();
    i.timezone = tz;
    if (j.contains("anchor")) i.anchor = core::ParseTime(j["anchor"].get<std::string>());
    return core::ScheduleSpec{i};
  }
  if (j.contains("cron"))
    return core::ScheduleSpec{core::CronSchedule{j["cron"].get<std::string>(), tz}};
  if (j.contains("rrule")) {
    return core::ScheduleSpec{core::RRuleSchedule{j["rrule"].get<std::string>(), tz}};
  }
  return core::Internal("stored schedule has no kind");
}

core::DeploymentSpec SpecOf(const store::DeploymentRecord& d) {
  core::DeploymentSpec s;
  s.name = d.name;
  s.flow_name = d.flow_name;
  s.description = d.description;
  s.version = d.version;
  s.entrypoint = d.entrypoint;
  s.storage = d.storage_name;
  if (!d.schedule_json.empty()) {
    auto sch = ScheduleFromJson(d.schedule_json);
    if (sch.ok()) s.schedule = *sch;
  }
  s.parameters_json = d.parameters_json;
  s.tags = d.tags;
  s.work_queue = d.work_queue;
  s.runner = RunnerFromJson(d.runner_json);
  s.catchup.policy = PolicyFromName(d.catchup_policy);
  s.catchup.max_lateness_seconds = d.max_lateness_seconds;
  s.timeout_seconds = d.timeout_seconds;
  s.paused = d.paused;
  return s;
}

namespace {

// Lengths (sdk/core/field_limits.hpp): description, version, entrypoint, schema.
core::Status CheckSpecTexts(const core::DeploymentSpec& s) {
  if (auto st = core::CheckTextLength(s.description, "spec.description", core::kMaxDescriptionBytes);
      !st.ok()) {
    return st;
  }
  if (auto st = core::CheckTextLength(s.version, "spec.version", core::kMaxVersionBytes); !st.ok()) {
    return st;
  }
  if (s.entrypoint.size() > core::kMaxEntrypointArgs) {
    return core::InvalidArgument("spec.entrypoint: " + std::to_string(s.entrypoint.size()) +
                                 " arguments, more than the limit of " +
                                 std::to_string(core::kMaxEntrypointArgs));
  }
  for (std::size_t i = 0; i < s.entrypoint.size(); ++i) {
    if (auto st = core::CheckTextLength(s.entrypoint[i], "spec.entrypoint[" + std::to_string(i) + "]",
                                        core::kMaxEntrypointArgBytes);
        !st.ok()) {
      return st;
    }
  }
  return core::CheckJsonText(s.parameters_schema_json, "spec.parameters_schema_json",
                             {core::kMaxParametersSchemaBytes, core::kMaxJsonDepth});
}

}  // namespace

core::Status CheckDeploymentInput(const DeploymentInput& input,
                                  std::optional<core::Schedule>* compiled) {
  const auto& s = input.spec;
  if (auto st = core::CheckName(s.name, "spec.name"); !st.ok()) return st;
  if (auto st = core::CheckName(s.flow_name, "spec.flow_name"); !st.ok()) return st;
  if (!s.work_queue.empty()) {
    if (auto st = core::CheckName(s.work_queue, "spec.work_queue"); !st.ok()) return st;
  }
  if (s.entrypoint.empty() || s.entrypoint[0].empty()) {
    return core::InvalidArgument(
        "spec.entrypoint: must name the command to run (relative to the bundle root)");
  }
  std::string digest_problem = CheckDigest(input.bundle_digest);
  if (!digest_problem.empty()) {
    return core::InvalidArgument("spec.bundle.digest: " + digest_problem);
  }
  if (input.bundle_size < 0) return core::InvalidArgument("spec.bundle.size: must be >= 0");
  if (!s.storage.empty()) {
    if (auto st = core::CheckName(s.storage, "spec.bundle.storage"); !st.ok()) return st;
  }
  if (s.schedule) {
    auto c = core::Schedule::Compile(*s.schedule);
    if (!c.ok()) return core::InvalidArgument("spec.schedule." + c.error().message);
    if (compiled) *compiled = std::move(*c);
  }
  std::string p = CheckJsonObject(s.parameters_json);
  if (!p.empty()) return core::InvalidArgument("spec.parameters_json: " + p);
  if (auto st = core::CheckTags(s.tags, "spec.tags"); !st.ok()) return st;
  if (auto st = CheckSpecTexts(s); !st.ok()) return st;
  const auto& r = s.runner;
  if (r.type != "process" && r.type != "docker" && r.type != "kubernetes") {
    return core::InvalidArgument("spec.runner.type: must be process, docker or kubernetes, got \"" +
                                 r.type + "\"");
  }
  if ((r.type == "docker" || r.type == "kubernetes") && r.image.empty()) {
    return core::InvalidArgument("spec.runner.image: required for runner type " + r.type);
  }
  if (!r.image.empty()) {
    if (std::string problem = core::ImageReferenceProblem(r.image); !problem.empty()) {
      return core::InvalidArgument("spec.runner.image: \"" + r.image +
                                   "\" is not a valid image reference: " + problem);
    }
  }
  if (!(s.timeout_seconds >= 0) || !std::isfinite(s.timeout_seconds)) {
    return core::InvalidArgument("spec.timeout_seconds: must be >= 0 (0 = no timeout)");
  }
  if (!(s.catchup.max_lateness_seconds >= 0)) {
    return core::InvalidArgument("spec.catchup.max_lateness_seconds: must be >= 0");
  }
  return {};
}

bool IsScheduleTime(const core::Schedule& schedule, core::TimePoint t) {
  auto next = schedule.Next(t - std::chrono::microseconds(1), 1, t);
  return !next.empty() && next.front() == t;
}

store::AutoRunRow MakeAutoRun(const Orchestrator& orch, const store::DeploymentRecord& d,
                              core::TimePoint time, core::TimePoint now,
                              const std::string& message) {
  store::AutoRunRow row;
  row.deployment_id = d.id;
  row.name = GenerateRunName();
  row.time = time;
  row.idempotency_key = AutoRunKey(d.id, time);
  store::RunFacts fresh;
  auto o = orch.Decide(core::orchestration::RunKind::kFlowRun, fresh,
                       core::Scheduled(now, time, message), false, now);
  if (o.decision == Decision::kAccept && !o.to_write.empty()) {
    row.state = o.to_write.back();
  } else {
    row.state = core::Scheduled(now, time, message);
  }
  return row;
}

// ---- DeploymentManager ----------------------------------------------------------------

DeploymentManager::DeploymentManager(Orchestrator& orchestrator, RunService& runs,
                                     std::shared_ptr<spdlog::logger> logger)
    : orch_(orchestrator), runs_(runs), logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
}

void DeploymentManager::Changed() {
  if (on_change_) on_change_();
}

core::Result<store::DeploymentRecord> DeploymentManager::Find(store::Tx& tx,
                                                              const DeploymentKey& key) {
  if (!key.id.empty()) {
    if (!IsUuid(key.id)) return DeploymentNotFound(key.id);
    auto d = store::DeploymentRepo::GetById(tx, NormalizeUuid(key.id));
    if (!d) return DeploymentNotFound(key.id);
    return std::move(*d);
  }
  auto slash = key.full_name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == key.full_name.size()) {
    return core::InvalidArgument("ref.full_name: must be \"flow/name\", got \"" + key.full_name +
                                 "\"");
  }
  auto d = store::DeploymentRepo::GetByName(tx, key.full_name.substr(0, slash),
                                            key.full_name.substr(slash + 1));
  if (!d) return DeploymentNotFound(key.full_name);
  return std::move(*d);
}

core::Result<UpsertResult> DeploymentManager::Upsert(const DeploymentInput& input) {
  std::optional<core::Schedule> schedule;
  if (auto st = CheckDeploymentInput(input, &schedule); !st.ok()) return st.error();
  const auto& spec = input.spec;
  std::string description = schedule ? schedule->Describe() : "";
  // The flow's declared parameters (from the program's --weft-describe): registered as the
  // flow's schema, so runs are checked before any process starts, even before the flow ran.
  std::string schema_json;
  if (!spec.parameters_schema_json.empty()) {
    auto specs = core::SpecsFromJson(spec.parameters_schema_json);
    if (!specs.ok()) {
      return core::InvalidArgument("spec.parameters_schema_json: " + specs.error().message);
    }
    schema_json = core::SpecsToJson(*specs);
  }
  auto result = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<UpsertResult> {
    // Storage: named, or the default.
    std::optional<store::StorageRecord> storage =
        spec.storage.empty() ? store::StorageRepo::GetDefault(tx)
                             : store::StorageRepo::GetByName(tx, spec.storage);
    if (!storage) {
      if (spec.storage.empty()) {
        return core::FailedPrecondition(
            "spec.bundle.storage: no default storage (create one with `weft storage create`)");
      }
      return core::InvalidArgument("spec.bundle.storage: unknown storage \"" + spec.storage +
                                   "\" (run `weft storage ls`)");
    }
    if (storage->kind == "server" && !store::BundleRepo::Stat(tx, input.bundle_digest)) {
      return core::FailedPrecondition("spec.bundle.digest: bundle " + input.bundle_digest +
                                      " is not in storage \"" + storage->name +
                                      "\" (upload it first)");
    }
    std::string flow_id = schema_json.empty()
                              ? store::FlowRepo::EnsureId(tx, spec.flow_name)
                              : store::FlowRepo::Upsert(tx, spec.flow_name, {}, schema_json).first.id;
    auto flow = store::FlowRepo::GetById(tx, flow_id);
    if (schedule) {
      // Scheduled runs get exactly these parameters: they must satisfy the flow's schema.
      if (auto st = CheckAgainstSchema(flow ? &*flow : nullptr, spec.parameters_json,
                                       "spec.parameters_json");
          !st.ok()) {
        return st.error();
      }
    }
    const core::TimePoint now = orch_.clock().Now();
    store::DeploymentRecord rec;
    rec.flow_id = flow_id;
    rec.name = spec.name;
    rec.description = spec.description;
    rec.version = spec.version;
    rec.entrypoint = spec.entrypoint;
    rec.storage_id = storage->id;
    rec.bundle_digest = input.bundle_digest;
    rec.bundle_size = input.bundle_size;
    rec.schedule_json = spec.schedule ? ScheduleToJson(*spec.schedule) : "";
    rec.schedule_description = description;
    rec.parameters_json = spec.parameters_json.empty() ? "{}" : spec.parameters_json;
    rec.tags = spec.tags;
    rec.work_queue = spec.work_queue.empty() ? "default" : spec.work_queue;
    rec.runner_json = RunnerToJson(spec.runner);
    rec.catchup_policy = PolicyName(spec.catchup.policy);
    rec.max_lateness_seconds = spec.catchup.max_lateness_seconds;
    rec.timeout_seconds = spec.timeout_seconds;
    rec.paused = spec.paused;
    auto [stored, created] = store::DeploymentRepo::Upsert(tx, rec, now);
    UpsertResult out;
    out.created = created;
    if (!created) {
      // Future auto runs still plainly Scheduled that the new spec would not make are
      // replaced (the scheduler re-materialises); manual, Late and running runs stay.
      std::vector<std::string> doomed;
      for (const auto& run : store::DeploymentRepo::FutureScheduledRuns(tx, stored.id, now)) {
        if (!run.auto_scheduled || run.state_name != "Scheduled") continue;
        bool keep = schedule && !stored.paused &&
                    IsScheduleTime(*schedule, run.expected_start_time) &&
                    SameJson(run.parameters_json, stored.parameters_json) &&
                    run.tags == stored.tags && run.work_queue == stored.work_queue;
        if (!keep) doomed.push_back(run.id);
      }
      out.replaced_runs = store::DeploymentRepo::DeleteRuns(tx, doomed);
    }
    store::DeploymentRepo::NotifyChanged(tx, stored.id);  // schedulers of other replicas
    out.deployment = DeploymentView{stored, SpecOf(stored)};
    return out;
  });
  if (result.ok()) {
    logger_->info("deployment {} name={} id={} schedule=\"{}\" replaced_runs={}",
                  result->created ? "created" : "updated", result->deployment.record.FullName(),
                  result->deployment.record.id, description, result->replaced_runs);
    Changed();
  }
  return result;
}

core::Result<DeploymentView> DeploymentManager::Get(const DeploymentKey& key) {
  return orch_.db().WithTransaction([&](store::Tx& tx) -> core::Result<DeploymentView> {
    auto d = Find(tx, key);
    if (!d.ok()) return d.error();
    return DeploymentView{*d, SpecOf(*d)};
  });
}

core::Result<std::vector<DeploymentView>> DeploymentManager::List(const std::string& flow_name,
                                                                  const std::string& after,
                                                                  int limit) {
  std::string after_flow, after_name;
  if (!after.empty()) {
    auto slash = after.find('/');
    if (slash == std::string::npos) {
      return core::InvalidArgument("page.cursor: malformed (use a next_cursor as given)");
    }
    after_flow = after.substr(0, slash);
    after_name = after.substr(slash + 1);
  }
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<DeploymentView>> {
        std::vector<DeploymentView> out;
        for (auto& d : store::DeploymentRepo::List(tx, flow_name, after_flow, after_name, limit)) {
          auto spec = SpecOf(d);
          out.push_back(DeploymentView{std::move(d), std::move(spec)});
        }
        return out;
      });
}

core::Result<int> DeploymentManager::Delete(const DeploymentKey& key) {
  std::string name;
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<int> {
    auto d = Find(tx, key);
    if (!d.ok()) return d.error();
    store::DeploymentRepo::LockById(tx, d->id);
    name = d->FullName();
    int deleted = store::DeploymentRepo::DeleteScheduledRuns(tx, d->id);
    store::DeploymentRepo::Delete(tx, d->id);
    return deleted;
  });
  if (r.ok()) logger_->info("deployment deleted name={} deleted_runs={}", name, *r);
  return r;
}

core::Result<DeploymentView> DeploymentManager::SetPaused(const DeploymentKey& key, bool paused) {
  int removed = 0;
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<DeploymentView> {
    auto d = Find(tx, key);
    if (!d.ok()) return d.error();
    store::DeploymentRepo::LockById(tx, d->id);
    const core::TimePoint now = orch_.clock().Now();
    store::DeploymentRepo::SetPaused(tx, d->id, paused, now);
    if (paused) removed = store::DeploymentRepo::DeleteFutureAutoRuns(tx, d->id, now);
    store::DeploymentRepo::NotifyChanged(tx, d->id);
    auto stored = store::DeploymentRepo::GetById(tx, d->id);
    if (!stored) return DeploymentNotFound(d->id);
    return DeploymentView{*stored, SpecOf(*stored)};
  });
  if (r.ok()) {
    logger_->info("deployment {} name={} removed_runs={}", paused ? "paused" : "resumed",
                  r->record.FullName(), removed);
    Changed();
  }
  return r;
}

core::Result<Created<store::FlowRunRecord>> DeploymentManager::Run(const DeploymentKey& key,
                                                                   const ManualRun& run) {
  if (run.idempotency_key.rfind("auto:", 0) == 0) {
    return core::InvalidArgument(
        "idempotency_key: the prefix \"auto:\" is reserved for scheduled runs");
  }
  if (auto st = core::CheckTags(run.tags, "tags"); !st.ok()) return st.error();
  if (auto st = core::CheckTextLength(run.idempotency_key, "idempotency_key",
                                      core::kMaxIdempotencyKeyBytes);
      !st.ok()) {
    return st.error();
  }
  auto found = orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::pair<store::DeploymentRecord, std::string>> {
        auto d = Find(tx, key);
        if (!d.ok()) return d.error();
        auto flow = store::FlowRepo::GetById(tx, d->flow_id);
        return std::make_pair(*d, flow ? flow->parameters_schema_json : std::string());
      });
  if (!found.ok()) return found.error();
  const auto& [d, schema] = *found;
  auto params = MergeParameters(d.parameters_json, run.parameters_json);
  if (!params.ok()) return params.error();
  store::FlowRecord flow;
  flow.name = d.flow_name;
  flow.parameters_schema_json = schema;
  if (auto st = CheckAgainstSchema(&flow, *params, "parameters_json"); !st.ok()) return st.error();
  const core::TimePoint now = orch_.clock().Now();
  FlowRunSpec spec;
  spec.flow_name = d.flow_name;
  spec.parameters_json = *params;
  spec.tags = d.tags;
  for (const auto& t : run.tags) {
    if (std::find(spec.tags.begin(), spec.tags.end(), t) == spec.tags.end()) spec.tags.push_back(t);
  }
  if (spec.tags.size() > core::kMaxTags) {
    return core::InvalidArgument("tags: " + std::to_string(spec.tags.size()) +
                                 " tags with the deployment's, more than the limit of " +
                                 std::to_string(core::kMaxTags));
  }
  spec.initial_state = core::Scheduled(now, run.start_time.value_or(now));
  spec.idempotency_key = run.idempotency_key;
  spec.deployment_id = d.id;
  spec.work_queue = d.work_queue;
  spec.auto_scheduled = false;
  auto created = runs_.CreateFlowRun(spec);
  if (!created.ok()) return created.error();
  auto full = runs_.GetFlowRun(created->record.run.id);
  if (full.ok()) created->record = std::move(*full);
  return created;
}

core::Result<std::vector<store::FlowRunRecord>> DeploymentManager::Upcoming(
    const DeploymentKey& key, int limit) {
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::FlowRunRecord>> {
        auto d = Find(tx, key);
        if (!d.ok()) return d.error();
        store::FlowRunFilter f;
        f.deployment_id = d->id;
        f.state_types = {core::StateType::kScheduled};
        f.oldest_first = true;
        f.limit = limit;
        return store::FlowRunRepo::List(tx, f);
      });
}

core::Result<BackfillResult> DeploymentManager::Backfill(const DeploymentKey& key,
                                                         core::TimePoint from, core::TimePoint to) {
  if (to < from) return core::InvalidArgument("to: must not be before from");
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<BackfillResult> {
    auto d = Find(tx, key);
    if (!d.ok()) return d.error();
    if (d->schedule_json.empty()) {
      return core::FailedPrecondition("deployment \"" + d->FullName() +
                                      "\" has no schedule to backfill");
    }
    auto spec = ScheduleFromJson(d->schedule_json);
    if (!spec.ok()) return spec.error();
    auto schedule = core::Schedule::Compile(*spec);
    if (!schedule.ok()) return schedule.error();
    constexpr std::size_t kCount = 100000;
    auto times = schedule->Between(from, to, kCount + 1);
    if (times.size() > kMaxBackfill) {
      return core::InvalidArgument("from/to: the range holds " +
                                   (times.size() > kCount ? "more than " + std::to_string(kCount)
                                                          : std::to_string(times.size())) +
                                   " schedule times; a backfill creates at most " +
                                   std::to_string(kMaxBackfill));
    }
    const core::TimePoint now = orch_.clock().Now();
    std::vector<store::AutoRunRow> rows;
    std::vector<std::string> keys;
    for (auto t : times) {
      rows.push_back(MakeAutoRun(orch_, *d, t, now, "backfill"));
      keys.push_back(rows.back().idempotency_key);
    }
    auto inserted = store::DeploymentRepo::InsertAutoRuns(tx, rows);
    BackfillResult out;
    out.created = static_cast<int>(inserted.size());
    out.existing = static_cast<int>(rows.size()) - out.created;
    for (const auto& id : store::DeploymentRepo::RunIdsByKeys(tx, d->flow_id, keys)) {
      if (id.empty()) continue;
      if (auto run = store::FlowRunRepo::Get(tx, id)) out.runs.push_back(std::move(*run));
    }
    return out;
  });
  if (r.ok()) logger_->info("backfill created={} existing={}", r->created, r->existing);
  return r;
}

core::Result<std::string> DeploymentManager::ResolveId(const std::string& text) {
  DeploymentKey key;
  if (IsUuid(text)) {
    key.id = text;
  } else {
    key.full_name = text;
  }
  return orch_.db().WithTransaction([&](store::Tx& tx) -> core::Result<std::string> {
    auto d = Find(tx, key);
    if (!d.ok()) {
      if (d.error().code == core::Code::kInvalidArgument) {
        return core::InvalidArgument("deployment: must be \"flow/name\" or an id, got \"" + text +
                                     "\"");
      }
      return d.error();
    }
    return d->id;
  });
}

}  // namespace weft::server::orchestration
