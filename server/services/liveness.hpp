#pragma once
// Liveness services: the zombie reaper (runs whose heartbeats stopped -> Crashed) and the
// late-runs marker (Scheduled runs overdue by late_after -> Late; Paused runs past their
// resume deadline -> Failed). Each is a LoopService
// holding a LeaderLease, so one replica runs it; each pass is one bounded transaction
// through AgentManager, which decides every state with the rule chain.
#include <atomic>
#include <cstdint>
#include <memory>

#include "server/orchestration/agent_manager.hpp"
#include "server/services/leader_lease.hpp"
#include "server/services/loop_service.hpp"

namespace weft::server::services {

struct LivenessOptions {
  double interval_seconds = 5;  // reaper: min(this, timeout / 3); late marker: 1 s
  int batch = 500;              // runs per pass at most
  bool use_lease = true;
  std::string holder;  // lease holder id ("" = host:pid:random)
};

class ZombieReaper final : public LoopService {
 public:
  ZombieReaper(orchestration::AgentManager& agents, orchestration::Orchestrator& orch,
               LivenessOptions options, std::shared_ptr<spdlog::logger> logger);
  ~ZombieReaper() override;
  // One pass now (checks the lease when use_lease). Returns how many runs were Crashed.
  core::Result<int> RunPass();
  std::uint64_t passes() const { return passes_.load(); }

 protected:
  void RunOnce(std::stop_token stop) override;

 private:
  orchestration::AgentManager& agents_;
  LivenessOptions options_;
  std::unique_ptr<LeaderLease> lease_;
  std::atomic<std::uint64_t> passes_{0};
};

class LateRunMarker final : public LoopService {
 public:
  LateRunMarker(orchestration::AgentManager& agents, orchestration::Orchestrator& orch,
                LivenessOptions options, std::shared_ptr<spdlog::logger> logger);
  ~LateRunMarker() override;
  // One pass now (checks the lease when use_lease). Returns how many runs became Late.
  core::Result<int> RunPass();
  // One pause pass now (same lease): Paused runs past their resume deadline -> Failed.
  // Returns how many. RunOnce does both passes.
  core::Result<int> RunPausePass();
  std::uint64_t passes() const { return passes_.load(); }

 protected:
  void RunOnce(std::stop_token stop) override;

 private:
  orchestration::AgentManager& agents_;
  LivenessOptions options_;
  std::unique_ptr<LeaderLease> lease_;
  std::atomic<std::uint64_t> passes_{0};
};

// The reaper's loop interval for a heartbeat timeout: min(interval, timeout / 3), >= 0.1 s.
double ReaperInterval(double interval_seconds, double timeout_seconds);

}  // namespace weft::server::services
