#include "server/services/loop_service.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace weft::server::services {

LoopService::LoopService(std::string name, double interval_seconds,
                         std::shared_ptr<spdlog::logger> logger)
    : name_(std::move(name)), interval_seconds_(interval_seconds), logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
}

LoopService::~LoopService() { Stop(); }

void LoopService::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token st) { Loop(st); });
  logger_->info("service started name={} interval={}s", name_, interval_seconds_);
}

void LoopService::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
  logger_->info("service stopped name={}", name_);
}

void LoopService::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void LoopService::Loop(std::stop_token stop) {
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(interval_seconds_));
  while (!stop.stop_requested()) {
    {
      std::lock_guard lock(mu_);
      woken_ = false;
    }
    RunOnce(stop);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, stop, interval, [&] { return woken_; });
  }
}

}  // namespace weft::server::services
