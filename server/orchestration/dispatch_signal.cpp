#include "server/orchestration/dispatch_signal.hpp"

#include <algorithm>

namespace weft::server::orchestration {

std::uint64_t DispatchSignal::Subscribe(std::vector<std::string> queues, std::string agent_id,
                                        Callback cb) {
  std::lock_guard lock(mu_);
  std::uint64_t id = next_id_++;
  subs_.emplace(id, Subscription{std::move(queues), std::move(agent_id), std::move(cb)});
  return id;
}

void DispatchSignal::Unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mu_);
  subs_.erase(id);
}

void DispatchSignal::Fire(const std::vector<Callback>& cbs, Reason reason) {
  for (const auto& cb : cbs) cb(reason);
}

void DispatchSignal::NotifyQueue(const std::string& queue) {
  std::vector<Callback> cbs;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : subs_) {
      if (std::find(s.queues.begin(), s.queues.end(), queue) != s.queues.end()) {
        cbs.push_back(s.cb);
      }
    }
  }
  Fire(cbs, Reason::kQueue);
}

void DispatchSignal::NotifyAgent(const std::string& agent_id) {
  std::vector<Callback> cbs;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : subs_) {
      if (s.agent_id == agent_id) cbs.push_back(s.cb);
    }
  }
  Fire(cbs, Reason::kAgent);
}

void DispatchSignal::Dispatch(const std::string& payload) {
  if (payload.rfind("q:", 0) == 0) return NotifyQueue(payload.substr(2));
  if (payload.rfind("a:", 0) == 0) return NotifyAgent(payload.substr(2));
  std::vector<Callback> cbs;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : subs_) cbs.push_back(s.cb);
  }
  Fire(cbs, Reason::kQueue);
}

std::size_t DispatchSignal::size() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

}  // namespace weft::server::orchestration
