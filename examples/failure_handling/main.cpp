// failure_handling: conditional failure logic.
//
//   ./failure_handling                      (exit 0: every failure here is handled)
//   ./failure_handling --param strict=true  (exit 1: a failure nobody handles fails the flow)
//
// - `load` fails for one source; `summarize` still runs through weft::allow_failure and sees
//   each source's outcome (weft::Outcome: ok(), value(), state()).
// - `validate` returns a state instead of throwing: weft::Failed("3 bad rows").
// - Hooks: the task's on_failure and the flow's on_completion / on_failure run in this
//   process after the final state.
// - The flow's final state follows the rule in docs/failure-handling.md: with strict=true
//   a failed run is left unhandled and the flow ends Failed, naming it.
#include <stdexcept>
#include <string>
#include <vector>

#include "sdk/flow/weft.hpp"

auto load = weft::task(
    "load",
    [](const std::string& source) -> int {
      if (source == "eu") throw std::runtime_error("source eu is unreachable");
      return static_cast<int>(source.size()) * 100;
    },
    weft::TaskOptions{.on_failure = [](const weft::TaskContext& ctx, const weft::core::State& s) {
      ctx.logger().warning("alert: {} failed: {}", ctx.task_run_name(), s.message);
    }});

auto summarize = weft::task("summarize", [](const std::vector<weft::Outcome<int>>& loaded) {
  int rows = 0, missing = 0;
  for (const auto& o : loaded) {
    if (o) {
      rows += o.value();
    } else {
      ++missing;
    }
  }
  weft::log::info("{} rows loaded, {} source(s) missing", rows, missing);
  return rows;
});

auto validate = weft::task("validate", [](int rows) -> weft::core::State {
  if (rows % 7 != 0) return weft::Failed("3 bad rows");
  return weft::Completed("all rows valid");
});

auto pipeline = weft::flow(
    "failure_handling",
    [](weft::FlowContext& ctx) {
      std::vector<weft::Future<int>> loads = load.Map(std::vector<std::string>{"us", "eu", "apac"});
      // allow_failure: summarize runs even though a load failed and gets each outcome.
      // Strict: the eu load (load-1) is left out, so its failure stays unhandled and the
      // flow ends Failed ("1 of 5 task runs failed: load-1 (...)") after everything ran.
      auto summary = ctx.params().Bool("strict")
                         ? summarize.Submit(weft::allow_failure(std::vector{loads[0], loads[2]}))
                         : summarize.Submit(weft::allow_failure(loads));
      int rows = summary.Result();
      try {
        validate(rows);
      } catch (const weft::TaskRunFailed& e) {  // caught: handled
        ctx.logger().warning("validation: {}", e.what());
      }
    },
    weft::FlowOptions{
        .description = "allow_failure, returned states, hooks and the final-state rule",
        .params = {weft::Param::Bool("strict").Default(false)},
        .on_completion =
            [](const weft::FlowContext& ctx, const weft::core::State&) {
              ctx.logger().info("hook: flow run {} completed", ctx.flow_run_name());
            },
        .on_failure =
            [](const weft::FlowContext& ctx, const weft::core::State& s) {
              ctx.logger().error("hook: flow run {} failed: {}", ctx.flow_run_name(), s.message);
            },
    });

int main(int argc, char** argv) { return weft::Main(argc, argv, pipeline); }
