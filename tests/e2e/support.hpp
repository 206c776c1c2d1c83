#pragma once
// e2e support: real processes on loopback, free ports, fresh databases, polling waits.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace weft::e2e {

using Env = std::map<std::string, std::string>;

struct RunResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out;
  std::string err;
};

// Runs a program to completion (killed after `timeout_seconds`), capturing its output.
// `env` entries are added to (or override) this process's environment; a value of
// "<unset>" removes the variable.
RunResult Run(const std::vector<std::string>& argv, const Env& env = {},
              double timeout_seconds = 120, const std::string& cwd = "");

// A long-running process whose stdout+stderr go to a log file.
class Background {
 public:
  Background(std::vector<std::string> argv, Env env, std::string log_path);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // Waits until the log contains `text`; false on timeout or if the process exited.
  bool WaitForLog(const std::string& text, double timeout_seconds);
  std::string Log() const;
  // SIGTERM, then SIGKILL after `grace_seconds`; returns the exit status (128+signal if killed).
  int Stop(double grace_seconds = 20);
  // SIGKILL (kill -9) of the process alone (not its children); returns its exit status.
  int Kill();
  bool Running();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_path_;
};

int FreePort();
// A fresh temp dir (mode 0755 so the postgres user can traverse it).
std::string TempDir(const std::string& prefix);
// Creates a new database in the test cluster (WEFT_TEST_DATABASE_URL) and returns its URL.
std::string FreshDatabase(const std::string& name_hint);
std::string Getenv(const std::string& name);
std::string ReadFile(const std::string& path);

// Polls `condition` until it is true or the deadline passes.
bool Eventually(const std::function<bool()>& condition, double timeout_seconds,
                double interval_seconds = 0.05);

// A weft-server on a free port, with its own fresh database (or the embedded one when
// `home` is given and `database_url` is empty).
class Server {
 public:
  // `extra_args` are further weft-server flags (e.g. {"--heartbeat-timeout", "3s"}).
  explicit Server(std::string database_url, std::string home = "", int port = 0,
                  std::vector<std::string> extra_args = {});
  ~Server();
  const std::string& address() const { return address_; }
  // The server's local admin key (what it wrote to its admin key file).
  std::string admin_key() const;
  // What a client of this server needs: its address and the admin key.
  Env ClientEnv() const { return {{"WEFT_API_URL", address_}, {"WEFT_API_KEY", admin_key()}}; }
  int Stop() { return proc_.Stop(); }
  int Kill() { return proc_.Kill(); }
  std::string Log() const { return proc_.Log(); }

 private:
  static std::vector<std::string> Argv(const std::string& url, const std::string& home,
                                       const std::string& address, const std::string& key_file,
                                       const std::vector<std::string>& extra);
  std::string address_;
  std::string key_file_;
  Background proc_;
};

}  // namespace weft::e2e
