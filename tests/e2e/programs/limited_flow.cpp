// limited_flow: tasks tagged "db" (a tag the tests limit with `weft concurrency-limit`).
// Each task appends "start <flow run id> <µs>" and "end <flow run id> <µs>" lines to `out`
// (O_APPEND: processes never interleave a line), so a test can compute how many held the tag
// at once across processes. The calls are submitted at once (Map on the concurrent runner),
// so without the limit they would all run together. Parameters: out (required), tasks (how
// many calls), sleep_ms (time each task holds its slot).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sdk/flow/weft.hpp"

namespace {

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AppendLine(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  std::string data = line + "\n";
  ssize_t n = ::write(fd, data.data(), data.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size())) throw std::runtime_error("short write to " + path);
}

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
