#include "server/metrics/collector.hpp"

#include <spdlog/spdlog.h>

#include "server/orchestration/agent_manager.hpp"
#include "server/store/concurrency_repo.hpp"
#include "server/store/metrics_repo.hpp"
#include "server/store/work_queue_repo.hpp"

namespace weft::server::metrics {

MetricsCollector::MetricsCollector(ServerMetrics& metrics, store::Database& db,
                                   const core::Clock& clock, orchestration::AgentManager* agents,
                                   CollectorOptions options, std::shared_ptr<spdlog::logger> logger)
    : metrics_(metrics),
      db_(db),
      clock_(clock),
      agents_(agents),
      options_(options),
      logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
}

void MetricsCollector::Install() {
  metrics_.SetRefresh([this] { Refresh(); });
  installed_ = true;
}

MetricsCollector::~MetricsCollector() {
  if (installed_) metrics_.SetRefresh({});
}

void MetricsCollector::Refresh() {
  if (agents_) metrics_.SetWaitingPolls(static_cast<std::int64_t>(agents_->waiting_polls()));
  auto pool = db_.pool_stats();
  metrics_.SetPool(pool.in_use, pool.open, pool.size);

  std::lock_guard lock(mu_);  // one query set at a time; concurrent scrapes share it
  auto steady = std::chrono::steady_clock::now();
  if (last_query_ &&
      std::chrono::duration<double>(steady - *last_query_).count() < options_.refresh_seconds) {
    return;
  }
  struct Read {
    std::vector<store::StateCountRow> states;
    std::vector<ServerMetrics::QueueDepth> queues;
    std::int64_t pending = 0;
    std::vector<ServerMetrics::TagSlots> tags;
  };
  auto now = clock_.Now();
  auto read = db_.WithTransaction([&](store::Tx& tx) -> core::Result<Read> {
    Read r;
    r.states = store::MetricsRepo::FlowRunsByState(tx);
    std::string after;
    int after_priority = 0;
    for (;;) {
      auto page = store::WorkQueueRepo::List(tx, after_priority, after, 500);
      for (const auto& q : page) {
        auto due = store::MetricsRepo::QueueDue(tx, q, now);
        double age = due.oldest ? std::max(0.0, core::ToSeconds(now - *due.oldest)) : 0.0;
        r.queues.push_back({q.name, due.count, age});
      }
      if (page.size() < 500) break;
      after = page.back().name;
      after_priority = page.back().priority;
    }
    r.pending = store::MetricsRepo::PendingDeliveries(tx);
    // Holders of final or silent flow runs are not counted (as the rule does not count them).
    for (const auto& l : store::ConcurrencyRepo::List(tx, now - core::FromSeconds(
                                                           options_.heartbeat_timeout_seconds))) {
      r.tags.push_back({l.tag, l.limit, l.active_slots});
    }
    return r;
  });
  last_query_ = steady;
  if (!read.ok()) {
    logger_->warn("metrics refresh failed error=\"{}\"", read.error().message);
    return;
  }
  std::vector<ServerMetrics::StateCount> states;
  for (auto& s : read->states) states.push_back({s.state_type, s.state_name, s.count});
  metrics_.SetRunsByState(states);
  metrics_.SetQueueDepths(read->queues);
  metrics_.SetNotificationBacklog(read->pending);
  metrics_.SetConcurrencySlots(read->tags);
}

}  // namespace weft::server::metrics
