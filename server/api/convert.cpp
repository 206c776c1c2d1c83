#include "server/api/convert.hpp"

#include "sdk/client/convert.hpp"
#include "server/orchestration/validate.hpp"

namespace weft::server::api {

using client::FromProto;
using client::ToProto;

v1::Flow ToProto(const store::FlowRecord& f) {
  v1::Flow p;
  p.set_id(f.id);
  p.set_name(f.name);
  for (const auto& t : f.tags) p.add_tags(t);
  *p.mutable_created() = client::ToProto(f.created);
  p.set_parameters_schema_json(f.parameters_schema_json);
  return p;
}

namespace {

v1::State RunState(const store::RunFacts& f) {
  v1::State s = client::ToProto(*f.state);
  if (f.state_id) s.set_id(std::to_string(f.state_id));
  return s;
}

}  // namespace

v1::FlowRun ToProto(const store::FlowRunRecord& r) {
  v1::FlowRun p;
  p.set_id(r.run.id);
  p.set_flow_id(r.flow_id);
  p.set_flow_name(r.flow_name);
  p.set_name(r.name);
  if (r.run.state) *p.mutable_state() = RunState(r.run);
  p.set_parameters_json(r.parameters_json);
  for (const auto& t : r.tags) p.add_tags(t);
  p.set_run_count(r.run.run_count);
  *p.mutable_retry_policy() = client::ToProto(r.run.retry_policy);
  p.set_idempotency_key(r.idempotency_key);
  if (r.run.expected_start_time) {
    *p.mutable_expected_start_time() = client::ToProto(*r.run.expected_start_time);
  }
  if (r.run.start_time) *p.mutable_start_time() = client::ToProto(*r.run.start_time);
  if (r.run.end_time) *p.mutable_end_time() = client::ToProto(*r.run.end_time);
  p.set_total_run_time_seconds(r.run.total_run_time);
  *p.mutable_created() = client::ToProto(r.created);
  *p.mutable_updated() = client::ToProto(r.updated);
  p.set_task_run_count(r.task_run_count);
  p.set_deployment_id(r.deployment_id);
  p.set_deployment_name(r.deployment_name);
  p.set_auto_scheduled(r.auto_scheduled);
  p.set_work_queue(r.work_queue);
  p.set_agent_id(r.agent_id);
  p.set_agent_name(r.agent_name);
  if (r.last_heartbeat) *p.mutable_last_heartbeat() = client::ToProto(*r.last_heartbeat);
  p.set_parent_task_run_id(r.parent_task_run_id);
  p.set_parent_flow_run_id(r.parent_flow_run_id);
  return p;
}

v1::Deployment ToProto(const orchestration::DeploymentView& v) {
  const auto& d = v.record;
  v1::Deployment p;
  p.set_id(d.id);
  auto* sp = p.mutable_spec();
  *sp = client::ToProto(v.spec);
  sp->mutable_bundle()->set_storage(d.storage_name);
  sp->mutable_bundle()->set_digest(d.bundle_digest);
  sp->mutable_bundle()->set_size(d.bundle_size);
  sp->set_paused(d.paused);
  sp->set_timeout_seconds(d.timeout_seconds);
  p.set_paused(d.paused);
  *p.mutable_created() = client::ToProto(d.created);
  *p.mutable_updated() = client::ToProto(d.updated);
  p.set_schedule_description(d.schedule_description);
  if (d.last_scheduled_time) {
    *p.mutable_last_scheduled_time() = client::ToProto(*d.last_scheduled_time);
  }
  return p;
}

v1::TaskRun ToProto(const store::TaskRunRecord& t) {
  v1::TaskRun p;
  p.set_id(t.run.id);
  p.set_flow_run_id(t.flow_run_id);
  p.set_task_key(t.task_key);
  p.set_dynamic_key(t.dynamic_key);
  p.set_name(t.name);
  if (t.run.state) *p.mutable_state() = RunState(t.run);
  p.set_run_count(t.run.run_count);
  *p.mutable_retry_policy() = client::ToProto(t.run.retry_policy);
  for (const auto& tag : t.tags) p.add_tags(tag);
  if (t.run.start_time) *p.mutable_start_time() = client::ToProto(*t.run.start_time);
  if (t.run.end_time) *p.mutable_end_time() = client::ToProto(*t.run.end_time);
  p.set_total_run_time_seconds(t.run.total_run_time);
  *p.mutable_created() = client::ToProto(t.created);
  *p.mutable_updated() = client::ToProto(t.updated);
  p.set_cache_key(t.cache_key);
  if (t.cache_expiration) *p.mutable_cache_expiration() = client::ToProto(*t.cache_expiration);
  p.set_has_result(t.has_result);
  p.set_task_inputs_json(t.task_inputs_json);
  return p;
}

v1::State ToProto(const store::StateRecord& s) {
  v1::State p = client::ToProto(s.state);
  p.set_id(std::to_string(s.id));
  return p;
}

v1::OrchestrationResult ToProto(const orchestration::SetStateResult& r) {
  v1::OrchestrationResult p;
  p.set_decision(client::ToProto(r.outcome.decision));
  if (r.outcome.state) {
    *p.mutable_state() = client::ToProto(*r.outcome.state);
    if (r.state_id) p.mutable_state()->set_id(std::to_string(r.state_id));
  }
  p.set_reason(r.outcome.reason);
  p.set_wait_seconds(r.outcome.wait_seconds);
  p.set_rule(r.outcome.rule);
  p.set_run_count(r.outcome.run_count);
  return p;
}

std::string EncodeCursor(const store::Cursor& c) {
  return core::FormatTime(c.created) + "|" + c.id;
}

std::optional<store::Cursor> DecodeCursor(const std::string& text) {
  auto bar = text.find('|');
  if (bar == std::string::npos) return std::nullopt;
  auto t = core::ParseTime(text.substr(0, bar));
  std::string id = text.substr(bar + 1);
  if (!t || !orchestration::IsUuid(id)) return std::nullopt;
  return store::Cursor{*t, orchestration::NormalizeUuid(id)};
}

}  // namespace weft::server::api
