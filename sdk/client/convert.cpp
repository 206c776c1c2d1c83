#include "sdk/client/convert.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "sdk/client/timestamp_check.hpp"
#include "sdk/core/bounds.hpp"

namespace weft::client {

google::protobuf::Timestamp ToProto(core::TimePoint t) {
  using namespace std::chrono;
  auto ns = duration_cast<nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  long long secs = ns / 1000000000LL;
  long long rem = ns % 1000000000LL;
  if (rem < 0) {
    rem += 1000000000LL;
    secs -= 1;
  }
  ts.set_seconds(secs);
  ts.set_nanos(static_cast<int>(rem));
  return ts;
}

core::TimePoint FromProto(const google::protobuf::Timestamp& t) {
  const std::int64_t nanos = std::clamp<std::int64_t>(t.nanos(), 0, 999'999'999);
  if (t.seconds() < core::kMinUnixSeconds) return *core::FromUnix(core::kMinUnixSeconds, 0);
  if (t.seconds() > core::kMaxUnixSeconds) {
    return *core::FromUnix(core::kMaxUnixSeconds, 999'999'999);
  }
  return *core::FromUnix(t.seconds(), nanos);
}

std::string CheckTimestamp(const google::protobuf::Timestamp& t, const std::string& field) {
  if (t.nanos() < 0 || t.nanos() > 999'999'999) {
    return field + ".nanos: must be between 0 and 999999999, got " + std::to_string(t.nanos());
  }
  if (t.seconds() < core::kMinUnixSeconds || t.seconds() > core::kMaxUnixSeconds) {
    return field + ".seconds: must be between " + std::to_string(core::kMinUnixSeconds) + " and " +
           std::to_string(core::kMaxUnixSeconds) + " (years 1677 to 2262), got " +
           std::to_string(t.seconds());
  }
  return {};
}

v1::State ToProto(const core::State& s) {
  v1::State p;
  p.set_type(static_cast<v1::StateType>(static_cast<int>(s.type)));
  p.set_name(s.name);
  if (s.timestamp != core::TimePoint{}) *p.mutable_timestamp() = ToProto(s.timestamp);
  p.set_message(s.message);
  p.set_details_json(s.details_json);
  if (s.scheduled_time) *p.mutable_scheduled_time() = ToProto(*s.scheduled_time);
  p.set_idempotency_key(s.idempotency_key);
  p.set_result_json(s.result_json);
  return p;
}

std::optional<core::State> FromProto(const v1::State& p) {
  int t = static_cast<int>(p.type());
  if (t < 1 || t > 9) return std::nullopt;
  core::State s;
  s.type = static_cast<core::StateType>(t);
  s.name = p.name().empty() ? core::DefaultStateName(s.type) : p.name();
  if (p.has_timestamp()) s.timestamp = FromProto(p.timestamp());
  s.message = p.message();
  s.details_json = p.details_json();
  if (p.has_scheduled_time()) s.scheduled_time = FromProto(p.scheduled_time());
  s.idempotency_key = p.idempotency_key();
  s.result_json = p.result_json();
  return s;
}

v1::RetryPolicy ToProto(const core::RetryPolicy& p) {
  v1::RetryPolicy r;
  r.set_max_retries(p.max_retries);
  for (double d : p.delays_seconds) r.add_delays_seconds(d);
  r.set_exponential_base(p.exponential_base);
  r.set_jitter_factor(p.jitter_factor);
  r.set_max_delay_seconds(p.max_delay_seconds);
  return r;
}

core::RetryPolicy FromProto(const v1::RetryPolicy& r) {
  core::RetryPolicy p;
  p.max_retries = r.max_retries();
  p.delays_seconds.assign(r.delays_seconds().begin(), r.delays_seconds().end());
  p.exponential_base = r.exponential_base();
  p.jitter_factor = r.jitter_factor();
  p.max_delay_seconds = r.max_delay_seconds();
  return p;
}

v1::Decision ToProto(core::orchestration::Decision d) {
  return static_cast<v1::Decision>(static_cast<int>(d));
}

core::orchestration::Decision FromProto(v1::Decision d) {
  int v = static_cast<int>(d);
  if (v < 1 || v > 4) return core::orchestration::Decision::kReject;
  return static_cast<core::orchestration::Decision>(v);
}

v1::Schedule ToProto(const core::ScheduleSpec& spec) {
  v1::Schedule out;
  if (const auto* i = std::get_if<core::IntervalSchedule>(&spec)) {
    auto* p = out.mutable_interval();
    p->set_interval_seconds(i->interval_seconds);
    if (i->anchor) *p->mutable_anchor() = ToProto(*i->anchor);
    p->set_timezone(i->timezone);
  } else if (const auto* c = std::get_if<core::CronSchedule>(&spec)) {
    out.mutable_cron()->set_expression(c->expression);
    out.mutable_cron()->set_timezone(c->timezone);
  } else if (const auto* r = std::get_if<core::RRuleSchedule>(&spec)) {
    out.mutable_rrule()->set_rrule(r->rrule);
    out.mutable_rrule()->set_timezone(r->timezone);
  }
  return out;
}

core::Result<core::ScheduleSpec> FromProto(const v1::Schedule& s) {
  switch (s.kind_case()) {
    case v1::Schedule::kInterval: {
      core::IntervalSchedule i;
      i.interval_seconds = s.interval().interval_seconds();
      if (s.interval().has_anchor()) i.anchor = FromProto(s.interval().anchor());
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

v1::DeploymentSpec ToProto(const core::DeploymentSpec& s) {
  v1::DeploymentSpec p;
  p.set_name(s.name);
  p.set_flow_name(s.flow_name);
  p.set_description(s.description);
  p.set_version(s.version);
  for (const auto& e : s.entrypoint) p.add_entrypoint(e);
  p.mutable_bundle()->set_storage(s.storage);
  if (s.schedule) *p.mutable_schedule() = ToProto(*s.schedule);
  p.set_parameters_json(s.parameters_json.empty() ? "{}" : s.parameters_json);
  for (const auto& t : s.tags) p.add_tags(t);
  p.set_work_queue(s.work_queue.empty() ? "default" : s.work_queue);
  auto* r = p.mutable_runner();
  r->set_type(s.runner.type.empty() ? "process" : s.runner.type);
  r->set_image(s.runner.image);
  r->set_namespace_(s.runner.kube_namespace);
  r->set_network(s.runner.network);
  for (const auto& [k, v] : s.runner.env) (*r->mutable_env())[k] = v;
  p.mutable_catchup()->set_policy(core::CatchupPolicyName(s.catchup.policy));
  p.mutable_catchup()->set_max_lateness_seconds(s.catchup.max_lateness_seconds);
  p.set_paused(s.paused);
  p.set_timeout_seconds(s.timeout_seconds);
  p.set_parameters_schema_json(s.parameters_schema_json);
  return p;
}

core::Result<core::DeploymentSpec> FromProto(const v1::DeploymentSpec& p) {
  core::DeploymentSpec s;
  s.name = p.name();
  s.flow_name = p.flow_name();
  s.description = p.description();
  s.version = p.version();
  s.entrypoint.assign(p.entrypoint().begin(), p.entrypoint().end());
  s.storage = p.bundle().storage();
  if (p.has_schedule()) {
    auto schedule = FromProto(p.schedule());
    if (!schedule.ok()) return schedule.error();
    s.schedule = *schedule;
  }
  s.parameters_json = p.parameters_json().empty() ? "{}" : p.parameters_json();
  s.tags.assign(p.tags().begin(), p.tags().end());
  s.work_queue = p.work_queue().empty() ? "default" : p.work_queue();
  s.runner.type = p.runner().type().empty() ? "process" : p.runner().type();
  s.runner.image = p.runner().image();
  s.runner.kube_namespace = p.runner().namespace_();
  s.runner.network = p.runner().network();
  s.runner.env.insert(p.runner().env().begin(), p.runner().env().end());
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
  s.timeout_seconds = p.timeout_seconds();
  s.parameters_schema_json = p.parameters_schema_json();
  return s;
}

}  // namespace weft::client
