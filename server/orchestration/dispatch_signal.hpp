#pragma once
// The wake-up registry for waiting agent polls. A waiting poll subscribes to its work
// queues and its agent id; NotifyQueue / NotifyAgent (from this process, or Dispatch() of a
// NOTIFY payload "q:<queue>" / "a:<agent id>" that another replica or a trigger sent) call
// the matching subscribers' callbacks. No I/O, no gRPC.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace weft::server::orchestration {

class DispatchSignal {
 public:
  enum class Reason { kQueue, kAgent };
  using Callback = std::function<void(Reason)>;

  // Returns the subscription id (never 0).
  std::uint64_t Subscribe(std::vector<std::string> queues, std::string agent_id, Callback cb);
  // After it returns, the callback is no longer called for new notifications (a call
  // already in progress on another thread may still finish).
  void Unsubscribe(std::uint64_t id);

  // Callbacks run on the caller's thread, outside the registry's lock.
  void NotifyQueue(const std::string& queue);
  void NotifyAgent(const std::string& agent_id);
  // A NOTIFY payload: "q:<queue>" or "a:<agent id>"; anything else wakes every subscriber.
  void Dispatch(const std::string& payload);

  std::size_t size() const;

 private:
  struct Subscription {
    std::vector<std::string> queues;
    std::string agent_id;
    Callback cb;
  };
  void Fire(const std::vector<Callback>& cbs, Reason reason);

  mutable std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Subscription> subs_;
};

}  // namespace weft::server::orchestration
