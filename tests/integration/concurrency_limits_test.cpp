// Tag concurrency limits against the real server: WAIT naming the tag and its holders when a
// tag is full, slots freed on any final state (SetTaskRunState and batched reports), when the
// flow run ends and when its heartbeats stop (reaper), the WaitForConcurrencySlot long poll,
// reset, delete, inspect and bad input.
#include <httplib.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "sdk/client/convert.hpp"
#include "tests/integration/server_fixture.hpp"

using namespace weft;
using namespace std::chrono_literals;

namespace {

bool Eventually(const std::function<bool()>& cond, double seconds = 15) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return cond();
}

core::TimePoint Now() { return std::chrono::system_clock::now(); }

struct Limits {
  test::ApiServer server;
  client::Client& api;

  explicit Limits(void (*tune)(server::app::Settings&) = nullptr)
      : server(tune), api(*server.client) {}

  void SetLimit(const std::string& tag, int n) {
    v1::CreateConcurrencyLimitRequest req;
    req.set_tag(tag);
    req.set_limit(n);
    auto r = api.CreateConcurrencyLimit(req);
    REQUIRE(r.ok());
  }
  v1::ConcurrencyLimit Inspect(const std::string& tag) {
    v1::GetConcurrencyLimitRequest req;
    req.set_tag(tag);
    auto r = api.GetConcurrencyLimit(req);
    REQUIRE(r.ok());
    return r->limit();
  }
  std::string FlowRun(const std::string& name = "") {
    v1::CreateFlowRunRequest req;
    req.set_flow_name("limited");
    req.set_name(name);
    *req.mutable_initial_state() = client::ToProto(core::Running(Now()));
    auto r = api.CreateFlowRun(req);
    REQUIRE(r.ok());
    return r->flow_run().id();
  }
  std::string TaskRun(const std::string& flow_run, const std::string& key,
                      const std::vector<std::string>& tags) {
    v1::CreateTaskRunRequest req;
    req.set_flow_run_id(flow_run);
    req.set_task_key(key);
    req.set_dynamic_key("0");
    for (const auto& t : tags) req.add_tags(t);
    auto r = api.CreateTaskRun(req);
    REQUIRE(r.ok());
    return r->task_run().id();
  }
  v1::OrchestrationResult Propose(const std::string& task_run, const core::State& s) {
    v1::SetTaskRunStateRequest req;
    req.set_task_run_id(task_run);
    *req.mutable_state() = client::ToProto(s);
    auto r = api.SetTaskRunState(req);
    REQUIRE(r.ok());
    return r->result();
  }
  v1::OrchestrationResult Start(const std::string& task_run) {
    return Propose(task_run, core::Running(Now()));
  }
  v1::FlowRun GetFlowRun(const std::string& id) {
    v1::GetFlowRunRequest req;
    req.set_id(id);
    auto r = api.GetFlowRun(req);
    REQUIRE(r.ok());
    return r->flow_run();
  }
  v1::TaskRun GetTaskRun(const std::string& id) {
    v1::GetTaskRunRequest req;
    req.set_id(id);
    auto r = api.GetTaskRun(req);
    REQUIRE(r.ok());
    return r->task_run();
  }
};

void WithHttp(server::app::Settings& s) {
  s.http_enabled = true;
  s.http_address = "127.0.0.1:0";
  s.scheduler_interval = 3600;
}

void ShortHeartbeats(server::app::Settings& s) {
  test::QuietScheduler(s);
  s.heartbeat_interval = 0.5;
  s.heartbeat_timeout = 2;
}

}  // namespace

TEST_CASE("concurrency: a full tag answers WAIT naming the tag and its holders", "[concurrency]") {
  Limits f;
  f.SetLimit("db", 2);
  std::string fr = f.FlowRun("nightly");
  std::string a = f.TaskRun(fr, "load", {"db", "other"});
  std::string b = f.TaskRun(fr, "save", {"db"});
  std::string c = f.TaskRun(fr, "copy", {"db"});
  std::string free_run = f.TaskRun(fr, "free", {"untagged-by-limit"});
  CHECK(f.Start(a).decision() == v1::ACCEPT);
  CHECK(f.Start(b).decision() == v1::ACCEPT);
  CHECK(f.Start(free_run).decision() == v1::ACCEPT);

  auto r = f.Start(c);
  CHECK(r.decision() == v1::WAIT);
  CHECK(r.rule() == "SecureConcurrencySlots");
  CHECK(r.wait_seconds() == 30);
  CHECK_THAT(r.reason(), Catch::Contains("concurrency limit on tag \"db\" is full (2/2 slots)"));
  CHECK_THAT(r.reason(), Catch::Contains("load-0"));
  CHECK_THAT(r.reason(), Catch::Contains("save-0"));
  CHECK(r.state().name() == "Pending");
  CHECK(f.GetTaskRun(c).state().name() == "Pending");

  auto l = f.Inspect("db");
  CHECK(l.limit() == 2);
  CHECK(l.active_slots() == 2);
  REQUIRE(l.holders_size() == 2);
  CHECK(l.holders(0).task_run_id() == a);
  CHECK(l.holders(0).task_run_name() == "load-0");
  CHECK(l.holders(0).flow_run_id() == fr);
  CHECK(l.holders(0).flow_run_name() == "nightly");
  CHECK(l.holders(0).has_since());
  CHECK(l.holders(1).task_run_id() == b);

  // A slot frees on Completed and on Failed.
  CHECK(f.Propose(a, core::Completed(Now())).decision() == v1::ACCEPT);
  CHECK(f.Inspect("db").active_slots() == 1);
  CHECK(f.Start(c).decision() == v1::ACCEPT);
  CHECK(f.Start(f.TaskRun(fr, "more", {"db"})).decision() == v1::WAIT);
  CHECK(f.Propose(b, core::Failed(Now(), "boom")).decision() == v1::ACCEPT);
  CHECK(f.Inspect("db").active_slots() == 1);

  v1::ListConcurrencyLimitsRequest list;
  auto all = f.api.ListConcurrencyLimits(list);
  REQUIRE(all.ok());
  REQUIRE(all->limits_size() == 1);
  CHECK(all->limits(0).tag() == "db");
  CHECK(all->limits(0).active_slots() == 1);
}

TEST_CASE("concurrency: a limit of 0 aborts, and an unlimited tag never waits", "[concurrency]") {
  Limits f;
  f.SetLimit("never", 0);
  std::string fr = f.FlowRun();
  auto r = f.Start(f.TaskRun(fr, "t", {"never"}));
  CHECK(r.decision() == v1::ABORT);
  CHECK(r.rule() == "SecureConcurrencySlots");
  CHECK_THAT(r.reason(), Catch::Contains("tag \"never\" has a concurrency limit of 0"));
}

TEST_CASE("concurrency: batched reports secure and free slots", "[concurrency]") {
  Limits f;
  f.SetLimit("gpu", 1);
  std::string fr = f.FlowRun();
  auto report = [&](const std::string& id, const std::string& key,
                    const std::vector<core::State>& states) {
    v1::ReportTaskRunsRequest req;
    auto* rep = req.add_reports();
    auto* c = rep->mutable_create();
    c->set_id(id);
    c->set_flow_run_id(fr);
    c->set_task_key(key);
    c->set_dynamic_key("0");
    c->add_tags("gpu");
    rep->set_task_run_id(id);
    for (const auto& s : states) *rep->add_states() = client::ToProto(s);
    auto r = f.api.ReportTaskRuns(req);
    REQUIRE(r.ok());
    REQUIRE(r->results_size() == 1);
    return r->results(0);
  };
  const std::string a = "0a000000-0000-4000-8000-000000000001";
  const std::string b = "0a000000-0000-4000-8000-000000000002";
  auto ra = report(a, "a", {core::Running(Now())});
  CHECK(ra.accepted() == 1);
  CHECK(f.Inspect("gpu").active_slots() == 1);

  auto rb = report(b, "b", {core::Running(Now())});
  CHECK(rb.accepted() == 0);
  CHECK_THAT(rb.rejected_reason(), Catch::Contains("WAIT by SecureConcurrencySlots"));
  CHECK_THAT(rb.rejected_reason(), Catch::Contains("tag \"gpu\" is full"));

  // a completes through a batch: its slot frees, b starts and completes in one batch.
  v1::ReportTaskRunsRequest done;
  auto* rep = done.add_reports();
  rep->set_task_run_id(a);
  *rep->add_states() = client::ToProto(core::Completed(Now()));
  REQUIRE(f.api.ReportTaskRuns(done).ok());
  CHECK(f.Inspect("gpu").active_slots() == 0);

  v1::ReportTaskRunsRequest both;
  rep = both.add_reports();
  rep->set_task_run_id(b);
  *rep->add_states() = client::ToProto(core::Running(Now()));
  *rep->add_states() = client::ToProto(core::Completed(Now()));
  auto r = f.api.ReportTaskRuns(both);
  REQUIRE(r.ok());
  CHECK(r->results(0).accepted() == 2);
  CHECK(f.Inspect("gpu").active_slots() == 0);
}

TEST_CASE("concurrency: WaitForConcurrencySlot returns when a slot frees", "[concurrency]") {
  Limits f;
  f.SetLimit("db", 1);
  std::string fr = f.FlowRun();
  std::string a = f.TaskRun(fr, "a", {"db"});
  std::string b = f.TaskRun(fr, "b", {"db"});
  REQUIRE(f.Start(a).decision() == v1::ACCEPT);
  REQUIRE(f.Start(b).decision() == v1::WAIT);

  // A free tag (or one without a limit) answers at once.
  {
    v1::WaitForConcurrencySlotRequest req;
    req.add_tags("no-limit-here");
    req.set_timeout_seconds(20);
    auto r = f.api.WaitForConcurrencySlot(req);
    REQUIRE(r.ok());
    CHECK(r->available());
  }
  // A full tag: times out when nothing frees.
  {
    v1::WaitForConcurrencySlotRequest req;
    req.add_tags("db");
    req.set_timeout_seconds(0.3);
    auto r = f.api.WaitForConcurrencySlot(req);
    REQUIRE(r.ok());
    CHECK_FALSE(r->available());
  }
  // Returns because of the free, well before its 20 s timeout.
  auto waiter = std::async(std::launch::async, [&] {
    v1::WaitForConcurrencySlotRequest req;
    req.add_tags("db");
    req.set_timeout_seconds(20);
    return f.api.WaitForConcurrencySlot(req);
  });
  CHECK(waiter.wait_for(300ms) == std::future_status::timeout);  // still waiting: db is full
  CHECK(f.Propose(a, core::Completed(Now())).decision() == v1::ACCEPT);
  REQUIRE(waiter.wait_for(15s) == std::future_status::ready);
  auto r = waiter.get();
  REQUIRE(r.ok());
  CHECK(r->available());
  CHECK(r->tag() == "db");
  CHECK(f.Start(b).decision() == v1::ACCEPT);
}

TEST_CASE("concurrency: the flow run's end and the reaper free the slots", "[concurrency]") {
  Limits f(ShortHeartbeats);
  f.SetLimit("db", 1);

  // The flow run ends Completed while a task run is RUNNING: it becomes Crashed, slot freed.
  std::string fr = f.FlowRun();
  std::string a = f.TaskRun(fr, "a", {"db"});
  REQUIRE(f.Start(a).decision() == v1::ACCEPT);
  v1::SetFlowRunStateRequest end;
  end.set_flow_run_id(fr);
  *end.mutable_state() = client::ToProto(core::Cancelled(Now(), "stop"));
  REQUIRE(f.api.SetFlowRunState(end).ok());
  auto ta = f.GetTaskRun(a);
  CHECK(ta.state().name() == "Cancelled");
  CHECK_THAT(ta.state().message(), Catch::Contains("its flow run ended Cancelled"));
  CHECK(f.Inspect("db").active_slots() == 0);

  // A flow run that heartbeats once and goes silent: the reaper crashes it, freeing the slot.
  std::string silent = f.FlowRun();
  std::string b = f.TaskRun(silent, "b", {"db"});
  v1::FlowRunHeartbeatRequest hb;
  hb.set_flow_run_id(silent);
  REQUIRE(f.api.FlowRunHeartbeat(hb).ok());
  REQUIRE(f.Start(b).decision() == v1::ACCEPT);
  std::string other = f.FlowRun();
  std::string c = f.TaskRun(other, "c", {"db"});
  REQUIRE(f.Start(c).decision() == v1::WAIT);

  auto waiter = std::async(std::launch::async, [&] {
    v1::WaitForConcurrencySlotRequest req;
    req.add_tags("db");
    req.set_timeout_seconds(20);
    return f.api.WaitForConcurrencySlot(req);
  });
  REQUIRE(Eventually([&] { return f.GetFlowRun(silent).state().name() == "Crashed"; }));
  CHECK(f.GetTaskRun(b).state().name() == "Crashed");
  CHECK_THAT(f.GetTaskRun(b).state().message(), Catch::Contains("its flow run ended Crashed"));
  REQUIRE(waiter.wait_for(15s) == std::future_status::ready);
  auto w = waiter.get();
  REQUIRE(w.ok());
  CHECK(w->available());
  CHECK(f.Inspect("db").active_slots() == 0);
  CHECK(f.Start(c).decision() == v1::ACCEPT);
}

TEST_CASE("concurrency: reset frees every slot, delete removes the limit", "[concurrency]") {
  Limits f;
  f.SetLimit("db", 2);
  std::string fr = f.FlowRun();
  REQUIRE(f.Start(f.TaskRun(fr, "a", {"db"})).decision() == v1::ACCEPT);
  REQUIRE(f.Start(f.TaskRun(fr, "b", {"db"})).decision() == v1::ACCEPT);
  std::string c = f.TaskRun(fr, "c", {"db"});
  REQUIRE(f.Start(c).decision() == v1::WAIT);

  // Updating the limit keeps the holders.
  v1::CreateConcurrencyLimitRequest up;
  up.set_tag("db");
  up.set_limit(2);
  auto u = f.api.CreateConcurrencyLimit(up);
  REQUIRE(u.ok());
  CHECK_FALSE(u->created());
  CHECK(u->limit().limit() == 2);
  CHECK(f.Inspect("db").active_slots() == 2);

  v1::ResetConcurrencyLimitRequest reset;
  reset.set_tag("db");
  auto r = f.api.ResetConcurrencyLimit(reset);
  REQUIRE(r.ok());
  CHECK(r->freed() == 2);
  CHECK(f.Inspect("db").active_slots() == 0);
  CHECK(f.Start(c).decision() == v1::ACCEPT);

  v1::DeleteConcurrencyLimitRequest del;
  del.set_tag("db");
  REQUIRE(f.api.DeleteConcurrencyLimit(del).ok());
  v1::GetConcurrencyLimitRequest get;
  get.set_tag("db");
  auto g = f.api.GetConcurrencyLimit(get);
  REQUIRE_FALSE(g.ok());
  CHECK(g.error().code == core::Code::kNotFound);
  CHECK(g.error().message == "concurrency limit on tag \"db\" not found");
  // No limit any more: tasks carrying the tag start freely.
  CHECK(f.Start(f.TaskRun(fr, "d", {"db"})).decision() == v1::ACCEPT);
  auto again = f.api.DeleteConcurrencyLimit(del);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == core::Code::kNotFound);
}

TEST_CASE("concurrency: bad input is refused naming the field", "[concurrency]") {
  Limits f;
  v1::CreateConcurrencyLimitRequest neg;
  neg.set_tag("db");
  neg.set_limit(-1);
  auto r = f.api.CreateConcurrencyLimit(neg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kInvalidArgument);
  CHECK(r.error().message == "limit: must be >= 0, got -1");

  v1::CreateConcurrencyLimitRequest empty;
  empty.set_limit(1);
  r = f.api.CreateConcurrencyLimit(empty);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "tag: required (a tag)");

  v1::ResetConcurrencyLimitRequest reset;
  reset.set_tag("nope");
  auto rr = f.api.ResetConcurrencyLimit(reset);
  REQUIRE_FALSE(rr.ok());
  CHECK(rr.error().code == core::Code::kNotFound);

  v1::WaitForConcurrencySlotRequest wait;
  auto w = f.api.WaitForConcurrencySlot(wait);
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().message == "tags: name at least one tag");
  wait.add_tags("db");
  wait.set_timeout_seconds(600);
  w = f.api.WaitForConcurrencySlot(wait);
  REQUIRE_FALSE(w.ok());
  CHECK_THAT(w.error().message, Catch::StartsWith("timeout_seconds: must be between 0 and 60"));
}

TEST_CASE("concurrency: the JSON API lists limits, shows holders and resets", "[concurrency]") {
  using nlohmann::json;
  Limits f(WithHttp);
  f.SetLimit("db", 1);
  f.SetLimit("api", 4);
  std::string fr = f.FlowRun("http-run");
  std::string a = f.TaskRun(fr, "load", {"db"});
  REQUIRE(f.Start(a).decision() == v1::ACCEPT);

  std::string addr = f.server.app->http_address();
  auto colon = addr.rfind(':');
  httplib::Client http(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  http.set_bearer_token_auth(f.server.app->admin_key());  // the JSON API needs a key
  auto list = http.Get("/api/concurrency-limits");
  REQUIRE(list);
  REQUIRE(list->status == 200);
  json l = json::parse(list->body);
  REQUIRE(l["concurrency_limits"].size() == 2);
  CHECK(l["concurrency_limits"][0]["tag"] == "api");
  CHECK(l["concurrency_limits"][1]["tag"] == "db");
  CHECK(l["concurrency_limits"][1]["limit"] == 1);
  CHECK(l["concurrency_limits"][1]["active_slots"] == 1);

  auto one = http.Get("/api/concurrency-limits/db");
  REQUIRE(one);
  REQUIRE(one->status == 200);
  json d = json::parse(one->body);
  REQUIRE(d["holders"].size() == 1);
  CHECK(d["holders"][0]["task_run_id"] == a);
  CHECK(d["holders"][0]["task_run_name"] == "load-0");
  CHECK(d["holders"][0]["flow_run_id"] == fr);
  CHECK(d["holders"][0]["flow_run_name"] == "http-run");

  auto missing = http.Get("/api/concurrency-limits/nope");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(json::parse(missing->body)["error"]["message"] ==
        "concurrency limit on tag \"nope\" not found");

  auto reset = http.Post("/api/concurrency-limits/db/reset", "{}", "application/json");
  REQUIRE(reset);
  REQUIRE(reset->status == 200);
  CHECK(json::parse(reset->body)["freed"] == 1);
  CHECK(f.Inspect("db").active_slots() == 0);
}

TEST_CASE("concurrency: starts racing for the last slots never exceed the limit",
          "[concurrency]") {
  Limits f;
  f.SetLimit("db", 2);
  std::string fr = f.FlowRun();
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(f.TaskRun(fr, "t" + std::to_string(i), {"db"}));
  std::vector<std::future<v1::Decision>> starts;
  for (const auto& id : ids) {
    starts.push_back(std::async(std::launch::async, [&f, id] {
      client::ClientOptions o = f.api.options();
      client::Client c(o);  // one channel each: the proposals really race
      v1::SetTaskRunStateRequest req;
      req.set_task_run_id(id);
      *req.mutable_state() = client::ToProto(core::Running(Now()));
      auto r = c.SetTaskRunState(req);
      return r.ok() ? r->result().decision() : v1::DECISION_UNSPECIFIED;
    }));
  }
  int accepted = 0, waiting = 0;
  for (auto& s : starts) {
    v1::Decision d = s.get();
    accepted += d == v1::ACCEPT;
    waiting += d == v1::WAIT;
  }
  CHECK(accepted == 2);
  CHECK(waiting == 6);
  CHECK(f.Inspect("db").active_slots() == 2);
}

TEST_CASE("concurrency: /metrics shows each tag's limit and slots in use", "[concurrency]") {
  Limits f;
  f.SetLimit("db", 2);
  std::string fr = f.FlowRun();
  REQUIRE(f.Start(f.TaskRun(fr, "a", {"db"})).decision() == v1::ACCEPT);
  std::string text = f.server.app->metrics_text();
  CHECK_THAT(text, Catch::Contains("weft_concurrency_slots_in_use{tag=\"db\"} 1"));
  CHECK_THAT(text, Catch::Contains("weft_concurrency_limit{tag=\"db\"} 2"));
}

TEST_CASE("concurrency: a flow run's attempt that ends in a retry frees its task runs' slots",
          "[concurrency]") {
  Limits f;
  f.SetLimit("db", 1);
  v1::CreateFlowRunRequest req;
  req.set_flow_name("limited");
  req.mutable_retry_policy()->set_max_retries(1);
  *req.mutable_initial_state() = client::ToProto(core::Running(Now()));
  auto created = f.api.CreateFlowRun(req);
  REQUIRE(created.ok());
  std::string fr = created->flow_run().id();
  std::string a = f.TaskRun(fr, "a", {"db"});
  REQUIRE(f.Start(a).decision() == v1::ACCEPT);

  v1::SetFlowRunStateRequest fail;
  fail.set_flow_run_id(fr);
  *fail.mutable_state() = client::ToProto(core::Failed(Now(), "boom"));
  auto r = f.api.SetFlowRunState(fail);
  REQUIRE(r.ok());
  REQUIRE(r->result().state().name() == "AwaitingRetry");
  auto ta = f.GetTaskRun(a);
  CHECK(ta.state().name() == "Crashed");
  CHECK_THAT(ta.state().message(), Catch::Contains("its flow run's attempt ended (AwaitingRetry)"));
  CHECK(f.Inspect("db").active_slots() == 0);
}
