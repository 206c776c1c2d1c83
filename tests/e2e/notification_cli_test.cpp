// weft notification ... for real: weft-server, the weft CLI and hello_flow; a local HTTP
// receiver (cpp-httplib) in the test gets the webhook.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/e2e/support.hpp"

using namespace weft::e2e;
using nlohmann::json;

namespace {

RunResult Weft(const Env& env, std::vector<std::string> args) {
  args.insert(args.begin(), WEFT_CLI_BIN);
  return Run(args, env, 120);
}

RunResult WeftOk(const Env& env, const std::vector<std::string>& args) {
  RunResult r = Weft(env, args);
  std::string cmd = "weft";
  for (const auto& a : args) cmd += " " + a;
  INFO(cmd << "\nexit " << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

struct Receiver {
  httplib::Server server;
  std::thread thread;
  std::mutex mu;
  std::vector<std::string> bodies;
  int port = 0;
  Receiver() {
    server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      bodies.push_back(req.body);
      res.set_content("ok", "text/plain");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
  }
  ~Receiver() {
    server.stop();
    thread.join();
  }
  std::size_t Count() {
    std::lock_guard lock(mu);
    return bodies.size();
  }
};

}  // namespace

TEST_CASE("weft notification create/ls/pause/resume/deliveries/delete with a real flow",
          "[notifications]") {
  // The receiver is on loopback, which webhooks reach only when the operator allows it.
  Server server(FreshDatabase("notification_cli"), "", 0,
                {"--webhook-allow-network", "127.0.0.0/8"});
  Env env = server.ClientEnv();
  Receiver receiver;
  std::string url = "http://127.0.0.1:" + std::to_string(receiver.port) + "/hook";

  // Bad input: a clear error naming the field, exit 1; usage errors exit 2.
  RunResult bad = Weft(env, {"notification", "create", "--state", "Exploded", "--webhook", url});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("error: states[0]: unknown state \"Exploded\"") != std::string::npos);
  CHECK(Weft(env, {"notification", "create", "--state", "Failed"}).exit_code == 2);
  // Allowing loopback allows nothing else: the cloud metadata endpoint stays out of reach.
  RunResult metadata = Weft(env, {"notification", "create", "--state", "Failed", "--webhook",
                                  "http://169.254.169.254/latest/meta-data/"});
  CHECK(metadata.exit_code == 1);
  CHECK(metadata.err.find("error: webhook_url: target address 169.254.169.254 is not allowed "
                          "(cloud metadata)") != std::string::npos);

  RunResult created = WeftOk(env, {"notification", "create", "--state", "Completed", "--webhook",
                                   url, "--output", "json"});
  std::string id = json::parse(created.out)["id"];
  RunResult ls = WeftOk(env, {"notification", "ls"});
  CHECK(ls.out.find(id) != std::string::npos);
  CHECK(ls.out.find("active") != std::string::npos);

  Env flow_env = env;
  RunResult flow = Run({HELLO_FLOW_BIN}, flow_env, 120);
  INFO(flow.out << flow.err);
  REQUIRE(flow.exit_code == 0);
  REQUIRE(Eventually([&] { return receiver.Count() == 1; }, 30));
  {
    std::lock_guard lock(receiver.mu);
    auto j = json::parse(receiver.bodies[0]);
    CHECK(j["flow"] == "hello");
    CHECK(j["state"]["name"] == "Completed");
  }
  RunResult deliveries = WeftOk(env, {"notification", "deliveries", id});
  CHECK(deliveries.out.find("delivered") != std::string::npos);

  // Paused: another completed run sends nothing (and nothing waits for the resume).
  WeftOk(env, {"notification", "pause", id});
  CHECK(WeftOk(env, {"notification", "ls"}).out.find("paused") != std::string::npos);
  REQUIRE(Run({HELLO_FLOW_BIN}, flow_env, 120).exit_code == 0);
  WeftOk(env, {"notification", "resume", id});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(receiver.Count() == 1);

  WeftOk(env, {"notification", "delete", id});
  CHECK(WeftOk(env, {"notification", "ls"}).out.find(id) == std::string::npos);
  RunResult gone = Weft(env, {"notification", "delete", id});
  CHECK(gone.exit_code == 1);
  CHECK(gone.err.find(id) != std::string::npos);
}

TEST_CASE("weft-server --webhook-allow-network: a bad network is refused at start, naming the "
          "flag",
          "[notifications]") {
  RunResult r = Run({WEFT_SERVER_BIN, "--database-url", "postgresql://127.0.0.1:1/none",
                     "--webhook-allow-network", "127.0.0.0/8,10.0.0.1/8"},
                    {}, 60);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("webhook-allow-network: \"10.0.0.1/8\" is not a network") !=
        std::string::npos);
  r = Run({WEFT_SERVER_BIN, "--database-url", "postgresql://127.0.0.1:1/none"},
          {{"WEFT_SERVER_WEBHOOK_ALLOW_NETWORK", "example.com"}}, 60);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("webhook-allow-network: \"example.com\" is not a network") !=
        std::string::npos);
}
