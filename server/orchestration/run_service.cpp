#include "server/orchestration/run_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "sdk/core/names.hpp"
#include "server/orchestration/concurrency_manager.hpp"
#include "server/orchestration/validate.hpp"
#include "server/store/admin_repo.hpp"
#include "server/store/flow_repo.hpp"
#include "server/store/result_repo.hpp"
#include "server/store/task_run_repo.hpp"

namespace weft::server::orchestration {

using core::orchestration::Decision;
using core::orchestration::DecisionName;

namespace {

core::Error RunNotFound(RunKind kind, const std::string& id) {
  return core::NotFound(std::string(RunNoun(kind)) + " \"" + id + "\" not found");
}

std::string Describe(const Outcome& o) {
  std::string s = DecisionName(o.decision);
  if (!o.rule.empty()) s += " by " + o.rule;
  if (!o.reason.empty()) s += ": " + o.reason;
  return s;
}

}  // namespace

RunService::RunService(Orchestrator& orchestrator) : orch_(orchestrator) {}

// ---- flows ----------------------------------------------------------------------------

core::Result<Created<store::FlowRecord>> RunService::CreateFlow(
    const std::string& name, const std::vector<std::string>& tags,
    const std::string& parameters_schema_json) {
  if (auto st = core::CheckFlowName(name, "name"); !st.ok()) return st.error();
  return orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<Created<store::FlowRecord>> {
    auto [rec, created] = store::FlowRepo::Upsert(tx, name, tags, parameters_schema_json);
    return Created<store::FlowRecord>{std::move(rec), created};
  });
}

core::Result<store::FlowRecord> RunService::GetFlowById(const std::string& id) {
  if (!IsUuid(id)) return core::NotFound("flow \"" + id + "\" not found");
  return orch_.db().WithTransaction([&](store::Tx& tx) -> core::Result<store::FlowRecord> {
    auto f = store::FlowRepo::GetById(tx, NormalizeUuid(id));
    if (!f) return core::NotFound("flow \"" + id + "\" not found");
    return std::move(*f);
  });
}

core::Result<store::FlowRecord> RunService::GetFlowByName(const std::string& name) {
  return orch_.db().WithTransaction([&](store::Tx& tx) -> core::Result<store::FlowRecord> {
    auto f = store::FlowRepo::GetByName(tx, name);
    if (!f) return core::NotFound("flow \"" + name + "\" not found");
    return std::move(*f);
  });
}

core::Result<std::vector<store::FlowRecord>> RunService::ListFlows(const std::string& name_prefix,
                                                                   const std::string& after_name,
                                                                   int limit) {
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::FlowRecord>> {
        return store::FlowRepo::List(tx, name_prefix, after_name, limit);
      });
}

// ---- flow runs ------------------------------------------------------------------------

core::Result<Created<store::FlowRunRecord>> RunService::CreateFlowRun(const FlowRunSpec& spec) {
  using R = core::Result<Created<store::FlowRunRecord>>;
  if (auto st = core::CheckFlowName(spec.flow_name, "flow_name"); !st.ok()) return st.error();
  if (auto st = core::CheckDisplayName(spec.name, "name", false); !st.ok()) return st.error();
  std::string name = spec.name.empty() ? GenerateRunName() : spec.name;
  auto result = orch_.db().WithRetry([&](store::Tx& tx) -> R {
    std::string parent_task_run_id;
    if (!spec.parent_task_run_id.empty()) {
      std::optional<store::TaskRunRecord> parent;
      if (IsUuid(spec.parent_task_run_id)) {
        parent = store::TaskRunRepo::Get(tx, NormalizeUuid(spec.parent_task_run_id));
      }
      if (!parent) {
        return core::NotFound("parent_task_run_id: task run \"" + spec.parent_task_run_id +
                              "\" not found");
      }
      parent_task_run_id = parent->run.id;
    }
    std::string flow_id = store::FlowRepo::EnsureId(tx, spec.flow_name);
    if (!spec.idempotency_key.empty()) {
      if (auto existing =
              store::FlowRunRepo::FindByIdempotencyKey(tx, flow_id, spec.idempotency_key)) {
        return Created<store::FlowRunRecord>{std::move(*existing), false};
      }
    }
    core::TimePoint now = orch_.clock().Now();
    store::FlowRunRecord rec;
    rec.flow_id = flow_id;
    rec.flow_name = spec.flow_name;
    rec.name = name;
    rec.parameters_json = spec.parameters_json.empty() ? "{}" : spec.parameters_json;
    rec.tags = spec.tags;
    rec.idempotency_key = spec.idempotency_key;
    rec.deployment_id = spec.deployment_id;
    rec.work_queue = spec.work_queue;
    rec.auto_scheduled = spec.auto_scheduled;
    rec.parent_task_run_id = parent_task_run_id;
    rec.run.retry_policy = spec.retry_policy;
    core::State initial = spec.initial_state ? *spec.initial_state : core::Pending(now);
    Outcome o = orch_.Decide(RunKind::kFlowRun, rec.run, initial, false, now);
    if (o.decision != Decision::kAccept) {
      return core::FailedPrecondition("initial_state: " + Describe(o));
    }
    Orchestrator::ApplyAccepted(rec.run, o.to_write);
    rec.run.run_count = o.run_count;
    auto inserted = store::FlowRunRepo::Insert(tx, rec);
    if (!inserted) {
      // A concurrent creation with the same idempotency key won.
      auto existing = store::FlowRunRepo::FindByIdempotencyKey(tx, flow_id, spec.idempotency_key);
      if (!existing) return core::Internal("flow run with idempotency key vanished");
      return Created<store::FlowRunRecord>{std::move(*existing), false};
    }
    auto ids = store::FlowRunRepo::InsertStates(tx, inserted->run.id, o.to_write);
    if (!ids.empty()) {
      inserted->run.state_id = ids.back();
      store::FlowRunRepo::Update(tx, inserted->run);
    }
    return Created<store::FlowRunRecord>{std::move(*inserted), true};
  });
  if (result.ok() && result->created) {
    orch_.logger().info("flow_run created id={} flow={} name={} state={}", result->record.run.id,
                        spec.flow_name, result->record.name,
                        result->record.run.state ? result->record.run.state->name : "none");
  }
  return result;
}

core::Result<store::FlowRunRecord> RunService::GetFlowRun(const std::string& id) {
  if (!IsUuid(id)) return RunNotFound(RunKind::kFlowRun, id);
  return orch_.db().WithTransaction([&](store::Tx& tx) -> core::Result<store::FlowRunRecord> {
    auto r = store::FlowRunRepo::Get(tx, NormalizeUuid(id));
    if (!r) return RunNotFound(RunKind::kFlowRun, id);
    return std::move(*r);
  });
}

core::Result<std::vector<store::FlowRunRecord>> RunService::ListFlowRuns(
    const store::FlowRunFilter& filter) {
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::FlowRunRecord>> {
        return store::FlowRunRepo::List(tx, filter);
      });
}

core::Result<std::vector<store::StateRecord>> RunService::ListFlowRunStates(
    const std::string& id, const store::StatePage& page) {
  if (!IsUuid(id)) return RunNotFound(RunKind::kFlowRun, id);
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::StateRecord>> {
        std::string nid = NormalizeUuid(id);
        auto states = store::FlowRunRepo::ListStates(tx, nid, page);
        if (states.empty() && store::FlowRunRepo::ExistingIds(tx, {nid}).empty()) {
          return RunNotFound(RunKind::kFlowRun, id);
        }
        return states;
      });
}

core::Result<SetStateResult> RunService::ResumeFlowRun(const std::string& id) {
  if (!IsUuid(id)) return RunNotFound(RunKind::kFlowRun, id);
  const std::string nid = NormalizeUuid(id);
  std::string from;
  core::State proposed;
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<SetStateResult> {
    auto facts = store::FlowRunRepo::Lock(tx, nid);
    if (!facts) return RunNotFound(RunKind::kFlowRun, id);
    from = facts->state ? facts->state->name : "none";
    if (!facts->state || facts->state->type != core::StateType::kPaused) {
      return core::FailedPrecondition("flow run " + nid + " is not paused (it is " + from +
                                      "); only a Paused run can be resumed");
    }
    core::TimePoint now = orch_.clock().Now();
    proposed = core::Running(now);
    proposed.message = "resumed";
    SetStateResult out;
    out.outcome = orch_.Decide(RunKind::kFlowRun, *facts, proposed, false, now);
    out.state_id = facts->state_id;
    if (out.outcome.decision != Decision::kAccept || out.outcome.to_write.empty()) return out;
    auto ids = store::FlowRunRepo::InsertStates(tx, nid, out.outcome.to_write);
    Orchestrator::ApplyAccepted(*facts, out.outcome.to_write);
    facts->run_count = out.outcome.run_count;
    if (!ids.empty()) facts->state_id = ids.back();
    store::FlowRunRepo::Update(tx, *facts);
    out.state_id = facts->state_id;
    return out;
  });
  if (r.ok()) {
    orch_.logger().info("transition kind=flow_run id={} from={} to=Running decision={} reason=\"{}\"",
                        nid, from, DecisionName(r->outcome.decision), "resumed");
  }
  return r;
}

// ---- task runs ------------------------------------------------------------------------

namespace {

store::TaskRunRecord ToRecord(const TaskRunSpec& spec) {
  store::TaskRunRecord t;
  t.run.id = spec.id.empty() ? std::string() : NormalizeUuid(spec.id);
  t.run.retry_policy = spec.retry_policy;
  t.flow_run_id = NormalizeUuid(spec.flow_run_id);
  t.task_key = spec.task_key;
  t.dynamic_key = spec.dynamic_key;
  t.name = spec.name.empty() ? spec.task_key + "-" + spec.dynamic_key : spec.name;
  t.tags = spec.tags;
  t.cache_key = spec.cache_key;
  t.task_inputs_json = spec.task_inputs_json;
  if (spec.initial_state && spec.initial_state->timestamp != core::TimePoint{}) {
    t.created = spec.initial_state->timestamp;  // listing order: the creator's own clock
  }
  return t;
}

}  // namespace

core::Result<Created<store::TaskRunRecord>> RunService::CreateTaskRun(const TaskRunSpec& spec) {
  using R = core::Result<Created<store::TaskRunRecord>>;
  if (!IsUuid(spec.flow_run_id)) {
    return core::NotFound("flow_run_id: flow run \"" + spec.flow_run_id + "\" not found");
  }
  if (!(spec.cache_expiration_seconds >= 0)) {
    return core::InvalidArgument("cache_expiration_seconds: must be >= 0 (0 = never expires)");
  }
  if (spec.initial_state) {
    auto checked = orch_.CheckResult(RunKind::kTaskRun, spec.id.empty() ? spec.name : spec.id,
                                     *spec.initial_state, "initial_state.result_json");
    if (!checked.ok()) return checked.error();
  }
  auto result = orch_.db().WithRetry([&](store::Tx& tx) -> R {
    store::TaskRunRecord rec = ToRecord(spec);
    if (store::FlowRunRepo::ExistingIds(tx, {rec.flow_run_id}).empty()) {
      return core::NotFound("flow_run_id: flow run \"" + spec.flow_run_id + "\" not found");
    }
    auto ins = store::TaskRunRepo::InsertMany(tx, {rec});
    if (ins[0].id.empty()) {
      return core::AlreadyExists("id: \"" + spec.id + "\" is already used by another task run");
    }
    bool created = ins[0].created;
    if (created && spec.cache_expiration_seconds > 0) {
      store::ResultRepo::SetExpirationSeconds(tx, {ins[0].id}, {spec.cache_expiration_seconds});
    }
    if (created) {
      core::TimePoint now = orch_.clock().Now();
      store::RunFacts facts;
      facts.id = ins[0].id;
      facts.retry_policy = rec.run.retry_policy;
      core::State initial = spec.initial_state ? *spec.initial_state : core::Pending(now);
      std::optional<SlotBook> slots;
      std::vector<core::orchestration::TagLimit> limits;
      if (initial.type == core::StateType::kRunning && !rec.tags.empty()) {
        slots = SlotBook::Load(tx, {facts.id}, orch_.SlotHoldersLiveAfter(now));
        limits = slots->For(facts.id);
      }
      Outcome o = orch_.Decide(RunKind::kTaskRun, facts, initial, false, now,
                               limits.empty() ? nullptr : &limits);
      if (o.decision != Decision::kAccept) {
        return core::FailedPrecondition("initial_state: " + Describe(o));
      }
      if (slots && o.state && o.state->type == core::StateType::kRunning) {
        slots->Secure(tx, {facts.id}, now);
      }
      std::vector<std::pair<std::string, const core::State*>> rows;
      for (const auto& s : o.to_write) rows.emplace_back(facts.id, &s);
      auto ids = store::TaskRunRepo::InsertStates(tx, rows);
      Orchestrator::ApplyAccepted(facts, o.to_write);
      facts.run_count = o.run_count;
      if (!ids.empty()) facts.state_id = ids.back();
      store::TaskRunRepo::UpdateMany(tx, {facts});
      orch_.StoreResults(tx, facts.id, o.to_write, nullptr, now);
    }
    auto stored = store::TaskRunRepo::Get(tx, ins[0].id);
    if (!stored) return core::Internal("task run vanished after creation");
    return Created<store::TaskRunRecord>{std::move(*stored), created};
  });
  return result;
}

core::Result<store::TaskRunRecord> RunService::GetTaskRun(const std::string& id) {
  if (!IsUuid(id)) return RunNotFound(RunKind::kTaskRun, id);
  return orch_.db().WithTransaction([&](store::Tx& tx) -> core::Result<store::TaskRunRecord> {
    auto r = store::TaskRunRepo::Get(tx, NormalizeUuid(id));
    if (!r) return RunNotFound(RunKind::kTaskRun, id);
    return std::move(*r);
  });
}

core::Result<std::vector<store::TaskRunRecord>> RunService::ListTaskRuns(
    const std::string& flow_run_id, const std::optional<store::Cursor>& after, int limit) {
  if (!IsUuid(flow_run_id)) return RunNotFound(RunKind::kFlowRun, flow_run_id);
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::TaskRunRecord>> {
        std::string nid = NormalizeUuid(flow_run_id);
        auto runs = store::TaskRunRepo::List(tx, nid, after, limit);
        if (runs.empty() && store::FlowRunRepo::ExistingIds(tx, {nid}).empty()) {
          return RunNotFound(RunKind::kFlowRun, flow_run_id);
        }
        return runs;
      });
}

core::Result<std::vector<store::StateRecord>> RunService::ListTaskRunStates(
    const std::string& id, const store::StatePage& page) {
  if (!IsUuid(id)) return RunNotFound(RunKind::kTaskRun, id);
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::StateRecord>> {
        std::string nid = NormalizeUuid(id);
        auto states = store::TaskRunRepo::ListStates(tx, nid, page);
        if (states.empty() && !store::TaskRunRepo::Get(tx, nid)) {
          return RunNotFound(RunKind::kTaskRun, id);
        }
        return states;
      });
}

core::Result<store::StoredResult> RunService::GetTaskRunResult(const std::string& id) {
  if (!IsUuid(id)) return RunNotFound(RunKind::kTaskRun, id);
  return orch_.db().WithTransaction([&](store::Tx& tx) -> core::Result<store::StoredResult> {
    std::string nid = NormalizeUuid(id);
    auto stored = store::ResultRepo::Get(tx, nid);
    if (stored) return std::move(*stored);
    if (!store::ResultRepo::Facts(tx, nid)) return RunNotFound(RunKind::kTaskRun, id);
    return core::NotFound("task run " + nid + " has no stored result");
  });
}

// ---- batched reports ------------------------------------------------------------------

core::Result<std::vector<TaskRunReportResult>> RunService::ReportTaskRuns(
    const std::vector<TaskRunReport>& reports) {
  using R = core::Result<std::vector<TaskRunReportResult>>;
  // Results ride on COMPLETED states: a bad one (too large, not JSON) refuses the whole
  // batch before anything is written, naming the report and the run.
  for (size_t i = 0; i < reports.size(); ++i) {
    const auto& r = reports[i];
    const std::string& run = r.create ? r.create->id : r.task_run_id;
    const std::string at = "reports[" + std::to_string(i) + "]";
    if (r.create && !(r.create->cache_expiration_seconds >= 0)) {
      return core::InvalidArgument(at + ".create.cache_expiration_seconds: must be >= 0");
    }
    if (r.create && r.create->initial_state) {
      auto c = orch_.CheckResult(RunKind::kTaskRun, run, *r.create->initial_state,
                                 at + ".create.initial_state.result_json");
      if (!c.ok()) return c.error();
    }
    for (size_t k = 0; k < r.states.size(); ++k) {
      auto c = orch_.CheckResult(RunKind::kTaskRun, run, r.states[k],
                                 at + ".states[" + std::to_string(k) + "].result_json");
      if (!c.ok()) return c.error();
    }
  }
  auto result = orch_.db().WithRetry([&](store::Tx& tx) -> R {
    const size_t n = reports.size();
    std::vector<TaskRunReportResult> results(n);
    std::vector<bool> skip(n, false);
    std::vector<bool> created(n, false);

    // 1. Creations: their flow runs must exist.
    std::vector<std::string> flow_run_ids;
    for (size_t i = 0; i < n; ++i) {
      const auto& r = reports[i];
      const std::string& id = r.create ? r.create->id : r.task_run_id;
      if (!IsUuid(id)) {
        results[i].task_run_id = id;
        results[i].rejected_reason =
            std::string(r.create ? "create.id" : "task_run_id") + ": \"" + id + "\" is not a UUID";
        skip[i] = true;
      } else if (r.create && !IsUuid(r.create->flow_run_id)) {
        results[i].task_run_id = id;
        results[i].rejected_reason =
            "create.flow_run_id: flow run \"" + r.create->flow_run_id + "\" not found";
        skip[i] = true;
      } else if (r.create) {
        flow_run_ids.push_back(NormalizeUuid(r.create->flow_run_id));
      }
    }
    std::set<std::string> existing_flow_runs;
    if (!flow_run_ids.empty()) {
      std::sort(flow_run_ids.begin(), flow_run_ids.end());
      flow_run_ids.erase(std::unique(flow_run_ids.begin(), flow_run_ids.end()), flow_run_ids.end());
      for (auto& id : store::FlowRunRepo::ExistingIds(tx, flow_run_ids)) {
        existing_flow_runs.insert(std::move(id));
      }
    }
    std::vector<store::TaskRunRecord> to_create;
    std::vector<size_t> create_index;
    for (size_t i = 0; i < n; ++i) {
      const auto& r = reports[i];
      if (skip[i]) continue;
      results[i].task_run_id = NormalizeUuid(r.create ? r.create->id : r.task_run_id);
      if (!r.create) continue;
      if (!existing_flow_runs.count(NormalizeUuid(r.create->flow_run_id))) {
        results[i].rejected_reason =
            "create.flow_run_id: flow run \"" + r.create->flow_run_id + "\" not found";
        skip[i] = true;
        continue;
      }
      to_create.push_back(ToRecord(*r.create));
      create_index.push_back(i);
    }
    if (!to_create.empty()) {
      auto ins = store::TaskRunRepo::InsertMany(tx, to_create);
      std::vector<std::string> expiring_ids;
      std::vector<double> expiring_seconds;
      for (size_t k = 0; k < ins.size(); ++k) {
        size_t i = create_index[k];
        if (ins[k].id.empty()) {
          results[i].rejected_reason =
              "create.id: \"" + reports[i].create->id + "\" is already used by another task run";
          skip[i] = true;
          continue;
        }
        results[i].task_run_id = ins[k].id;
        created[i] = ins[k].created;
        if (created[i] && reports[i].create->cache_expiration_seconds > 0) {
          expiring_ids.push_back(ins[k].id);
          expiring_seconds.push_back(reports[i].create->cache_expiration_seconds);
        }
      }
      store::ResultRepo::SetExpirationSeconds(tx, expiring_ids, expiring_seconds);
    }

    // 2. Lock every run the batch touches (in id order).
    std::vector<std::string> ids;
    for (size_t i = 0; i < n; ++i) {
      if (!skip[i]) ids.push_back(results[i].task_run_id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::map<std::string, store::RunFacts> facts;
    for (auto& f : store::TaskRunRepo::LockMany(tx, ids)) facts.emplace(f.id, std::move(f));
    const core::TimePoint now = orch_.clock().Now();

    // Runs proposed RUNNING: the concurrency limits of their tags (locked) and their holders.
    std::vector<std::string> starting;
    for (size_t i = 0; i < n; ++i) {
      if (skip[i]) continue;
      const auto& r = reports[i];
      bool running = r.create && r.create->initial_state &&
                     r.create->initial_state->type == core::StateType::kRunning;
      for (const auto& s : r.states) running = running || s.type == core::StateType::kRunning;
      if (running) starting.push_back(results[i].task_run_id);
    }
    std::optional<SlotBook> slots;
    if (!starting.empty()) {
      std::sort(starting.begin(), starting.end());
      starting.erase(std::unique(starting.begin(), starting.end()), starting.end());
      slots = SlotBook::Load(tx, starting, orch_.SlotHoldersLiveAfter(now));
    }
    auto decide = [&](const store::RunFacts& f, const core::State& proposed, core::TimePoint at) {
      if (slots && proposed.type == core::StateType::kRunning && slots->Limited(f.id)) {
        auto limits = slots->For(f.id);
        return orch_.Decide(RunKind::kTaskRun, f, proposed, false, at, &limits);
      }
      return orch_.Decide(RunKind::kTaskRun, f, proposed, false, at);
    };

    // 3. Check each report's states against the rules, in order.
    std::deque<core::State> written;  // stable addresses for the insert rows
    std::vector<std::pair<std::string, const core::State*>> rows;
    std::set<std::string> touched;
    for (size_t i = 0; i < n; ++i) {
      if (skip[i]) continue;
      auto& res = results[i];
      auto it = facts.find(res.task_run_id);
      if (it == facts.end()) {
        res.rejected_reason = "task run \"" + res.task_run_id + "\" not found";
        continue;
      }
      store::RunFacts& f = it->second;
      auto write = [&](std::vector<core::State>& states, int run_count) {
        for (auto& s : states) {
          Orchestrator::ApplyAccepted(f, s);
          written.push_back(std::move(s));
          rows.emplace_back(f.id, &written.back());
        }
        f.run_count = run_count;
        touched.insert(f.id);
        if (slots && slots->Limited(f.id)) {
          if (f.state && f.state->type == core::StateType::kRunning) {
            slots->Hold(f.id, now);
          } else {
            slots->Release(f.id);
          }
        }
      };
      const auto& states = reports[i].states;
      if (created[i] && reports[i].create->initial_state) {
        Outcome o = decide(f, *reports[i].create->initial_state, now);
        if (o.decision != Decision::kAccept) {
          res.rejected_reason = "create.initial_state: " + Describe(o);
          continue;
        }
        write(o.to_write, o.run_count);
      }
      size_t k = 0;
      while (k < states.size()) {
        Outcome o = decide(f, states[k], now);
        if (o.decision == Decision::kWait && o.rule == "WaitForScheduledTime" &&
            o.wait_seconds <= kClockSkewSeconds) {
          // The flow process's clock ran slightly ahead of ours: it already waited.
          o = decide(f, states[k], now + core::FromSeconds(o.wait_seconds + 1e-6));
        }
        if (o.decision != Decision::kAccept) {
          const core::State& s = states[k];
          res.rejected_reason = "states[" + std::to_string(k) + "] (" +
                                (s.name.empty() ? core::DefaultStateName(s.type) : s.name) +
                                "): " + Describe(o);
          break;
        }
        size_t consumed = 1;
        // The client reports the follow-ups it derived with the same rules (they carry its
        // scheduled times): store those instead of ours when they match.
        for (size_t j = 1; j < o.to_write.size(); ++j) {
          if (k + j >= states.size()) break;
          const core::State& next = states[k + j];
          std::string next_name = next.name.empty() ? core::DefaultStateName(next.type) : next.name;
          if (next.type != o.to_write[j].type || next_name != o.to_write[j].name) break;
          o.to_write[j] = next;
          o.to_write[j].name = next_name;
          if (o.to_write[j].timestamp == core::TimePoint{}) o.to_write[j].timestamp = now;
          ++consumed;
        }
        write(o.to_write, o.run_count);
        res.accepted += static_cast<int>(consumed);
        k += consumed;
      }
    }

    // 4. One multi-row insert for the histories, one multi-row update for the runs.
    if (!rows.empty()) {
      auto state_ids = store::TaskRunRepo::InsertStates(tx, rows);
      for (size_t r = 0; r < rows.size() && r < state_ids.size(); ++r) {
        facts[rows[r].first].state_id = state_ids[r];
      }
    }
    std::vector<store::RunFacts> updates;
    updates.reserve(touched.size());
    for (const auto& id : touched) updates.push_back(facts[id]);
    store::TaskRunRepo::UpdateMany(tx, updates);
    // 5. Results of the COMPLETED states stored (one row per task run).
    for (const auto& [run_id, state] : rows) {
      if (state->type != core::StateType::kCompleted || state->result_json.empty()) continue;
      std::vector<core::State> one{*state};
      orch_.StoreResults(tx, run_id, one, nullptr, now);
    }
    if (slots) {
      std::vector<std::string> holding;
      for (const auto& id : starting) {
        auto it = facts.find(id);
        if (it != facts.end() && touched.count(id) && it->second.state &&
            it->second.state->type == core::StateType::kRunning) {
          holding.push_back(id);
        }
      }
      slots->Secure(tx, holding, now);
    }
    return results;
  });
  if (!result.ok()) {
    orch_.logger().warn("report_task_runs failed reports={} error=\"{}\"", reports.size(),
                        result.error().message);
  }
  return result;
}

core::Result<RunService::DatabaseInfo> RunService::GetDatabaseInfo() {
  return orch_.db().WithTransaction([&](store::Tx& tx) -> core::Result<DatabaseInfo> {
    DatabaseInfo info;
    info.server_version = store::AdminRepo::ServerVersion(tx);
    info.schema_version = store::AdminRepo::SchemaVersion(tx);
    return info;
  });
}

}  // namespace weft::server::orchestration
