#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "server/orchestration/notification_manager.hpp"
#include "server/services/notifier.hpp"

using weft::server::orchestration::BuildNotificationPayload;
using weft::server::orchestration::NotificationManager;
using weft::server::orchestration::NotificationSpec;

namespace {

NotificationSpec Spec() {
  NotificationSpec s;
  s.states = {"failed", "CRASHED", "Failed"};
  s.webhook_url = "https://hooks.example/T1/B2";
  return s;
}

weft::server::store::DeliveryRecord Delivery() {
  weft::server::store::DeliveryRecord d;
  d.id = 7;
  d.policy_id = "p1";
  d.flow_run_id = "5b0e0000-0000-4000-8000-000000000001";
  d.flow_run_name = "amber-otter-42";
  d.flow_name = "taxi";
  d.deployment_name = "taxi/monthly";
  d.tags = {"prod"};
  d.state_type = "FAILED";
  d.state_name = "Failed";
  d.state_message = "out of memory";
  return d;
}

}  // namespace

TEST_CASE("notification spec: states normalised and de-duplicated, format defaults to json") {
  auto s = Spec();
  CHECK(NotificationManager::Check(s).empty());
  CHECK(s.states == std::vector<std::string>{"Failed", "Crashed"});
  CHECK(s.format == "json");
}

TEST_CASE("notification spec: each problem names its field") {
  auto s = Spec();
  s.states.clear();
  CHECK_THAT(NotificationManager::Check(s), Catch::StartsWith("states:"));
  s = Spec();
  s.states.push_back("Sleeping");
  CHECK_THAT(NotificationManager::Check(s), Catch::StartsWith("states[3]: unknown state"));
  s = Spec();
  s.tags = {"ok", ""};
  CHECK_THAT(NotificationManager::Check(s), Catch::StartsWith("tags[1]:"));
  s = Spec();
  s.webhook_url = "hooks.example/x";
  CHECK_THAT(NotificationManager::Check(s), Catch::StartsWith("webhook_url:"));
  s = Spec();
  s.webhook_url = "http://a b/";
  CHECK_THAT(NotificationManager::Check(s), Catch::StartsWith("webhook_url:"));
  s = Spec();
  s.format = "teams";
  CHECK_THAT(NotificationManager::Check(s), Catch::StartsWith("format:"));
}

TEST_CASE("notification spec: a literal internal address in webhook_url is refused unless "
          "allowed") {
  auto refused = [](const std::string& url,
                    const std::vector<weft::core::IpNetwork>& allow = {}) {
    auto s = Spec();
    s.webhook_url = url;
    return NotificationManager::Check(s, allow);
  };
  CHECK(refused("http://127.0.0.1:8080/hook") ==
        "webhook_url: target address 127.0.0.1 is not allowed (loopback); an operator can allow "
        "it with weft-server --webhook-allow-network CIDR");
  CHECK_THAT(refused("http://169.254.169.254/latest/meta-data/"),
             Catch::StartsWith("webhook_url: target address 169.254.169.254 is not allowed "
                               "(cloud metadata)"));
  CHECK_THAT(refused("http://[::1]:80/"), Catch::Contains("::1 is not allowed (loopback)"));
  CHECK_THAT(refused("http://[::ffff:127.0.0.1]/"), Catch::Contains("(loopback)"));
  CHECK_THAT(refused("https://10.1.2.3/"), Catch::Contains("(private)"));
  CHECK_THAT(refused("http://user@192.168.0.1/"), Catch::Contains("(private)"));
  CHECK_THAT(refused("http://[fe80::1]/"), Catch::Contains("(link-local)"));
  CHECK_THAT(refused("http://0.0.0.0:4200/"), Catch::Contains("(unspecified)"));
  CHECK_THAT(refused("http://2130706433/"), Catch::Contains("127.0.0.1 is not allowed"));
  CHECK_THAT(refused("http://0x7f.1:80/"), Catch::Contains("127.0.0.1 is not allowed"));
  // Public addresses and names pass (a name is checked when the notifier connects).
  CHECK(refused("http://8.8.8.8/").empty());
  CHECK(refused("http://localhost:8080/").empty());
  CHECK(refused("https://hooks.example.com/x").empty());
  // Allowed networks pass.
  auto loopback = *weft::core::ParseIpNetwork("127.0.0.0/8");
  CHECK(refused("http://127.0.0.1:8080/hook", {loopback}).empty());
  CHECK_FALSE(refused("http://[::1]:8080/hook", {loopback}).empty());
}

TEST_CASE("notification payload: json carries run, flow, deployment, state and link") {
  auto j = nlohmann::json::parse(BuildNotificationPayload(Delivery(), "json", "http://h:4200/"));
  CHECK(j["flow_run"]["name"] == "amber-otter-42");
  CHECK(j["flow"] == "taxi");
  CHECK(j["deployment"] == "taxi/monthly");
  CHECK(j["state"]["name"] == "Failed");
  CHECK(j["state"]["message"] == "out of memory");
  CHECK(j["url"] == "http://h:4200/#/runs/5b0e0000-0000-4000-8000-000000000001");
  CHECK(j["delivery_id"] == 7);
}

TEST_CASE("notification payload: slack is {\"text\": ...}; invalid UTF-8 does not throw") {
  auto d = Delivery();
  d.state_message = std::string("bad \xff byte");
  auto j = nlohmann::json::parse(BuildNotificationPayload(d, "slack", ""));
  REQUIRE(j.size() == 1);
  auto text = j["text"].get<std::string>();
  CHECK_THAT(text, Catch::StartsWith("Flow run taxi/amber-otter-42 entered Failed"));
  CHECK_THAT(text, Catch::Contains("deployment taxi/monthly"));
  CHECK_THAT(text, !Catch::Contains("#/runs/"));
}

TEST_CASE("notifier backoff doubles per attempt up to the cap") {
  weft::server::services::NotifierOptions o;
  o.backoff_seconds = 2;
  o.max_backoff_seconds = 10;
  CHECK(weft::server::services::NotifierBackoff(o, 1) == 2);
  CHECK(weft::server::services::NotifierBackoff(o, 2) == 4);
  CHECK(weft::server::services::NotifierBackoff(o, 3) == 8);
  CHECK(weft::server::services::NotifierBackoff(o, 4) == 10);
}
