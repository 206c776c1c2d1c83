#include <spdlog/spdlog.h>

#include "sdk/client/convert.hpp"
#include "server/api/convert.hpp"
#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/deployments.grpc.pb.h"

namespace weft::server::api {

namespace {

using orchestration::DeploymentKey;

core::Result<core::ScheduleSpec> FromProto(const v1::Schedule& s) {
  switch (s.kind_case()) {
    case v1::Schedule::kInterval: {
      core::IntervalSchedule i;
      i.interval_seconds = s.interval().interval_seconds();
      if (s.interval().has_anchor()) i.anchor = client::FromProto(s.interval().anchor());
      i.timezone = s.interval().timezone();
      return core::ScheduleSpec{i};
    }
    case v1::Schedule::kCron:
      return core::ScheduleSpec{core::CronSchedule{s.cron().expression(), s.cron().timezone()}};
    case v1::Schedule::kRrule:
      return core::ScheduleSpec{core::RRuleSchedule{s.rrule().rrule(), s.rrule().timezone()}};
    default:
      return core::InvalidArgument("spec.schedule: set one of interval, cron or rrule");
  }
}

v1::Schedule ToProto(const core::ScheduleSpec& spec) {
  v1::Schedule p;
  if (const auto* i = std::get_if<core::IntervalSchedule>(&spec)) {
    auto* m = p.mutable_interval();
    m->set_interval_seconds(i->interval_seconds);
    if (i->anchor) *m->mutable_anchor() = client::ToProto(*i->anchor);
    m->set_timezone(i->timezone);
  } else if (const auto* c = std::get_if<core::CronSchedule>(&spec)) {
    p.mutable_cron()->set_expression(c->expression);
    p.mutable_cron()->set_timezone(c->timezone);
  } else if (const auto* r = std::get_if<core::RRuleSchedule>(&spec)) {
    p.mutable_rrule()->set_rrule(r->rrule);
    p.mutable_rrule()->set_timezone(r->timezone);
  }
  return p;
}

core::Result<orchestration::DeploymentInput> FromProto(const v1::DeploymentSpec& p) {
  orchestration::DeploymentInput in;
  auto& s = in.spec;
  s.name = p.name();
  s.flow_name = p.flow_name();
  s.description = p.description();
  s.version = p.version();
  s.entrypoint.assign(p.entrypoint().begin(), p.entrypoint().end());
  s.storage = p.bundle().storage();
  in.bundle_digest = p.bundle().digest();
  in.bundle_size = p.bundle().size();
  if (p.has_schedule()) {
    auto sch = FromProto(p.schedule());
    if (!sch.ok()) return sch.error();
    s.schedule = *sch;
  }
  s.parameters_json = p.parameters_json().empty() ? "{}" : p.parameters_json();
  s.tags.assign(p.tags().begin(), p.tags().end());
  s.work_queue = p.work_queue().empty() ? "default" : p.work_queue();
  if (p.has_runner()) {
    s.runner.type = p.runner().type().empty() ? "process" : p.runner().type();
    s.runner.image = p.runner().image();
    s.runner.kube_namespace = p.runner().namespace_();
    s.runner.env.insert(p.runner().env().begin(), p.runner().env().end());
  }
  const std::string& policy = p.catchup().policy();
  if (policy.empty() || policy == "latest") {
    s.catchup.policy = core::CatchupPolicy::kLatest;
  } else if (policy == "all") {
    s.catchup.policy = core::CatchupPolicy::kAll;
  } else if (policy == "none") {
    s.catchup.policy = core::CatchupPolicy::kNone;
  } else {
    return core::InvalidArgument("spec.catchup.policy: must be all, latest or none, got \"" +
                                 policy + "\"");
  }
  s.catchup.max_lateness_seconds = p.catchup().max_lateness_seconds();
  s.paused = p.paused();
  return in;
}

v1::Deployment ToProto(const orchestration::DeploymentView& v) {
  const auto& d = v.record;
  const auto& s = v.spec;
  v1::Deployment p;
  p.set_id(d.id);
  auto* sp = p.mutable_spec();
  sp->set_name(s.name);
  sp->set_flow_name(s.flow_name);
  sp->set_description(s.description);
  sp->set_version(s.version);
  for (const auto& e : s.entrypoint) sp->add_entrypoint(e);
  sp->mutable_bundle()->set_storage(d.storage_name);
  sp->mutable_bundle()->set_digest(d.bundle_digest);
  sp->mutable_bundle()->set_size(d.bundle_size);
  if (s.schedule) *sp->mutable_schedule() = ToProto(*s.schedule);
  sp->set_parameters_json(s.parameters_json);
  for (const auto& t : s.tags) sp->add_tags(t);
  sp->set_work_queue(s.work_queue);
  auto* r = sp->mutable_runner();
  r->set_type(s.runner.type);
  r->set_image(s.runner.image);
  r->set_namespace_(s.runner.kube_namespace);
  for (const auto& [k, val] : s.runner.env) (*r->mutable_env())[k] = val;
  sp->mutable_catchup()->set_policy(core::CatchupPolicyName(s.catchup.policy));
  sp->mutable_catchup()->set_max_lateness_seconds(s.catchup.max_lateness_seconds);
  sp->set_paused(d.paused);
  p.set_paused(d.paused);
  *p.mutable_created() = client::ToProto(d.created);
  *p.mutable_updated() = client::ToProto(d.updated);
  p.set_schedule_description(d.schedule_description);
  if (d.last_scheduled_time) {
    *p.mutable_last_scheduled_time() = client::ToProto(*d.last_scheduled_time);
  }
  return p;
}

core::Result<DeploymentKey> KeyOf(const v1::DeploymentRef& ref) {
  DeploymentKey k;
  switch (ref.key_case()) {
    case v1::DeploymentRef::kId:
      if (ref.id().empty()) return core::InvalidArgument("ref.id: must not be empty");
      k.id = ref.id();
      return k;
    case v1::DeploymentRef::kFullName:
      if (ref.full_name().empty()) return core::InvalidArgument("ref.full_name: must not be empty");
      k.full_name = ref.full_name();
      return k;
    default:
      return core::InvalidArgument("ref: must be set (id or full_name \"flow/name\")");
  }
}

class DeploymentServiceImpl final : public v1::DeploymentService::Service {
 public:
  DeploymentServiceImpl(orchestration::DeploymentManager& deployments,
                        std::shared_ptr<spdlog::logger> logger)
      : deployments_(deployments), logger_(std::move(logger)) {}

  grpc::Status CreateDeployment(grpc::ServerContext*, const v1::CreateDeploymentRequest* req,
                                v1::CreateDeploymentResponse* resp) override {
    if (!req->has_spec()) return Invalid("spec: must be set");
    auto in = FromProto(req->spec());
    if (!in.ok()) return ToGrpc(in.error());
    auto r = deployments_.Upsert(*in);
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_deployment() = ToProto(r->deployment);
    resp->set_created(r->created);
    resp->set_replaced_runs(r->replaced_runs);
    return grpc::Status::OK;
  }

  grpc::Status GetDeployment(grpc::ServerContext*, const v1::GetDeploymentRequest* req,
                             v1::GetDeploymentResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    auto r = deployments_.Get(*key);
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_deployment() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ListDeployments(grpc::ServerContext*, const v1::ListDeploymentsRequest* req,
                               v1::ListDeploymentsResponse* resp) override {
    auto limit = PageLimit(req->page());
    if (!limit) return Invalid("page.limit: must be >= 0");
    auto r = deployments_.List(req->flow_name(), req->page().cursor(), *limit + 1);
    if (!r.ok()) return ToGrpc(r.error());
    bool more = static_cast<int>(r->size()) > *limit;
    if (more) r->resize(*limit);
    for (const auto& d : *r) *resp->add_deployments() = ToProto(d);
    if (more && !r->empty()) resp->mutable_page()->set_next_cursor(r->back().record.FullName());
    return grpc::Status::OK;
  }

  grpc::Status DeleteDeployment(grpc::ServerContext*, const v1::DeleteDeploymentRequest* req,
                                v1::DeleteDeploymentResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    auto r = deployments_.Delete(*key);
    if (!r.ok()) return ToGrpc(r.error());
    resp->set_deleted_runs(*r);
    return grpc::Status::OK;
  }

  grpc::Status SetDeploymentPaused(grpc::ServerContext*, const v1::SetDeploymentPausedRequest* req,
                                   v1::SetDeploymentPausedResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    auto r = deployments_.SetPaused(*key, req->paused());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_deployment() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status RunDeployment(grpc::ServerContext*, const v1::RunDeploymentRequest* req,
                             v1::RunDeploymentResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    orchestration::ManualRun run;
    run.parameters_json = req->parameters_json();
    if (req->has_start_time()) run.start_time = client::FromProto(req->start_time());
    run.tags.assign(req->tags().begin(), req->tags().end());
    run.idempotency_key = req->idempotency_key();
    auto r = deployments_.Run(*key, run);
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_flow_run() = api::ToProto(r->record);
    resp->set_created(r->created);
    return grpc::Status::OK;
  }

  grpc::Status ListUpcomingRuns(grpc::ServerContext*, const v1::ListUpcomingRunsRequest* req,
                                v1::ListUpcomingRunsResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    if (req->limit() < 0) return Invalid("limit: must be >= 0");
    int limit = req->limit() == 0 ? 10 : std::min(req->limit(), 1000);
    auto r = deployments_.Upcoming(*key, limit);
    if (!r.ok()) return ToGrpc(r.error());
    for (const auto& run : *r) *resp->add_flow_runs() = api::ToProto(run);
    return grpc::Status::OK;
  }

  grpc::Status Backfill(grpc::ServerContext*, const v1::BackfillRequest* req,
                        v1::BackfillResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    if (!req->has_from()) return Invalid("from: must be set");
    if (!req->has_to()) return Invalid("to: must be set");
    auto r =
        deployments_.Backfill(*key, client::FromProto(req->from()), client::FromProto(req->to()));
    if (!r.ok()) return ToGrpc(r.error());
    resp->set_created(r->created);
    resp->set_existing(r->existing);
    for (const auto& run : r->runs) *resp->add_flow_runs() = api::ToProto(run);
    return grpc::Status::OK;
  }

 private:
  orchestration::DeploymentManager& deployments_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeDeploymentService(orchestration::DeploymentManager& deployments,
                                                     std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<DeploymentServiceImpl>(deployments, std::move(logger));
}

}  // namespace weft::server::api
