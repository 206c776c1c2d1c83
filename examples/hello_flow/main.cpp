// hello_flow: three tasks, one of which fails on its first attempt and succeeds on retry.
//   ./hello_flow --param name=Ada
#include <stdexcept>
#include <string>

#include "sdk/flow/weft.hpp"

namespace {

auto say_hello = weft::task("say_hello", [](const std::string& name) {
  std::string greeting = "Hello, " + name + "!";
  weft::log::info("{}", greeting);
  return greeting;
});

// Fails on its first attempt (deterministically), then succeeds: its history is
// Pending, Running, Failed, AwaitingRetry, Retrying, Completed.
auto flaky = weft::task(
    "flaky",
    [](weft::TaskContext& ctx) {
      if (ctx.attempt() == 1) throw std::runtime_error("the network blinked (attempt 1)");
      ctx.logger().info("worked on attempt {}", ctx.attempt());
      return 42;
    },
    weft::TaskOptions{.retries = 2, .retry_delays = 0.2});

auto summarize = weft::task("summarize", [](const std::string& greeting, int answer) {
  return greeting + " The answer is " + std::to_string(answer) + ".";
});

auto hello = weft::flow(
    "hello",
    [](weft::FlowContext& ctx) {
      std::string greeting = say_hello(ctx.params().String("name"));
      int answer = flaky();
      ctx.logger().info("{}", summarize(greeting, answer));
    },
    weft::FlowOptions{
        .description = "greets someone, survives a flaky step",
        .params = {weft::Param::String("name").Default("world").Describe("who to greet")},
    });

}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, hello); }
