#include "server/api/call_limits.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sdk/core/field_limits.hpp"

namespace weft::server::api {

namespace {

using Clock = std::chrono::steady_clock;

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// The calls in flight and the thread that cancels those past their limit. TryCancel runs
// outside the lock (it may finish a callback reactor inline, which removes its call); a
// removal from another thread waits until a cancel of that call is over, so the context is
// alive for as long as the watchdog uses it.
class Watchdog {
 public:
  Watchdog(CallLimits limits, std::shared_ptr<spdlog::logger> logger)
      : limits_(limits), logger_(std::move(logger)), thread_([this] { Loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  std::uint64_t Add(grpc::ServerContextBase* ctx, std::string method, bool stream) {
    std::lock_guard lock(mu_);
    std::uint64_t id = next_id_++;
    auto now = Clock::now();
    calls_.emplace(id, Entry{ctx, std::move(method), stream, now, now});
    return id;
  }
  void Touch(std::uint64_t id) {
    std::lock_guard lock(mu_);
    if (auto it = calls_.find(id); it != calls_.end()) it->second.last = Clock::now();
  }
  void Remove(std::uint64_t id) {
    std::unique_lock lock(mu_);
    if (std::this_thread::get_id() != thread_.get_id()) {
      cv_.wait(lock, [&] {
        auto it = calls_.find(id);
        return it == calls_.end() || !it->second.cancelling;
      });
    }
    calls_.erase(id);
  }

 private:
  struct Entry {
    grpc::ServerContextBase* ctx;
    std::string method;
    bool stream;
    Clock::time_point start;
    Clock::time_point last;  // the last message in either direction (streams)
    bool fired = false;
    bool cancelling = false;
  };

  // "" while within its limits; else which limit it passed.
  std::string Exceeded(const Entry& e, Clock::time_point now) const {
    char buf[160];
    if (!e.stream && now - e.start > Seconds(limits_.rpc_timeout_seconds)) {
      std::snprintf(buf, sizeof buf, "ran longer than %gs (--rpc-timeout)",
                    limits_.rpc_timeout_seconds);
      return buf;
    }
    if (e.stream && now - e.start > Seconds(limits_.transfer_timeout_seconds)) {
      std::snprintf(buf, sizeof buf, "stream ran longer than %gs (--transfer-timeout)",
                    limits_.transfer_timeout_seconds);
      return buf;
    }
    if (e.stream && now - e.last > Seconds(limits_.stream_idle_timeout_seconds)) {
      std::snprintf(buf, sizeof buf, "stream idle for more than %gs (--stream-idle-timeout)",
                    limits_.stream_idle_timeout_seconds);
      return buf;
    }
    return {};
  }

  void Loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(250));
      if (stop_) break;
      auto now = Clock::now();
      std::vector<std::uint64_t> due;
      for (auto& [id, e] : calls_) {
        if (e.fired) continue;
        std::string why = Exceeded(e, now);
        if (why.empty()) continue;
        e.fired = true;
        e.cancelling = true;
        logger_->warn("call cancelled method={} reason=\"{}\"", e.method, why);
        due.push_back(id);
      }
      for (std::uint64_t id : due) {
        grpc::ServerContextBase* ctx = calls_.at(id).ctx;
        lock.unlock();
        ctx->TryCancel();
        lock.lock();
        if (auto it = calls_.find(id); it != calls_.end()) it->second.cancelling = false;
        cv_.notify_all();
      }
    }
  }

  CallLimits limits_;
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::uint64_t, Entry> calls_;
  std::uint64_t next_id_ = 1;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

class CallLimiter final : public grpc::experimental::Interceptor {
 public:
  CallLimiter(grpc::experimental::ServerRpcInfo* info, std::shared_ptr<Watchdog> watchdog)
      : watchdog_(std::move(watchdog)) {
    using Type = grpc::experimental::ServerRpcInfo::Type;
    stream_ = info->type() != Type::UNARY;
    id_ = watchdog_->Add(info->server_context(), info->method() ? info->method() : "", stream_);
  }
  ~CallLimiter() override { Done(); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (stream_ && (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) ||
                    methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE))) {
      watchdog_->Touch(id_);
    }
    // The handler is done: its context must not be cancelled from now on.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Done();
      // An error message travels in the reply's headers; one that echoes a huge input (a
      // 100 KiB name in "not found") would exceed the client's metadata limit and turn the
      // answer into RESOURCE_EXHAUSTED. Cut it to a size every client accepts.
      grpc::Status status = methods->GetSendStatus();
      if (status.error_message().size() > core::limits::kMaxStatusMessageBytes) {
        methods->ModifySendStatus(grpc::Status(
            status.error_code(),
            core::CutText(status.error_message(), core::limits::kMaxStatusMessageBytes),
            status.error_details()));
      }
    }
    methods->Proceed();
  }

 private:
  void Done() {
    if (done_) return;
    done_ = true;
    watchdog_->Remove(id_);
  }

  std::shared_ptr<Watchdog> watchdog_;
  std::uint64_t id_ = 0;
  bool stream_ = false;
  bool done_ = false;
};

class CallLimitsFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  CallLimitsFactory(CallLimits limits, std::shared_ptr<spdlog::logger> logger)
      : watchdog_(std::make_shared<Watchdog>(limits, std::move(logger))) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallLimiter(info, watchdog_);
  }

 private:
  std::shared_ptr<Watchdog> watchdog_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeCallLimitsFactory(
    CallLimits limits, std::shared_ptr<spdlog::logger> logger) {
  if (!logger) logger = spdlog::default_logger();
  return std::make_unique<CallLimitsFactory>(limits, std::move(logger));
}

}  // namespace weft::server::api
