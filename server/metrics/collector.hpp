#pragma once
// Fills the ServerMetrics gauges that describe shared state: flow runs by state, due runs
// per work queue, pending webhook deliveries (database queries, at most once per
// refresh_seconds however often /metrics is scraped) and, at every scrape, waiting agent
// polls and the database pool.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "sdk/core/time.hpp"
#include "server/metrics/metrics.hpp"
#include "server/store/database.hpp"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::orchestration {
class AgentManager;
}  // namespace weft::server::orchestration

namespace weft::server::metrics {

struct CollectorOptions {
  double refresh_seconds = 5;  // 0: query at every scrape
  // Concurrency slots held by flow runs silent this long are not counted (--heartbeat-timeout).
  double heartbeat_timeout_seconds = 30;
};

class MetricsCollector {
 public:
  MetricsCollector(ServerMetrics& metrics, store::Database& db, const core::Clock& clock,
                   orchestration::AgentManager* agents, CollectorOptions options,
                   std::shared_ptr<spdlog::logger> logger);
  // Installs Refresh() as the metrics' scrape hook; the destructor removes it.
  void Install();
  ~MetricsCollector();
  MetricsCollector(const MetricsCollector&) = delete;
  MetricsCollector& operator=(const MetricsCollector&) = delete;

  // Updates the gauges (database ones only when older than refresh_seconds). Never throws.
  void Refresh();

 private:
  ServerMetrics& metrics_;
  store::Database& db_;
  const core::Clock& clock_;
  orchestration::AgentManager* agents_;
  CollectorOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> last_query_;
  bool installed_ = false;
};

}  // namespace weft::server::metrics
