// Notifications for real: policies through the API, the flow_run_states trigger, the
// notifier POSTing to a local HTTP receiver (cpp-httplib) with retries.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/server_fixture.hpp"

using namespace weft;

namespace {

bool Eventually(const std::function<bool()>& cond, double seconds = 20) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

// A webhook receiver on 127.0.0.1:<free port>. Each path records its bodies; `statuses`
// scripts the answers of a path (then 200).
class Receiver {
 public:
  Receiver() {
    server_.Post(R"(/hook/(\w+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      std::string path = req.matches[1];
      bodies_[path].push_back(req.body);
      auto& script = statuses_[path];
      int status = 200;
      if (!script.empty()) {
        status = script.front();
        script.erase(script.begin());
      }
      res.status = status;
      if (auto a = answers_.find(path); a != answers_.end()) {
        res.set_content(a->second, "text/plain");
      } else {
        res.set_content(status == 200 ? "ok" : "try again", "text/plain");
      }
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return "http://" + host + ":" + std::to_string(port_) + "/hook/" + path;
  }
  // The body every answer of `path` carries.
  void Answer(const std::string& path, std::string body) {
    std::lock_guard lock(mu_);
    answers_[path] = std::move(body);
  }
  void Script(const std::string& path, std::vector<int> statuses) {
    std::lock_guard lock(mu_);
    statuses_[path] = std::move(statuses);
  }
  std::vector<std::string> Bodies(const std::string& path) {
    std::lock_guard lock(mu_);
    return bodies_[path];
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> bodies_;
  std::map<std::string, std::vector<int>> statuses_;
  std::map<std::string, std::string> answers_;
};

void FastNotifier(server::app::Settings& s) {
  s.notifier_interval = 0.1;
  s.notification_backoff = 0.2;
  s.notification_timeout = 2;
  s.public_url = "http://dashboard.example:4200";
  // The receiver is on loopback, which webhooks may reach only when allowed.
  s.webhook_allow_networks = {"127.0.0.0/8"};
}

// The same, without the allowlist: what every server does by default.
void FastNotifierNoAllowlist(server::app::Settings& s) {
  FastNotifier(s);
  s.webhook_allow_networks.clear();
}

struct Fixture {
  explicit Fixture(void (*tune)(server::app::Settings&) = FastNotifier) : server(tune) {}
  test::ApiServer server;
  Receiver receiver;
  client::Client& c = *server.client;

  std::string Policy(std::vector<std::string> states, std::vector<std::string> tags,
                     const std::string& path, const std::string& format = "json",
                     const std::string& host = "127.0.0.1") {
    v1::CreateNotificationRequest req;
    for (auto& s : states) req.add_states(s);
    for (auto& t : tags) req.add_tags(t);
    req.set_webhook_url(receiver.Url(path, host));
    req.set_format(format);
    auto r = c.CreateNotification(req);
    REQUIRE(r.ok());
    return r->policy().id();
  }

  // A flow run of flow "etl" with `tags`, moved Running -> `final_type`.
  std::string Run(std::vector<std::string> tags, v1::StateType final_type,
                  const std::string& message = "") {
    v1::CreateFlowRunRequest create;
    create.set_flow_name("etl");
    for (auto& t : tags) create.add_tags(t);
    auto run = c.CreateFlowRun(create);
    REQUIRE(run.ok());
    std::string id = run->flow_run().id();
    for (auto type : {v1::RUNNING, final_type}) {
      v1::SetFlowRunStateRequest set;
      set.set_flow_run_id(id);
      set.mutable_state()->set_type(type);
      if (type == final_type) set.mutable_state()->set_message(message);
      auto r = c.SetFlowRunState(set);
      REQUIRE(r.ok());
      REQUIRE(r->result().decision() == v1::ACCEPT);
    }
    return id;
  }

  std::vector<v1::NotificationDelivery> Deliveries(const std::string& policy_id) {
    v1::ListNotificationDeliveriesRequest req;
    req.set_policy_id(policy_id);
    auto r = c.ListNotificationDeliveries(req);
    REQUIRE(r.ok());
    return {r->deliveries().begin(), r->deliveries().end()};
  }
};

}  // namespace

TEST_CASE("Notifications: a matching transition is POSTed exactly once, others never",
          "[notifications]") {
  Fixture f;
  std::string policy = f.Policy({"failed", "Crashed"}, {"prod"}, "main");

  // Not matching: wrong state (Completed), wrong tag (dev), no tags at all.
  f.Run({"prod"}, v1::COMPLETED);
  f.Run({"dev"}, v1::FAILED, "wrong tag");
  f.Run({}, v1::FAILED, "no tags");
  // Matching (the run carries one of the policy's tags).
  std::string id = f.Run({"prod", "nightly"}, v1::FAILED, "disk full");

  REQUIRE(Eventually([&] { return !f.receiver.Bodies("main").empty(); }));
  // Outbox rows are sent in order, so anything enqueued before went out already; give a
  // wrongly enqueued duplicate every chance to show up.
  REQUIRE(Eventually([&] {
    auto d = f.Deliveries(policy);
    return d.size() == 1 && d[0].status() == "delivered";
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto bodies = f.receiver.Bodies("main");
  REQUIRE(bodies.size() == 1);
  auto j = nlohmann::json::parse(bodies[0]);
  CHECK(j["flow_run"]["id"] == id);
  CHECK(j["flow"] == "etl");
  CHECK(j["deployment"].is_null());
  CHECK(j["state"]["type"] == "FAILED");
  CHECK(j["state"]["name"] == "Failed");
  CHECK(j["state"]["message"] == "disk full");
  CHECK_FALSE(j["state"]["timestamp"].get<std::string>().empty());
  CHECK(j["url"] == "http://dashboard.example:4200/#/runs/" + id);

  auto d = f.Deliveries(policy);
  REQUIRE(d.size() == 1);
  CHECK(d[0].attempts() == 1);
  CHECK(d[0].flow_run_id() == id);
  CHECK(d[0].last_status_code() == 200);

  // The policy listed with its normalised states.
  auto ls = f.c.ListNotifications({});
  REQUIRE(ls.ok());
  REQUIRE(ls->policies_size() == 1);
  CHECK(ls->policies(0).states(0) == "Failed");
  CHECK(ls->policies(0).states(1) == "Crashed");
}

TEST_CASE("Notifications: a receiver answering 500 then 200 gets it on the retry",
          "[notifications]") {
  Fixture f;
  f.receiver.Script("flaky", {500});
  std::string policy = f.Policy({"Completed"}, {}, "flaky", "slack");
  f.Run({}, v1::COMPLETED);
  REQUIRE(Eventually([&] {
    auto d = f.Deliveries(policy);
    return d.size() == 1 && d[0].status() == "delivered";
  }));
  auto d = f.Deliveries(policy);
  CHECK(d[0].attempts() == 2);
  CHECK(d[0].last_status_code() == 200);
  auto bodies = f.receiver.Bodies("flaky");
  REQUIRE(bodies.size() == 2);
  CHECK(bodies[0] == bodies[1]);
  auto j = nlohmann::json::parse(bodies[1]);
  CHECK_THAT(j["text"].get<std::string>(), Catch::Contains("entered Completed"));
}

TEST_CASE("Notifications: a paused policy sends nothing; resumed, it sends again",
          "[notifications]") {
  Fixture f;
  std::string paused = f.Policy({"Failed"}, {}, "paused");
  std::string active = f.Policy({"Completed"}, {}, "active");
  v1::SetNotificationPausedRequest pause;
  pause.set_id(paused);
  pause.set_paused(true);
  REQUIRE(f.c.SetNotificationPaused(pause).ok());

  f.Run({}, v1::FAILED);
  f.Run({}, v1::COMPLETED);
  REQUIRE(Eventually([&] { return f.receiver.Bodies("active").size() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(f.receiver.Bodies("paused").empty());
  CHECK(f.Deliveries(paused).empty());

  pause.set_paused(false);
  REQUIRE(f.c.SetNotificationPaused(pause).ok());
  f.Run({}, v1::FAILED);
  REQUIRE(Eventually([&] { return f.receiver.Bodies("paused").size() == 1; }));
}

TEST_CASE("Notifications: bad policies are INVALID_ARGUMENT naming the field; unknown ids "
          "NOT_FOUND",
          "[notifications]") {
  test::ApiServer s;
  auto create = [&](std::vector<std::string> states, std::string url, std::string format) {
    v1::CreateNotificationRequest req;
    for (auto& st : states) req.add_states(st);
    req.set_webhook_url(url);
    req.set_format(format);
    return s.client->CreateNotification(req);
  };
  auto r = create({}, "http://x/", "json");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::StartsWith("states:"));
  r = create({"Failed", "Exploded"}, "http://x/", "json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(r.error().message, Catch::StartsWith("states[1]: unknown state \"Exploded\""));
  r = create({"Failed"}, "ftp://x/", "json");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::StartsWith("webhook_url:"));
  r = create({"Failed"}, "http://x/", "xml");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::StartsWith("format:"));

  v1::DeleteNotificationRequest del;
  del.set_id("7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f");
  auto d = s.client->DeleteNotification(del);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == core::Code::kNotFound);
  CHECK_THAT(d.error().message, Catch::Contains("7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"));
}

TEST_CASE("Notifications: without --webhook-allow-network a literal internal address is "
          "refused at creation",
          "[notifications][webhook_targets]") {
  Fixture f(FastNotifierNoAllowlist);
  auto create = [&](const std::string& url) {
    v1::CreateNotificationRequest req;
    req.add_states("Completed");
    req.set_webhook_url(url);
    return f.c.CreateNotification(req);
  };
  // A real receiver listens there: the refusal is not a connection error.
  auto r = create(f.receiver.Url("literal"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kInvalidArgument);
  CHECK(r.error().message ==
        "webhook_url: target address 127.0.0.1 is not allowed (loopback); an operator can allow "
        "it with weft-server --webhook-allow-network CIDR");
  r = create("http://169.254.169.254/latest/meta-data/iam/security-credentials/");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(r.error().message,
             Catch::StartsWith("webhook_url: target address 169.254.169.254 is not allowed "
                               "(cloud metadata)"));
  for (std::string url : {"http://[::1]:9/", "http://[::ffff:127.0.0.1]:9/", "http://10.0.0.1/",
                          "http://192.168.1.1/", "http://[fd00:ec2::254]/", "http://0.0.0.0:9/"}) {
    r = create(url);
    INFO(url);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(r.error().message, Catch::StartsWith("webhook_url: target address "));
  }
  auto ls = f.c.ListNotifications({});
  REQUIRE(ls.ok());
  CHECK(ls->policies_size() == 0);
}

TEST_CASE("Notifications: a name that resolves to loopback is refused when the notifier "
          "connects; allowed, the same delivery succeeds",
          "[notifications][webhook_targets]") {
  SECTION("no allowlist: nothing reaches the receiver, the delivery says why") {
    Fixture f(FastNotifierNoAllowlist);
    // Accepted at creation: only the resolved address tells.
    std::string policy = f.Policy({"Completed"}, {}, "byname", "json", "localhost");
    f.Run({}, v1::COMPLETED);
    REQUIRE(Eventually([&] {
      auto d = f.Deliveries(policy);
      return d.size() == 1 && d[0].status() == "failed";
    }));
    auto d = f.Deliveries(policy);
    // Failed at once: retrying would not help.
    CHECK(d[0].attempts() == 1);
    CHECK(d[0].last_status_code() == 0);
    CHECK_THAT(d[0].last_error(), Catch::StartsWith("target address "));
    CHECK_THAT(d[0].last_error(), Catch::Contains("is not allowed (loopback)"));
    CHECK_THAT(d[0].last_error(), Catch::Contains("--webhook-allow-network"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(f.receiver.Bodies("byname").empty());
  }
  SECTION("--webhook-allow-network 127.0.0.0/8: delivered") {
    Fixture f(FastNotifier);
    std::string policy = f.Policy({"Completed"}, {}, "byname", "json", "localhost");
    std::string id = f.Run({}, v1::COMPLETED);
    REQUIRE(Eventually([&] {
      auto d = f.Deliveries(policy);
      return d.size() == 1 && d[0].status() == "delivered";
    }));
    auto bodies = f.receiver.Bodies("byname");
    REQUIRE(bodies.size() == 1);
    CHECK(nlohmann::json::parse(bodies[0])["flow_run"]["id"] == id);
  }
}

TEST_CASE("Notifications: the target's answer is not stored, only its status; a long answer "
          "is cut short",
          "[notifications][webhook_targets]") {
  Fixture f;
  f.receiver.Script("teapot", {400});
  f.receiver.Answer("teapot", "secret-from-the-inside");
  f.receiver.Answer("long", std::string(8 << 20, 'x'));
  std::string refused = f.Policy({"Completed"}, {}, "teapot");
  std::string longer = f.Policy({"Completed"}, {}, "long");
  f.Run({}, v1::COMPLETED);
  REQUIRE(Eventually([&] {
    auto a = f.Deliveries(refused);
    auto b = f.Deliveries(longer);
    return a.size() == 1 && a[0].status() == "failed" && b.size() == 1 &&
           b[0].status() == "delivered";
  }));
  auto d = f.Deliveries(refused);
  CHECK(d[0].last_error() == "HTTP 400");
  CHECK(d[0].last_status_code() == 400);
  d = f.Deliveries(longer);
  CHECK(d[0].attempts() == 1);
  CHECK(d[0].last_status_code() == 200);
}

TEST_CASE("Notifications: at most 100 policies; RESOURCE_EXHAUSTED names the cap",
          "[notifications][webhook_targets]") {
  test::ApiServer s;
  auto create = [&](int i) {
    v1::CreateNotificationRequest req;
    req.add_states("Failed");
    req.set_webhook_url("https://hooks.example.com/" + std::to_string(i));
    return s.client->CreateNotification(req);
  };
  std::string first;
  for (int i = 0; i < 100; ++i) {
    auto r = create(i);
    REQUIRE(r.ok());
    if (i == 0) first = r->policy().id();
  }
  auto r = create(100);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kResourceExhausted);
  CHECK_THAT(r.error().message, Catch::StartsWith("notifications: at most 100 policies"));
  auto ls = s.client->ListNotifications({});
  REQUIRE(ls.ok());
  CHECK(ls->policies_size() == 100);
  v1::DeleteNotificationRequest del;
  del.set_id(first);
  REQUIRE(s.client->DeleteNotification(del).ok());
  CHECK(create(101).ok());
}
