// e2e program for subflows, pause/resume and the parameter schema (issue 6):
//   nested --param n=3              calls the subflow `child_sum` (n) and a task
//   nested --param fail_child=true  the child fails: the parent catches TaskRunFailed
//   nested --param pause=true       pauses (60 s) until `weft flow-run resume ID`
// It declares the deployment "manual" (no schedule), so `weft deployment create ./program`
// registers the flow's parameters before the flow ever ran.
#include <chrono>
#include <iostream>
#include <thread>

#include "sdk/flow/weft.hpp"

namespace {

auto add = weft::task("add", [](long a, long b) { return a + b; });

auto child_sum = weft::flow(
    "child_sum",
    [](weft::FlowContext& ctx) {
      long n = ctx.params().Int("n");
      if (ctx.params().Bool("fail")) throw std::runtime_error("child asked to fail");
      if (double s = ctx.params().Double("sleep"); s > 0) {
        ctx.logger().info("child sleeping {}s", s);
        // Returns early when the run is cancelled (its stop token is signalled).
        auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(s);
        while (std::chrono::steady_clock::now() < until && !ctx.stop_requested()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (ctx.stop_requested()) {
          ctx.logger().info("child stopped early");
          return;
        }
      }
      long total = 0;
      for (long i = 1; i <= n; ++i) total = add(total, i);
      ctx.logger().info("child sum={}", total);
    },
    weft::FlowOptions{.params = {weft::Param::Int("n").Min(0),
                                 weft::Param::Bool("fail").Default(false),
                                 weft::Param::Double("sleep").Default(0.0)}});

auto nested = weft::flow(
    "nested",
    [](weft::FlowContext& ctx) {
      if (ctx.params().Bool("pause")) {
        ctx.logger().info("about to pause");
        weft::pause_flow_run(std::chrono::seconds(60));
        ctx.logger().info("resumed and going on");
      }
      auto n = ctx.params().Int("n");
      if (long parallel = ctx.params().Int("parallel"); parallel > 0) {
        // Submitted subflows run concurrently on the flow's task runner.
        std::vector<weft::Future<weft::FlowRunResult>> children;
        for (long i = 0; i < parallel; ++i) children.push_back(child_sum.Submit({{"n", i + 1}}));
        for (auto& f : children) std::cout << "submitted child " << f.Result().flow_run_id
                                            << " ended Completed" << std::endl;
        return;
      }
      try {
        auto r = child_sum(ctx, {{"n", n},
                                 {"fail", ctx.params().Bool("fail_child")},
                                 {"sleep", ctx.params().Double("child_sleep")}});
        std::cout << "child run " << r.flow_run_id << " ended " << r.state->name << std::endl;
      } catch (const weft::TaskRunFailed& e) {
        std::cout << "child failed: task run " << e.task_run_id() << ": " << e.what()
                  << std::endl;
      }
      std::cout << "parent add " << add(n, 1) << std::endl;
    },
    weft::FlowOptions{.params = {weft::Param::Int("n").Default(3).Range(0, 100),
                                 weft::Param::Bool("fail_child").Default(false),
                                 weft::Param::Bool("pause").Default(false),
                                 weft::Param::Int("parallel").Default(0).Range(0, 10),
                                 weft::Param::Double("child_sleep").Default(0.0)}});

const std::vector<weft::Deployment> deployments = {
    weft::Deployment{.name = "manual", .work_queue = "nested"},
};

}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, nested, deployments); }
