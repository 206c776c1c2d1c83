// bench_dispatch: how fast agents start flow runs.
//
//   scripts/with_pg.sh build/release/bench/dispatch/bench_dispatch [--runs 100]
//       [--slow-runs 12] [--throughput-runs 300] [--limit 8]
//
// Starts a weft-server (on the database in WEFT_TEST_DATABASE_URL or --database-url), a
// local storage, deployments and work queues through the weft CLI, then
//  1. dispatch latency with long polling: one idle agent; a run is created due now with
//     RunDeployment and the time until its process (dispatch_probe) has started is taken
//     from the wall clock the probe writes first thing. p50/p99/max over --runs runs.
//  2. the same with `--no-long-poll --poll-interval 5s` (Prefect's default behaviour).
//  3. throughput: 2 agents (--limit each) on one queue; --throughput-runs runs of an SDK
//     flow with one task (trivial_flow), then of a non-SDK program (dispatch_probe), are
//     created by 4 threads as fast as RunDeployment answers; runs per second = runs /
//     (first creation -> last run Completed), after one warm-up run per agent.
// Prints the figures; asserts nothing.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sdk/client/client.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

long long WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  std::exit(1);
}

// A child process with stdout+stderr in a log file.
class Proc {
 public:
  Proc(std::vector<std::string> argv, const std::string& log, std::vector<std::string> env = {})
      : log_(log) {
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) envs.emplace_back(*e);
    envs.insert(envs.end(), env.begin(), env.end());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> a, e;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    for (auto& s : envs) e.push_back(s.data());
    e.push_back(nullptr);
    if (posix_spawn(&pid_, a[0], &fa, nullptr, a.data(), e.data()) != 0) {
      Die("cannot start " + argv[0]);
    }
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Proc() { Stop(); }
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;

  bool WaitFor(const std::string& text, double seconds) {
    auto end = Clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    while (Clock::now() < end) {
      if (ReadAll(log_).find(text) != std::string::npos) return true;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  std::string Log() const { return ReadAll(log_); }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

// Runs the weft CLI to completion; dies with its output on failure.
void Weft(const std::string& api, std::vector<std::string> args, const std::string& cwd,
          const std::string& log) {
  args.insert(args.begin(), WEFT_CLI_BIN);
  std::string cmd;
  for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(127);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    setenv("WEFT_API_URL", api.c_str(), 1);
    std::vector<char*> a;
    for (auto& s : args) a.push_back(s.data());
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Die(cmd + " failed:\n" + ReadAll(log));
}

struct Stats {
  double p50 = 0, p99 = 0, max = 0, mean = 0;
};

Stats Summarize(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
    return v[std::min(i, v.size() - 1)];
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  return s;
}

std::string RunDeployment(weft::client::Client& client, const std::string& name) {
  weft::v1::RunDeploymentRequest req;
  req.mutable_ref()->set_full_name(name);
  auto r = client.RunDeployment(req);
  if (!r) Die("RunDeployment " + name + ": " + r.error().message);
  return r->flow_run().id();
}

// Milliseconds from "run created due now" to "its process started", one run at a time.
std::vector<double> Latencies(weft::client::Client& client, const std::string& deployment,
                              const std::string& probe_dir, int runs, double max_gap_seconds) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> gap(0.0, max_gap_seconds);
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(gap(rng) * 1e6)));
    long long t0 = WallMicros();
    std::string id = RunDeployment(client, deployment);
    std::string file = probe_dir + "/" + id;
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (!fs::exists(file)) {
      if (Clock::now() > deadline) Die("run " + id + " did not start within 60 s");
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    long long started = std::atoll(ReadAll(file).c_str());
    ms.push_back(static_cast<double>(started - t0) / 1000.0);
  }
  return ms;
}

void PrintLatency(const char* label, const std::vector<double>& ms) {
  Stats s = Summarize(ms);
  std::printf("%-34s runs=%-4zu p50=%8.1f ms  p99=%8.1f ms  max=%8.1f ms  mean=%8.1f ms\n", label,
              ms.size(), s.p50, s.p99, s.max, s.mean);
  std::fflush(stdout);
}

int CountCompleted(weft::client::Client& client, const std::string& deployment) {
  int n = 0;
  std::string cursor;
  do {
    weft::v1::ListFlowRunsRequest req;
    req.set_deployment(deployment);
    req.add_state_types(weft::v1::COMPLETED);
    req.mutable_page()->set_limit(1000);
    req.mutable_page()->set_cursor(cursor);
    auto r = client.ListFlowRuns(req);
    if (!r) Die("ListFlowRuns: " + r.error().message);
    n += r->flow_runs_size();
    cursor = r->page().next_cursor();
  } while (!cursor.empty());
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"bench_dispatch: dispatch latency and flow runs per second through agents"};
  int runs = 100, slow_runs = 12, throughput_runs = 300, limit = 8;
  std::string database_url;
  if (const char* u = std::getenv("WEFT_TEST_DATABASE_URL")) database_url = u;
  cli.add_option("--runs", runs, "runs for the long-poll latency")->check(CLI::PositiveNumber);
  cli.add_option("--slow-runs", slow_runs, "runs for the 5 s polling latency (0 = skip)");
  cli.add_option("--throughput-runs", throughput_runs, "runs for the throughput phase");
  cli.add_option("--limit", limit, "--limit of each throughput agent")->check(CLI::PositiveNumber);
  cli.add_option("--database-url", database_url, "default: $WEFT_TEST_DATABASE_URL");
  bool no_strip = false;
  cli.add_flag("--no-strip", no_strip, "deploy trivial_flow with its debug info");
  CLI11_PARSE(cli, argc, argv);
  if (database_url.empty()) {
    Die("no database: run under scripts/with_pg.sh or pass --database-url");
  }

  std::string work = fs::temp_directory_path() / ("weft-bench-dispatch-" + std::to_string(getpid()));
  fs::create_directories(work + "/project");
  fs::create_directories(work + "/probe");
  fs::copy_file(DISPATCH_PROBE_BIN, work + "/project/dispatch_probe");
  fs::copy_file(TRIVIAL_FLOW_BIN, work + "/project/trivial_flow");
  // Deployed as a release binary usually is: without debug info (54 MB -> a few MB). The
  // agent copies the bundle's files into each run's directory, so the size matters.
  if (!no_strip && std::system(("strip " + work + "/project/trivial_flow").c_str()) != 0) {
    Die("strip failed (binutils); pass --no-strip");
  }

  std::string api = "127.0.0.1:" + std::to_string(FreePort());
  Proc server({WEFT_SERVER_BIN, "--grpc-address", api, "--http-address", "127.0.0.1:0",
               "--database-url", database_url, "--admin-key-file", work + "/admin.key",
               "--log-level", "warning"},
              work + "/server.log");
  if (!server.WaitFor("weft-server ready", 60)) Die("weft-server did not start:\n" + server.Log());
  // Every process started from here on (CLI, agents) and the client below use the admin key.
  std::string admin_key = ReadAll(work + "/admin.key");
  while (!admin_key.empty() && admin_key.back() == '\n') admin_key.pop_back();
  setenv("WEFT_API_KEY", admin_key.c_str(), 1);

  std::string cli_log = work + "/cli.log";
  std::string project = work + "/project";
  Weft(api, {"storage", "create", "local", "--name", "bench", "--path", work + "/store", "--default"},
       project, cli_log);
  {
    std::ofstream y(project + "/deploy.yaml");
    y << "deployments:\n"
         "  - name: probe\n    flow_name: dispatch\n    entrypoint: ./dispatch_probe\n"
         "    include: [dispatch_probe]\n    work_queue: latency\n"
         "    runner: {type: process, env: {WEFT_PROBE_DIR: \""
      << work << "/probe\"}}\n"
      << "  - name: probe-tput\n    flow_name: dispatch\n    entrypoint: ./dispatch_probe\n"
         "    include: [dispatch_probe]\n    work_queue: throughput-probe\n"
         "    runner: {type: process, env: {WEFT_PROBE_DIR: \""
      << work << "/probe\"}}\n"
      << "  - name: trivial\n    flow_name: trivial\n    entrypoint: ./trivial_flow\n"
         "    include: [trivial_flow]\n    work_queue: throughput\n"
      // The same program started with --help: it loads and exits without any API call, so
      // the agent reports its states. Splits the SDK flow's cost into starting the process
      // and the flow's own API calls.
      << "  - name: help\n    flow_name: trivial\n    entrypoint: [./trivial_flow, --help]\n"
         "    include: [trivial_flow]\n    work_queue: throughput-help\n";
  }
  Weft(api, {"deployment", "create", "deploy.yaml"}, project, cli_log);
  Weft(api, {"work-queue", "create", "latency"}, project, cli_log);
  Weft(api, {"work-queue", "create", "throughput"}, project, cli_log);
  Weft(api, {"work-queue", "create", "throughput-probe"}, project, cli_log);
  Weft(api, {"work-queue", "create", "throughput-help"}, project, cli_log);

  weft::client::ClientOptions co;
  co.address = api;
  co.api_key = admin_key;
  weft::client::Client client(co);

  std::printf("bench_dispatch: server %s, work dir %s\n", api.c_str(), work.c_str());
  std::vector<std::string> agent_env = {"WEFT_API_URL=" + api};
  {
    Proc agent({WEFT_AGENT_BIN, "-q", "latency", "--name", "lat", "--limit", "8", "--work-dir",
                work + "/runs-lat", "--cache-dir", work + "/cache-lat", "--log-level", "warning"},
               work + "/agent-lat.log", agent_env);
    if (!agent.WaitFor("weft-agent ready", 30)) Die("weft-agent did not start:\n" + agent.Log());
    Latencies(client, "dispatch/probe", work + "/probe", 3, 0.05);  // warm the bundle cache
    PrintLatency("long poll (default)", Latencies(client, "dispatch/probe", work + "/probe", runs, 0.1));
  }
  if (slow_runs > 0) {
    Proc agent({WEFT_AGENT_BIN, "-q", "latency", "--name", "slow", "--limit", "8",
                "--no-long-poll", "--poll-interval", "5s", "--work-dir", work + "/runs-slow",
                "--cache-dir", work + "/cache-slow", "--log-level", "warning"},
               work + "/agent-slow.log", agent_env);
    if (!agent.WaitFor("weft-agent ready", 30)) Die("weft-agent did not start:\n" + agent.Log());
    PrintLatency("5 s polling (--no-long-poll)",
                 Latencies(client, "dispatch/probe", work + "/probe", slow_runs, 1.0));
  }
  // Throughput: an SDK flow (trivial_flow: adopts the run, one task, reports Completed) and
  // a non-SDK program (dispatch_probe: the agent reports Running and Completed from its exit).
  struct Phase {
    const char* label;
    const char* deployment;
    const char* queue;
  };
  const Phase phases[] = {{"throughput, SDK flow, 1 task", "trivial/trivial", "throughput"},
                          {"throughput, non-SDK program", "dispatch/probe-tput", "throughput-probe"},
                          {"  SDK program started, no API calls", "trivial/help", "throughput-help"}};
  for (const Phase& ph : throughput_runs > 0 ? std::vector<Phase>(std::begin(phases), std::end(phases))
                                             : std::vector<Phase>{}) {
    std::vector<std::unique_ptr<Proc>> agents;
    for (int i = 0; i < 2; ++i) {
      std::string n = std::string(ph.queue) + std::to_string(i);
      agents.push_back(std::make_unique<Proc>(
          std::vector<std::string>{WEFT_AGENT_BIN, "-q", ph.queue, "--name", n, "--limit",
                                   std::to_string(limit), "--work-dir", work + "/runs-" + n,
                                   "--cache-dir", work + "/cache-" + n, "--log-level", "warning"},
          work + "/agent-" + n + ".log", agent_env));
      if (!agents.back()->WaitFor("weft-agent ready", 30)) {
        Die("weft-agent did not start:\n" + agents.back()->Log());
      }
    }
    // Warm each agent's bundle cache with one run, so the figure is the steady state.
    for (int i = 0; i < 2; ++i) RunDeployment(client, ph.deployment);
    {
      auto deadline = Clock::now() + std::chrono::seconds(60);
      while (CountCompleted(client, ph.deployment) < 2 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    // Runs are created by 4 threads at once, so creation does not bound the figure.
    auto t0 = Clock::now();
    {
      std::atomic<int> next{0};
      std::vector<std::thread> creators;
      for (int t = 0; t < 4; ++t) {
        creators.emplace_back([&] {
          weft::client::Client c(co);
          while (next.fetch_add(1) < throughput_runs) RunDeployment(c, ph.deployment);
        });
      }
      for (auto& t : creators) t.join();
    }
    double created_s = std::chrono::duration<double>(Clock::now() - t0).count();
    auto deadline = Clock::now() + std::chrono::minutes(10);
    int done = 0;
    while ((done = CountCompleted(client, ph.deployment)) < throughput_runs + 2) {
      if (Clock::now() > deadline) Die("only " + std::to_string(done) + " runs completed");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    double total_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("%-34s runs=%-4d %.1f runs/s  (2 agents x --limit %d; created in %.2f s, all "
                "Completed after %.2f s)\n",
                ph.label, throughput_runs, throughput_runs / total_s, limit, created_s, total_s);
    std::fflush(stdout);
  }
  server.Stop();
  std::error_code ec;
  fs::remove_all(work, ec);
  return 0;
}
