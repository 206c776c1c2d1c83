// Bounded resources end to end (docs/limits.md): text a flow put into its logs reaches the
// terminal of whoever runs `weft flow-run logs` without control characters.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/support.hpp"

using namespace weft::e2e;

TEST_CASE("bounds: weft flow-run logs prints no ESC from a run's log lines", "[e2e][bounds]") {
  Server server(FreshDatabase("bounds_logs"));
  Env env = server.ClientEnv();
  // hello_flow logs "Hello, <name>!": the name clears the screen and retitles the window.
  RunResult run = Run({HELLO_FLOW_BIN, "--param", "name=\x1b[2J\x1b]0;owned\x07"}, env);
  INFO("hello_flow stderr:\n" << run.err);
  REQUIRE(run.exit_code == 0);
  RunResult ls = Run({WEFT_CLI_BIN, "flow-run", "ls", "--output", "json"}, env);
  REQUIRE(ls.exit_code == 0);
  auto runs = nlohmann::json::parse(ls.out)["flow_runs"];
  REQUIRE(runs.size() == 1);
  std::string id = runs[0]["id"];

  RunResult logs = Run({WEFT_CLI_BIN, "flow-run", "logs", id}, env);
  INFO("weft flow-run logs:\n" << logs.out << logs.err);
  REQUIRE(logs.exit_code == 0);
  CHECK(logs.out.find('\x1b') == std::string::npos);
  CHECK(logs.out.find('\x07') == std::string::npos);
  CHECK(logs.out.find("Hello, \\x1b[2J\\x1b]0;owned\\x07!") != std::string::npos);
  // JSON output keeps the text exact (escaped the JSON way).
  RunResult json = Run({WEFT_CLI_BIN, "flow-run", "logs", id, "--output", "json"}, env);
  REQUIRE(json.exit_code == 0);
  CHECK(json.out.find('\x1b') == std::string::npos);
  CHECK(json.out.find("\\u001b[2J") != std::string::npos);
}
