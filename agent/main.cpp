// weft-agent: Settings -> Agent -> poll until SIGINT/SIGTERM (first: drain; second: stop
// the running flows; third: exit at once).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "agent/agent.hpp"
#include "agent/metrics.hpp"
#include "agent/settings.hpp"

#ifndef WEFT_VERSION
#define WEFT_VERSION "0.0.0"
#endif

namespace {

std::atomic<int> g_signals{0};

extern "C" void OnSignal(int) {
  int n = ++g_signals;
  if (n >= 3) _exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace weft::agent;
  std::vector<std::string> problems;
  Settings s = SettingsFromEnvironment([](const char* n) { return std::getenv(n); }, problems);

  CLI::App cli{"weft-agent: runs the flow runs of Weft work queues on this machine"};
  cli.set_version_flag("--version", std::string("weft-agent ") + WEFT_VERSION);
  std::vector<std::string> queues;
  auto* o_queue =
      cli.add_option("-q,--work-queue", queues,
                     "work queue to serve (repeatable; env WEFT_AGENT_WORK_QUEUES=a,b)");
  std::vector<std::string> pass_env;
  auto* o_pass_env = cli.add_option(
      "--pass-env", pass_env,
      "also give flows this variable of the agent's environment (repeatable; env "
      "WEFT_AGENT_PASS_ENV=A,B); flows otherwise get only PATH, HOME, USER, LOGNAME, SHELL, "
      "LANG, LC_*, TZ, TMPDIR, runner.env and what Weft sets");
  struct TextFlag {
    const char* name;
    const char* key;
    const char* help;
    std::string value;
    CLI::Option* opt = nullptr;
  };
  std::vector<TextFlag> flags = {
      {"--limit",
       "limit",
       "concurrent runs at most, 0 = unbounded (env WEFT_AGENT_LIMIT; default 0)",
       {}},
      {"--poll-interval",
       "poll-interval",
       "pause between polls with --no-long-poll, e.g. 5s (env WEFT_AGENT_POLL_INTERVAL; default "
       "5s)",
       {}},
      {"--prefetch",
       "prefetch",
       "also claim runs due this soon, e.g. 10s (env WEFT_AGENT_PREFETCH; default 10s)",
       {}},
      {"--name", "name", "display name (env WEFT_AGENT_NAME; default: the host name)", {}},
      {"--work-dir",
       "work-dir",
       "run directories (env WEFT_AGENT_WORK_DIR; default $WEFT_HOME/agent/runs)",
       {}},
      {"--cache-dir",
       "cache-dir",
       "bundle cache (env WEFT_AGENT_CACHE_DIR; default $WEFT_HOME/agent/bundles)",
       {}},
      {"--cache-size",
       "cache-size",
       "bundle cache bound, e.g. 1GiB (env WEFT_AGENT_CACHE_SIZE; default 1GiB)",
       {}},
      {"--kill-grace",
       "kill-grace",
       "SIGTERM -> SIGKILL grace when stopping a flow, e.g. 10s (env WEFT_AGENT_KILL_GRACE; "
       "default 10s)",
       {}},
      {"--metrics-port",
       "metrics-port",
       "serve /metrics, /healthz, /readyz on this port, 0 = off (env WEFT_AGENT_METRICS_PORT; "
       "default 0)",
       {}},
      {"--metrics-address",
       "metrics-address",
       "address for --metrics-port (env WEFT_AGENT_METRICS_ADDRESS; default 127.0.0.1)",
       {}},
      {"--docker-network",
       "docker-network",
       "`docker run --network` for docker runs (env WEFT_AGENT_DOCKER_NETWORK; default: not "
       "passed, the engine's default network)",
       {}},
      {"--log-level",
       "log-level",
       "trace|debug|info|warn|error|critical|off (env WEFT_AGENT_LOG_LEVEL or WEFT_LOG_LEVEL; "
       "default info)",
       {}},
  };
  for (auto& f : flags) f.opt = cli.add_option(f.name, f.value, f.help);
  bool no_long_poll = false, dry_run = false, keep_run_dirs = false;
  cli.add_flag(
      "--no-long-poll", no_long_poll,
      "poll every --poll-interval instead of long polling (env WEFT_AGENT_LONG_POLL=false)");
  cli.add_flag("--dry-run", dry_run,
               "print what each queue's due runs would start (argv, docker run, Kubernetes Job); "
               "claim nothing");
  cli.add_flag("--keep-run-dirs", keep_run_dirs,
               "keep run directories after the run (env WEFT_AGENT_KEEP_RUN_DIRS=true)");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);
    std::fprintf(stderr, "error: %s\nRun with --help for usage.\n", e.what());
    return 2;
  }
  auto drop_env = [&](const std::string& var) {
    std::erase_if(problems, [&](const std::string& p) { return p.rfind(var + ":", 0) == 0; });
  };
  if (o_queue->count() > 0) {
    drop_env("WEFT_AGENT_WORK_QUEUES");
    drop_env("WEFT_AGENT_WORK_QUEUE");
    s.work_queues.clear();
    for (const auto& q : queues) {
      if (auto p = ApplySetting(s, "work-queue", q, "--work-queue")) problems.push_back(*p);
    }
  }
  if (o_pass_env->count() > 0) {
    drop_env("WEFT_AGENT_PASS_ENV");
    s.pass_env.clear();
    for (const auto& n : pass_env) {
      if (auto p = ApplySetting(s, "pass-env", n, "--pass-env")) problems.push_back(*p);
    }
  }
  for (auto& f : flags) {
    if (f.opt->count() == 0) continue;
    std::string env = "WEFT_AGENT_";
    for (const char* c = f.key; *c; ++c)
      env += *c == '-' ? '_' : static_cast<char>(std::toupper(*c));
    drop_env(env);
    if (std::string(f.key) == "log-level") drop_env("WEFT_LOG_LEVEL");
    if (auto p = ApplySetting(s, f.key, f.value, f.name)) problems.push_back(*p);
  }
  if (no_long_poll) {
    drop_env("WEFT_AGENT_LONG_POLL");
    s.long_poll = false;
  }
  if (keep_run_dirs) {
    drop_env("WEFT_AGENT_KEEP_RUN_DIRS");
    s.keep_run_dirs = true;
  }
  s.dry_run = dry_run;
  // Problems from flags replace the Validate() lines about the same flag.
  auto more = Validate(s);
  for (const auto& p : more) {
    auto colon = p.find(':');
    std::string flag = p.substr(0, colon);
    bool dup = false;
    for (const auto& q : problems) dup = dup || q.rfind(flag + ":", 0) == 0;
    if (!dup) problems.push_back(p);
  }
  if (!problems.empty()) {
    for (const auto& p : problems) std::fprintf(stderr, "error: %s\n", p.c_str());
    return 2;
  }

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  ConfigureLogging(s.log_level);
  weft::client::ClientOptions options = weft::client::OptionsFromEnv();
  Agent agent(s, options);
  std::unique_ptr<MetricsServer> metrics_server;
  if (s.metrics_port > 0 && !s.dry_run) {
    metrics_server =
        std::make_unique<MetricsServer>(agent.metrics(), s.metrics_address, s.metrics_port);
    if (auto st = metrics_server->Start(); !st) {
      std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
      return 1;
    }
  }
  if (auto st = agent.CheckQueues(); !st) {
    std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
    return 1;
  }
  if (s.dry_run) {
    if (auto st = agent.DryRun(stdout); !st) {
      std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
      return 1;
    }
    return 0;
  }
  agent.Start();
  std::string qs;
  for (const auto& q : s.work_queues) qs += (qs.empty() ? "" : ",") + q;
  std::string metrics_at =
      metrics_server ? " metrics=" + s.metrics_address + ":" + std::to_string(metrics_server->port())
                     : "";
  std::printf("weft-agent ready name=%s id=%s queues=%s server=%s%s\n", agent.name().c_str(),
              agent.id().c_str(), qs.c_str(), options.address.c_str(), metrics_at.c_str());
  std::fflush(stdout);

  int handled = 0;
  while (!agent.Finished()) {
    int n = g_signals.load();
    if (n >= 1 && handled < 1) {
      agent.Drain();
      handled = 1;
    }
    if (n >= 2 && handled < 2) {
      agent.StopRuns();
      handled = 2;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  agent.Join();
  return 0;
}
