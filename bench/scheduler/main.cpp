// bench_scheduler: time for the scheduler to materialise runs for N (default 10,000) interval
// deployments. Creates the deployments through the domain layer (the same code as
// CreateDeployment) in a fresh database on the cluster named by --database-url /
// WEFT_TEST_DATABASE_URL, then times scheduler passes:
//   pass 1: every deployment gets its runs ahead (3 each with hourly intervals);
//   pass 2: nothing to do (idempotent: every run already exists);
//   pass 3: one hour later, one more run per deployment.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "server/orchestration/deployment_manager.hpp"
#include "server/orchestration/storage_catalog.hpp"
#include "server/services/scheduler.hpp"
#include "server/store/database.hpp"
#include "server/store/migrator.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;
namespace orch = weft::server::orchestration;

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

[[noreturn]] void Die(const std::string& what, const weft::core::Error& e) {
  std::fprintf(stderr, "error: %s: %s\n", what.c_str(), e.message.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"bench_scheduler: scheduler passes over N interval deployments"};
  std::string url;
  if (const char* v = std::getenv("WEFT_TEST_DATABASE_URL")) url = v;
  int n = 10000;
  double interval = 3600;
  int threads = 4;
  bool keep = false;
  int parallel = 2;
  std::size_t batch = 5000;
  cli.add_option("--database-url", url, "cluster URL (default WEFT_TEST_DATABASE_URL)");
  cli.add_option("-n,--deployments", n, "deployments to create")->capture_default_str();
  cli.add_option("--interval", interval, "schedule interval in seconds")->capture_default_str();
  cli.add_option("--threads", threads, "threads creating deployments")->capture_default_str();
  cli.add_flag("--keep", keep, "keep the bench database");
  cli.add_option("--write-parallelism", parallel, "scheduler write transactions at once")
      ->capture_default_str();
  cli.add_option("--insert-batch", batch, "rows per insert statement")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  if (url.empty()) {
    std::fprintf(stderr,
                 "error: no database: pass --database-url or run through scripts/with_pg.sh\n");
    return 2;
  }

  const std::string dbname = "weft_bench_scheduler_" + std::to_string(::getpid());
  if (auto st = weft::server::store::CreateDatabaseIfMissing(url, dbname); !st.ok()) {
    Die("create database", st.error());
  }
  int rc = 0;
  {
    weft::server::store::DatabaseOptions o;
    o.url = weft::server::store::WithDatabaseName(url, dbname);
    o.pool_size = std::max(4, threads);
    auto db = weft::server::store::Database::Open(o, nullptr);
    if (!db.ok()) Die("open database", db.error());
    if (auto m = weft::server::store::Migrator(**db, nullptr).Migrate(); !m.ok()) {
      Die("migrate", m.error());
    }
    weft::core::FakeClock clock(std::chrono::system_clock::now());
    orch::Orchestrator orchestrator(**db, clock, nullptr);
    orch::RunService runs(orchestrator);
    orch::StorageCatalog storage(**db, 1 << 20, nullptr);
    orch::DeploymentManager deployments(orchestrator, runs, nullptr);
    if (auto s = storage.Create({"flows", "local", {{"path", "/srv/flows"}}, false}); !s.ok()) {
      Die("create storage", s.error());
    }

    auto t0 = SteadyClock::now();
    std::atomic<int> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = next++; i < n; i = next++) {
          orch::DeploymentInput in;
          in.spec.name = "d" + std::to_string(i);
          in.spec.flow_name = "bench-flow-" + std::to_string(i % 100);
          in.spec.entrypoint = {"./flow"};
          in.spec.storage = "flows";
          weft::core::IntervalSchedule every;
          every.interval_seconds = interval;
          every.anchor = weft::core::ParseTime("2026-01-01T00:00:00Z").value() +
                         std::chrono::seconds(i % 3600);
          in.spec.schedule = every;
          in.spec.tags = {"bench"};
          in.bundle_digest = "sha256:" + std::string(64, 'c');
          in.bundle_size = 1;
          auto r = deployments.Upsert(in);
          if (!r.ok()) Die("create deployment", r.error());
        }
      });
    }
    for (auto& t : pool) t.join();
    double setup_ms = Ms(SteadyClock::now() - t0);

    weft::server::services::SchedulerOptions so;
    so.write_parallelism = parallel;
    so.insert_batch = batch;
    weft::server::services::Scheduler scheduler(orchestrator, so, nullptr);
    auto timed = [&](const char* label) {
      auto start = SteadyClock::now();
      auto r = scheduler.RunPass();
      double ms = Ms(SteadyClock::now() - start);
      if (!r.ok()) Die(label, r.error());
      std::printf(
          "%-34s %9.1f ms   runs created %7d   %10.0f runs/s   (load %.0f, plan %.0f, "
          "write %.0f ms)\n",
          label, ms, r->runs_created, r->runs_created > 0 ? r->runs_created / (ms / 1000) : 0.0,
          r->load_ms, r->plan_ms, r->write_ms);
      return r->runs_created;
    };
    std::printf(
        "bench_scheduler: %d interval deployments (every %.0f s), defaults min_runs=%d "
        "min_time=%.0fs max_runs=%d, write parallelism %d\n",
        n, interval, so.min_runs, so.min_time_seconds, so.max_runs, parallel);
    std::printf("%-34s %9.1f ms\n", "setup (create deployments)", setup_ms);
    int first = timed("pass 1 (materialise)");
    int second = timed("pass 2 (idempotent, nothing new)");
    clock.Advance(std::chrono::seconds(static_cast<long>(interval)));
    timed("pass 3 (one interval later)");
    if (second != 0 || first < n) {
      std::fprintf(stderr, "error: unexpected run counts (pass 1 %d, pass 2 %d)\n", first, second);
      rc = 1;
    }
  }
  if (!keep) (void)weft::server::store::DropDatabase(url, dbname);
  return rc;
}
