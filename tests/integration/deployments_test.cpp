// Deployments through the API: create/update, validation errors, manual runs with
// parameters checked against the flow's schema, upcoming runs, backfills, the storage
// link, and the scheduler reacting to a new deployment.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "sdk/client/convert.hpp"
#include "tests/integration/server_fixture.hpp"

using namespace weft;
using namespace std::chrono_literals;

namespace {

const std::string kDigest = "sha256:" + std::string(64, 'b');

using Fixture = test::ApiServerWithStorage;

v1::DeploymentSpec Spec(const std::string& flow, const std::string& name) {
  v1::DeploymentSpec s;
  s.set_name(name);
  s.set_flow_name(flow);
  s.add_entrypoint("./" + flow);
  s.add_entrypoint("--fast");
  s.mutable_bundle()->set_storage("flows");
  s.mutable_bundle()->set_digest(kDigest);
  s.mutable_bundle()->set_size(123);
  s.set_parameters_json(R"({"months":2})");
  s.add_tags("ml");
  s.set_work_queue("ml");
  return s;
}

v1::DeploymentRef Ref(const std::string& full_name) {
  v1::DeploymentRef r;
  r.set_full_name(full_name);
  return r;
}

core::Result<v1::CreateDeploymentResponse> Create(client::Client& c, const v1::DeploymentSpec& s) {
  v1::CreateDeploymentRequest req;
  *req.mutable_spec() = s;
  return c.CreateDeployment(req);
}

template <typename F>
bool Eventually(F&& condition, std::chrono::milliseconds deadline = 5000ms) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

}  // namespace

TEST_CASE("deployments: create, get, list, upsert", "[deployments][grpc]") {
  Fixture f;
  auto& c = *f.client;
  auto spec = Spec("taxi_training", "weekly");
  spec.mutable_schedule()->mutable_cron()->set_expression("0 6 * * 1");
  spec.mutable_schedule()->mutable_cron()->set_timezone("Europe/Berlin");
  auto r = Create(c, spec);
  REQUIRE(r.ok());
  CHECK(r->created());
  const auto& d = r->deployment();
  CHECK_FALSE(d.id().empty());
  CHECK(d.spec().flow_name() == "taxi_training");
  CHECK(d.spec().bundle().storage() == "flows");
  CHECK(d.spec().bundle().digest() == kDigest);
  CHECK(d.spec().entrypoint_size() == 2);
  CHECK(d.spec().schedule().cron().expression() == "0 6 * * 1");
  CHECK(d.spec().catchup().policy() == "latest");
  CHECK(d.spec().runner().type() == "process");
  CHECK_THAT(d.schedule_description(), Catch::Contains("0 6 * * 1"));
  CHECK_FALSE(d.paused());

  v1::GetDeploymentRequest get;
  *get.mutable_ref() = Ref("taxi_training/weekly");
  auto g = c.GetDeployment(get);
  REQUIRE(g.ok());
  CHECK(g->deployment().id() == d.id());
  get.mutable_ref()->set_id(d.id());
  REQUIRE(c.GetDeployment(get).ok());

  *get.mutable_ref() = Ref("taxi_training/nope");
  auto missing = c.GetDeployment(get);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == core::Code::kNotFound);
  CHECK(missing.error().message == "deployment \"taxi_training/nope\" not found");

  spec.set_description("weekly retraining");
  spec.set_paused(true);
  auto up = Create(c, spec);
  REQUIRE(up.ok());
  CHECK_FALSE(up->created());
  CHECK(up->deployment().id() == d.id());
  CHECK(up->deployment().paused());
  CHECK(up->deployment().spec().description() == "weekly retraining");

  REQUIRE(Create(c, Spec("etl", "nightly")).ok());
  auto list = c.ListDeployments({});
  REQUIRE(list.ok());
  REQUIRE(list->deployments_size() == 2);
  CHECK(list->deployments(0).spec().flow_name() == "etl");
  v1::ListDeploymentsRequest paged;
  paged.mutable_page()->set_limit(1);
  auto p1 = c.ListDeployments(paged);
  REQUIRE(p1.ok());
  CHECK(p1->deployments_size() == 1);
  paged.mutable_page()->set_cursor(p1->page().next_cursor());
  auto p2 = c.ListDeployments(paged);
  REQUIRE(p2.ok());
  REQUIRE(p2->deployments_size() == 1);
  CHECK(p2->deployments(0).spec().flow_name() == "taxi_training");
}

TEST_CASE("deployments: each spec error names its field and nothing is created",
          "[deployments][grpc]") {
  Fixture f;
  auto& c = *f.client;
  struct Case {
    std::function<void(v1::DeploymentSpec&)> edit;
    core::Code code;
    std::string expected;
  };
  std::vector<Case> cases = {
      {[](auto& s) { s.set_name("bad name"); }, core::Code::kInvalidArgument, "spec.name: "},
      {[](auto& s) { s.clear_entrypoint(); }, core::Code::kInvalidArgument, "spec.entrypoint: "},
      {[](auto& s) { s.mutable_schedule()->mutable_cron()->set_expression("0 9 * * 8"); },
       core::Code::kInvalidArgument, "spec.schedule.cron: "},
      {[](auto& s) { s.mutable_schedule()->mutable_interval()->set_interval_seconds(0); },
       core::Code::kInvalidArgument, "spec.schedule.interval: "},
      {[](auto& s) {
         s.mutable_schedule()->mutable_cron()->set_expression("0 9 * * 1");
         s.mutable_schedule()->mutable_cron()->set_timezone("Mars/Olympus");
       },
       core::Code::kInvalidArgument, "spec.schedule.timezone: "},
      {[](auto& s) { s.mutable_bundle()->set_storage("x"); }, core::Code::kInvalidArgument,
       "spec.bundle.storage: unknown storage \"x\" (run `weft storage ls`)"},
      {[](auto& s) { s.mutable_bundle()->set_digest("sha256:xyz"); }, core::Code::kInvalidArgument,
       "spec.bundle.digest: "},
      {[](auto& s) { s.set_parameters_json("[1]"); }, core::Code::kInvalidArgument,
       "spec.parameters_json: must be a JSON object"},
      {[](auto& s) { s.mutable_runner()->set_type("vm"); }, core::Code::kInvalidArgument,
       "spec.runner.type: "},
      {[](auto& s) { s.mutable_runner()->set_type("docker"); }, core::Code::kInvalidArgument,
       "spec.runner.image: required for runner type docker"},
      {[](auto& s) { s.mutable_runner()->set_type("kubernetes"); }, core::Code::kInvalidArgument,
       "spec.runner.image: required for runner type kubernetes"},
      {[](auto& s) {
         s.mutable_runner()->set_type("docker");
         s.mutable_runner()->set_image("--privileged");
       },
       core::Code::kInvalidArgument,
       "spec.runner.image: \"--privileged\" is not a valid image reference: starts with '-'"},
      {[](auto& s) {
         s.mutable_runner()->set_type("kubernetes");
         s.mutable_runner()->set_image("etl job:1");
       },
       core::Code::kInvalidArgument,
       "spec.runner.image: \"etl job:1\" is not a valid image reference: contains whitespace"},
      {[](auto& s) { s.mutable_catchup()->set_policy("some"); }, core::Code::kInvalidArgument,
       "spec.catchup.policy: must be all, latest or none, got \"some\""},
      // Server storage: the bundle must have been uploaded.
      {[](auto& s) { s.mutable_bundle()->set_storage(""); }, core::Code::kFailedPrecondition,
       "spec.bundle.digest: bundle " + kDigest + " is not in storage \"server\""},
  };
  for (const auto& k : cases) {
    INFO(k.expected);
    auto spec = Spec("etl", "nightly");
    k.edit(spec);
    auto r = Create(c, spec);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == k.code);
    CHECK_THAT(r.error().message, Catch::StartsWith(k.expected));
  }
  auto list = c.ListDeployments({});
  REQUIRE(list.ok());
  CHECK(list->deployments_size() == 0);
}

TEST_CASE("deployments: RunDeployment creates a Scheduled manual run with checked parameters",
          "[deployments][grpc]") {
  Fixture f;
  auto& c = *f.client;
  v1::CreateFlowRequest flow;
  flow.set_name("taxi_training");
  flow.set_parameters_schema_json(
      R"([{"name":"months","type":"int","default":2,"required":false},)"
      R"({"name":"model","type":"string","default":"xgb","required":false}])");
  REQUIRE(c.CreateFlow(flow).ok());

  auto bad_spec = Spec("taxi_training", "weekly");
  bad_spec.set_parameters_json(R"({"months":"many"})");
  bad_spec.mutable_schedule()->mutable_interval()->set_interval_seconds(3600);
  auto refused = Create(c, bad_spec);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(refused.error().message,
             Catch::StartsWith("spec.parameters_json: ") && Catch::Contains("months"));

  REQUIRE(Create(c, Spec("taxi_training", "weekly")).ok());
  v1::RunDeploymentRequest run;
  *run.mutable_ref() = Ref("taxi_training/weekly");
  run.set_parameters_json(R"({"months":"abc"})");
  auto bad = c.RunDeployment(run);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(bad.error().message,
             Catch::StartsWith("parameters_json: ") && Catch::Contains("\"months\""));
  run.set_parameters_json(R"({"colour":"red"})");
  auto unknown = c.RunDeployment(run);
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.error().message, Catch::Contains("colour"));

  auto start = std::chrono::system_clock::now() + 10min;
  run.set_parameters_json(R"({"model":"lgbm"})");
  *run.mutable_start_time() = client::ToProto(start);
  run.add_tags("adhoc");
  run.set_idempotency_key("req-1");
  auto ok = c.RunDeployment(run);
  REQUIRE(ok.ok());
  CHECK(ok->created());
  const auto& fr = ok->flow_run();
  CHECK(fr.state().type() == v1::SCHEDULED);
  CHECK(fr.state().name() == "Scheduled");
  CHECK(client::FromProto(fr.expected_start_time()) ==
        std::chrono::time_point_cast<std::chrono::microseconds>(start));
  CHECK(fr.deployment_name() == "taxi_training/weekly");
  CHECK_FALSE(fr.deployment_id().empty());
  CHECK_FALSE(fr.auto_scheduled());
  CHECK(fr.work_queue() == "ml");
  CHECK(fr.parameters_json() == R"({"model": "lgbm", "months": 2})");
  CHECK(std::vector<std::string>(fr.tags().begin(), fr.tags().end()) ==
        std::vector<std::string>{"ml", "adhoc"});
  auto again = c.RunDeployment(run);
  REQUIRE(again.ok());
  CHECK_FALSE(again->created());
  CHECK(again->flow_run().id() == fr.id());

  // ListFlowRuns filters by deployment.
  v1::ListFlowRunsRequest lr;
  lr.set_deployment("taxi_training/weekly");
  auto listed = c.ListFlowRuns(lr);
  REQUIRE(listed.ok());
  REQUIRE(listed->flow_runs_size() == 1);
  CHECK(listed->flow_runs(0).id() == fr.id());
  lr.set_deployment("taxi_training/nope");
  auto nope = c.ListFlowRuns(lr);
  REQUIRE_FALSE(nope.ok());
  CHECK(nope.error().code == core::Code::kNotFound);
}

TEST_CASE("deployments: upcoming runs, backfill, pause, delete and the storage link",
          "[deployments][grpc]") {
  Fixture f;
  auto& c = *f.client;
  auto spec = Spec("etl", "hourly");
  spec.mutable_schedule()->mutable_interval()->set_interval_seconds(3600);
  auto created = Create(c, spec);
  REQUIRE(created.ok());

  // The scheduler (loop interval 1 h here) reacts to the new deployment at once.
  v1::ListUpcomingRunsRequest up;
  *up.mutable_ref() = Ref("etl/hourly");
  core::Result<v1::ListUpcomingRunsResponse> upcoming = core::Error{};
  REQUIRE(Eventually([&] {
    upcoming = c.ListUpcomingRuns(up);
    return upcoming.ok() && upcoming->flow_runs_size() >= 3;
  }));
  REQUIRE(upcoming->flow_runs_size() == 3);
  for (int i = 0; i < upcoming->flow_runs_size(); ++i) {
    const auto& r = upcoming->flow_runs(i);
    CHECK(r.auto_scheduled());
    CHECK(r.state().name() == "Scheduled");
    if (i > 0) {
      CHECK(client::FromProto(upcoming->flow_runs(i - 1).expected_start_time()) <
            client::FromProto(r.expected_start_time()));
    }
  }
  up.set_limit(2);
  auto two = c.ListUpcomingRuns(up);
  REQUIRE(two.ok());
  CHECK(two->flow_runs_size() == 2);

  // Backfill: the schedule's times in [from, to]; a second time finds them all.
  auto anchor = core::ParseTime("2020-01-01T00:00:00Z");
  REQUIRE(anchor);
  v1::BackfillRequest bf;
  *bf.mutable_ref() = Ref("etl/hourly");
  *bf.mutable_from() = client::ToProto(*anchor + 24h * 30);
  *bf.mutable_to() = client::ToProto(*anchor + 24h * 30 + 5h);
  auto b1 = c.Backfill(bf);
  REQUIRE(b1.ok());
  CHECK(b1->created() == 6);
  CHECK(b1->existing() == 0);
  CHECK(b1->flow_runs_size() == 6);
  auto b2 = c.Backfill(bf);
  REQUIRE(b2.ok());
  CHECK(b2->created() == 0);
  CHECK(b2->existing() == 6);
  *bf.mutable_to() = client::ToProto(*anchor + 24h * 300);
  auto too_many = c.Backfill(bf);
  REQUIRE_FALSE(too_many.ok());
  CHECK(too_many.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(too_many.error().message, Catch::Contains("6481") && Catch::Contains("1000"));

  // oldest_first lists by expected start time.
  v1::ListFlowRunsRequest lr;
  lr.set_deployment(created->deployment().id());
  lr.set_oldest_first(true);
  lr.mutable_page()->set_limit(4);
  auto oldest = c.ListFlowRuns(lr);
  REQUIRE(oldest.ok());
  REQUIRE(oldest->flow_runs_size() == 4);
  CHECK(client::FromProto(oldest->flow_runs(0).expected_start_time()) == *anchor + 24h * 30);
  lr.mutable_page()->set_cursor(oldest->page().next_cursor());
  auto rest = c.ListFlowRuns(lr);
  REQUIRE(rest.ok());
  CHECK(rest->flow_runs_size() == 4);
  CHECK(client::FromProto(rest->flow_runs(0).expected_start_time()) == *anchor + 24h * 30 + 4h);

  // The storage cannot go while the deployment uses it.
  v1::DeleteStorageRequest ds;
  ds.set_name("flows");
  auto refused = c.DeleteStorage(ds);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == core::Code::kFailedPrecondition);
  CHECK(refused.error().message == "storage \"flows\" is used by deployments: etl/hourly");
  v1::GetStorageRequest gs;
  gs.set_name("flows");
  auto st = c.GetStorage(gs);
  REQUIRE(st.ok());
  REQUIRE(st->storage().used_by_size() == 1);
  CHECK(st->storage().used_by(0) == "etl/hourly");

  // Pause removes the future auto runs; resume brings them back.
  v1::SetDeploymentPausedRequest pause;
  *pause.mutable_ref() = Ref("etl/hourly");
  pause.set_paused(true);
  auto paused = c.SetDeploymentPaused(pause);
  REQUIRE(paused.ok());
  CHECK(paused->deployment().paused());
  up.set_limit(0);
  auto after_pause = c.ListUpcomingRuns(up);
  REQUIRE(after_pause.ok());
  for (const auto& r : after_pause->flow_runs()) {
    CHECK(client::FromProto(r.expected_start_time()) < std::chrono::system_clock::now());
  }
  pause.set_paused(false);
  REQUIRE(c.SetDeploymentPaused(pause).ok());
  REQUIRE(Eventually([&] {
    auto u = c.ListUpcomingRuns(up);
    int future = 0;
    if (u.ok()) {
      for (const auto& r : u->flow_runs()) {
        future += client::FromProto(r.expected_start_time()) > std::chrono::system_clock::now();
      }
    }
    return future >= 3;
  }));

  // Deleting the deployment deletes its SCHEDULED runs; then the storage can go.
  v1::DeleteDeploymentRequest dd;
  *dd.mutable_ref() = Ref("etl/hourly");
  auto deleted = c.DeleteDeployment(dd);
  REQUIRE(deleted.ok());
  CHECK(deleted->deleted_runs() >= 9);
  REQUIRE(c.DeleteStorage(ds).ok());
  v1::GetDeploymentRequest gd;
  *gd.mutable_ref() = Ref("etl/hourly");
  auto gone = c.GetDeployment(gd);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == core::Code::kNotFound);
}

TEST_CASE("deployments: a change made through another replica wakes the scheduling replica",
          "[deployments][grpc]") {
  Fixture a;  // started first: its scheduler holds the lease
  server::app::Settings s;
  s.grpc_address = "127.0.0.1:0";
  s.database_url = a.database.url();
  s.pool_size = 4;
  s.log_level = "warn";
  s.scheduler_interval = 3600;
  server::app::App b(s);
  REQUIRE(b.Start().ok());
  client::ClientOptions o;
  o.address = b.grpc_address();
  o.api_key = b.admin_key();
  client::Client cb(o);

  auto spec = Spec("etl", "replicated");
  spec.mutable_schedule()->mutable_interval()->set_interval_seconds(600);
  REQUIRE(Create(cb, spec).ok());
  v1::ListUpcomingRunsRequest up;
  *up.mutable_ref() = Ref("etl/replicated");
  REQUIRE(Eventually([&] {
    auto u = cb.ListUpcomingRuns(up);
    return u.ok() && u->flow_runs_size() >= 3;
  }));
}

TEST_CASE(
    "deployments: schedule limits: an every-second rrule is served at once; a sub-second "
    "interval and an over-long rule are refused",
    "[deployments][grpc][limits]") {
  Fixture f;
  // Answers within a few seconds, or the call fails: before the rrule search was lazy, this
  // rule took ~10 s to compile and ~12 s per schedule time in a Debug build (a backfill of
  // one day: 86,400 of them) while the scheduler's pass held the same rule.
  client::ClientOptions o;
  o.address = f.app->grpc_address();
  o.api_key = f.app->admin_key();
  o.timeout_seconds = 5;
  client::Client c(o);
  auto list = [](int from, int to) {
    std::string out;
    for (int i = from; i <= to; ++i) out += (i == from ? "" : ",") + std::to_string(i);
    return out;
  };
  const std::string rule = "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=" + list(0, 23) +
                           ";BYMINUTE=" + list(0, 59) + ";BYSECOND=" + list(0, 59);
  auto spec = Spec("etl", "every_second");
  spec.mutable_schedule()->mutable_rrule()->set_rrule(rule);
  auto created = Create(c, spec);
  REQUIRE(created.ok());

  // A backfill of one day holds 86,400 times: refused by the backfill's own limit, at once.
  auto from = core::ParseTime("2026-01-01T00:00:00Z");
  REQUIRE(from);
  v1::BackfillRequest bf;
  *bf.mutable_ref() = Ref("etl/every_second");
  *bf.mutable_from() = client::ToProto(*from);
  *bf.mutable_to() = client::ToProto(*from + 24h - 1s);
  auto day = c.Backfill(bf);
  REQUIRE_FALSE(day.ok());
  CHECK(day.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(day.error().message, Catch::Contains("86400") && Catch::Contains("1000"));
  // A minute of it: 60 runs.
  *bf.mutable_to() = client::ToProto(*from + 59s);
  auto minute = c.Backfill(bf);
  REQUIRE(minute.ok());
  CHECK(minute->created() == 60);

  // The scheduler (woken by the new deployment) plans its runs ahead; every call still
  // answers meanwhile.
  v1::ListUpcomingRunsRequest up;
  *up.mutable_ref() = Ref("etl/every_second");
  CHECK(Eventually([&] {
    auto u = c.ListUpcomingRuns(up);
    REQUIRE(u.ok());
    return u->flow_runs_size() >= 3;
  }));
  REQUIRE(c.ListDeployments({}).ok());

  // Refused, naming the field; the deployment keeps its rule.
  struct Case {
    std::function<void(v1::DeploymentSpec&)> edit;
    std::string expected;
  };
  std::vector<Case> cases = {
      {[](auto& s) { s.mutable_schedule()->mutable_interval()->set_interval_seconds(0.5); },
       "spec.schedule.interval: must be at least 1 second, got 0.5 seconds"},
      {[](auto& s) { s.mutable_schedule()->mutable_interval()->set_interval_seconds(1e-6); },
       "spec.schedule.interval: must be at least 1 second, got 1e-06 seconds"},
      {[&](auto& s) {
         s.mutable_schedule()->mutable_rrule()->set_rrule(rule + std::string(2000, ' '));
       },
       "spec.schedule.rrule: must be at most 2000 characters, got " +
           std::to_string(rule.size() + 2000)},
      {[](auto& s) {
         s.mutable_schedule()->mutable_rrule()->set_rrule(
             "FREQ=MINUTELY;INTERVAL=2;BYMINUTE=1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31,33,35,"
             "37,39,41,43,45,47,49,51,53,55,57,59");
       },
       "(the search limit)"},
  };
  for (const auto& k : cases) {
    for (const std::string name : {"every_second", "new_one"}) {
      auto s = Spec("etl", name);
      k.edit(s);
      auto r = Create(c, s);
      INFO(name << ": " << k.expected);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == core::Code::kInvalidArgument);
      CHECK_THAT(r.error().message, Catch::Contains(k.expected));
    }
  }
  // An interval of exactly the minimum is accepted.
  auto one = Spec("etl", "one_second");
  one.mutable_schedule()->mutable_interval()->set_interval_seconds(1);
  REQUIRE(Create(c, one).ok());
  auto all = c.ListDeployments({});
  REQUIRE(all.ok());
  CHECK(all->deployments_size() == 2);
  v1::GetDeploymentRequest get;
  *get.mutable_ref() = Ref("etl/every_second");
  auto kept = c.GetDeployment(get);
  REQUIRE(kept.ok());
  CHECK(kept->deployment().spec().schedule().rrule().rrule() == rule);
}
