#include "agent/runners/process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "agent/runners/flow_env.hpp"

extern char** environ;

namespace weft::agent {

namespace fs = std::filesystem;

std::string SignalName(int sig) {
  if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return fmt::format("SIG{}", sig);
}

EnvList CurrentEnvironment() {
  EnvList env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

EnvList MergeEnv(EnvList base, const EnvList& over) {
  for (const auto& [k, v] : over) {
    bool found = false;
    for (auto& [bk, bv] : base) {
      if (bk == k) {
        bv = v;
        found = true;
      }
    }
    if (!found) base.emplace_back(k, v);
  }
  return base;
}

std::string ShellQuote(std::string_view word) {
  if (word.empty()) return "''";
  bool plain = true;
  for (char c : word) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::strchr("-_./:=,@%+", c) != nullptr;
    if (!ok) plain = false;
  }
  if (plain) return std::string(word);
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string ShellJoin(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += ShellQuote(a);
  }
  return out;
}

std::string FindOnPath(const std::string& name) {
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t colon = p.find(':', start);
    if (colon == std::string::npos) colon = p.size();
    std::string dir = p.substr(start, colon - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    std::error_code ec;
    if (access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate, ec)) return candidate;
    start = colon + 1;
  }
  return "";
}

core::Result<std::vector<std::string>> ProcessArgv(const RunSpec& spec,
                                                   const std::string& run_dir) {
  if (spec.entrypoint.empty() || spec.entrypoint[0].empty()) {
    return core::InvalidArgument("runner process: the deployment's entrypoint is empty");
  }
  std::vector<std::string> argv = spec.entrypoint;
  const std::string& entry = spec.entrypoint[0];
  if (entry[0] != '/') {
    fs::path candidate = (fs::path(run_dir) / entry).lexically_normal();
    std::error_code ec;
    if (fs::exists(candidate, ec) && !fs::is_directory(candidate, ec)) {
      argv[0] = candidate.string();
    } else if (entry.find('/') == std::string::npos) {
      std::string found = FindOnPath(entry);
      if (found.empty()) {
        return core::FailedPrecondition(fmt::format(
            "runner process: entrypoint \"{}\" is neither in the bundle nor on PATH", entry));
      }
      argv[0] = found;
    } else {
      return core::FailedPrecondition(
          fmt::format("runner process: entrypoint \"{}\" is not in the bundle", entry));
    }
  }
  return argv;
}

namespace {

int OpenPidFd(pid_t pid) {
#ifdef SYS_pidfd_open
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    return static_cast<int>(fd);
  }
#endif
  (void)pid;
  return -1;
}

ExitStatus FromWaitStatus(int st) {
  ExitStatus e;
  if (WIFSIGNALED(st)) {
    e.signaled = true;
    e.signal = WTERMSIG(st);
  } else if (WIFEXITED(st)) {
    e.code = WEXITSTATUS(st);
  }
  return e;
}

class ProcessHandle final : public RunHandle {
 public:
  ProcessHandle(pid_t pid, int out_fd, int log_fd, LineSink sink)
      : pid_(pid),
        pidfd_(OpenPidFd(pid)),
        out_fd_(out_fd),
        log_fd_(log_fd),
        sink_(std::move(sink)) {
    reader_ = std::thread([this] { ReadOutput(); });
  }

  ~ProcessHandle() override {
    {
      std::lock_guard lock(mu_);
      if (!reaped_) {
        kill(-pid_, SIGKILL);
        int st = 0;
        while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
        reaped_ = true;
      }
    }
    FinishReader(0.5);
    if (pidfd_ >= 0) close(pidfd_);
    if (out_fd_ >= 0) close(out_fd_);
    if (log_fd_ >= 0) close(log_fd_);
  }

  std::optional<ExitStatus> Wait(double seconds) override {
    std::unique_lock lock(mu_);
    if (reaped_) return status_;
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::microseconds(static_cast<long long>(std::max(0.0, seconds) * 1e6));
    for (;;) {
      int st = 0;
      pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        status_ = FromWaitStatus(st);
        // Leftovers of the run's process group (background children) go with it.
        kill(-pid_, SIGKILL);
        lock.unlock();
        FinishReader(2.0);
        return status_;
      }
      if (r < 0 && errno != EINTR) {
        reaped_ = true;
        status_ = ExitStatus{true, 0, SIGKILL};
        return status_;
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return std::nullopt;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      if (pidfd_ >= 0) {
        pollfd p{pidfd_, POLLIN, 0};
        poll(&p, 1, static_cast<int>(std::max<long long>(1, left)));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(left + 1, 10)));
      }
    }
  }

  void Signal(int sig) override {
    std::lock_guard lock(mu_);
    if (!reaped_) kill(-pid_, sig);
  }

  int pid() const override { return pid_; }

 private:
  void ReadOutput() {
    std::string partial;
    char buf[8192];
    auto emit = [&](std::string_view line) {
      if (sink_) sink_(line);
    };
    for (;;) {
      if (stop_reader_) break;
      pollfd p{out_fd_, POLLIN, 0};
      int pr = poll(&p, 1, 100);
      if (pr < 0 && errno == EINTR) continue;
      if (pr == 0) continue;
      ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) break;
      if (log_fd_ >= 0) {
        ssize_t off = 0;
        while (off < n) {
          ssize_t w = write(log_fd_, buf + off, static_cast<std::size_t>(n - off));
          if (w <= 0) break;
          off += w;
        }
      }
      partial.append(buf, static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
        emit(std::string_view(partial).substr(start, nl - start));
      }
      partial.erase(0, start);
      if (partial.size() > 64 * 1024) {
        emit(partial);
        partial.clear();
      }
    }
    if (!partial.empty()) emit(partial);
    {
      std::lock_guard lock(reader_mu_);
      reader_done_ = true;
    }
    reader_cv_.notify_all();
  }

  // Lets the reader drain what is left (up to `seconds`), then stops and joins it.
  void FinishReader(double seconds) {
    if (!reader_.joinable()) return;
    {
      std::unique_lock lock(reader_mu_);
      reader_cv_.wait_for(lock, std::chrono::milliseconds(static_cast<long>(seconds * 1000)),
                          [&] { return reader_done_; });
    }
    stop_reader_ = true;
    reader_.join();
  }

  pid_t pid_;
  int pidfd_;
  int out_fd_;
  int log_fd_;
  LineSink sink_;
  std::mutex mu_;
  bool reaped_ = false;
  ExitStatus status_;
  std::thread reader_;
  std::atomic<bool> stop_reader_{false};
  std::mutex reader_mu_;
  std::condition_variable reader_cv_;
  bool reader_done_ = false;
};

}  // namespace

core::Result<std::unique_ptr<RunHandle>> Spawn(const SpawnRequest& req) {
  if (req.argv.empty() || req.argv[0].empty()) return core::InvalidArgument("spawn: empty argv");
  std::string path = req.argv[0];
  if (path.find('/') == std::string::npos) {
    path = FindOnPath(path);
    if (path.empty()) {
      return core::FailedPrecondition(fmt::format("\"{}\" not found on PATH", req.argv[0]));
    }
  }
  std::vector<std::string> env_strings;
  env_strings.reserve(req.env.size());
  for (const auto& [k, v] : req.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv_c;
  for (const auto& a : req.argv) argv_c.push_back(const_cast<char*>(a.c_str()));
  argv_c.push_back(nullptr);
  std::vector<char*> env_c;
  for (auto& e : env_strings) env_c.push_back(e.data());
  env_c.push_back(nullptr);

  int log_fd = -1;
  if (!req.log_path.empty()) {
    log_fd = open(req.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      return core::Internal(
          fmt::format("cannot open \"{}\": {}", req.log_path, std::strerror(errno)));
    }
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    if (log_fd >= 0) close(log_fd);
    return core::Internal(fmt::format("pipe: {}", std::strerror(errno)));
  }
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

  // posix_spawn (vfork-style in glibc: no copy of the agent's address space) with a new
  // session (its own process group), default signal handling and an empty signal mask (the
  // agent's are not the flow's), stdin from /dev/null, stdout+stderr into the pipe, cwd.
  // glibc reports chdir and exec failures as its return value.
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (devnull >= 0) posix_spawn_file_actions_adddup2(&fa, devnull, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  if (!req.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, req.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path.c_str(), &fa, &attr, argv_c.data(), env_c.data());
  // ETXTBSY: a child spawned at the same moment by another run's thread may still hold, until
  // its exec, a copy of the write descriptor this run's unpack just closed. It is gone within
  // microseconds; try again.
  for (int attempt = 0; rc == ETXTBSY && attempt < 20; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1 << attempt, 50)));
    rc = posix_spawn(&pid, path.c_str(), &fa, &attr, argv_c.data(), env_c.data());
  }
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  if (devnull >= 0) close(devnull);
  if (rc != 0) {
    close(out[0]);
    if (log_fd >= 0) close(log_fd);
    if (!req.cwd.empty() && access(req.cwd.c_str(), X_OK) != 0) {
      return core::Internal(fmt::format("cannot enter \"{}\": {}", req.cwd, std::strerror(rc)));
    }
    return core::FailedPrecondition(
        fmt::format("cannot start \"{}\": {}", req.argv[0], std::strerror(rc)));
  }
  return std::unique_ptr<RunHandle>(std::make_unique<ProcessHandle>(pid, out[0], log_fd, req.sink));
}

core::Result<std::unique_ptr<RunHandle>> ProcessRunner::Start(const RunSpec& spec,
                                                              const std::string& run_dir,
                                                              LineSink sink) {
  auto argv = ProcessArgv(spec, run_dir);
  if (!argv) return argv.error();
  SpawnRequest req;
  req.argv = std::move(*argv);
  req.env = FlowProcessEnvironment(CurrentEnvironment(), spec);
  req.cwd = run_dir;
  req.log_path = run_dir + "/output.log";
  req.sink = std::move(sink);
  auto h = Spawn(req);
  if (!h) return core::Error{h.error().code, "runner process: " + h.error().message};
  return h;
}

std::string ProcessRunner::Describe(const RunSpec& spec, const std::string& run_dir) const {
  std::string env;
  for (const auto& [k, v] : MergeEnv(spec.passed_env, spec.env)) {
    env += (env.empty() ? "" : ", ") + k;
  }
  return fmt::format(
      "runner: process\n"
      "cwd: {}\n"
      "argv: {}\n"
      "env: the agent's PATH, HOME, USER, LOGNAME, SHELL, LANG, LC_*, TZ, TMPDIR + {}\n"
      "output: {}/output.log\n",
      run_dir, ShellJoin(spec.entrypoint), env, run_dir);
}

}  // namespace weft::agent
