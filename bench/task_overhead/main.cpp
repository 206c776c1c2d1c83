// Per-task overhead of the SDK: a flow with N trivial tasks, in ephemeral mode and against a
// live server (WEFT_API_URL, default 127.0.0.1:4201). Prints figures; asserts nothing.
//
//   bench_task_overhead [--tasks N] [--mode both|ephemeral|server] [--runs R] [--log]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sdk/flow/weft.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// The body of every task: trivial on purpose.
int Increment(int x) { return x + 1; }

struct Figures {
  bool ok = false;
  std::string note;
  double loop_ms = 0;   // the flow body's loop of N task calls
  double flush_ms = 0;  // the final flush of task-run reports
  double total_ms = 0;  // weft::Run end to end (create, run, flush, final state)
  int dropped = 0;
};

Figures RunOnce(weft::RunOptions::Mode mode, int n) {
  auto trivial = weft::task("trivial", [](int x) { return Increment(x); });
  double loop_ms = 0;
  long checksum = 0;
  auto flow = weft::flow("bench_task_overhead", [&] {
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) checksum += trivial(i);
    loop_ms = Ms(Clock::now() - t0);
  });
  weft::RunOptions options;
  options.mode = mode;
  auto t0 = Clock::now();
  weft::FlowRunResult r = weft::Run(flow, options);
  Figures f;
  f.total_ms = Ms(Clock::now() - t0);
  f.loop_ms = loop_ms;
  f.flush_ms = r.flush_seconds * 1000;
  f.dropped = r.reports_dropped;
  f.ok = r.exit_code == 0 && checksum == static_cast<long>(n) * (n + 1) / 2;
  if (!f.ok) f.note = r.error.empty() ? "flow did not complete" : r.error;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 10000;
  int runs = 3;
  std::string mode = "both";
  bool log = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--tasks" || a == "-n") && i + 1 < argc) {
      n = std::atoi(argv[++i]);
    } else if (a == "--mode" && i + 1 < argc) {
      mode = argv[++i];
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (a == "--log") {
      log = true;
    } else {
      std::fprintf(stderr,
                   "usage: bench_task_overhead [--tasks N] [--mode both|ephemeral|server] "
                   "[--runs R] [--log]\n");
      return 2;
    }
  }
  if (n <= 0 || runs <= 0 || (mode != "both" && mode != "ephemeral" && mode != "server")) {
    std::fprintf(stderr, "error: --tasks and --runs must be > 0; --mode both|ephemeral|server\n");
    return 2;
  }
  if (!log) weft::SetLogLevel(weft::LogLevel::kError);

  // The body's own time: N direct calls.
  volatile int sink = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) sink = sink + Increment(i);
  double body_ms = Ms(Clock::now() - t0);

  const char* url = std::getenv("WEFT_API_URL");
  std::printf("task_overhead: %d trivial tasks per flow run, %d run(s) per mode, best run shown\n",
              n, runs);
  std::printf("server: %s\n", url && *url ? url : "127.0.0.1:4201 (WEFT_API_URL unset)");
  std::printf("%-10s %8s %10s %10s %10s %18s %22s\n", "mode", "tasks", "loop_ms", "flush_ms",
              "total_ms", "overhead_us/task", "incl_flush_us/task");
  int failures = 0;
  for (const char* m : {"ephemeral", "server"}) {
    if (mode != "both" && mode != m) continue;
    auto run_mode = std::strcmp(m, "ephemeral") == 0 ? weft::RunOptions::Mode::kEphemeral
                                                     : weft::RunOptions::Mode::kServer;
    Figures best;
    for (int r = 0; r < runs; ++r) {
      Figures f = RunOnce(run_mode, n);
      if (!f.ok) {
        best = f;
        break;
      }
      if (!best.ok || f.total_ms < best.total_ms) best = f;
    }
    if (!best.ok) {
      std::printf("%-10s %8d  skipped: %s\n", m, n, best.note.c_str());
      ++failures;
      continue;
    }
    double per_task = (best.loop_ms - body_ms) * 1000.0 / n;
    double with_flush = (best.loop_ms + best.flush_ms - body_ms) * 1000.0 / n;
    std::printf("%-10s %8d %10.1f %10.1f %10.1f %18.2f %22.2f\n", m, n, best.loop_ms, best.flush_ms,
                best.total_ms, per_task, with_flush);
    if (best.dropped > 0)
      std::printf("  warning: %d task-run states were not reported\n", best.dropped);
  }
  std::printf("body (N direct calls): %.3f ms\n", body_ms);
  return failures == 0 ? 0 : 1;
}
