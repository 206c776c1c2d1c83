// Work queues through the API: CRUD, the default queue, filters (tags, deployments, runner
// types), preview order and hours window, the concurrency-limit count, pause, and errors.
#include <catch2/catch.hpp>
#include <chrono>

#include "sdk/client/convert.hpp"
#include "tests/integration/server_fixture.hpp"

using namespace weft;
using namespace std::chrono_literals;

namespace {

const std::string kDigest = "sha256:" + std::string(64, 'c');

struct Fixture : test::ApiServerWithStorage {

  // An unscheduled deployment on `queue` (runs only when asked for).
  void Deploy(const std::string& flow, const std::string& name, const std::string& queue,
              std::vector<std::string> tags = {}, const std::string& runner = "process") {
    v1::CreateDeploymentRequest req;
    auto* s = req.mutable_spec();
    s->set_name(name);
    s->set_flow_name(flow);
    s->add_entrypoint("./" + flow);
    s->mutable_bundle()->set_storage("flows");
    s->mutable_bundle()->set_digest(kDigest);
    s->mutable_bundle()->set_size(10);
    for (const auto& t : tags) s->add_tags(t);
    s->set_work_queue(queue);
    s->mutable_runner()->set_type(runner);
    if (runner == "docker") s->mutable_runner()->set_image("alpine:3");
    auto r = client->CreateDeployment(req);
    REQUIRE(r.ok());
  }

  // A manual run of `full_name` starting `in` from now, with extra tags.
  std::string Run(const std::string& full_name, std::chrono::seconds in,
                  std::vector<std::string> tags = {}) {
    v1::RunDeploymentRequest req;
    req.mutable_ref()->set_full_name(full_name);
    *req.mutable_start_time() = client::ToProto(std::chrono::system_clock::now() + in);
    for (const auto& t : tags) req.add_tags(t);
    auto r = client->RunDeployment(req);
    REQUIRE(r.ok());
    return r->flow_run().id();
  }

  v1::WorkQueue CreateQueue(v1::CreateWorkQueueRequest req) {
    auto r = client->CreateWorkQueue(req);
    REQUIRE(r.ok());
    return r->work_queue();
  }

  v1::PreviewWorkQueueResponse Preview(const std::string& name, double hours = 0) {
    v1::PreviewWorkQueueRequest req;
    req.set_name(name);
    req.set_hours(hours);
    auto r = client->PreviewWorkQueue(req);
    REQUIRE(r.ok());
    return *r;
  }
};

std::vector<std::string> Ids(const v1::PreviewWorkQueueResponse& p) {
  std::vector<std::string> out;
  for (const auto& r : p.runs()) out.push_back(r.id());
  return out;
}

v1::CreateWorkQueueRequest Queue(const std::string& name) {
  v1::CreateWorkQueueRequest q;
  q.set_name(name);
  return q;
}

}  // namespace

TEST_CASE("work queues: the default queue exists and cannot be deleted", "[work_queues]") {
  Fixture f;
  auto& c = *f.client;
  v1::GetWorkQueueRequest get;
  get.set_name("default");
  auto d = c.GetWorkQueue(get);
  REQUIRE(d.ok());
  CHECK(d->work_queue().name() == "default");
  CHECK_FALSE(d->work_queue().has_concurrency_limit());
  CHECK_FALSE(d->work_queue().paused());

  v1::DeleteWorkQueueRequest del;
  del.set_name("default");
  auto refused = c.DeleteWorkQueue(del);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == core::Code::kFailedPrecondition);
  CHECK(refused.error().message == "work queue \"default\" cannot be deleted");

  // Runs of a deployment that names no queue land in "default".
  f.Deploy("etl", "adhoc", "");
  auto id = f.Run("etl/adhoc", 60s);
  CHECK(f.Preview("default").runs(0).id() == id);
}

TEST_CASE("work queues: create, get, list, update, delete", "[work_queues]") {
  Fixture f;
  auto& c = *f.client;
  auto req = Queue("etl");
  req.set_description("nightly loads");
  req.mutable_filter()->add_tags("etl");
  req.mutable_filter()->add_tags("etl");  // duplicates are kept once
  req.mutable_filter()->add_deployments("etl/nightly");
  req.mutable_filter()->add_runner_types("process");
  req.set_concurrency_limit(2);
  req.set_priority(5);
  auto q = f.CreateQueue(req);
  CHECK_FALSE(q.id().empty());
  CHECK(q.description() == "nightly loads");
  REQUIRE(q.filter().tags_size() == 1);
  CHECK(q.filter().tags(0) == "etl");
  CHECK(q.filter().deployments(0) == "etl/nightly");
  CHECK(q.filter().runner_types(0) == "process");
  CHECK(q.has_concurrency_limit());
  CHECK(q.concurrency_limit() == 2);
  CHECK(q.priority() == 5);

  auto again = c.CreateWorkQueue(Queue("etl"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == core::Code::kAlreadyExists);
  CHECK(again.error().message == "work queue \"etl\" already exists");

  f.CreateQueue(Queue("a-first"));  // priority 0: listed before etl (5)
  auto high = Queue("urgent");
  high.set_priority(-1);
  f.CreateQueue(high);
  v1::ListWorkQueuesRequest ls;
  auto all = c.ListWorkQueues(ls);
  REQUIRE(all.ok());
  std::vector<std::string> names;
  for (const auto& w : all->work_queues()) names.push_back(w.name());
  CHECK(names == std::vector<std::string>{"urgent", "a-first", "default", "etl"});
  // Keyset pages give the same order.
  ls.mutable_page()->set_limit(3);
  auto p1 = c.ListWorkQueues(ls);
  REQUIRE(p1.ok());
  REQUIRE(p1->work_queues_size() == 3);
  REQUIRE_FALSE(p1->page().next_cursor().empty());
  ls.mutable_page()->set_cursor(p1->page().next_cursor());
  auto p2 = c.ListWorkQueues(ls);
  REQUIRE(p2.ok());
  REQUIRE(p2->work_queues_size() == 1);
  CHECK(p2->work_queues(0).name() == "etl");
  CHECK(p2->page().next_cursor().empty());

  v1::UpdateWorkQueueRequest up;
  up.set_name("etl");
  up.set_paused(true);
  up.set_clear_concurrency_limit(true);
  up.set_priority(1);
  auto u = c.UpdateWorkQueue(up);
  REQUIRE(u.ok());
  CHECK(u->work_queue().paused());
  CHECK_FALSE(u->work_queue().has_concurrency_limit());
  CHECK(u->work_queue().priority() == 1);
  CHECK(u->work_queue().description() == "nightly loads");  // untouched
  CHECK(u->work_queue().filter().tags_size() == 1);         // untouched

  v1::UpdateWorkQueueRequest filters;
  filters.set_name("etl");
  filters.set_set_filter(true);
  filters.mutable_filter()->add_tags("b");
  filters.mutable_filter()->add_tags("a");
  filters.set_concurrency_limit(0);
  auto u2 = c.UpdateWorkQueue(filters);
  REQUIRE(u2.ok());
  CHECK(u2->work_queue().filter().tags_size() == 2);
  CHECK(u2->work_queue().filter().deployments_size() == 0);
  CHECK(u2->work_queue().concurrency_limit() == 0);
  CHECK(u2->work_queue().paused());

  v1::DeleteWorkQueueRequest del;
  del.set_name("etl");
  REQUIRE(c.DeleteWorkQueue(del).ok());
  v1::GetWorkQueueRequest get;
  get.set_name("etl");
  auto gone = c.GetWorkQueue(get);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == core::Code::kNotFound);
  CHECK(gone.error().message.rfind("work queue \"etl\" not found", 0) == 0);
}

TEST_CASE("work queues: bad input names the field", "[work_queues]") {
  Fixture f;
  auto& c = *f.client;
  auto expect = [&](v1::CreateWorkQueueRequest req, const std::string& message) {
    auto r = c.CreateWorkQueue(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kInvalidArgument);
    CHECK(r.error().message == message);
  };
  expect(Queue("bad name"),
         "name: \"bad name\" may contain only letters, digits, '_', '.' and '-' (at most 200)");
  expect(Queue(""), "name: required");
  auto limit = Queue("q");
  limit.set_concurrency_limit(-1);
  expect(limit, "concurrency_limit: must be >= 0, got -1");
  auto runner = Queue("q");
  runner.mutable_filter()->add_runner_types("process");
  runner.mutable_filter()->add_runner_types("lambda");
  expect(runner, "filter.runner_types[1]: must be process, docker or kubernetes, got \"lambda\"");
  auto dep = Queue("q");
  dep.mutable_filter()->add_deployments("nightly");
  expect(dep,
         "filter.deployments[0]: must be a deployment's full name \"flow/name\", got "
         "\"nightly\"");
  auto tag = Queue("q");
  tag.mutable_filter()->add_tags("");
  expect(tag, "filter.tags[0]: must not be empty, got \"\"");

  v1::UpdateWorkQueueRequest up;
  up.set_name("nope");
  up.set_paused(true);
  auto missing = c.UpdateWorkQueue(up);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == core::Code::kNotFound);
  v1::UpdateWorkQueueRequest both;
  both.set_name("default");
  both.set_concurrency_limit(1);
  both.set_clear_concurrency_limit(true);
  auto conflict = c.UpdateWorkQueue(both);
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().message ==
        "clear_concurrency_limit: cannot be combined with concurrency_limit");
  v1::UpdateWorkQueueRequest neg;
  neg.set_name("default");
  neg.set_concurrency_limit(-3);
  auto negative = c.UpdateWorkQueue(neg);
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.error().message == "concurrency_limit: must be >= 0, got -3");

  v1::PreviewWorkQueueRequest pv;
  pv.set_name("nope");
  auto p = c.PreviewWorkQueue(pv);
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().code == core::Code::kNotFound);
  pv.set_name("default");
  pv.set_hours(-1);
  auto h = c.PreviewWorkQueue(pv);
  REQUIRE_FALSE(h.ok());
  CHECK(h.error().code == core::Code::kInvalidArgument);
  CHECK(h.error().message.rfind("hours: must be > 0", 0) == 0);
  v1::DeleteWorkQueueRequest del;
  del.set_name("nope");
  auto d = c.DeleteWorkQueue(del);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == core::Code::kNotFound);
}

TEST_CASE("work queues: preview lists due runs in start order within the hours window",
          "[work_queues]") {
  Fixture f;
  f.Deploy("etl", "nightly", "etl");
  f.Deploy("etl", "hourly", "etl");
  f.Deploy("other", "job", "other");
  auto later = f.Run("etl/nightly", 3h);
  auto first = f.Run("etl/hourly", 10min);
  auto second = f.Run("etl/nightly", 1h);
  auto far = f.Run("etl/hourly", 30h);
  f.Run("other/job", 5min);  // another queue
  f.CreateQueue(Queue("etl"));

  auto p = f.Preview("etl");  // 24 hours by default
  CHECK(Ids(p) == std::vector<std::string>{first, second, later});
  CHECK(p.total() == 3);
  CHECK(p.held_back() == 0);
  for (const auto& r : p.runs()) {
    CHECK(r.work_queue() == "etl");
    CHECK(r.state().type() == v1::SCHEDULED);
  }
  CHECK(Ids(f.Preview("etl", 2)) == std::vector<std::string>{first, second});
  CHECK(Ids(f.Preview("etl", 48)) == std::vector<std::string>{first, second, later, far});

  // A run that started is no longer handed out.
  v1::SetFlowRunStateRequest st;
  st.set_flow_run_id(first);
  *st.mutable_state() =
      client::ToProto(core::MakeState(core::StateType::kPending, std::chrono::system_clock::now()));
  st.set_force(true);
  REQUIRE(f.client->SetFlowRunState(st).ok());
  CHECK(Ids(f.Preview("etl")) == std::vector<std::string>{second, later});
}

TEST_CASE("work queues: filters by tags (all), deployments and runner types", "[work_queues]") {
  Fixture f;
  f.Deploy("etl", "nightly", "etl", {"etl"});
  f.Deploy("etl", "boxed", "etl", {"etl", "gpu"}, "docker");
  auto plain = f.Run("etl/nightly", 10min);
  auto gpu = f.Run("etl/nightly", 20min, {"gpu"});
  auto boxed = f.Run("etl/boxed", 30min);

  auto q = Queue("etl");
  q.mutable_filter()->add_tags("etl");
  f.CreateQueue(q);
  CHECK(Ids(f.Preview("etl")) == std::vector<std::string>{plain, gpu, boxed});

  v1::UpdateWorkQueueRequest up;
  up.set_name("etl");
  up.set_set_filter(true);
  up.mutable_filter()->add_tags("etl");
  up.mutable_filter()->add_tags("gpu");
  REQUIRE(f.client->UpdateWorkQueue(up).ok());
  CHECK(Ids(f.Preview("etl")) == std::vector<std::string>{gpu, boxed});

  up.mutable_filter()->Clear();
  up.mutable_filter()->add_deployments("etl/nightly");
  REQUIRE(f.client->UpdateWorkQueue(up).ok());
  CHECK(Ids(f.Preview("etl")) == std::vector<std::string>{plain, gpu});

  up.mutable_filter()->Clear();
  up.mutable_filter()->add_runner_types("docker");
  REQUIRE(f.client->UpdateWorkQueue(up).ok());
  CHECK(Ids(f.Preview("etl")) == std::vector<std::string>{boxed});

  up.mutable_filter()->Clear();
  up.mutable_filter()->add_runner_types("kubernetes");
  REQUIRE(f.client->UpdateWorkQueue(up).ok());
  CHECK(Ids(f.Preview("etl")).empty());
}

TEST_CASE("work queues: the concurrency limit counts Pending and Running runs, pause holds all",
          "[work_queues]") {
  Fixture f;
  f.Deploy("etl", "nightly", "etl");
  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i) ids.push_back(f.Run("etl/nightly", std::chrono::minutes(i)));
  auto q = Queue("etl");
  q.set_concurrency_limit(3);
  f.CreateQueue(q);

  auto p = f.Preview("etl");
  CHECK(p.total() == 5);
  CHECK(p.active_runs() == 0);
  CHECK(p.held_back() == 2);

  auto force = [&](const std::string& id, core::StateType type) {
    v1::SetFlowRunStateRequest st;
    st.set_flow_run_id(id);
    *st.mutable_state() = client::ToProto(core::MakeState(type, std::chrono::system_clock::now()));
    st.set_force(true);
    REQUIRE(f.client->SetFlowRunState(st).ok());
  };
  force(ids[0], core::StateType::kPending);
  force(ids[1], core::StateType::kRunning);
  p = f.Preview("etl");
  CHECK(p.total() == 3);
  CHECK(p.active_runs() == 2);
  CHECK(p.held_back() == 2);  // one open slot for three due runs
  force(ids[1], core::StateType::kCompleted);
  p = f.Preview("etl");
  CHECK(p.active_runs() == 1);
  CHECK(p.held_back() == 1);

  v1::UpdateWorkQueueRequest up;
  up.set_name("etl");
  up.set_paused(true);
  REQUIRE(f.client->UpdateWorkQueue(up).ok());
  p = f.Preview("etl");
  CHECK(p.work_queue().paused());
  CHECK(p.held_back() == p.total());
  up.set_paused(false);
  up.set_clear_concurrency_limit(true);
  REQUIRE(f.client->UpdateWorkQueue(up).ok());
  CHECK(f.Preview("etl").held_back() == 0);
}
