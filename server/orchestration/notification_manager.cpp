#include "server/orchestration/notification_manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "server/orchestration/validate.hpp"

namespace weft::server::orchestration {

namespace {

constexpr std::size_t kMaxTagLength = 100;
constexpr std::size_t kMaxUrlLength = 2048;
constexpr std::size_t kMaxItems = 50;

const std::vector<std::string>& StateNames() {
  static const std::vector<std::string> names = {
      "Scheduled", "Late",      "AwaitingRetry", "Pending",   "Running",
      "Retrying",  "Completed", "Cached",        "Failed",    "TimedOut",
      "Cancelling", "Cancelled", "Crashed",      "Paused"};
  return names;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

core::Error NotFound(const std::string& id) {
  return core::NotFound("notification " + Quoted(id) + " not found (run `weft notification ls`)");
}

}  // namespace

std::string WebhookRefusal(const core::IpAddress& address) {
  return "target address " + core::FormatIpAddress(address) + " is not allowed (" +
         core::InternalAddressKind(address) +
         "); an operator can allow it with weft-server --webhook-allow-network CIDR";
}

NotificationManager::NotificationManager(store::Database& db,
                                         std::shared_ptr<spdlog::logger> logger,
                                         std::vector<core::IpNetwork> webhook_allow)
    : db_(db), logger_(std::move(logger)), webhook_allow_(std::move(webhook_allow)) {
  if (!logger_) logger_ = spdlog::default_logger();
}

std::optional<std::string> NotificationManager::CanonicalStateName(const std::string& name) {
  std::string l = Lower(name);
  for (const auto& n : StateNames()) {
    if (Lower(n) == l) return n;
  }
  return std::nullopt;
}

std::string NotificationManager::Check(NotificationSpec& spec,
                                       const std::vector<core::IpNetwork>& webhook_allow) {
  if (spec.states.empty()) return "states: at least one state name is required (e.g. Failed)";
  if (spec.states.size() > kMaxItems) return "states: at most 50";
  std::vector<std::string> states;
  for (std::size_t i = 0; i < spec.states.size(); ++i) {
    auto canonical = CanonicalStateName(spec.states[i]);
    if (!canonical) {
      std::string all;
      for (const auto& n : StateNames()) all += (all.empty() ? "" : ", ") + n;
      return "states[" + std::to_string(i) + "]: unknown state " + Quoted(spec.states[i]) +
             " (one of " + all + ")";
    }
    if (std::find(states.begin(), states.end(), *canonical) == states.end()) {
      states.push_back(*canonical);
    }
  }
  spec.states = std::move(states);
  if (spec.tags.size() > kMaxItems) return "tags: at most 50";
  for (std::size_t i = 0; i < spec.tags.size(); ++i) {
    const auto& t = spec.tags[i];
    if (t.empty()) return "tags[" + std::to_string(i) + "]: must not be empty";
    if (t.size() > kMaxTagLength) return "tags[" + std::to_string(i) + "]: longer than 100 bytes";
  }
  const auto& url = spec.webhook_url;
  if (url.empty()) return "webhook_url: required (http://... or https://...)";
  if (url.size() > kMaxUrlLength) return "webhook_url: longer than 2048 bytes";
  bool http = url.rfind("http://", 0) == 0 && url.size() > 7;
  bool https = url.rfind("https://", 0) == 0 && url.size() > 8;
  if (!http && !https) {
    return "webhook_url: " + Quoted(url) + " must start with http:// or https://";
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return "webhook_url: must not contain spaces or control characters";
  }
  if (auto ip = core::ParseHostAddress(core::UrlHost(url));
      ip && !core::AddressAllowed(*ip, webhook_allow)) {
    return "webhook_url: " + WebhookRefusal(*ip);
  }
  spec.format = Lower(spec.format);
  if (spec.format.empty()) spec.format = "json";
  if (spec.format != "json" && spec.format != "slack") {
    return "format: " + Quoted(spec.format) + " is not one of json, slack";
  }
  return {};
}

core::Result<store::NotificationPolicyRecord> NotificationManager::Create(NotificationSpec spec) {
  std::string problem = Check(spec, webhook_allow_);
  if (!problem.empty()) return core::InvalidArgument(problem);
  store::NotificationPolicyRecord p;
  p.states = spec.states;
  p.tags = spec.tags;
  p.webhook_url = spec.webhook_url;
  p.format = spec.format;
  auto r = db_.WithTransaction([&](store::Tx& tx) -> core::Result<store::NotificationPolicyRecord> {
    // Counted under a lock, so concurrent creates cannot pass the cap together.
    if (store::NotificationRepo::LockAndCount(tx) >= kMaxPolicies) {
      return core::Error{
          core::Code::kResourceExhausted,
          "notifications: at most " + std::to_string(kMaxPolicies) +
          " policies per server; delete one first (`weft notification ls`, `weft notification "
          "delete ID`)"};
    }
    return store::NotificationRepo::Insert(tx, p);
  });
  if (r.ok()) {
    logger_->info("notification created id={} states={} tags={} format={}", r->id,
                  r->states.size(), r->tags.size(), r->format);
  }
  return r;
}

core::Result<std::vector<store::NotificationPolicyRecord>> NotificationManager::List() {
  return db_.WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::NotificationPolicyRecord>> {
        return store::NotificationRepo::List(tx);
      });
}

core::Result<std::vector<store::NotificationPolicyRecord>> NotificationManager::ListPage(
    const std::string& after_id, int limit) {
  if (!after_id.empty() && !IsUuid(after_id)) {
    return core::InvalidArgument("cursor: \"" + after_id + "\" is not a notification id");
  }
  return db_.WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::NotificationPolicyRecord>> {
        return store::NotificationRepo::ListPage(tx, after_id, limit);
      });
}

core::Result<store::NotificationPolicyRecord> NotificationManager::SetPaused(const std::string& id,
                                                                             bool paused) {
  if (!IsUuid(id)) return NotFound(id);
  std::string nid = NormalizeUuid(id);
  auto r = db_.WithTransaction([&](store::Tx& tx) -> core::Result<store::NotificationPolicyRecord> {
    auto p = store::NotificationRepo::SetPaused(tx, nid, paused);
    if (!p) return NotFound(nid);
    return *p;
  });
  if (r.ok()) logger_->info("notification {} id={}", paused ? "paused" : "resumed", nid);
  return r;
}

core::Status NotificationManager::Delete(const std::string& id) {
  if (!IsUuid(id)) return NotFound(id);
  std::string nid = NormalizeUuid(id);
  auto r = db_.WithTransaction([&](store::Tx& tx) -> core::Result<bool> {
    if (!store::NotificationRepo::Delete(tx, nid)) return NotFound(nid);
    return true;
  });
  if (!r.ok()) return r.error();
  logger_->info("notification deleted id={}", nid);
  return {};
}

core::Result<std::vector<store::DeliveryRecord>> NotificationManager::ListDeliveries(
    const std::string& policy_id, int limit) {
  if (limit < 0) return core::InvalidArgument("limit: must not be negative");
  if (limit == 0) limit = 50;
  limit = std::min(limit, kMaxDeliveries);
  std::string pid;
  if (!policy_id.empty()) {
    if (!IsUuid(policy_id)) return NotFound(policy_id);
    pid = NormalizeUuid(policy_id);
  }
  return db_.WithTransaction([&](store::Tx& tx) -> core::Result<std::vector<store::DeliveryRecord>> {
    if (!pid.empty()) {
      bool known = false;
      for (const auto& p : store::NotificationRepo::List(tx)) known = known || p.id == pid;
      if (!known) return NotFound(pid);
    }
    return store::NotificationRepo::ListDeliveries(tx, pid, limit);
  });
}

std::string BuildNotificationPayload(const store::DeliveryRecord& d, const std::string& format,
                                     const std::string& dashboard_url) {
  std::string link;
  if (!dashboard_url.empty()) {
    std::string base = dashboard_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    link = base + "/#/runs/" + d.flow_run_id;
  }
  if (format == "slack") {
    std::string text = "Flow run " + d.flow_name + "/" + d.flow_run_name + " entered " +
                       d.state_name;
    if (!d.deployment_name.empty()) text += " (deployment " + d.deployment_name + ")";
    if (!d.state_message.empty()) text += ": " + d.state_message;
    if (!link.empty()) text += "\n<" + link + "|Open in Weft>";
    return nlohmann::json{{"text", text}}.dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace);
  }
  nlohmann::json j = {
      {"event", "flow_run.state"},
      {"flow_run", {{"id", d.flow_run_id}, {"name", d.flow_run_name}, {"tags", d.tags}}},
      {"flow", d.flow_name},
      {"deployment", d.deployment_name.empty() ? nlohmann::json(nullptr)
                                               : nlohmann::json(d.deployment_name)},
      {"state",
       {{"type", d.state_type},
        {"name", d.state_name},
        {"message", d.state_message},
        {"timestamp", core::FormatTime(d.state_timestamp)}}},
      {"url", link.empty() ? nlohmann::json(nullptr) : nlohmann::json(link)},
      {"policy_id", d.policy_id},
      {"delivery_id", d.id},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace weft::server::orchestration
