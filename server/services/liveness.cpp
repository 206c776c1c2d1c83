#include "server/services/liveness.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace weft::server::services {

double ReaperInterval(double interval_seconds, double timeout_seconds) {
  return std::max(0.1, std::min(interval_seconds, timeout_seconds / 3));
}

namespace {

std::unique_ptr<LeaderLease> MakeLease(const LivenessOptions& o, orchestration::Orchestrator& orch,
                                       const char* name, double interval) {
  if (!o.use_lease) return nullptr;
  return std::make_unique<LeaderLease>(orch.db(), orch.clock(), name, std::max(30.0, 3 * interval),
                                       o.holder);
}

}  // namespace

ZombieReaper::ZombieReaper(orchestration::AgentManager& agents, orchestration::Orchestrator& orch,
                           LivenessOptions options, std::shared_ptr<spdlog::logger> logger)
    : LoopService(
          "zombie_reaper",
          ReaperInterval(options.interval_seconds, agents.options().heartbeat_timeout_seconds),
          std::move(logger)),
      agents_(agents),
      options_(std::move(options)) {
  lease_ = MakeLease(
      options_, orch, "zombie_reaper",
      ReaperInterval(options_.interval_seconds, agents_.options().heartbeat_timeout_seconds));
}

ZombieReaper::~ZombieReaper() {
  Stop();
  if (lease_) lease_->Release();
}

core::Result<int> ZombieReaper::RunPass() {
  if (lease_ && !lease_->Hold()) return 0;
  auto r = agents_.ReapZombies(options_.batch);
  ++passes_;
  return r;
}

void ZombieReaper::RunOnce(std::stop_token stop) {
  // Bounded batches; a full batch goes on at once.
  for (int i = 0; i < 20 && !stop.stop_requested(); ++i) {
    auto r = RunPass();
    if (!r.ok()) {
      logger().warn("zombie reaper pass failed error=\"{}\"", r.error().message);
      return;
    }
    if (*r > 0) logger().info("zombie reaper crashed_runs={}", *r);
    if (*r < options_.batch) return;
  }
}

LateRunMarker::LateRunMarker(orchestration::AgentManager& agents, orchestration::Orchestrator& orch,
                             LivenessOptions options, std::shared_ptr<spdlog::logger> logger)
    : LoopService("late_runs", std::min(1.0, options.interval_seconds), std::move(logger)),
      agents_(agents),
      options_(std::move(options)) {
  lease_ = MakeLease(options_, orch, "late_runs", std::min(1.0, options_.interval_seconds));
}

LateRunMarker::~LateRunMarker() {
  Stop();
  if (lease_) lease_->Release();
}

core::Result<int> LateRunMarker::RunPass() {
  if (lease_ && !lease_->Hold()) return 0;
  auto r = agents_.MarkLate(options_.batch);
  ++passes_;
  return r;
}

core::Result<int> LateRunMarker::RunPausePass() {
  if (lease_ && !lease_->Hold()) return 0;
  return agents_.FailExpiredPauses(options_.batch);
}

void LateRunMarker::RunOnce(std::stop_token stop) {
  for (int i = 0; i < 20 && !stop.stop_requested(); ++i) {
    auto r = RunPass();
    if (!r.ok()) {
      logger().warn("late runs pass failed error=\"{}\"", r.error().message);
      break;
    }
    if (*r > 0) logger().info("late runs marked={}", *r);
    if (*r < options_.batch) break;
  }
  for (int i = 0; i < 20 && !stop.stop_requested(); ++i) {
    auto r = RunPausePass();
    if (!r.ok()) {
      logger().warn("pause deadline pass failed error=\"{}\"", r.error().message);
      return;
    }
    if (*r > 0) logger().info("paused runs past their deadline failed={}", *r);
    if (*r < options_.batch) return;
  }
}

}  // namespace weft::server::services
