// Limits on the JSON and text fields that cross a boundary (docs/limits.md, "JSON and text
// fields"): a deeply nested or oversized input is refused naming the field, over HTTP and
// gRPC, and the server keeps answering; a run's state history comes in pages.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "sdk/core/field_limits.hpp"
#include "tests/integration/server_fixture.hpp"

using namespace weft;
using nlohmann::json;

namespace {

void HttpAndQuietScheduler(server::app::Settings& s) {
  s.http_enabled = true;
  s.http_address = "127.0.0.1:0";
  s.scheduler_interval = 3600;
}

// {"x": [[[ ... ]]]} with `levels` brackets: about 2 * levels bytes.
std::string DeepObject(int levels) {
  return R"({"x": )" + std::string(levels, '[') + std::string(levels, ']') + "}";
}

struct Server {
  test::ApiServer server{HttpAndQuietScheduler};
  std::unique_ptr<httplib::Client> http;
  std::string host;
  int port = 0;

  Server() {
    std::string addr = server.app->http_address();
    REQUIRE_FALSE(addr.empty());
    auto colon = addr.rfind(':');
    host = addr.substr(0, colon);
    port = std::stoi(addr.substr(colon + 1));
    http = std::make_unique<httplib::Client>(host, port);
    http->set_default_headers({{"Authorization", "Bearer " + server.app->admin_key()}});
    http->set_read_timeout(30, 0);
    http->set_write_timeout(30, 0);
  }

  client::Client& grpc() { return *server.client; }

  std::string Deploy() {
    v1::CreateStorageRequest st;
    st.set_name("flows");
    st.set_kind("local");
    (*st.mutable_config())["path"] = "/srv/flows";
    REQUIRE(grpc().CreateStorage(st).ok());
    auto r = grpc().CreateDeployment(DeploymentRequest());
    REQUIRE(r.ok());
    return r->deployment().id();
  }

  static v1::CreateDeploymentRequest DeploymentRequest() {
    v1::CreateDeploymentRequest dep;
    auto* spec = dep.mutable_spec();
    spec->set_name("nightly");
    spec->set_flow_name("etl");
    spec->add_entrypoint("./etl");
    spec->mutable_bundle()->set_storage("flows");
    spec->mutable_bundle()->set_digest("sha256:" + std::string(64, 'b'));
    spec->mutable_bundle()->set_size(1);
    spec->set_parameters_json(R"({"city": "nyc"})");
    return dep;
  }

  std::pair<int, json> Post(const std::string& path, const std::string& body) {
    auto res = http->Post(path, body, "application/json");
    REQUIRE(res);
    json j = json::parse(res->body, nullptr, false);
    return {res->status, j.is_discarded() ? json() : j};
  }

  // The server still answers both ways.
  void StillAnswers() {
    auto health = http->Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    v1::ListFlowRunsRequest list;
    CHECK(grpc().ListFlowRuns(list).ok());
  }
};

void CheckHttpError(const std::pair<int, json>& r, int status, const std::string& message) {
  INFO(r.second.dump());
  CHECK(r.first == status);
  REQUIRE(r.second.contains("error"));
  CHECK(r.second["error"]["code"] == "INVALID_ARGUMENT");
  CHECK_THAT(r.second["error"]["message"].get<std::string>(), Catch::Contains(message));
}

template <typename T>
void CheckInvalid(const core::Result<T>& r, const std::string& message) {
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(r.error().message, Catch::Contains(message));
}

std::string NewFlowRun(client::Client& c) {
  v1::CreateFlowRunRequest req;
  req.set_flow_name("etl");
  auto r = c.CreateFlowRun(req);
  REQUIRE(r.ok());
  return r->flow_run().id();
}

}  // namespace

TEST_CASE("limits: 600 KB of nested brackets as a run's parameters over HTTP is a 400 naming "
          "parameters, and the server still answers",
          "[limits][http]") {
  Server s;
  std::string id = s.Deploy();
  const std::string path = "/api/deployments/" + id + "/run";

  // Valid JSON, 300,000 levels deep: parsing it is fine, dumping or copying it recursed.
  std::string body = R"({"parameters": )" + DeepObject(300000) + "}";
  REQUIRE(body.size() > 600000);
  CheckHttpError(s.Post(path, body), 400, "parameters: nested deeper than 64 levels");
  s.StillAnswers();

  // Unclosed, and an array: refused the same way.
  CheckHttpError(s.Post(path, R"({"parameters": )" + std::string(600 * 1024, '[')), 400,
                 "parameters: nested deeper than 64 levels");
  CheckHttpError(s.Post(path, std::string(600 * 1024, '[')), 400,
                 "body: nested deeper than 64 levels");
  s.StillAnswers();

  // 64 levels is allowed ({"x": ...} is the first of them).
  auto ok = s.Post(path, R"({"parameters": )" + DeepObject(63) + "}");
  CHECK(ok.first == 201);

  // The login body, unauthenticated, too.
  httplib::Client anon(s.host, s.port);
  auto login = anon.Post("/api/login", R"({"api_key": )" + std::string(1000, '['),
                         "application/json");
  REQUIRE(login);
  CHECK(login->status == 400);
  CHECK_THAT(login->body, Catch::Contains("api_key: nested deeper than 64 levels"));
  auto big_login = anon.Post("/api/login", std::string(8 * 1024, ' '), "application/json");
  REQUIRE(big_login);
  CHECK(big_login->status == 400);
  CHECK_THAT(big_login->body, Catch::Contains("body: larger than 4 KiB"));
  s.StillAnswers();
}

TEST_CASE("limits: a body over the HTTP limit is a 413 with a JSON error", "[limits][http]") {
  Server s;
  std::string id = s.Deploy();
  std::string body = R"({"parameters": {"x": ")" + std::string(core::kMaxHttpBodyBytes, 'a') +
                     R"("}})";
  auto r = s.Post("/api/deployments/" + id + "/run", body);
  CheckHttpError(r, 413, "body: larger than 2 MiB");
  // Within the body limit but over the parameters limit: 400 naming parameters.
  std::string params = R"({"parameters": {"x": ")" +
                       std::string(core::kMaxParametersBytes + 10, 'a') + R"("}})";
  CheckHttpError(s.Post("/api/deployments/" + id + "/run", params), 400,
                 "parameters: larger than 1 MiB");
  s.StillAnswers();
}

TEST_CASE("limits: deeply nested JSON in gRPC string fields is INVALID_ARGUMENT naming the field",
          "[limits][grpc]") {
  Server s;
  s.Deploy();
  const std::string deep = DeepObject(300000);

  v1::RunDeploymentRequest run;
  run.mutable_ref()->set_full_name("etl/nightly");
  run.set_parameters_json(deep);
  CheckInvalid(s.grpc().RunDeployment(run), "parameters_json: nested deeper than 64 levels");
  s.StillAnswers();

  v1::CreateFlowRunRequest create;
  create.set_flow_name("etl");
  create.set_parameters_json(deep);
  CheckInvalid(s.grpc().CreateFlowRun(create), "parameters_json: nested deeper than 64 levels");

  auto dep = Server::DeploymentRequest();
  dep.mutable_spec()->set_parameters_json(deep);
  CheckInvalid(s.grpc().CreateDeployment(dep), "spec.parameters_json: nested deeper than 64");
  dep = Server::DeploymentRequest();
  dep.mutable_spec()->set_parameters_schema_json("[" + DeepObject(1000) + "]");
  CheckInvalid(s.grpc().CreateDeployment(dep), "spec.parameters_schema_json: nested deeper");

  v1::CreateFlowRequest flow;
  flow.set_name("etl");
  flow.set_parameters_schema_json(std::string(100000, '['));
  CheckInvalid(s.grpc().CreateFlow(flow), "parameters_schema_json: nested deeper than 64 levels");

  std::string run_id = NewFlowRun(s.grpc());
  v1::SetFlowRunStateRequest set;
  set.set_flow_run_id(run_id);
  set.mutable_state()->set_type(v1::RUNNING);
  set.mutable_state()->set_details_json(DeepObject(1000));
  CheckInvalid(s.grpc().SetFlowRunState(set), "state.details_json: nested deeper than 64 levels");

  v1::CreateTaskRunRequest task;
  task.set_flow_run_id(run_id);
  task.set_task_key("t");
  task.set_task_inputs_json(deep);
  CheckInvalid(s.grpc().CreateTaskRun(task), "task_inputs_json: nested deeper than 64 levels");

  // A result: the task run's COMPLETED state carries it.
  task.set_task_inputs_json("");
  auto made = s.grpc().CreateTaskRun(task);
  REQUIRE(made.ok());
  v1::SetTaskRunStateRequest done;
  done.set_task_run_id(made->task_run().id());
  done.mutable_state()->set_type(v1::COMPLETED);
  done.mutable_state()->set_result_json(std::string(1000, '[') + std::string(1000, ']'));
  CheckInvalid(s.grpc().SetTaskRunState(done), "nested deeper than 64 levels");
  s.StillAnswers();
}

TEST_CASE("limits: oversized texts are refused naming the field and the limit", "[limits][grpc]") {
  Server s;
  s.Deploy();
  std::string run_id = NewFlowRun(s.grpc());

  v1::SetFlowRunStateRequest set;
  set.set_flow_run_id(run_id);
  set.mutable_state()->set_type(v1::RUNNING);
  set.mutable_state()->set_message(std::string(20000, 'm'));
  CheckInvalid(s.grpc().SetFlowRunState(set),
               "state.message: 20000 bytes, longer than the limit of 16 KiB");
  set.mutable_state()->set_message("");
  set.mutable_state()->set_details_json(R"({"x": ")" + std::string(70000, 'd') + R"("})");
  CheckInvalid(s.grpc().SetFlowRunState(set), "state.details_json: larger than 64 KiB");

  v1::CreateFlowRunRequest create;
  create.set_flow_name("etl");
  create.set_parameters_json(R"({"x": ")" + std::string(core::kMaxParametersBytes, 'p') + R"("})");
  CheckInvalid(s.grpc().CreateFlowRun(create), "parameters_json: larger than 1 MiB");
  create.clear_parameters_json();
  for (int i = 0; i < 65; ++i) create.add_tags("t" + std::to_string(i));
  CheckInvalid(s.grpc().CreateFlowRun(create), "tags: 65 tags, more than the limit of 64");
  create.clear_tags();
  create.add_tags(std::string(300, 't'));
  CheckInvalid(s.grpc().CreateFlowRun(create),
               "tags[0]: 300 bytes, longer than the limit of 200 bytes");

  auto dep = Server::DeploymentRequest();
  dep.mutable_spec()->set_description(std::string(5000, 'd'));
  CheckInvalid(s.grpc().CreateDeployment(dep),
               "spec.description: 5000 bytes, longer than the limit of 4 KiB");
  dep = Server::DeploymentRequest();
  dep.mutable_spec()->add_entrypoint(std::string(5000, 'a'));
  CheckInvalid(s.grpc().CreateDeployment(dep),
               "spec.entrypoint[1]: 5000 bytes, longer than the limit of 4 KiB");

  v1::RunDeploymentRequest run;
  run.mutable_ref()->set_full_name("etl/nightly");
  run.set_idempotency_key(std::string(2000, 'k'));
  CheckInvalid(s.grpc().RunDeployment(run), "idempotency_key: 2000 bytes");

  v1::CreateWorkQueueRequest queue;
  queue.set_name("big");
  queue.set_description(std::string(5000, 'q'));
  CheckInvalid(s.grpc().CreateWorkQueue(queue), "description: 5000 bytes");

  // Over HTTP: a cancel's message.
  auto cancel = s.Post("/api/flow-runs/" + run_id + "/cancel",
                       json{{"message", std::string(20000, 'c')}}.dump());
  CheckHttpError(cancel, 400, "message: 20000 bytes, longer than the limit of 16 KiB");

  // Nothing was half-written: the run is still Pending with one state.
  v1::ListFlowRunStatesRequest states;
  states.set_flow_run_id(run_id);
  auto history = s.grpc().ListFlowRunStates(states);
  REQUIRE(history.ok());
  CHECK(history->states_size() == 1);
  s.StillAnswers();
}

TEST_CASE("limits: a run's state history comes in pages, over gRPC and HTTP", "[limits][history]") {
  Server s;
  std::string run_id = NewFlowRun(s.grpc());
  // 250 more states (forced: no rule stands in the way), 251 in all.
  for (int i = 0; i < 250; ++i) {
    v1::SetFlowRunStateRequest set;
    set.set_flow_run_id(run_id);
    set.set_force(true);
    set.mutable_state()->set_type(i % 2 == 0 ? v1::RUNNING : v1::PENDING);
    set.mutable_state()->set_message("step " + std::to_string(i));
    REQUIRE(s.grpc().SetFlowRunState(set).ok());
  }

  // Default page: the oldest 100, and a cursor.
  v1::ListFlowRunStatesRequest req;
  req.set_flow_run_id(run_id);
  auto first = s.grpc().ListFlowRunStates(req);
  REQUIRE(first.ok());
  CHECK(first->states_size() == 100);
  CHECK(first->states(0).type() == v1::PENDING);
  CHECK(first->states(1).message() == "step 0");
  REQUIRE_FALSE(first->page().next_cursor().empty());

  // Following the cursors reads every state once, in order.
  std::vector<std::string> messages;
  req.mutable_page()->set_limit(60);
  for (int pages = 0; pages < 10; ++pages) {
    auto page = s.grpc().ListFlowRunStates(req);
    REQUIRE(page.ok());
    CHECK(page->states_size() <= 60);
    for (const auto& st : page->states()) messages.push_back(st.message());
    if (page->page().next_cursor().empty()) break;
    req.mutable_page()->set_cursor(page->page().next_cursor());
  }
  REQUIRE(messages.size() == 251);
  CHECK(messages[1] == "step 0");
  CHECK(messages[250] == "step 249");

  // Newest first.
  v1::ListFlowRunStatesRequest newest;
  newest.set_flow_run_id(run_id);
  newest.set_newest_first(true);
  newest.mutable_page()->set_limit(3);
  auto latest = s.grpc().ListFlowRunStates(newest);
  REQUIRE(latest.ok());
  REQUIRE(latest->states_size() == 3);
  CHECK(latest->states(0).message() == "step 249");
  CHECK(latest->states(2).message() == "step 247");
  newest.mutable_page()->set_cursor(latest->page().next_cursor());
  auto older = s.grpc().ListFlowRunStates(newest);
  REQUIRE(older.ok());
  CHECK(older->states(0).message() == "step 246");

  // One page holds at most 1000; a bad cursor is named.
  req.mutable_page()->set_limit(5000);
  req.mutable_page()->clear_cursor();
  auto all = s.grpc().ListFlowRunStates(req);
  REQUIRE(all.ok());
  CHECK(all->states_size() == 251);
  CHECK(all->page().next_cursor().empty());
  req.mutable_page()->set_cursor("nope");
  CheckInvalid(s.grpc().ListFlowRunStates(req), "page.cursor: malformed");

  // A task run's history pages the same way.
  v1::CreateTaskRunRequest task;
  task.set_flow_run_id(run_id);
  task.set_task_key("t");
  auto made = s.grpc().CreateTaskRun(task);
  REQUIRE(made.ok());
  for (int i = 0; i < 120; ++i) {
    v1::SetTaskRunStateRequest set;
    set.set_task_run_id(made->task_run().id());
    set.set_force(true);
    set.mutable_state()->set_type(i % 2 == 0 ? v1::RUNNING : v1::PENDING);
    REQUIRE(s.grpc().SetTaskRunState(set).ok());
  }
  v1::ListTaskRunStatesRequest treq;
  treq.set_task_run_id(made->task_run().id());
  auto tpage = s.grpc().ListTaskRunStates(treq);
  REQUIRE(tpage.ok());
  CHECK(tpage->states_size() == 100);
  treq.mutable_page()->set_cursor(tpage->page().next_cursor());
  auto trest = s.grpc().ListTaskRunStates(treq);
  REQUIRE(trest.ok());
  CHECK(trest->states_size() == 21);
  CHECK(trest->page().next_cursor().empty());

  // HTTP: the run's page shows the newest 100; /states pages through them all.
  auto page = s.http->Get("/api/flow-runs/" + run_id);
  REQUIRE(page);
  REQUIRE(page->status == 200);
  json run = json::parse(page->body);
  REQUIRE(run["states"].size() == 100);
  CHECK(run["states_truncated"] == true);
  CHECK(run["states"][99]["message"] == "step 249");
  CHECK(run["states"][0]["message"] == "step 150");

  std::vector<std::string> http_messages;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    auto res = s.http->Get("/api/flow-runs/" + run_id + "/states?limit=200" +
                           (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(res);
    REQUIRE(res->status == 200);
    json body = json::parse(res->body);
    CHECK(body["states"].size() <= 200);
    for (const auto& st : body["states"]) http_messages.push_back(st["message"]);
    cursor = body["next_cursor"];
    if (cursor.empty()) break;
  }
  CHECK(http_messages == messages);
  auto too_many = s.http->Get("/api/flow-runs/" + run_id + "/states?limit=5000");
  REQUIRE(too_many);
  CHECK(too_many->status == 400);
}

TEST_CASE("limits: a 100 KiB name echoed in an error does not overflow the reply's headers",
          "[limits][grpc]") {
  // Random letters: PostgreSQL and gRPC cannot compress them away.
  std::string name;
  std::uint32_t x = 12345;
  for (int i = 0; i < 100 * 1024; ++i) {
    x = x * 1103515245u + 12345u;
    name += static_cast<char>('a' + (x >> 16) % 26);
  }
  Server s;
  v1::GetWorkQueueRequest get;
  get.set_name(name);
  auto queue = s.grpc().GetWorkQueue(get);
  REQUIRE_FALSE(queue.ok());
  CHECK(queue.error().code != core::Code::kResourceExhausted);
  CHECK(queue.error().message.size() <= 4096);
  CHECK(queue.error().message.find("initial metadata") == std::string::npos);

  v1::RunDeploymentRequest run;
  run.mutable_ref()->set_full_name(name + "/" + name);
  auto started = s.grpc().RunDeployment(run);
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().code != core::Code::kResourceExhausted);
  CHECK(started.error().message.size() <= 4096);
  s.StillAnswers();
}

TEST_CASE("limits: a task run's keys and name have a length limit (not a database error)",
          "[limits][grpc]") {
  // Random letters: a repeated one compresses under PostgreSQL's index-entry limit.
  std::string key;
  std::uint32_t x = 777;
  for (int i = 0; i < 3000; ++i) {
    x = x * 1103515245u + 12345u;
    key += static_cast<char>('a' + (x >> 16) % 26);
  }
  Server s;
  std::string run_id = NewFlowRun(s.grpc());

  v1::CreateTaskRunRequest create;
  create.set_flow_run_id(run_id);
  create.set_task_key(key);
  CheckInvalid(s.grpc().CreateTaskRun(create),
               "task_key: 3000 bytes, longer than the limit of 1 KiB");
  create.set_task_key("extract");
  create.set_dynamic_key(key);
  CheckInvalid(s.grpc().CreateTaskRun(create), "dynamic_key: 3000 bytes");
  create.set_dynamic_key("0");
  create.set_name(key);
  CheckInvalid(s.grpc().CreateTaskRun(create), "name: 3000 bytes");

  // The same through the batched reports the SDK sends.
  v1::ReportTaskRunsRequest report;
  auto* r = report.add_reports();
  r->mutable_create()->set_id("6f1c1c8e-4b7a-4d2e-9a51-3f0b8f1a2c11");
  r->mutable_create()->set_flow_run_id(run_id);
  r->mutable_create()->set_task_key(key);
  r->set_task_run_id("6f1c1c8e-4b7a-4d2e-9a51-3f0b8f1a2c11");
  auto reported = s.grpc().ReportTaskRuns(report);
  if (reported.ok()) {
    REQUIRE(reported->results_size() == 1);
    CHECK(reported->results(0).accepted() == 0);
    CHECK(reported->results(0).rejected_reason().find("task_key") != std::string::npos);
  } else {
    CHECK(reported.error().code == core::Code::kInvalidArgument);
    CHECK(reported.error().message.find("task_key") != std::string::npos);
  }
  s.StillAnswers();
}
