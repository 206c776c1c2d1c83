#include "server/services/notifier.hpp"

#include <curl/curl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <vector>

#include "server/orchestration/notification_manager.hpp"
#include "server/store/notification_repo.hpp"

namespace weft::server::services {

namespace {

void GlobalCurlInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Post {
  store::DeliveryRecord delivery;
  std::string body;
  const std::vector<core::IpNetwork>* allow = nullptr;
  std::string refused;       // why a resolved address was not connected to ("" = none was)
  int opened = 0;            // sockets opened (to allowed addresses)
  std::size_t received = 0;  // response body bytes read (and dropped)
  std::size_t header_bytes = 0;
  bool body_capped = false;     // stopped reading a long body (the status is still good)
  bool headers_capped = false;  // stopped reading long headers (a failure)
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  char error[CURL_ERROR_SIZE] = {0};
  CURLcode result = CURLE_OK;
  long status = 0;
  double seconds = 0;
  bool done = false;
};

// The answer's body is counted, never kept; past the cap the transfer stops (returning
// less than given makes libcurl end it with CURLE_WRITE_ERROR).
std::size_t Discard(char*, std::size_t size, std::size_t n, void* user) {
  auto* p = static_cast<Post*>(user);
  std::size_t len = size * n;
  p->received += len;
  if (p->received > kMaxWebhookResponseBytes) {
    p->body_capped = true;
    return 0;
  }
  return len;
}

std::size_t CountHeader(char*, std::size_t size, std::size_t n, void* user) {
  auto* p = static_cast<Post*>(user);
  std::size_t len = size * n;
  p->header_bytes += len;
  if (p->header_bytes > kMaxWebhookResponseBytes) {
    p->headers_capped = true;
    return 0;
  }
  return len;
}

// libcurl asks this for every connection it opens, with the address it resolved: an
// internal address outside the allowlist gets no socket (libcurl then tries the name's
// other addresses, if any). Checking here, not the URL's host, is what makes DNS rebinding
// and names like localhost useless.
curl_socket_t OpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* p = static_cast<Post*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  sockaddr_storage storage{};
  std::memcpy(&storage, &address->addr,
              std::min<std::size_t>(address->addrlen, sizeof storage));
  std::optional<core::IpAddress> ip;
  if (address->family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(storage);
    ip = core::IpAddressFromBytes(false, reinterpret_cast<const std::uint8_t*>(&in.sin_addr));
  } else if (address->family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(storage);
    ip = core::IpAddressFromBytes(true, reinterpret_cast<const std::uint8_t*>(&in6.sin6_addr));
  }
  if (!ip) {
    p->refused = "target address family " + std::to_string(address->family) + " is not allowed";
    return CURL_SOCKET_BAD;
  }
  if (!core::AddressAllowed(*ip, *p->allow)) {
    p->refused = orchestration::WebhookRefusal(*ip);
    return CURL_SOCKET_BAD;
  }
  ++p->opened;
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// POSTs every body at once; each gets its result, status and duration.
void SendAll(std::vector<Post>& posts, double timeout_seconds,
             const std::vector<core::IpNetwork>& allow) {
  GlobalCurlInit();
  CURLM* multi = curl_multi_init();
  auto timeout_ms = static_cast<long>(std::max(0.1, timeout_seconds) * 1000);
  for (auto& p : posts) {
    p.easy = curl_easy_init();
    p.headers = curl_slist_append(nullptr, "Content-Type: application/json");
    p.headers = curl_slist_append(p.headers, "User-Agent: weft-server");
    curl_easy_setopt(p.easy, CURLOPT_URL, p.delivery.webhook_url.c_str());
    curl_easy_setopt(p.easy, CURLOPT_HTTPHEADER, p.headers);
    curl_easy_setopt(p.easy, CURLOPT_POSTFIELDS, p.body.c_str());
    curl_easy_setopt(p.easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(p.body.size()));
    curl_easy_setopt(p.easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(p.easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(p.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p.easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(p.easy, CURLOPT_MAXREDIRS, 0L);
    curl_easy_setopt(p.easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(p.easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    // Straight to the target: a proxy from the environment would be the socket checked.
    curl_easy_setopt(p.easy, CURLOPT_PROXY, "");
    p.allow = &allow;
    curl_easy_setopt(p.easy, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
    curl_easy_setopt(p.easy, CURLOPT_OPENSOCKETDATA, &p);
    curl_easy_setopt(p.easy, CURLOPT_ERRORBUFFER, p.error);
    curl_easy_setopt(p.easy, CURLOPT_WRITEFUNCTION, &Discard);
    curl_easy_setopt(p.easy, CURLOPT_WRITEDATA, &p);
    curl_easy_setopt(p.easy, CURLOPT_HEADERFUNCTION, &CountHeader);
    curl_easy_setopt(p.easy, CURLOPT_HEADERDATA, &p);
    curl_easy_setopt(p.easy, CURLOPT_PRIVATE, &p);
    curl_multi_add_handle(multi, p.easy);
  }
  int running = 0;
  do {
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Post* p = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&p));
      if (!p) continue;
      p->result = msg->data.result;
      // A long body cut short still answered: its status counts.
      if (p->result == CURLE_WRITE_ERROR && p->body_capped) p->result = CURLE_OK;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &p->status);
      curl_off_t us = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME_T, &us);
      p->seconds = static_cast<double>(us) / 1e6;
      p->done = true;
    }
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 200, nullptr);
  } while (running > 0);
  for (auto& p : posts) {
    curl_multi_remove_handle(multi, p.easy);
    curl_easy_cleanup(p.easy);
    curl_slist_free_all(p.headers);
    p.easy = nullptr;
    p.headers = nullptr;
  }
  curl_multi_cleanup(multi);
}

std::string Trim(std::string s) {
  for (auto& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

double NotifierBackoff(const NotifierOptions& o, int attempts_done) {
  double b = o.backoff_seconds * std::pow(2.0, std::max(0, attempts_done - 1));
  return std::min(b, o.max_backoff_seconds);
}

Notifier::Notifier(store::Database& db, const core::Clock& clock, NotifierOptions options,
                   std::shared_ptr<spdlog::logger> logger)
    : LoopService("notifier", options.interval_seconds, std::move(logger)),
      db_(db),
      clock_(clock),
      options_(std::move(options)) {
  if (options_.use_lease) {
    lease_ = std::make_unique<LeaderLease>(db_, clock_, "notifier",
                                           std::max(30.0, 3 * options_.interval_seconds),
                                           options_.holder);
  }
  if (options_.listen) {
    listener_ = std::make_unique<store::NotificationListener>(
        db_.options().url, kNotificationsChannel, [this](const std::string&) { Wake(); },
        logger_ptr(), [this] { Wake(); });
  }
}

Notifier::~Notifier() {
  Stop();
  listener_.reset();
  if (lease_) lease_->Release();
}

core::Result<NotifierPassStats> Notifier::RunPass() {
  NotifierPassStats stats;
  if (lease_ && !lease_->Hold()) return stats;
  ++passes_;
  auto due = db_.WithTransaction([&](store::Tx& tx) -> core::Result<std::vector<store::DeliveryRecord>> {
    return store::NotificationRepo::LockDue(tx, clock_.Now(), std::max(1, options_.batch));
  });
  if (!due.ok()) return due.error();
  if (due->empty()) return stats;
  std::vector<Post> posts(due->size());
  for (std::size_t i = 0; i < due->size(); ++i) {
    posts[i].delivery = std::move((*due)[i]);
    posts[i].body = orchestration::BuildNotificationPayload(
        posts[i].delivery, posts[i].delivery.format, options_.dashboard_url);
  }
  SendAll(posts, options_.timeout_seconds, options_.allow_networks);
  auto now = clock_.Now();
  struct Outcome {
    std::int64_t id;
    std::string status;
    core::TimePoint next;
    std::string error;
    std::optional<int> http;
  };
  std::vector<Outcome> outcomes;
  for (auto& p : posts) {
    const auto& d = p.delivery;
    int attempts = d.attempts + 1;
    Outcome o{d.id, "delivered", now, "", std::nullopt};
    std::string outcome = "delivered";
    if (p.done && p.result == CURLE_OK) o.http = static_cast<int>(p.status);
    bool ok = p.done && p.result == CURLE_OK && p.status >= 200 && p.status < 300;
    if (!ok) {
      bool permanent = false;
      if (!p.done) {
        o.error = "not sent";
      } else if (p.result != CURLE_OK && !p.refused.empty() && p.opened == 0) {
        // Every address of the target was refused: retrying would not help until the
        // operator allows the network.
        o.error = p.refused;
        permanent = true;
      } else if (p.result != CURLE_OK && p.headers_capped) {
        o.error = "response headers larger than " + std::to_string(kMaxWebhookResponseBytes) +
                  " bytes";
      } else if (p.result != CURLE_OK) {
        o.error = p.error[0] ? p.error : curl_easy_strerror(p.result);
      } else {
        // The status only: the target's answer may be anything, it is not stored.
        o.error = "HTTP " + std::to_string(p.status);
        permanent = p.status >= 400 && p.status < 500 && p.status != 408 && p.status != 429;
      }
      o.error = Trim(o.error);
      if (permanent || attempts >= options_.max_attempts) {
        o.status = "failed";
        outcome = "failed";
        ++stats.failed;
        logger().warn(
            "notification failed delivery_id={} flow_run_id={} attempts={} error=\"{}\"", d.id,
            d.flow_run_id, attempts, o.error);
      } else {
        o.status = "pending";
        o.next = now + core::FromSeconds(NotifierBackoff(options_, attempts));
        outcome = "retry";
        ++stats.retried;
        logger().info("notification retry delivery_id={} attempt={} in={}s error=\"{}\"", d.id,
                      attempts, NotifierBackoff(options_, attempts), o.error);
      }
    } else {
      ++stats.delivered;
      logger().debug("notification delivered delivery_id={} flow_run_id={} state={}", d.id,
                     d.flow_run_id, d.state_name);
    }
    ++stats.attempts;
    if (options_.on_attempt) options_.on_attempt(outcome, p.seconds);
    outcomes.push_back(std::move(o));
  }
  auto recorded = db_.WithRetry([&](store::Tx& tx) -> core::Result<bool> {
    for (const auto& o : outcomes) {
      store::NotificationRepo::RecordAttempt(tx, o.id, o.status, o.next, o.error, o.http, now);
    }
    return true;
  });
  if (!recorded.ok()) return recorded.error();
  return stats;
}

void Notifier::RunOnce(std::stop_token stop) {
  // Full rounds go on at once (bounded, so a stop is seen soon).
  for (int i = 0; i < 20 && !stop.stop_requested(); ++i) {
    auto r = RunPass();
    if (!r.ok()) {
      logger().warn("notifier pass failed error=\"{}\"", r.error().message);
      return;
    }
    if (r->attempts < options_.batch) return;
  }
}

}  // namespace weft::server::services
