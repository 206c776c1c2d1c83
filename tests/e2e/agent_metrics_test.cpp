// weft-agent --metrics-port for real: a server, a shell-script deployment run twice through
// the agent, and the agent's /metrics, /healthz and /readyz read over HTTP.
#include <httplib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "tests/e2e/support.hpp"

using namespace weft::e2e;
namespace fs = std::filesystem;

namespace {

RunResult WeftOk(const Env& env, std::vector<std::string> args, const std::string& cwd = "") {
  args.insert(args.begin(), WEFT_CLI_BIN);
  RunResult r = Run(args, env, 120, cwd);
  std::string cmd;
  for (const auto& a : args) cmd += " " + a;
  INFO(cmd << "\nexit " << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

void Write(const fs::path& p, const std::string& data, bool executable = false) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
  if (executable) ::chmod(p.c_str(), 0755);
}

// name{labels} -> value for every sample line; an unparsable line fails the test.
std::map<std::string, double> Parse(const std::string& text) {
  static const std::regex re(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$)");
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    INFO(line);
    REQUIRE(std::regex_match(line, m, re));
    out[std::string(m[1]) + std::string(m[2])] = std::stod(m[3]);
  }
  return out;
}

double Get(const std::map<std::string, double>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

}  // namespace

TEST_CASE("weft-agent --metrics-port serves /metrics, /healthz and /readyz that follow its work",
          "[agent][metrics]") {
  Server server(FreshDatabase("agent_metrics"));
  Env env = server.ClientEnv();
  fs::path dir = TempDir("agent_metrics_project");
  Write(dir / "ok.sh", "#!/bin/sh\necho ok\n", true);
  Write(dir / "deploy.yaml",
        "deployments:\n  - name: ok\n    flow_name: sh\n    entrypoint: [\"./ok.sh\"]\n"
        "    include: [ok.sh]\n    work_queue: etl\n");
  WeftOk(env, {"storage", "create", "local", "--name", "flows", "--path",
               TempDir("agent_metrics_store") + "/store", "--default"});
  WeftOk(env, {"work-queue", "create", "etl"});
  WeftOk(env, {"deployment", "create", "deploy.yaml"}, dir.string());

  int port = FreePort();
  Background agent({WEFT_AGENT_BIN, "-q", "etl", "--metrics-port", std::to_string(port),
                    "--work-dir", TempDir("agent_metrics_runs"), "--cache-dir",
                    TempDir("agent_metrics_cache") + "/cache"},
                   env, TempDir("agent_metrics_log") + "/agent.log");
  REQUIRE(agent.WaitForLog("weft-agent ready", 60));
  httplib::Client http("127.0.0.1", port);
  auto health = http.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  REQUIRE(Eventually(
      [&] {
        auto r = http.Get("/readyz");
        return r && r->status == 200;
      },
      30));

  WeftOk(env, {"deployment", "run", "sh/ok"});
  WeftOk(env, {"deployment", "run", "sh/ok"});
  std::map<std::string, double> m;
  bool done = Eventually(
      [&] {
        auto r = http.Get("/metrics");
        if (!r || r->status != 200) return false;
        m = Parse(r->body);
        return Get(m, R"(weft_agent_runs_finished_total{state="Completed"})") >= 2;
      },
      60, 0.2);
  INFO(agent.Log());
  REQUIRE(done);
  CHECK(Get(m, "weft_agent_claims_total") == 2);
  // One bundle: fetched once from storage, then served by the cache.
  CHECK(Get(m, R"(weft_agent_bundle_cache_total{result="miss"})") == 1);
  CHECK(Get(m, R"(weft_agent_bundle_cache_total{result="hit"})") == 1);
  CHECK(Get(m, "weft_agent_running_flows") == 0);
  CHECK(Get(m, "weft_agent_ready") == 1);
  CHECK(Get(m, R"(weft_agent_polls_total{outcome="claimed"})") >= 1);
  CHECK(agent.Stop() == 0);
}
