#pragma once
// A background service: RunOnce(stop_token) called in a loop on its own thread, every
// `interval` seconds or at once when woken. Singleton work checks a LeaderLease inside
// RunOnce. Stop() interrupts the wait and joins the thread.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::services {

class LoopService {
 public:
  LoopService(std::string name, double interval_seconds, std::shared_ptr<spdlog::logger> logger);
  virtual ~LoopService();
  LoopService(const LoopService&) = delete;
  LoopService& operator=(const LoopService&) = delete;

  void Start();
  // Idempotent. Derived classes call it first in their destructor.
  void Stop();
  // Runs the next iteration as soon as the current one (if any) ends.
  void Wake();

  const std::string& name() const { return name_; }

 protected:
  // One iteration. Must not throw; returns early when `stop` is requested.
  virtual void RunOnce(std::stop_token stop) = 0;
  spdlog::logger& logger() const { return *logger_; }
  const std::shared_ptr<spdlog::logger>& logger_ptr() const { return logger_; }

 private:
  void Loop(std::stop_token stop);

  std::string name_;
  double interval_seconds_;
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool woken_ = false;
  std::jthread thread_;
};

}  // namespace weft::server::services
