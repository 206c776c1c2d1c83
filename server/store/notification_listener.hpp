#pragma once
// LISTEN on a PostgreSQL channel from a dedicated connection and thread, so that one
// replica's change wakes another replica's services. Reconnects after errors.
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include "server/store/database.hpp"

namespace weft::server::store {

class NotificationListener {
 public:
  // `on_notify` runs on the listener's thread with the payload. `on_connected` (optional)
  // runs there after each (re)connection has issued LISTEN: notifications sent while the
  // connection was down are lost, so a listener that must not miss one rechecks then.
  NotificationListener(std::string url, std::string channel,
                       std::function<void(const std::string& payload)> on_notify,
                       std::shared_ptr<spdlog::logger> logger,
                       std::function<void()> on_connected = {});
  ~NotificationListener();
  NotificationListener(const NotificationListener&) = delete;
  NotificationListener& operator=(const NotificationListener&) = delete;

 private:
  void Loop(std::stop_token stop);

  std::string url_;
  std::string channel_;
  std::function<void(const std::string&)> on_notify_;
  std::shared_ptr<spdlog::logger> logger_;
  std::function<void()> on_connected_;
  std::jthread thread_;
};

// Channel names used by the server.
inline constexpr const char* kDeploymentsChannel = "weft_deployments";
// Wake-ups for waiting agent polls: payload "q:<work queue>" or "a:<agent id>" (sent by
// the triggers of migration 0005 and by AgentRepo::NotifyAgent).
inline constexpr const char* kDispatchChannel = "weft_dispatch";

}  // namespace weft::server::store
