#include "server/orchestration/set_state.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <random>

#include "server/orchestration/concurrency_manager.hpp"
#include "server/orchestration/validate.hpp"
#include "server/store/flow_run_repo.hpp"
#include "server/store/result_repo.hpp"
#include "server/store/task_run_repo.hpp"

namespace weft::server::orchestration {

using core::orchestration::Decision;
using core::orchestration::DecisionName;
using core::orchestration::DefaultPolicy;
using core::orchestration::TransitionContext;

double UnitRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

const char* RunNoun(RunKind kind) { return kind == RunKind::kFlowRun ? "flow run" : "task run"; }

Orchestrator::Orchestrator(store::Database& db, const core::Clock& clock,
                           std::shared_ptr<spdlog::logger> logger)
    : db_(db), clock_(clock), logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
}

Outcome Orchestrator::Decide(RunKind kind, const store::RunFacts& facts, core::State proposed,
                             bool force, core::TimePoint now,
                             const std::vector<core::orchestration::TagLimit>* tag_limits,
                             const core::orchestration::CachedResult* cached) const {
  TransitionContext ctx;
  ctx.kind = kind;
  ctx.initial = facts.state;
  ctx.proposed = std::move(proposed);
  ctx.run_count = facts.run_count;
  ctx.retry_policy = facts.retry_policy;
  ctx.now = now;
  ctx.unit_random = UnitRandom();
  ctx.force = force;
  if (tag_limits) ctx.tag_limits = *tag_limits;
  if (cached) ctx.cached = *cached;
  if (!observer_) return DefaultPolicy().Apply(std::move(ctx));
  std::string name = ctx.proposed.name.empty() ? core::DefaultStateName(ctx.proposed.type)
                                               : ctx.proposed.name;
  Outcome o = DefaultPolicy().Apply(std::move(ctx));
  observer_(kind, name, o);
  return o;
}

void Orchestrator::ApplyAccepted(store::RunFacts& facts, const core::State& s) {
  using core::StateType;
  if (facts.state && facts.state->type == StateType::kRunning && s.type != StateType::kRunning) {
    double ran = core::ToSeconds(s.timestamp - facts.state->timestamp);
    if (ran > 0) facts.total_run_time += ran;
  }
  if (s.type == StateType::kRunning && !facts.start_time) facts.start_time = s.timestamp;
  if (s.type == StateType::kScheduled && s.scheduled_time && !facts.expected_start_time) {
    facts.expected_start_time = s.scheduled_time;
  }
  if (s.IsTerminal()) facts.end_time = s.timestamp;
  facts.state = s;
}

void Orchestrator::ApplyAccepted(store::RunFacts& facts, const std::vector<core::State>& written) {
  for (const auto& s : written) ApplyAccepted(facts, s);
}

core::Status Orchestrator::CheckResult(RunKind kind, const std::string& run_id,
                                       const core::State& s, const std::string& field) const {
  if (s.result_json.empty()) return {};
  const std::string where = std::string(RunNoun(kind)) + " " + run_id;
  if (kind != RunKind::kTaskRun) {
    return core::InvalidArgument(field + ": only task runs store results (" + where + ")");
  }
  if (s.type != core::StateType::kCompleted) {
    return core::InvalidArgument(field + ": only a COMPLETED state carries a result (" + where +
                                 " proposed " + (s.name.empty() ? core::DefaultStateName(s.type)
                                                                : s.name) +
                                 ")");
  }
  if (static_cast<long long>(s.result_json.size()) > max_result_size_) {
    return core::InvalidArgument(field + ": the result of " + where + " is " +
                                 std::to_string(s.result_json.size()) +
                                 " bytes, over the server's limit of " +
                                 std::to_string(max_result_size_) +
                                 " bytes (--max-result-size); nothing was stored");
  }
  if (core::ScanJson(s.result_json, core::kMaxJsonDepth).depth > core::kMaxJsonDepth) {
    return core::InvalidArgument(field + ": the result of " + where + " is nested deeper than " +
                                 std::to_string(core::kMaxJsonDepth) + " levels");
  }
  if (!nlohmann::json::accept(s.result_json)) {
    return core::InvalidArgument(field + ": the result of " + where + " is not valid JSON");
  }
  return {};
}

void Orchestrator::StoreResults(store::Tx& tx, const std::string& task_run_id,
                                std::vector<core::State>& written,
                                const core::orchestration::CachedResult* cached,
                                core::TimePoint now) const {
  std::optional<store::CacheFacts> cache;
  for (auto& s : written) {
    if (cached && s.type == core::StateType::kCompleted && s.name == "Cached") {
      if (!cache) cache = store::ResultRepo::Facts(tx, task_run_id);
      store::ResultRepo::StoreCachedFrom(tx, task_run_id, cache ? cache->cache_key : "", *cached,
                                         now);
    } else if (s.type == core::StateType::kCompleted && !s.result_json.empty()) {
      if (!cache) cache = store::ResultRepo::Facts(tx, task_run_id);
      std::optional<core::TimePoint> expiration;
      if (cache && !cache->cache_key.empty() && cache->cache_expiration_seconds > 0) {
        expiration = now + core::FromSeconds(cache->cache_expiration_seconds);
      }
      store::ResultRepo::Store(tx, task_run_id, cache ? cache->cache_key : "", s.result_json,
                               expiration, now);
    }
    if (!cached) s.result_json.clear();
  }
}

core::Result<SetStateResult> Orchestrator::SetState(RunKind kind, const std::string& run_id,
                                                    core::State proposed, bool force) {
  const char* noun = RunNoun(kind);
  if (!IsUuid(run_id)) return core::NotFound(std::string(noun) + " \"" + run_id + "\" not found");
  std::string id = NormalizeUuid(run_id);
  if (auto checked = CheckResult(kind, id, proposed); !checked.ok()) return checked.error();
  std::string from;
  auto result = db_.WithRetry([&](store::Tx& tx) -> core::Result<SetStateResult> {
    auto facts = kind == RunKind::kFlowRun ? store::FlowRunRepo::Lock(tx, id)
                                           : store::TaskRunRepo::Lock(tx, id);
    if (!facts) return core::NotFound(std::string(noun) + " \"" + id + "\" not found");
    from = facts->state ? facts->state->name : "none";
    SetStateResult r;
    const core::TimePoint now = clock_.Now();
    // A task run proposed RUNNING: the limits of its tags (locked) and their holders.
    std::optional<SlotBook> slots;
    std::vector<core::orchestration::TagLimit> limits;
    if (kind == RunKind::kTaskRun && proposed.type == core::StateType::kRunning) {
      slots = SlotBook::Load(tx, {id}, SlotHoldersLiveAfter(now));
      limits = slots->For(id);
    }
    // Results and the cache: a task run proposing RUNNING is answered Cached when its cache
    // key has a valid stored result (UseCachedResult).
    std::optional<core::orchestration::CachedResult> hit;
    if (kind == RunKind::kTaskRun && proposed.type == core::StateType::kRunning && !force) {
      auto cache = store::ResultRepo::Facts(tx, id);
      if (cache) hit = store::ResultRepo::FindValid(tx, cache->cache_key, id, now);
    }
    r.outcome = Decide(kind, *facts, proposed, force, now, limits.empty() ? nullptr : &limits,
                       hit ? &*hit : nullptr);
    r.state_id = facts->state_id;
    const bool written_instead =
        r.outcome.decision == Decision::kReject && !r.outcome.to_write.empty();
    if ((r.outcome.decision != Decision::kAccept && !written_instead) ||
        r.outcome.to_write.empty()) {
      return r;
    }
    std::vector<std::int64_t> ids;
    if (kind == RunKind::kFlowRun) {
      ids = store::FlowRunRepo::InsertStates(tx, id, r.outcome.to_write);
    } else {
      std::vector<std::pair<std::string, const core::State*>> rows;
      for (const auto& s : r.outcome.to_write) rows.emplace_back(id, &s);
      ids = store::TaskRunRepo::InsertStates(tx, rows);
    }
    ApplyAccepted(*facts, r.outcome.to_write);
    facts->run_count = r.outcome.run_count;
    if (!ids.empty()) facts->state_id = ids.back();
    r.state_id = facts->state_id;
    if (kind == RunKind::kTaskRun) {
      StoreResults(tx, id, r.outcome.to_write, written_instead && hit ? &*hit : nullptr, now);
      if (r.outcome.state && !written_instead) r.outcome.state->result_json.clear();
    }
    if (kind == RunKind::kFlowRun) {
      store::FlowRunRepo::Update(tx, *facts);
    } else {
      store::TaskRunRepo::UpdateMany(tx, {*facts});
      if (slots && facts->state && facts->state->type == core::StateType::kRunning) {
        slots->Secure(tx, {id}, now);
      }
    }
    return r;
  });
  if (!result.ok()) {
    if (result.error().code != core::Code::kNotFound) {
      logger_->warn("set_state failed kind={} id={} error=\"{}\"", RunKindName(kind), id,
                    result.error().message);
    }
    return result;
  }
  const Outcome& o = result->outcome;
  auto level = kind == RunKind::kFlowRun || o.decision != Decision::kAccept ? spdlog::level::info
                                                                            : spdlog::level::debug;
  logger_->log(level, "transition kind={} id={} from={} to={} decision={} rule={} reason=\"{}\"",
               RunKindName(kind), id, from, proposed.name.empty()
                                               ? core::DefaultStateName(proposed.type)
                                               : proposed.name,
               DecisionName(o.decision), o.rule, o.reason);
  return result;
}

}  // namespace weft::server::orchestration
