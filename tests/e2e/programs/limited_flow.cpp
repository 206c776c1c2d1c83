// limited_flow: tasks tagged "db" (a tag the tests limit with `weft concurrency-limit`).
// Each task appends "start <flow run id> <µs>" and "end <flow run id> <µs>" lines to `out`
// (O_APPEND: processes never interleave a line), so a test can compute how many held the tag
// at once across processes. The calls are submitted at once (Map on the concurrent runner),
// so without the limit they would all run together. Parameters: out (required), tasks (how
// many calls), sleep_ms (time each task holds its slot).

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sdk/flow/weft.hpp"
#include "tests/e2e/programs/program_support.hpp"

namespace {

using weft::e2e::AppendLine;
using weft::e2e::NowMicros;

auto query = weft::task(
    "query",
    [](weft::TaskContext& ctx, std::int64_t, const std::string& out, std::int64_t sleep_ms) {
      AppendLine(out, "start " + ctx.task_run_id() + " " + std::to_string(NowMicros()));
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
      AppendLine(out, "end " + ctx.task_run_id() + " " + std::to_string(NowMicros()));
    },
    weft::TaskOptions{.tags = {"db"}});

auto limited = weft::flow(
    "limited",
    [](weft::FlowContext& ctx) {
      const std::string out = ctx.params().String("out");
      std::vector<std::int64_t> calls;
      for (std::int64_t i = 0; i < ctx.params().Int("tasks"); ++i) calls.push_back(i);
      for (const auto& f : query.Map(calls, out, ctx.params().Int("sleep_ms"))) f.Result();
    },
    weft::FlowOptions{
        .description = "tasks tagged db (tag concurrency e2e tests)",
        .params = {weft::Param::String("out"), weft::Param::Int("tasks").Default(1).Min(0),
                   weft::Param::Int("sleep_ms").Default(500).Min(0)},
    });

}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, limited); }
