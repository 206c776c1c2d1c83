// Logs through the API (LogService) on a real server and database: write and list in
// order, filters (level, task name, task run), paging with the cursor, the size limits and
// the cut marker, errors; and the SDK's LogShipper (batches, Flush, overflow marker).
#include <fmt/format.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sdk/client/log_shipper.hpp"
#include "tests/integration/server_fixture.hpp"

using namespace weft;
using namespace std::chrono_literals;

namespace {

struct Fixture : test::ApiServer {
  std::string NewFlowRun(const std::string& flow = "logged") {
    v1::CreateFlowRunRequest req;
    req.set_flow_name(flow);
    auto r = client->CreateFlowRun(req);
    REQUIRE(r.ok());
    return r->flow_run().id();
  }

  std::string NewTaskRun(const std::string& flow_run_id, const std::string& key,
                         const std::string& dynamic_key) {
    v1::CreateTaskRunRequest req;
    req.set_flow_run_id(flow_run_id);
    req.set_task_key(key);
    req.set_dynamic_key(dynamic_key);
    req.set_name(key + "-" + dynamic_key);
    auto r = client->CreateTaskRun(req);
    REQUIRE(r.ok());
    return r->task_run().id();
  }

  // All lines of a query, following the cursor.
  std::vector<v1::LogLine> All(v1::ListLogsRequest req) {
    std::vector<v1::LogLine> out;
    for (;;) {
      auto r = client->ListLogs(req);
      REQUIRE(r.ok());
      for (const auto& l : r->lines()) out.push_back(l);
      if (!r->more()) return out;
      req.set_after_id(r->next_after_id());
    }
  }

  std::vector<v1::LogLine> AllOf(const std::string& flow_run_id) {
    v1::ListLogsRequest req;
    req.set_flow_run_id(flow_run_id);
    return All(req);
  }
};

v1::LogLine Line(const std::string& flow_run_id, const std::string& message,
                 v1::LogLevel level = v1::LOG_LEVEL_INFO, const std::string& task_run_id = "",
                 const std::string& task_run_name = "") {
  v1::LogLine l;
  l.set_flow_run_id(flow_run_id);
  l.set_message(message);
  l.set_level(level);
  l.set_task_run_id(task_run_id);
  l.set_task_run_name(task_run_name);
  return l;
}

std::vector<std::string> Messages(const std::vector<v1::LogLine>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.message());
  return out;
}

}  // namespace

TEST_CASE("logs: written lines are listed in order with their task runs, levels and sources",
          "[logs]") {
  Fixture f;
  std::string run = f.NewFlowRun();
  std::string extract = f.NewTaskRun(run, "extract", "0");
  std::string load = f.NewTaskRun(run, "load", "0");
  std::string load1 = f.NewTaskRun(run, "load", "1");
  std::string loader = f.NewTaskRun(run, "load-all", "0");

  v1::WriteLogsRequest req;
  *req.add_lines() = Line(run, "flow starts");
  *req.add_lines() = Line(run, "extracting", v1::LOG_LEVEL_DEBUG, extract, "extract-0");
  *req.add_lines() = Line(run, "loading", v1::LOG_LEVEL_INFO, load, "load-0");
  *req.add_lines() = Line(run, "disk almost full", v1::LOG_LEVEL_WARNING, load1, "load-1");
  *req.add_lines() = Line(run, "other loader", v1::LOG_LEVEL_INFO, loader, "load-all-0");
  auto* out = req.add_lines();
  *out = Line(run, "printed on stdout");
  out->set_source("stdout");
  *req.add_lines() = Line(run, "flow failed", v1::LOG_LEVEL_ERROR);
  auto w = f.client->WriteLogs(req);
  REQUIRE(w.ok());
  CHECK(w->written() == 7);
  CHECK(w->cut() == 0);

  auto all = f.AllOf(run);
  REQUIRE(all.size() == 7);
  CHECK(Messages(all) == std::vector<std::string>{"flow starts", "extracting", "loading",
                                                  "disk almost full", "other loader",
                                                  "printed on stdout", "flow failed"});
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i].id() > all[i - 1].id());
  CHECK(all[1].task_run_id() == extract);
  CHECK(all[1].task_run_name() == "extract-0");
  CHECK(all[1].level() == v1::LOG_LEVEL_DEBUG);
  CHECK(all[0].source() == "sdk");
  CHECK(all[5].source() == "stdout");
  CHECK(all[0].timestamp().seconds() > 0);  // unset -> the time it was received

  SECTION("min level") {
    v1::ListLogsRequest q;
    q.set_flow_run_id(run);
    q.set_min_level(v1::LOG_LEVEL_WARNING);
    CHECK(Messages(f.All(q)) == std::vector<std::string>{"disk almost full", "flow failed"});
  }
  SECTION("task name: NAME and NAME-<n>, not other tasks that start with NAME") {
    v1::ListLogsRequest q;
    q.set_flow_run_id(run);
    q.set_task_name("load");
    CHECK(Messages(f.All(q)) == std::vector<std::string>{"loading", "disk almost full"});
    q.set_task_name("load-1");
    CHECK(Messages(f.All(q)) == std::vector<std::string>{"disk almost full"});
  }
  SECTION("one task run, by its id alone") {
    v1::ListLogsRequest q;
    q.set_task_run_id(extract);
    auto lines = f.All(q);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].message() == "extracting");
    CHECK(lines[0].flow_run_id() == run);
  }
  SECTION("another run's lines stay apart") {
    std::string other = f.NewFlowRun();
    v1::WriteLogsRequest more;
    *more.add_lines() = Line(other, "elsewhere");
    REQUIRE(f.client->WriteLogs(more).ok());
    CHECK(f.AllOf(run).size() == 7);
    CHECK(Messages(f.AllOf(other)) == std::vector<std::string>{"elsewhere"});
  }
}

TEST_CASE("logs: paging follows the cursor, and an empty page keeps it", "[logs]") {
  Fixture f;
  std::string run = f.NewFlowRun();
  for (int batch = 0; batch < 3; ++batch) {
    v1::WriteLogsRequest req;
    for (int i = 0; i < 1000; ++i) {
      *req.add_lines() = Line(run, "line " + std::to_string(batch * 1000 + i));
    }
    REQUIRE(f.client->WriteLogs(req).ok());
  }
  v1::ListLogsRequest q;
  q.set_flow_run_id(run);
  q.set_limit(700);
  auto first = f.client->ListLogs(q);
  REQUIRE(first.ok());
  CHECK(first->lines_size() == 700);
  CHECK(first->more());
  CHECK(first->next_after_id() == first->lines(699).id());

  q.set_limit(0);  // default: 1000
  q.set_after_id(first->next_after_id());
  auto second = f.client->ListLogs(q);
  REQUIRE(second.ok());
  CHECK(second->lines_size() == 1000);
  CHECK(second->lines(0).message() == "line 700");

  auto all = f.AllOf(run);
  REQUIRE(all.size() == 3000);
  for (int i = 0; i < 3000; ++i) {
    if (all[static_cast<size_t>(i)].message() != "line " + std::to_string(i)) {
      FAIL("line " << i << " is \"" << all[static_cast<size_t>(i)].message() << "\"");
    }
  }

  q.set_after_id(all.back().id());
  auto empty = f.client->ListLogs(q);
  REQUIRE(empty.ok());
  CHECK(empty->lines_size() == 0);
  CHECK_FALSE(empty->more());
  CHECK(empty->next_after_id() == all.back().id());
}

TEST_CASE("logs: a line over 16 KiB is cut with a marker; oversized batches are refused",
          "[logs]") {
  Fixture f;
  std::string run = f.NewFlowRun();

  SECTION("cut marker") {
    v1::WriteLogsRequest req;
    *req.add_lines() = Line(run, std::string(20000, 'x'));
    *req.add_lines() = Line(run, std::string(16384, 'y'));  // exactly the limit: kept whole
    // A multi-byte character across the limit is not split.
    *req.add_lines() = Line(run, std::string(16383, 'z') + "\xC3\xA9" + "tail");
    auto w = f.client->WriteLogs(req);
    REQUIRE(w.ok());
    CHECK(w->cut() == 2);
    auto all = f.AllOf(run);
    REQUIRE(all.size() == 3);
    CHECK(all[0].message() == std::string(16384, 'x') + " \xE2\x80\xA6[cut 3616 bytes]");
    CHECK(all[1].message() == std::string(16384, 'y'));
    CHECK(all[2].message() == std::string(16383, 'z') + " \xE2\x80\xA6[cut 6 bytes]");
  }
  SECTION("more than 1000 lines") {
    v1::WriteLogsRequest req;
    for (int i = 0; i < 1001; ++i) *req.add_lines() = Line(run, "x");
    auto w = f.client->WriteLogs(req);
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(w.error().message, Catch::Contains("1001 lines") && Catch::Contains("1000"));
    CHECK(f.AllOf(run).empty());
  }
  SECTION("more than 1 MiB") {
    v1::WriteLogsRequest req;
    for (int i = 0; i < 65; ++i) *req.add_lines() = Line(run, std::string(16384, 'm'));
    auto w = f.client->WriteLogs(req);
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(w.error().message, Catch::Contains("1 MiB"));
    CHECK(f.AllOf(run).empty());
  }
}

TEST_CASE("logs: bad input names the field; unknown runs are NOT_FOUND", "[logs]") {
  Fixture f;
  std::string run = f.NewFlowRun();
  const std::string unknown = "00000000-0000-4000-8000-000000000099";

  SECTION("unknown flow run: nothing of the batch is written") {
    v1::WriteLogsRequest req;
    *req.add_lines() = Line(run, "fine");
    *req.add_lines() = Line(unknown, "lost");
    auto w = f.client->WriteLogs(req);
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().code == core::Code::kNotFound);
    CHECK_THAT(w.error().message, Catch::Contains(unknown));
    CHECK(f.AllOf(run).empty());
  }
  SECTION("malformed ids") {
    v1::WriteLogsRequest req;
    *req.add_lines() = Line("not-a-run", "x");
    CHECK(f.client->WriteLogs(req).error().code == core::Code::kNotFound);
    req.clear_lines();
    *req.add_lines() = Line(run, "x", v1::LOG_LEVEL_INFO, "nope");
    auto w = f.client->WriteLogs(req);
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(w.error().message, Catch::Contains("lines[0].task_run_id"));
  }
  SECTION("source and level") {
    v1::WriteLogsRequest req;
    *req.add_lines() = Line(run, "x");
    *req.add_lines() = Line(run, "y");
    req.mutable_lines(1)->set_source("syslog");
    auto w = f.client->WriteLogs(req);
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(w.error().message, Catch::Contains("lines[1].source"));
    req.mutable_lines(1)->set_source("stderr");
    req.mutable_lines(1)->set_level(static_cast<v1::LogLevel>(25));
    w = f.client->WriteLogs(req);
    REQUIRE_FALSE(w.ok());
    CHECK_THAT(w.error().message, Catch::Contains("lines[1].level"));
    req.mutable_lines(1)->set_level(v1::LOG_LEVEL_UNSPECIFIED);  // -> INFO
    REQUIRE(f.client->WriteLogs(req).ok());
    CHECK(f.AllOf(run).at(1).level() == v1::LOG_LEVEL_INFO);
  }
  SECTION("listing") {
    v1::ListLogsRequest q;
    auto r = f.client->ListLogs(q);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(r.error().message, Catch::Contains("flow_run_id"));
    q.set_flow_run_id(unknown);
    CHECK(f.client->ListLogs(q).error().code == core::Code::kNotFound);
    q.set_flow_run_id("");
    q.set_task_run_id(unknown);
    CHECK(f.client->ListLogs(q).error().code == core::Code::kNotFound);
    q.set_task_run_id("");
    q.set_flow_run_id(run);
    q.set_min_level(static_cast<v1::LogLevel>(7));
    r = f.client->ListLogs(q);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("min_level"));
  }
}

TEST_CASE("logs: the LogShipper sends batches in order and Flush waits for them", "[logs]") {
  Fixture f;
  std::string run = f.NewFlowRun();
  std::string task = f.NewTaskRun(run, "work", "0");
  client::LogShipper shipper(*f.client);
  for (int i = 0; i < 1234; ++i) {
    shipper.Add(run, i % 2 ? task : "", i % 2 ? "work-0" : "", client::LogLevel::kInfo,
                "shipped " + std::to_string(i), i % 3 == 0 ? "stderr" : "sdk");
  }
  REQUIRE(shipper.Flush(30s));
  auto all = f.AllOf(run);
  REQUIRE(all.size() == 1234);
  for (int i = 0; i < 1234; ++i) {
    const auto& l = all[static_cast<size_t>(i)];
    if (l.message() != "shipped " + std::to_string(i)) FAIL("line " << i << ": " << l.message());
  }
  CHECK(all[1].task_run_name() == "work-0");
  CHECK(all[1].task_run_id() == task);
  CHECK(all[0].source() == "stderr");
  CHECK(shipper.stats().sent == 1234);
  CHECK(shipper.stats().dropped == 0);

  SECTION("invalid UTF-8 and NUL bytes arrive replaced; long lines cut") {
    shipper.Add(run, "", "", client::LogLevel::kError, std::string("bad \xFF byte\0!", 12));
    shipper.Add(run, "", "", client::LogLevel::kInfo, std::string(17000, 'a'));
    REQUIRE(shipper.Flush(30s));
    auto lines = f.AllOf(run);
    REQUIRE(lines.size() == 1236);
    CHECK(lines[1234].message() == "bad \xEF\xBF\xBD byte\xE2\x90\x80!");
    CHECK(lines[1234].level() == v1::LOG_LEVEL_ERROR);
    // Cut by the shipper so that it stays within 16 KiB with its marker.
    CHECK(lines[1235].message() == std::string(16352, 'a') + " \xE2\x80\xA6[cut 648 bytes]");
    CHECK(lines[1235].message().size() <= 16384);
  }
}

TEST_CASE("logs: a full LogShipper buffer drops the oldest lines and ships a marker", "[logs]") {
  Fixture f;
  std::string run = f.NewFlowRun();
  client::LogShipperOptions o;
  o.capacity = 100;
  o.interval = 60s;  // nothing leaves before Flush
  client::LogShipper shipper(*f.client, o);
  for (int i = 0; i < 250; ++i) {
    shipper.Add(run, "", "", client::LogLevel::kInfo, "n" + std::to_string(i));
  }
  REQUIRE(shipper.Flush(30s));
  auto all = f.AllOf(run);
  REQUIRE(all.size() == 101);
  CHECK_THAT(all[0].message(), Catch::Contains("150 log lines dropped"));
  CHECK(all[0].level() == v1::LOG_LEVEL_WARNING);
  CHECK(all[1].message() == "n150");
  CHECK(all[100].message() == "n249");
  CHECK(shipper.stats().dropped == 150);
}

TEST_CASE("logs: the LogShipper reports lines the server refuses and does not block", "[logs]") {
  Fixture f;
  std::string run = f.NewFlowRun();
  std::vector<std::string> errors;
  std::mutex mu;
  client::LogShipperOptions o;
  o.on_error = [&](const std::string& e) {
    std::lock_guard lock(mu);
    errors.push_back(e);
  };
  client::LogShipper shipper(*f.client, o);
  shipper.Add("00000000-0000-4000-8000-000000000077", "", "", client::LogLevel::kInfo, "lost");
  shipper.Add(run, "", "", client::LogLevel::kInfo, "kept");
  REQUIRE(shipper.Flush(30s));
  CHECK(Messages(f.AllOf(run)) == std::vector<std::string>{"kept"});
  std::lock_guard lock(mu);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("refused") && Catch::Contains("not found"));
  CHECK(shipper.stats().failed == 1);
}

TEST_CASE("logs: IsSdkConsoleLine recognises the run logger's console lines", "[logs]") {
  CHECK(client::IsSdkConsoleLine("04:12:01.123 | INFO    | Task run 'a-0' - hi"));
  CHECK(client::IsSdkConsoleLine("04:12:01.123 | \x1b[32mWARNING | Flow run 'x' - hi"));
  CHECK_FALSE(client::IsSdkConsoleLine("hello world"));
  CHECK_FALSE(client::IsSdkConsoleLine("04:12:01.123 | NOTICE  | x"));
}

TEST_CASE("logs: a reader following the cursor sees every line while writers race", "[logs]") {
  Fixture f;
  std::string run = f.NewFlowRun();
  constexpr int kWriters = 4;
  constexpr int kBatches = 25;
  constexpr int kPerBatch = 20;
  std::atomic<int> done{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      client::Client c(f.client->options());
      for (int b = 0; b < kBatches; ++b) {
        v1::WriteLogsRequest req;
        for (int i = 0; i < kPerBatch; ++i) {
          *req.add_lines() = Line(run, fmt::format("w{} b{} i{}", w, b, i));
        }
        auto r = c.WriteLogs(req);
        if (!r.ok()) FAIL_CHECK("write: " << r.error().message);
      }
      ++done;
    });
  }
  // Follow like `weft flow-run logs --follow`: the cursor never passes a line that is
  // committed later.
  std::vector<v1::LogLine> followed;
  v1::ListLogsRequest q;
  q.set_flow_run_id(run);
  q.set_limit(50);
  for (;;) {
    bool writers_done = done.load() == kWriters;
    auto r = f.client->ListLogs(q);
    REQUIRE(r.ok());
    for (const auto& l : r->lines()) followed.push_back(l);
    q.set_after_id(r->next_after_id());
    if (writers_done && r->lines_size() == 0) break;
  }
  for (auto& t : writers) t.join();
  auto all = f.AllOf(run);
  REQUIRE(all.size() == static_cast<size_t>(kWriters * kBatches * kPerBatch));
  REQUIRE(followed.size() == all.size());
  for (size_t i = 0; i < all.size(); ++i) CHECK(followed[i].id() == all[i].id());
}

TEST_CASE("logs: LineSplitter turns captured output chunks into lines", "[logs]") {
  std::vector<std::string> lines;
  auto emit = [&](std::string l) { lines.push_back(std::move(l)); };
  client::LineSplitter s(8);
  s.Feed("hel", emit);
  CHECK(lines.empty());
  s.Feed("lo\r\nwor", emit);
  s.Feed("ld\n\n", emit);
  CHECK(lines == std::vector<std::string>{"hello", "world", ""});
  lines.clear();
  s.Feed("0123456789abcdefXY", emit);  // no newline: full pieces go now
  CHECK(lines == std::vector<std::string>{"01234567", "89abcdef"});
  s.Feed("Zabcd\xC3", emit);  // a character across the piece boundary is not split
  s.Feed("\xA9", emit);
  s.Finish(emit);
  CHECK(lines == std::vector<std::string>{"01234567", "89abcdef", "XYZabcd", "\xC3\xA9"});
}

// Figures, not assertions: scripts/with_pg.sh build/.../weft_integration_tests "[logs-bench]"
TEST_CASE("logs: shipping and paging figures", "[.][logs-bench]") {
  Fixture f;
  constexpr int kRuns = 4;
  constexpr int kLines = 50000;
  std::vector<std::string> runs;
  for (int r = 0; r < kRuns; ++r) runs.push_back(f.NewFlowRun("bench"));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::atomic<std::uint64_t> dropped{0};
  for (int r = 0; r < kRuns; ++r) {
    threads.emplace_back([&, r] {
      client::Client c(f.client->options());
      client::LogShipperOptions o;
      o.capacity = kLines;  // measure throughput, not the drop policy
      client::LogShipper shipper(c, o);
      for (int i = 0; i < kLines; ++i) {
        shipper.Add(runs[static_cast<size_t>(r)], "", "", client::LogLevel::kInfo,
                    fmt::format("line {} of a benchmark run with some typical length text", i));
      }
      shipper.Flush(std::chrono::minutes(5));
      dropped += shipper.stats().dropped;
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format(
      "shipped {} lines from {} shippers in {:.2f} s: {:.0f} lines/s ({} dropped)\n",
      kRuns * kLines, kRuns, secs, kRuns * kLines / secs, dropped.load());
  v1::ListLogsRequest q;
  q.set_flow_run_id(runs[0]);
  q.set_after_id(f.AllOf(runs[0]).at(kLines - 1001).id());
  auto t1 = std::chrono::steady_clock::now();
  constexpr int kPages = 50;
  for (int i = 0; i < kPages; ++i) REQUIRE(f.client->ListLogs(q).ok());
  double page_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count() /
      kPages;
  std::cout << fmt::format("ListLogs page of 1000 lines near the end of {} lines: {:.1f} ms\n",
                           kLines, page_ms);
}
