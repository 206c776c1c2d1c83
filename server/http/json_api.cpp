// The JSON API under /api/ (docs/api.md). Thin: parse the query, call the same domain
// objects as the gRPC services, convert records to JSON. Errors are
// {"error": {"code": "NOT_FOUND", "message": "..."}} with the matching HTTP status.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/field_limits.hpp"
#include "sdk/core/orchestration/rule.hpp"
#include "server/http/routes.hpp"
#include "server/orchestration/agent_manager.hpp"
#include "server/orchestration/concurrency_manager.hpp"
#include "server/orchestration/deployment_manager.hpp"
#include "server/orchestration/log_service.hpp"
#include "server/orchestration/notification_manager.hpp"
#include "server/orchestration/run_service.hpp"
#include "server/orchestration/storage_catalog.hpp"
#include "server/orchestration/validate.hpp"
#include "server/orchestration/work_queue_manager.hpp"

namespace weft::server::http {

namespace {

using nlohmann::json;

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 200;
constexpr int kDefaultHistory = 200;
constexpr int kMaxHistory = 1000;
// A run's state history: its page shows the newest ones; /states pages through all.
constexpr int kRunPageStates = 100;
constexpr int kMaxStatesPage = 1000;

int HttpStatusOf(core::Code code) {
  switch (code) {
    case core::Code::kInvalidArgument:
      return 400;
    case core::Code::kUnauthenticated:
      return 401;
    case core::Code::kPermissionDenied:
      return 403;
    case core::Code::kNotFound:
      return 404;
    case core::Code::kAlreadyExists:
    case core::Code::kAborted:
      return 409;
    case core::Code::kFailedPrecondition:
      return 412;
    case core::Code::kResourceExhausted:
      return 429;
    case core::Code::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

void SendJson(httplib::Response& res, const json& body, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, const core::Error& e) {
  SendJson(res, json{{"error", {{"code", core::CodeName(e.code)}, {"message", e.message}}}},
           HttpStatusOf(e.code));
}

std::string Time(core::TimePoint t) { return core::FormatTime(t); }
json OptTime(const std::optional<core::TimePoint>& t) {
  return t ? json(core::FormatTime(*t)) : json(nullptr);
}

// A JSON text from the database (parameters, config): parsed, or kept as a string when it
// does not parse or is nested deeper than inputs may be now (never fails a page; dumping a
// deep value would recurse).
json Embedded(const std::string& text, json fallback = json::object()) {
  if (text.empty()) return fallback;
  if (core::ScanJson(text, core::kMaxJsonDepth).depth > core::kMaxJsonDepth) return json(text);
  auto j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

json StateJson(const core::State& s) {
  json j{{"type", core::StateTypeName(s.type)},
         {"name", s.name},
         {"timestamp", Time(s.timestamp)},
         {"message", s.message}};
  if (s.scheduled_time) j["scheduled_time"] = Time(*s.scheduled_time);
  if (!s.details_json.empty()) j["details"] = Embedded(s.details_json);
  return j;
}

json RunStateJson(const store::RunFacts& f) {
  return f.state ? StateJson(*f.state) : json(nullptr);
}

// Duration as people read it: time spent running, plus the current stretch while running.
double DurationSeconds(const store::FlowRunRecord& r, core::TimePoint now) {
  const auto& f = r.run;
  double duration = f.total_run_time;
  if (f.state && f.state->type == core::StateType::kRunning && f.start_time && !f.end_time) {
    duration = std::max(duration, core::ToSeconds(now - f.state->timestamp) + f.total_run_time);
  }
  return duration;
}

json FlowRunJson(const store::FlowRunRecord& r, core::TimePoint now) {
  const auto& f = r.run;
  json j{{"id", f.id},
         {"name", r.name},
         {"flow_id", r.flow_id},
         {"flow_name", r.flow_name},
         {"state", RunStateJson(f)},
         {"tags", r.tags},
         {"run_count", f.run_count},
         {"expected_start_time", OptTime(f.expected_start_time)},
         {"start_time", OptTime(f.start_time)},
         {"end_time", OptTime(f.end_time)},
         {"total_run_time_seconds", f.total_run_time},
         {"created", Time(r.created)},
         {"updated", Time(r.updated)},
         {"deployment_id", r.deployment_id},
         {"deployment_name", r.deployment_name},
         {"auto_scheduled", r.auto_scheduled},
         {"work_queue", r.work_queue},
         {"agent_name", r.agent_name},
         {"last_heartbeat", OptTime(r.last_heartbeat)}};
  // A subflow run's parent (null otherwise).
  j["parent_task_run_id"] =
      r.parent_task_run_id.empty() ? json(nullptr) : json(r.parent_task_run_id);
  j["parent_flow_run_id"] =
      r.parent_flow_run_id.empty() ? json(nullptr) : json(r.parent_flow_run_id);
  j["duration_seconds"] = DurationSeconds(r, now);
  return j;
}

json TaskRunJson(const store::TaskRunRecord& t) {
  const auto& f = t.run;
  return json{{"id", f.id},
              {"name", t.name},
              {"task_key", t.task_key},
              {"dynamic_key", t.dynamic_key},
              {"state", RunStateJson(f)},
              {"tags", t.tags},
              {"run_count", f.run_count},
              {"start_time", OptTime(f.start_time)},
              {"end_time", OptTime(f.end_time)},
              {"total_run_time_seconds", f.total_run_time},
              {"cache_key", t.cache_key},
              {"task_inputs", t.task_inputs_json.empty() ? json(nullptr)
                                                         : Embedded(t.task_inputs_json)},
              {"created", Time(t.created)}};
}

json DeploymentJson(const orchestration::DeploymentView& v) {
  const auto& d = v.record;
  return json{{"id", d.id},
              {"name", d.name},
              {"flow_name", d.flow_name},
              {"full_name", d.FullName()},
              {"description", d.description},
              {"version", d.version},
              {"entrypoint", d.entrypoint},
              {"storage", d.storage_name},
              {"bundle_digest", d.bundle_digest},
              {"bundle_size", d.bundle_size},
              {"schedule", Embedded(d.schedule_json, json(nullptr))},
              {"schedule_description", d.schedule_description},
              {"parameters", Embedded(d.parameters_json)},
              {"tags", d.tags},
              {"work_queue", d.work_queue},
              {"runner", Embedded(d.runner_json)},
              {"catchup_policy", d.catchup_policy},
              {"timeout_seconds", d.timeout_seconds},
              {"paused", d.paused},
              {"last_scheduled_time", OptTime(d.last_scheduled_time)},
              {"created", Time(d.created)},
              {"updated", Time(d.updated)}};
}

json WorkQueueJson(const store::WorkQueueRecord& q) {
  return json{
      {"id", q.id},
      {"name", q.name},
      {"description", q.description},
      {"filter",
       {{"tags", q.tags}, {"deployments", q.deployments}, {"runner_types", q.runner_types}}},
      {"concurrency_limit", q.concurrency_limit ? json(*q.concurrency_limit) : json(nullptr)},
      {"priority", q.priority},
      {"paused", q.paused},
      {"created", Time(q.created)},
      {"updated", Time(q.updated)}};
}

json AgentJson(const store::AgentRecord& a) {
  return json{{"id", a.id},
              {"name", a.name},
              {"hostname", a.hostname},
              {"work_queues", a.work_queues},
              {"limit", a.limit},
              {"running", a.running},
              {"version", a.version},
              {"started", Time(a.started)},
              {"last_seen", Time(a.last_seen)},
              {"last_polled", OptTime(a.last_polled)}};
}

// Storage: kind and config only. Config keys that look like credentials are refused at
// creation; they are dropped here too, so nothing secret can ever be shown.
bool LooksSecret(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (const char* w : {"secret", "password", "token", "access_key", "credential", "private"}) {
    if (key.find(w) != std::string::npos) return true;
  }
  return false;
}

json StorageJson(const store::StorageRecord& s) {
  json config = json::object();
  auto c = json::parse(s.config_json.empty() ? "{}" : s.config_json, nullptr, false);
  if (c.is_object()) {
    for (auto it = c.begin(); it != c.end(); ++it) {
      if (!LooksSecret(it.key())) config[it.key()] = it.value();
    }
  }
  return json{{"id", s.id},
              {"name", s.name},
              {"kind", s.kind},
              {"config", config},
              {"is_default", s.is_default},
              {"created", Time(s.created)},
              {"used_by", s.used_by}};
}

// A webhook URL can be a secret (a Slack webhook's path is its key): show scheme and host.
std::string MaskedUrl(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return "(hidden)";
  auto path = url.find('/', scheme + 3);
  std::string host = url.substr(0, path);
  auto at = host.find('@', scheme + 3);  // user:password@host
  if (at != std::string::npos) host = host.substr(0, scheme + 3) + host.substr(at + 1);
  return path == std::string::npos || path + 1 >= url.size() ? host : host + "/…";
}

json NotificationJson(const store::NotificationPolicyRecord& p) {
  return json{{"id", p.id},
              {"states", p.states},
              {"tags", p.tags},
              {"webhook", MaskedUrl(p.webhook_url)},
              {"format", p.format},
              {"paused", p.paused},
              {"created", Time(p.created)},
              {"updated", Time(p.updated)}};
}

json ConcurrencyLimitJson(const store::ConcurrencyLimitRecord& l, bool with_holders) {
  json j{{"tag", l.tag},
         {"limit", l.limit},
         {"active_slots", l.active_slots},
         {"created", Time(l.created)},
         {"updated", Time(l.updated)}};
  if (with_holders) {
    json holders = json::array();
    for (std::size_t i = 0; i < l.holders.size(); ++i) {
      const auto& h = l.holders[i];
      holders.push_back(json{
          {"task_run_id", h.task_run_id},
          {"task_run_name", h.task_run_name},
          {"flow_run_id", h.flow_run_id},
          {"flow_run_name", i < l.holder_flow_run_names.size() ? l.holder_flow_run_names[i] : ""},
          {"since", Time(h.since)}});
    }
    j["holders"] = std::move(holders);
  }
  return j;
}

json DeliveryJson(const store::DeliveryRecord& d) {
  return json{{"id", d.id},
              {"policy_id", d.policy_id},
              {"flow_run_id", d.flow_run_id},
              {"flow_run_name", d.flow_run_name},
              {"flow_name", d.flow_name},
              {"deployment_name", d.deployment_name},
              {"state_type", d.state_type},
              {"state_name", d.state_name},
              {"state_timestamp", Time(d.state_timestamp)},
              {"status", d.status},
              {"attempts", d.attempts},
              {"next_attempt", Time(d.next_attempt)},
              {"last_error", d.last_error},
              {"last_status", d.last_status ? json(*d.last_status) : json(nullptr)},
              {"created", Time(d.created)}};
}

json OutcomeJson(const orchestration::SetStateResult& r) {
  const auto& o = r.outcome;
  return json{{"decision", core::orchestration::DecisionName(o.decision)},
              {"state", o.state ? StateJson(*o.state) : json(nullptr)},
              {"reason", o.reason},
              {"rule", o.rule}};
}

// ---- query parsing --------------------------------------------------------------------

struct BadInput {
  std::string message;
};

std::string Param(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : std::string();
}

int LimitParam(const httplib::Request& req, int def, int max, const char* name = "limit") {
  std::string v = Param(req, name);
  if (v.empty()) return def;
  int n = 0;
  try {
    std::size_t used = 0;
    n = std::stoi(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
  } catch (...) {
    throw BadInput{std::string(name) + ": must be a whole number, got \"" + v + "\""};
  }
  if (n < 1 || n > max) {
    throw BadInput{std::string(name) + ": must be between 1 and " + std::to_string(max) + ", got " +
                   v};
  }
  return n;
}

std::optional<core::TimePoint> TimeParam(const httplib::Request& req, const char* name) {
  std::string v = Param(req, name);
  if (v.empty()) return std::nullopt;
  auto t = core::ParseTime(v);
  if (!t) {
    throw BadInput{std::string(name) +
                   ": must be an RFC 3339 time like 2026-01-31T09:00:00Z, got \"" + v + "\""};
  }
  return t;
}

std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= v.size()) {
    auto comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    std::string item = v.substr(start, comma - start);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

std::string EncodeCursor(core::TimePoint t, const std::string& id) {
  return core::FormatTime(t) + "|" + id;
}

store::Cursor DecodeCursor(const std::string& text) {
  auto bar = text.find('|');
  std::optional<core::TimePoint> t;
  if (bar != std::string::npos) t = core::ParseTime(text.substr(0, bar));
  std::string id = bar == std::string::npos ? "" : text.substr(bar + 1);
  bool uuid = id.size() == 36 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
                return std::isxdigit(c) || c == '-';
              });
  if (!t || !uuid) throw BadInput{"cursor: malformed (use a next_cursor as given)"};
  return store::Cursor{*t, id};
}

// The flow-run filter shared by the list and the history chart.
store::FlowRunFilter RunFilter(const httplib::Request& req, const ApiContext& ctx) {
  store::FlowRunFilter f;
  f.flow_name = Param(req, "flow");
  for (const auto& s : SplitList(Param(req, "state"))) {
    // Upper case = a state type (FAILED); otherwise a state name (Late, AwaitingRetry).
    bool upper = std::all_of(s.begin(), s.end(), [](unsigned char c) { return !std::islower(c); });
    if (upper) {
      auto t = core::ParseStateType(s);
      if (!t) {
        throw BadInput{"state: unknown state type \"" + s +
                       "\" (types: SCHEDULED PENDING RUNNING COMPLETED FAILED CANCELLING "
                       "CANCELLED CRASHED PAUSED; or a state name like Late)"};
      }
      f.state_types.push_back(*t);
    } else {
      f.state_names.push_back(s);
    }
  }
  f.tag = Param(req, "tag");
  f.since = TimeParam(req, "since");
  f.until = TimeParam(req, "until");
  if (f.since && f.until && *f.until <= *f.since) {
    throw BadInput{"until: must be after since"};
  }
  std::string dep = Param(req, "deployment");
  if (!dep.empty()) {
    auto id = ctx.domain.deployments.ResolveId(dep);
    if (!id.ok()) throw id.error();
    f.deployment_id = *id;
  }
  return f;
}

// Runs a handler, turning BadInput and core::Error into JSON errors.
template <typename F>
httplib::Server::Handler Handle(const ApiContext& ctx, F fn) {
  return [&ctx, fn](const httplib::Request& req, httplib::Response& res) {
    try {
      // Actions only with a JSON body: a cross-site form cannot send one, and a cross-site
      // fetch with it needs a CORS preflight this server never grants.
      if (req.method == "POST" &&
          req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
        SendJson(res,
                 json{{"error",
                       {{"code", "INVALID_ARGUMENT"},
                        {"message",
                         "Content-Type: must be application/json (send {} for no "
                         "arguments)"}}}},
                 415);
        return;
      }
      fn(req, res);
    } catch (const BadInput& b) {
      SendError(res, core::InvalidArgument(b.message));
    } catch (const core::Error& e) {
      SendError(res, e);
    } catch (const json::exception& e) {
      SendError(res, core::InvalidArgument(std::string("body: ") + e.what()));
    } catch (const std::exception& e) {
      ctx.logger->error("api handler failed path={} error={}", req.path, e.what());
      SendError(res, core::Internal("internal error"));
    }
  };
}

template <typename T>
T Must(core::Result<T> r) {
  if (!r.ok()) throw r.error();
  return std::move(*r);
}

// A JSON object within the body limit, each member nested at most kMaxJsonDepth deep
// (errors name the member: "parameters: nested deeper than 64 levels").
json ParseBody(const httplib::Request& req) {
  return Must(core::ParseJsonObjectBody(req.body, "body",
                                        {core::kMaxHttpBodyBytes, core::kMaxJsonDepth}));
}

}  // namespace

void RegisterJsonApi(httplib::Server& s, const ApiContext& ctx) {
  auto& d = ctx.domain;
  const auto* c = &ctx;

  // ---- flow runs ----
  s.Get("/api/flow-runs", Handle(ctx, [c, &d](const httplib::Request& req, httplib::Response& res) {
          auto f = RunFilter(req, *c);
          int limit = LimitParam(req, kDefaultLimit, kMaxLimit);
          std::string cursor = Param(req, "cursor");
          if (!cursor.empty()) f.after = DecodeCursor(cursor);
          f.limit = limit + 1;
          auto runs = Must(d.runs.ListFlowRuns(f));
          bool more = static_cast<int>(runs.size()) > limit;
          if (more) runs.resize(limit);
          auto now = c->clock.Now();
          json items = json::array();
          for (const auto& r : runs) items.push_back(FlowRunJson(r, now));
          std::string next;
          if (more && !runs.empty()) next = EncodeCursor(runs.back().created, runs.back().run.id);
          SendJson(res, json{{"flow_runs", items}, {"next_cursor", next}});
        }));

  // History chart: the newest N runs (bounded) as points start x duration x state.
  s.Get(
      "/api/flow-runs/history",
      Handle(ctx, [c, &d](const httplib::Request& req, httplib::Response& res) {
        auto f = RunFilter(req, *c);
        f.limit = LimitParam(req, kDefaultHistory, kMaxHistory);
        auto runs = Must(d.runs.ListFlowRuns(f));
        auto now = c->clock.Now();
        json points = json::array();
        for (const auto& r : runs) {
          const auto& rf = r.run;
          core::TimePoint start = rf.start_time            ? *rf.start_time
                                  : rf.expected_start_time ? *rf.expected_start_time
                                                           : r.created;
          points.push_back(json{{"id", rf.id},
                                {"name", r.name},
                                {"flow_name", r.flow_name},
                                {"start", Time(start)},
                                {"duration_seconds", DurationSeconds(r, now)},
                                {"state_type", rf.state ? core::StateTypeName(rf.state->type) : ""},
                                {"state_name", rf.state ? rf.state->name : ""}});
        }
        SendJson(res, json{{"points", points}, {"limit", f.limit}});
      }));

  s.Get(R"(/api/flow-runs/([0-9a-fA-F-]+))",
        Handle(ctx, [c, &d](const httplib::Request& req, httplib::Response& res) {
          std::string id = req.matches[1];
          auto run = Must(d.runs.GetFlowRun(id));
          // The newest states, oldest first among them; states_truncated: older ones exist.
          store::StatePage newest{.newest_first = true, .cursor = 0, .limit = kRunPageStates + 1};
          auto states = Must(d.runs.ListFlowRunStates(id, newest));
          bool truncated = static_cast<int>(states.size()) > kRunPageStates;
          if (truncated) states.resize(kRunPageStates);
          json j = FlowRunJson(run, c->clock.Now());
          j["parameters"] = Embedded(run.parameters_json);
          j["task_run_count"] = run.task_run_count;
          j["idempotency_key"] = run.idempotency_key;
          json hist = json::array();
          for (auto it = states.rbegin(); it != states.rend(); ++it) {
            hist.push_back(StateJson(it->state));
          }
          j["states"] = hist;
          j["states_truncated"] = truncated;
          store::FlowRunFilter children;
          children.parent_flow_run_id = run.run.id;
          children.limit = kMaxLimit;
          json subflows = json::array();
          for (const auto& ch : Must(d.runs.ListFlowRuns(children))) {
            subflows.push_back(FlowRunJson(ch, c->clock.Now()));
          }
          j["subflow_runs"] = subflows;
          SendJson(res, j);
        }));

  // A run's whole state history, a page at a time (oldest first, or order=newest).
  s.Get(R"(/api/flow-runs/([0-9a-fA-F-]+)/states)",
        Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
          std::string id = req.matches[1];
          int limit = LimitParam(req, kRunPageStates, kMaxStatesPage);
          store::StatePage page;
          std::string order = Param(req, "order");
          if (order != "" && order != "oldest" && order != "newest") {
            throw BadInput{"order: must be oldest or newest, got \"" + order + "\""};
          }
          page.newest_first = order == "newest";
          page.limit = limit + 1;
          std::string cursor = Param(req, "cursor");
          if (!cursor.empty()) {
            auto after = orchestration::DecodeHistoryCursor(cursor);
            if (!after) throw BadInput{"cursor: malformed (use a next_cursor as given)"};
            page.cursor = *after;
          }
          auto states = Must(d.runs.ListFlowRunStates(id, page));
          bool more = static_cast<int>(states.size()) > limit;
          if (more) states.resize(limit);
          json items = json::array();
          for (const auto& st : states) items.push_back(StateJson(st.state));
          SendJson(res, json{{"states", items},
                             {"next_cursor", more ? std::to_string(states.back().id) : ""}});
        }));

  s.Get(R"(/api/flow-runs/([0-9a-fA-F-]+)/task-runs)",
        Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
          std::string id = req.matches[1];
          int limit = LimitParam(req, kMaxLimit, kMaxLimit);
          std::optional<store::Cursor> after;
          std::string cursor = Param(req, "cursor");
          if (!cursor.empty()) after = DecodeCursor(cursor);
          Must(d.runs.GetFlowRun(id));  // NOT_FOUND for an unknown run
          auto tasks = Must(d.runs.ListTaskRuns(id, after, limit + 1));
          bool more = static_cast<int>(tasks.size()) > limit;
          if (more) tasks.resize(limit);
          json items = json::array();
          for (const auto& t : tasks) items.push_back(TaskRunJson(t));
          std::string next;
          if (more && !tasks.empty())
            next = EncodeCursor(tasks.back().created, tasks.back().run.id);
          SendJson(res, json{{"task_runs", items}, {"next_cursor", next}});
        }));

  // Retry: a new Scheduled state for a finished run, proposed as a manual restart (the
  // door writes it; the rules that keep terminal states terminal allow only forced ones).
  s.Post(R"(/api/flow-runs/([0-9a-fA-F-]+)/retry)",
         Handle(ctx, [c, &d](const httplib::Request& req, httplib::Response& res) {
           std::string id = req.matches[1];
           auto run = Must(d.runs.GetFlowRun(id));
           if (!run.run.state || !run.run.state->IsTerminal()) {
             throw core::FailedPrecondition(
                 "flow run " + id + " is " +
                 (run.run.state ? run.run.state->name : std::string("without a state")) +
                 "; only a finished run can be retried");
           }
           auto now = c->clock.Now();
           core::State proposed = core::Scheduled(now, now, "retry requested from the dashboard");
           auto r = Must(d.runs.SetState(orchestration::RunKind::kFlowRun, id, proposed, true));
           if (r.outcome.decision != core::orchestration::Decision::kAccept) {
             throw core::FailedPrecondition("retry not accepted: " + r.outcome.reason);
           }
           SendJson(res, OutcomeJson(r));
         }));

  s.Post(R"(/api/flow-runs/([0-9a-fA-F-]+)/cancel)",
         Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
           std::string id = req.matches[1];
           auto body = ParseBody(req);
           std::string message = body.value("message", std::string("cancelled from the dashboard"));
           SendJson(res, OutcomeJson(Must(d.agents.Cancel(id, message))));
         }));

  // Paused -> Running (weft::pause_flow_run returns); 412 naming the state otherwise.
  s.Post(R"(/api/flow-runs/([0-9a-fA-F-]+)/resume)",
         Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
           std::string id = req.matches[1];
           SendJson(res, OutcomeJson(Must(d.runs.ResumeFlowRun(id))));
         }));

  // Logs of a run, oldest first, keyset-paged by line id (the dashboard polls with
  // after_id while the run is not finished).
  s.Get(R"(/api/flow-runs/([0-9a-fA-F-]+)/logs)",
        Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
          if (!d.logs) throw core::NotFound("logs: not served by this server");
          store::LogQuery q;
          q.flow_run_id = req.matches[1];
          q.task_name = Param(req, "task");
          q.limit = LimitParam(req, 500, 1000);
          std::string after = Param(req, "after_id");
          if (!after.empty()) {
            try {
              q.after_id = std::stoll(after);
            } catch (...) {
              throw BadInput{"after_id: must be a whole number, got \"" + after + "\""};
            }
          }
          std::string level = Param(req, "level");
          if (!level.empty()) {
            std::string up = level;
            std::transform(up.begin(), up.end(), up.begin(),
                           [](unsigned char ch) { return std::toupper(ch); });
            int n = 0;
            for (int l = 10; l <= 50; l += 10) {
              if (orchestration::LogLevelName(l) == up || (up == "WARN" && l == 30)) n = l;
            }
            if (n == 0) {
              throw BadInput{"level: must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got \"" +
                             level + "\""};
            }
            q.min_level = n;
          }
          auto page = Must(d.logs->List(q));
          json lines = json::array();
          for (const auto& l : page.lines) {
            std::string name = orchestration::LogLevelName(l.level);
            lines.push_back(json{{"id", l.id},
                                 {"timestamp", Time(l.timestamp)},
                                 {"level", name.empty() ? std::to_string(l.level) : name},
                                 {"level_number", l.level},
                                 {"message", l.message},
                                 {"task_run_id", l.task_run_id},
                                 {"task_run_name", l.task_run_name},
                                 {"source", l.source}});
          }
          SendJson(
              res,
              json{{"logs", lines}, {"next_after_id", page.next_after_id}, {"more", page.more}});
        }));

  // ---- deployments ----
  s.Get("/api/deployments", Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
          int limit = LimitParam(req, kDefaultLimit, kMaxLimit);
          auto list = Must(d.deployments.List(Param(req, "flow"), Param(req, "cursor"), limit + 1));
          bool more = static_cast<int>(list.size()) > limit;
          if (more) list.resize(limit);
          json items = json::array();
          for (const auto& v : list) items.push_back(DeploymentJson(v));
          SendJson(res, json{{"deployments", items},
                             {"next_cursor",
                              more && !list.empty() ? list.back().record.FullName() : ""}});
        }));
  s.Get(R"(/api/deployments/([0-9a-fA-F-]+))",
        Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
          orchestration::DeploymentKey key{req.matches[1], ""};
          SendJson(res, DeploymentJson(Must(d.deployments.Get(key))));
        }));
  s.Get(R"(/api/deployments/([0-9a-fA-F-]+)/upcoming)",
        Handle(ctx, [c, &d](const httplib::Request& req, httplib::Response& res) {
          orchestration::DeploymentKey key{req.matches[1], ""};
          int limit = LimitParam(req, 10, kMaxLimit);
          auto runs = Must(d.deployments.Upcoming(key, limit));
          auto now = c->clock.Now();
          json items = json::array();
          for (const auto& r : runs) items.push_back(FlowRunJson(r, now));
          SendJson(res, json{{"flow_runs", items}});
        }));
  for (const char* action : {"pause", "resume"}) {
    bool paused = std::string(action) == "pause";
    s.Post(std::string(R"(/api/deployments/([0-9a-fA-F-]+)/)") + action,
           Handle(ctx, [&d, paused](const httplib::Request& req, httplib::Response& res) {
             orchestration::DeploymentKey key{req.matches[1], ""};
             SendJson(res, DeploymentJson(Must(d.deployments.SetPaused(key, paused))));
           }));
  }
  s.Post(R"(/api/deployments/([0-9a-fA-F-]+)/run)",
         Handle(ctx, [c, &d](const httplib::Request& req, httplib::Response& res) {
           orchestration::DeploymentKey key{req.matches[1], ""};
           auto body = ParseBody(req);
           orchestration::ManualRun run;
           if (body.contains("parameters")) {
             if (!body["parameters"].is_object()) {
               throw BadInput{"parameters: must be a JSON object, got " +
                              std::string(body["parameters"].type_name())};
             }
             run.parameters_json = body["parameters"].dump();
             if (auto st = core::CheckJsonText(run.parameters_json, "parameters"); !st.ok()) {
               throw st.error();
             }
           }
           if (body.contains("tags")) {
             if (!body["tags"].is_array()) throw BadInput{"tags: must be an array of strings"};
             for (std::size_t i = 0; i < body["tags"].size(); ++i) {
               if (!body["tags"][i].is_string()) {
                 throw BadInput{"tags[" + std::to_string(i) + "]: must be a string"};
               }
               run.tags.push_back(body["tags"][i].get<std::string>());
             }
           }
           auto created = Must(d.deployments.Run(key, run));
           SendJson(res,
                    json{{"flow_run", FlowRunJson(created.record, c->clock.Now())},
                         {"created", created.created}},
                    201);
         }));

  // ---- work queues and agents ----
  s.Get("/api/work-queues", Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
          int limit = LimitParam(req, kDefaultLimit, kMaxLimit);
          auto list = Must(d.work_queues.List(Param(req, "cursor"), limit + 1));
          bool more = static_cast<int>(list.size()) > limit;
          if (more) list.resize(limit);
          json items = json::array();
          for (const auto& q : list) items.push_back(WorkQueueJson(q));
          SendJson(res, json{{"work_queues", items},
                             {"next_cursor", more && !list.empty()
                                                 ? orchestration::WorkQueueCursor(list.back())
                                                 : ""}});
        }));
  s.Get(R"(/api/work-queues/([A-Za-z0-9_.-]+))",
        Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
          std::string name = req.matches[1];
          json j = WorkQueueJson(Must(d.work_queues.Get(name)));
          json agents = json::array();
          for (const auto& a : Must(d.agents.List(0, name))) agents.push_back(AgentJson(a));
          j["agents"] = agents;
          SendJson(res, j);
        }));
  s.Get(R"(/api/work-queues/([A-Za-z0-9_.-]+)/preview)",
        Handle(ctx, [c, &d](const httplib::Request& req, httplib::Response& res) {
          std::string name = req.matches[1];
          int limit = LimitParam(req, 20, kMaxLimit);
          double hours = orchestration::WorkQueueManager::kDefaultPreviewHours;
          std::string h = Param(req, "hours");
          if (!h.empty()) {
            try {
              hours = std::stod(h);
            } catch (...) {
              throw BadInput{"hours: must be a number, got \"" + h + "\""};
            }
            if (hours <= 0) throw BadInput{"hours: must be > 0, got " + h};
          }
          auto p = Must(d.work_queues.Preview(name, hours, limit));
          auto now = c->clock.Now();
          json runs = json::array();
          for (const auto& r : p.runs) runs.push_back(FlowRunJson(r, now));
          SendJson(res, json{{"work_queue", WorkQueueJson(p.queue)},
                             {"flow_runs", runs},
                             {"total", p.total},
                             {"active_runs", p.active_runs},
                             {"held_back", p.held_back},
                             {"hours", hours}});
        }));
  for (const char* action : {"pause", "resume"}) {
    bool paused = std::string(action) == "pause";
    s.Post(std::string(R"(/api/work-queues/([A-Za-z0-9_.-]+)/)") + action,
           Handle(ctx, [&d, paused](const httplib::Request& req, httplib::Response& res) {
             orchestration::WorkQueueUpdate u;
             u.paused = paused;
             SendJson(res, WorkQueueJson(Must(d.work_queues.Update(req.matches[1], u))));
           }));
  }
  s.Get(
      "/api/agents", Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
        double within = 0;
        std::string w = Param(req, "seen_within");
        if (!w.empty()) {
          auto secs = core::ParseDurationSeconds(w);
          if (core::IsNegativeDuration(w)) {
            throw BadInput{"seen_within: must not be negative, got \"" + w + "\""};
          }
          if (!secs || *secs <= 0) {
            throw BadInput{"seen_within: must be a duration like 10m or 3600s, got \"" + w + "\""};
          }
          within = *secs;
        }
        json items = json::array();
        // Limited in SQL (most recently seen first); `more` says whether others were seen.
        int limit = LimitParam(req, kMaxLimit, kMaxLimit);
        auto list = Must(d.agents.ListFirst(within, Param(req, "work_queue"), limit + 1));
        bool more = static_cast<int>(list.size()) > limit;
        if (more) list.resize(limit);
        for (const auto& a : list) items.push_back(AgentJson(a));
        SendJson(res, json{{"agents", items}, {"more", more}});
      }));

  // ---- flows and storage ----
  s.Get("/api/flows", Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
          int limit = LimitParam(req, kDefaultLimit, kMaxLimit);
          auto list = Must(d.runs.ListFlows(Param(req, "prefix"), Param(req, "cursor"), limit + 1));
          bool more = static_cast<int>(list.size()) > limit;
          if (more) list.resize(limit);
          json items = json::array();
          for (const auto& f : list) {
            items.push_back(
                json{{"id", f.id},
                     {"name", f.name},
                     {"tags", f.tags},
                     {"parameters_schema", Embedded(f.parameters_schema_json, json(nullptr))},
                     {"created", Time(f.created)}});
          }
          SendJson(res, json{{"flows", items},
                             {"next_cursor", more && !list.empty() ? list.back().name : ""}});
        }));
  s.Get("/api/storages", Handle(ctx, [&d](const httplib::Request& req, httplib::Response& res) {
          int limit = LimitParam(req, kDefaultLimit, kMaxLimit);
          auto list = Must(d.storage.List(Param(req, "cursor"), limit + 1));
          bool more = static_cast<int>(list.size()) > limit;
          if (more) list.resize(limit);
          json items = json::array();
          for (const auto& st : list) items.push_back(StorageJson(st));
          SendJson(res, json{{"storages", items},
                             {"next_cursor", more && !list.empty() ? list.back().name : ""}});
        }));

  // ---- notifications (policies and their deliveries; webhook URLs masked) ----
  auto notifications = [&d]() -> orchestration::NotificationManager& {
    if (!d.notifications) throw core::NotFound("notifications: not served by this server");
    return *d.notifications;
  };
  s.Get("/api/notifications",
        Handle(ctx, [notifications](const httplib::Request& req, httplib::Response& res) {
          int limit = LimitParam(req, kMaxLimit, kMaxLimit);  // paged in SQL
          auto list = Must(notifications().ListPage(Param(req, "cursor"), limit + 1));
          bool more = static_cast<int>(list.size()) > limit;
          if (more) list.resize(limit);
          json items = json::array();
          for (const auto& p : list) items.push_back(NotificationJson(p));
          SendJson(res, json{{"notifications", items},
                             {"next_cursor", more && !list.empty() ? list.back().id : ""}});
        }));
  s.Get("/api/notifications/deliveries",
        Handle(ctx, [notifications](const httplib::Request& req, httplib::Response& res) {
          int limit = LimitParam(req, kDefaultLimit, kMaxLimit);
          auto list = Must(notifications().ListDeliveries(Param(req, "policy"), limit));
          json items = json::array();
          for (const auto& del : list) items.push_back(DeliveryJson(del));
          SendJson(res, json{{"deliveries", items}});
        }));
  for (const char* action : {"pause", "resume"}) {
    bool paused = std::string(action) == "pause";
    s.Post(
        std::string(R"(/api/notifications/([0-9a-fA-F-]+)/)") + action,
        Handle(ctx, [notifications, paused](const httplib::Request& req, httplib::Response& res) {
          SendJson(res, NotificationJson(Must(notifications().SetPaused(req.matches[1], paused))));
        }));
  }

  // ---- tag concurrency limits (slots in use and the task runs holding them) ----
  auto concurrency = [&d]() -> orchestration::ConcurrencyManager& {
    if (!d.concurrency) throw core::NotFound("concurrency limits: not served by this server");
    return *d.concurrency;
  };
  s.Get("/api/concurrency-limits",
        Handle(ctx, [concurrency](const httplib::Request& req, httplib::Response& res) {
          int limit = LimitParam(req, kMaxLimit, kMaxLimit);  // paged in SQL
          auto list = Must(concurrency().ListPage(Param(req, "cursor"), limit + 1));
          bool more = static_cast<int>(list.size()) > limit;
          if (more) list.resize(limit);
          json items = json::array();
          for (const auto& l : list) items.push_back(ConcurrencyLimitJson(l, false));
          SendJson(res, json{{"concurrency_limits", items},
                             {"next_cursor", more && !list.empty() ? list.back().tag : ""}});
        }));
  s.Get(R"(/api/concurrency-limits/([^/]+))",
        Handle(ctx, [concurrency](const httplib::Request& req, httplib::Response& res) {
          SendJson(res, ConcurrencyLimitJson(Must(concurrency().Get(req.matches[1])), true));
        }));
  s.Post(R"(/api/concurrency-limits/([^/]+)/reset)",
         Handle(ctx, [concurrency](const httplib::Request& req, httplib::Response& res) {
           SendJson(res, json{{"freed", Must(concurrency().Reset(req.matches[1]))}});
         }));

  // Anything else under /api/ is a JSON 404 (not the dashboard's HTML).
  auto not_found = [](const httplib::Request& req, httplib::Response& res) {
    SendError(res, core::NotFound("no such API endpoint: " + req.method + " " + req.path +
                                  " (see docs/api.md)"));
  };
  s.Get(R"(/api/.*)", not_found);
  s.Post(R"(/api/.*)", not_found);
}

}  // namespace weft::server::http
