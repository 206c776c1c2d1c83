// weft-agent with real processes: weft-server on a fresh database, local storage, shell-script
// deployments on a work queue, and the agent running them through the process runner.
// Exit 0 -> Completed, exit 3 -> Failed with the code, a SIGSEGV -> Crashed with the signal;
// --dry-run prints docker and Kubernetes invocations and claims nothing; the docker runner
// through a stand-in docker CLI, and without docker; drain and stop on signals; bad flags and
// unknown queues. (Timeouts, cancel, hostile bundles, many agents, kill -9
// and server restarts are in agent_test.cpp.)
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/cli_support.hpp"

using namespace weft::e2e;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {


// The runs of a deployment, newest first, as `weft flow-run ls --output json` shows them.
json Runs(const Env& env, const std::string& deployment) {
  RunResult r = Weft(env, {"flow-run", "ls", "--deployment", deployment, "--output", "json"});
  if (r.exit_code != 0) return json::array();
  json j = json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.contains("flow_runs")) return json::array();
  return j["flow_runs"];
}

// The first run of `deployment` whose state type is `type` (nullptr-like empty json if none).
json RunIn(const Env& env, const std::string& deployment, const std::string& type) {
  for (const auto& r : Runs(env, deployment)) {
    if (r["state"]["type"] == type) return r;
  }
  return json();
}

std::string RunId(const RunResult& run_out) {
  // `weft deployment run` prints the new run's id; take the first UUID-shaped word.
  std::string s = run_out.out;
  for (std::size_t i = 0; i + 36 <= s.size(); ++i) {
    bool uuid = true;
    for (std::size_t k = 0; k < 36 && uuid; ++k) {
      char c = s[i + k];
      bool dash = k == 8 || k == 13 || k == 18 || k == 23;
      uuid = dash ? c == '-' : std::isxdigit(static_cast<unsigned char>(c)) != 0;
    }
    if (uuid) return s.substr(i, 36);
  }
  return "";
}

json RunById(const Env& env, const std::string& deployment, const std::string& id) {
  for (const auto& r : Runs(env, deployment)) {
    if (r["id"] == id) return r;
  }
  return json();
}

struct Project {
  Env env;
  fs::path dir;
  fs::path marks;
};

// A server, local storage "flows", queue "etl" and the scripts of the tests.
Project Setup(const Server& server, const std::string& yaml) {
  Project p;
  p.env = server.ClientEnv();
  p.dir = TempDir("agent_project");
  p.marks = TempDir("agent_marks");
  WriteFile(p.dir / "ok.sh",
        "#!/bin/sh\necho \"hello from $WEFT_FLOW_RUN_ID\"\n"
        "echo \"$WEFT_FLOW_RUN_PARAMETERS\" > \"$MARKS/$WEFT_FLOW_RUN_ID\"\n",
        true);
  WriteFile(p.dir / "fail.sh", "#!/bin/sh\necho failing >&2\nexit 3\n", true);
  WriteFile(p.dir / "env.sh", "#!/bin/sh\nenv > \"$MARKS/env.$WEFT_FLOW_RUN_ID\"\n", true);
  WriteFile(p.dir / "segv.sh", "#!/bin/sh\nkill -SEGV $$\n", true);
  WriteFile(p.dir / "slow.sh",
        "#!/bin/sh\necho $$ > \"$MARKS/$WEFT_FLOW_RUN_ID.pid\"\nsleep 120 &\nwait\n", true);
  WriteFile(p.dir / "span.sh",
        "#!/bin/sh\necho \"$(date +%s%N) start\" >> \"$MARKS/spans\"\nsleep 0.5\n"
        "echo \"$(date +%s%N) end\" >> \"$MARKS/spans\"\n",
        true);
  std::string text = yaml;
  for (std::string::size_type at; (at = text.find("@MARKS@")) != std::string::npos;) {
    text.replace(at, 7, p.marks.string());
  }
  WriteFile(p.dir / "deploy.yaml", text);
  WeftOk(p.env, {"storage", "create", "local", "--name", "flows", "--path",
                 TempDir("agent_store") + "/store", "--default"});
  WeftOk(p.env, {"work-queue", "create", "etl"});
  WeftOk(p.env, {"deployment", "create", "deploy.yaml"}, p.dir.string());
  return p;
}

std::vector<std::string> AgentArgv(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {WEFT_AGENT_BIN, "--work-dir", TempDir("agent_runs"),
                                   "--cache-dir", TempDir("agent_cache") + "/cache"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

const char* kYaml = R"(deployments:
  - name: ok
    flow_name: sh
    entrypoint: ["./ok.sh"]
    include: [ok.sh]
    schedule: {interval: 2s}
    parameters: {day: "2026-11-26"}
    work_queue: etl
    runner: {type: process, env: {MARKS: "@MARKS@"}}
  - name: fail
    flow_name: sh
    entrypoint: ["./fail.sh"]
    include: [fail.sh]
    work_queue: etl
  - name: segv
    flow_name: sh
    entrypoint: ["./segv.sh"]
    include: [segv.sh]
    work_queue: etl
  - name: slow
    flow_name: sh
    entrypoint: ["./slow.sh"]
    include: [slow.sh]
    timeout: 2s
    work_queue: etl
    runner: {type: process, env: {MARKS: "@MARKS@"}}
  - name: cancel-me
    flow_name: sh
    entrypoint: ["./slow.sh"]
    include: [slow.sh]
    work_queue: etl
    runner: {type: process, env: {MARKS: "@MARKS@"}}
)";

}  // namespace

TEST_CASE("agent: shell scripts run to Completed, Failed and Crashed from their exit status",
          "[e2e][agent]") {
  Server server(FreshDatabase("agent_exit"), "", 0, {"--scheduler-interval", "1s"});
  Project p = Setup(server, kYaml);
  Background agent(AgentArgv({"-q", "etl", "--name", "exit-test"}), p.env,
                   TempDir("agent_log") + "/agent.log");
  REQUIRE(agent.WaitForLog("weft-agent ready name=exit-test id=", 30));
  CHECK(Has(agent.Log(), "queues=etl server=" + server.address()));

  std::string fail_id = RunId(WeftOk(p.env, {"deployment", "run", "sh/fail"}));
  std::string segv_id = RunId(WeftOk(p.env, {"deployment", "run", "sh/segv"}));
  REQUIRE_FALSE(fail_id.empty());
  REQUIRE_FALSE(segv_id.empty());

  // The interval deployment's scheduled runs complete, each with its parameters.
  bool two_done = Eventually(
      [&] {
        int n = 0;
        for (const auto& r : Runs(p.env, "sh/ok")) n += r["state"]["type"] == "COMPLETED";
        return n >= 2;
      },
      90, 0.2);
  INFO("agent log:\n" << agent.Log());
  REQUIRE(two_done);
  json ok = RunIn(p.env, "sh/ok", "COMPLETED");
  CHECK(ok["state"]["message"] == "process exited with code 0");
  CHECK(ok["agent_name"] == "exit-test");
  std::string ok_id = ok["id"];
  CHECK(Has(ReadFile((p.marks / ok_id).string()), R"("day":"2026-11-26")"));
  CHECK(agent.WaitForLog("hello from " + ok_id, 10));  // output lines reach the agent's log
  // ... and the run's logs on the server (shipped before the final state was proposed).
  RunResult ok_logs = WeftOk(p.env, {"flow-run", "logs", ok_id});
  CHECK(Has(ok_logs.out, "hello from " + ok_id));

  REQUIRE(Eventually(
      [&] { return RunById(p.env, "sh/fail", fail_id)["state"]["type"] == "FAILED"; }, 60, 0.2));
  json failed = RunById(p.env, "sh/fail", fail_id);
  CHECK(failed["state"]["name"] == "Failed");
  CHECK(failed["state"]["message"] == "process exited with code 3");
  CHECK(Has(WeftOk(p.env, {"flow-run", "logs", fail_id}).out, "failing"));  // stderr too
  CHECK(json::parse(failed["state"]["details_json"].get<std::string>())["exit_code"] == 3);

  REQUIRE(Eventually(
      [&] { return RunById(p.env, "sh/segv", segv_id)["state"]["type"] == "CRASHED"; }, 60, 0.2));
  json crashed = RunById(p.env, "sh/segv", segv_id);
  CHECK(crashed["state"]["message"] == "process killed by signal SIGSEGV (11)");
  auto details = json::parse(crashed["state"]["details_json"].get<std::string>());
  CHECK(details["signal"] == 11);
  CHECK(details["signal_name"] == "SIGSEGV");

  // Each run went through Running (the agent reports it for non-SDK entrypoints).
  RunResult history = WeftOk(p.env, {"flow-run", "inspect", fail_id});
  CHECK(Has(history.out, "Running"));

  // SIGTERM: the agent drains and exits 0.
  CHECK(agent.Stop() == 0);
}

TEST_CASE("agent: --dry-run prints docker and Kubernetes invocations and claims nothing",
          "[e2e][agent]") {
  Server server(FreshDatabase("agent_dry"));
  Project p = Setup(server, R"(deployments:
  - name: in-docker
    flow_name: sh
    entrypoint: ["./ok.sh", "--fast"]
    include: [ok.sh]
    work_queue: etl
    runner: {type: docker, image: "alpine:3.20", env: {REGION: eu}}
  - name: in-k8s
    flow_name: sh
    entrypoint: ["./ok.sh"]
    include: [ok.sh]
    work_queue: etl
    runner: {type: kubernetes, image: "registry.example.com/sh:1", namespace: flows}
  - name: in-net
    flow_name: sh
    entrypoint: ["./ok.sh"]
    include: [ok.sh]
    work_queue: etl
    runner: {type: docker, image: "alpine:3.20", network: flows-net}
)");
  std::string docker_id = RunId(WeftOk(p.env, {"deployment", "run", "sh/in-docker"}));
  std::string k8s_id = RunId(WeftOk(p.env, {"deployment", "run", "sh/in-k8s"}));
  std::string net_id = RunId(WeftOk(p.env, {"deployment", "run", "sh/in-net"}));
  CHECK(Has(WeftOk(p.env, {"deployment", "inspect", "sh/in-net"}).out, "network=flows-net"));
  Env env = p.env;  // the agent's key (the server's admin key here) is never printed
  const std::string agent_key = server.admin_key();
  RunResult dry = Run(AgentArgv({"-q", "etl", "--dry-run"}), env, 60);
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(Has(dry.out, "work queue \"etl\": 3 due run(s)"));
  CHECK(Has(dry.out, "docker run --rm --name weft-" + docker_id + " --label "));  // default network
  // A deployment's runner.network is passed as it says.
  CHECK(Has(dry.out, "docker run --rm --name weft-" + net_id + " --network flows-net --label "));
  CHECK(Has(dry.out,
            "-w /opt/weft/run -e REGION -e WEFT_API_URL -e WEFT_FLOW_RUN_ID "
            "-e WEFT_FLOW_RUN_PARAMETERS -- alpine:3.20 ./ok.sh --fast"));
  CHECK(Has(dry.out, "POST /apis/batch/v1/namespaces/flows/jobs"));
  CHECK(Has(dry.out, "\"image\": \"registry.example.com/sh:1\""));
  CHECK(Has(dry.out, "\"weft.flow-run-id\": \"" + k8s_id + "\""));
  CHECK(Has(dry.out, "\"backoffLimit\": 0"));
  CHECK_FALSE(Has(dry.out, agent_key));
  // Nothing was claimed.
  CHECK(RunById(p.env, "sh/in-docker", docker_id)["state"]["type"] == "SCHEDULED");
  CHECK(RunById(p.env, "sh/in-k8s", k8s_id)["state"]["type"] == "SCHEDULED");
}

TEST_CASE("agent: a docker run without docker on PATH crashes naming it", "[e2e][agent]") {
  Server server(FreshDatabase("agent_nodocker"));
  Project p = Setup(server, R"(deployments:
  - name: in-docker
    flow_name: sh
    entrypoint: ["./ok.sh"]
    include: [ok.sh]
    work_queue: etl
    runner: {type: docker, image: "alpine:3.20"}
)");
  Env env = p.env;
  env["PATH"] = "/nonexistent";
  Background agent(AgentArgv({"-q", "etl"}), env, TempDir("agent_log") + "/agent.log");
  REQUIRE(agent.WaitForLog("weft-agent ready", 30));
  std::string id = RunId(WeftOk(p.env, {"deployment", "run", "sh/in-docker"}));
  REQUIRE(Eventually(
      [&] { return RunById(p.env, "sh/in-docker", id)["state"]["type"] == "CRASHED"; }, 60, 0.2));
  CHECK(RunById(p.env, "sh/in-docker", id)["state"]["message"] ==
        "runner docker: docker not found on PATH");
  CHECK(agent.Stop() == 0);
}

TEST_CASE("agent: a flow process gets an allowlisted environment, never the agent's secrets",
          "[e2e][agent]") {
  Server server(FreshDatabase("agent_env"));
  Project p = Setup(server, R"(deployments:
  - name: env
    flow_name: sh
    entrypoint: ["./env.sh"]
    include: [env.sh]
    parameters: {day: "2026-11-26"}
    work_queue: etl
    runner: {type: process, env: {MARKS: "@MARKS@", FROM_RUNNER_ENV: "runner-value"}}
)");
  Env env = server.ClientEnv();
  env["AWS_SECRET_ACCESS_KEY"] = "agent-aws-secret";
  env["E2E_AGENT_SECRET"] = "agent-only-secret";
  env["E2E_PASSED"] = "passed-value";
  env["WEFT_AGENT_KILL_GRACE"] = "3s";  // the agent's own settings are not the flow's business
  env["TZ"] = "UTC";
  Background agent(AgentArgv({"-q", "etl", "--pass-env", "E2E_PASSED"}), env,
                   TempDir("agent_log") + "/agent.log");
  REQUIRE(agent.WaitForLog("weft-agent ready", 30));
  CHECK(Has(agent.Log(), "pass_env=E2E_PASSED"));  // the agent's settings show the list
  std::string id = RunId(WeftOk(p.env, {"deployment", "run", "sh/env"}));
  INFO("agent log:\n" << agent.Log());
  REQUIRE(Eventually(
      [&] { return RunById(p.env, "sh/env", id)["state"]["type"] == "COMPLETED"; }, 60, 0.2));
  std::string flow_env = ReadFile((p.marks / ("env." + id)).string());
  INFO("flow environment:\n" << flow_env);
  auto has_var = [&](const std::string& line) { return Has("\n" + flow_env, "\n" + line + "\n"); };
  // Absent: the agent's secrets and its own settings.
  CHECK_FALSE(Has(flow_env, "agent-aws-secret"));
  CHECK_FALSE(Has(flow_env, "AWS_SECRET_ACCESS_KEY"));
  CHECK_FALSE(Has(flow_env, "agent-only-secret"));
  CHECK_FALSE(Has(flow_env, "WEFT_AGENT_KILL_GRACE"));
  // Present: --pass-env, runner.env, what Weft sets, the basics.
  CHECK(has_var("E2E_PASSED=passed-value"));
  CHECK(has_var("FROM_RUNNER_ENV=runner-value"));
  CHECK(has_var("WEFT_FLOW_RUN_ID=" + id));
  CHECK(has_var("WEFT_API_URL=" + server.address()));
  CHECK(has_var(R"(WEFT_FLOW_RUN_PARAMETERS={"day":"2026-11-26"})"));
  CHECK(has_var("TZ=UTC"));
  CHECK(Has(flow_env, "PATH=/"));
  CHECK(agent.Stop() == 0);
}

TEST_CASE("agent: an image that is not an image reference is refused at deployment create",
          "[e2e][agent]") {
  Server server(FreshDatabase("agent_bad_image"));
  Env env = server.ClientEnv();
  fs::path dir = TempDir("agent_bad_image");
  WriteFile(dir / "ok.sh", "#!/bin/sh\n", true);
  WriteFile(dir / "deploy.yaml", R"(deployments:
  - name: evil
    flow_name: sh
    entrypoint: ["./ok.sh"]
    include: [ok.sh]
    runner: {type: docker, image: "--privileged"}
)");
  WeftOk(env, {"storage", "create", "local", "--name", "flows", "--path",
               TempDir("agent_store") + "/store", "--default"});
  RunResult r = Weft(env, {"deployment", "create", "deploy.yaml"}, dir.string());
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err,
            "runner.image: \"--privileged\" is not a valid image reference: starts with '-'"));
  CHECK(Weft(env, {"deployment", "inspect", "sh/evil"}).exit_code != 0);
}

TEST_CASE("agent: bad input", "[e2e][agent]") {
  Server server(FreshDatabase("agent_bad"));
  Env env = server.ClientEnv();
  RunResult unknown = Run(AgentArgv({"-q", "default", "-q", "nope"}), env, 60);
  CHECK(unknown.exit_code == 1);
  CHECK(Has(unknown.err, "error: work queue \"nope\" not found"));
  RunResult bad =
      Run(AgentArgv({"-q", "default", "--limit", "lots", "--kill-grace", "soon"}), env, 60);
  CHECK(bad.exit_code == 2);
  CHECK(Has(bad.err, "error: --limit: \"lots\" is not a whole number"));
  CHECK(Has(bad.err, "error: --kill-grace: \"soon\" is not a duration"));
  RunResult bad_env = Run(AgentArgv({"-q", "default", "--pass-env", "NOT-A-NAME"}), env, 60);
  CHECK(bad_env.exit_code == 2);
  CHECK(Has(bad_env.err, "error: --pass-env: \"NOT-A-NAME\" is not an environment variable name"));
  RunResult none = Run(AgentArgv({}), env, 60);
  CHECK(none.exit_code == 2);
  CHECK(Has(none.err, "error: --work-queue: at least one work queue is required"));
}

namespace {

// A stand-in `docker` for machines without a Docker engine: it records its argv and the
// environment it got, then runs the command after the image in the mounted directory (-v
// SRC:/opt/weft/run), so the run ends with the command's exit status.
const char* kFakeDocker = R"(#!/bin/sh
[ "$1" = run ] || exit 0
shift
echo "run $*" > "$FAKE_DOCKER_LOG/argv.$WEFT_FLOW_RUN_ID"
env | grep -E '^(WEFT_FLOW_RUN_ID|WEFT_FLOW_RUN_PARAMETERS|WEFT_API_URL|WEFT_API_KEY|REGION)=' | sort \
  > "$FAKE_DOCKER_LOG/env.$WEFT_FLOW_RUN_ID"
src=
while [ $# -gt 0 ]; do
  case "$1" in
    --rm) shift ;;
    -v) src="${2%%:*}"; shift 2 ;;
    --name|--network|--label|-w|-e) shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
shift  # the image
cd "$src" && exec "$@"
)";

}  // namespace

TEST_CASE("agent: the docker runner drives the docker CLI (a stand-in here)", "[e2e][agent]") {
  Server server(FreshDatabase("agent_docker"));
  Project p = Setup(server, R"(deployments:
  - name: ok
    flow_name: dock
    entrypoint: ["./ok.sh"]
    include: [ok.sh]
    parameters: {day: "2026-11-26"}
    work_queue: etl
    runner: {type: docker, image: "alpine:3.20", env: {REGION: eu, MARKS: "@MARKS@"}}
  - name: fail
    flow_name: dock
    entrypoint: ["./fail.sh"]
    include: [fail.sh]
    work_queue: etl
    runner: {type: docker, image: "alpine:3.20"}
)");
  fs::path bin = TempDir("fake_docker_bin");
  fs::path log = TempDir("fake_docker_log");
  WriteFile(bin / "docker", kFakeDocker, true);
  Env env = p.env;
  env["PATH"] = bin.string() + ":" + Getenv("PATH");
  env["FAKE_DOCKER_LOG"] = log.string();
  env["PASSED_TO_FLOWS"] = "passed";
  env["AGENT_ONLY_SECRET"] = "agent-only";
  Background agent(AgentArgv({"-q", "etl", "--pass-env", "PASSED_TO_FLOWS", "--docker-network",
                              "weft-flows"}),
                   env, TempDir("agent_log") + "/agent.log");
  REQUIRE(agent.WaitForLog("weft-agent ready", 30));
  std::string ok_id = RunId(WeftOk(p.env, {"deployment", "run", "dock/ok"}));
  std::string fail_id = RunId(WeftOk(p.env, {"deployment", "run", "dock/fail"}));
  INFO("agent log:\n" << agent.Log());
  REQUIRE(Eventually(
      [&] { return RunById(p.env, "dock/ok", ok_id)["state"]["type"] == "COMPLETED"; }, 60, 0.2));
  REQUIRE(Eventually(
      [&] { return RunById(p.env, "dock/fail", fail_id)["state"]["type"] == "FAILED"; }, 60, 0.2));
  CHECK(RunById(p.env, "dock/fail", fail_id)["state"]["message"] == "process exited with code 3");

  std::string argv = ReadFile((log / ("argv." + ok_id)).string());
  CHECK(Has(argv, "run --rm --name weft-" + ok_id + " --network weft-flows --label weft.flow-run-id=" +
                      ok_id + " -v "));
  // Only the run's variables and --pass-env ones go to the container, by name; the image
  // follows "--".
  CHECK(Has(argv,
            ":/opt/weft/run -w /opt/weft/run -e PASSED_TO_FLOWS -e MARKS -e REGION -e WEFT_API_URL "
            "-e WEFT_API_KEY -e WEFT_FLOW_RUN_ID -e WEFT_FLOW_RUN_PARAMETERS -- alpine:3.20 ./ok.sh"));
  CHECK_FALSE(Has(argv, "AGENT_ONLY_SECRET"));
  std::string got_env = ReadFile((log / ("env." + ok_id)).string());
  // The container gets the run's own token, never the agent's key.
  CHECK(Has(got_env, "WEFT_API_KEY=weftrun_" + ok_id + "_"));
  CHECK_FALSE(Has(got_env, server.admin_key()));
  CHECK(Has(got_env, "REGION=eu"));
  CHECK(Has(got_env, "WEFT_FLOW_RUN_ID=" + ok_id));
  CHECK(Has(got_env, R"(WEFT_FLOW_RUN_PARAMETERS={"day":"2026-11-26"})"));
  CHECK(Has(got_env, "WEFT_API_URL=" + server.address()));
  CHECK(agent.WaitForLog("hello from " + ok_id, 10));
  CHECK(agent.Stop() == 0);
}

TEST_CASE("agent: the first SIGTERM drains, the second stops the running flows", "[e2e][agent]") {
  Server server(FreshDatabase("agent_drain"));
  Project p = Setup(server, kYaml);
  WeftOk(p.env, {"deployment", "pause", "sh/ok"});
  Background agent(AgentArgv({"-q", "etl", "--kill-grace", "2s"}), p.env,
                   TempDir("agent_log") + "/agent.log");
  REQUIRE(agent.WaitForLog("weft-agent ready", 30));
  std::string id = RunId(WeftOk(p.env, {"deployment", "run", "sh/cancel-me"}));
  fs::path pid_file = p.marks / (id + ".pid");
  REQUIRE(Eventually([&] { return fs::exists(pid_file) && !ReadFile(pid_file.string()).empty(); },
                     60, 0.1));
  int flow_pid = std::stoi(ReadFile(pid_file.string()));
  // The flow's parent is the agent.
  std::string stat = ReadFile("/proc/" + std::to_string(flow_pid) + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string state;
  int agent_pid = 0;
  fields >> state >> agent_pid;
  REQUIRE(agent_pid > 1);
  INFO("agent log:\n" << agent.Log());

  REQUIRE(::kill(agent_pid, SIGTERM) == 0);
  REQUIRE(agent.WaitForLog("draining", 10));
  // Still running, and nothing new is claimed.
  std::string later = RunId(WeftOk(p.env, {"deployment", "run", "sh/fail"}));
  CHECK(RunById(p.env, "sh/cancel-me", id)["state"]["type"] == "RUNNING");
  CHECK(::kill(flow_pid, 0) == 0);

  REQUIRE(::kill(agent_pid, SIGTERM) == 0);
  REQUIRE(Eventually(
      [&] { return RunById(p.env, "sh/cancel-me", id)["state"]["type"] == "CRASHED"; }, 60, 0.2));
  CHECK(Has(RunById(p.env, "sh/cancel-me", id)["state"]["message"], "the agent shut down"));
  CHECK(Eventually([&] { return !agent.Running(); }, 30));
  CHECK(agent.Stop() == 0);
  CHECK(::kill(flow_pid, 0) != 0);
  CHECK(RunById(p.env, "sh/fail", later)["state"]["type"] == "SCHEDULED");
}

namespace {

// A stand-in Kubernetes API (no cluster here): Jobs are accepted, recorded and report
// success, failure (the pod's exit code 7) or keep running, by image tag. Every request is
// appended to requests.log as "METHOD PATH AUTHORIZATION".
const char* kFakeKubeApi = R"PY(
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
log_dir = sys.argv[1]
jobs = {}
lock = threading.Lock()
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def record(self, body=b""):
        with lock, open(log_dir + "/requests.log", "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Authorization")))
            if body: f.write("BODY " + json.dumps(json.loads(body)) + "\n")
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""
    def authorized(self):
        if self.headers.get("Authorization") != "Bearer test-token":
            self.reply(401, {"kind": "Status", "message": "Unauthorized"}); return False
        return True
    def do_POST(self):
        b = self.body(); self.record(b)
        if not self.authorized(): return
        job = json.loads(b)
        with lock: jobs[job["metadata"]["name"]] = {"job": job, "polls": 0}
        self.reply(201, job)
    def do_GET(self):
        self.record()
        if not self.authorized(): return
        parts = self.path.split("?")[0].split("/")
        if "pods" in parts:
            name = self.path.split("job-name%3D")[1]
            self.reply(200, {"items": [{"status": {"containerStatuses": [
                {"state": {"terminated": {"exitCode": 7}}}]}}]})
            return
        name = parts[-1]
        with lock:
            j = jobs.get(name)
            if j is None: self.reply(404, {"kind": "Status", "message": "not found"}); return
            j["polls"] += 1
            image = j["job"]["spec"]["template"]["spec"]["containers"][0]["image"]
            status = {"active": 1}
            if j["polls"] > 1 and image.endswith(":ok"): status = {"succeeded": 1}
            if j["polls"] > 1 and image.endswith(":fail"): status = {"failed": 1}
        self.reply(200, {"metadata": {"name": name}, "status": status})
    def do_DELETE(self):
        self.record(self.body())
        if not self.authorized(): return
        name = self.path.split("?")[0].split("/")[-1]
        with lock: jobs.pop(name, None)
        self.reply(200, {"kind": "Status", "status": "Success"})
srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), H)
print("ready", flush=True)
srv.serve_forever()
)PY";

}  // namespace

TEST_CASE("agent: the kubernetes runner submits, watches and deletes Jobs (a stand-in API)",
          "[e2e][agent]") {
  Server server(FreshDatabase("agent_k8s"));
  Project p = Setup(server, R"(deployments:
  - name: ok
    flow_name: kube
    entrypoint: ["/app/flow", "--fast"]
    include: [ok.sh]
    work_queue: etl
    runner: {type: kubernetes, image: "registry.example.com/flow:ok", namespace: flows}
  - name: fail
    flow_name: kube
    entrypoint: ["/app/flow"]
    include: [ok.sh]
    work_queue: etl
    runner: {type: kubernetes, image: "registry.example.com/flow:fail"}
  - name: forever
    flow_name: kube
    entrypoint: ["/app/flow"]
    include: [ok.sh]
    work_queue: etl
    runner: {type: kubernetes, image: "registry.example.com/flow:forever"}
)");
  fs::path api_dir = TempDir("fake_kube");
  WriteFile(api_dir / "api.py", kFakeKubeApi);
  int port = FreePort();
  Background api({"/usr/bin/env", "python3", (api_dir / "api.py").string(), api_dir.string(),
                  std::to_string(port)},
                 {}, (api_dir / "api.out").string());
  REQUIRE(api.WaitForLog("ready", 30));
  WriteFile(api_dir / "kubeconfig",
        "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
        "contexts: [{name: test, context: {cluster: c, user: u, namespace: team}}]\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:" +
            std::to_string(port) +
            "'}}]\n"
            "users: [{name: u, user: {token: test-token}}]\n");
  Env env = p.env;
  env["KUBECONFIG"] = (api_dir / "kubeconfig").string();
  env["KUBERNETES_SERVICE_HOST"] = "<unset>";
  Background agent(AgentArgv({"-q", "etl", "--kill-grace", "1s"}), env,
                   TempDir("agent_log") + "/agent.log");
  REQUIRE(agent.WaitForLog("weft-agent ready", 30));
  std::string ok_id = RunId(WeftOk(p.env, {"deployment", "run", "kube/ok"}));
  std::string fail_id = RunId(WeftOk(p.env, {"deployment", "run", "kube/fail"}));
  std::string forever_id = RunId(WeftOk(p.env, {"deployment", "run", "kube/forever"}));
  INFO("agent log:\n"
       << agent.Log() << "\nrequests:\n"
       << ReadFile((api_dir / "requests.log").string()));

  REQUIRE(Eventually(
      [&] { return RunById(p.env, "kube/ok", ok_id)["state"]["type"] == "COMPLETED"; }, 60, 0.2));
  REQUIRE(Eventually(
      [&] { return RunById(p.env, "kube/fail", fail_id)["state"]["type"] == "FAILED"; }, 60, 0.2));
  CHECK(RunById(p.env, "kube/fail", fail_id)["state"]["message"] == "process exited with code 7");
  REQUIRE(Eventually(
      [&] { return RunById(p.env, "kube/forever", forever_id)["state"]["type"] == "RUNNING"; }, 60,
      0.2));
  WeftOk(p.env, {"flow-run", "cancel", forever_id});
  REQUIRE(Eventually(
      [&] { return RunById(p.env, "kube/forever", forever_id)["state"]["type"] == "CANCELLED"; },
      60, 0.2));

  std::string requests = ReadFile((api_dir / "requests.log").string());
  CHECK(Has(requests, "POST /apis/batch/v1/namespaces/flows/jobs Bearer test-token"));
  CHECK(Has(requests,
            "POST /apis/batch/v1/namespaces/team/jobs Bearer test-token"));  // from the context
  CHECK(Has(requests,
            "GET /apis/batch/v1/namespaces/flows/jobs/weft-" + ok_id + " Bearer test-token"));
  CHECK(Has(requests, "GET /api/v1/namespaces/team/pods?labelSelector=job-name%3Dweft-" + fail_id));
  CHECK(Has(requests, "DELETE /apis/batch/v1/namespaces/team/jobs/weft-" + forever_id +
                          "?propagationPolicy=Background Bearer test-token"));
  // The posted manifest for the ok run.
  json manifest;
  std::istringstream lines(requests);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("BODY {", 0) == 0 && Has(line, "weft-" + ok_id))
      manifest = json::parse(line.substr(5));
  }
  REQUIRE(manifest.is_object());
  const json& c = manifest["spec"]["template"]["spec"]["containers"][0];
  CHECK(c["image"] == "registry.example.com/flow:ok");
  CHECK(c["command"] == json::array({"/app/flow", "--fast"}));
  CHECK(manifest["spec"]["backoffLimit"] == 0);
  bool has_run_id = false;
  for (const auto& e : c["env"])
    has_run_id = has_run_id || (e["name"] == "WEFT_FLOW_RUN_ID" && e["value"] == ok_id);
  CHECK(has_run_id);
  CHECK(agent.Stop() == 0);
}

TEST_CASE("agent: --limit 1 runs one flow at a time", "[e2e][agent]") {
  Server server(FreshDatabase("agent_limit"));
  Project p = Setup(server, R"(deployments:
  - name: span
    flow_name: lim
    entrypoint: ["./span.sh"]
    include: [span.sh]
    work_queue: etl
    runner: {type: process, env: {MARKS: "@MARKS@"}}
)");
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(RunId(WeftOk(p.env, {"deployment", "run", "lim/span"})));
  Background agent(AgentArgv({"-q", "etl", "--limit", "1"}), p.env,
                   TempDir("agent_log") + "/agent.log");
  REQUIRE(agent.WaitForLog("weft-agent ready", 30));
  INFO("agent log:\n" << agent.Log());
  REQUIRE(Eventually(
      [&] {
        int done = 0;
        for (const auto& r : Runs(p.env, "lim/span")) done += r["state"]["type"] == "COMPLETED";
        return done == 4;
      },
      90, 0.2));
  // Starts and ends alternate: never two at once.
  std::istringstream spans(ReadFile((p.marks / "spans").string()));
  std::vector<std::string> events;
  for (std::string t, what; spans >> t >> what;) events.push_back(what);
  REQUIRE(events.size() == 8);
  for (std::size_t i = 0; i < events.size(); ++i)
    CHECK(events[i] == (i % 2 == 0 ? "start" : "end"));
  CHECK(agent.Stop() == 0);
}
