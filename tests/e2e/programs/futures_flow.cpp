// futures_flow: Submit/Map, allow_failure, hooks, task inputs, flow retries and the flow
// timeout against a live server. Parameters: mode (map | allow | hooks | inputs | retry |
// timeout | sleep | subflow-sleep), out (a file the flow appends observations to), n (elements for map).

#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sdk/flow/weft.hpp"
#include "tests/e2e/programs/program_support.hpp"

namespace {

using weft::e2e::AppendLine;

std::string g_out;  // the out parameter, for hooks

auto square = weft::task("square", [](std::int64_t x) { return x * x; });
auto boom = weft::task("boom", [](int) -> int { throw std::runtime_error("bad input"); });
auto fine = weft::task("fine", [](int x) { return x; });
auto report = weft::task("report", [](const weft::Outcome<int>& a, const weft::Outcome<int>& b) {
  AppendLine(g_out, "report ran: " + a.state().name + " " +
                        (b ? std::to_string(b.value()) : b.state().name));
});
auto hooked = weft::task(
    "hooked", [](int x) { return x; },
    weft::TaskOptions{.on_completion = [](const weft::TaskContext& c,
                                          const weft::core::State& s) {
      AppendLine(g_out, "task hook " + c.task_run_name() + " " + s.name);
    }});
auto add = weft::task("add", [](int a, int b) { return a + b; });
auto twice = weft::task("twice", [](int a) { return 2 * a; });
auto after = weft::task("after", [] {});

weft::FlowOptions Options(double timeout) {
  return weft::FlowOptions{
      .params = {weft::Param::String("mode"), weft::Param::String("out").Default(""),
                 weft::Param::Int("n").Default(1000)},
      .retries = 1,
      .retry_delays = 0.0,
      .timeout_seconds = timeout,
      // Flow hooks read the path from the context, not g_out: after a flow timeout (or a
      // SIGTERM) a hook runs while the body may still be running on its own thread.
      .on_completion =
          [](const weft::FlowContext& c, const weft::core::State& s) {
            AppendLine(c.params().String("out"), "flow hook " + c.flow_run_name() + " " + s.name);
          },
      .on_failure =
          [](const weft::FlowContext& c, const weft::core::State& s) {
            AppendLine(c.params().String("out"), "flow failure hook " + s.name);
          },
      .on_crashed =
          [](const weft::FlowContext& c, const weft::core::State& s) {
            AppendLine(c.params().String("out"), "flow crashed hook " + s.message);
          },
  };
}

// A subflow with its own on_crashed hook: once it has ended, a SIGTERM still reaches the
// parent's hook (and still ends the process).
auto child = weft::flow(
    "futures_child", [](weft::FlowContext&) {},
    weft::FlowOptions{.on_crashed = [](const weft::FlowContext&, const weft::core::State&) {
      AppendLine(g_out, "child crashed hook");
    }});

void Body(weft::FlowContext& ctx) {
  const auto& p = ctx.params();
  g_out = p.String("out");
  std::string mode = p.String("mode");
  if (mode == "map") {
    std::vector<std::int64_t> items(static_cast<size_t>(p.Int("n")));
    std::iota(items.begin(), items.end(), 0);
    std::int64_t sum = 0;
    for (auto& f : square.Map(items)) sum += f.Result();
    AppendLine(g_out, "sum " + std::to_string(sum));
  } else if (mode == "allow") {
    auto a = boom.Submit(1);
    auto b = fine.Submit(2);
    report.Submit(weft::allow_failure(a), weft::allow_failure(b)).Result();
  } else if (mode == "hooks") {
    hooked.Submit(1).Result();
  } else if (mode == "inputs") {
    auto a = add.Submit(1, 2);
    auto b = twice.Submit(a);
    auto c = after.Submit(weft::wait_for(a, b));
    c.Wait();
    AppendLine(g_out, "a " + a.task_run_id());
    AppendLine(g_out, "b " + b.task_run_id());
    AppendLine(g_out, "c " + c.task_run_id());
  } else if (mode == "retry") {
    AppendLine(g_out, "attempt " + std::to_string(ctx.attempt()));
    if (ctx.attempt() == 1) throw std::runtime_error("first attempt fails");
  } else if (mode == "sleep") {
    AppendLine(g_out, "started");
    std::this_thread::sleep_for(std::chrono::seconds(60));  // stopped by SIGTERM
  } else if (mode == "subflow-sleep") {
    child(ctx);
    AppendLine(g_out, "started");
    std::this_thread::sleep_for(std::chrono::seconds(60));  // stopped by SIGTERM
  } else if (mode == "timeout") {
    AppendLine(g_out, "started");
    // Ignores its stop token: the process ends after the grace.
    std::this_thread::sleep_for(std::chrono::seconds(60));
  } else {
    throw std::invalid_argument("unknown mode " + mode);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool timeout = false;
  for (int i = 1; i < argc; ++i) timeout = timeout || std::string(argv[i]) == "mode=timeout";
  // The timeout is a flow option: the timeout mode declares it (1 s, no retries).
  weft::FlowOptions options = Options(timeout ? 1.0 : 0.0);
  if (timeout) options.retries = 0;
  auto flow = weft::flow("futures_flow", Body, std::move(options));
  return weft::Main(argc, argv, flow);
}
