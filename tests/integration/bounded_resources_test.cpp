// Bounded resources (docs/limits.md): what one client sends must not grow the server's
// metric series, its waiting calls or its work without bound. Real server, real PostgreSQL,
// calls over gRPC and HTTP.
#include <google/protobuf/empty.pb.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sdk/client/convert.hpp"
#include "sdk/client/storage/bundle_store.hpp"
#include "sdk/core/bounds.hpp"
#include "tests/integration/agent_test_support.hpp"

using namespace weft;
using namespace std::chrono_literals;

namespace {

core::TimePoint Now() { return std::chrono::system_clock::now(); }

void WithHttp(server::app::Settings& s) {
  s.http_enabled = true;
  s.http_address = "127.0.0.1:0";
  s.metrics_refresh = 0;  // database gauges re-read at every scrape
  s.scheduler_interval = 3600;
}

std::string ScrapeMetrics(server::app::App& app) {
  std::string addr = app.http_address();
  auto colon = addr.rfind(':');
  httplib::Client http(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  http.set_bearer_token_auth(app.admin_key());
  auto res = http.Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return res->body;
}

std::size_t Lines(const std::string& text) {
  std::size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// A flow run moved to Running under `name` (a free-text state name).
void RunNamed(client::Client& c, const std::string& name) {
  v1::CreateFlowRunRequest create;
  create.set_flow_name("flood");
  auto run = c.CreateFlowRun(create);
  REQUIRE(run.ok());
  v1::SetFlowRunStateRequest set;
  set.set_flow_run_id(run->flow_run().id());
  set.mutable_state()->set_type(v1::RUNNING);
  set.mutable_state()->set_name(name);
  auto r = c.SetFlowRunState(set);
  REQUIRE(r.ok());
  // And a second, refused proposal under another made-up name (a rejected decision counts too).
  set.mutable_state()->set_type(v1::SCHEDULED);
  set.mutable_state()->set_name(name + "-again");
  REQUIRE(c.SetFlowRunState(set).ok());
}

// A call of a method no service registers (the server answers UNIMPLEMENTED).
void CallBogusMethod(server::app::App& app, int i) {
  auto channel = grpc::CreateChannel(app.grpc_address(), grpc::InsecureChannelCredentials());
  std::string name = "/weft.v1.BogusService/Flood" + std::to_string(i);
  grpc::internal::RpcMethod method(name.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + app.admin_key());
  google::protobuf::Empty req, resp;
  auto st = grpc::internal::BlockingUnaryCall(channel.get(), method, &ctx, req, &resp);
  CHECK_FALSE(st.ok());
}

}  // namespace

TEST_CASE("bounds: a flood of made-up state names does not grow /metrics", "[bounds][metrics]") {
  test::ApiServer server(WithHttp);
  auto& c = *server.client;
  RunNamed(c, "Running");  // every series the flood touches exists once before it
  RunNamed(c, "warmup-name");
  CallBogusMethod(*server.app, 1000);
  auto before = ScrapeMetrics(*server.app);

  for (int i = 0; i < 200; ++i) RunNamed(c, "bogus-state-" + std::to_string(i));
  for (int i = 0; i < 20; ++i) CallBogusMethod(*server.app, i);

  auto after = ScrapeMetrics(*server.app);
  INFO(after.substr(0, 4000));
  CHECK(after.find("bogus-state-") == std::string::npos);
  CHECK(after.find("warmup-name") == std::string::npos);
  CHECK(after.find("BogusService") == std::string::npos);
  CHECK(Lines(after) < Lines(before) + 20);
  // They are counted, under one fixed label.
  CHECK(after.find(R"(state="other")") != std::string::npos);
  CHECK(after.find(R"(state_name="other")") != std::string::npos);
}

TEST_CASE("bounds: preview --hours is at most a week", "[bounds][work_queues]") {
  test::ApiServer server(test::QuietScheduler);
  for (double hours : {169.0, 1e12}) {
    v1::PreviewWorkQueueRequest req;
    req.set_name("default");
    req.set_hours(hours);
    auto r = server.client->PreviewWorkQueue(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(r.error().message, Catch::Contains("hours") && Catch::Contains("168"));
  }
  v1::PreviewWorkQueueRequest ok;
  ok.set_name("default");
  ok.set_hours(168);
  CHECK(server.client->PreviewWorkQueue(ok).ok());
}

TEST_CASE("bounds: an agent's prefetch_seconds is at most an hour", "[bounds][agents]") {
  test::AgentFixture f;
  for (double prefetch : {3601.0, 1e15}) {
    auto req = test::AgentFixture::PollRequest(test::kAgentA, {"default"});
    req.set_prefetch_seconds(prefetch);
    auto r = f.api.PollWorkQueues(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(r.error().message, Catch::Contains("prefetch_seconds") && Catch::Contains("3600"));
  }
  auto req = test::AgentFixture::PollRequest(test::kAgentA, {"default"});
  req.set_prefetch_seconds(3600);
  CHECK(f.api.PollWorkQueues(req).ok());
}

TEST_CASE("bounds: one ReportTaskRuns call carries a bounded batch", "[bounds][task_runs]") {
  test::ApiServer server(test::QuietScheduler);
  v1::CreateFlowRunRequest create;
  create.set_flow_name("batch");
  auto run = server.client->CreateFlowRun(create);
  REQUIRE(run.ok());
  const std::string id = "33333333-3333-4333-8333-333333333333";

  v1::ReportTaskRunsRequest many;
  for (int i = 0; i <= core::bounds::kMaxReportsPerCall; ++i) {
    auto* r = many.add_reports();
    r->set_task_run_id(id);
    *r->add_states() = client::ToProto(core::Running(Now()));
  }
  auto r = server.client->ReportTaskRuns(many);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(r.error().message, Catch::Contains("reports") && Catch::Contains("5000"));

  v1::ReportTaskRunsRequest deep;
  auto* one = deep.add_reports();
  one->set_task_run_id(id);
  for (int i = 0; i <= core::bounds::kMaxStatesPerCall; ++i) {
    *one->add_states() = client::ToProto(core::Running(Now()));
  }
  auto d = server.client->ReportTaskRuns(deep);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(d.error().message, Catch::Contains("states") && Catch::Contains("10000"));
}

namespace {
void ThreeSlotWaiters(server::app::Settings& s) {
  s.scheduler_interval = 3600;
  s.max_slot_waiters = 3;
}
}  // namespace

TEST_CASE("bounds: concurrency-slot waiters are capped (RESOURCE_EXHAUSTED beyond)",
          "[bounds][concurrency]") {
  test::ApiServer server(ThreeSlotWaiters);
  auto& api = *server.client;
  {
    v1::CreateConcurrencyLimitRequest req;
    req.set_tag("db");
    req.set_limit(1);
    REQUIRE(api.CreateConcurrencyLimit(req).ok());
  }
  // The one slot of "db" held by a running task run.
  v1::CreateFlowRunRequest fr;
  fr.set_flow_name("limited");
  *fr.mutable_initial_state() = client::ToProto(core::Running(Now()));
  auto flow_run = api.CreateFlowRun(fr);
  REQUIRE(flow_run.ok());
  v1::CreateTaskRunRequest tr;
  tr.set_flow_run_id(flow_run->flow_run().id());
  tr.set_task_key("a");
  tr.set_dynamic_key("0");
  tr.add_tags("db");
  auto task_run = api.CreateTaskRun(tr);
  REQUIRE(task_run.ok());
  v1::SetTaskRunStateRequest start;
  start.set_task_run_id(task_run->task_run().id());
  *start.mutable_state() = client::ToProto(core::Running(Now()));
  auto started = api.SetTaskRunState(start);
  REQUIRE(started.ok());
  REQUIRE(started->result().decision() == v1::ACCEPT);

  auto wait = [&](double timeout) {
    v1::WaitForConcurrencySlotRequest req;
    req.add_tags("db");
    req.set_timeout_seconds(timeout);
    return api.WaitForConcurrencySlot(req);
  };
  // Six callers at once: three wait, the other three are refused at once.
  std::vector<std::future<core::Result<v1::WaitForConcurrencySlotResponse>>> calls;
  for (int i = 0; i < 6; ++i) calls.push_back(std::async(std::launch::async, wait, 20.0));
  auto answered = [&] {
    int n = 0;
    for (auto& f : calls) n += f.wait_for(0s) == std::future_status::ready ? 1 : 0;
    return n;
  };
  REQUIRE(test::Eventually([&] { return answered() >= 3; }));
  int refused = 0;
  for (auto& f : calls) {
    if (f.wait_for(0s) != std::future_status::ready) continue;
    auto r = f.get();
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().code == core::Code::kResourceExhausted);
    CHECK_THAT(r.error().message, Catch::Contains("max-slot-waiters"));
    ++refused;
  }
  CHECK(refused == 3);

  // Freeing the slot answers the three that wait; then waiting is possible again.
  start.mutable_state()->CopyFrom(client::ToProto(core::Completed(Now())));
  REQUIRE(api.SetTaskRunState(start).ok());
  for (auto& f : calls) {
    if (!f.valid()) continue;
    REQUIRE(f.wait_for(15s) == std::future_status::ready);
    auto r = f.get();
    INFO((r.ok() ? std::string("ok") : r.error().message));
    CHECK(r.ok());
  }
  auto again = wait(1);
  CHECK(again.ok());
}

namespace {

// A stand-in for an S3 endpoint on loopback. The store's prefix picks the answer to a GET:
// "big-length/": 10,000 bytes with their length announced; "big-chunked/": 10,000 bytes
// chunked (no length); "slow/": a byte every 100 ms, never ending.
class HostileS3 {
 public:
  HostileS3() {
    http_.Get(R"(/weft/big-length/.*)", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(10000, 'x'), "application/octet-stream");
    });
    http_.Get(R"(/weft/big-chunked/.*)", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/octet-stream",
                                       [](size_t offset, httplib::DataSink& sink) {
                                         if (offset >= 10000) {
                                           sink.done();
                                           return true;
                                         }
                                         std::string chunk(500, 'x');
                                         return sink.write(chunk.data(), chunk.size());
                                       });
    });
    http_.Get(R"(/weft/slow/.*)", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/octet-stream",
                                       [this](size_t, httplib::DataSink& sink) {
                                         if (stop_) return false;
                                         std::this_thread::sleep_for(
                                             std::chrono::milliseconds(100));
                                         return sink.write("x", 1);
                                       });
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    while (!http_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~HostileS3() {
    stop_ = true;
    http_.stop();
    thread_.join();
  }
  std::unique_ptr<client::storage::BundleStore> Store(const std::string& prefix,
                                                      double timeout = 0) const {
    client::storage::S3Config c;
    c.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    c.bucket = "weft";
    c.prefix = prefix;
    c.access_key_id = "test";
    c.secret_access_key = "test-secret";
    c.get_timeout_seconds = timeout;
    return client::storage::MakeS3Store(c);
  }

 private:
  httplib::Server http_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

std::string TempFile(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("weft-bounds-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

const std::string kDigest = "sha256:" + std::string(64, 'a');

}  // namespace

TEST_CASE("bounds: an s3 download stops at the bundle size limit, before hashing",
          "[bounds][storage]") {
  HostileS3 s3;
  ::setenv("WEFT_MAX_BUNDLE_SIZE", "1000", 1);
  for (const std::string prefix : {"big-length/", "big-chunked/"}) {
    INFO(prefix);
    std::string dest = TempFile("bundle");
    auto r = s3.Store(prefix)->Get(kDigest, dest);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kResourceExhausted);
    CHECK_THAT(r.error().message, Catch::Contains("larger than"));
    CHECK_FALSE(std::filesystem::exists(dest));
  }
  ::unsetenv("WEFT_MAX_BUNDLE_SIZE");
}

TEST_CASE("bounds: an s3 download that never ends is abandoned at its overall timeout",
          "[bounds][storage]") {
  // Declared in this order so that, whatever happens, the server goes first (ending the
  // body), then the download is waited for, then what it uses.
  std::string dest = TempFile("slow");
  std::unique_ptr<client::storage::BundleStore> store;
  std::future<core::Status> done;
  HostileS3 s3;
  store = s3.Store("slow/", /*timeout=*/1);
  // A byte every 100 ms keeps curl's low-speed check content; the overall timeout does not.
  done = std::async(std::launch::async, [&] { return store->Get(kDigest, dest); });
  REQUIRE(done.wait_for(30s) == std::future_status::ready);
  auto r = done.get();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kDeadlineExceeded);
  CHECK_FALSE(std::filesystem::exists(dest));
}

namespace {

nlohmann::json GetJson(server::app::App& app, const std::string& path) {
  std::string addr = app.http_address();
  auto colon = addr.rfind(':');
  httplib::Client http(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  http.set_default_headers({{"Authorization", "Bearer " + app.admin_key()}});
  auto res = http.Get(path);
  REQUIRE(res);
  INFO(path << " -> " << res->status << " " << res->body);
  REQUIRE(res->status == 200);
  return nlohmann::json::parse(res->body);
}

}  // namespace

TEST_CASE("bounds: /api/concurrency-limits is paged in SQL (limit and cursor)",
          "[bounds][http]") {
  test::ApiServer server(WithHttp);
  for (int i = 0; i < 7; ++i) {
    v1::CreateConcurrencyLimitRequest req;
    req.set_tag("tag-" + std::to_string(i));
    req.set_limit(1);
    REQUIRE(server.client->CreateConcurrencyLimit(req).ok());
  }
  auto first = GetJson(*server.app, "/api/concurrency-limits?limit=5");
  REQUIRE(first["concurrency_limits"].size() == 5);
  CHECK(first["concurrency_limits"][0]["tag"] == "tag-0");
  CHECK(first["next_cursor"] == "tag-4");
  auto second = GetJson(*server.app, "/api/concurrency-limits?limit=5&cursor=tag-4");
  REQUIRE(second["concurrency_limits"].size() == 2);
  CHECK(second["concurrency_limits"][0]["tag"] == "tag-5");
  CHECK(second["next_cursor"] == "");
}

TEST_CASE("bounds: /api/agents is limited in SQL", "[bounds][http]") {
  test::ApiServer server(WithHttp);
  for (const char* id : {"11111111-1111-4111-8111-111111111111",
                         "22222222-2222-4222-8222-222222222222",
                         "44444444-4444-4444-8444-444444444444"}) {
    auto req = test::AgentFixture::PollRequest(id, {"default"});
    req.mutable_agent()->set_name(std::string("agent-") + id);
    REQUIRE(server.client->PollWorkQueues(req).ok());
  }
  auto two = GetJson(*server.app, "/api/agents?limit=2");
  CHECK(two["agents"].size() == 2);
  CHECK(two["more"] == true);
  auto all = GetJson(*server.app, "/api/agents");
  CHECK(all["agents"].size() == 3);
  CHECK(all["more"] == false);
}
