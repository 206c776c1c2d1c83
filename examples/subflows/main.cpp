// Subflows: flow `monthly_report` calls flow `region_report` once per region. Each call is a
// child flow run, linked to a task run of the parent ("region_report-0", ...), whose final
// state is the child's. A failing child raises weft::TaskRunFailed in the parent, like a task.
//
//   ./subflows --param regions=3            (against WEFT_API_URL; WEFT_EPHEMERAL=1 offline)
//   weft flow-run inspect <parent id>       the wrapper task runs and "Subflow runs (3)"
#include <iostream>

#include "sdk/flow/weft.hpp"

namespace {

auto fetch = weft::task("fetch", [](long region) { return 100 * region + 7; },
                        weft::TaskOptions{.retries = 1, .retry_delays = 0.1});
auto summarize = weft::task("summarize", [](long rows) { return rows / 2; });

auto region_report = weft::flow(
    "region_report",
    [](weft::FlowContext& ctx) {
      long region = ctx.params().Int("region");
      if (ctx.params().Bool("broken")) throw std::runtime_error("region source is offline");
      long rows = fetch(region);
      ctx.logger().info("region {}: {} rows, summary {}", region, rows, summarize(rows));
    },
    weft::FlowOptions{.description = "one region's report",
                      .params = {weft::Param::Int("region").Min(1),
                                 weft::Param::Bool("broken").Default(false)}});

auto monthly_report = weft::flow(
    "monthly_report",
    [](weft::FlowContext& ctx) {
      long regions = ctx.params().Int("regions");
      long broken = ctx.params().Int("broken_region");
      int ok = 0;
      for (long r = 1; r <= regions; ++r) {
        try {
          // Parameters are checked against region_report's declarations before any run exists.
          auto child = region_report(ctx, {{"region", r}, {"broken", r == broken}});
          ctx.logger().info("region {} done in subflow run {}", r, child.flow_run_name);
          ++ok;
        } catch (const weft::TaskRunFailed& e) {
          ctx.logger().warning("region {} failed: {}", r, e.what());
        }
      }
      std::cout << ok << " of " << regions << " regions reported" << std::endl;
    },
    weft::FlowOptions{.description = "a report per region, each a subflow",
                      .params = {weft::Param::Int("regions").Default(3).Range(1, 50),
                                 weft::Param::Int("broken_region").Default(0).Describe(
                                     "a region whose subflow fails (0 = none)")}});

}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, monthly_report); }
