#include "server/store/notification_listener.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "server/store/pg_util.hpp"

namespace weft::server::store {

namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const std::string& channel,
           const std::function<void(const std::string&)>& fn)
      : pqxx::notification_receiver(c, channel), fn_(fn) {}
  void operator()(const std::string& payload, int) override { fn_(payload); }

 private:
  const std::function<void(const std::string&)>& fn_;
};

}  // namespace

NotificationListener::NotificationListener(std::string url, std::string channel,
                                           std::function<void(const std::string&)> on_notify,
                                           std::shared_ptr<spdlog::logger> logger,
                                           std::function<void()> on_connected)
    : url_(std::move(url)),
      channel_(std::move(channel)),
      on_notify_(std::move(on_notify)),
      logger_(std::move(logger)),
      on_connected_(std::move(on_connected)) {
  if (!logger_) logger_ = spdlog::default_logger();
  thread_ = std::jthread([this](std::stop_token st) { Loop(st); });
}

NotificationListener::~NotificationListener() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void NotificationListener::Loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    try {
      pqxx::connection conn(url_);
      Receiver receiver(conn, channel_, on_notify_);
      if (on_connected_) on_connected_();
      while (!stop.stop_requested()) conn.await_notification(0, 200000);  // 0.2 s
    } catch (...) {
      core::Error e = TranslateCurrentException();
      logger_->warn("listen failed channel={} error=\"{}\" (retrying in 1s)", channel_, e.message);
      for (int i = 0; i < 10 && !stop.stop_requested(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
}

}  // namespace weft::server::store
