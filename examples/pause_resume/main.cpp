// Pause and resume: flow `approve_release` builds, then pauses until a person runs
// `weft flow-run resume ID` (or the timeout passes: the flow catches weft::PauseTimedOut,
// logs it and lets the run end Failed), then publishes.
//
//   ./pause_resume --param timeout=600      (needs a server: WEFT_API_URL)
//   weft flow-run ls --state PAUSED         find it
//   weft flow-run resume <id>               the flow goes on and ends Completed
#include <iostream>

#include "sdk/flow/weft.hpp"

namespace {

auto build = weft::task("build", [] { return std::string("release-1.2.3.tar.gz"); });
auto publish = weft::task("publish", [](const std::string& artifact) {
  weft::log::info("published {}", artifact);
});

auto approve_release = weft::flow(
    "approve_release",
    [](weft::FlowContext& ctx) {
      std::string artifact = build();
      ctx.logger().info("{} is built; waiting for approval: weft flow-run resume {}", artifact,
                        ctx.flow_run_id());
      try {
        weft::pause_flow_run(static_cast<double>(ctx.params().Int("timeout")));
      } catch (const weft::PauseTimedOut& e) {
        ctx.logger().error("nobody approved: {}", e.what());
        throw;  // the run ends Failed with this message
      }
      publish(artifact);
      std::cout << "published " << artifact << std::endl;
    },
    weft::FlowOptions{.description = "build, wait for a person's approval, publish",
                      .params = {weft::Param::Int("timeout").Default(3600).Min(1).Describe(
                          "seconds to wait for `weft flow-run resume`")}});

}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, approve_release); }
