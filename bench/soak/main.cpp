// bench_soak: a bounded soak of a real weft-server.
//
//   scripts/with_pg.sh build/release/bench/soak/bench_soak [--minutes 3 | --seconds 30]
//       [--clients 16] [--agents 2] [--runs-per-second 4] [--no-deep-json] [--keep]
//
// Starts a weft-server on the database in WEFT_TEST_DATABASE_URL (or --database-url), a local
// storage, two script deployments (one exits 0, one exits 3) on a work queue and --agents
// weft-agent processes serving it. Then --clients threads, each with its own gRPC channel
// and HTTP connection (admin key), pick calls at random for the duration:
//  - valid: RunDeployment (at most --runs-per-second in all), a client-driven run
//    (CreateFlowRun, Running, WriteLogs, Completed/Failed), run/state/log reads, deployment,
//    work queue and flow lists, and the same reads through the HTTP JSON API;
//  - malformed: bad and unknown UUIDs, unknown state types, oversize strings, invalid and
//    (unless --no-deep-json) deeply nested JSON, bad query parameters and bodies;
//  - slow: UploadBundle streams that send a chunk and stall, log-follow loops (gRPC and HTTP)
//    left open until their run is over.
// Meanwhile the server's VmRSS is sampled. After the load, runs get --drain-seconds to reach
// a final state. Prints requests/s and outcomes (gRPC code / HTTP status) per kind, runs
// created vs. finished by final state, the RSS table and a verdict line. A benchmark, not a
// test: exits 1 only when a run was lost or the server (or an agent) died.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sdk/client/bundle.hpp"
#include "sdk/client/client.hpp"
#include "weft/v1/deployments.grpc.pb.h"
#include "weft/v1/flow_runs.grpc.pb.h"
#include "weft/v1/flows.grpc.pb.h"
#include "weft/v1/logs.grpc.pb.h"
#include "weft/v1/storage.grpc.pb.h"
#include "weft/v1/work_queues.grpc.pb.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

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

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
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

  pid_t pid() const { return pid_; }
  // False once the process has exited; `how` then says how.
  bool Alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      how_ = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                                       strsignal(WTERMSIG(status)) + ")"
                                 : "exited with status " + std::to_string(WEXITSTATUS(status));
      return false;
    }
    return true;
  }
  const std::string& how() const { return how_; }

  bool WaitFor(const std::string& text, double seconds) {
    auto end = Clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    while (Clock::now() < end) {
      if (ReadAll(log_).find(text) != std::string::npos) return true;
      if (!Alive()) return false;
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
  std::string how_;
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

// VmRSS of a process in KiB (-1 when it cannot be read).
long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// One client's gRPC connection. Channels of one process share their connection to a server
// (gRPC's global subchannel pool); each client here has its own (a local pool), as 16
// separate programs would, unless `shared` is set.
class Conn {
 public:
  Conn(const std::string& address, const std::string& key, bool shared)
      : address_(address), key_(key) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    if (!shared) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto ch = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    flows_ = weft::v1::FlowService::NewStub(ch);
    runs_ = weft::v1::FlowRunService::NewStub(ch);
    deployments_ = weft::v1::DeploymentService::NewStub(ch);
    queues_ = weft::v1::WorkQueueService::NewStub(ch);
    logs_ = weft::v1::LogService::NewStub(ch);
    storage_ = weft::v1::StorageService::NewStub(ch);
  }

#define SOAK_CALL(STUB, NAME)                                                             \
  weft::core::Result<weft::v1::NAME##Response> NAME(const weft::v1::NAME##Request& req) { \
    grpc::ClientContext ctx;                                                              \
    Prepare(ctx);                                                                         \
    weft::v1::NAME##Response resp;                                                        \
    grpc::Status st = STUB->NAME(&ctx, req, &resp);                                       \
    if (!st.ok()) return Error(st);                                                       \
    return resp;                                                                          \
  }
  SOAK_CALL(flows_, ListFlows)
  SOAK_CALL(runs_, CreateFlowRun)
  SOAK_CALL(runs_, GetFlowRun)
  SOAK_CALL(runs_, ListFlowRuns)
  SOAK_CALL(runs_, SetFlowRunState)
  SOAK_CALL(runs_, ListFlowRunStates)
  SOAK_CALL(deployments_, GetDeployment)
  SOAK_CALL(deployments_, ListDeployments)
  SOAK_CALL(deployments_, RunDeployment)
  SOAK_CALL(queues_, GetWorkQueue)
  SOAK_CALL(queues_, ListWorkQueues)
  SOAK_CALL(logs_, WriteLogs)
  SOAK_CALL(logs_, ListLogs)
#undef SOAK_CALL

  // An upload that sends `first` bytes, calls `stall`, then sends the rest.
  weft::core::Result<weft::v1::UploadBundleResponse> UploadBundle(
      const std::string& digest, const std::string& data, std::size_t first,
      const std::function<void()>& stall) {
    grpc::ClientContext ctx;
    if (!key_.empty()) ctx.AddMetadata("authorization", "Bearer " + key_);
    weft::v1::UploadBundleResponse resp;
    auto writer = storage_->UploadBundle(&ctx, &resp);
    weft::v1::BundleChunk chunk;
    chunk.set_digest(digest);
    chunk.set_size(static_cast<std::int64_t>(data.size()));
    chunk.set_data(data.substr(0, first));
    if (writer->Write(chunk)) {
      stall();
      weft::v1::BundleChunk rest;
      rest.set_data(data.substr(first));
      writer->Write(rest);
    }
    writer->WritesDone();
    grpc::Status st = writer->Finish();
    if (!st.ok()) return Error(st);
    return resp;
  }

 private:
  void Prepare(grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!key_.empty()) ctx.AddMetadata("authorization", "Bearer " + key_);
  }
  static weft::core::Error Error(const grpc::Status& st) {
    return {static_cast<weft::core::Code>(st.error_code()), st.error_message()};
  }
  std::string address_, key_;
  std::unique_ptr<weft::v1::FlowService::Stub> flows_;
  std::unique_ptr<weft::v1::FlowRunService::Stub> runs_;
  std::unique_ptr<weft::v1::DeploymentService::Stub> deployments_;
  std::unique_ptr<weft::v1::WorkQueueService::Stub> queues_;
  std::unique_ptr<weft::v1::LogService::Stub> logs_;
  std::unique_ptr<weft::v1::StorageService::Stub> storage_;
};

// ---- what happened ----

enum class Cat { kValid, kMalformed, kSlow };
const char* CatName(Cat c) {
  return c == Cat::kValid ? "valid" : c == Cat::kMalformed ? "bad" : "slow";
}

struct KindStats {
  Cat cat = Cat::kValid;
  long calls = 0;
  std::map<std::string, long> outcomes;        // "OK", "INVALID_ARGUMENT", "200", "400", ...
  std::map<std::string, std::string> samples;  // outcome -> first message seen
};

// An outcome a caller must never see for its own mistake: the server failed (or died).
bool ServerFault(const std::string& outcome) {
  return outcome == "INTERNAL" || outcome == "UNKNOWN" || outcome == "DATA_LOSS" ||
         (outcome.size() == 3 && outcome[0] == '5');
}
// The server went away under the call (counted apart: the cause is elsewhere).
bool ConnectionLost(const std::string& outcome) {
  return outcome == "UNAVAILABLE" || outcome == "conn-error";
}
bool Success(const std::string& outcome) {
  return outcome == "OK" || (outcome.size() == 3 && outcome[0] == '2');
}

class Tally {
 public:
  void Add(const std::string& kind, Cat cat, const std::string& outcome,
           const std::string& message = "") {
    std::lock_guard lock(mu_);
    auto& k = kinds_[kind];
    k.cat = cat;
    ++k.calls;
    ++k.outcomes[outcome];
    if (!message.empty() && !k.samples.count(outcome)) k.samples[outcome] = message.substr(0, 200);
  }
  std::map<std::string, KindStats> Snapshot() {
    std::lock_guard lock(mu_);
    return kinds_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, KindStats> kinds_;
};

// Runs the soak created, and a few recent ones for the reads.
class RunBook {
 public:
  void Add(const std::string& id, const std::string& origin) {
    std::lock_guard lock(mu_);
    if (!created_.emplace(id, origin).second) return;
    Push(recent_, id);
    if (origin == "deployment") Push(recent_deployment_, id);
  }
  std::string Pick(std::mt19937_64& rng, bool deployment_only = false) {
    std::lock_guard lock(mu_);
    const auto& v = deployment_only ? recent_deployment_ : recent_;
    if (v.empty()) return "";
    return v[rng() % v.size()];
  }
  std::unordered_map<std::string, std::string> Created() {
    std::lock_guard lock(mu_);
    return created_;
  }
  // A client run this soak left unfinished because one of its own calls failed.
  void Abandon() { abandoned_.fetch_add(1); }
  long abandoned() const { return abandoned_.load(); }

 private:
  static void Push(std::vector<std::string>& v, const std::string& id) {
    if (v.size() < 256) {
      v.push_back(id);
    } else {
      v[static_cast<std::size_t>(std::rand()) % v.size()] = id;
    }
  }
  std::mutex mu_;
  std::unordered_map<std::string, std::string> created_;  // id -> "deployment" | "client"
  std::vector<std::string> recent_, recent_deployment_;
  std::atomic<long> abandoned_{0};
};

// At most `rate` RunDeployment calls per second over the whole load.
class RateGate {
 public:
  RateGate(double rate, Clock::time_point t0) : rate_(rate), t0_(t0) {}
  bool Take() {
    std::lock_guard lock(mu_);
    if (static_cast<double>(taken_) >= rate_ * Since(t0_) + 1) return false;
    ++taken_;
    return true;
  }

 private:
  std::mutex mu_;
  double rate_;
  Clock::time_point t0_;
  long taken_ = 0;
};

// A counting cap without waiting: Enter fails when `max` are inside.
class Slots {
 public:
  explicit Slots(int max) : max_(max) {}
  bool Enter() {
    if (in_.fetch_add(1) < max_) return true;
    in_.fetch_sub(1);
    return false;
  }
  void Leave() { in_.fetch_sub(1); }

 private:
  int max_;
  std::atomic<int> in_{0};
};

bool IsFinal(weft::v1::StateType t) {
  return t == weft::v1::COMPLETED || t == weft::v1::FAILED || t == weft::v1::CANCELLED ||
         t == weft::v1::CRASHED;
}

std::string RandomUuid(std::mt19937_64& rng) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
    s += hex[rng() % 16];
  }
  s[14] = '4';
  return s;
}

// Letters and digits at random: text PostgreSQL cannot compress (an index entry of ~2.7 KB
// or more then fails, where the same length of one repeated letter passes).
std::string RandomText(std::mt19937_64& rng, std::size_t n) {
  static const char* alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s(n, 'x');
  for (auto& c : s) c = alnum[rng() % 62];
  return s;
}

std::string Nested(int depth) {
  return "{\"x\":" + std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']') + "}";
}

struct Config {
  std::string api, http;
  std::string admin_key;
  std::string deployment_ok, deployment_fails;  // full names
  std::string deployment_id;                    // of deployment_ok, for the HTTP API
  std::string victim_run;                       // a run only malformed calls touch
  double runs_per_second = 4;
  int stall_seconds = 5;
  bool deep_json = true;
  int deep_depth = 100000;
  int think_ms = 2;
  bool shared_connection = false;
  std::vector<std::string> skip;  // op names containing one of these are left out
};

struct Shared {
  Config cfg;
  Tally tally;
  RunBook runs;
  std::unique_ptr<RateGate> run_gate;
  std::unique_ptr<Slots> upload_slots, follow_slots;
  std::atomic<bool> stop{false};
  std::atomic<bool> server_dead{false};
  struct Current {
    std::string op;
    Clock::time_point started;
    bool in_flight = false;
  };
  std::mutex current_mu;
  std::vector<Current> current;  // per worker: its last call
  // Calls in flight when the connection was first lost (the server's death): their kinds.
  std::optional<Clock::time_point> first_lost;
  std::vector<std::string> lost_under;
};

// One client: its own channel and HTTP connection, calls picked at random.
class Worker {
 public:
  Worker(Shared& sh, int index)
      : sh_(sh), index_(index), rng_(0x50a4 + static_cast<unsigned>(index)), http_(sh.cfg.http) {
    client_ = std::make_unique<Conn>(sh.cfg.api, sh.cfg.admin_key, sh.cfg.shared_connection);
    http_.set_keep_alive(true);
    http_.set_bearer_token_auth(sh.cfg.admin_key);
    http_.set_connection_timeout(5);
    http_.set_read_timeout(10);
    http_.set_write_timeout(10);
    Build();
  }

  void Run() {
    std::vector<double> weights;
    for (const auto& op : ops_) weights.push_back(op.weight);
    std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
    while (!sh_.stop.load()) {
      const Op& op = ops_[pick(rng_)];
      SetCurrent(op.name);
      op.fn();
      SetCurrent("");
      if (sh_.cfg.think_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(sh_.cfg.think_ms));
      }
    }
  }

 private:
  struct Op {
    std::string name;
    double weight;
    std::function<void()> fn;
  };

  void SetCurrent(const std::string& what) {
    std::lock_guard lock(sh_.current_mu);
    auto& c = sh_.current[static_cast<std::size_t>(index_)];
    if (!what.empty())
      c = {what, Clock::now(), true};
    else
      c.in_flight = false;
  }

  // A call that lost its connection: if it started before the first such loss, it was in
  // flight when the server went away.
  void NoteLost(const std::string& kind) {
    std::lock_guard lock(sh_.current_mu);
    auto now = Clock::now();
    if (!sh_.first_lost) sh_.first_lost = now;
    if (sh_.current[static_cast<std::size_t>(index_)].started <= *sh_.first_lost) {
      sh_.lost_under.push_back(kind);
    }
  }

  template <typename R>
  bool Grpc(const std::string& kind, Cat cat, const R& r) {
    if (!r.ok() && r.error().code == weft::core::Code::kUnavailable) NoteLost(kind);
    if (sh_.server_dead.load()) return false;
    if (r.ok()) {
      sh_.tally.Add(kind, cat, "OK");
      return true;
    }
    sh_.tally.Add(kind, cat, weft::core::CodeName(r.error().code), r.error().message);
    return false;
  }
  bool Http(const std::string& kind, Cat cat, const httplib::Result& res) {
    if (!res) NoteLost(kind);
    if (sh_.server_dead.load()) return false;
    if (!res) {
      sh_.tally.Add(kind, cat, "conn-error", httplib::to_string(res.error()));
      return false;
    }
    std::string outcome = std::to_string(res->status);
    sh_.tally.Add(kind, cat, outcome, Success(outcome) ? "" : res->body);
    return res->status >= 200 && res->status < 300;
  }
  void Get(const std::string& kind, Cat cat, const std::string& path) {
    Http(kind, cat, http_.Get(path));
  }
  void Post(const std::string& kind, Cat cat, const std::string& path, const std::string& body,
            const std::string& type = "application/json") {
    Http(kind, cat, http_.Post(path, body, type));
  }

  std::string Id() { return sh_.runs.Pick(rng_); }

  bool CreateDeploymentRun(const std::string& kind, Cat cat, const std::string& deployment,
                           const std::string& params, const std::vector<std::string>& tags) {
    weft::v1::RunDeploymentRequest req;
    req.mutable_ref()->set_full_name(deployment);
    req.set_parameters_json(params);
    for (const auto& t : tags) req.add_tags(t);
    auto r = client_->RunDeployment(req);
    // A malformed call that still made a run: the run must finish like any other.
    if (r.ok()) sh_.runs.Add(r->flow_run().id(), "deployment");
    return Grpc(kind, cat, r);
  }

  // A run driven by this client, as the SDK drives one: Pending, Running, logs, final.
  void ClientRun() {
    weft::v1::CreateFlowRunRequest create;
    create.set_flow_name("soak-client");
    create.add_tags("soak");
    auto c = client_->CreateFlowRun(create);
    if (!Grpc("grpc CreateFlowRun", Cat::kValid, c)) return;
    std::string id = c->flow_run().id();
    auto set = [&](weft::v1::StateType type) {
      weft::v1::SetFlowRunStateRequest req;
      req.set_flow_run_id(id);
      req.mutable_state()->set_type(type);
      auto r = client_->SetFlowRunState(req);
      return Grpc("grpc SetFlowRunState", Cat::kValid, r) &&
             r->result().decision() == weft::v1::ACCEPT;
    };
    if (!set(weft::v1::RUNNING)) {
      sh_.runs.Abandon();
      return;
    }
    weft::v1::WriteLogsRequest logs;
    for (int i = 0; i < 3; ++i) {
      auto* l = logs.add_lines();
      l->set_flow_run_id(id);
      l->set_level(weft::v1::LOG_LEVEL_INFO);
      l->set_message("soak line " + std::to_string(i));
    }
    Grpc("grpc WriteLogs", Cat::kValid, client_->WriteLogs(logs));
    // The server accepted the final state: from here on the run must read as final.
    if (set(rng_() % 10 == 0 ? weft::v1::FAILED : weft::v1::COMPLETED)) {
      sh_.runs.Add(id, "client");
    } else {
      sh_.runs.Abandon();
    }
  }

  // Sends 16 KiB, stalls, then the rest (a third of the time bytes that do not match the
  // digest: INVALID_ARGUMENT expected).
  void SlowUpload() {
    if (!sh_.upload_slots->Enter()) return;
    std::string data(64 * 1024, '\0');
    for (auto& ch : data) ch = static_cast<char>(rng_());
    std::string digest = "sha256:" + weft::client::Sha256Hex(data);
    bool corrupt = rng_() % 3 == 0;
    if (corrupt) data[data.size() - 1] = static_cast<char>(data.back() ^ 1);
    int stall_ms =
        1000 * sh_.cfg.stall_seconds / 2 +
        static_cast<int>(rng_() % static_cast<unsigned>(500 * sh_.cfg.stall_seconds + 1));
    auto r = client_->UploadBundle(digest, data, 16 * 1024, [&] {
      for (int t = 0; t < stall_ms / 50 && !sh_.stop; ++t) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    Grpc(corrupt ? "slow UploadBundle, stall, wrong bytes" : "slow UploadBundle, stall",
         corrupt ? Cat::kMalformed : Cat::kSlow, r);
    sh_.upload_slots->Leave();
  }

  // `weft flow-run logs -f` left open: ListLogs and GetFlowRun every 250 ms for 5-15 s,
  // whether or not the run is over.
  void FollowGrpc() {
    std::string id = sh_.runs.Pick(rng_, true);
    if (id.empty() || !sh_.follow_slots->Enter()) return;
    std::int64_t after = 0;
    auto until = Clock::now() + std::chrono::milliseconds(5000 + rng_() % 10000);
    while (!sh_.stop && Clock::now() < until) {
      weft::v1::ListLogsRequest req;
      req.set_flow_run_id(id);
      req.set_after_id(after);
      auto r = client_->ListLogs(req);
      if (!Grpc("slow ListLogs (follow)", Cat::kSlow, r)) break;
      after = r->next_after_id();
      weft::v1::GetFlowRunRequest g;
      g.set_id(id);
      auto run = client_->GetFlowRun(g);
      if (!Grpc("slow GetFlowRun (follow)", Cat::kSlow, run)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    sh_.follow_slots->Leave();
  }

  // The dashboard's run page left open: its logs (after_id=N) and the run every 250 ms for
  // 5-15 s.
  void FollowHttp() {
    std::string id = sh_.runs.Pick(rng_, true);
    if (id.empty() || !sh_.follow_slots->Enter()) return;
    long long after = 0;
    auto until = Clock::now() + std::chrono::milliseconds(5000 + rng_() % 10000);
    while (!sh_.stop && Clock::now() < until) {
      auto res = http_.Get("/api/flow-runs/" + id + "/logs?after_id=" + std::to_string(after));
      if (!Http("slow GET /api/flow-runs/ID/logs (follow)", Cat::kSlow, res)) break;
      auto j = nlohmann::json::parse(res->body, nullptr, false);
      if (j.is_object()) after = j.value("next_after_id", after);
      auto run = http_.Get("/api/flow-runs/" + id);
      if (!Http("slow GET /api/flow-runs/ID (follow)", Cat::kSlow, run)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    sh_.follow_slots->Leave();
  }

  void Build() {
    const Config& cfg = sh_.cfg;
    const Cat V = Cat::kValid, B = Cat::kMalformed;
    auto add = [&](std::string name, double weight, std::function<void()> fn) {
      for (const auto& s : cfg.skip) {
        if (name.find(s) != std::string::npos) return;
      }
      ops_.push_back({std::move(name), weight, std::move(fn)});
    };
    // ---- valid, gRPC ----
    add("RunDeployment", 6, [this, &cfg, V] {
      if (!sh_.run_gate->Take()) return;
      bool fails = rng_() % 5 == 0;
      CreateDeploymentRun("grpc RunDeployment", V, fails ? cfg.deployment_fails : cfg.deployment_ok,
                          "", {"soak"});
    });
    add("client run", 2, [this] { ClientRun(); });
    add("ListFlowRuns", 4, [this, &cfg, V] {
      weft::v1::ListFlowRunsRequest req;
      req.mutable_page()->set_limit(50);
      switch (rng_() % 3) {
        case 0:
          req.set_deployment(cfg.deployment_ok);
          break;
        case 1:
          req.add_state_types(weft::v1::COMPLETED);
          break;
        default:
          break;
      }
      Grpc("grpc ListFlowRuns", V, client_->ListFlowRuns(req));
    });
    add("GetFlowRun", 4, [this, V] {
      std::string id = Id();
      if (id.empty()) return;
      weft::v1::GetFlowRunRequest req;
      req.set_id(id);
      Grpc("grpc GetFlowRun", V, client_->GetFlowRun(req));
    });
    add("ListFlowRunStates", 2, [this, V] {
      std::string id = Id();
      if (id.empty()) return;
      weft::v1::ListFlowRunStatesRequest req;
      req.set_flow_run_id(id);
      Grpc("grpc ListFlowRunStates", V, client_->ListFlowRunStates(req));
    });
    add("ListLogs", 2, [this, V] {
      std::string id = Id();
      if (id.empty()) return;
      weft::v1::ListLogsRequest req;
      req.set_flow_run_id(id);
      req.set_limit(100);
      Grpc("grpc ListLogs", V, client_->ListLogs(req));
    });
    add("ListDeployments", 2,
        [this, V] { Grpc("grpc ListDeployments", V, client_->ListDeployments({})); });
    add("GetDeployment", 1, [this, &cfg, V] {
      weft::v1::GetDeploymentRequest req;
      req.mutable_ref()->set_full_name(cfg.deployment_ok);
      Grpc("grpc GetDeployment", V, client_->GetDeployment(req));
    });
    add("ListWorkQueues", 2,
        [this, V] { Grpc("grpc ListWorkQueues", V, client_->ListWorkQueues({})); });
    add("ListFlows", 1, [this, V] { Grpc("grpc ListFlows", V, client_->ListFlows({})); });
    // ---- valid, HTTP ----
    add("GET /api/flow-runs", 3,
        [this, V] { Get("http GET /api/flow-runs", V, "/api/flow-runs?limit=50"); });
    add("GET /api/flow-runs/ID", 3, [this, V] {
      std::string id = Id();
      if (!id.empty()) Get("http GET /api/flow-runs/ID", V, "/api/flow-runs/" + id);
    });
    add("GET /api/flow-runs/ID/logs", 2, [this, V] {
      std::string id = Id();
      if (!id.empty()) Get("http GET /api/flow-runs/ID/logs", V, "/api/flow-runs/" + id + "/logs");
    });
    add("GET /api/flow-runs/history", 1,
        [this, V] { Get("http GET /api/flow-runs/history", V, "/api/flow-runs/history"); });
    add("GET /api/deployments", 2,
        [this, V] { Get("http GET /api/deployments", V, "/api/deployments"); });
    add("GET /api/work-queues", 2,
        [this, V] { Get("http GET /api/work-queues", V, "/api/work-queues"); });
    add("GET /api/flows", 1, [this, V] { Get("http GET /api/flows", V, "/api/flows"); });

    // ---- malformed, gRPC ----
    add("bad GetFlowRun id", 1, [this, B] {
      weft::v1::GetFlowRunRequest req;
      req.set_id("not-a-uuid");
      Grpc("bad grpc GetFlowRun(id \"not-a-uuid\")", B, client_->GetFlowRun(req));
    });
    add("bad GetFlowRun empty", 1,
        [this, B] { Grpc("bad grpc GetFlowRun(id \"\")", B, client_->GetFlowRun({})); });
    add("bad GetFlowRun unknown", 1, [this, B] {
      weft::v1::GetFlowRunRequest req;
      req.set_id(RandomUuid(rng_));
      Grpc("bad grpc GetFlowRun(unknown uuid)", B, client_->GetFlowRun(req));
    });
    add("bad SetFlowRunState type", 1, [this, &cfg, B] {
      weft::v1::SetFlowRunStateRequest req;
      req.set_flow_run_id(cfg.victim_run);
      req.mutable_state()->set_type(static_cast<weft::v1::StateType>(99));
      Grpc("bad grpc SetFlowRunState(type 99)", B, client_->SetFlowRunState(req));
    });
    add("bad SetFlowRunState unspecified", 1, [this, &cfg, B] {
      weft::v1::SetFlowRunStateRequest req;
      req.set_flow_run_id(cfg.victim_run);
      Grpc("bad grpc SetFlowRunState(no state)", B, client_->SetFlowRunState(req));
    });
    add("bad SetFlowRunState bad id", 1, [this, B] {
      weft::v1::SetFlowRunStateRequest req;
      req.set_flow_run_id("zzz");
      req.mutable_state()->set_type(weft::v1::RUNNING);
      Grpc("bad grpc SetFlowRunState(id \"zzz\")", B, client_->SetFlowRunState(req));
    });
    add("bad SetFlowRunState long name", 1, [this, &cfg, B] {
      weft::v1::SetFlowRunStateRequest req;
      req.set_flow_run_id(cfg.victim_run);
      req.mutable_state()->set_type(weft::v1::RUNNING);
      req.mutable_state()->set_name(RandomText(rng_, 3000));
      Grpc("bad grpc SetFlowRunState(name 3,000 chars)", B, client_->SetFlowRunState(req));
    });
    add("bad SetFlowRunState details", 1, [this, &cfg, B] {
      weft::v1::SetFlowRunStateRequest req;
      req.set_flow_run_id(cfg.victim_run);
      req.mutable_state()->set_type(weft::v1::RUNNING);
      req.mutable_state()->set_details_json("{bad");
      Grpc("bad grpc SetFlowRunState(details_json \"{bad\")", B, client_->SetFlowRunState(req));
    });
    add("bad CreateFlowRun long flow name", 1, [this, B] {
      weft::v1::CreateFlowRunRequest req;
      req.set_flow_name(RandomText(rng_, 3000));
      auto r = client_->CreateFlowRun(req);
      Grpc("bad grpc CreateFlowRun(flow_name 3,000 chars)", B, r);
    });
    add("bad CreateFlowRun params", 1, [this, B] {
      weft::v1::CreateFlowRunRequest req;
      req.set_flow_name("soak-bad");
      req.set_parameters_json(rng_() % 2 ? "{bad" : "[1,2]");
      auto r = client_->CreateFlowRun(req);
      Grpc("bad grpc CreateFlowRun(parameters_json not an object)", B, r);
    });
    add("bad RunDeployment params", 1, [this, &cfg, B] {
      CreateDeploymentRun("bad grpc RunDeployment(parameters_json \"{bad\")", B, cfg.deployment_ok,
                          "{bad", {});
    });
    add("bad RunDeployment ref", 1, [this, B] {
      CreateDeploymentRun("bad grpc RunDeployment(full_name 100 KiB)", B,
                          std::string(100 * 1024, 'd'), "", {});
    });
    add("bad RunDeployment tag", 1, [this, &cfg, B] {
      if (!sh_.run_gate->Take()) return;  // it may well be accepted: then it is a run
      CreateDeploymentRun("bad grpc RunDeployment(tag 10 KiB)", B, cfg.deployment_ok, "",
                          {RandomText(rng_, 10 * 1024)});
    });
    if (cfg.deep_json) {
      add("bad RunDeployment deep", 0.2, [this, &cfg, B] {
        CreateDeploymentRun("bad grpc RunDeployment(parameters_json nested " +
                                std::to_string(cfg.deep_depth) + " deep)",
                            B, cfg.deployment_ok, Nested(cfg.deep_depth), {});
      });
    }
    add("bad ListFlowRuns", 1, [this, B] {
      weft::v1::ListFlowRunsRequest req;
      req.mutable_page()->set_limit(-5);
      Grpc("bad grpc ListFlowRuns(limit -5)", B, client_->ListFlowRuns(req));
      req.mutable_page()->set_limit(10);
      req.mutable_page()->set_cursor("garbage!!");
      Grpc("bad grpc ListFlowRuns(cursor \"garbage!!\")", B, client_->ListFlowRuns(req));
      weft::v1::ListFlowRunsRequest big;
      big.set_flow_name(std::string(100 * 1024, 'f'));
      Grpc("bad grpc ListFlowRuns(flow_name 100 KiB)", B, client_->ListFlowRuns(big));
      weft::v1::ListFlowRunsRequest dep;
      dep.set_deployment("no/such-deployment");
      Grpc("bad grpc ListFlowRuns(unknown deployment)", B, client_->ListFlowRuns(dep));
    });
    add("bad ListLogs", 1, [this, B] {
      weft::v1::ListLogsRequest req;
      req.set_flow_run_id("bad-uuid");
      Grpc("bad grpc ListLogs(flow_run_id \"bad-uuid\")", B, client_->ListLogs(req));
      weft::v1::ListLogsRequest none;
      Grpc("bad grpc ListLogs(no run)", B, client_->ListLogs(none));
    });
    add("bad WriteLogs", 1, [this, &cfg, B] {
      weft::v1::WriteLogsRequest req;
      req.add_lines()->set_flow_run_id("not-a-uuid");
      req.mutable_lines(0)->set_message("x");
      Grpc("bad grpc WriteLogs(flow_run_id \"not-a-uuid\")", B, client_->WriteLogs(req));
      weft::v1::WriteLogsRequest big;
      auto* l = big.add_lines();
      l->set_flow_run_id(cfg.victim_run);
      l->set_message(std::string(256 * 1024, 'm'));
      l->set_task_run_name(RandomText(rng_, 3000));
      Grpc("bad grpc WriteLogs(message 256 KiB, task name 3,000)", B, client_->WriteLogs(big));
    });
    add("bad GetWorkQueue", 1, [this, B] {
      weft::v1::GetWorkQueueRequest req;
      req.set_name(std::string(100 * 1024, 'q'));
      Grpc("bad grpc GetWorkQueue(name 100 KiB)", B, client_->GetWorkQueue(req));
    });
    add("bad GetDeployment", 1, [this, B] {
      weft::v1::GetDeploymentRequest req;
      req.mutable_ref()->set_id("1234");
      Grpc("bad grpc GetDeployment(id \"1234\")", B, client_->GetDeployment(req));
    });

    // ---- malformed, HTTP ----
    add("bad http run id", 1, [this, B] {
      Get("bad http GET /api/flow-runs/1234-abcd", B, "/api/flow-runs/1234-abcd");
      Get("bad http GET /api/flow-runs/<unknown uuid>", B, "/api/flow-runs/" + RandomUuid(rng_));
      Get("bad http GET /api/flow-runs/1234-abcd/logs", B, "/api/flow-runs/1234-abcd/logs");
    });
    add("bad http query", 1, [this, B] {
      Get("bad http GET /api/flow-runs?state=BOGUS", B, "/api/flow-runs?state=BOGUS");
      Get("bad http GET /api/flow-runs?limit=abc", B, "/api/flow-runs?limit=abc");
      Get("bad http GET /api/flow-runs?limit=-1", B, "/api/flow-runs?limit=-1");
      Get("bad http GET /api/flow-runs?cursor=garbage", B, "/api/flow-runs?cursor=garbage%21");
      Get("bad http GET /api/flow-runs?since=yesterday", B, "/api/flow-runs?since=yesterday");
      Get("bad http GET /api/flow-runs?deployment=no/such", B,
          "/api/flow-runs?deployment=no%2Fsuch");
    });
    add("bad http long", 1, [this, B] {
      Get("bad http GET /api/flow-runs?flow=<3,000 chars>", B,
          "/api/flow-runs?flow=" + RandomText(rng_, 3000));
      Get("bad http GET /api/work-queues/<300 chars>", B,
          "/api/work-queues/" + std::string(300, 'q'));
    });
    add("bad http logs query", 1, [this, B] {
      std::string id = Id();
      if (id.empty()) return;
      Get("bad http GET /api/flow-runs/ID/logs?after_id=abc", B,
          "/api/flow-runs/" + id + "/logs?after_id=abc");
      Get("bad http GET /api/flow-runs/ID/logs?level=LOUD", B,
          "/api/flow-runs/" + id + "/logs?level=LOUD");
    });
    add("bad http run body", 1, [this, &cfg, B] {
      std::string path = "/api/deployments/" + cfg.deployment_id + "/run";
      Post("bad http POST /api/deployments/ID/run (not JSON)", B, path, "not json");
      Post("bad http POST /api/deployments/ID/run (parameters [1])", B, path,
           "{\"parameters\":[1]}");
      Post("bad http POST /api/deployments/ID/run (tags [1])", B, path, "{\"tags\":[1]}");
      Post("bad http POST /api/deployments/ID/run (text/plain)", B, path, "{}", "text/plain");
      Post("bad http POST /api/flow-runs/<unknown>/cancel", B,
           "/api/flow-runs/" + RandomUuid(rng_) + "/cancel", "{}");
    });
    if (cfg.deep_json) {
      add("bad http deep", 0.2, [this, &cfg, B] {
        auto res =
            http_.Post("/api/deployments/" + cfg.deployment_id + "/run",
                       "{\"parameters\":" + Nested(cfg.deep_depth) + "}", "application/json");
        if (res && res->status == 201) {
          auto j = nlohmann::json::parse(res->body, nullptr, false);
          if (j.is_object() && j.contains("flow_run")) {
            sh_.runs.Add(j["flow_run"].value("id", std::string()), "deployment");
          }
        }
        Http("bad http POST /api/deployments/ID/run (parameters nested " +
                 std::to_string(cfg.deep_depth) + " deep)",
             B, res);
      });
    }

    // ---- slow streams ----
    add("slow upload", 1, [this] { SlowUpload(); });
    add("follow grpc", 1, [this] { FollowGrpc(); });
    add("follow http", 1, [this] { FollowHttp(); });
  }

  Shared& sh_;
  int index_;
  std::mt19937_64 rng_;
  std::unique_ptr<Conn> client_;
  httplib::Client http_;
  std::vector<Op> ops_;
};

struct RssSample {
  double t;
  long kib;
  long metrics_bytes;  // size of the /metrics answer (-1: no answer)
};

std::string Mib(long kib) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(kib) / 1024.0);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"bench_soak: a bounded soak of weft-server (valid, malformed and slow calls)"};
  double minutes = 3;
  int seconds = 0, clients = 16, agents = 2, agent_limit = 4, slow_uploads = 2, follows = 4;
  int drain_seconds = 90, rss_every = 5;
  bool keep = false, no_deep_json = false, messages = false;
  Config cfg;
  std::string database_url;
  if (const char* u = std::getenv("WEFT_TEST_DATABASE_URL")) database_url = u;
  cli.add_option("--minutes", minutes, "length of the load")->capture_default_str();
  cli.add_option("--seconds", seconds, "length of the load in seconds (overrides --minutes)");
  cli.add_option("--clients", clients, "concurrent clients")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--agents", agents, "weft-agent processes")->capture_default_str();
  cli.add_option("--agent-limit", agent_limit, "--limit of each agent")->capture_default_str();
  cli.add_option("--runs-per-second", cfg.runs_per_second, "deployment runs created per second")
      ->capture_default_str();
  cli.add_option("--slow-uploads", slow_uploads, "stalled UploadBundle streams at once")
      ->capture_default_str();
  cli.add_option("--stall-seconds", cfg.stall_seconds, "a stalled upload waits 0.5-1x this")
      ->capture_default_str();
  cli.add_option("--follows", follows, "log-follow loops at once")->capture_default_str();
  cli.add_option("--drain-seconds", drain_seconds, "time for runs to finish after the load")
      ->capture_default_str();
  cli.add_option("--rss-every", rss_every, "seconds between RSS samples")->capture_default_str();
  cli.add_option("--think-ms", cfg.think_ms, "pause of a client between calls")
      ->capture_default_str();
  cli.add_option("--deep-depth", cfg.deep_depth, "nesting of the deep JSON parameters")
      ->capture_default_str();
  cli.add_flag("--no-deep-json", no_deep_json,
               "leave out the deeply nested JSON parameters (they crash servers without a depth "
               "limit)");
  cli.add_option(
      "--skip", cfg.skip,
      "leave out the calls whose name contains this (repeatable; e.g. \"bad\", \"bad http\", "
      "\"slow\", \"follow\")");
  cli.add_flag("--messages", messages, "print the first error message of each kind and outcome");
  cli.add_flag("--shared-connection", cfg.shared_connection,
               "all clients on one gRPC connection (gRPC's default within a process)");
  cli.add_flag("--keep", keep, "keep the work directory (logs) even when all went well");
  cli.add_option("--database-url", database_url, "default: $WEFT_TEST_DATABASE_URL");
  CLI11_PARSE(cli, argc, argv);
  cfg.deep_json = !no_deep_json;
  if (database_url.empty()) Die("no database: run under scripts/with_pg.sh or pass --database-url");
  double load_seconds = seconds > 0 ? seconds : minutes * 60;
  if (load_seconds <= 0) Die("--minutes/--seconds: must be positive");
  rss_every = std::max(rss_every, 1);

  std::string work = fs::temp_directory_path() / ("weft-bench-soak-" + std::to_string(getpid()));
  std::string project = work + "/project";
  fs::create_directories(project);
  {
    std::ofstream f(project + "/flow.sh");
    f << "#!/bin/sh\n"
         "echo \"soak run $WEFT_FLOW_RUN_ID\"\n"
         "echo \"a second line\" >&2\n"
         "exit \"${SOAK_EXIT:-0}\"\n";
  }
  fs::permissions(project + "/flow.sh", fs::perms::owner_all | fs::perms::group_read |
                                            fs::perms::group_exec | fs::perms::others_read |
                                            fs::perms::others_exec);

  cfg.api = "127.0.0.1:" + std::to_string(FreePort());
  std::string http_address = "127.0.0.1:" + std::to_string(FreePort());
  cfg.http = "http://" + http_address;
  Proc server(
      {WEFT_SERVER_BIN, "--grpc-address", cfg.api, "--http-address", http_address, "--database-url",
       database_url, "--admin-key-file", work + "/admin.key", "--log-level", "warning"},
      work + "/server.log");
  if (!server.WaitFor("weft-server ready", 60)) Die("weft-server did not start:\n" + server.Log());
  cfg.admin_key = ReadAll(work + "/admin.key");
  while (!cfg.admin_key.empty() && cfg.admin_key.back() == '\n') cfg.admin_key.pop_back();
  setenv("WEFT_API_KEY", cfg.admin_key.c_str(), 1);

  std::string cli_log = work + "/cli.log";
  Weft(cfg.api,
       {"storage", "create", "local", "--name", "soak", "--path", work + "/store", "--default"},
       project, cli_log);
  {
    std::ofstream y(project + "/deploy.yaml");
    y << "deployments:\n"
         "  - name: ok\n    flow_name: soak\n    entrypoint: ./flow.sh\n"
         "    include: [flow.sh]\n    work_queue: soak\n"
         "    runner: {type: process, env: {SOAK_EXIT: \"0\"}}\n"
         "  - name: fails\n    flow_name: soak\n    entrypoint: ./flow.sh\n"
         "    include: [flow.sh]\n    work_queue: soak\n"
         "    runner: {type: process, env: {SOAK_EXIT: \"3\"}}\n";
  }
  Weft(cfg.api, {"deployment", "create", "deploy.yaml"}, project, cli_log);
  Weft(cfg.api, {"work-queue", "create", "soak"}, project, cli_log);
  cfg.deployment_ok = "soak/ok";
  cfg.deployment_fails = "soak/fails";

  weft::client::ClientOptions co;
  co.address = cfg.api;
  co.api_key = cfg.admin_key;
  weft::client::Client client(co);
  {
    weft::v1::GetDeploymentRequest req;
    req.mutable_ref()->set_full_name(cfg.deployment_ok);
    auto r = client.GetDeployment(req);
    if (!r) Die("GetDeployment: " + r.error().message);
    cfg.deployment_id = r->deployment().id();
    weft::v1::CreateFlowRunRequest victim;
    victim.set_flow_name("soak-victim");
    auto v = client.CreateFlowRun(victim);
    if (!v) Die("CreateFlowRun: " + v.error().message);
    cfg.victim_run = v->flow_run().id();
    weft::v1::SetFlowRunStateRequest running;
    running.set_flow_run_id(cfg.victim_run);
    running.mutable_state()->set_type(weft::v1::RUNNING);
    (void)client.SetFlowRunState(running);
  }

  std::vector<std::unique_ptr<Proc>> agent_procs;
  for (int i = 0; i < agents; ++i) {
    std::string n = "soak" + std::to_string(i);
    agent_procs.push_back(std::make_unique<Proc>(
        std::vector<std::string>{WEFT_AGENT_BIN, "-q", "soak", "--name", n, "--limit",
                                 std::to_string(agent_limit), "--work-dir", work + "/runs-" + n,
                                 "--cache-dir", work + "/cache-" + n, "--log-level", "warning"},
        work + "/agent-" + n + ".log", std::vector<std::string>{"WEFT_API_URL=" + cfg.api}));
    if (!agent_procs.back()->WaitFor("weft-agent ready", 30)) {
      Die("weft-agent did not start:\n" + agent_procs.back()->Log());
    }
  }

  std::printf(
      "bench_soak: %.0f s of load, %d clients, %d agents (--limit %d), <= %.1f deployment "
      "runs/s, <= %d stalled uploads (%d s), <= %d log follows, deep JSON %s\n"
      "  server %s (pid %d), http %s, work dir %s\n",
      load_seconds, clients, agents, agent_limit, cfg.runs_per_second, slow_uploads,
      cfg.stall_seconds, follows, cfg.deep_json ? "on" : "off (--no-deep-json)", cfg.api.c_str(),
      static_cast<int>(server.pid()), cfg.http.c_str(), work.c_str());
  std::fflush(stdout);

  Shared sh;
  sh.cfg = cfg;
  sh.current.resize(static_cast<std::size_t>(clients));
  sh.upload_slots = std::make_unique<Slots>(slow_uploads);
  sh.follow_slots = std::make_unique<Slots>(follows);
  pid_t server_pid = server.pid();
  std::vector<RssSample> rss;
  httplib::Client metrics_client(cfg.http);
  metrics_client.set_bearer_token_auth(cfg.admin_key);
  metrics_client.set_read_timeout(3);
  auto metrics_bytes = [&]() -> long {
    auto res = metrics_client.Get("/metrics");
    return res && res->status == 200 ? static_cast<long>(res->body.size()) : -1;
  };
  auto sample = [&](double t) { return RssSample{t, RssKiB(server_pid), metrics_bytes()}; };
  rss.push_back(sample(0));
  auto t0 = Clock::now();
  sh.run_gate = std::make_unique<RateGate>(cfg.runs_per_second, t0);

  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&sh, i] {
      Worker w(sh, i);
      w.Run();
    });
  }
  // The monitor: server alive (every 100 ms), RSS (every --rss-every s).
  std::string death;
  std::vector<std::string> in_flight_at_death;
  double death_at = 0;
  double next_rss = rss_every;
  while (Since(t0) < load_seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!server.Alive()) {
      sh.server_dead = true;
      death_at = Since(t0);
      death = server.how();
      break;
    }
    if (Since(t0) >= next_rss) {
      rss.push_back(sample(Since(t0)));
      next_rss += rss_every;
    }
  }
  sh.stop = true;
  double load_s = Since(t0);
  for (auto& t : threads) t.join();
  in_flight_at_death = sh.lost_under;
  if (death.empty()) rss.push_back(sample(Since(t0)));

  // Drain: every run created must reach a final state.
  auto created = sh.runs.Created();
  std::map<std::string, std::string> final_state;  // id -> state type name
  double drain_s = 0;
  if (death.empty()) {
    auto d0 = Clock::now();
    std::set<std::string> open;
    for (const auto& [id, origin] : created) open.insert(id);
    while (!open.empty()) {
      for (auto it = open.begin(); it != open.end();) {
        weft::v1::GetFlowRunRequest req;
        req.set_id(*it);
        auto r = client.GetFlowRun(req);
        if (r && IsFinal(r->flow_run().state().type())) {
          final_state[*it] = weft::v1::StateType_Name(r->flow_run().state().type());
          it = open.erase(it);
        } else {
          ++it;
        }
      }
      if (open.empty() || Since(d0) > drain_seconds || !server.Alive()) break;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    drain_s = Since(d0);
    if (!server.Alive()) death = server.how();
    rss.push_back(sample(Since(t0)));
  }

  // ---- report ----
  auto kinds = sh.tally.Snapshot();
  long total = 0;
  for (const auto& [name, k] : kinds) total += k.calls;
  std::printf("\nrequests: %ld in %.1f s (%.1f/s)\n", total, load_s,
              static_cast<double>(total) / load_s);
  std::printf("  %-5s %-62s %8s %8s  outcomes\n", "", "kind", "calls", "per s");
  for (Cat cat : {Cat::kValid, Cat::kMalformed, Cat::kSlow}) {
    for (const auto& [name, k] : kinds) {
      if (k.cat != cat) continue;
      std::string out;
      for (const auto& [o, n] : k.outcomes) out += o + " " + std::to_string(n) + "  ";
      std::printf("  %-5s %-62s %8ld %8.2f  %s\n", CatName(cat), name.c_str(), k.calls,
                  static_cast<double>(k.calls) / load_s, out.c_str());
    }
  }
  // Findings: server faults for malformed input, errors on valid calls.
  std::vector<std::string> faults, unexpected;
  for (const auto& [name, k] : kinds) {
    for (const auto& [o, n] : k.outcomes) {
      std::string sample = k.samples.count(o) ? k.samples.at(o) : "";
      std::string line = name + ": " + o + " x" + std::to_string(n) +
                         (sample.empty() ? "" : " (\"" + sample + "\")");
      if (ServerFault(o) && k.cat != Cat::kValid) faults.push_back(line);
      // A lost connection while the server is up is an error too (e.g. an HTTP client that
      // waited for one of the server's threads longer than its read timeout).
      if (k.cat != Cat::kMalformed && !Success(o) && (death.empty() || !ConnectionLost(o))) {
        unexpected.push_back(line);
      }
      if (k.cat == Cat::kValid && ServerFault(o)) faults.push_back(line);
    }
  }
  if (messages) {
    std::printf("\nfirst message per kind and outcome:\n");
    for (const auto& [name, k] : kinds) {
      for (const auto& [o, m] : k.samples) {
        std::string one = m.substr(0, 150);
        for (auto& ch : one) {
          if (ch == '\n' || ch == '\r') ch = ' ';
        }
        std::printf("  %s: %s: %s\n", name.c_str(), o.c_str(), one.c_str());
      }
    }
  }
  if (!faults.empty()) {
    std::printf("\nserver faults (INTERNAL/UNKNOWN/5xx):\n");
    for (const auto& f : faults) std::printf("  %s\n", f.c_str());
  }
  if (!unexpected.empty()) {
    std::printf("\nerrors on valid calls and slow streams:\n");
    for (const auto& f : unexpected) std::printf("  %s\n", f.c_str());
  }

  std::map<std::string, long> by_origin, finished_by_state;
  long lost = 0;
  std::vector<std::string> lost_ids;
  for (const auto& [id, origin] : created) {
    ++by_origin[origin];
    auto it = final_state.find(id);
    if (it != final_state.end()) {
      ++finished_by_state[it->second];
    } else {
      ++lost;
      if (lost_ids.size() < 5) lost_ids.push_back(id + " (" + origin + ")");
    }
  }
  std::printf("\nruns: created %zu (", created.size());
  for (const auto& [o, n] : by_origin) std::printf(" %s %ld", o.c_str(), n);
  std::printf(" ); finished %zu (", final_state.size());
  for (const auto& [s, n] : finished_by_state) std::printf(" %s %ld", s.c_str(), n);
  std::printf(" ) after a drain of %.1f s; not final: %ld\n", drain_s, lost);
  if (sh.runs.abandoned() > 0) {
    std::printf(
        "  client runs left unfinished by a failed call of the soak itself (not counted): "
        "%ld\n",
        sh.runs.abandoned());
  }
  if (death.empty()) {
    for (const auto& id : lost_ids) std::printf("  not final: %s\n", id.c_str());
  }

  std::printf("\nserver RSS (VmRSS of pid %d) and the size of its /metrics:\n  %8s %10s %14s\n",
              static_cast<int>(server_pid), "t (s)", "RSS (MiB)", "/metrics (KiB)");
  std::size_t step = std::max<std::size_t>(1, (rss.size() + 19) / 20);
  for (std::size_t i = 0; i < rss.size(); ++i) {
    if (i % step != 0 && i + 1 != rss.size()) continue;
    if (rss[i].kib < 0) continue;
    char metrics[32] = "no answer";
    if (rss[i].metrics_bytes >= 0) {
      std::snprintf(metrics, sizeof metrics, "%.1f",
                    static_cast<double>(rss[i].metrics_bytes) / 1024.0);
    }
    std::printf("  %8.0f %10s %14s%s\n", rss[i].t, Mib(rss[i].kib).c_str(), metrics,
                rss[i].t > load_s + 0.5 ? "  (after the drain)" : "");
  }
  // Growth over the second half of the load: the sample nearest the middle vs. the last one
  // taken under load.
  long mid = -1, last = -1, peak = 0;
  for (const auto& s : rss) {
    if (s.kib < 0 || s.t > load_s + 0.5) continue;
    if (s.t <= load_s / 2 || mid < 0) mid = s.kib;
    last = s.kib;
    peak = std::max(peak, s.kib);
  }
  double growth_pct =
      mid > 0 ? 100.0 * static_cast<double>(last - mid) / static_cast<double>(mid) : 0;
  bool levels_off = mid > 0 && growth_pct <= 10.0;

  // Agents still up?
  std::vector<std::string> dead_agents;
  for (std::size_t i = 0; i < agent_procs.size(); ++i) {
    if (!agent_procs[i]->Alive()) {
      dead_agents.push_back("agent soak" + std::to_string(i) + " " + agent_procs[i]->how());
    }
  }

  std::printf("\n");
  if (!death.empty()) {
    std::printf(
        "server DIED at t=%.1f s: %s; one of the calls in flight then did it "
        "(--skip narrows it down):\n",
        death_at, death.c_str());
    std::map<std::string, int> seen;
    for (const auto& c : in_flight_at_death) ++seen[c];
    for (const auto& [c, n] : seen)
      std::printf("  %s%s\n", c.c_str(), n > 1 ? (" x" + std::to_string(n)).c_str() : "");
    std::string log = server.Log();
    auto from = log.size() > 2000 ? log.size() - 2000 : 0;
    std::printf("server log (tail):\n%s\n", log.substr(from).c_str());
  }
  for (const auto& a : dead_agents) std::printf("%s\n", a.c_str());
  std::printf(
      "verdict: lost runs %s of %zu; server %s; INTERNAL/5xx for malformed input: %s; RSS "
      "second half %s -> %s MiB (%+.1f%%, peak %s MiB): %s\n",
      death.empty() ? std::to_string(lost).c_str() : "unknown", created.size(),
      death.empty() ? "alive" : ("died (" + death + ")").c_str(),
      faults.empty() ? "none" : (std::to_string(faults.size()) + " kinds").c_str(),
      Mib(mid).c_str(), Mib(last).c_str(), growth_pct, Mib(peak).c_str(),
      !death.empty() ? "n/a (server died)"
      : levels_off   ? "levels off"
                     : "GROWS");
  std::fflush(stdout);

  bool failed = lost > 0 || !death.empty() || !dead_agents.empty() || !faults.empty();
  agent_procs.clear();
  server.Stop();
  if (failed || keep) {
    std::printf("logs kept in %s\n", work.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(work, ec);
  }
  return failed ? 1 : 0;
}
