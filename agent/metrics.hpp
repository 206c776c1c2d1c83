#pragma once
// weft-agent's Prometheus metrics (prometheus-cpp registry, always kept: updating them costs
// nanoseconds) and the small HTTP server that exposes them with --metrics-port: /metrics,
// /healthz (the process serves) and /readyz (the agent has reached the server). Neither
// prometheus-cpp nor httplib appears in this header.
#include <memory>
#include <string>
#include <string_view>

#include "sdk/core/error.hpp"

namespace weft::agent {

class AgentMetrics {
 public:
  AgentMetrics();
  ~AgentMetrics();
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  void SetRunning(int runs);
  void SetLimit(int limit);
  // outcome: claimed | empty | error
  void OnPoll(std::string_view outcome, int claimed);
  void OnBundle(bool cache_hit);
  // The final state this agent saw (or proposed) for one of its runs.
  void OnRunFinished(std::string_view state_name);
  // kind: poll | bundle | spawn | report | heartbeat
  void OnFailure(std::string_view kind);
  // Ready once a call to the server succeeded; not ready while it fails.
  void SetReady(bool ready);
  bool ready() const;

  std::string Render();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// /metrics, /healthz, /readyz on host:port (port 0 picks a free one) on its own thread.
class MetricsServer {
 public:
  MetricsServer(AgentMetrics& metrics, std::string host, int port);
  ~MetricsServer();  // Stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // UNAVAILABLE naming the address when it cannot bind.
  core::Status Start();
  int port() const;
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::agent
