#pragma once
// Tag concurrency limits (docs/concurrency-limits.md): the limits themselves, the slots task
// runs hold (SlotBook, used inside the transactions that decide RUNNING) and the long poll
// WaitForConcurrencySlot (a waiting call holds no thread: one thread here checks and times
// out every waiter). Wake-ups come from NOTIFY weft_concurrency '<tag>' (sent by migration
// 0008's triggers whenever a slot is released, on any replica) and from this process.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sdk/core/bounds.hpp"
#include "sdk/core/error.hpp"
#include "sdk/core/orchestration/rule.hpp"
#include "server/orchestration/run_service.hpp"
#include "server/orchestration/set_state.hpp"
#include "server/store/concurrency_repo.hpp"

namespace weft::server::store {
class NotificationListener;
}

namespace weft::server::orchestration {

// The concurrency facts of one transaction that decides RUNNING for task runs (locked).
class SlotBook {
 public:
  // Locks the limits on these task runs' tags (FOR UPDATE, tag order) and reads their live
  // holders. Costs one statement when no run carries a limited tag.
  static SlotBook Load(store::Tx& tx, const std::vector<std::string>& task_run_ids,
                       core::TimePoint live_after);
  bool Limited(const std::string& run_id) const { return limits_.count(run_id) > 0; }
  // The run's limits with their holders other than the run itself (empty: not limited).
  std::vector<core::orchestration::TagLimit> For(const std::string& run_id) const;
  // In-memory bookkeeping while a batch decides: the run entered / left RUNNING.
  void Hold(const std::string& run_id, core::TimePoint now);
  void Release(const std::string& run_id);
  // Records the slots of these runs (all their limited tags).
  void Secure(store::Tx& tx, const std::vector<std::string>& run_ids, core::TimePoint now) const;

 private:
  std::map<std::string, std::vector<core::orchestration::TagLimit>> limits_;  // holders empty
  std::map<std::string, std::vector<core::orchestration::SlotHolder>> holders_;  // by tag
};

struct SlotWaitResult {
  bool available = false;  // false: the wait timed out
  std::string tag;
};

class ConcurrencyManager {
 public:
  static constexpr double kDefaultWaitSeconds = 30;
  static constexpr double kMaxWaitSeconds = 60;

  // `listen`: LISTEN weft_concurrency on its own connection (off in tests that need none).
  // `max_waiters`: waits at once beyond which StartWait refuses (RESOURCE_EXHAUSTED).
  ConcurrencyManager(Orchestrator& orch, bool listen, std::shared_ptr<spdlog::logger> logger,
                     int max_waiters = core::bounds::kDefaultMaxSlotWaiters);
  ~ConcurrencyManager();
  ConcurrencyManager(const ConcurrencyManager&) = delete;
  ConcurrencyManager& operator=(const ConcurrencyManager&) = delete;

  core::Result<Created<store::ConcurrencyLimitRecord>> Create(const std::string& tag, int limit);
  // With its live holders (and their flow run names).
  core::Result<store::ConcurrencyLimitRecord> Get(const std::string& tag);
  core::Result<std::vector<store::ConcurrencyLimitRecord>> List();
  // At most `limit` limits after the tag `after` ("" = from the first), in SQL.
  core::Result<std::vector<store::ConcurrencyLimitRecord>> ListPage(const std::string& after,
                                                                    int limit);
  core::Result<int> Reset(const std::string& tag);
  core::Status Delete(const std::string& tag);

  using WaitDone = std::function<void(core::Result<SlotWaitResult>)>;
  static core::Status CheckWait(const std::vector<std::string>& tags, double timeout_seconds);
  // Answers through `done` exactly once (possibly before StartWait returns, on another
  // thread). Returns 0 without calling `done` when shutting down, and RESOURCE_EXHAUSTED
  // without calling it when max_waiters calls wait already.
  core::Result<std::uint64_t> StartWait(std::vector<std::string> tags, double timeout_seconds,
                                        WaitDone done);
  // The caller went away: answers CANCELLED (if not answered yet).
  void CancelWait(std::uint64_t id);
  // A slot of `tag` was freed (or the limit raised): re-check its waiters now.
  void NotifyFreed(const std::string& tag);
  // Answers every waiter (timed out) and stops accepting; called at shutdown.
  void Shutdown();
  std::size_t waiting() const;

 private:
  struct Waiter {
    std::vector<std::string> tags;
    std::chrono::steady_clock::time_point deadline;
    WaitDone done;
    std::string freed_tag;
  };
  void Loop(std::stop_token stop);

  Orchestrator& orch_;
  std::shared_ptr<spdlog::logger> logger_;
  const std::size_t max_waiters_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::map<std::uint64_t, Waiter> waiters_;
  std::vector<std::uint64_t> to_check_;
  std::jthread thread_;
  std::unique_ptr<store::NotificationListener> listener_;
};

}  // namespace weft::server::orchestration
