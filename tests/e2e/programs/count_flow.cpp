// count_flow: the SDK flow the agent e2e tests deploy. Each execution appends one line
//   <flow run id> <pid> <start µs> <end µs>
// to the file named by `out` (O_APPEND: concurrent processes never interleave a line), so
// a test can count how often each run was executed and whether executions overlapped.
// Before its work it appends "<flow run id> <pid>" to <out>.started (to find the process).
// Parameters: out (required), sleep_ms (time spent in the work task), crash (raise SIGSEGV
// inside the work task).
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "sdk/flow/weft.hpp"
#include "tests/e2e/programs/program_support.hpp"

namespace {

using weft::e2e::AppendLine;
using weft::e2e::NowMicros;

auto announce = weft::task("announce", [](const std::string& out, const std::string& run_id) {
  AppendLine(out + ".started", run_id + " " + std::to_string(::getpid()));
  return NowMicros();
});

auto work = weft::task("work", [](std::int64_t sleep_ms, bool crash) {
  if (crash) {
    // Die by the signal even in a sanitizer build (ASan's handler would exit with code 1).
    std::signal(SIGSEGV, SIG_DFL);
    std::raise(SIGSEGV);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  return sleep_ms;
});

auto record = weft::task("record", [](const std::string& out, const std::string& run_id,
                                      std::int64_t start) {
  AppendLine(out, run_id + " " + std::to_string(::getpid()) + " " + std::to_string(start) + " " +
                      std::to_string(NowMicros()));
});

auto count = weft::flow(
    "count",
    [](weft::FlowContext& ctx) {
      const std::string out = ctx.params().String("out");
      std::int64_t start = announce(out, ctx.flow_run_id());
      work(ctx.params().Int("sleep_ms"), ctx.params().Bool("crash"));
      record(out, ctx.flow_run_id(), start);
    },
    weft::FlowOptions{
        .description = "records each execution in a file (agent e2e tests)",
        .params = {weft::Param::String("out").Describe("file to append to"),
                   weft::Param::Int("sleep_ms").Default(0).Min(0),
                   weft::Param::Bool("crash").Default(false)},
    });

}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, count); }
