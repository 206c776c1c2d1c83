#include "sdk/client/convert.hpp"

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
  using namespace std::chrono;
  return core::TimePoint(duration_cast<core::Duration>(seconds(t.seconds()) + nanoseconds(t.nanos())));
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

}  // namespace weft::client
