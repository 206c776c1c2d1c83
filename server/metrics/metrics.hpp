#pragma once
// weft-server's Prometheus metrics. The app owns one ServerMetrics (a prometheus-cpp
// Registry); components report into it through small hooks (the orchestration door's
// decision observer, the gRPC interceptor, the scheduler's pass callback, the notifier),
// and gauges that describe the database (runs by state, queue depth) are refreshed from
// cheap queries when /metrics is scraped, at most once per `refresh_seconds`.
// prometheus-cpp stays out of this header.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace weft::server::metrics {

class ServerMetrics {
 public:
  ServerMetrics();
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // One decision of the rule chain. kind: "flow_run" | "task_run"; decision: ACCEPT,
  // REJECT, WAIT, ABORT; rule: the rule that decided ("" = none); state: the proposed
  // state's name.
  void OnTransition(std::string_view kind, std::string_view decision, std::string_view rule,
                    std::string_view state);
  // One finished RPC: full method name ("/weft.v1.FlowRunService/SetFlowRunState"), its
  // status code name ("OK", "NOT_FOUND", ...) and its duration.
  void OnRpc(std::string_view method, std::string_view code, double seconds);
  // One scheduler pass. leader=false: another replica holds the lease (nothing done).
  void OnSchedulerPass(bool leader, bool ok, int runs_created, double seconds);
  // One webhook delivery attempt. outcome: "delivered" | "retry" | "failed".
  void OnNotificationAttempt(std::string_view outcome, double seconds);

  // Gauges refreshed at scrape time (by the collector the app installs).
  struct StateCount {
    std::string state_type;
    std::string state_name;
    std::int64_t count = 0;
  };
  // The whole set: states missing from it that were reported before read 0.
  void SetRunsByState(const std::vector<StateCount>& counts);
  struct QueueDepth {
    std::string work_queue;
    std::int64_t due_runs = 0;
    double oldest_due_seconds = 0;
  };
  // The whole set: queues missing from it (deleted) disappear.
  void SetQueueDepths(const std::vector<QueueDepth>& queues);
  struct TagSlots {
    std::string tag;
    int limit = 0;
    std::int64_t in_use = 0;
  };
  // The whole set of tag concurrency limits: tags missing from it (deleted) disappear.
  void SetConcurrencySlots(const std::vector<TagSlots>& tags);
  void SetWaitingPolls(std::int64_t polls);
  void SetPool(int in_use, int open, int size);
  void SetNotificationBacklog(std::int64_t pending);

  // Called by Render() before serializing (the app installs its collector here).
  void SetRefresh(std::function<void()> refresh);

  // The whole registry in the Prometheus text exposition format (version 0.0.4).
  std::string Render();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The content type of Render()'s text.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace weft::server::metrics
