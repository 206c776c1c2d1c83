// The flow runtime in ephemeral mode: what a user observes through weft::Run / weft::Main.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "sdk/flow/weft.hpp"

namespace demo {
struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace demo

namespace {

using weft::core::StateType;

weft::RunOptions Ephemeral() {
  weft::SetLogLevel(weft::LogLevel::kWarning);
  weft::RunOptions o;
  o.mode = weft::RunOptions::Mode::kEphemeral;
  o.keep_history = true;
  return o;
}

std::vector<std::string> Names(const std::vector<weft::core::State>& states) {
  std::vector<std::string> out;
  for (const auto& s : states) out.push_back(s.name);
  return out;
}

const weft::TaskRunRecord& Find(const weft::FlowRunResult& r, const std::string& name) {
  for (const auto& t : r.task_runs) {
    if (t.name == name) return t;
  }
  FAIL("no task run " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("a flow whose tasks succeed ends Completed with exit code 0", "[runtime]") {
  auto add = weft::task("add", [](int a, int b) { return a + b; });
  auto shout = weft::task("shout", [](weft::TaskContext& ctx, const std::string& s) {
    CHECK(ctx.attempt() == 1);
    CHECK(ctx.task_run_name() == "shout-0");
    CHECK_FALSE(ctx.task_run_id().empty());
    return s + "!";
  });
  int total = 0;
  std::string said;
  auto f = weft::flow("sums", [&](weft::FlowContext& ctx) {
    CHECK(ctx.ephemeral());
    for (int i = 0; i < 3; ++i) total = add(total, i);
    said = shout(std::string("hey"));
  });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  REQUIRE(r.state);
  CHECK(r.state->type == StateType::kCompleted);
  CHECK(Names(r.history) == std::vector<std::string>{"Pending", "Running", "Completed"});
  CHECK(total == 3);
  CHECK(said == "hey!");
  CHECK(r.task_run_count == 4);
  const auto& third = Find(r, "add-2");
  CHECK(third.task_key == "add");
  CHECK(third.dynamic_key == "2");
  CHECK(Names(third.history) == std::vector<std::string>{"Pending", "Running", "Completed"});
}

TEST_CASE("a task that throws ends Failed with the exception's type and message", "[runtime]") {
  auto parse = weft::task("parse", [](const std::string& text) -> int {
    throw demo::BadInput("not a number: " + text);
  });
  std::string caught;
  weft::core::State caught_state;
  bool after = false;
  auto f = weft::flow("parsing", [&] {
    try {
      parse(std::string("x1"));
    } catch (const weft::TaskRunFailed& e) {
      caught = e.what();
      caught_state = e.state();
      CHECK(e.task_run_name() == "parse-0");
    }
    after = true;  // the flow goes on
  });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(after);
  CHECK(caught == "demo::BadInput: not a number: x1");
  CHECK(caught_state.type == StateType::kFailed);
  CHECK(caught_state.name == "Failed");
  CHECK(caught_state.details_json ==
        R"({"exception_type":"demo::BadInput","message":"not a number: x1"})");
  const auto& t = Find(r, "parse-0");
  CHECK(Names(t.history) == std::vector<std::string>{"Pending", "Running", "Failed"});
}

TEST_CASE("an uncaught task failure fails the flow with exit code 1", "[runtime]") {
  auto boom = weft::task("boom", [] { throw std::out_of_range("index 7"); });
  auto f = weft::flow("fragile", [&] { boom(); });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 1);
  REQUIRE(r.state);
  CHECK(r.state->type == StateType::kFailed);
  CHECK(r.state->message == "task run 'boom-0' ended Failed: std::out_of_range: index 7");
}

TEST_CASE("retries with delays go through AwaitingRetry and Retrying, then succeed", "[runtime]") {
  std::vector<int> attempts;
  auto flaky = weft::task(
      "flaky",
      [&](weft::TaskContext& ctx) {
        attempts.push_back(ctx.attempt());
        if (ctx.attempt() < 3) throw std::runtime_error("try again");
        return ctx.attempt() * 10;
      },
      weft::TaskOptions{.retries = 3, .retry_delays = {0.01, 0.05}});
  int value = 0;
  auto f = weft::flow("retrying", [&] { value = flaky(); });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(value == 30);
  CHECK(attempts == std::vector<int>{1, 2, 3});
  const auto& t = Find(r, "flaky-0");
  CHECK(Names(t.history) == std::vector<std::string>{"Pending", "Running", "Failed",
                                                     "AwaitingRetry", "Retrying", "Failed",
                                                     "AwaitingRetry", "Retrying", "Completed"});
  CHECK(t.run_count == 3);
  // The second wait uses the second delay of the list.
  const auto& second_wait = t.history[6];
  REQUIRE(second_wait.scheduled_time);
  CHECK(weft::core::ToSeconds(*second_wait.scheduled_time - second_wait.timestamp) ==
        Approx(0.05).margin(1e-6));
}

TEST_CASE("a task that runs out of retries ends Failed", "[runtime]") {
  int calls = 0;
  auto never = weft::task(
      "never",
      [&] {
        ++calls;
        throw std::runtime_error("still broken");
      },
      weft::TaskOptions{.retries = 1, .retry_delays = 0.01});
  auto f = weft::flow("giving-up", [&] { never(); });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 1);
  CHECK(calls == 2);
  const auto& t = Find(r, "never-0");
  CHECK(t.state.name == "Failed");
  CHECK(t.state.message == "std::runtime_error: still broken");
}

TEST_CASE("a task timeout gives TimedOut, signals the stop_token, and the flow goes on",
          "[runtime]") {
  std::atomic<bool> signalled{false};
  auto slow = weft::task(
      "slow",
      [&](weft::TaskContext& ctx) {
        auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!ctx.stop_requested() && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        signalled = ctx.stop_requested();
        return 1;
      },
      weft::TaskOptions{.timeout_seconds = 0.1});
  auto next = weft::task("next", [] { return 2; });
  std::string error;
  int after = 0;
  auto f = weft::flow("timeouts", [&] {
    try {
      slow();
    } catch (const weft::TaskRunFailed& e) {
      error = e.what();
      CHECK(e.state().name == "TimedOut");
      CHECK(e.state().type == StateType::kFailed);
    }
    after = next();
  });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(after == 2);
  CHECK(error == "Task run exceeded its timeout of 0.1s");
  CHECK(signalled);  // the attempt's thread was joined by the end of the flow
  const auto& t = Find(r, "slow-0");
  CHECK(Names(t.history) == std::vector<std::string>{"Pending", "Running", "TimedOut"});
}

TEST_CASE("a timed-out task is retried when it has retries left", "[runtime]") {
  auto sometimes_slow = weft::task(
      "sometimes_slow",
      [](weft::TaskContext& ctx, std::string tag) {
        if (ctx.attempt() == 1) {
          while (!ctx.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
          return std::string("late");
        }
        return tag + "@" + std::to_string(ctx.attempt());
      },
      weft::TaskOptions{.retries = 1, .retry_delays = 0.01, .timeout_seconds = 0.1});
  std::string value;
  auto f = weft::flow("timeout-retry", [&] { value = sometimes_slow(std::string("ok")); });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(value == "ok@2");
  const auto& t = Find(r, "sometimes_slow-0");
  CHECK(Names(t.history) == std::vector<std::string>{"Pending", "Running", "TimedOut",
                                                     "AwaitingRetry", "Retrying", "Completed"});
}

TEST_CASE("flow retries re-run the body through AwaitingRetry and Retrying", "[runtime]") {
  int runs = 0;
  auto f = weft::flow(
      "retried-flow",
      [&](weft::FlowContext& ctx) {
        ++runs;
        CHECK(ctx.attempt() == runs);
        if (runs == 1) throw std::runtime_error("first run fails");
      },
      weft::FlowOptions{.retries = 1, .retry_delays = 0.01});
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(runs == 2);
  CHECK(Names(r.history) == std::vector<std::string>{"Pending", "Running", "Failed",
                                                     "AwaitingRetry", "Retrying", "Completed"});
}

TEST_CASE("a flow body that throws ends Failed with exit code 1", "[runtime]") {
  auto f = weft::flow("broken", [] { throw demo::BadInput("no rows"); });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 1);
  REQUIRE(r.state);
  CHECK(r.state->name == "Failed");
  CHECK(r.state->message == "demo::BadInput: no rows");
}

TEST_CASE("flow parameters: typed values, and bad input creates no run (exit 2)", "[runtime]") {
  std::int64_t months = 0;
  bool has_csv = true;
  auto f = weft::flow(
      "params",
      [&](weft::FlowContext& ctx) {
        months = ctx.params().Int("months");
        has_csv = ctx.params().Has("csv");
      },
      weft::FlowOptions{.params = {weft::Param::Int("months").Default(2),
                                   weft::Param::String("csv").Optional()}});
  auto o = Ephemeral();
  o.params = {{"months", "5"}};
  auto ok = weft::Run(f, o);
  CHECK(ok.exit_code == 0);
  CHECK(months == 5);
  CHECK_FALSE(has_csv);

  o.params = {{"months", "abc"}};
  auto bad = weft::Run(f, o);
  CHECK(bad.exit_code == 2);
  CHECK(bad.error == "parameter \"months\": expected an integer, got \"abc\"");
  CHECK_FALSE(bad.state);  // no run was created
  CHECK(bad.history.empty());
}

TEST_CASE("a bad declaration is reported when the flow runs", "[runtime]") {
  auto f = weft::flow(
      "declared-badly", [] {},
      weft::FlowOptions{.params = {weft::Param::Int("n").Default("three")}});
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 2);
  CHECK(r.error == "flow \"declared-badly\": parameter \"n\": default \"three\" is not an integer");
}

TEST_CASE("weft::Main: exit codes for success, failure, usage and parameter errors", "[runtime]") {
  weft::SetLogLevel(weft::LogLevel::kOff);
  ::setenv("WEFT_EPHEMERAL", "1", 1);
  auto f = weft::flow(
      "main-flow",
      [](weft::FlowContext& ctx) {
        if (ctx.params().Bool("fail")) throw std::runtime_error("asked to fail");
      },
      weft::FlowOptions{
          .params = {weft::Param::Bool("fail").Default(false).Describe("fail on purpose")}});
  auto main_with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "prog");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return weft::Main(static_cast<int>(argv.size()), argv.data(), f);
  };
  CHECK(main_with({}) == 0);
  CHECK(main_with({"--param", "fail=true"}) == 1);
  CHECK(main_with({"--param=fail=no"}) == 0);
  CHECK(main_with({"-p", "fail=perhaps"}) == 2);
  CHECK(main_with({"--param", "other=1"}) == 2);
  CHECK(main_with({"--param"}) == 2);
  CHECK(main_with({"--verbose"}) == 2);
  CHECK(main_with({"--help"}) == 0);
  ::unsetenv("WEFT_EPHEMERAL");
  CHECK(weft::Usage(f, "prog").find("fail  bool    default false  fail on purpose") !=
        std::string::npos);
}

TEST_CASE("calling a task outside a flow is a logic error", "[runtime]") {
  auto t = weft::task("lonely", [] { return 1; });
  CHECK_THROWS_AS(t(), std::logic_error);
}

TEST_CASE("retry delays: fixed, list and exponential backoff with jitter", "[runtime]") {
  auto fixed = weft::RetryDelays(0.5).ToPolicy(3);
  CHECK(fixed.max_retries == 3);
  CHECK(fixed.BaseDelay(3) == 0.5);
  auto list = weft::RetryDelays{1, 10}.ToPolicy(3);
  CHECK(list.BaseDelay(1) == 1);
  CHECK(list.BaseDelay(3) == 10);
  auto expo = weft::RetryDelays::Exponential(1.0, 0.2, 30).ToPolicy(10);
  CHECK(expo.BaseDelay(3) == 4);
  CHECK(expo.BaseDelay(9) == 30);
  CHECK(expo.DelayBeforeRetry(3, 0.0) == Approx(3.2));
  CHECK(expo.DelayBeforeRetry(3, 0.999999) == Approx(4.8));
}

TEST_CASE("a task with an invalid retry policy fails its flow with a clear message", "[runtime]") {
  auto bad = weft::task(
      "bad_retries", [] { return 1; }, weft::TaskOptions{.retries = -1});
  auto f = weft::flow("bad-task", [&] { bad(); });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 1);
  REQUIRE(r.state);
  CHECK(r.state->message ==
        "std::invalid_argument: task 'bad_retries': retries: must be >= 0, got -1");
}

TEST_CASE("weft::log and ctx.logger work inside tasks, also on a timeout thread", "[runtime]") {
  // Catch2 assertions stay on the test's thread: the task only records what it saw.
  std::string seen_current, seen_ctx;
  auto chatty = weft::task(
      "chatty",
      [&](weft::TaskContext& ctx) {
        seen_current = weft::log::Current().prefix();
        seen_ctx = ctx.logger().prefix();
        return 1;
      },
      weft::TaskOptions{.timeout_seconds = 5});
  std::string flow_current, flow_expected;
  auto f = weft::flow("chatty-flow", [&](weft::FlowContext& ctx) {
    flow_current = weft::log::Current().prefix();
    flow_expected = "Flow run '" + ctx.flow_run_name() + "'";
    chatty();
  });
  CHECK(weft::Run(f, Ephemeral()).exit_code == 0);
  CHECK(seen_current == "Task run 'chatty-0'");
  CHECK(seen_ctx == "Task run 'chatty-0'");
  CHECK(flow_current == flow_expected);
}
