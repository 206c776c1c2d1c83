#include "server/orchestration/concurrency_manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "server/store/notification_listener.hpp"

namespace weft::server::orchestration {

using core::orchestration::SlotHolder;
using core::orchestration::TagLimit;

namespace {

constexpr std::size_t kMaxTagLength = 200;
constexpr int kMaxLimit = 1000000;

core::Status CheckTag(const std::string& tag, const std::string& field) {
  if (tag.empty()) return core::InvalidArgument(field + ": required (a tag)");
  if (tag.size() > kMaxTagLength) {
    return core::InvalidArgument(field + ": longer than " + std::to_string(kMaxTagLength) +
                                 " bytes");
  }
  for (char c : tag) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return core::InvalidArgument(field + ": \"" + tag + "\" contains a control character");
    }
  }
  return {};
}

core::Error LimitNotFound(const std::string& tag) {
  return core::NotFound("concurrency limit on tag \"" + tag + "\" not found");
}

}  // namespace

// ---- SlotBook -------------------------------------------------------------------------

SlotBook SlotBook::Load(store::Tx& tx, const std::vector<std::string>& task_run_ids,
                        core::TimePoint live_after) {
  SlotBook b;
  b.limits_ = store::ConcurrencyRepo::LockLimitsOfRuns(tx, task_run_ids);
  if (b.limits_.empty()) return b;
  std::set<std::string> tags;
  for (const auto& [run, limits] : b.limits_) {
    for (const auto& l : limits) tags.insert(l.tag);
  }
  b.holders_ = store::ConcurrencyRepo::Holders(
      tx, std::vector<std::string>(tags.begin(), tags.end()), live_after);
  return b;
}

std::vector<TagLimit> SlotBook::For(const std::string& run_id) const {
  auto it = limits_.find(run_id);
  if (it == limits_.end()) return {};
  std::vector<TagLimit> out = it->second;
  for (auto& l : out) {
    auto h = holders_.find(l.tag);
    if (h == holders_.end()) continue;
    for (const auto& holder : h->second) {
      if (holder.task_run_id != run_id) l.holders.push_back(holder);
    }
  }
  return out;
}

void SlotBook::Hold(const std::string& run_id, core::TimePoint now) {
  auto it = limits_.find(run_id);
  if (it == limits_.end()) return;
  for (const auto& l : it->second) {
    auto& hs = holders_[l.tag];
    bool held = std::any_of(hs.begin(), hs.end(),
                            [&](const SlotHolder& h) { return h.task_run_id == run_id; });
    if (!held) hs.push_back(SlotHolder{run_id, "", "", now});
  }
}

void SlotBook::Release(const std::string& run_id) {
  for (auto& [tag, hs] : holders_) {
    hs.erase(std::remove_if(hs.begin(), hs.end(),
                            [&](const SlotHolder& h) { return h.task_run_id == run_id; }),
             hs.end());
  }
}

void SlotBook::Secure(store::Tx& tx, const std::vector<std::string>& run_ids,
                      core::TimePoint now) const {
  std::vector<std::string> tags, ids;
  for (const auto& id : run_ids) {
    auto it = limits_.find(id);
    if (it == limits_.end()) continue;
    for (const auto& l : it->second) {
      tags.push_back(l.tag);
      ids.push_back(id);
    }
  }
  store::ConcurrencyRepo::Acquire(tx, tags, ids, now);
}

// ---- limits ---------------------------------------------------------------------------

ConcurrencyManager::ConcurrencyManager(Orchestrator& orch, bool listen,
                                       std::shared_ptr<spdlog::logger> logger, int max_waiters)
    : orch_(orch),
      logger_(std::move(logger)),
      max_waiters_(static_cast<std::size_t>(std::max(1, max_waiters))) {
  if (!logger_) logger_ = spdlog::default_logger();
  thread_ = std::jthread([this](std::stop_token st) { Loop(st); });
  if (listen) {
    listener_ = std::make_unique<store::NotificationListener>(
        orch_.db().options().url, store::kConcurrencyChannel,
        [this](const std::string& tag) { NotifyFreed(tag); }, logger_,
        // Notifications sent while the connection was down are lost: check every waiter.
        [this] {
          std::lock_guard lock(mu_);
          for (const auto& [id, w] : waiters_) to_check_.push_back(id);
          cv_.notify_all();
        });
  }
}

ConcurrencyManager::~ConcurrencyManager() {
  listener_.reset();
  Shutdown();
  thread_.request_stop();
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

core::Result<Created<store::ConcurrencyLimitRecord>> ConcurrencyManager::Create(
    const std::string& tag, int limit) {
  if (auto st = CheckTag(tag, "tag"); !st.ok()) return st.error();
  if (limit < 0) {
    return core::InvalidArgument("limit: must be >= 0, got " + std::to_string(limit));
  }
  if (limit > kMaxLimit) {
    return core::InvalidArgument("limit: must be <= " + std::to_string(kMaxLimit) + ", got " +
                                 std::to_string(limit));
  }
  auto r = orch_.db().WithRetry(
      [&](store::Tx& tx) -> core::Result<Created<store::ConcurrencyLimitRecord>> {
        bool created = false;
        auto rec = store::ConcurrencyRepo::Upsert(tx, tag, limit, created);
        return Created<store::ConcurrencyLimitRecord>{std::move(rec), created};
      });
  if (r.ok()) {
    logger_->info("concurrency_limit {} tag=\"{}\" limit={}", r->created ? "created" : "updated",
                  tag, limit);
    NotifyFreed(tag);
  }
  return r;
}

core::Result<store::ConcurrencyLimitRecord> ConcurrencyManager::Get(const std::string& tag) {
  if (auto st = CheckTag(tag, "tag"); !st.ok()) return st.error();
  core::TimePoint live_after = orch_.SlotHoldersLiveAfter(orch_.clock().Now());
  using R = core::Result<store::ConcurrencyLimitRecord>;
  return orch_.db().WithTransaction([&](store::Tx& tx) -> R {
    auto rec = store::ConcurrencyRepo::Get(tx, tag, false);
    if (!rec) return LimitNotFound(tag);
    std::map<std::string, std::string> names;
    auto holders = store::ConcurrencyRepo::Holders(tx, {tag}, live_after, &names);
    rec->holders = std::move(holders[tag]);
    rec->active_slots = static_cast<int>(rec->holders.size());
    for (const auto& h : rec->holders) rec->holder_flow_run_names.push_back(names[h.flow_run_id]);
    return std::move(*rec);
  });
}

core::Result<std::vector<store::ConcurrencyLimitRecord>> ConcurrencyManager::List() {
  core::TimePoint live_after = orch_.SlotHoldersLiveAfter(orch_.clock().Now());
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::ConcurrencyLimitRecord>> {
        return store::ConcurrencyRepo::List(tx, live_after);
      });
}

core::Result<std::vector<store::ConcurrencyLimitRecord>> ConcurrencyManager::ListPage(
    const std::string& after, int limit) {
  core::TimePoint live_after = orch_.SlotHoldersLiveAfter(orch_.clock().Now());
  return orch_.db().WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::ConcurrencyLimitRecord>> {
        return store::ConcurrencyRepo::ListPage(tx, live_after, after, limit);
      });
}

core::Result<int> ConcurrencyManager::Reset(const std::string& tag) {
  if (auto st = CheckTag(tag, "tag"); !st.ok()) return st.error();
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<int> {
    if (!store::ConcurrencyRepo::Get(tx, tag, true)) return LimitNotFound(tag);
    return store::ConcurrencyRepo::Reset(tx, tag);
  });
  if (r.ok()) {
    logger_->info("concurrency_limit reset tag=\"{}\" freed={}", tag, *r);
    NotifyFreed(tag);
  }
  return r;
}

core::Status ConcurrencyManager::Delete(const std::string& tag) {
  if (auto st = CheckTag(tag, "tag"); !st.ok()) return st;
  auto r = orch_.db().WithRetry([&](store::Tx& tx) -> core::Result<bool> {
    return store::ConcurrencyRepo::Delete(tx, tag);
  });
  if (!r.ok()) return r.error();
  if (!*r) return LimitNotFound(tag);
  logger_->info("concurrency_limit deleted tag=\"{}\"", tag);
  NotifyFreed(tag);
  return {};
}

// ---- waiting for a slot ---------------------------------------------------------------

core::Status ConcurrencyManager::CheckWait(const std::vector<std::string>& tags,
                                           double timeout_seconds) {
  if (tags.empty()) return core::InvalidArgument("tags: name at least one tag");
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (auto st = CheckTag(tags[i], "tags[" + std::to_string(i) + "]"); !st.ok()) return st;
  }
  if (timeout_seconds < 0 || timeout_seconds > kMaxWaitSeconds) {
    return core::InvalidArgument("timeout_seconds: must be between 0 and " +
                                 std::to_string(static_cast<int>(kMaxWaitSeconds)) + ", got " +
                                 std::to_string(timeout_seconds));
  }
  return {};
}

core::Result<std::uint64_t> ConcurrencyManager::StartWait(std::vector<std::string> tags,
                                                          double timeout_seconds, WaitDone done) {
  if (timeout_seconds <= 0) timeout_seconds = kDefaultWaitSeconds;
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  std::unique_lock lock(mu_);
  if (stopping_) return std::uint64_t{0};  // shutting down: the caller answers (not available)
  if (waiters_.size() >= max_waiters_) {
    return core::Error{core::Code::kResourceExhausted,
                       "WaitForConcurrencySlot: " + std::to_string(max_waiters_) +
                           " calls wait already on this server (--max-slot-waiters); retry later"};
  }
  std::uint64_t id = next_id_++;
  Waiter w;
  w.tags = std::move(tags);
  w.deadline = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<long>(timeout_seconds * 1000));
  w.done = std::move(done);
  waiters_.emplace(id, std::move(w));
  to_check_.push_back(id);  // subscribed first, then checked: no free slot goes unseen
  cv_.notify_all();
  return id;
}

void ConcurrencyManager::CancelWait(std::uint64_t id) {
  WaitDone done;
  {
    std::lock_guard lock(mu_);
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    done = std::move(it->second.done);
    waiters_.erase(it);
  }
  done(core::Error{core::Code::kCancelled, "wait cancelled by the caller"});
}

void ConcurrencyManager::NotifyFreed(const std::string& tag) {
  std::lock_guard lock(mu_);
  bool any = false;
  for (auto& [id, w] : waiters_) {
    if (tag.empty() || std::binary_search(w.tags.begin(), w.tags.end(), tag)) {
      if (!tag.empty()) w.freed_tag = tag;
      to_check_.push_back(id);
      any = true;
    }
  }
  if (any) cv_.notify_all();
}

void ConcurrencyManager::Shutdown() {
  std::map<std::uint64_t, Waiter> all;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    all.swap(waiters_);
    to_check_.clear();
  }
  for (auto& [id, w] : all) w.done(SlotWaitResult{});
}

std::size_t ConcurrencyManager::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

void ConcurrencyManager::Loop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    // Timeouts.
    auto now = std::chrono::steady_clock::now();
    std::vector<WaitDone> timed_out;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.deadline <= now) {
        timed_out.push_back(std::move(it->second.done));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<std::uint64_t> ids;
    ids.swap(to_check_);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (!timed_out.empty() || !ids.empty()) {
      lock.unlock();
      for (auto& d : timed_out) d(SlotWaitResult{});
      for (std::uint64_t id : ids) {
        std::vector<std::string> tags;
        {
          std::lock_guard l(mu_);
          auto it = waiters_.find(id);
          if (it == waiters_.end()) continue;
          tags = it->second.tags;
        }
        core::TimePoint live_after = orch_.SlotHoldersLiveAfter(orch_.clock().Now());
        auto full = orch_.db().WithTransaction(
            [&](store::Tx& tx) -> core::Result<std::vector<std::string>> {
              return store::ConcurrencyRepo::FullTags(tx, tags, live_after);
            });
        if (full.ok() && !full->empty()) continue;  // still full: wait for the next release
        WaitDone done;
        SlotWaitResult result;
        {
          std::lock_guard l(mu_);
          auto it = waiters_.find(id);
          if (it == waiters_.end()) continue;
          done = std::move(it->second.done);
          result.available = true;
          result.tag = it->second.freed_tag.empty() ? it->second.tags.front()
                                                    : it->second.freed_tag;
          waiters_.erase(it);
        }
        if (!full.ok()) {
          logger_->warn("concurrency slot check failed error=\"{}\"", full.error().message);
          done(full.error());
        } else {
          done(result);
        }
      }
      lock.lock();
      continue;
    }
    auto next = std::chrono::steady_clock::time_point::max();
    for (const auto& [id, w] : waiters_) next = std::min(next, w.deadline);
    if (next == std::chrono::steady_clock::time_point::max()) {
      cv_.wait(lock, stop, [&] { return !to_check_.empty(); });
    } else {
      cv_.wait_until(lock, stop, next, [&] { return !to_check_.empty(); });
    }
  }
}

}  // namespace weft::server::orchestration
