// Futures, task runners, wait_for, allow_failure, returned states, the final-state rule,
// hooks and the flow timeout, in ephemeral mode: what a user observes through weft::Run.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <future>
#include <chrono>
#include <map>
#include <mutex>
#include <numeric>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sdk/flow/weft.hpp"

namespace {

using weft::core::StateType;

weft::RunOptions Ephemeral() {
  weft::SetLogLevel(weft::LogLevel::kOff);
  weft::RunOptions o;
  o.mode = weft::RunOptions::Mode::kEphemeral;
  o.keep_history = true;
  return o;
}

// Counts how many bodies run at once.
struct Gauge {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  void Enter() {
    int n = ++now;
    int p = peak.load();
    while (n > p && !peak.compare_exchange_weak(p, n)) {
    }
  }
  void Leave() { --now; }
};

}  // namespace

TEST_CASE("Submit returns a future: Result, Wait, State and the run's identity", "[futures]") {
  auto square = weft::task("square", [](int x) { return x * x; });
  auto note = weft::task("note", [](int) {});
  int result = 0;
  weft::core::State waited;
  std::string id, name;
  auto f = weft::flow("futures", [&] {
    auto fut = square.Submit(7);
    id = fut.task_run_id();
    name = fut.task_run_name();
    waited = fut.Wait();
    result = fut.Result();
    CHECK(fut.State().type == StateType::kCompleted);
    weft::Future<void> v = note.Submit(1);
    v.Result();
  });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(result == 49);
  CHECK(waited.type == StateType::kCompleted);
  CHECK(name == "square-0");
  CHECK_FALSE(id.empty());
  CHECK(r.task_run_count == 2);
}

TEST_CASE("a future passed to a task is resolved to its value", "[futures]") {
  auto add = weft::task("add", [](int a, int b) { return a + b; });
  auto twice = weft::task("twice", [](int a) { return 2 * a; });
  int direct = 0, submitted = 0;
  auto f = weft::flow("chain", [&] {
    auto a = add.Submit(1, 2);
    auto b = twice.Submit(a);           // waits for a, gets 3
    submitted = add.Submit(a, b).Result();  // 3 + 6
    direct = twice(b);                  // direct call with a future: 12
  });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(submitted == 9);
  CHECK(direct == 12);
}

TEST_CASE("Map over 1,000 elements: one run per element, values in order", "[futures]") {
  auto square = weft::task("square", [](int x, int offset) { return x * x + offset; });
  std::vector<int> items(1000);
  std::iota(items.begin(), items.end(), 0);
  std::vector<int> out;
  auto f = weft::flow("map", [&] {
    auto futures = square.Map(items, 1);
    for (auto& fut : futures) out.push_back(fut.Result());
  });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(r.task_run_count == 1000);
  REQUIRE(out.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(out[static_cast<size_t>(i)] == i * i + 1);
  std::set<std::string> names;
  for (const auto& t : r.task_runs) {
    CHECK(t.state.type == StateType::kCompleted);
    names.insert(t.name);
  }
  CHECK(names.size() == 1000);
  CHECK(names.count("square-999") == 1);
}

TEST_CASE("Map takes any range; extra arguments go unchanged to every call", "[futures]") {
  auto mul = weft::task("mul", [](int x, int k) { return x * k; });
  std::vector<int> out;
  auto f = weft::flow("ranges", [&] {
    for (auto& fut : mul.Map(std::views::iota(1, 4), 10)) out.push_back(fut.Result());
    const int fixed[] = {5, 6};
    for (auto& fut : mul.Map(fixed, 2)) out.push_back(fut.Result());
  });
  CHECK(weft::Run(f, Ephemeral()).exit_code == 0);
  CHECK(out == std::vector<int>{10, 20, 30, 10, 12});
}

TEST_CASE("Map over futures chains one run per element", "[futures]") {
  auto inc = weft::task("inc", [](int x) { return x + 1; });
  auto dbl = weft::task("dbl", [](int x) { return 2 * x; });
  std::vector<int> out;
  auto f = weft::flow("map2", [&] {
    for (auto& fut : dbl.Map(inc.Map(std::vector<int>{1, 2, 3}))) out.push_back(fut.Result());
  });
  CHECK(weft::Run(f, Ephemeral()).exit_code == 0);
  CHECK(out == std::vector<int>{4, 6, 8});
}

TEST_CASE("a vector of futures fans in as a vector of values (or of outcomes)", "[futures]") {
  auto inc = weft::task("inc", [](int x) {
    if (x == 2) throw std::runtime_error("two");
    return x + 1;
  });
  auto sum = weft::task("sum", [](const std::vector<int>& xs) {
    int s = 0;
    for (int x : xs) s += x;
    return s;
  });
  auto count_ok = weft::task("count_ok", [](const std::vector<weft::Outcome<int>>& xs) {
    int ok = 0;
    for (const auto& x : xs) ok += x.ok();
    return ok;
  });
  int total = 0, ok = 0;
  auto f = weft::flow("fan_in", [&] {
    total = sum.Submit(inc.Map(std::vector<int>{0, 1, 3})).Result();
    ok = count_ok.Submit(weft::allow_failure(inc.Map(std::vector<int>{1, 2, 3}))).Result();
  });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(total == 7);
  CHECK(ok == 2);
}

TEST_CASE("the concurrent runner never runs more than max_workers at once", "[runners]") {
  Gauge gauge;
  auto slow = weft::task("slow", [&](int) {
    gauge.Enter();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    gauge.Leave();
  });
  auto f = weft::flow(
      "bounded", [&] { slow.Map(std::vector<int>(40, 0)); },
      weft::FlowOptions{.task_runner = weft::ConcurrentTaskRunner{.max_workers = 3}});
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(r.task_run_count == 40);
  CHECK(gauge.peak.load() <= 3);
  CHECK(gauge.peak.load() >= 2);  // it does run concurrently
}

TEST_CASE("tasks that submit and wait inside a full pool do not starve it", "[runners]") {
  // 6 outer runs on 2 workers, each submitting 3 inner runs and waiting for them: a waiting
  // worker runs its queued inner runs itself instead of holding its thread.
  auto inner = weft::task("inner", [](int x) { return x * 10; });
  auto outer = weft::task("outer", [&](int x) {
    int sum = 0;
    for (auto& f : inner.Map(std::vector<int>{x, x + 1, x + 2})) sum += f.Result();
    return sum;
  });
  int total = 0;
  auto f = weft::flow(
      "nested",
      [&] {
        for (auto& o : outer.Map(std::vector<int>{0, 1, 2, 3, 4, 5})) total += o.Result();
      },
      weft::FlowOptions{.task_runner = weft::ConcurrentTaskRunner{.max_workers = 2}});
  auto done = std::make_shared<std::promise<weft::FlowRunResult>>();
  auto result = done->get_future();
  std::thread([&f, done] { done->set_value(weft::Run(f, Ephemeral())); }).detach();
  if (result.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    FAIL_CHECK("the flow deadlocked: every worker waits for a run queued behind it");
    std::_Exit(1);  // its threads can never finish
  }
  auto r = result.get();
  CHECK(r.exit_code == 0);
  CHECK(r.task_run_count == 6 + 18);
  CHECK(total == 10 * (0 + 1 + 2 + 1 + 2 + 3 + 2 + 3 + 4 + 3 + 4 + 5 + 4 + 5 + 6 + 5 + 6 + 7));
}

TEST_CASE("the sequential runner runs each submitted task at once, in order", "[runners]") {
  Gauge gauge;
  std::vector<int> order;
  std::thread::id caller;
  std::set<std::thread::id> threads;
  std::mutex mu;
  auto step = weft::task("step", [&](int i) {
    gauge.Enter();
    {
      std::lock_guard lock(mu);
      order.push_back(i);
      threads.insert(std::this_thread::get_id());
    }
    gauge.Leave();
    return i;
  });
  auto f = weft::flow(
      "sequential",
      [&] {
        caller = std::this_thread::get_id();
        auto futures = step.Map(std::vector<int>{0, 1, 2, 3, 4});
        CHECK(futures.front().done());  // already ran
      },
      weft::FlowOptions{.task_runner = weft::SequentialTaskRunner{}});
  CHECK(weft::Run(f, Ephemeral()).exit_code == 0);
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(gauge.peak.load() == 1);
  CHECK(threads == std::set<std::thread::id>{caller});
}

TEST_CASE("a direct call runs in the caller's thread", "[runners]") {
  std::thread::id in_task, caller;
  auto where = weft::task("where", [&] { in_task = std::this_thread::get_id(); });
  auto f = weft::flow("direct", [&] {
    caller = std::this_thread::get_id();
    where();
  });
  CHECK(weft::Run(f, Ephemeral()).exit_code == 0);
  CHECK(in_task == caller);
}

TEST_CASE("wait_for starts a run after its dependencies end", "[futures]") {
  std::mutex mu;
  std::vector<std::string> events;
  auto record = [&](std::string e) {
    std::lock_guard lock(mu);
    events.push_back(std::move(e));
  };
  auto slow = weft::task("slow", [&](int i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    record("slow" + std::to_string(i));
  });
  auto after = weft::task("after", [&] { record("after"); });
  auto f = weft::flow("ordering", [&] {
    auto a = slow.Submit(1);
    auto b = slow.Submit(2);
    after.Submit(weft::wait_for(a, b)).Result();
  });
  CHECK(weft::Run(f, Ephemeral()).exit_code == 0);
  REQUIRE(events.size() == 3);
  CHECK(events.back() == "after");
}

TEST_CASE("a downstream of a failed upstream fails without running; the flow fails",
          "[failure]") {
  std::atomic<int> ran{0};
  auto boom = weft::task("boom", [](int) -> int { throw std::runtime_error("bad input"); });
  auto use = weft::task("use", [&](int x) {
    ++ran;
    return x;
  });
  auto f = weft::flow("upstream", [&] { use.Submit(boom.Submit(1)); });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 1);
  CHECK(ran == 0);
  REQUIRE(r.state);
  CHECK(r.state->type == StateType::kFailed);
  CHECK_THAT(r.state->message, Catch::Contains("1 of 2 task runs failed: use-0 (upstream task "
                                               "run 'boom-0' ended Failed"));
}

TEST_CASE("allow_failure: the downstream runs and sees the upstream's outcome", "[failure]") {
  std::string seen;
  auto boom = weft::task("boom", [](int) -> int { throw std::runtime_error("bad input"); });
  auto fine = weft::task("fine", [](int x) { return x; });
  auto report = weft::task("report", [&](const weft::Outcome<int>& a, const weft::Outcome<int>& b) {
    seen = (a ? std::to_string(a.value()) : a.state().name + ":" + a.state().message) + "|" +
           (b ? std::to_string(*b) : b.state().name);
  });
  auto f = weft::flow("allowed", [&] {
    auto a = boom.Submit(1);
    auto b = fine.Submit(2);
    report.Submit(weft::allow_failure(a), weft::allow_failure(b));
  });
  auto r = weft::Run(f, Ephemeral());
  CHECK(seen == "Failed:std::runtime_error: bad input|2");
  CHECK(r.exit_code == 0);  // the failure was allowed: the flow completes
  REQUIRE(r.state);
  CHECK(r.state->type == StateType::kCompleted);
}

TEST_CASE("final-state rule: an unhandled failed future fails the flow, naming it",
          "[failure]") {
  auto square = weft::task("square", [](int x) {
    if (x == 17 || x == 40) throw std::invalid_argument("no " + std::to_string(x));
    return x * x;
  });
  auto f = weft::flow("rule", [&] { square.Map(std::vector<int>(50, 0)); });
  std::vector<int> items(50);
  std::iota(items.begin(), items.end(), 0);
  auto g = weft::flow("rule", [&] { square.Map(items); });
  auto r = weft::Run(g, Ephemeral());
  CHECK(r.exit_code == 1);
  REQUIRE(r.state);
  CHECK(r.state->type == StateType::kFailed);
  CHECK_THAT(r.state->message, Catch::StartsWith("2 of 50 task runs failed: "));
  CHECK_THAT(r.state->message, Catch::Contains("square-17 (std::invalid_argument: no 17)"));
  CHECK_THAT(r.state->message, Catch::Contains("square-40"));
  CHECK(weft::Run(f, Ephemeral()).exit_code == 0);
}

TEST_CASE("final-state rule: failures the flow handled do not fail it", "[failure]") {
  auto boom = weft::task("boom", [](int) -> int { throw std::runtime_error("x"); });
  auto f = weft::flow("handled", [&] {
    auto a = boom.Submit(1);
    try {
      a.Result();
    } catch (const weft::TaskRunFailed& e) {
      CHECK(e.task_run_name() == "boom-0");
    }
    try {
      boom(2);
    } catch (const weft::TaskRunFailed&) {
    }
    weft::allow_failure(boom.Submit(3));  // on its own: this failure is fine
  });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(r.state->type == StateType::kCompleted);
}

TEST_CASE("final-state rule: a body that throws fails the flow", "[failure]") {
  auto f = weft::flow("throws", [] { throw std::runtime_error("no data"); });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 1);
  CHECK(r.state->message == "std::runtime_error: no data");
}

TEST_CASE("a returned state is the final state of a task or a flow", "[states]") {
  auto check = weft::task("check", [](int bad) -> weft::core::State {
    if (bad > 0) return weft::Failed(std::to_string(bad) + " bad rows");
    return weft::Completed("all rows fine");
  });
  auto count = weft::task("count", [](int n) {
    return weft::WithState<int>{n, weft::Completed("counted " + std::to_string(n))};
  });
  std::string caught;
  int counted = 0;
  auto f = weft::flow("states", [&] {
    check(0);
    try {
      check(3);
    } catch (const weft::TaskRunFailed& e) {
      caught = e.what();
    }
    counted = count(5).value;
    return weft::Completed("done early");
  });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(caught == "3 bad rows");
  CHECK(counted == 5);
  REQUIRE(r.state);
  CHECK(r.state->message == "done early");
  bool found = false;
  for (const auto& t : r.task_runs) {
    if (t.name == "check-0") CHECK(t.state.message == "all rows fine");
    if (t.name == "check-1") {
      found = true;
      CHECK(t.state.type == StateType::kFailed);
    }
    if (t.name == "count-0") CHECK(t.state.message == "counted 5");
  }
  CHECK(found);

  auto failing = weft::flow("failing", [] { return weft::Failed("3 bad rows"); });
  auto rf = weft::Run(failing, Ephemeral());
  CHECK(rf.exit_code == 1);
  CHECK(rf.state->message == "3 bad rows");
  // A returned Completed overrides failed futures (the body decided).
  auto boom = weft::task("boom", [](int) -> int { throw std::runtime_error("x"); });
  auto decided = weft::flow("decided", [&] {
    boom.Submit(1).Wait();
    return weft::Completed("partial is fine");
  });
  CHECK(weft::Run(decided, Ephemeral()).exit_code == 0);
}

TEST_CASE("a task returning Failed retries like a throw", "[states]") {
  std::atomic<int> calls{0};
  auto flaky = weft::task(
      "flaky",
      [&]() -> weft::core::State {
        return ++calls < 2 ? weft::Failed("not yet") : weft::Completed();
      },
      weft::TaskOptions{.retries = 2, .retry_delays = 0.0});
  auto f = weft::flow("retry", [&] { flaky(); });
  CHECK(weft::Run(f, Ephemeral()).exit_code == 0);
  CHECK(calls == 2);
}

TEST_CASE("task and flow hooks run after the final state; a throwing hook changes nothing",
          "[hooks]") {
  std::mutex mu;
  std::vector<std::string> calls;
  auto note = [&](std::string s) {
    std::lock_guard lock(mu);
    calls.push_back(std::move(s));
  };
  auto ok = weft::task("ok", [](int x) { return x; },
                       weft::TaskOptions{.on_completion =
                                             [&](const weft::TaskContext& c,
                                                 const weft::core::State& s) {
                                               note("task done " + c.task_run_name() + " " +
                                                    s.name);
                                               throw std::runtime_error("hook bug");
                                             }});
  auto bad = weft::task("bad", [](int) -> int { throw std::runtime_error("boom"); },
                        weft::TaskOptions{.on_failure = [&](const weft::TaskContext& c,
                                                            const weft::core::State& s) {
                          note("task failed " + c.task_run_name() + " " + s.message);
                        }});
  auto f = weft::flow(
      "hooks",
      [&] {
        ok(1);
        bad.Submit(2).Wait();
      },
      weft::FlowOptions{
          .on_completion = [&](const weft::FlowContext&,
                               const weft::core::State&) { note("flow completed"); },
          .on_failure = [&](const weft::FlowContext& c,
                            const weft::core::State& s) {
            note("flow failed " + c.flow_name() + " " + s.name);
          }});
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 1);
  CHECK(calls == std::vector<std::string>{"task done ok-0 Completed",
                                          "task failed bad-0 std::runtime_error: boom",
                                          "flow failed hooks Failed"});
  CHECK(r.task_runs.size() == 2);
}

TEST_CASE("a flow timeout makes the run TimedOut and signals the tasks' stop tokens",
          "[timeout]") {
  std::atomic<bool> task_stopped{false};
  auto wait_for_stop = weft::task("wait_for_stop", [&](weft::TaskContext& ctx) {
    while (!ctx.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    task_stopped = true;
  });
  std::atomic<bool> failure_hook{false};
  auto f = weft::flow(
      "slow",
      [&](weft::FlowContext& ctx) {
        auto fut = wait_for_stop.Submit();
        while (!ctx.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      },
      weft::FlowOptions{.timeout_seconds = 0.2,
                        .on_failure = [&](const weft::FlowContext&,
                                          const weft::core::State& s) {
                          failure_hook = s.name == "TimedOut";
                        }});
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 1);
  REQUIRE(r.state);
  CHECK(r.state->name == "TimedOut");
  CHECK_THAT(r.state->message, Catch::Contains("timeout of 0.2s"));
  CHECK(task_stopped);
  CHECK(failure_hook);
}

TEST_CASE("a flow that returns with futures running waits for them", "[futures]") {
  std::atomic<int> finished{0};
  auto slow = weft::task("slow", [&](int) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ++finished;
  });
  auto f = weft::flow("dangling", [&] { slow.Map(std::vector<int>{1, 2, 3, 4}); });
  auto r = weft::Run(f, Ephemeral());
  CHECK(r.exit_code == 0);
  CHECK(finished == 4);
  for (const auto& t : r.task_runs) CHECK(t.state.type == StateType::kCompleted);
}

TEST_CASE("Submit outside a flow is an error", "[futures]") {
  auto t = weft::task("t", [] {});
  CHECK_THROWS_AS(t.Submit(), std::logic_error);
}

TEST_CASE("a deployment uses the flow's timeout unless it sets its own", "[timeout]") {
  auto f = weft::flow("timed", [] {}, weft::FlowOptions{.timeout_seconds = 30});
  auto specs = weft::DeploymentSpecs(
      f, {weft::Deployment{.name = "inherits"}, weft::Deployment{.name = "own", .timeout_seconds = 5}},
      "./timed");
  REQUIRE(specs);
  REQUIRE(specs->size() == 2);
  CHECK((*specs)[0].timeout_seconds == 30);
  CHECK((*specs)[1].timeout_seconds == 5);
}
