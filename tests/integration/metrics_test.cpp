// /metrics for real: the server's HTTP port scraped with an HTTP client, the text parsed
// line by line, and the counters watched while runs move.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>

#include "tests/integration/server_fixture.hpp"

using namespace weft;

namespace {

// Every non-comment line must be `name{labels} value` (labels optional). Returns
// "name{labels}" -> value; FAILs on a line that does not parse.
std::map<std::string, double> ParsePrometheus(const std::string& text) {
  static const std::regex line_re(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$)");
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      INFO("line " << n << ": " << line);
      CHECK((line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0));
      continue;
    }
    std::smatch m;
    INFO("line " << n << ": " << line);
    REQUIRE(std::regex_match(line, m, line_re));
    char* end = nullptr;
    std::string value = m[3];
    double v = std::strtod(value.c_str(), &end);
    REQUIRE(end != nullptr);
    REQUIRE(*end == '\0');
    out[std::string(m[1]) + std::string(m[2])] = v;
  }
  return out;
}

double Value(const std::map<std::string, double>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

void WithHttp(server::app::Settings& s) {
  s.http_enabled = true;
  s.http_address = "127.0.0.1:0";
  s.metrics_refresh = 0;  // database gauges re-read at every scrape
  s.scheduler_interval = 3600;
}

struct Scraper {
  test::ApiServer server{WithHttp};

  std::map<std::string, double> Scrape() {
    std::string addr = server.app->http_address();
    REQUIRE_FALSE(addr.empty());
    auto colon = addr.rfind(':');
    httplib::Client http(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
    auto res = http.Get("/metrics");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    CHECK_THAT(res->get_header_value("Content-Type"), Catch::StartsWith("text/plain"));
    return ParsePrometheus(res->body);
  }
};

}  // namespace

TEST_CASE("/metrics parses as Prometheus text and its counters move with the work", "[metrics]") {
  Scraper s;
  auto before = s.Scrape();
  CHECK(Value(before, R"(weft_database_connections{kind="size"})") == 4);
  CHECK(before.count(R"(weft_agent_waiting_polls)") == 1);
  CHECK(before.count(R"(weft_work_queue_due_runs{work_queue="default"})") == 1);
  const std::string completed = R"(weft_flow_runs{state_name="Completed",state_type="COMPLETED"})";
  CHECK(Value(before, completed) == 0);

  auto& c = *s.server.client;
  for (int i = 0; i < 3; ++i) {
    v1::CreateFlowRunRequest create;
    create.set_flow_name("etl");
    auto run = c.CreateFlowRun(create);
    REQUIRE(run.ok());
    for (auto type : {v1::RUNNING, v1::COMPLETED}) {
      v1::SetFlowRunStateRequest set;
      set.set_flow_run_id(run->flow_run().id());
      set.mutable_state()->set_type(type);
      REQUIRE(c.SetFlowRunState(set).ok());
    }
  }
  // A rejected proposal: Completed -> Completed again is refused by a rule.
  v1::ListFlowRunsRequest list;
  auto runs = c.ListFlowRuns(list);
  REQUIRE(runs.ok());
  v1::SetFlowRunStateRequest again;
  again.set_flow_run_id(runs->flow_runs(0).id());
  again.mutable_state()->set_type(v1::RUNNING);
  auto rejected = c.SetFlowRunState(again);
  REQUIRE(rejected.ok());
  CHECK(rejected->result().decision() != v1::ACCEPT);

  auto after = s.Scrape();
  CHECK(Value(after, completed) == 3);
  double accepted_completed = 0, not_accepted = 0;
  for (const auto& [key, v] : after) {
    if (key.rfind("weft_transitions_total{", 0) != 0) continue;
    if (key.find(R"(kind="flow_run")") == std::string::npos) continue;
    if (key.find(R"(decision="ACCEPT")") != std::string::npos &&
        key.find(R"(state="Completed")") != std::string::npos) {
      accepted_completed += v;
    }
    if (key.find(R"(decision="ACCEPT")") == std::string::npos) not_accepted += v;
  }
  CHECK(accepted_completed >= 3);
  CHECK(not_accepted >= 1);
  CHECK(Value(after,
              R"(weft_rpc_duration_seconds_count{code="OK",method="/weft.v1.FlowRunService/SetFlowRunState"})") >=
        6);
  CHECK(Value(after,
              R"(weft_rpc_duration_seconds_count{code="OK",method="/weft.v1.FlowRunService/CreateFlowRun"})") ==
        3);
}
