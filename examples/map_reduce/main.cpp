// map_reduce: fan out with task.Map, fan in with futures.
//
//   ./map_reduce --param words=200          (with a server at WEFT_API_URL, or ephemeral)
//
// `count` runs once per chunk on the flow's bounded pool (8 workers); `merge` receives the
// chunks' futures (as a vector of their values, once all are done) and adds the counts; `report` runs after merge through
// wait_for and never sees its data. Every task run records which runs fed it
// (`weft flow-run inspect ID` shows task_inputs_json).
#include <map>
#include <string>
#include <vector>

#include "sdk/flow/weft.hpp"

using Counts = std::map<std::string, int>;

auto count = weft::task("count", [](const std::vector<std::string>& words) {
  Counts c;
  for (const auto& w : words) ++c[w];
  return c;
});

auto merge = weft::task("merge", [](const std::vector<Counts>& parts) {
  Counts total;
  for (const auto& part : parts) {
    for (const auto& [word, n] : part) total[word] += n;
  }
  return total;
});

auto report = weft::task("report", [] { weft::log::info("the counts are merged"); });

auto word_count = weft::flow(
    "map_reduce",
    [](weft::FlowContext& ctx) {
      static const char* kWords[] = {"alpha", "beta", "gamma", "delta"};
      auto n = ctx.params().Int("words");
      std::vector<std::vector<std::string>> chunks(10);
      for (std::int64_t i = 0; i < n; ++i) {
        chunks[static_cast<size_t>(i) % chunks.size()].push_back(kWords[(i * 7) % 4]);
      }
      // Map: one run of `count` per chunk, concurrently.
      std::vector<weft::Future<Counts>> parts = count.Map(chunks);
      // Fan in: a vector of futures passed to a task arrives as a vector of values; merge
      // starts when every part is done.
      auto total = merge.Submit(parts);
      report.Submit(weft::wait_for(total));
      for (const auto& [word, c] : total.Result()) ctx.logger().info("{}: {}", word, c);
    },
    weft::FlowOptions{
        .description = "word counts with Map and futures",
        .params = {weft::Param::Int("words").Default(200).Min(1)},
        .task_runner = weft::ConcurrentTaskRunner{.max_workers = 8},
    });

int main(int argc, char** argv) { return weft::Main(argc, argv, word_count); }
