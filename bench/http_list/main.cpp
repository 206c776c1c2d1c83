// bench_http_list: time of GET /api/flow-runs (the dashboard's list) with N (default
// 100,000) runs in a fresh database on the cluster named by --database-url /
// WEFT_TEST_DATABASE_URL. Runs are made by backfilling two interval deployments through
// the domain layer (flow "bulk": 90%, tag bulk; flow "rare": 10%, tag rare), 1% of them are
// then forced to FAILED. The HTTP server is the real one (weft_server_http) on 127.0.0.1:0;
// each request is timed over loopback by a keep-alive client sending a Bearer admin key;
// the median of --repeat is printed. Figures are printed, never asserted (docs/PERFORMANCE.md).
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "server/auth/authenticator.hpp"
#include "server/http/http_server.hpp"
#include "server/orchestration/agent_manager.hpp"
#include "server/orchestration/deployment_manager.hpp"
#include "server/orchestration/storage_catalog.hpp"
#include "server/orchestration/work_queue_manager.hpp"
#include "server/store/database.hpp"
#include "server/store/migrator.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;
namespace orch = weft::server::orchestration;
namespace core = weft::core;

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

[[noreturn]] void Die(const std::string& what, const std::string& message) {
  std::fprintf(stderr, "error: %s: %s\n", what.c_str(), message.c_str());
  std::exit(1);
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"bench_http_list: the dashboard's flow-runs list over N runs"};
  std::string url;
  if (const char* v = std::getenv("WEFT_TEST_DATABASE_URL")) url = v;
  int n = 100000;
  int repeat = 7;
  int deep = 200;
  bool keep = false;
  cli.add_option("--database-url", url, "cluster URL (default WEFT_TEST_DATABASE_URL)");
  cli.add_option("-n,--runs", n, "runs to create")->capture_default_str();
  cli.add_option("--repeat", repeat, "requests per figure (median printed)")->capture_default_str();
  cli.add_option("--deep", deep, "pages followed before the deep-cursor figure")
      ->capture_default_str();
  cli.add_flag("--keep", keep, "keep the bench database");
  CLI11_PARSE(cli, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  if (url.empty()) {
    std::fprintf(stderr,
                 "error: no database: pass --database-url or run through scripts/with_pg.sh\n");
    return 2;
  }
  const std::string dbname = "weft_bench_http_list_" + std::to_string(::getpid());
  if (auto st = weft::server::store::CreateDatabaseIfMissing(url, dbname); !st.ok()) {
    Die("create database", st.error().message);
  }
  {
    weft::server::store::DatabaseOptions o;
    o.url = weft::server::store::WithDatabaseName(url, dbname);
    o.pool_size = 8;
    auto db = weft::server::store::Database::Open(o, nullptr);
    if (!db.ok()) Die("open database", db.error().message);
    if (auto m = weft::server::store::Migrator(**db, nullptr).Migrate(); !m.ok()) {
      Die("migrate", m.error().message);
    }
    const core::Clock& clock = core::SystemClock::Instance();
    orch::Orchestrator orchestrator(**db, clock, nullptr);
    orch::RunService runs(orchestrator);
    orch::StorageCatalog storage(**db, 1 << 20, nullptr);
    orch::DeploymentManager deployments(orchestrator, runs, nullptr);
    orch::WorkQueueManager queues(**db, clock, nullptr);
    orch::AgentManager agents(orchestrator, orch::AgentOptions{}, nullptr);
    if (auto s = storage.Create({"flows", "local", {{"path", "/srv/flows"}}, false}); !s.ok()) {
      Die("create storage", s.error().message);
    }

    // Runs: backfills of 1,000 (one transaction each) of two minutely deployments.
    auto t0 = SteadyClock::now();
    auto from = core::ParseTime("2025-01-01T00:00:00Z").value();
    int made = 0;
    for (const char* flow : {"bulk", "rare"}) {
      orch::DeploymentInput in;
      in.spec.name = "every-minute";
      in.spec.flow_name = flow;
      in.spec.entrypoint = {"./flow"};
      in.spec.storage = "flows";
      core::IntervalSchedule every;
      every.interval_seconds = 60;
      every.anchor = from;
      in.spec.schedule = every;
      in.spec.tags = {flow};
      in.bundle_digest = "sha256:" + std::string(64, 'c');
      in.bundle_size = 1;
      auto dep = deployments.Upsert(in);
      if (!dep.ok()) Die("create deployment", dep.error().message);
      orch::DeploymentKey key{dep->deployment.record.id, ""};
      int target = std::string(flow) == "bulk" ? n - n / 10 : n / 10;
      for (int done = 0; done < target;) {
        int chunk = std::min<int>(1000, target - done);
        auto start = from + std::chrono::minutes(done);
        auto r = deployments.Backfill(key, start, start + std::chrono::minutes(chunk - 1));
        if (!r.ok()) Die("backfill", r.error().message);
        done += chunk;
        made += r->created;
      }
      from += std::chrono::minutes(target + 10);
    }
    double seed_ms = Ms(SteadyClock::now() - t0);
    // 1% FAILED (forced, like a manual state change), newest runs spread over the range.
    auto t1 = SteadyClock::now();
    weft::server::store::FlowRunFilter all;
    all.limit = 1000;
    int failed = 0;
    std::optional<weft::server::store::Cursor> after;
    for (int page = 0; failed < n / 100; ++page) {
      all.after = after;
      auto list = runs.ListFlowRuns(all);
      if (!list.ok() || list->empty()) break;
      for (std::size_t i = 0; i < list->size(); i += 100) {
        const auto& r = (*list)[i];
        auto st = runs.SetState(
            weft::core::orchestration::RunKind::kFlowRun, r.run.id,
            core::MakeState(core::StateType::kFailed, clock.Now(), "Failed", "bench"), true);
        if (!st.ok()) Die("set state", st.error().message);
        ++failed;
      }
      after = weft::server::store::Cursor{list->back().created, list->back().run.id};
    }
    double fail_ms = Ms(SteadyClock::now() - t1);

    // The dashboard's API authenticates every call: a fresh admin key, sent as a Bearer token
    // (its check is cached, so the figures include the middleware but no key lookup).
    weft::server::auth::Authenticator authenticator(**db, clock, {}, spdlog::default_logger());
    if (auto st = authenticator.Start(); !st.ok()) Die("auth", st.error().message);
    auto admin_key = authenticator.EnsureLocalAdminKey("");
    if (!admin_key.ok()) Die("admin key", admin_key.error().message);
    weft::server::http::HttpOptions ho;
    ho.address = "127.0.0.1:0";
    ho.authenticator = &authenticator;
    weft::server::http::HttpServer http(
        {runs, storage, deployments, queues, agents, nullptr, nullptr}, ho,
        spdlog::default_logger(), clock);
    if (auto st = http.Start(); !st.ok()) Die("http", st.error().message);
    httplib::Client client("http://" + http.address());
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    client.set_bearer_token_auth(*admin_key);

    std::printf("bench_http_list: %d runs (seeded in %.1f s; %d forced FAILED in %.1f s)\n", made,
                seed_ms / 1000, failed, fail_ms / 1000);
    auto timed = [&](const std::string& label, const std::string& path) {
      std::vector<double> ms;
      std::size_t bytes = 0;
      int count = 0;
      for (int i = 0; i < repeat; ++i) {
        auto start = SteadyClock::now();
        auto res = client.Get(path);
        ms.push_back(Ms(SteadyClock::now() - start));
        if (!res || res->status != 200) {
          Die(label, res ? res->body : httplib::to_string(res.error()));
        }
        bytes = res->body.size();
        auto j = nlohmann::json::parse(res->body);
        count =
            static_cast<int>(j.contains("flow_runs") ? j["flow_runs"].size() : j["points"].size());
      }
      std::sort(ms.begin(), ms.end());
      std::printf("  %-44s median %7.2f ms  (min %6.2f, max %6.2f)  %3d rows  %6.1f KiB\n",
                  label.c_str(), ms[ms.size() / 2], ms.front(), ms.back(), count, bytes / 1024.0);
    };
    timed("first page (50)", "/api/flow-runs?limit=50");
    timed("first page (200, the maximum)", "/api/flow-runs?limit=200");
    timed("flow=rare (10% of runs)", "/api/flow-runs?flow=rare&limit=50");
    timed("tag=rare (10%, no tag index)", "/api/flow-runs?tag=rare&limit=50");
    timed("state=FAILED (1%)", "/api/flow-runs?state=FAILED&limit=50");
    timed("deployment=rare/every-minute", "/api/flow-runs?deployment=rare/every-minute&limit=50");
    timed("since..until (a range holding every run)",
          "/api/flow-runs?since=2020-01-01T00:00:00Z&until=2100-01-01T00:00:00Z&limit=50");
    timed("state=COMPLETED (none match)", "/api/flow-runs?state=COMPLETED&limit=50");
    // Deep: follow next_cursor `deep` pages, then time the next one.
    std::string cursor;
    for (int i = 0; i < deep; ++i) {
      auto res = client.Get("/api/flow-runs?limit=200&cursor=" + UrlEncode(cursor));
      if (!res || res->status != 200) Die("deep walk", res ? res->body : "no answer");
      cursor = nlohmann::json::parse(res->body)["next_cursor"];
      if (cursor.empty()) break;
    }
    timed("page after " + std::to_string(deep) + " x 200 rows (cursor)",
          "/api/flow-runs?limit=50&cursor=" + UrlEncode(cursor));
    timed("history chart (newest 200)", "/api/flow-runs/history?limit=200");
    timed("history chart (1000, the maximum)", "/api/flow-runs/history?limit=1000");
    http.Stop();
  }
  if (!keep) (void)weft::server::store::DropDatabase(url, dbname);
  return 0;
}
