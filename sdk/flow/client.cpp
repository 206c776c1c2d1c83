// weft::Client: the user-facing client over client::Client (the typed gRPC client).
#include "sdk/flow/client.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

#include "sdk/client/client.hpp"
#include "sdk/client/convert.hpp"

namespace weft {

namespace detail {
struct ClientImpl {
  explicit ClientImpl(client::ClientOptions o) : rpc(std::move(o)) {}
  client::Client rpc;
};
}  // namespace detail

namespace {

template <typename T>
T Check(core::Result<T> r) {
  if (!r.ok()) throw ApiError(r.error());
  return std::move(r).value();
}

std::optional<core::TimePoint> OptTime(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return client::FromProto(t);
}

// ---- core::DeploymentSpec <-> v1::DeploymentSpec

v1::Schedule ScheduleToProto(const core::ScheduleSpec& spec) {
  v1::Schedule out;
  if (const auto* s = std::get_if<core::IntervalSchedule>(&spec)) {
    auto* p = out.mutable_interval();
    p->set_interval_seconds(s->interval_seconds);
    if (s->anchor) *p->mutable_anchor() = client::ToProto(*s->anchor);
    p->set_timezone(s->timezone);
  } else if (const auto* s = std::get_if<core::CronSchedule>(&spec)) {
    out.mutable_cron()->set_expression(s->expression);
    out.mutable_cron()->set_timezone(s->timezone);
  } else if (const auto* s = std::get_if<core::RRuleSchedule>(&spec)) {
    out.mutable_rrule()->set_rrule(s->rrule);
    out.mutable_rrule()->set_timezone(s->timezone);
  }
  return out;
}

std::optional<core::ScheduleSpec> ScheduleFromProto(const v1::DeploymentSpec& spec) {
  if (!spec.has_schedule()) return std::nullopt;
  const v1::Schedule& s = spec.schedule();
  switch (s.kind_case()) {
    case v1::Schedule::kInterval: {
      core::IntervalSchedule out;
      out.interval_seconds = s.interval().interval_seconds();
      if (s.interval().has_anchor()) out.anchor = client::FromProto(s.interval().anchor());
      out.timezone = s.interval().timezone();
      return core::ScheduleSpec{out};
    }
    case v1::Schedule::kCron:
      return core::ScheduleSpec{core::CronSchedule{s.cron().expression(), s.cron().timezone()}};
    case v1::Schedule::kRrule:
      return core::ScheduleSpec{core::RRuleSchedule{s.rrule().rrule(), s.rrule().timezone()}};
    default:
      return std::nullopt;
  }
}

core::CatchupPolicy CatchupFromText(const std::string& text) {
  if (text == "all") return core::CatchupPolicy::kAll;
  if (text == "none") return core::CatchupPolicy::kNone;
  return core::CatchupPolicy::kLatest;
}

v1::DeploymentSpec SpecToProto(const core::DeploymentSpec& spec, const BundleRef& bundle) {
  v1::DeploymentSpec out;
  out.set_name(spec.name);
  out.set_flow_name(spec.flow_name);
  out.set_description(spec.description);
  out.set_version(spec.version);
  for (const auto& e : spec.entrypoint) out.add_entrypoint(e);
  auto* b = out.mutable_bundle();
  b->set_storage(!bundle.storage.empty() ? bundle.storage : spec.storage);
  b->set_digest(bundle.digest);
  b->set_size(bundle.size);
  if (spec.schedule) *out.mutable_schedule() = ScheduleToProto(*spec.schedule);
  out.set_parameters_json(spec.parameters_json.empty() ? "{}" : spec.parameters_json);
  for (const auto& t : spec.tags) out.add_tags(t);
  out.set_work_queue(spec.work_queue);
  auto* r = out.mutable_runner();
  r->set_type(spec.runner.type);
  r->set_image(spec.runner.image);
  r->set_namespace_(spec.runner.kube_namespace);
  for (const auto& [k, v] : spec.runner.env) (*r->mutable_env())[k] = v;
  out.mutable_catchup()->set_policy(core::CatchupPolicyName(spec.catchup.policy));
  out.mutable_catchup()->set_max_lateness_seconds(spec.catchup.max_lateness_seconds);
  out.set_paused(spec.paused);
  return out;
}

DeploymentInfo DeploymentFromProto(const v1::Deployment& d) {
  DeploymentInfo out;
  const v1::DeploymentSpec& p = d.spec();
  out.id = d.id();
  out.full_name = p.flow_name() + "/" + p.name();
  core::DeploymentSpec& s = out.spec;
  s.name = p.name();
  s.flow_name = p.flow_name();
  s.description = p.description();
  s.version = p.version();
  s.entrypoint.assign(p.entrypoint().begin(), p.entrypoint().end());
  s.storage = p.bundle().storage();
  s.schedule = ScheduleFromProto(p);
  s.parameters_json = p.parameters_json().empty() ? "{}" : p.parameters_json();
  s.tags.assign(p.tags().begin(), p.tags().end());
  s.work_queue = p.work_queue().empty() ? "default" : p.work_queue();
  s.runner.type = p.runner().type().empty() ? "process" : p.runner().type();
  s.runner.image = p.runner().image();
  s.runner.kube_namespace = p.runner().namespace_();
  for (const auto& [k, v] : p.runner().env()) s.runner.env[k] = v;
  s.catchup.policy = CatchupFromText(p.catchup().policy());
  s.catchup.max_lateness_seconds = p.catchup().max_lateness_seconds();
  s.paused = d.paused();
  out.bundle = {p.bundle().storage(), p.bundle().digest(), p.bundle().size()};
  out.paused = d.paused();
  out.schedule_description = d.schedule_description();
  out.created = OptTime(d.has_created(), d.created());
  out.updated = OptTime(d.has_updated(), d.updated());
  return out;
}

FlowRunInfo FlowRunFromProto(const v1::FlowRun& r) {
  FlowRunInfo out;
  out.id = r.id();
  out.name = r.name();
  out.flow_name = r.flow_name();
  out.deployment_id = r.deployment_id();
  out.deployment_name = r.deployment_name();
  out.auto_scheduled = r.auto_scheduled();
  out.work_queue = r.work_queue();
  if (r.has_state()) {
    if (auto s = client::FromProto(r.state())) out.state = std::move(*s);
  }
  out.parameters_json = r.parameters_json().empty() ? "{}" : r.parameters_json();
  out.tags.assign(r.tags().begin(), r.tags().end());
  out.run_count = r.run_count();
  out.expected_start_time = OptTime(r.has_expected_start_time(), r.expected_start_time());
  out.start_time = OptTime(r.has_start_time(), r.start_time());
  out.end_time = OptTime(r.has_end_time(), r.end_time());
  out.created = OptTime(r.has_created(), r.created());
  return out;
}

v1::DeploymentRef Ref(const std::string& full_name_or_id) {
  v1::DeploymentRef ref;
  if (full_name_or_id.find('/') != std::string::npos) {
    ref.set_full_name(full_name_or_id);
  } else {
    ref.set_id(full_name_or_id);
  }
  return ref;
}

void CheckFullName(const std::string& full_name) {
  auto slash = full_name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == full_name.size() ||
      full_name.find('/', slash + 1) != std::string::npos) {
    throw ApiError(core::InvalidArgument("deployment \"" + full_name +
                                         "\": expected FLOW/NAME, e.g. taxi_training/weekly"));
  }
}

FlowRunInfo GetRun(detail::ClientImpl& impl, const std::string& id) {
  v1::GetFlowRunRequest req;
  req.set_id(id);
  return FlowRunFromProto(Check(impl.rpc.GetFlowRun(req)).flow_run());
}

}  // namespace

// ------------------------------------------------------------------ FlowRunHandle

FlowRunInfo FlowRunHandle::Get() const { return GetRun(*impl_, id_); }

core::State FlowRunHandle::State() const { return Get().state; }

core::State FlowRunHandle::Wait(std::chrono::duration<double> timeout) const {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  std::chrono::duration<double> pause{0.2};
  while (true) {
    core::State state = State();
    if (state.IsTerminal()) return state;
    auto now = Clock::now();
    if (now >= deadline) return state;
    auto left = std::chrono::duration<double>(deadline - now);
    std::this_thread::sleep_for(std::min(pause, left));
    pause = std::min(pause * 1.5, std::chrono::duration<double>(5.0));
  }
}

// ------------------------------------------------------------------ Client

Client::Client() : Client(ClientOptions{}) {}

Client::Client(ClientOptions options) {
  client::ClientOptions co = client::OptionsFromEnv();
  if (!options.api_url.empty()) {
    co.address = options.api_url;
    for (const char* prefix : {"http://", "grpc://"}) {
      if (co.address.rfind(prefix, 0) == 0) co.address = co.address.substr(std::strlen(prefix));
    }
    while (!co.address.empty() && co.address.back() == '/') co.address.pop_back();
  }
  if (!options.api_key.empty()) co.api_key = options.api_key;
  if (options.timeout_seconds > 0) co.timeout_seconds = options.timeout_seconds;
  impl_ = std::make_shared<detail::ClientImpl>(std::move(co));
}

Client::~Client() = default;

const std::string& Client::address() const { return impl_->rpc.options().address; }

CreateDeploymentResult Client::CreateDeployment(const core::DeploymentSpec& spec,
                                                const BundleRef& bundle) {
  if (auto s = core::ValidateDeploymentSpec(spec, "deployment \"" + spec.FullName() + "\"");
      !s.ok()) {
    throw ApiError(s.error());
  }
  v1::CreateDeploymentRequest req;
  *req.mutable_spec() = SpecToProto(spec, bundle);
  auto resp = Check(impl_->rpc.CreateDeployment(req));
  CreateDeploymentResult out;
  out.deployment = DeploymentFromProto(resp.deployment());
  out.created = resp.created();
  out.replaced_runs = resp.replaced_runs();
  return out;
}

DeploymentInfo Client::GetDeployment(const std::string& full_name_or_id) {
  v1::GetDeploymentRequest req;
  *req.mutable_ref() = Ref(full_name_or_id);
  return DeploymentFromProto(Check(impl_->rpc.GetDeployment(req)).deployment());
}

std::vector<DeploymentInfo> Client::ListDeployments(const std::string& flow_name) {
  std::vector<DeploymentInfo> out;
  v1::ListDeploymentsRequest req;
  req.set_flow_name(flow_name);
  req.mutable_page()->set_limit(1000);
  while (true) {
    auto resp = Check(impl_->rpc.ListDeployments(req));
    for (const auto& d : resp.deployments()) out.push_back(DeploymentFromProto(d));
    if (resp.page().next_cursor().empty()) break;
    req.mutable_page()->set_cursor(resp.page().next_cursor());
  }
  return out;
}

FlowRunHandle Client::RunDeployment(const std::string& full_name, const ParamMap& params,
                                    const RunDeploymentOptions& options) {
  CheckFullName(full_name);
  if (options.start_at && options.start_in.count() != 0) {
    throw ApiError(core::InvalidArgument("start_in and start_at: give one of them, not both"));
  }
  if (options.start_in.count() < 0) {
    throw ApiError(core::InvalidArgument("start_in: must be >= 0"));
  }
  v1::RunDeploymentRequest req;
  *req.mutable_ref() = Ref(full_name);
  req.set_parameters_json(ParamMapToJson(params));
  if (options.start_at) {
    *req.mutable_start_time() = client::ToProto(*options.start_at);
  } else if (options.start_in.count() > 0) {
    auto when = std::chrono::system_clock::now() +
                std::chrono::duration_cast<core::Duration>(options.start_in);
    *req.mutable_start_time() = client::ToProto(when);
  }
  for (const auto& t : options.tags) req.add_tags(t);
  req.set_idempotency_key(options.idempotency_key);
  auto resp = Check(impl_->rpc.RunDeployment(req));
  return FlowRunHandle(impl_, resp.flow_run().id(), resp.created());
}

std::vector<FlowRunInfo> Client::UpcomingRuns(const std::string& full_name, int limit) {
  v1::ListUpcomingRunsRequest req;
  *req.mutable_ref() = Ref(full_name);
  req.set_limit(limit);
  std::vector<FlowRunInfo> out;
  for (const auto& r : Check(impl_->rpc.ListUpcomingRuns(req)).flow_runs()) {
    out.push_back(FlowRunFromProto(r));
  }
  return out;
}

FlowRunInfo Client::GetFlowRun(const std::string& id) { return GetRun(*impl_, id); }

FlowRunHandle Client::FlowRun(const std::string& id) {
  (void)GetRun(*impl_, id);  // NOT_FOUND now rather than on first use
  return FlowRunHandle(impl_, id, false);
}

std::vector<FlowRunInfo> Client::ListFlowRuns(const FlowRunFilter& filter) {
  if (filter.limit <= 0) throw ApiError(core::InvalidArgument("limit: must be > 0"));
  v1::ListFlowRunsRequest req;
  req.set_deployment(filter.deployment);
  req.set_flow_name(filter.flow_name);
  for (auto t : filter.state_types) req.add_state_types(static_cast<v1::StateType>(t));
  for (const auto& n : filter.state_names) req.add_state_names(n);
  req.set_oldest_first(filter.oldest_first);
  std::vector<FlowRunInfo> out;
  while (static_cast<int>(out.size()) < filter.limit) {
    req.mutable_page()->set_limit(std::min(1000, filter.limit - static_cast<int>(out.size())));
    auto resp = Check(impl_->rpc.ListFlowRuns(req));
    for (const auto& r : resp.flow_runs()) out.push_back(FlowRunFromProto(r));
    if (resp.page().next_cursor().empty() || resp.flow_runs().empty()) break;
    req.mutable_page()->set_cursor(resp.page().next_cursor());
  }
  if (static_cast<int>(out.size()) > filter.limit) out.resize(static_cast<std::size_t>(filter.limit));
  return out;
}

}  // namespace weft
