// bench_map: the overhead of task.Map over N trivial elements.
//
//   scripts/with_pg.sh build/release/bench/map/bench_map [--elements 10000] [--runs 3]
//       [--workers 0] [--mode both|ephemeral|server] [--tagged]
//
// Starts a weft-server on the database in WEFT_TEST_DATABASE_URL (or --database-url URL),
// then runs a flow whose body maps a trivial task over N elements and reads every result,
// in ephemeral mode and against the server. Per element = weft::Run end to end (flow run
// created, N task runs submitted, run and reported, final flush, final state) / N. Prints
// the figures; asserts nothing. --tagged gives the task a tag (no limit on it), which sends
// every task run through the SDK's synchronous path (creation and each state as RPCs, as
// for tasks a concurrency limit or a cache key concerns) instead of the batched reports.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sdk/flow/weft.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bench_map: %s\n", message.c_str());
  std::exit(1);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("bind failed");
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

// weft-server as a child process, its output in a log file.
class Server {
 public:
  Server(const std::string& api, const std::string& database_url, const std::string& log)
      : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(WEFT_SERVER_BIN, WEFT_SERVER_BIN, "--grpc-address", api.c_str(), "--http-address",
            "127.0.0.1:0", "--database-url", database_url.c_str(), "--log-level", "warning",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (ReadAll(log_).find("weft-server ready") == std::string::npos) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_ || Clock::now() > deadline) {
        Die("weft-server did not start:\n" + ReadAll(log_));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~Server() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

 private:
  pid_t pid_ = -1;
  std::string log_;
};

struct Figures {
  bool ok = false;
  std::string note;
  double submit_ms = 0;   // Map: every run submitted (futures returned)
  double results_ms = 0;  // Map + every Result()
  double flush_ms = 0;    // the final flush of task-run reports
  double total_ms = 0;    // weft::Run end to end
};

Figures RunOnce(weft::RunOptions::Mode mode, int n, int workers, bool tagged) {
  weft::TaskOptions options_of_task;
  if (tagged) options_of_task.tags = {"bench"};
  auto trivial = weft::task("trivial", [](int x) { return x + 1; }, options_of_task);
  std::vector<int> items(static_cast<size_t>(n));
  std::iota(items.begin(), items.end(), 0);
  double submit_ms = 0, results_ms = 0;
  long long checksum = 0;
  auto flow = weft::flow(
      "bench_map",
      [&] {
        auto t0 = Clock::now();
        auto futures = trivial.Map(items);
        submit_ms = Ms(Clock::now() - t0);
        for (auto& f : futures) checksum += f.Result();
        results_ms = Ms(Clock::now() - t0);
      },
      weft::FlowOptions{.task_runner = weft::ConcurrentTaskRunner{.max_workers = workers}});
  weft::RunOptions options;
  options.mode = mode;
  auto t0 = Clock::now();
  weft::FlowRunResult r = weft::Run(flow, options);
  Figures f;
  f.total_ms = Ms(Clock::now() - t0);
  f.submit_ms = submit_ms;
  f.results_ms = results_ms;
  f.flush_ms = r.flush_seconds * 1000;
  f.ok = r.exit_code == 0 && checksum == static_cast<long long>(n) * (n + 1) / 2 &&
         r.reports_dropped == 0;
  if (!f.ok) f.note = r.error.empty() ? "flow did not complete" : r.error;
  return f;
}

void Print(const char* label, int n, const Figures& f) {
  std::printf(
      "%-10s n=%-6d total=%8.1f ms  per element=%6.3f ms  (submit %7.1f ms, results %7.1f ms, "
      "flush %6.1f ms)%s%s\n",
      label, n, f.total_ms, f.total_ms / n, f.submit_ms, f.results_ms, f.flush_ms,
      f.ok ? "" : "  FAILED: ", f.note.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 10000, runs = 3, workers = 0;
  std::string mode = "both";
  bool tagged = false;
  std::string database_url;
  if (const char* u = std::getenv("WEFT_TEST_DATABASE_URL")) database_url = u;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] {
      if (i + 1 >= argc) Die("missing value for " + a);
      return std::string(argv[++i]);
    };
    if (a == "--elements" || a == "-n") {
      n = std::atoi(next().c_str());
    } else if (a == "--runs") {
      runs = std::atoi(next().c_str());
    } else if (a == "--workers") {
      workers = std::atoi(next().c_str());
    } else if (a == "--mode") {
      mode = next();
    } else if (a == "--tagged") {
      tagged = true;
    } else if (a == "--database-url") {
      database_url = next();
    } else {
      std::fprintf(stderr,
                   "usage: bench_map [--elements N] [--runs R] [--workers W] "
                   "[--mode both|ephemeral|server] [--tagged] [--database-url URL]\n");
      return 2;
    }
  }
  if (n <= 0 || runs <= 0 || workers < 0 ||
      (mode != "both" && mode != "ephemeral" && mode != "server")) {
    Die("--elements and --runs must be > 0, --workers >= 0, --mode both|ephemeral|server");
  }
  weft::SetLogLevel(weft::LogLevel::kWarning);
  std::printf("bench_map: Map over %d trivial%s elements, %u hardware threads, workers=%d\n", n,
              tagged ? " tagged" : "", std::thread::hardware_concurrency(), workers);
  if (mode != "server") {
    for (int r = 0; r < runs; ++r) Print("ephemeral", n, RunOnce(weft::RunOptions::Mode::kEphemeral, n, workers, tagged));
  }
  if (mode != "ephemeral") {
    if (database_url.empty()) Die("no database: run under scripts/with_pg.sh or pass --database-url");
    std::string api = "127.0.0.1:" + std::to_string(FreePort());
    std::string log = "/tmp/bench_map_server_" + std::to_string(getpid()) + ".log";
    Server server(api, database_url, log);
    setenv("WEFT_API_URL", api.c_str(), 1);
    for (int r = 0; r < runs; ++r) Print("server", n, RunOnce(weft::RunOptions::Mode::kServer, n, workers, tagged));
  }
  return 0;
}
