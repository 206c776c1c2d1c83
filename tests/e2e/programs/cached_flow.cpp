// cached_flow: a task whose result is cached by its inputs. Each real execution of the task
// appends "ran <input>" to `out`; the flow appends "result <sum>" with the value it got
// (from the run or from the cache). Parameters: out (required), n (the task's input),
// expire (cache expiration in seconds, 0 = never).

#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "sdk/flow/json.hpp"
#include "tests/e2e/programs/program_support.hpp"

namespace {

using weft::e2e::AppendLine;

struct Summary {
  std::vector<std::int64_t> values;
  std::string label;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Summary, values, label)

weft::TaskOptions CacheOptions(double expire) {
  weft::TaskOptions o;
  o.cache_key_fn = weft::task_input_hash;
  o.cache_expiration_seconds = expire;
  return o;
}

int Run(int argc, char** argv) {
  // The expiration is a task option, so it is read before the task is declared.
  double expire = 0;
  for (int i = 1; i + 1 < argc; ++i) {
    std::string a = argv[i];
    if (a == "--param" && std::string(argv[i + 1]).rfind("expire=", 0) == 0) {
      expire = std::stod(std::string(argv[i + 1]).substr(7));
    }
  }
  auto expensive = weft::task(
      "expensive",
      [](const std::string& out, std::int64_t n) {
        AppendLine(out, "ran " + std::to_string(n));
        Summary s;
        for (std::int64_t i = 1; i <= n; ++i) s.values.push_back(i);
        s.label = "1.." + std::to_string(n);
        return s;
      },
      CacheOptions(expire));
  auto flow = weft::flow(
      "cached",
      [&](weft::FlowContext& ctx) {
        const std::string out = ctx.params().String("out");
        Summary s = expensive(out, ctx.params().Int("n"));
        std::int64_t sum = std::accumulate(s.values.begin(), s.values.end(), std::int64_t{0});
        AppendLine(out, "result " + s.label + " " + std::to_string(sum));
      },
      weft::FlowOptions{
          .description = "a cached task (caching e2e tests)",
          .params = {weft::Param::String("out"), weft::Param::Int("n").Default(3),
                     weft::Param::Double("expire").Default(0.0)},
      });
  return weft::Main(argc, argv, flow);
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
