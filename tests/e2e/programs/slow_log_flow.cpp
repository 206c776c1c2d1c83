// slow_log_flow: logs slowly, for `weft flow-run logs --follow`. The task "tick" logs
// "tick 1" .. "tick <ticks>" one every <interval_ms>; then the flow logs "all ticks done".
#include <chrono>
#include <thread>

#include "sdk/flow/weft.hpp"

namespace {

auto tick =
    weft::task("tick", [](weft::TaskContext& ctx, std::int64_t ticks, std::int64_t interval_ms) {
      for (std::int64_t i = 1; i <= ticks; ++i) {
        ctx.logger().info("tick {}", i);
        std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
      }
      return ticks;
    });

auto slow = weft::flow(
    "slow-log",
    [](weft::FlowContext& ctx) {
      tick(ctx.params().Int("ticks"), ctx.params().Int("interval_ms"));
      ctx.logger().warning("all ticks done");
    },
    weft::FlowOptions{
        .description = "logs one line every interval_ms",
        .params = {weft::Param::Int("ticks").Default(10),
                   weft::Param::Int("interval_ms").Default(400)},
    });

}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, slow); }
