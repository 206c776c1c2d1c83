// The process runner on real child processes (no network, no server).
#include <signal.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "agent/runners/process.hpp"

using namespace weft::agent;
namespace fs = std::filesystem;

namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/weft-proc-unit-XXXXXX";
  return mkdtemp(tmpl);
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Script(const std::string& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body;
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::add);
}

struct Lines {
  std::mutex mu;
  std::vector<std::string> lines;
  LineSink Sink() {
    return [this](std::string_view l) {
      std::lock_guard lock(mu);
      lines.emplace_back(l);
    };
  }
};

}  // namespace

TEST_CASE("process runner: env, cwd, output and exit code", "[agent][process]") {
  std::string dir = TempDir();
  Script(dir + "/job.sh",
         "echo \"run=$WEFT_FLOW_RUN_ID params=$WEFT_FLOW_RUN_PARAMETERS region=$REGION\"\n"
         "echo \"cwd=$(pwd)\"\n"
         "echo oops >&2\n"
         "exit 3\n");
  RunSpec spec;
  spec.flow_run_id = "r1";
  spec.entrypoint = {"./job.sh"};
  spec.env = {
      {"REGION", "eu"}, {"WEFT_FLOW_RUN_ID", "r1"}, {"WEFT_FLOW_RUN_PARAMETERS", R"({"x":1})"}};
  ProcessRunner runner;
  Lines lines;
  auto h = runner.Start(spec, dir, lines.Sink());
  REQUIRE(h);
  auto exit = (*h)->Wait(30);
  REQUIRE(exit);
  CHECK_FALSE(exit->signaled);
  CHECK(exit->code == 3);
  h->reset();  // joins the output reader
  std::string log = Read(dir + "/output.log");
  CHECK(log.find("run=r1 params={\"x\":1} region=eu") != std::string::npos);
  CHECK(log.find("cwd=" + fs::canonical(dir).string()) != std::string::npos);
  CHECK(log.find("oops") != std::string::npos);
  REQUIRE(lines.lines.size() == 3);
  CHECK(lines.lines[0] == "run=r1 params={\"x\":1} region=eu");
  CHECK(lines.lines[2] == "oops");
  fs::remove_all(dir);
}

TEST_CASE("process runner: the flow gets the allowlisted environment, not the agent's",
          "[agent][process]") {
  std::string dir = TempDir();
  Script(dir + "/job.sh", "env > env.txt\n");
  ::setenv("WEFT_UNIT_AGENT_SECRET", "agent-secret-value", 1);
  ::setenv("WEFT_UNIT_PASSED", "passed-value", 1);
  RunSpec spec;
  spec.flow_run_id = "r1";
  spec.entrypoint = {"./job.sh"};
  spec.passed_env = {{"WEFT_UNIT_PASSED", "passed-value"}};
  spec.env = {{"REGION", "eu"}, {"WEFT_FLOW_RUN_ID", "r1"}};
  ProcessRunner runner;
  auto h = runner.Start(spec, dir, {});
  REQUIRE(h);
  auto exit = (*h)->Wait(30);
  ::unsetenv("WEFT_UNIT_AGENT_SECRET");
  ::unsetenv("WEFT_UNIT_PASSED");
  REQUIRE(exit);
  CHECK(exit->code == 0);
  std::string env = Read(dir + "/env.txt");
  INFO(env);
  CHECK(env.find("agent-secret-value") == std::string::npos);
  CHECK(env.find("WEFT_UNIT_PASSED=passed-value\n") != std::string::npos);
  CHECK(env.find("REGION=eu\n") != std::string::npos);
  CHECK(env.find("WEFT_FLOW_RUN_ID=r1\n") != std::string::npos);
  CHECK(env.find("PATH=") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("process runner: a signal is reported as such", "[agent][process]") {
  std::string dir = TempDir();
  Script(dir + "/crash.sh", "kill -SEGV $$\n");
  RunSpec spec;
  spec.entrypoint = {"./crash.sh"};
  ProcessRunner runner;
  auto h = runner.Start(spec, dir, {});
  REQUIRE(h);
  auto exit = (*h)->Wait(30);
  REQUIRE(exit);
  CHECK(exit->signaled);
  CHECK(exit->signal == SIGSEGV);
  fs::remove_all(dir);
}

TEST_CASE("process runner: stopping signals the whole process group", "[agent][process]") {
  std::string dir = TempDir();
  // The child ignores nothing; its background sleeper is in the same group.
  Script(dir + "/long.sh", "sleep 300 &\necho $! > child.pid\necho started\nwait\n");
  RunSpec spec;
  spec.entrypoint = {"./long.sh"};
  ProcessRunner runner;
  Lines lines;
  auto h = runner.Start(spec, dir, lines.Sink());
  REQUIRE(h);
  // Wait until the script has written its child's pid.
  bool started = false;
  for (int i = 0; i < 600 && !started; ++i) {
    CHECK_FALSE((*h)->Wait(0.05));
    std::lock_guard lock(lines.mu);
    started = !lines.lines.empty();
  }
  REQUIRE(started);
  int child = std::stoi(Read(dir + "/child.pid"));
  CHECK(kill(child, 0) == 0);
  (*h)->Signal(SIGTERM);
  auto exit = (*h)->Wait(30);
  REQUIRE(exit);
  CHECK(exit->signaled);
  CHECK(exit->signal == SIGTERM);
  // The background child got it too (it may linger as a zombie of init for a moment).
  bool gone = false;
  for (int i = 0; i < 600 && !gone; ++i) {
    std::string stat = Read("/proc/" + std::to_string(child) + "/stat");
    gone = stat.empty() || stat.find(") Z") != std::string::npos;
    if (!gone) (*h)->Wait(0.05);
  }
  CHECK(gone);
  fs::remove_all(dir);
}

TEST_CASE("process runner: an entrypoint that cannot start is an error", "[agent][process]") {
  std::string dir = TempDir();
  std::ofstream(dir + "/notexec.sh") << "#!/bin/sh\n";
  RunSpec spec;
  spec.entrypoint = {"./notexec.sh"};
  ProcessRunner runner;
  auto h = runner.Start(spec, dir, {});
  REQUIRE_FALSE(h);
  CHECK(h.error().message ==
        "runner process: cannot start \"" + dir + "/notexec.sh\": Permission denied");
  spec.entrypoint = {"./absent"};
  CHECK(runner.Start(spec, dir, {}).error().message ==
        "runner process: entrypoint \"./absent\" is not in the bundle");
  fs::remove_all(dir);
}
