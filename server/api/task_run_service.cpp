#include <spdlog/spdlog.h>

#include <tuple>

#include "sdk/client/convert.hpp"
#include "sdk/core/bounds.hpp"
#include "sdk/core/field_limits.hpp"
#include "server/api/convert.hpp"
#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/task_runs.grpc.pb.h"

namespace weft::server::api {

namespace {

using core::orchestration::RunKind;

// Validates and converts a CreateTaskRunRequest; `field` prefixes messages ("create.").
std::string ToSpec(const v1::CreateTaskRunRequest& req, const std::string& field,
                   orchestration::TaskRunSpec& spec) {
  if (!req.id().empty() && !orchestration::IsUuid(req.id())) {
    return field + "id: \"" + req.id() + "\" is not a UUID";
  }
  if (req.flow_run_id().empty()) return field + "flow_run_id: must not be empty";
  if (req.task_key().empty()) return field + "task_key: must not be empty";
  // The three keys are one unique index entry (PostgreSQL refuses one over ~2.7 KB).
  for (const auto& [value, name, max] :
       {std::tuple{&req.task_key(), "task_key", core::kMaxTaskKeyBytes},
        std::tuple{&req.dynamic_key(), "dynamic_key", core::kMaxTaskKeyBytes},
        std::tuple{&req.name(), "name", core::kMaxTaskRunNameBytes}}) {
    if (auto st = core::CheckTextLength(*value, field + name, max); !st.ok()) {
      return st.error().message;
    }
  }
  spec.id = req.id();
  spec.flow_run_id = req.flow_run_id();
  spec.task_key = req.task_key();
  spec.dynamic_key = req.dynamic_key();
  spec.name = req.name();
  if (req.has_retry_policy()) {
    std::string rp = CheckRetryPolicy(req.retry_policy(), field + "retry_policy");
    if (!rp.empty()) return rp;
    spec.retry_policy = client::FromProto(req.retry_policy());
  }
  spec.tags.assign(req.tags().begin(), req.tags().end());
  if (auto st = core::CheckTags(spec.tags, field + "tags"); !st.ok()) return st.error().message;
  if (auto st = core::CheckTextLength(req.cache_key(), field + "cache_key", core::kMaxCacheKeyBytes);
      !st.ok()) {
    return st.error().message;
  }
  if (req.has_initial_state()) {
    std::string s = CheckState(req.initial_state(), field + "initial_state");
    if (!s.empty()) return s;
    spec.initial_state = client::FromProto(req.initial_state());
  }
  spec.cache_key = req.cache_key();
  if (!(req.cache_expiration_seconds() >= 0)) {
    return field + "cache_expiration_seconds: must be >= 0 (0 = never expires)";
  }
  spec.cache_expiration_seconds = req.cache_expiration_seconds();
  if (std::string p = orchestration::CheckJsonObject(
          req.task_inputs_json(), {core::kMaxTaskInputsBytes, core::kMaxJsonDepth});
      !p.empty()) {
    return field + "task_inputs_json: " + p;
  }
  spec.task_inputs_json = req.task_inputs_json();
  return {};
}

class TaskRunServiceImpl final : public v1::TaskRunService::Service {
 public:
  TaskRunServiceImpl(orchestration::RunService& runs, ScopeGuard scope,
                     std::shared_ptr<spdlog::logger> logger)
      : runs_(runs), scope_(scope), logger_(std::move(logger)) {}

  grpc::Status CreateTaskRun(grpc::ServerContext* ctx, const v1::CreateTaskRunRequest* req,
                             v1::CreateTaskRunResponse* resp) override {
    orchestration::TaskRunSpec spec;
    std::string problem = ToSpec(*req, "", spec);
    if (!problem.empty()) return Invalid(problem);
    // In a flow run of the caller's. (A client-chosen id taken by another task run is
    // ALREADY_EXISTS: a creation never touches a task run of another flow run.)
    if (auto denied = scope_.FlowRun(*ctx, "flow_run_id", spec.flow_run_id)) return *denied;
    auto r = runs_.CreateTaskRun(spec);
    if (!r.ok()) return ToGrpc(r.error());
    scope_.Learned({{r->record.run.id, r->record.flow_run_id}});
    *resp->mutable_task_run() = ToProto(r->record);
    resp->set_created(r->created);
    return grpc::Status::OK;
  }

  grpc::Status GetTaskRun(grpc::ServerContext* ctx, const v1::GetTaskRunRequest* req,
                          v1::GetTaskRunResponse* resp) override {
    if (req->id().empty()) return Invalid("id: must not be empty");
    if (auto denied = scope_.TaskRun(*ctx, "id", req->id())) return *denied;
    auto r = runs_.GetTaskRun(req->id());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_task_run() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ListTaskRuns(grpc::ServerContext* ctx, const v1::ListTaskRunsRequest* req,
                            v1::ListTaskRunsResponse* resp) override {
    if (req->flow_run_id().empty()) return Invalid("flow_run_id: must not be empty");
    if (auto denied = scope_.FlowRun(*ctx, "flow_run_id", req->flow_run_id())) return *denied;
    auto limit = PageLimit(req->page());
    if (!limit) return Invalid("page.limit: must be >= 0");
    std::optional<store::Cursor> after;
    if (!req->page().cursor().empty()) {
      after = DecodeCursor(req->page().cursor());
      if (!after) return Invalid("page.cursor: malformed (use a next_cursor as given)");
    }
    auto r = runs_.ListTaskRuns(req->flow_run_id(), after, *limit + 1);
    if (!r.ok()) return ToGrpc(r.error());
    auto& runs = *r;
    bool more = static_cast<int>(runs.size()) > *limit;
    if (more) runs.resize(*limit);
    for (const auto& t : runs) *resp->add_task_runs() = ToProto(t);
    if (more && !runs.empty()) {
      resp->mutable_page()->set_next_cursor(EncodeCursor({runs.back().created, runs.back().run.id}));
    }
    return grpc::Status::OK;
  }

  grpc::Status SetTaskRunState(grpc::ServerContext* ctx, const v1::SetTaskRunStateRequest* req,
                               v1::SetTaskRunStateResponse* resp) override {
    if (req->task_run_id().empty()) return Invalid("task_run_id: must not be empty");
    if (auto denied = scope_.TaskRun(*ctx, "task_run_id", req->task_run_id())) return *denied;
    if (!req->has_state()) return Invalid("state: must be set");
    std::string s = CheckState(req->state(), "state");
    if (!s.empty()) return Invalid(s);
    auto r = runs_.SetState(RunKind::kTaskRun, req->task_run_id(),
                            *client::FromProto(req->state()), req->force());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_result() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ReportTaskRuns(grpc::ServerContext* ctx, const v1::ReportTaskRunsRequest* req,
                              v1::ReportTaskRunsResponse* resp) override {
    if (req->reports_size() > core::bounds::kMaxReportsPerCall) {
      return Invalid("reports: at most " + std::to_string(core::bounds::kMaxReportsPerCall) +
                     " per call, got " + std::to_string(req->reports_size()));
    }
    int states = 0;
    for (const auto& in : req->reports()) states += in.states_size();
    if (states > core::bounds::kMaxStatesPerCall) {
      return Invalid("reports[].states: at most " +
                     std::to_string(core::bounds::kMaxStatesPerCall) +
                     " states per call in all, got " + std::to_string(states));
    }
    std::vector<orchestration::TaskRunReport> reports;
    reports.reserve(req->reports_size());
    for (int i = 0; i < req->reports_size(); ++i) {
      const auto& in = req->reports(i);
      std::string field = "reports[" + std::to_string(i) + "].";
      orchestration::TaskRunReport r;
      if (in.has_create()) {
        if (in.create().id().empty()) return Invalid(field + "create.id: required when creating");
        orchestration::TaskRunSpec spec;
        std::string problem = ToSpec(in.create(), field + "create.", spec);
        if (!problem.empty()) return Invalid(problem);
        // When creating, the run is create.id (task_run_id, if set, is the same id).
        r.create = std::move(spec);
      } else {
        if (in.task_run_id().empty()) return Invalid(field + "task_run_id: must not be empty");
        if (!orchestration::IsUuid(in.task_run_id())) {
          return Invalid(field + "task_run_id: \"" + in.task_run_id() + "\" is not a UUID");
        }
      }
      r.task_run_id = in.task_run_id();
      r.states.reserve(in.states_size());
      for (int k = 0; k < in.states_size(); ++k) {
        std::string s = CheckState(in.states(k), field + "states[" + std::to_string(k) + "]");
        if (!s.empty()) return Invalid(s);
        r.states.push_back(*client::FromProto(in.states(k)));
      }
      reports.push_back(std::move(r));
    }
    // Every flow run a report creates in, and every task run a report without a creation
    // names, must be the caller's. (A creation works on create.id only within
    // create.flow_run_id: an id taken by another task run is rejected.)
    if (auto denied = scope_.Allow(*ctx, [&](auth::RunScope& s, const auth::Identity& who) {
          std::vector<auth::RunRef> flow_runs, task_runs;
          for (int i = 0; i < req->reports_size(); ++i) {
            const auto& in = req->reports(i);
            std::string field = "reports[" + std::to_string(i) + "].";
            if (in.has_create()) {
              flow_runs.push_back({field + "create.flow_run_id", in.create().flow_run_id()});
            } else {
              task_runs.push_back({field + "task_run_id", in.task_run_id()});
            }
          }
          if (auto st = s.CheckFlowRuns(who, flow_runs); !st.ok()) return st;
          return s.CheckTaskRuns(who, task_runs);
        })) {
      return *denied;
    }
    auto r = runs_.ReportTaskRuns(reports);
    if (!r.ok()) return ToGrpc(r.error());
    // The task runs just created (or found by key) in create.flow_run_id, told by a state
    // accepted on them (a refused creation names an id it did not get): their next reports
    // need no lookup.
    std::vector<std::pair<std::string, std::string>> learned;
    for (std::size_t i = 0; i < reports.size() && i < r->size(); ++i) {
      const auto& res = (*r)[i];
      if (reports[i].create && res.accepted > 0) {
        learned.emplace_back(res.task_run_id, reports[i].create->flow_run_id);
      }
    }
    scope_.Learned(learned);
    for (const auto& res : *r) {
      auto* out = resp->add_results();
      out->set_task_run_id(res.task_run_id);
      out->set_accepted(res.accepted);
      out->set_rejected_reason(res.rejected_reason);
    }
    return grpc::Status::OK;
  }

  grpc::Status ListTaskRunStates(grpc::ServerContext* ctx, const v1::ListTaskRunStatesRequest* req,
                                 v1::ListTaskRunStatesResponse* resp) override {
    if (req->task_run_id().empty()) return Invalid("task_run_id: must not be empty");
    if (auto denied = scope_.TaskRun(*ctx, "task_run_id", req->task_run_id())) return *denied;
    auto page = HistoryPage(req->page(), req->newest_first());
    if (!page.ok()) return ToGrpc(page.error());
    auto r = runs_.ListTaskRunStates(req->task_run_id(), *page);
    if (!r.ok()) return ToGrpc(r.error());
    auto& states = *r;
    bool more = static_cast<int>(states.size()) >= page->limit;
    if (more) states.resize(static_cast<std::size_t>(page->limit - 1));
    for (const auto& s : states) *resp->add_states() = ToProto(s);
    if (more) resp->mutable_page()->set_next_cursor(std::to_string(states.back().id));
    return grpc::Status::OK;
  }

  grpc::Status GetTaskRunResult(grpc::ServerContext* ctx, const v1::GetTaskRunResultRequest* req,
                                v1::GetTaskRunResultResponse* resp) override {
    if (req->task_run_id().empty()) return Invalid("task_run_id: must not be empty");
    // A Cached run's result is its source's, read through the run the caller may touch.
    if (auto denied = scope_.TaskRun(*ctx, "task_run_id", req->task_run_id())) return *denied;
    auto r = runs_.GetTaskRunResult(req->task_run_id());
    if (!r.ok()) return ToGrpc(r.error());
    resp->set_result_json(r->result_json);
    resp->set_size_bytes(r->size_bytes);
    *resp->mutable_created() = client::ToProto(r->created);
    return grpc::Status::OK;
  }

 private:
  orchestration::RunService& runs_;
  ScopeGuard scope_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeTaskRunService(orchestration::RunService& runs,
                                                  ScopeGuard scope,
                                                  std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<TaskRunServiceImpl>(runs, scope, std::move(logger));
}

}  // namespace weft::server::api
