// tag_limits: many tasks that use one scarce resource (a database allowing few
// connections), limited across every flow run by a tag (docs/concurrency-limits.md).
//
//   weft concurrency-limit create warehouse 2
//   ./tag_limits --param tables=8 &  ./tag_limits --param tables=8
//   weft concurrency-limit inspect warehouse       # at most 2 holders, from either run
//
// Each flow submits all its loads at once (Map on the concurrent runner); the server lets
// two tasks tagged `warehouse` run at a time and answers the others WAIT; a waiting task is
// woken as soon as a slot frees. Without a limit on the tag they all run together.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "sdk/flow/weft.hpp"

namespace {

auto load_table = weft::task(
    "load_table",
    [](const std::string& table) {
      weft::log::info("loading {}", table);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      return table.size();
    },
    weft::TaskOptions{.retries = 2, .retry_delays = 1.0, .tags = {"warehouse"}});

auto nightly = weft::flow(
    "nightly_load",
    [](weft::FlowContext& ctx) {
      std::vector<std::string> tables;
      for (std::int64_t i = 0; i < ctx.params().Int("tables"); ++i) {
        tables.push_back("table_" + std::to_string(i));
      }
      std::size_t bytes = 0;
      for (const auto& f : load_table.Map(tables)) bytes += f.Result();
      ctx.logger().info("loaded {} tables ({} name bytes)", tables.size(), bytes);
    },
    weft::FlowOptions{
        .description = "loads tables through a tag-limited resource",
        .params = {weft::Param::Int("tables").Default(6).Range(0, 1000)},
    });

}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, nightly); }
