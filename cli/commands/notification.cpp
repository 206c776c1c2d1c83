// weft notification create|ls|pause|resume|delete|deliveries
#include "cli/commands/notification.hpp"

#include <iostream>

#include "cli/output/json.hpp"
#include "cli/output/table.hpp"

namespace weft::cli {

namespace {

std::string Items(const google::protobuf::RepeatedPtrField<std::string>& items,
                  const std::string& empty) {
  if (items.empty()) return empty;
  return Join(std::vector<std::string>(items.begin(), items.end()), ", ");
}

// Webhook URLs often carry a secret in their path (Slack's do): show the host only.
std::string UrlHost(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  std::string head = url.substr(0, scheme + 3);
  std::string rest = url.substr(scheme + 3);
  auto path = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, path);
  auto at = authority.rfind('@');
  if (at != std::string::npos) authority = "…@" + authority.substr(at + 1);  // no credentials
  bool more = path != std::string::npos && path + 1 < rest.size();
  return head + authority + (more ? "/…" : "/");
}

}  // namespace

int NotificationCreate(const Globals& g, const NotificationCreateOptions& o) {
  if (o.states.empty()) return Fail("--state: at least one is required (e.g. --state Failed)");
  if (o.webhook.empty()) return Fail("--webhook: required (http://... or https://...)");
  v1::CreateNotificationRequest req;
  for (const auto& s : o.states) req.add_states(s);
  for (const auto& t : o.tags) req.add_tags(t);
  req.set_webhook_url(o.webhook);
  req.set_format(o.format);
  client::Client c(g.api);
  auto resp = c.CreateNotification(req);
  if (!resp) return Fail(resp.error());
  const auto& p = resp->policy();
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, p);
    return 0;
  }
  std::cout << "Created notification " << p.id() << " (states " << Items(p.states(), "")
            << ", tags " << Items(p.tags(), "any") << ", " << p.format() << " to "
            << UrlHost(p.webhook_url()) << ")\n";
  return 0;
}

int NotificationLs(const Globals& g) {
  client::Client c(g.api);
  auto resp = c.ListNotifications({});
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"ID", "STATES", "TAGS", "FORMAT", "WEBHOOK", "STATUS"});
  for (const auto& p : resp->policies()) {
    t.AddRow({p.id(), Items(p.states(), ""), Items(p.tags(), "(any)"), p.format(),
              UrlHost(p.webhook_url()), p.paused() ? "paused" : "active"});
  }
  t.Print(std::cout);
  return 0;
}

int NotificationSetPaused(const Globals& g, const std::string& id, bool paused) {
  v1::SetNotificationPausedRequest req;
  req.set_id(id);
  req.set_paused(paused);
  client::Client c(g.api);
  auto resp = c.SetNotificationPaused(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, resp->policy());
    return 0;
  }
  std::cout << (paused ? "Paused" : "Resumed") << " notification " << resp->policy().id() << "\n";
  return 0;
}

int NotificationDelete(const Globals& g, const std::string& id) {
  v1::DeleteNotificationRequest req;
  req.set_id(id);
  client::Client c(g.api);
  auto resp = c.DeleteNotification(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  std::cout << "Deleted notification " << id << "\n";
  return 0;
}

int NotificationDeliveries(const Globals& g, const std::string& policy_id, int limit) {
  v1::ListNotificationDeliveriesRequest req;
  req.set_policy_id(policy_id);
  req.set_limit(limit);
  client::Client c(g.api);
  auto resp = c.ListNotificationDeliveries(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"ID", "FLOW RUN", "STATE", "STATUS", "ATTEMPTS", "LAST ERROR", "CREATED"});
  for (const auto& d : resp->deliveries()) {
    std::string status = d.status();
    if (d.status() == "pending" && d.attempts() > 0) {
      status += " (next " + ShortTime(d.next_attempt()) + ")";
    }
    t.AddRow({std::to_string(d.id()), d.flow_name() + "/" + d.flow_run_name(), d.state_name(),
              status, std::to_string(d.attempts()), d.last_error(), ShortTime(d.created())});
  }
  t.Print(std::cout);
  return 0;
}

}  // namespace weft::cli
