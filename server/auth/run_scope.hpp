#pragma once
// Resource scoping: on WHAT a caller may act. The access table (access.hpp) decides whether a
// caller's scope may call a method at all; RunScope decides whether the runs and work queues
// a request names are the caller's:
//
//   - a run token (scope run) touches only its own flow run and that run's descendants
//     (subflow runs: parent_flow_run_id chains up to the token's run), their task runs, logs
//     and results; it creates flow runs only as subflows under a task run of that tree;
//   - an agent key limited to work queues touches only those queues and the flow runs queued
//     on them;
//   - every other caller (viewer, operator, admin, an agent serving every queue) is not
//     limited here.
//
// Ids that do not exist pass: the handler answers NOT_FOUND as it would for anyone (a
// subflow's creation retries on NOT_FOUND until its wrapper task run has been reported, and
// task runs are created with client-chosen ids). Anything else outside the caller's scope is
// PERMISSION_DENIED naming the field and the id.
//
// The facts behind the answers never change (a run's ancestry and work queue, a task run's
// flow run), so they are cached (bounded); a miss costs one statement: a recursive walk up
// parent_flow_run_id (FlowRunRepo::Lineage) or one lookup of many task runs
// (TaskRunRepo::FlowRunsOf). No gRPC types here; api::ScopeGuard is the handlers' door to it.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sdk/core/error.hpp"
#include "server/auth/access.hpp"
#include "server/store/database.hpp"

namespace weft::server::auth {

struct RunScopeOptions {
  // Entries per cache (run lineages; task run -> flow run); the oldest half is dropped when
  // one is full.
  std::size_t cache_entries = 100000;
  // Subflow nesting followed upward from a run: a run deeper than this below a token's run
  // is outside the token's scope.
  int max_depth = 64;
};

// A run named by a request: the field that names it (for the message) and its id.
struct RunRef {
  std::string field;  // "reports[2].task_run_id"
  std::string id;
};

class RunScope {
 public:
  explicit RunScope(store::Database& db, RunScopeOptions options = {});
  ~RunScope();
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

  // Whether RunScope limits `who` at all (a run token, or an agent key limited to queues).
  // Handlers of batches may skip building RunRefs when it does not.
  static bool Limits(const Identity& who);

  // `who` may act on the flow run `id` (and so on its task runs and logs).
  [[nodiscard]] core::Status CheckFlowRun(const Identity& who, std::string_view field,
                                          const std::string& id);
  [[nodiscard]] core::Status CheckFlowRuns(const Identity& who, const std::vector<RunRef>& runs);
  // `who` may act on the task run `id`, i.e. on its flow run.
  [[nodiscard]] core::Status CheckTaskRun(const Identity& who, std::string_view field,
                                          const std::string& id);
  // Several task runs with one lookup for all cache misses.
  [[nodiscard]] core::Status CheckTaskRuns(const Identity& who, const std::vector<RunRef>& runs);

  // CreateFlowRun: a run token creates subflow runs only, under a task run of its tree
  // (`parent_task_run_id`, "" = a top-level run).
  [[nodiscard]] core::Status CheckNewFlowRun(const Identity& who,
                                             const std::string& parent_task_run_id);
  // ListFlowRuns: a run token lists only the subflow runs of a run of its tree
  // (`parent_flow_run_id`, "" = every run).
  [[nodiscard]] core::Status CheckFlowRunListing(const Identity& who,
                                                 const std::string& parent_flow_run_id);
  // An agent key limited to work queues: `name` is one of them.
  [[nodiscard]] static core::Status CheckWorkQueue(const Identity& who, std::string_view field,
                                                   const std::string& name);

  // Facts a caller just learned by creating task runs: (task run id, its flow run id).
  // Cached, so the next check of those task runs needs no lookup.
  void RememberTaskRuns(const std::vector<std::pair<std::string, std::string>>& task_runs);

  // Cache counters (tests and metrics).
  struct Stats {
    std::size_t lineage_hits = 0, lineage_misses = 0;
    std::size_t task_hits = 0, task_misses = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::server::auth
