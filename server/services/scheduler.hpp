#pragma once
// The scheduler: keeps each active deployment's runs materialised ahead (Prefect's rule:
// at least min_runs and min_time ahead, at most max_runs and max_time), idempotently
// (the key "auto:<deployment>:<time>" is unique per flow; inserts are ON CONFLICT DO
// NOTHING), in batches (one multi-row insert of runs + their Scheduled history rows per
// pass), and applies each deployment's catch-up policy to missed times. Time comes from
// the injected clock. Only the replica holding the "scheduler" lease schedules.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "sdk/core/schedule.hpp"
#include "server/orchestration/set_state.hpp"
#include "server/services/leader_lease.hpp"
#include "server/services/loop_service.hpp"
#include "server/store/notification_listener.hpp"

namespace weft::server::services {

struct PassStats {
  int deployments = 0;     // active deployments looked at
  int runs_created = 0;    // runs inserted (conflicts with existing ones not counted)
  int runs_planned = 0;    // rows offered to the insert
  int missed_skipped = 0;  // missed times not created by the catch-up policy
  int runs_cancelled = 0;  // materialised missed runs moved to Cancelled
  bool leader = true;      // false: another replica holds the lease; nothing done
  double load_ms = 0;      // reading deployments and their runs
  double plan_ms = 0;      // computing times and rows (no I/O)
  double write_ms = 0;     // the insert transaction
  double cancel_ms = 0;    // cancelling skipped missed runs
};

struct SchedulerOptions {
  int min_runs = 3;
  int max_runs = 100;
  double min_time_seconds = 3600;
  double max_time_seconds = 100 * 86400.0;
  double grace_seconds = 60;        // a time older than now - grace is missed
  double interval_seconds = 5;      // loop interval
  bool use_lease = true;            // false: every instance schedules (tests of idempotency)
  int write_parallelism = 2;        // big passes write in this many transactions at once
                                    // (each holds whole deployments: per-deployment atomicity)
  std::string holder;               // lease holder id ("" = host:pid:random)
  std::size_t insert_batch = 5000;  // rows per multi-row insert statement
  bool listen = false;              // LISTEN for deployment changes made by other replicas
  // Called after each pass of the loop with its result and duration (metrics).
  std::function<void(const core::Result<PassStats>&, double seconds)> on_pass;
};

class Scheduler final : public LoopService {
 public:
  Scheduler(orchestration::Orchestrator& orch, SchedulerOptions options,
            std::shared_ptr<spdlog::logger> logger);
  ~Scheduler() override;

  // One pass now, on the caller's thread (tests and the bench; the loop calls it too).
  // Checks the lease first when use_lease.
  core::Result<PassStats> RunPass();
  // Passes completed (any outcome) since start.
  std::uint64_t passes() const { return passes_.load(); }
  const SchedulerOptions& options() const { return options_; }

 protected:
  void RunOnce(std::stop_token stop) override;

 private:
  struct Compiled {
    std::int64_t revision = 0;
    std::optional<core::Schedule> schedule;  // none: the stored schedule does not compile
  };
  const core::Schedule* ScheduleOf(const store::DeploymentRecord& d);

  orchestration::Orchestrator& orch_;
  SchedulerOptions options_;
  std::unique_ptr<LeaderLease> lease_;
  std::unique_ptr<store::NotificationListener> listener_;
  std::mutex pass_mu_;  // one pass at a time per instance
  std::map<std::string, Compiled> cache_;
  std::atomic<std::uint64_t> passes_{0};
};

}  // namespace weft::server::services
