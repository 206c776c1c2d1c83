#include "server/metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <mutex>
#include <optional>

#include "sdk/core/bounds.hpp"

namespace weft::server::metrics {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Seconds: 1 ms .. 60 s (long polls end at their deadline, so they land in the top buckets).
prometheus::Histogram::BucketBoundaries RpcBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::string Label(std::string_view v, const char* empty = "none") {
  return v.empty() ? std::string(empty) : std::string(v);
}

}  // namespace

struct ServerMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  prometheus::Family<prometheus::Counter>& transitions =
      BuildCounter()
          .Name("weft_transitions_total")
          .Help("State proposals decided by the rule chain, by run kind, decision, deciding rule "
                "and proposed state")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& rpc =
      BuildHistogram()
          .Name("weft_rpc_duration_seconds")
          .Help("gRPC calls served, by method and status code (long polls last until they "
                "claim or their wait ends)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& scheduler_passes =
      BuildCounter()
          .Name("weft_scheduler_passes_total")
          .Help("Scheduler passes by outcome (ok, error, not_leader)")
          .Register(*registry);
  prometheus::Counter& runs_created = BuildCounter()
                                          .Name("weft_scheduler_runs_created_total")
                                          .Help("Flow runs materialised by this replica's scheduler")
                                          .Register(*registry)
                                          .Add({});
  prometheus::Histogram& pass_duration =
      BuildHistogram()
          .Name("weft_scheduler_pass_duration_seconds")
          .Help("Duration of scheduler passes run as leader")
          .Register(*registry)
          .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                                           10, 30});
  prometheus::Family<prometheus::Gauge>& scheduler_lag =
      BuildGauge()
          .Name("weft_scheduler_lag_seconds")
          .Help("Seconds since this replica's scheduler last completed a pass as leader "
                "(absent until its first one); grows when the scheduler is stuck")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& notification_attempts =
      BuildCounter()
          .Name("weft_notification_attempts_total")
          .Help("Webhook delivery attempts by outcome (delivered, retry, failed)")
          .Register(*registry);
  prometheus::Histogram& notification_duration =
      BuildHistogram()
          .Name("weft_notification_attempt_duration_seconds")
          .Help("Duration of webhook POSTs")
          .Register(*registry)
          .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                                           10});
  prometheus::Gauge& notification_backlog =
      BuildGauge()
          .Name("weft_notification_deliveries_pending")
          .Help("Webhook deliveries waiting to be sent or retried")
          .Register(*registry)
          .Add({});
  prometheus::Family<prometheus::Gauge>& runs_by_state =
      BuildGauge()
          .Name("weft_flow_runs")
          .Help("Flow runs in the database by current state type and name")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& queue_depth =
      BuildGauge()
          .Name("weft_work_queue_due_runs")
          .Help("Unclaimed Scheduled runs that are due, per work queue")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& queue_age =
      BuildGauge()
          .Name("weft_work_queue_oldest_due_seconds")
          .Help("How long the oldest due, unclaimed run of each work queue has been due")
          .Register(*registry);
  prometheus::Gauge& waiting_polls = BuildGauge()
                                         .Name("weft_agent_waiting_polls")
                                         .Help("Agent long polls waiting on this replica")
                                         .Register(*registry)
                                         .Add({});
  prometheus::Family<prometheus::Gauge>& pool =
      BuildGauge()
          .Name("weft_database_connections")
          .Help("Database pool connections: in_use (leased), open (idle + leased), size (the "
                "most it opens)")
          .Register(*registry);

  std::mutex mu;  // gauges replaced as a set; scheduler lag; refresh
  std::function<void()> refresh;
  std::optional<std::chrono::steady_clock::time_point> last_leader_pass;
  prometheus::Gauge* lag = nullptr;
  std::set<std::pair<std::string, std::string>> seen_states;
  std::mutex transitions_mu;
  std::unordered_map<std::string, prometheus::Counter*> transition_counters;
  std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>> queues;
  prometheus::Family<prometheus::Gauge>& slots_in_use =
      BuildGauge()
          .Name("weft_concurrency_slots_in_use")
          .Help("Slots of each tag concurrency limit held by running task runs")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& slot_limit =
      BuildGauge()
          .Name("weft_concurrency_limit")
          .Help("The limit of each tag concurrency limit")
          .Register(*registry);
  std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>> tags;
};

ServerMetrics::ServerMetrics() : impl_(std::make_unique<Impl>()) {}
ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::OnTransition(std::string_view kind, std::string_view decision,
                                 std::string_view rule, std::string_view proposed) {
  // A client names its states freely: only Weft's own names become labels.
  const std::string_view state = core::StateNameLabel(proposed);
  // Hot path (every decision of batched task reports): one short key and a hash lookup
  // instead of building a label map per call.
  auto& m = *impl_;
  std::string key;
  key.reserve(kind.size() + decision.size() + rule.size() + state.size() + 3);
  key.append(kind).append(1, '\x1f').append(decision).append(1, '\x1f').append(rule).append(
      1, '\x1f').append(state);
  prometheus::Counter* c = nullptr;
  {
    std::lock_guard lock(m.transitions_mu);
    auto it = m.transition_counters.find(key);
    if (it != m.transition_counters.end()) c = it->second;
  }
  if (!c) {
    c = &m.transitions.Add({{"kind", Label(kind)},
                            {"decision", Label(decision)},
                            {"rule", Label(rule)},
                            {"state", Label(state)}});
    std::lock_guard lock(m.transitions_mu);
    m.transition_counters.emplace(std::move(key), c);
  }
  c->Increment();
}

void ServerMetrics::OnRpc(std::string_view method, std::string_view code, double seconds) {
  impl_->rpc.Add({{"method", Label(method)}, {"code", Label(code)}}, RpcBuckets())
      .Observe(seconds);
}

void ServerMetrics::OnSchedulerPass(bool leader, bool ok, int runs_created, double seconds) {
  auto& m = *impl_;
  m.scheduler_passes.Add({{"outcome", !leader ? "not_leader" : ok ? "ok" : "error"}}).Increment();
  if (!leader) return;
  if (runs_created > 0) m.runs_created.Increment(runs_created);
  m.pass_duration.Observe(seconds);
  if (ok) {
    std::lock_guard lock(m.mu);
    m.last_leader_pass = std::chrono::steady_clock::now();
    if (!m.lag) m.lag = &m.scheduler_lag.Add({});
    m.lag->Set(0);
  }
}

void ServerMetrics::OnNotificationAttempt(std::string_view outcome, double seconds) {
  impl_->notification_attempts.Add({{"outcome", Label(outcome)}}).Increment();
  impl_->notification_duration.Observe(seconds);
}

void ServerMetrics::SetRunsByState(const std::vector<StateCount>& counts) {
  auto& m = *impl_;
  std::lock_guard lock(m.mu);
  // Names outside Weft's own (free text from clients) add up under "other".
  std::map<std::pair<std::string, std::string>, std::int64_t> now;
  for (const auto& c : counts) {
    now[{c.state_type, std::string(core::StateNameLabel(c.state_name))}] += c.count;
  }
  for (const auto& [labels, count] : now) {
    m.runs_by_state.Add({{"state_type", labels.first}, {"state_name", labels.second}})
        .Set(static_cast<double>(count));
  }
  for (const auto& seen : m.seen_states) {
    if (!now.count(seen)) {
      m.runs_by_state.Add({{"state_type", seen.first}, {"state_name", seen.second}}).Set(0);
    }
  }
  for (const auto& [labels, count] : now) m.seen_states.insert(labels);
}

void ServerMetrics::SetQueueDepths(const std::vector<QueueDepth>& queues) {
  auto& m = *impl_;
  std::lock_guard lock(m.mu);
  std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>> now;
  for (const auto& q : queues) {
    auto* depth = &m.queue_depth.Add({{"work_queue", q.work_queue}});
    auto* age = &m.queue_age.Add({{"work_queue", q.work_queue}});
    depth->Set(static_cast<double>(q.due_runs));
    age->Set(q.oldest_due_seconds);
    now[q.work_queue] = {depth, age};
  }
  for (const auto& [name, gauges] : m.queues) {
    if (!now.count(name)) {
      m.queue_depth.Remove(gauges.first);
      m.queue_age.Remove(gauges.second);
    }
  }
  m.queues = std::move(now);
}

void ServerMetrics::SetConcurrencySlots(const std::vector<TagSlots>& tags) {
  auto& m = *impl_;
  std::lock_guard lock(m.mu);
  std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>> now;
  for (const auto& t : tags) {
    auto* in_use = &m.slots_in_use.Add({{"tag", t.tag}});
    auto* limit = &m.slot_limit.Add({{"tag", t.tag}});
    in_use->Set(static_cast<double>(t.in_use));
    limit->Set(t.limit);
    now[t.tag] = {in_use, limit};
  }
  for (const auto& [tag, gauges] : m.tags) {
    if (!now.count(tag)) {
      m.slots_in_use.Remove(gauges.first);
      m.slot_limit.Remove(gauges.second);
    }
  }
  m.tags = std::move(now);
}

void ServerMetrics::SetWaitingPolls(std::int64_t polls) {
  impl_->waiting_polls.Set(static_cast<double>(polls));
}

void ServerMetrics::SetPool(int in_use, int open, int size) {
  impl_->pool.Add({{"kind", "in_use"}}).Set(in_use);
  impl_->pool.Add({{"kind", "open"}}).Set(open);
  impl_->pool.Add({{"kind", "size"}}).Set(size);
}

void ServerMetrics::SetNotificationBacklog(std::int64_t pending) {
  impl_->notification_backlog.Set(static_cast<double>(pending));
}

void ServerMetrics::SetRefresh(std::function<void()> refresh) {
  std::lock_guard lock(impl_->mu);
  impl_->refresh = std::move(refresh);
}

std::string ServerMetrics::Render() {
  auto& m = *impl_;
  std::function<void()> refresh;
  {
    std::lock_guard lock(m.mu);
    refresh = m.refresh;
    if (m.last_leader_pass && m.lag) {
      m.lag->Set(std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                               *m.last_leader_pass)
                     .count());
    }
  }
  if (refresh) refresh();
  prometheus::TextSerializer serializer;
  return serializer.Serialize(m.registry->Collect());
}

}  // namespace weft::server::metrics
