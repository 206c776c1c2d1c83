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

v1::DeploymentSpec SpecToProto(const core::DeploymentSpec& spec, const BundleRef& bundle) {
  v1::DeploymentSpec out = client::ToProto(spec);
  auto* b = out.mutable_bundle();
  b->set_storage(!bundle.storage.empty() ? bundle.storage : spec.storage);
  b->set_digest(bundle.digest);
  b->set_size(bundle.size);
  return out;
}

DeploymentInfo DeploymentFromProto(const v1::Deployment& d) {
  DeploymentInfo out;
  const v1::DeploymentSpec& p = d.spec();
  out.id = d.id();
  out.full_name = p.flow_name() + "/" + p.name();
  // What the server returns was validated when it was stored: a conversion error here
  // would be a server bug, so the spec is left with what could be read.
  if (auto spec = client::FromProto(p); spec.ok()) out.spec = std::move(*spec);
  out.spec.paused = d.paused();
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
