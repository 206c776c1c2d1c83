// bench_transitions: task-run state transitions per second through the gRPC API into
// PostgreSQL, with M concurrent reporters, batched (ReportTaskRuns) and one call per
// transition (CreateTaskRun + SetTaskRunState). The server runs in-process on loopback
// against a fresh database on the cluster named by --database-url / WEFT_TEST_DATABASE_URL.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "sdk/client/client.hpp"
#include "server/app/app.hpp"
#include "server/store/database.hpp"

namespace {

// The embedded server's admin key (every call is authenticated).
std::string g_api_key;

using Clock = std::chrono::steady_clock;

std::string NewUuid(std::mt19937_64& rng) {
  char buf[40];
  std::uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(b >> 52),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

google::protobuf::Timestamp Ts(std::chrono::system_clock::time_point t) {
  google::protobuf::Timestamp ts;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int>(ns % 1000000000));
  return ts;
}

struct Figures {
  long transitions = 0;
  long calls = 0;
  long rejected = 0;
  long errors = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

std::string CreateFlowRun(weft::client::Client& c) {
  weft::v1::CreateFlowRunRequest req;
  req.set_flow_name("bench-transitions");
  auto r = c.CreateFlowRun(req);
  if (!r.ok()) {
    std::fprintf(stderr, "error: CreateFlowRun: %s\n", r.error().message.c_str());
    std::exit(1);
  }
  return r->flow_run().id();
}

// Each reporter sends ReportTaskRuns of `batch` new task runs x 4 states
// (Scheduled -> Pending -> Running -> Completed) until the deadline.
Figures RunBatched(const std::string& address, int reporters, int batch, double seconds) {
  std::atomic<long> transitions{0}, calls{0}, rejected{0}, errors{0};
  std::vector<std::vector<double>> lat(reporters);
  std::vector<std::thread> threads;
  auto start = Clock::now();
  auto deadline = start + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  for (int m = 0; m < reporters; ++m) {
    threads.emplace_back([&, m] {
      weft::client::ClientOptions o;
      o.address = address;
      o.api_key = g_api_key;
      o.timeout_seconds = 60;
      weft::client::Client c(o);
      std::mt19937_64 rng(std::random_device{}() + m);
      std::string flow_run = CreateFlowRun(c);
      long n = 0;
      while (Clock::now() < deadline) {
        weft::v1::ReportTaskRunsRequest req;
        auto now = std::chrono::system_clock::now();
        for (int i = 0; i < batch; ++i) {
          auto* rep = req.add_reports();
          std::string id = NewUuid(rng);
          auto* create = rep->mutable_create();
          create->set_id(id);
          create->set_flow_run_id(flow_run);
          create->set_task_key("square");
          create->set_dynamic_key(std::to_string(n++));
          rep->set_task_run_id(id);
          auto* s0 = rep->add_states();
          s0->set_type(weft::v1::SCHEDULED);
          *s0->mutable_timestamp() = Ts(now - std::chrono::milliseconds(5));
          *s0->mutable_scheduled_time() = Ts(now - std::chrono::milliseconds(5));
          auto* s1 = rep->add_states();
          s1->set_type(weft::v1::PENDING);
          *s1->mutable_timestamp() = Ts(now - std::chrono::milliseconds(4));
          auto* s2 = rep->add_states();
          s2->set_type(weft::v1::RUNNING);
          *s2->mutable_timestamp() = Ts(now - std::chrono::milliseconds(3));
          auto* s3 = rep->add_states();
          s3->set_type(weft::v1::COMPLETED);
          *s3->mutable_timestamp() = Ts(now - std::chrono::milliseconds(1));
        }
        auto t0 = Clock::now();
        auto r = c.ReportTaskRuns(req);
        lat[m].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        ++calls;
        if (!r.ok()) {
          if (errors++ == 0) std::fprintf(stderr, "error: %s\n", r.error().message.c_str());
          continue;
        }
        for (const auto& res : r->results()) {
          transitions += res.accepted();
          if (!res.rejected_reason().empty()) ++rejected;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  Figures f;
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  f.transitions = transitions;
  f.calls = calls;
  f.rejected = rejected;
  f.errors = errors;
  for (auto& v : lat) f.latencies_ms.insert(f.latencies_ms.end(), v.begin(), v.end());
  return f;
}

// Each reporter creates a task run (its Pending is one transition) and proposes Running and
// Completed with one SetTaskRunState call each.
Figures RunSingle(const std::string& address, int reporters, double seconds) {
  std::atomic<long> transitions{0}, calls{0}, rejected{0}, errors{0};
  std::vector<std::vector<double>> lat(reporters);
  std::vector<std::thread> threads;
  auto start = Clock::now();
  auto deadline = start + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  for (int m = 0; m < reporters; ++m) {
    threads.emplace_back([&, m] {
      weft::client::ClientOptions o;
      o.address = address;
      o.api_key = g_api_key;
      weft::client::Client c(o);
      std::string flow_run = CreateFlowRun(c);
      long n = 0;
      auto timed = [&](auto&& call) {
        auto t0 = Clock::now();
        auto r = call();
        lat[m].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        ++calls;
        return r;
      };
      while (Clock::now() < deadline) {
        weft::v1::CreateTaskRunRequest create;
        create.set_flow_run_id(flow_run);
        create.set_task_key("square");
        create.set_dynamic_key(std::to_string(n++));
        auto tr = timed([&] { return c.CreateTaskRun(create); });
        if (!tr.ok()) {
          if (errors++ == 0) std::fprintf(stderr, "error: %s\n", tr.error().message.c_str());
          continue;
        }
        ++transitions;
        for (auto type : {weft::v1::RUNNING, weft::v1::COMPLETED}) {
          weft::v1::SetTaskRunStateRequest set;
          set.set_task_run_id(tr->task_run().id());
          set.mutable_state()->set_type(type);
          auto r = timed([&] { return c.SetTaskRunState(set); });
          if (!r.ok()) {
            ++errors;
          } else if (r->result().decision() == weft::v1::ACCEPT) {
            ++transitions;
          } else {
            ++rejected;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  Figures f;
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  f.transitions = transitions;
  f.calls = calls;
  f.rejected = rejected;
  f.errors = errors;
  for (auto& v : lat) f.latencies_ms.insert(f.latencies_ms.end(), v.begin(), v.end());
  return f;
}

void PrintRow(const char* mode, int reporters, const Figures& f) {
  std::printf("%-28s %9d %14.0f %10.1f %10.2f %10.2f %8ld %8ld\n", mode, reporters,
              static_cast<double>(f.transitions) / f.seconds,
              static_cast<double>(f.calls) / f.seconds, Percentile(f.latencies_ms, 0.5),
              Percentile(f.latencies_ms, 0.99), f.rejected, f.errors);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  if (const char* e = std::getenv("WEFT_TEST_DATABASE_URL")) url = e;
  double seconds = 3;
  int batch = 100;
  int pool = 16;
  std::vector<int> reporters = {1, 4, 16};
  bool single = true;
  CLI::App cli{"bench_transitions: task-run state transitions/s through the API into PostgreSQL"};
  cli.add_option("--database-url", url, "cluster URL (default: WEFT_TEST_DATABASE_URL)");
  cli.add_option("--seconds", seconds, "duration of each measurement")->capture_default_str();
  cli.add_option("--batch", batch, "task runs per ReportTaskRuns call (x 4 states)")
      ->capture_default_str();
  cli.add_option("--pool-size", pool, "server database connections")->capture_default_str();
  cli.add_option("--reporters", reporters, "concurrent reporters (M)")->capture_default_str();
  cli.add_flag("!--no-single", single, "skip the one-call-per-transition comparison");
  CLI11_PARSE(cli, argc, argv);
  if (url.empty()) {
    std::fprintf(stderr,
                 "error: no database: pass --database-url or run through scripts/with_pg.sh\n");
    return 2;
  }

  std::string name = "weft_bench_" + std::to_string(::getpid());
  if (auto st = weft::server::store::CreateDatabaseIfMissing(url, name); !st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
    return 1;
  }
  int rc = 0;
  {
    weft::server::app::Settings s;
    s.grpc_address = "127.0.0.1:0";
    s.database_url = weft::server::store::WithDatabaseName(url, name);
    s.pool_size = pool;
    s.log_level = "warn";
    weft::server::app::ConfigureLogging(s.log_level);
    weft::server::app::App app(s);
    auto started = app.Start();
    g_api_key = app.admin_key();
    if (auto st = started; !st.ok()) {
      std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
      rc = 1;
    } else {
      std::printf("bench_transitions: server in-process at %s, pool %d, %.1f s per row, "
                  "batch = %d task runs x 4 states, %u cores\n\n",
                  app.grpc_address().c_str(), pool, seconds, batch,
                  std::thread::hardware_concurrency());
      std::printf("%-28s %9s %14s %10s %10s %10s %8s %8s\n", "mode", "reporters",
                  "transitions/s", "calls/s", "p50 ms", "p99 ms", "rejected", "errors");
      for (int m : reporters) {
        PrintRow("ReportTaskRuns (batched)", m, RunBatched(app.grpc_address(), m, batch, seconds));
      }
      if (single) {
        for (int m : reporters) {
          PrintRow("SetTaskRunState (1/call)", m, RunSingle(app.grpc_address(), m, seconds));
        }
      }
    }
  }
  (void)weft::server::store::DropDatabase(url, name);
  return rc;
}
