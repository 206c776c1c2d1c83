#include "agent/agent.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "agent/bundle_cache.hpp"
#include "agent/metrics.hpp"
#include "agent/runners/docker.hpp"
#include "agent/runners/flow_env.hpp"
#include "agent/runners/kubernetes.hpp"
#include "agent/runners/process.hpp"
#include "sdk/client/bundle.hpp"
#include "sdk/client/convert.hpp"
#include "sdk/client/log_shipper.hpp"
#include "sdk/client/storage/bundle_store.hpp"
#include "sdk/core/field_limits.hpp"

#ifndef WEFT_VERSION
#define WEFT_VERSION "0.0.0"
#endif

namespace weft::agent {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::shared_ptr<spdlog::logger> Logger(const std::string& name) {
  auto l = spdlog::get(name);
  if (!l) {
    // Logs go to stderr: stdout carries only the ready line (and --dry-run's output).
    l = spdlog::stderr_color_mt(name);
    l->set_level(spdlog::get_level());
  }
  return l;
}

double Random01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

core::TimePoint Now() { return std::chrono::system_clock::now(); }

bool Retryable(core::Code c) {
  return c == core::Code::kUnavailable || c == core::Code::kDeadlineExceeded ||
         c == core::Code::kCancelled || c == core::Code::kAborted || c == core::Code::kInternal ||
         c == core::Code::kUnknown || c == core::Code::kResourceExhausted;
}

// "30s", "1.5s".
std::string Seconds(double s) {
  if (s == std::floor(s) && s < 1e9) return fmt::format("{}s", static_cast<long long>(s));
  return fmt::format("{:.3g}s", s);
}

// The deployment's parameter defaults overlaid with the run's own (both JSON objects).
std::string MergedParameters(const std::string& defaults, const std::string& own) {
  auto parse = [](const std::string& text) {
    if (text.empty()) return nlohmann::json::object();
    auto j = nlohmann::json::parse(text, nullptr, false);
    return j.is_object() ? j : nlohmann::json::object();
  };
  nlohmann::json merged = parse(defaults);
  merged.update(parse(own));
  return merged.dump();
}

std::string ExitText(const ExitStatus& e) {
  if (e.signaled) return fmt::format("signal={} ({})", SignalName(e.signal), e.signal);
  return fmt::format("exit_code={}", e.code);
}

}  // namespace

void ConfigureLogging(const std::string& level) {
  auto lvl = spdlog::level::from_str(level == "warning" ? "warn" : level);
  spdlog::set_level(lvl);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v");
  for (const char* name : {"agent", "agent.poller", "agent.runner", "agent.heartbeat",
                           "agent.bundles", "agent.flow"}) {
    Logger(name)->set_level(lvl);
  }
}

core::State OutcomeFor(const ExitStatus& exit, StopReason reason, double timeout_seconds,
                       core::TimePoint now) {
  nlohmann::json details = nlohmann::json::object();
  std::string how;
  if (exit.signaled) {
    details["signal"] = exit.signal;
    details["signal_name"] = SignalName(exit.signal);
    how = fmt::format("process killed by signal {} ({})", SignalName(exit.signal), exit.signal);
  } else {
    details["exit_code"] = exit.code;
    how = fmt::format("process exited with code {}", exit.code);
  }
  core::State s;
  switch (reason) {
    case StopReason::kTimeout:
      details["timeout_seconds"] = timeout_seconds;
      s = core::TimedOut(
          now, fmt::format("flow run exceeded its timeout of {}; the agent stopped it ({})",
                           Seconds(timeout_seconds), how));
      break;
    case StopReason::kCancel:
      s = core::Cancelled(now, fmt::format("cancelled; the agent stopped the process ({})", how));
      break;
    case StopReason::kShutdown:
      s = core::Crashed(now, fmt::format("the agent shut down and stopped the process ({})", how));
      break;
    case StopReason::kNone:
      if (exit.signaled) {
        s = core::Crashed(now, how);
      } else if (exit.code == 0) {
        s = core::Completed(now, how);
      } else {
        s = core::Failed(now, how);
      }
      break;
  }
  s.details_json = details.dump();
  return s;
}

double BackoffSeconds(int attempt, double random01, double base, double cap) {
  double ceiling = std::min(cap, base * std::pow(2.0, std::clamp(attempt, 0, 60)));
  return std::clamp(random01, 0.0, 1.0) * ceiling;
}

bool IsRunId(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !std::isxdigit(static_cast<unsigned char>(id[i]))) return false;
  }
  return true;
}

std::string NewAgentId() {
  std::random_device rd;
  unsigned char b[16];
  for (int i = 0; i < 16; i += 4) {
    std::uint32_t v = rd();
    for (int j = 0; j < 4; ++j) b[i + j] = static_cast<unsigned char>(v >> (8 * j));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += fmt::format("{:02x}", b[i]);
  }
  return s;
}

struct RunState {
  std::string id;
  std::string name;
  std::atomic<bool> cancel{false};
};

struct Agent::Impl {
  Settings s;
  client::ClientOptions options;
  client::Client client;
  std::string id = NewAgentId();
  std::string name;
  std::string hostname;
  std::shared_ptr<spdlog::logger> log = Logger("agent");
  std::shared_ptr<spdlog::logger> poll_log = Logger("agent.poller");
  std::shared_ptr<spdlog::logger> run_log = Logger("agent.runner");
  std::shared_ptr<spdlog::logger> hb_log = Logger("agent.heartbeat");
  std::shared_ptr<spdlog::logger> bundle_log = Logger("agent.bundles");
  std::shared_ptr<spdlog::logger> out_log = Logger("agent.flow");
  std::map<std::string, std::unique_ptr<Runner>> runners;
  std::unique_ptr<BundleCache> cache;
  AgentMetrics metrics;
  // Ships the flows' captured output to the server as their runs' logs (lines the SDK
  // prints are skipped: the SDK ships those itself).
  std::unique_ptr<client::LogShipper> shipper;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::shared_ptr<RunState>> runs;  // watched runs by id
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> workers;
  std::atomic<bool> draining{false};
  std::atomic<bool> stop_runs{false};
  std::atomic<bool> poll_done{false};
  bool hb_stop = false;  // under mu
  double hb_interval = 5;
  std::thread poll_thread;
  std::thread hb_thread;

  Impl(Settings settings, client::ClientOptions o)
      : s(std::move(settings)), options(o), client(std::move(o)) {
    char host[256] = {0};
    if (gethostname(host, sizeof host - 1) == 0) hostname = host;
    name = s.name.empty() ? (hostname.empty() ? "agent" : hostname) : s.name;
    runners["process"] = std::make_unique<ProcessRunner>();
    runners["docker"] = std::make_unique<DockerRunner>();
    runners["kubernetes"] = std::make_unique<KubernetesRunner>();
    metrics.SetLimit(s.limit);
  }

  v1::AgentIdentity Identity() const {
    v1::AgentIdentity a;
    a.set_id(id);
    a.set_name(name);
    a.set_hostname(hostname);
    a.set_limit(s.limit);
    a.set_version(WEFT_VERSION);
    return a;
  }

  // Sleeps up to `seconds`; returns early (true) when `stop()` becomes true.
  template <typename Pred>
  bool SleepUnless(double seconds, Pred stop) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::microseconds(static_cast<long long>(seconds * 1e6)),
                       stop);
  }

  // ---- poll ------------------------------------------------------------------------------

  void PollLoop() {
    int attempt = 0;
    while (!draining) {
      ReapWorkers();
      int max_runs = 10;
      if (s.limit > 0) {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return draining || static_cast<int>(runs.size()) < s.limit; });
        if (draining) break;
        max_runs = s.limit - static_cast<int>(runs.size());
      }
      v1::PollWorkQueuesRequest req;
      *req.mutable_agent() = Identity();
      for (const auto& q : s.work_queues) req.add_work_queues(q);
      req.set_max_runs(max_runs);
      req.set_wait_seconds(s.long_poll ? s.long_poll_wait : 0);
      req.set_prefetch_seconds(s.prefetch);
      for (const auto& [type, runner] : runners) req.add_runner_types(type);
      auto started = Clock::now();
      auto r = client.PollWorkQueues(req);
      if (!r) {
        if (draining) break;
        metrics.OnPoll("error", 0);
        metrics.OnFailure("poll");
        metrics.SetReady(false);
        double delay = BackoffSeconds(attempt++, Random01());
        bool auth = r.error().code == core::Code::kUnauthenticated ||
                    r.error().code == core::Code::kPermissionDenied;
        // A refused key needs a person (revoked, or not covering a queue): say so loudly,
        // and keep trying so that a fixed key is picked up without a restart.
        poll_log->log(auth ? spdlog::level::err : spdlog::level::warn,
                      "poll failed error=\"{}\" code={} attempt={} retry_in={:.3f}s", r.error().message,
                      core::CodeName(r.error().code), attempt, delay);
        SleepUnless(delay, [&] { return draining.load(); });
        continue;
      }
      metrics.SetReady(true);
      metrics.OnPoll(r->runs_size() > 0 ? "claimed" : "empty", r->runs_size());
      if (attempt > 0) poll_log->info("poll recovered after={} failures", attempt);
      attempt = 0;
      HandleCancels(r->cancel_flow_run_ids(), "poll");
      for (const auto& claimed : r->runs()) Launch(claimed);
      double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
      if (!s.long_poll) {
        if (r->runs_size() < max_runs)
          SleepUnless(s.poll_interval, [&] { return draining.load(); });
      } else if (r->runs_size() == 0 && elapsed < 0.05) {
        // The server answered at once with nothing: do not spin.
        SleepUnless(std::min(s.poll_interval, 0.2), [&] { return draining.load(); });
      }
    }
    poll_done = true;
    cv.notify_all();
    poll_log->info("poll stopped");
  }

  void HandleCancels(const google::protobuf::RepeatedPtrField<std::string>& ids, const char* via) {
    std::lock_guard lock(mu);
    for (const auto& rid : ids) {
      auto it = runs.find(rid);
      if (it == runs.end()) continue;
      if (!it->second->cancel.exchange(true)) {
        run_log->info("cancel requested flow_run_id={} name={} via={}", rid, it->second->name, via);
      }
    }
    cv.notify_all();
  }

  void Launch(const v1::ClaimedRun& claimed) {
    if (!IsRunId(claimed.flow_run().id())) {
      // Its id would become a path under the work directory: refused, and not echoed.
      poll_log->error("claimed run refused: its id is not a UUID (length {})",
                      claimed.flow_run().id().size());
      metrics.OnFailure("invalid_run_id");
      return;
    }
    auto st = std::make_shared<RunState>();
    st->id = claimed.flow_run().id();
    st->name = claimed.flow_run().name();
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::lock_guard lock(mu);
    if (runs.count(st->id)) {
      poll_log->warn("run handed out twice, ignoring flow_run_id={}", st->id);
      return;
    }
    runs[st->id] = st;
    metrics.SetRunning(static_cast<int>(runs.size()));
    Worker w;
    w.done = done;
    w.thread = std::thread([this, claimed, st, done] {
      try {
        Execute(claimed, *st);
      } catch (const std::exception& e) {
        run_log->error("run failed in the agent flow_run_id={} error=\"{}\"", st->id, e.what());
      }
      std::lock_guard l(mu);
      runs.erase(st->id);
      metrics.SetRunning(static_cast<int>(runs.size()));
      *done = true;
      cv.notify_all();
    });
    workers.push_back(std::move(w));
  }

  void ReapWorkers() {
    std::list<Worker> finished;
    {
      std::lock_guard lock(mu);
      for (auto it = workers.begin(); it != workers.end();) {
        if (*it->done) {
          finished.splice(finished.end(), workers, it++);
        } else {
          ++it;
        }
      }
    }
    for (auto& w : finished) w.thread.join();
  }

  // ---- heartbeat -------------------------------------------------------------------------

  void HeartbeatLoop() {
    int failures = 0;
    for (;;) {
      {
        std::unique_lock lock(mu);
        if (cv.wait_for(lock, std::chrono::microseconds(static_cast<long long>(hb_interval * 1e6)),
                        [&] { return hb_stop; })) {
          break;
        }
      }
      v1::AgentHeartbeatRequest req;
      *req.mutable_agent() = Identity();
      for (const auto& q : s.work_queues) req.add_work_queues(q);
      {
        std::lock_guard lock(mu);
        for (const auto& [rid, st] : runs) req.add_flow_run_ids(rid);
      }
      auto r = client.AgentHeartbeat(req);
      if (!r) {
        ++failures;
        metrics.OnFailure("heartbeat");
        hb_log->warn("heartbeat failed error=\"{}\" failures={} runs={}", r.error().message,
                     failures, req.flow_run_ids_size());
        continue;
      }
      if (failures > 0) hb_log->info("heartbeat recovered after={} failures", failures);
      failures = 0;
      if (r->heartbeat_interval_seconds() > 0) {
        hb_interval = std::clamp(r->heartbeat_interval_seconds(), 0.1, 60.0);
      }
      HandleCancels(r->cancel_flow_run_ids(), "heartbeat");
      for (const auto& rid : r->unknown_flow_run_ids()) {
        hb_log->debug("run no longer active on the server flow_run_id={}", rid);
      }
    }
  }

  // ---- one run ---------------------------------------------------------------------------

  // Proposes `state` until the server answers (retrying while it is away). nullopt when the
  // server refused the call itself (e.g. the run is gone).
  std::optional<v1::OrchestrationResult> Propose(
      const std::string& run_id, core::State state, const std::string& key,
      const std::function<bool()>& give_up = [] { return false; }) {
    state.idempotency_key = key;
    v1::SetFlowRunStateRequest req;
    req.set_flow_run_id(run_id);
    *req.mutable_state() = client::ToProto(state);
    for (int attempt = 0;; ++attempt) {
      auto r = client.SetFlowRunState(req);
      if (r) {
        const auto& res = r->result();
        if (res.decision() == v1::WAIT) {
          double wait = std::clamp(res.wait_seconds(), 0.05, 30.0);
          run_log->info("proposal must wait flow_run_id={} state={} wait={:.2f}s reason=\"{}\"",
                        run_id, state.name, wait, res.reason());
          std::this_thread::sleep_for(
              std::chrono::microseconds(static_cast<long long>(wait * 1e6)));
          continue;
        }
        if (res.decision() != v1::ACCEPT) {
          run_log->warn(
              "proposal refused flow_run_id={} state={} decision={} reason=\"{}\" holds={}", run_id,
              state.name, v1::Decision_Name(res.decision()), res.reason(), res.state().name());
        }
        return res;
      }
      if (!Retryable(r.error().code) || give_up()) {
        run_log->error("proposal failed flow_run_id={} state={} error=\"{}\"", run_id, state.name,
                       r.error().message);
        return std::nullopt;
      }
      double delay = BackoffSeconds(attempt, Random01());
      run_log->warn(
          "proposal failed, retrying flow_run_id={} state={} error=\"{}\" retry_in={:.3f}s", run_id,
          state.name, r.error().message, delay);
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long long>(delay * 1e6)));
    }
  }

  // The run as the server has it, retrying while the server is away; nullopt when gone.
  std::optional<v1::FlowRun> ReadRun(const std::string& run_id) {
    v1::GetFlowRunRequest req;
    req.set_id(run_id);
    for (int attempt = 0;; ++attempt) {
      auto r = client.GetFlowRun(req);
      if (r) return r->flow_run();
      if (!Retryable(r.error().code)) {
        run_log->error("cannot read run flow_run_id={} error=\"{}\"", run_id, r.error().message);
        return std::nullopt;
      }
      double delay = BackoffSeconds(attempt, Random01());
      run_log->warn("reading run failed, retrying flow_run_id={} error=\"{}\" retry_in={:.3f}s",
                    run_id, r.error().message, delay);
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long long>(delay * 1e6)));
    }
  }

  // The bundle from the cache, or else: storage record -> store -> cache (the storage is read
  // only on a cache miss: bundles are content-addressed). The error names the problem.
  core::Result<std::string> FetchBundle(const v1::BundleRef& ref) {
    bool fetched = false;  // a cache miss: read from storage
    auto fetch = [&](const std::string& dest) -> core::Status {
      fetched = true;
      v1::GetStorageRequest sreq;
      sreq.set_name(ref.storage());
      v1::Storage storage;
      for (int attempt = 0;; ++attempt) {
        auto r = client.GetStorage(sreq);
        if (r) {
          storage = r->storage();
          break;
        }
        if (!Retryable(r.error().code) || stop_runs) {
          return core::Error{r.error().code,
                             fmt::format("storage \"{}\": {}", ref.storage(), r.error().message)};
        }
        double delay = BackoffSeconds(attempt, Random01());
        bundle_log->warn(
            "reading storage failed, retrying storage={} error=\"{}\" retry_in={:.3f}s",
            ref.storage(), r.error().message, delay);
        std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long long>(delay * 1e6)));
      }
      auto store = client::storage::OpenBundleStore(storage, client);
      if (!store) return store.error();
      auto t0 = Clock::now();
      core::Status st = (*store)->Get(ref.digest(), dest);
      if (st) {
        bundle_log->info("bundle fetched digest={} from=\"{}\" took={:.3f}s", ref.digest(),
                         (*store)->Describe(),
                         std::chrono::duration<double>(Clock::now() - t0).count());
      }
      return st;
    };
    auto path = cache->Acquire(ref.digest(), fetch);
    if (path) metrics.OnBundle(!fetched);
    return path;
  }

  // ---- spare run directories -------------------------------------------------------------
  // For bundles whose copy takes a while (large flow binaries), a run thread prepares a copy
  // of the template after its own process has started; the next run of that bundle renames
  // it into place instead of copying on its critical path.

  static constexpr double kSpareAfterMs = 5;
  static constexpr int kMaxSpares = 4;
  std::mutex spare_mu;
  std::map<std::string, std::vector<std::string>> spares;  // digest -> ready directories
  int spare_count = 0;                                     // ready + being prepared
  std::uint64_t spare_seq = 0;

  bool TakeSpare(const std::string& digest, const std::string& run_dir) {
    std::string spare;
    {
      std::lock_guard lock(spare_mu);
      auto it = spares.find(digest);
      if (it == spares.end() || it->second.empty()) return false;
      spare = it->second.back();
      it->second.pop_back();
      spare_count--;
    }
    std::error_code ec;
    fs::rename(spare, run_dir, ec);
    if (!ec) return true;
    fs::remove_all(spare, ec);
    return false;
  }

  void PrepareSpare(const std::string& digest) {
    std::uint64_t seq = 0;
    {
      std::lock_guard lock(spare_mu);
      if (spare_count >= kMaxSpares || draining) return;
      spare_count++;
      seq = ++spare_seq;
    }
    std::string dir =
        fmt::format("{}/.spare-{}-{}", s.WorkDir(), client::DigestHex(digest).substr(0, 12), seq);
    // Only while the bundle is still cached (never fetched for a spare).
    auto cached = cache->Acquire(
        digest, [](const std::string&) -> core::Status { return core::NotFound("not cached"); });
    core::Status ok = cached ? core::Status() : core::Status(cached.error());
    if (cached) {
      auto tree = cache->Tree(digest);
      ok = tree ? CopyTree(*tree, dir) : core::Status(tree.error());
      cache->Release(digest);
    }
    std::lock_guard lock(spare_mu);
    if (ok && !draining) {
      spares[digest].push_back(dir);
    } else {
      std::error_code ec;
      fs::remove_all(dir, ec);
      spare_count--;
    }
  }

  void RemoveSpares() {
    std::lock_guard lock(spare_mu);
    std::error_code ec;
    for (auto& [digest, dirs] : spares) {
      for (const auto& d : dirs) fs::remove_all(d, ec);
    }
    spares.clear();
    spare_count = 0;
  }

  RunSpec MakeRunSpec(const v1::ClaimedRun& claimed) const {
    const auto& run = claimed.flow_run();
    const auto& spec = claimed.deployment().spec();
    RunSpec rs;
    rs.flow_run_id = run.id();
    rs.run_name = run.name();
    rs.deployment_name = run.deployment_name().empty() ? spec.flow_name() + "/" + spec.name()
                                                       : run.deployment_name();
    rs.entrypoint.assign(spec.entrypoint().begin(), spec.entrypoint().end());
    rs.image = spec.runner().image();
    rs.k8s_namespace = spec.runner().namespace_();
    // The deployment's network wins over the agent's default.
    rs.network = spec.runner().network().empty() ? s.docker_network : spec.runner().network();
    // Of the agent's own environment, flows get only the basics and what --pass-env names
    // (runners/flow_env.hpp); never its key, cloud credentials or WEFT_AGENT_* settings.
    rs.passed_env = PassedEnvironment(CurrentEnvironment(), s.pass_env);
    std::map<std::string, std::string> runner_env(spec.runner().env().begin(),
                                                  spec.runner().env().end());
    for (const auto& [k, v] : runner_env) rs.env.emplace_back(k, v);
    // The runner's env may point pods or containers at another address; the run's identity
    // is always ours.
    if (!runner_env.count("WEFT_API_URL")) {
      rs.env.emplace_back("WEFT_API_URL", client::ApiUrl(options));
      // The flow process reaches the server the way the agent does (same CA, same client
      // certificate under mutual TLS).
      if (options.tls && !options.tls_ca_file.empty()) {
        rs.env.emplace_back("WEFT_TLS_CA", options.tls_ca_file);
      }
      if (options.tls && !options.tls_cert_file.empty()) {
        rs.env.emplace_back("WEFT_TLS_CERT", options.tls_cert_file);
        rs.env.emplace_back("WEFT_TLS_KEY", options.tls_key_file);
      }
      if (options.insecure) rs.env.emplace_back("WEFT_INSECURE", "1");
    }
    // The flow process gets the run's own token (scoped to the run, dead once it is final),
    // never the agent's key.
    if (!runner_env.count("WEFT_API_KEY") && !claimed.run_token().empty()) {
      rs.env.emplace_back("WEFT_API_KEY", claimed.run_token());
    }
    rs.env.emplace_back("WEFT_FLOW_RUN_ID", run.id());
    rs.env.emplace_back("WEFT_FLOW_RUN_PARAMETERS",
                        MergedParameters(spec.parameters_json(), run.parameters_json()));
    return rs;
  }

  void Execute(const v1::ClaimedRun& claimed, RunState& st) {
    const auto& run = claimed.flow_run();
    const auto& spec = claimed.deployment().spec();
    const std::string run_dir = s.WorkDir() + "/" + run.id();
    run_log->info("run claimed flow_run_id={} name={} deployment={} queue={} runner={}", run.id(),
                  run.name(), run.deployment_name(), run.work_queue(),
                  spec.runner().type().empty() ? "process" : spec.runner().type());
    auto cleanup = [&] {
      if (s.keep_run_dirs) return;
      std::error_code ec;
      fs::remove_all(run_dir, ec);
    };
    auto crash = [&](const std::string& message) {
      run_log->error("run could not start flow_run_id={} name={} error=\"{}\"", run.id(),
                     run.name(), message);
      cleanup();
      core::State state = st.cancel ? core::Cancelled(Now(), "cancelled before it started")
                                    : core::Crashed(
                                          Now(), core::CutText(message, core::kMaxStateMessageBytes));
      auto res = Propose(run.id(), state,
                         fmt::format("agent-start-failed:{}:{}", run.id(), run.run_count() + 1));
      if (!res) metrics.OnFailure("report");
      if (res && res->decision() == v1::ACCEPT) metrics.OnRunFinished(res->state().name());
    };

    // 1. The bundle: fetched (verified) into the cache, unpacked into a fresh run dir.
    const auto claimed_at = Clock::now();
    auto ms_since = [](Clock::time_point t) {
      return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    };
    std::error_code ec;
    fs::remove_all(run_dir, ec);
    const auto& bundle = spec.bundle();
    if (bundle.digest().empty()) fs::create_directories(run_dir, ec);
    if (ec)
      return crash(fmt::format("cannot create run directory \"{}\": {}", run_dir, ec.message()));
    bool big_bundle = false;  // copying it takes long enough to keep a copy ready
    if (!bundle.digest().empty()) {
      auto path = FetchBundle(bundle);
      if (!path) {
        metrics.OnFailure("bundle");
        return crash(fmt::format("bundle {} from storage \"{}\" refused: {}", bundle.digest(),
                                 bundle.storage(), path.error().message));
      }
      auto tree = cache->Tree(bundle.digest());
      core::Status copied;
      if (tree && !(big_bundle = TakeSpare(bundle.digest(), run_dir))) {
        const auto copy_at = Clock::now();
        copied = CopyTree(*tree, run_dir);
        big_bundle = ms_since(copy_at) >= kSpareAfterMs;
      }
      cache->Release(bundle.digest());
      if (!tree) {
        return crash(fmt::format("bundle {} refused: {}", bundle.digest(), tree.error().message));
      }
      if (!copied) {
        return crash(fmt::format("cannot prepare run directory \"{}\": {}", run_dir,
                                 copied.error().message));
      }
    }

    // 2. Start it.
    std::string type = spec.runner().type().empty() ? "process" : spec.runner().type();
    auto rit = runners.find(type);
    if (rit == runners.end()) {
      return crash(fmt::format(
          "runner \"{}\" is not supported by this agent (process, docker, kubernetes)", type));
    }
    // A prefetched run starts at its scheduled time, not before.
    if (run.has_expected_start_time()) {
      auto due = client::FromProto(run.expected_start_time());
      double wait = core::ToSeconds(due - Now());
      if (wait > 0) {
        run_log->info("run waits for its start time flow_run_id={} name={} in={:.3f}s", run.id(),
                      run.name(), wait);
        SleepUnless(wait, [&] { return st.cancel.load() || stop_runs.load(); });
      }
    }
    if (st.cancel || stop_runs) return crash("stopped before it started");

    // 3. Running is reported just before the start, so that a flow program (SDK) adopting
    // the run finds it Running and does not race the agent for that transition.
    const std::string start_key = fmt::format("agent-start:{}:{}", run.id(), run.run_count() + 1);
    const double bundle_ms = ms_since(claimed_at);
    const auto running_at = Clock::now();
    auto running =
        Propose(run.id(), core::Running(Now()), start_key, [&] { return stop_runs.load(); });
    if (running) {
      auto held = client::FromProto(running->state());
      if (held && held->IsTerminal()) {
        run_log->info("run ended before it started flow_run_id={} state={}", run.id(), held->name);
        cleanup();
        return;
      }
      if (running->state().type() == v1::CANCELLING) {
        st.cancel = true;
      } else if (running->decision() != v1::ACCEPT && running->state().type() != v1::RUNNING) {
        // Not ours to run any more (e.g. the claim was undone): start nothing, report nothing.
        run_log->warn(
            "run not started: the server holds it in state={} decision={} reason=\"{}\" "
            "flow_run_id={}",
            running->state().name(), v1::Decision_Name(running->decision()), running->reason(),
            run.id());
        cleanup();
        return;
      }
    } else if (!stop_runs) {
      run_log->warn("run not started: running could not be reported flow_run_id={}", run.id());
      cleanup();
      return;
    }
    if (st.cancel || stop_runs) return crash("stopped before it started");
    RunSpec rs = MakeRunSpec(claimed);
    std::string run_name = run.name();
    const std::string run_id = run.id();
    auto sink = [this, run_name, run_id](std::string_view line) {
      out_log->info("output run={} | {}", run_name, line);
      if (shipper && !client::IsSdkConsoleLine(line)) {
        shipper->Add(run_id, "", "", client::LogLevel::kInfo, std::string(line), "stdout");
      }
    };
    const double running_ms = ms_since(running_at);
    const auto spawn_at = Clock::now();
    auto handle = rit->second->Start(rs, run_dir, sink);
    if (!handle) {
      metrics.OnFailure("spawn");
      return crash(handle.error().message);
    }
    RunHandle& h = **handle;
    run_log->info(
        "run started flow_run_id={} name={} runner={} pid={} after={:.1f}ms bundle={:.1f}ms "
        "running={:.1f}ms spawn={:.1f}ms",
        run.id(), run.name(), type, h.pid(), ms_since(claimed_at), bundle_ms, running_ms,
        ms_since(spawn_at));
    if (big_bundle) PrepareSpare(bundle.digest());

    // 4. Watch: enforce the timeout, stop on cancel or shutdown.
    const double timeout = spec.timeout_seconds();
    const auto start = Clock::now();
    StopReason reason = StopReason::kNone;
    Clock::time_point term_at{};
    bool killed = false;
    std::optional<ExitStatus> exit;
    for (;;) {
      exit = h.Wait(0.05);
      if (exit) break;
      auto now = Clock::now();
      if (reason == StopReason::kNone) {
        if (st.cancel) {
          reason = StopReason::kCancel;
        } else if (timeout > 0 && now - start >= std::chrono::microseconds(
                                                     static_cast<long long>(timeout * 1e6))) {
          reason = StopReason::kTimeout;
        } else if (stop_runs) {
          reason = StopReason::kShutdown;
        }
        if (reason != StopReason::kNone) {
          static const char* kWhy[] = {"", "timeout", "cancel", "shutdown"};
          run_log->info("stopping run flow_run_id={} name={} why={} signal=SIGTERM grace={}s",
                        run.id(), run.name(), kWhy[static_cast<int>(reason)], s.kill_grace);
          h.Signal(SIGTERM);
          term_at = now;
        }
      } else if (!killed && now - term_at >= std::chrono::microseconds(
                                                 static_cast<long long>(s.kill_grace * 1e6))) {
        run_log->warn("run did not stop in time, killing flow_run_id={} name={} signal=SIGKILL",
                      run.id(), run.name());
        h.Signal(SIGKILL);
        killed = true;
      }
    }
    run_log->info("run process ended flow_run_id={} name={} {}", run.id(), run.name(),
                  ExitText(*exit));
    handle->reset();
    // The process's last lines reach the server before its final state.
    if (shipper) shipper->Flush(std::chrono::milliseconds(2000));

    // 5. Report: nothing when the flow (SDK) or someone else already set a final state.
    {
      auto current = ReadRun(run.id());
      if (current) {
        auto held = client::FromProto(current->state());
        if (held && held->IsTerminal()) {
          run_log->info("run final state already set flow_run_id={} state={}", run.id(),
                        held->name);
          metrics.OnRunFinished(held->name);
        } else {
          if (reason == StopReason::kNone && current->state().type() == v1::CANCELLING) {
            reason = StopReason::kCancel;
          }
          core::State final_state = OutcomeFor(*exit, reason, timeout, Now());
          auto res = Propose(
              run.id(), final_state,
              fmt::format("agent-final:{}:{}", run.id(), std::max(1, current->run_count())));
          if (!res) metrics.OnFailure("report");
          if (res && res->decision() == v1::ACCEPT) metrics.OnRunFinished(res->state().name());
          if (res && res->decision() == v1::ACCEPT) {
            run_log->info("run final state flow_run_id={} name={} state={} message=\"{}\"",
                          run.id(), run.name(), res->state().name(), final_state.message);
          }
        }
      }
    }
    cleanup();
  }
};

Agent::Agent(Settings settings, client::ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(options))) {}

Agent::~Agent() {
  if (impl_->poll_thread.joinable() || impl_->hb_thread.joinable()) {
    Drain();
    StopRuns();
    Join();
  }
}

const std::string& Agent::id() const { return impl_->id; }
const std::string& Agent::name() const { return impl_->name; }
AgentMetrics& Agent::metrics() { return impl_->metrics; }

core::Status Agent::CheckQueues() {
  for (const auto& q : impl_->s.work_queues) {
    v1::GetWorkQueueRequest req;
    req.set_name(q);
    for (int attempt = 0;; ++attempt) {
      auto r = impl_->client.GetWorkQueue(req);
      if (r) {
        impl_->metrics.SetReady(true);
        break;
      }
      if (r.error().code == core::Code::kNotFound) {
        return core::NotFound(fmt::format("work queue \"{}\" not found", q));
      }
      if (!Retryable(r.error().code) || r.error().code == core::Code::kInternal) return r.error();
      double delay = BackoffSeconds(attempt, Random01());
      impl_->log->warn("server not reachable, retrying error=\"{}\" retry_in={:.3f}s",
                       r.error().message, delay);
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long long>(delay * 1e6)));
    }
  }
  return {};
}

core::Status Agent::DryRun(std::FILE* out) {
  auto& c = impl_->client;
  std::map<std::string, v1::Deployment> deployments;
  for (const auto& q : impl_->s.work_queues) {
    v1::PreviewWorkQueueRequest req;
    req.set_name(q);
    req.set_hours(std::max(impl_->s.prefetch, 1.0) / 3600.0);
    auto r = c.PreviewWorkQueue(req);
    if (!r) {
      if (r.error().code == core::Code::kNotFound) {
        return core::NotFound(fmt::format("work queue \"{}\" not found", q));
      }
      return r.error();
    }
    std::fprintf(out, "work queue \"%s\": %d due run(s)%s\n", q.c_str(), r->runs_size(),
                 r->held_back() > 0 ? fmt::format(", {} held back", r->held_back()).c_str() : "");
    for (const auto& run : r->runs()) {
      std::fprintf(out, "\nflow run %s (%s) deployment=%s expected=%s\n", run.id().c_str(),
                   run.name().c_str(), run.deployment_name().c_str(),
                   core::FormatTime(client::FromProto(run.expected_start_time())).c_str());
      if (run.deployment_id().empty()) {
        std::fprintf(out, "  (not from a deployment: nothing to start)\n");
        continue;
      }
      auto it = deployments.find(run.deployment_id());
      if (it == deployments.end()) {
        v1::GetDeploymentRequest dreq;
        dreq.mutable_ref()->set_id(run.deployment_id());
        auto d = c.GetDeployment(dreq);
        if (!d) return d.error();
        it = deployments.emplace(run.deployment_id(), d->deployment()).first;
      }
      v1::ClaimedRun claimed;
      *claimed.mutable_flow_run() = run;
      *claimed.mutable_deployment() = it->second;
      const auto& spec = it->second.spec();
      std::string type = spec.runner().type().empty() ? "process" : spec.runner().type();
      auto rit = impl_->runners.find(type);
      if (rit == impl_->runners.end()) {
        std::fprintf(out, "  runner \"%s\" is not supported by this agent\n", type.c_str());
        continue;
      }
      std::string text =
          rit->second->Describe(impl_->MakeRunSpec(claimed), impl_->s.WorkDir() + "/" + run.id());
      std::string indented;
      std::size_t start = 0;
      while (start < text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string::npos) nl = text.size();
        indented += "  " + text.substr(start, nl - start) + "\n";
        start = nl + 1;
      }
      std::fputs(indented.c_str(), out);
    }
  }
  std::fflush(out);
  return {};
}

void Agent::Start() {
  impl_->cache = std::make_unique<BundleCache>(impl_->s.CacheDir(), impl_->s.cache_size);
  client::LogShipperOptions ship;
  ship.on_error = [log = impl_->out_log](const std::string& problem) {
    log->warn("log shipping problem=\"{}\"", problem);
  };
  impl_->shipper = std::make_unique<client::LogShipper>(impl_->client, std::move(ship));
  std::error_code ec;
  fs::create_directories(impl_->s.WorkDir(), ec);
  for (auto it = fs::directory_iterator(impl_->s.WorkDir(), ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code e2;
    if (it->path().filename().string().rfind(".spare-", 0) == 0) fs::remove_all(it->path(), e2);
  }
  impl_->log->info(
      "agent started id={} name={} queues={} limit={} long_poll={} work_dir={} cache_dir={} "
      "cache_size={} pass_env={} docker_network={}",
      impl_->id, impl_->name, fmt::format("{}", fmt::join(impl_->s.work_queues, ",")),
      impl_->s.limit, impl_->s.long_poll, impl_->s.WorkDir(), impl_->s.CacheDir(),
      client::FormatBytes(impl_->s.cache_size),
      impl_->s.pass_env.empty() ? "-" : fmt::format("{}", fmt::join(impl_->s.pass_env, ",")),
      impl_->s.docker_network.empty() ? "default" : impl_->s.docker_network);
  impl_->poll_thread = std::thread([this] { impl_->PollLoop(); });
  impl_->hb_thread = std::thread([this] { impl_->HeartbeatLoop(); });
}

void Agent::Drain() {
  if (!impl_->draining.exchange(true)) {
    impl_->log->info("draining: no more claims; running flows go on (signal again to stop them)");
  }
  impl_->cv.notify_all();
  impl_->client.CancelPolls();
}

void Agent::StopRuns() {
  if (!impl_->stop_runs.exchange(true)) {
    std::size_t n = 0;
    {
      std::lock_guard lock(impl_->mu);
      n = impl_->runs.size();
    }
    impl_->log->info("stopping running flows runs={}", n);
  }
  impl_->cv.notify_all();
}

bool Agent::Finished() const {
  if (!impl_->draining) return false;
  if (!impl_->poll_done) {
    impl_->client.CancelPolls();  // a poll that started just after Drain()
    return false;
  }
  std::lock_guard lock(impl_->mu);
  return impl_->runs.empty();
}

void Agent::Join() {
  if (impl_->poll_thread.joinable()) impl_->poll_thread.join();
  std::list<Impl::Worker> workers;
  {
    std::lock_guard lock(impl_->mu);
    workers.swap(impl_->workers);
  }
  for (auto& w : workers) w.thread.join();
  {
    std::lock_guard lock(impl_->mu);
    impl_->hb_stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->hb_thread.joinable()) impl_->hb_thread.join();
  impl_->RemoveSpares();
  impl_->log->info("agent stopped id={}", impl_->id);
}

}  // namespace weft::agent
