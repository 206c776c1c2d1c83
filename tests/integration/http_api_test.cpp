// The HTTP side of weft-server (server/http): /healthz, /readyz, the dashboard's assets and
// the JSON API under /api/ (docs/api.md), against the real App and a fresh database. Runs
// are made through gRPC; what the JSON API shows and does is then checked through both.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "tests/integration/server_fixture.hpp"

using namespace weft;
using nlohmann::json;

namespace {

void WithHttp(server::app::Settings& s) {
  s.http_enabled = true;
  s.http_address = "127.0.0.1:0";
  s.scheduler_interval = 3600;
}

struct Http {
  test::ApiServer server{WithHttp};
  std::unique_ptr<httplib::Client> http;  // sends "Authorization: Bearer <the admin key>"
  std::string host;
  int port = 0;

  Http() {
    std::string addr = server.app->http_address();
    REQUIRE_FALSE(addr.empty());
    auto colon = addr.rfind(':');
    host = addr.substr(0, colon);
    port = std::stoi(addr.substr(colon + 1));
    http = Anonymous();
    http->set_default_headers({{"Authorization", "Bearer " + server.app->admin_key()}});
  }

  // A client with no credentials.
  std::unique_ptr<httplib::Client> Anonymous() const {
    return std::make_unique<httplib::Client>(host, port);
  }

  // A new API key's token.
  std::string NewKey(const std::string& name, const std::string& scope) {
    v1::CreateApiKeyRequest req;
    req.set_name(name);
    req.set_scope(scope);
    auto r = server.client->CreateApiKey(req);
    if (!r.ok()) FAIL("creating key " << name << ": " << r.error().message);
    return r->token();
  }

  // GET or POST; returns status and parsed JSON (null when the body is not JSON).
  std::pair<int, json> Call(const std::string& method, const std::string& path,
                            const std::string& body = "{}") {
    auto res = method == "GET" ? http->Get(path) : http->Post(path, body, "application/json");
    REQUIRE(res);
    INFO(method << " " << path << " -> " << res->status << " " << res->body);
    json j = json::parse(res->body, nullptr, false);
    return {res->status, j.is_discarded() ? json() : j};
  }

  std::string NewRun(const std::string& flow, std::vector<std::string> tags = {}) {
    v1::CreateFlowRunRequest req;
    req.set_flow_name(flow);
    req.set_parameters_json(R"({"n": 1})");
    for (const auto& t : tags) req.add_tags(t);
    auto r = server.client->CreateFlowRun(req);
    REQUIRE(r.ok());
    return r->flow_run().id();
  }

  std::string StateName(const std::string& id) {
    v1::GetFlowRunRequest req;
    req.set_id(id);
    auto r = server.client->GetFlowRun(req);
    REQUIRE(r.ok());
    return r->flow_run().state().name();
  }
};

void CheckError(const std::pair<int, json>& r, int status, const std::string& code,
                const std::string& field) {
  INFO(r.second.dump());
  CHECK(r.first == status);
  REQUIRE(r.second.contains("error"));
  CHECK(r.second["error"]["code"] == code);
  CHECK_THAT(r.second["error"]["message"].get<std::string>(), Catch::Contains(field));
}

}  // namespace

TEST_CASE("http: /healthz, /readyz and the dashboard's assets", "[http]") {
  Http h;
  auto health = h.http->Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");
  auto ready = h.http->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);

  auto index = h.http->Get("/");
  REQUIRE(index);
  CHECK(index->status == 200);
  CHECK_THAT(index->get_header_value("Content-Type"), Catch::StartsWith("text/html"));
  CHECK_THAT(index->body, Catch::Contains("/js/app.js"));
  auto js = h.http->Get("/js/app.js");
  REQUIRE(js);
  CHECK(js->status == 200);
  CHECK_THAT(js->get_header_value("Content-Type"), Catch::StartsWith("text/javascript"));
  auto css = h.http->Get("/app.css");
  REQUIRE(css);
  CHECK_THAT(css->get_header_value("Content-Type"), Catch::StartsWith("text/css"));
  auto missing = h.http->Get("/js/nope.js");
  REQUIRE(missing);
  CHECK(missing->status == 404);
}

TEST_CASE("http: flow runs are paged by key and filtered", "[http]") {
  Http h;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(
        h.NewRun("alpha", i == 1 ? std::vector<std::string>{"x"} : std::vector<std::string>{}));
  }
  for (int i = 0; i < 2; ++i) ids.push_back(h.NewRun("beta"));

  // Pages of 2, newest first, each run exactly once.
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto [status, page] =
        h.Call("GET", "/api/flow-runs?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(status == 200);
    CHECK(page["flow_runs"].size() <= 2);
    for (const auto& r : page["flow_runs"]) seen.push_back(r["id"]);
    cursor = page["next_cursor"];
    // The cursor holds '|' and ':'; percent-encode it as a browser would.
    std::string enc;
    for (unsigned char c : cursor) {
      if (std::isalnum(c) || c == '-' || c == '.') {
        enc += static_cast<char>(c);
      } else {
        char b[4];
        std::snprintf(b, sizeof b, "%%%02X", c);
        enc += b;
      }
    }
    cursor = enc;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  CHECK(pages == 3);
  REQUIRE(seen.size() == 5);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 5);
  CHECK(seen.front() == ids.back());  // newest first

  CHECK(h.Call("GET", "/api/flow-runs?flow=beta").second["flow_runs"].size() == 2);
  auto tagged = h.Call("GET", "/api/flow-runs?tag=x").second["flow_runs"];
  REQUIRE(tagged.size() == 1);
  CHECK(tagged[0]["id"] == ids[1]);
  CHECK(h.Call("GET", "/api/flow-runs?state=PENDING").second["flow_runs"].size() == 5);
  CHECK(h.Call("GET", "/api/flow-runs?state=Pending").second["flow_runs"].size() == 5);
  CHECK(h.Call("GET", "/api/flow-runs?state=COMPLETED").second["flow_runs"].empty());
  CHECK(h.Call("GET", "/api/flow-runs?since=2000-01-01T00:00:00Z&until=2001-01-01T00:00:00Z")
            .second["flow_runs"]
            .empty());
  CHECK(h.Call("GET", "/api/flow-runs?since=2000-01-01T00:00:00Z").second["flow_runs"].size() == 5);

  auto history = h.Call("GET", "/api/flow-runs/history?flow=alpha&limit=2").second;
  REQUIRE(history["points"].size() == 2);
  CHECK(history["points"][0]["state_type"] == "PENDING");

  auto [status, run] = h.Call("GET", "/api/flow-runs/" + ids[0]);
  REQUIRE(status == 200);
  CHECK(run["flow_name"] == "alpha");
  CHECK(run["parameters"]["n"] == 1);
  REQUIRE(run["states"].size() == 1);
  CHECK(run["states"][0]["name"] == "Pending");
  CHECK(h.Call("GET", "/api/flow-runs/" + ids[0] + "/task-runs").second["task_runs"].empty());
}

TEST_CASE("http: bad input and unknown things are JSON errors with the gRPC code", "[http]") {
  Http h;
  CheckError(h.Call("GET", "/api/flow-runs?limit=500"), 400, "INVALID_ARGUMENT", "limit");
  CheckError(h.Call("GET", "/api/flow-runs?limit=abc"), 400, "INVALID_ARGUMENT", "limit");
  CheckError(h.Call("GET", "/api/flow-runs?cursor=garbage"), 400, "INVALID_ARGUMENT", "cursor");
  CheckError(h.Call("GET", "/api/flow-runs?cursor=2026-01-01T00:00:00Z%7Cnot-a-uuid"), 400,
             "INVALID_ARGUMENT", "cursor");
  CheckError(h.Call("GET", "/api/flow-runs?state=BOGUS"), 400, "INVALID_ARGUMENT", "state");
  CheckError(h.Call("GET", "/api/flow-runs?since=yesterday"), 400, "INVALID_ARGUMENT", "since");
  CheckError(h.Call("GET", "/api/flow-runs?deployment=no/such"), 404, "NOT_FOUND", "no/such");
  CheckError(h.Call("GET", "/api/flow-runs/00000000-0000-0000-0000-000000000000"), 404, "NOT_FOUND",
             "00000000-0000-0000-0000-000000000000");
  CheckError(h.Call("GET", "/api/deployments/00000000-0000-0000-0000-000000000000"), 404,
             "NOT_FOUND", "");
  CheckError(h.Call("GET", "/api/work-queues/nope"), 404, "NOT_FOUND", "nope");
  const std::string no_dep = "/api/deployments/00000000-0000-0000-0000-000000000000/run";
  CheckError(h.Call("POST", no_dep, R"({"parameters": [1]})"), 400, "INVALID_ARGUMENT",
             "parameters: must be a JSON object");
  CheckError(h.Call("POST", no_dep, R"({"tags": ["a", 2]})"), 400, "INVALID_ARGUMENT", "tags[1]");
  CheckError(h.Call("POST", no_dep, "{}"), 404, "NOT_FOUND", "");
  CheckError(h.Call("GET", "/api/nothing-here"), 404, "NOT_FOUND", "/api/nothing-here");
  std::string id = h.NewRun("gamma");
  CheckError(h.Call("POST", "/api/flow-runs/" + id + "/cancel", "[1, 2]"), 400, "INVALID_ARGUMENT",
             "body");
  // Actions take JSON only (a cross-site HTML form cannot post JSON).
  auto form =
      h.http->Post("/api/flow-runs/" + id + "/cancel", "x=1", "application/x-www-form-urlencoded");
  REQUIRE(form);
  CHECK(form->status == 415);
  CHECK_THAT(form->body, Catch::Contains("Content-Type"));
  CHECK(h.StateName(id) == "Pending");
}

TEST_CASE("http: cancel and retry go through the orchestration door", "[http]") {
  Http h;
  std::string id = h.NewRun("delta");
  // Retry needs a finished run.
  CheckError(h.Call("POST", "/api/flow-runs/" + id + "/retry"), 412, "FAILED_PRECONDITION",
             "only a finished run can be retried");

  // An unclaimed Pending run is Cancelled at once, with the message given.
  auto [status, cancelled] =
      h.Call("POST", "/api/flow-runs/" + id + "/cancel", R"({"message": "not needed"})");
  REQUIRE(status == 200);
  CHECK(cancelled["decision"] == "ACCEPT");
  CHECK(cancelled["state"]["name"] == "Cancelled");
  CHECK(h.StateName(id) == "Cancelled");
  CheckError(h.Call("POST", "/api/flow-runs/" + id + "/cancel"), 412, "FAILED_PRECONDITION", "");

  // Retry: a new Scheduled state, in the history with its message.
  auto [rs, retried] = h.Call("POST", "/api/flow-runs/" + id + "/retry");
  REQUIRE(rs == 200);
  CHECK(retried["state"]["type"] == "SCHEDULED");
  CHECK(h.StateName(id) == "Scheduled");
  auto run = h.Call("GET", "/api/flow-runs/" + id).second;
  REQUIRE(run["states"].size() == 3);
  CHECK(run["states"][1]["message"] == "not needed");
  CHECK(run["states"][2]["message"] == "retry requested from the dashboard");
}

TEST_CASE("http: work queues pause and resume, storage shows kind and config", "[http]") {
  Http h;
  auto queues = h.Call("GET", "/api/work-queues").second;
  REQUIRE(queues["work_queues"].size() == 1);
  CHECK(queues["work_queues"][0]["name"] == "default");
  CHECK(queues["work_queues"][0]["paused"] == false);
  CHECK(h.Call("POST", "/api/work-queues/default/pause").second["paused"] == true);
  auto one = h.Call("GET", "/api/work-queues/default").second;
  CHECK(one["paused"] == true);
  CHECK(one["agents"].empty());
  CHECK(h.Call("GET", "/api/work-queues/default/preview?hours=1").second["total"] == 0);
  CheckError(h.Call("GET", "/api/work-queues/default/preview?hours=-1"), 400, "INVALID_ARGUMENT",
             "hours");
  CHECK(h.Call("POST", "/api/work-queues/default/resume").second["paused"] == false);

  v1::CreateStorageRequest st;
  st.set_name("flows");
  st.set_kind("local");
  (*st.mutable_config())["path"] = "/srv/flows";
  REQUIRE(h.server.client->CreateStorage(st).ok());
  auto storages = h.Call("GET", "/api/storages").second["storages"];
  REQUIRE(storages.size() == 2);
  CHECK(storages[0]["name"] == "flows");
  CHECK(storages[0]["kind"] == "local");
  CHECK(storages[0]["config"] == json{{"path", "/srv/flows"}});
  CHECK(storages[1]["name"] == "server");
}

TEST_CASE("http: notification policies with masked webhooks, pause and resume", "[http]") {
  Http h;
  v1::CreateNotificationRequest req;
  req.add_states("Failed");
  req.add_tags("etl");
  req.set_webhook_url("https://hooks.example.com/services/T000/B000/secretkey");
  req.set_format("slack");
  auto created = h.server.client->CreateNotification(req);
  REQUIRE(created.ok());
  std::string id = created->policy().id();

  auto list = h.Call("GET", "/api/notifications").second["notifications"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["id"] == id);
  CHECK(list[0]["states"] == json{"Failed"});
  CHECK(list[0]["format"] == "slack");
  CHECK(list[0]["webhook"] == "https://hooks.example.com/…");
  CHECK(h.Call("GET", "/api/notifications").first == 200);
  auto body = h.http->Get("/api/notifications");
  REQUIRE(body);
  CHECK(body->body.find("secretkey") == std::string::npos);

  CHECK(h.Call("POST", "/api/notifications/" + id + "/pause").second["paused"] == true);
  CHECK(h.Call("POST", "/api/notifications/" + id + "/resume").second["paused"] == false);
  CheckError(h.Call("POST", "/api/notifications/00000000-0000-0000-0000-000000000000/pause"), 404,
             "NOT_FOUND", "");
  CHECK(h.Call("GET", "/api/notifications/deliveries").second["deliveries"].empty());
}

TEST_CASE("http: a deployment's page data, pause/resume and run now with parameters", "[http]") {
  Http h;
  v1::CreateStorageRequest st;
  st.set_name("flows");
  st.set_kind("local");
  (*st.mutable_config())["path"] = "/srv/flows";
  REQUIRE(h.server.client->CreateStorage(st).ok());
  v1::CreateDeploymentRequest dep;
  auto* spec = dep.mutable_spec();
  spec->set_name("weekly");
  spec->set_flow_name("taxi");
  spec->add_entrypoint("./taxi");
  spec->mutable_bundle()->set_storage("flows");
  spec->mutable_bundle()->set_digest("sha256:" + std::string(64, 'b'));
  spec->mutable_bundle()->set_size(1);
  spec->set_parameters_json(R"({"months": 2, "city": "nyc"})");
  spec->mutable_schedule()->mutable_interval()->set_interval_seconds(3600);
  REQUIRE(h.server.client->CreateDeployment(dep).ok());

  auto list = h.Call("GET", "/api/deployments").second["deployments"];
  REQUIRE(list.size() == 1);
  std::string id = list[0]["id"];
  CHECK(list[0]["full_name"] == "taxi/weekly");
  CHECK(list[0]["paused"] == false);
  CHECK(list[0]["parameters"]["months"] == 2);
  CHECK_FALSE(list[0]["schedule_description"].get<std::string>().empty());
  CHECK(h.Call("GET", "/api/deployments/" + id).second["work_queue"] == "default");

  // The scheduler materialises its runs (a new deployment wakes it).
  json upcoming;
  for (int i = 0; i < 200; ++i) {
    upcoming = h.Call("GET", "/api/deployments/" + id + "/upcoming?limit=5").second["flow_runs"];
    if (!upcoming.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE_FALSE(upcoming.empty());
  CHECK(upcoming[0]["state"]["type"] == "SCHEDULED");

  CHECK(h.Call("POST", "/api/deployments/" + id + "/pause").second["paused"] == true);
  CHECK(h.Call("GET", "/api/deployments/" + id).second["paused"] == true);
  CHECK(h.Call("POST", "/api/deployments/" + id + "/resume").second["paused"] == false);

  auto [status, made] = h.Call("POST", "/api/deployments/" + id + "/run",
                               R"({"parameters": {"months": 5}, "tags": ["manual"]})");
  REQUIRE(status == 201);
  CHECK(made["created"] == true);
  std::string run_id = made["flow_run"]["id"];
  CHECK(made["flow_run"]["deployment_name"] == "taxi/weekly");
  v1::GetFlowRunRequest get;
  get.set_id(run_id);
  auto run = h.server.client->GetFlowRun(get);
  REQUIRE(run.ok());
  json params = json::parse(run->flow_run().parameters_json());
  CHECK(params["months"] == 5);
  CHECK(params["city"] == "nyc");
  auto runs = h.Call("GET", "/api/flow-runs?deployment=taxi/weekly&tag=manual").second;
  REQUIRE(runs["flow_runs"].size() == 1);
  CHECK(runs["flow_runs"][0]["id"] == run_id);
}

// ---- access control (server/http/auth_middleware.cpp) ----

namespace {

// A request through `c` with extra headers; fails the test when no answer comes.
httplib::Result Send(httplib::Client& c, const std::string& method, const std::string& path,
                     httplib::Headers headers, const std::string& body = "{}") {
  auto res = method == "GET" ? c.Get(path.c_str(), headers)
                             : c.Post(path.c_str(), headers, body, "application/json");
  REQUIRE(res);
  return res;
}

std::string ErrorCode(const httplib::Result& r) {
  auto j = json::parse(r->body, nullptr, false);
  return j.is_discarded() || !j.contains("error") ? "" : j["error"]["code"].get<std::string>();
}

// "weft_session=...; Path=/; ..." -> "weft_session=..." (what a browser sends back).
std::string CookiePair(const std::string& set_cookie) {
  return set_cookie.substr(0, set_cookie.find(';'));
}

}  // namespace

TEST_CASE("http auth: a foreign Host gets 421; loopback names and the bound address pass",
          "[http][auth]") {
  Http h;
  auto anon = h.Anonymous();
  auto foreign = Send(*h.http, "GET", "/api/flow-runs", {{"Host", "evil.example"}});
  CHECK(foreign->status == 421);
  CHECK_THAT(foreign->body, Catch::Contains("evil.example"));
  auto dashboard = Send(*anon, "GET", "/", {{"Host", "evil.example:" + std::to_string(h.port)}});
  CHECK(dashboard->status == 421);
  CHECK(Send(*anon, "GET", "/", {{"Host", "[::2]:80"}})->status == 421);
  for (std::string name : {"localhost", "LOCALHOST", "127.0.0.1", "[::1]"}) {
    INFO(name);
    CHECK(Send(*h.http, "GET", "/api/flow-runs", {{"Host", name + ":" + std::to_string(h.port)}})
              ->status == 200);
    CHECK(Send(*h.http, "GET", "/api/flow-runs", {{"Host", name}})->status == 200);
  }
  // Load balancers probe by address: /healthz answers whatever the Host.
  CHECK(Send(*anon, "GET", "/healthz", {{"Host", "10.1.2.3:4200"}})->status == 200);
}

TEST_CASE("http auth: --public-url's host joins the Host allowlist", "[http][auth]") {
  test::ApiServer server([](server::app::Settings& s) {
    WithHttp(s);
    s.public_url = "https://Weft.Example.com:8443/dashboard";
  });
  std::string addr = server.app->http_address();
  auto colon = addr.rfind(':');
  httplib::Client c(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  httplib::Headers bearer{{"Authorization", "Bearer " + server.app->admin_key()}};
  auto with_host = [&](const std::string& host) {
    auto headers = bearer;
    headers.emplace("Host", host);
    return Send(c, "GET", "/api/flow-runs", headers)->status;
  };
  CHECK(with_host("weft.example.com:8443") == 200);
  CHECK(with_host("weft.example.com") == 200);
  CHECK(with_host("other.example.com") == 421);
}

TEST_CASE("http auth: security headers on every answer", "[http][auth]") {
  Http h;
  auto anon = h.Anonymous();
  for (auto [client, path] : std::vector<std::pair<httplib::Client*, std::string>>{
           {anon.get(), "/"},
           {anon.get(), "/js/app.js"},
           {anon.get(), "/api/flow-runs"},  // a 401
           {h.http.get(), "/api/flow-runs"},
           {anon.get(), "/healthz"}}) {
    auto r = Send(*client, "GET", path, {});
    INFO(path << " -> " << r->status);
    CHECK_THAT(r->get_header_value("Content-Security-Policy"),
               Catch::Contains("frame-ancestors 'none'") && Catch::Contains("default-src 'self'"));
    CHECK(r->get_header_value("X-Frame-Options") == "DENY");
    CHECK(r->get_header_value("X-Content-Type-Options") == "nosniff");
    CHECK(r->get_header_value("Referrer-Policy") == "no-referrer");
  }
}

TEST_CASE("http auth: the JSON API needs a key; viewers read, operators change",
          "[http][auth]") {
  Http h;
  std::string id = h.NewRun("guarded");
  auto anon = h.Anonymous();

  auto none = Send(*anon, "GET", "/api/flow-runs", {});
  CHECK(none->status == 401);
  CHECK(ErrorCode(none) == "UNAUTHENTICATED");
  CHECK_THAT(none->body, Catch::Contains("Bearer"));
  CHECK(Send(*anon, "POST", "/api/flow-runs/" + id + "/cancel", {})->status == 401);
  auto bad = Send(*anon, "GET", "/api/flow-runs",
                  {{"Authorization", "Bearer weft_000000000000_" + std::string(64, '0')}});
  CHECK(bad->status == 401);
  CHECK(bad->body.find(std::string(64, '0')) == std::string::npos);  // never echoed
  CHECK(Send(*anon, "GET", "/api/flow-runs", {{"Authorization", "Basic dXNlcjpwdw=="}})->status ==
        401);
  // The dashboard's files hold no data: open.
  CHECK(Send(*anon, "GET", "/", {})->status == 200);

  // Bearer with the admin key.
  auto listed = Send(*h.http, "GET", "/api/flow-runs", {});
  CHECK(listed->status == 200);
  CHECK(json::parse(listed->body)["flow_runs"].size() == 1);

  // A viewer reads but cannot change anything.
  httplib::Headers viewer{{"Authorization", "Bearer " + h.NewKey("watcher", "viewer")}};
  CHECK(Send(*anon, "GET", "/api/flow-runs/" + id, viewer)->status == 200);
  auto who = Send(*anon, "GET", "/api/whoami", viewer);
  REQUIRE(who->status == 200);
  CHECK(json::parse(who->body)["name"] == "watcher");
  CHECK(json::parse(who->body)["scope"] == "viewer");
  auto denied = Send(*anon, "POST", "/api/flow-runs/" + id + "/cancel", viewer);
  CHECK(denied->status == 403);
  CHECK(ErrorCode(denied) == "PERMISSION_DENIED");
  CHECK_THAT(denied->body, Catch::Contains("needs scope operator or admin") &&
                               Catch::Contains("watcher"));
  CHECK(h.StateName(id) == "Pending");

  // An agent key is no dashboard key.
  httplib::Headers agent{{"Authorization", "Bearer " + h.NewKey("worker", "agent")}};
  auto agent_read = Send(*anon, "GET", "/api/flow-runs", agent);
  CHECK(agent_read->status == 403);
  CHECK_THAT(agent_read->body, Catch::Contains("viewer, operator or admin"));

  // An operator changes.
  httplib::Headers op{{"Authorization", "Bearer " + h.NewKey("ops", "operator")}};
  CHECK(Send(*anon, "POST", "/api/flow-runs/" + id + "/cancel", op)->status == 200);
  CHECK(h.StateName(id) == "Cancelled");
}

TEST_CASE("http auth: login sets a session cookie; logout clears it; revoking the key ends it",
          "[http][auth]") {
  Http h;
  std::string id = h.NewRun("session");
  std::string key = h.NewKey("alice", "operator");
  auto anon = h.Anonymous();

  auto wrong = Send(*anon, "POST", "/api/login",
                    {}, R"({"api_key": "weft_000000000000_)" + std::string(64, '1') + "\"}");
  CHECK(wrong->status == 401);
  CHECK_FALSE(wrong->has_header("Set-Cookie"));
  CHECK(Send(*anon, "POST", "/api/login", {}, "{}")->status == 400);
  auto agent_login = Send(*anon, "POST", "/api/login", {},
                          json{{"api_key", h.NewKey("bot", "agent")}}.dump());
  CHECK(agent_login->status == 403);

  auto login = Send(*anon, "POST", "/api/login", {}, json{{"api_key", key}}.dump());
  REQUIRE(login->status == 200);
  CHECK(json::parse(login->body)["name"] == "alice");
  std::string set_cookie = login->get_header_value("Set-Cookie");
  CHECK_THAT(set_cookie, Catch::StartsWith("weft_session=") && Catch::Contains("; HttpOnly") &&
                             Catch::Contains("; SameSite=Strict") && Catch::Contains("; Path=/"));
  CHECK(set_cookie.find("Secure") == std::string::npos);  // plain HTTP here
  // The cookie is not the key, and holds no part of its secret.
  CHECK(set_cookie.find(key) == std::string::npos);
  CHECK(set_cookie.find(key.substr(key.rfind('_') + 1)) == std::string::npos);
  httplib::Headers session{{"Cookie", "theme=dark; " + CookiePair(set_cookie)}};

  CHECK(Send(*anon, "GET", "/api/flow-runs", session)->status == 200);
  auto who = json::parse(Send(*anon, "GET", "/api/whoami", session)->body);
  CHECK(who["name"] == "alice");
  CHECK(who["scope"] == "operator");
  CHECK(who["via"] == "session");
  CHECK(Send(*anon, "POST", "/api/flow-runs/" + id + "/cancel", session)->status == 200);
  CHECK(h.StateName(id) == "Cancelled");
  // A session token is no API key: refused as a Bearer token.
  std::string token = CookiePair(set_cookie).substr(std::string("weft_session=").size());
  CHECK(Send(*anon, "GET", "/api/flow-runs", {{"Authorization", "Bearer " + token}})->status ==
        401);
  // A forged one (another key id, same shape) is refused.
  std::string forged = token;
  forged[std::string("weftsess_").size()] = forged[std::string("weftsess_").size()] == 'a' ? 'b' : 'a';
  CHECK(Send(*anon, "GET", "/api/flow-runs", {{"Cookie", "weft_session=" + forged}})->status ==
        401);

  auto logout = Send(*anon, "POST", "/api/logout", session);
  CHECK(logout->status == 200);
  CHECK_THAT(logout->get_header_value("Set-Cookie"),
             Catch::StartsWith("weft_session=;") && Catch::Contains("Max-Age=0"));

  // Revoking the key ends its sessions (within the 1 s cache).
  auto again = Send(*anon, "POST", "/api/login", {}, json{{"api_key", key}}.dump());
  REQUIRE(again->status == 200);
  httplib::Headers second{{"Cookie", CookiePair(again->get_header_value("Set-Cookie"))}};
  CHECK(Send(*anon, "GET", "/api/flow-runs", second)->status == 200);
  v1::RevokeApiKeyRequest revoke;
  revoke.set_name("alice");
  REQUIRE(h.server.client->RevokeApiKey(revoke).ok());
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    status = Send(*anon, "GET", "/api/flow-runs", second)->status;
    if (status == 401) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(status == 401);
}

TEST_CASE("http auth: /healthz is open, /metrics is open from loopback", "[http][auth]") {
  Http h;
  auto anon = h.Anonymous();
  CHECK(Send(*anon, "GET", "/healthz", {})->status == 200);
  CHECK(Send(*anon, "GET", "/readyz", {})->status == 200);
  auto metrics = Send(*anon, "GET", "/metrics", {});
  CHECK(metrics->status == 200);
  CHECK_THAT(metrics->body, Catch::Contains("# TYPE"));
}

TEST_CASE("http auth: a change from another origin is refused", "[http][auth]") {
  Http h;
  std::string id = h.NewRun("origin");
  std::string self = "http://" + h.host + ":" + std::to_string(h.port);
  auto foreign = Send(*h.http, "POST", "/api/flow-runs/" + id + "/cancel",
                      {{"Origin", "http://evil.example"}});
  CHECK(foreign->status == 403);
  CHECK_THAT(foreign->body, Catch::Contains("evil.example"));
  // Another port of the same host is another origin (and the same site for SameSite).
  CHECK(Send(*h.http, "POST", "/api/flow-runs/" + id + "/cancel",
             {{"Origin", "http://" + h.host + ":1"}})
            ->status == 403);
  CHECK(Send(*h.http, "POST", "/api/flow-runs/" + id + "/cancel", {{"Origin", "null"}})->status ==
        403);
  CHECK(h.StateName(id) == "Pending");
  // Reads are not refused by Origin, and this server's own pages may change things.
  CHECK(Send(*h.http, "GET", "/api/flow-runs", {{"Origin", "http://evil.example"}})->status == 200);
  CHECK(Send(*h.http, "POST", "/api/flow-runs/" + id + "/cancel", {{"Origin", self}})->status ==
        200);
  CHECK(h.StateName(id) == "Cancelled");
}

TEST_CASE("http auth: a refused request with a body leaves a keep-alive connection usable",
          "[http][auth]") {
  Http h;
  std::string id = h.NewRun("keepalive");
  auto c = h.Anonymous();
  c->set_keep_alive(true);
  std::string big(64 * 1024, ' ');
  auto refused = Send(*c, "POST", "/api/flow-runs/" + id + "/cancel", {}, "{" + big + "}");
  CHECK(refused->status == 401);
  auto next = Send(*c, "GET", "/api/flow-runs",
                   {{"Authorization", "Bearer " + h.server.app->admin_key()}});
  CHECK(next->status == 200);
}
