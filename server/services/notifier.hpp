#pragma once
// The notifier: sends the deliveries outbox (notification_deliveries, filled by the
// flow_run_states trigger of migration 0007) to the policies' webhooks. A LoopService
// holding the "notifier" lease, woken by NOTIFY weft_notifications; it reads a batch of due
// deliveries in a short transaction, POSTs them concurrently (libcurl multi, a short
// timeout each) with no transaction open, then records every attempt in one transaction.
// A failed attempt is retried after backoff * 2^(attempt-1) (capped) until max_attempts;
// a 4xx answer other than 408/429 fails at once. Orchestration never waits for it.
//
// Webhooks cannot reach the inside: every socket the notifier opens is checked after name
// resolution (libcurl's open-socket callback gets the resolved address), and an internal
// address (loopback, private, link-local, ... see core::InternalAddressKind) outside
// allow_networks is never connected to; the delivery fails at once with the reason. No
// redirects are followed, only http/https, no proxy from the environment, and of the answer
// only the status code is kept (the body is read up to kMaxWebhookResponseBytes, then the
// transfer stops).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/core/net_policy.hpp"
#include "sdk/core/time.hpp"
#include "server/services/leader_lease.hpp"
#include "server/services/loop_service.hpp"
#include "server/store/database.hpp"
#include "server/store/notification_listener.hpp"

namespace weft::server::services {

// How much of a webhook's answer is read (body, and headers separately) before the notifier
// stops reading; the body is never stored.
inline constexpr std::size_t kMaxWebhookResponseBytes = 64 * 1024;

struct NotifierOptions {
  double interval_seconds = 2;  // loop interval (a NOTIFY wakes it at once)
  int batch = 50;               // deliveries sent concurrently per round
  int max_attempts = 5;
  double backoff_seconds = 2;  // first retry after this, doubling
  double max_backoff_seconds = 600;
  double timeout_seconds = 5;  // per POST: connect + answer
  // Internal networks webhooks may reach anyway (--webhook-allow-network).
  std::vector<core::IpNetwork> allow_networks;
  std::string dashboard_url;   // "http://127.0.0.1:4200"; "" = no link in payloads
  bool use_lease = true;
  bool listen = true;   // LISTEN weft_notifications
  std::string holder;   // lease holder id ("" = host:pid:random)
  // Called after every attempt with "delivered" | "retry" | "failed" and its duration.
  std::function<void(std::string_view outcome, double seconds)> on_attempt;
};

struct NotifierPassStats {
  int attempts = 0;
  int delivered = 0;
  int retried = 0;
  int failed = 0;
};

class Notifier final : public LoopService {
 public:
  Notifier(store::Database& db, const core::Clock& clock, NotifierOptions options,
           std::shared_ptr<spdlog::logger> logger);
  ~Notifier() override;

  // One round now on the caller's thread: due deliveries (at most `batch`) sent and recorded.
  // Checks the lease first when use_lease.
  core::Result<NotifierPassStats> RunPass();
  std::uint64_t passes() const { return passes_.load(); }

 protected:
  void RunOnce(std::stop_token stop) override;

 private:
  store::Database& db_;
  const core::Clock& clock_;
  NotifierOptions options_;
  std::unique_ptr<LeaderLease> lease_;
  std::unique_ptr<store::NotificationListener> listener_;
  std::atomic<std::uint64_t> passes_{0};
};

// Backoff before attempt `attempts_done + 1`: backoff * 2^(attempts_done - 1), capped.
double NotifierBackoff(const NotifierOptions& o, int attempts_done);

inline constexpr const char* kNotificationsChannel = "weft_notifications";

}  // namespace weft::server::services
