#include "tests/e2e/support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef WEFT_SERVER_BIN
#define WEFT_SERVER_BIN "weft-server"
#endif

extern char** environ;

namespace weft::e2e {

namespace {

std::vector<std::string> MergedEnv(const Env& overrides) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : overrides) {
    if (v == "<unset>") {
      env.erase(k);
    } else {
      env[k] = v;
    }
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

pid_t Spawn(const std::vector<std::string>& argv, const Env& env, const std::string& out_path,
            const std::string& err_path, const std::string& cwd) {
  auto env_strings = MergedEnv(env);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = err_path == out_path ? out : open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    execve(argp[0], argp.data(), envp.data());
    std::fprintf(stderr, "exec %s failed: %s\n", argp[0], std::strerror(errno));
    _exit(127);
  }
  return pid;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::atomic<int> counter{0};

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Getenv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

RunResult Run(const std::vector<std::string>& argv, const Env& env, double timeout_seconds,
              const std::string& cwd) {
  std::string dir = TempDir("run");
  std::string out = dir + "/out", err = dir + "/err";
  pid_t pid = Spawn(argv, env, out, err, cwd);
  RunResult r;
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<long>(timeout_seconds * 1000));
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.exit_code = DecodeStatus(status);
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return r;
}

Background::Background(std::vector<std::string> argv, Env env, std::string log_path)
    : log_path_(std::move(log_path)) {
  pid_ = Spawn(argv, env, log_path_, log_path_, "");
}

Background::~Background() {
  if (Running()) Stop(5);
}

bool Background::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t w = waitpid(pid_, &status, WNOHANG);
  if (w == pid_) {
    status_ = DecodeStatus(status);
    pid_ = -1;
    return false;
  }
  return true;
}

std::string Background::Log() const { return ReadFile(log_path_); }

bool Background::WaitForLog(const std::string& text, double timeout_seconds) {
  return Eventually([&] { return Log().find(text) != std::string::npos || !Running(); },
                    timeout_seconds) &&
         Log().find(text) != std::string::npos;
}

int Background::Stop(double grace_seconds) {
  if (!Running()) return status_;
  kill(pid_, SIGTERM);
  if (!Eventually([&] { return !Running(); }, grace_seconds)) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    status_ = DecodeStatus(status);
    pid_ = -1;
  }
  return status_;
}

int Background::Kill() {
  if (!Running()) return status_;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  status_ = DecodeStatus(status);
  pid_ = -1;
  return status_;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/weft-e2e-" + prefix + ".XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  chmod(buf.data(), 0755);
  return buf.data();
}

std::string FreshDatabase(const std::string& hint) {
  std::string base = Getenv("WEFT_TEST_DATABASE_URL");
  if (base.empty()) {
    throw std::runtime_error(
        "WEFT_TEST_DATABASE_URL is not set: run the e2e tests through scripts/with_pg.sh "
        "(scripts/test.sh does)");
  }
  std::string name = "weft_e2e_" + hint + "_" + std::to_string(getpid()) + "_" +
                     std::to_string(counter++);
  RunResult r = Run({"/usr/bin/psql", base, "-v", "ON_ERROR_STOP=1", "-q", "-c",
                     "CREATE DATABASE " + name});
  if (r.exit_code != 0) throw std::runtime_error("CREATE DATABASE failed: " + r.err);
  auto slash = base.rfind('/');
  return base.substr(0, slash + 1) + name;
}

bool Eventually(const std::function<bool()>& condition, double timeout_seconds,
                double interval_seconds) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<long>(timeout_seconds * 1000));
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(static_cast<long>(interval_seconds * 1000)));
  }
}

std::vector<std::string> Server::Argv(const std::string& url, const std::string& home,
                                      const std::string& address, const std::string& key_file,
                                      const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {WEFT_SERVER_BIN, "--grpc-address", address,
                                   "--admin-key-file", key_file};
  // The HTTP port (dashboard) on a free port too, unless the test chose one.
  if (std::find(extra.begin(), extra.end(), "--http-address") == extra.end() &&
      std::find(extra.begin(), extra.end(), "--no-http") == extra.end()) {
    argv.insert(argv.end(), {"--http-address", "127.0.0.1:0"});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  if (!url.empty()) {
    argv.push_back("--database-url");
    argv.push_back(url);
  }
  if (!home.empty()) {
    argv.push_back("--home");
    argv.push_back(home);
  }
  return argv;
}

Server::Server(std::string database_url, std::string home, int port,
               std::vector<std::string> extra_args)
    : address_("127.0.0.1:" + std::to_string(port ? port : FreePort())),
      // Each server its own key file (a restart with the same home finds its key again).
      key_file_(home.empty() ? TempDir("server-key") + "/admin.key" : home + "/admin.key"),
      proc_(Argv(database_url, home, address_, key_file_, extra_args),
            {{"WEFT_DATABASE_URL", "<unset>"}},
            TempDir("server") + "/server.log") {
  if (!proc_.WaitForLog("weft-server ready", 90)) {
    throw std::runtime_error("weft-server did not become ready; its log:\n" + proc_.Log());
  }
}

Server::~Server() { proc_.Stop(); }

std::string Server::admin_key() const {
  std::string key = ReadFile(key_file_);
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

}  // namespace weft::e2e
