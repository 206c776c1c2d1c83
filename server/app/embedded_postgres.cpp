#include "server/app/embedded_postgres.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "server/store/database.hpp"

extern char** environ;

namespace weft::server::app {

namespace fs = std::filesystem;

namespace {

constexpr int kPort = 5432;  // only names the socket file: no TCP listener

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Is `pid` a live (not zombie) postgres process?
bool IsLivePostgres(long pid) {
  if (pid <= 0) return false;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (stat.empty() || close == std::string::npos || close + 2 >= stat.size()) return false;
  if (stat[close + 2] == 'Z' || stat[close + 2] == 'X') return false;
  return stat.find("(postgres)") != std::string::npos;
}

bool Executable(const fs::path& p) { return ::access(p.c_str(), X_OK) == 0; }

std::string Tail(const std::string& text, size_t lines) {
  size_t pos = text.size();
  while (lines > 0 && pos > 0) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
    --lines;
  }
  return text.substr(pos + 1);
}


// Can user (uid, gid) traverse directory `p`?
bool Traversable(const fs::path& p, uid_t uid, gid_t gid) {
  struct stat st{};
  if (::stat(p.c_str(), &st) != 0) return false;
  if (st.st_uid == uid) return st.st_mode & S_IXUSR;
  if (st.st_gid == gid) return st.st_mode & S_IXGRP;
  return st.st_mode & S_IXOTH;
}

}  // namespace

EmbeddedPostgres::EmbeddedPostgres(std::string home, std::shared_ptr<spdlog::logger> logger)
    : home_(std::move(home)), logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
  dir_ = (fs::path(home_) / "postgres").lexically_normal().string();
  data_dir_ = dir_ + "/data";
  log_file_ = dir_ + "/postgres.log";
  as_root_ = ::geteuid() == 0;
}

EmbeddedPostgres::~EmbeddedPostgres() { Stop(); }

core::Status EmbeddedPostgres::FindBinaries() {
  std::vector<fs::path> candidates;
  std::error_code ec;
  if (fs::is_directory("/usr/lib/postgresql", ec)) {
    std::vector<std::pair<int, fs::path>> versions;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
      int v = std::atoi(e.path().filename().c_str());
      versions.emplace_back(v, e.path() / "bin");
    }
    std::sort(versions.rbegin(), versions.rend());  // newest first
    for (auto& [v, p] : versions) candidates.push_back(p);
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty()) candidates.emplace_back(item);
    }
  }
  for (const auto& dir : candidates) {
    if (Executable(dir / "initdb") && Executable(dir / "pg_ctl") && Executable(dir / "postgres")) {
      bin_dir_ = dir.string();
      return {};
    }
  }
  return core::FailedPrecondition(
      "PostgreSQL server binaries not found (initdb, pg_ctl, postgres; looked in "
      "/usr/lib/postgresql/*/bin and PATH); install the postgresql package or set "
      "WEFT_DATABASE_URL");
}

int EmbeddedPostgres::RunPg(const std::vector<std::string>& args, std::string* output) {
  std::vector<std::string> argv;
  if (as_root_) argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  if (as_root_ && !Executable(argv[0])) argv[0] = "/sbin/runuser";
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  char out_path[] = "/tmp/weft-pgcmd-XXXXXX";
  int fd = ::mkstemp(out_path);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, "/");  // postgres cannot enter root's cwd
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (fd >= 0) {
    if (as_root_) (void)::fchmod(fd, 0666);
    posix_spawn_file_actions_adddup2(&actions, fd, 1);
    posix_spawn_file_actions_adddup2(&actions, fd, 2);
  }
  pid_t pid = 0;
  int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  int exit_code = 127;
  if (rc == 0) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  if (fd >= 0) ::close(fd);
  if (output) *output = ReadFile(out_path);
  ::unlink(out_path);
  if (rc != 0 && output) *output += std::string("cannot run ") + cargv[0] + ": " + strerror(rc);
  return exit_code;
}

core::Status EmbeddedPostgres::PrepareDirectories() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return core::FailedPrecondition("cannot create " + dir_ + ": " + ec.message() +
                                    " (set WEFT_HOME to a writable directory)");
  }
  // The unix socket path must stay under ~100 characters.
  socket_dir_ = dir_;
  if (socket_dir_.size() + std::string("/.s.PGSQL.5432.lock").size() > 100) {
    socket_dir_ = "/tmp/weft-pg-" + std::to_string(std::hash<std::string>{}(dir_) % 100000000);
    fs::create_directories(socket_dir_, ec);
    logger_->info("postgres socket_dir={} reason=\"home path too long for a unix socket\"",
                  socket_dir_);
  }
  if (!as_root_) {
    ::chmod(dir_.c_str(), 0700);
    return {};
  }
  const passwd* pw = ::getpwnam("postgres");
  if (!pw) {
    return core::FailedPrecondition(
        "running as root needs the \"postgres\" user to run the embedded PostgreSQL; install "
        "the postgresql package or set WEFT_DATABASE_URL");
  }
  // Every parent directory must be traversable by postgres.
  for (fs::path p = fs::path(dir_).parent_path(); !p.empty(); p = p.parent_path()) {
    if (!Traversable(p, pw->pw_uid, pw->pw_gid)) {
      return core::FailedPrecondition(
          "the postgres user cannot enter " + p.string() + " (needed for the embedded " +
          "PostgreSQL under " + dir_ + "); set WEFT_HOME to a directory it can reach, " +
          "e.g. WEFT_HOME=/var/lib/weft, or set WEFT_DATABASE_URL");
    }
    if (p == p.root_path()) break;
  }
  for (const std::string& d : {dir_, socket_dir_}) {
    if (::chown(d.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return core::FailedPrecondition("cannot chown " + d + " to postgres: " + strerror(errno));
    }
    ::chmod(d.c_str(), 0700);
  }
  if (fs::exists(data_dir_)) {
    for (const auto& e : fs::recursive_directory_iterator(data_dir_, ec)) {
      (void)::lchown(e.path().c_str(), pw->pw_uid, pw->pw_gid);
    }
    (void)::chown(data_dir_.c_str(), pw->pw_uid, pw->pw_gid);
  }
  for (const std::string& f : {log_file_}) {
    if (fs::exists(f)) (void)::chown(f.c_str(), pw->pw_uid, pw->pw_gid);
  }
  return {};
}

core::Status EmbeddedPostgres::RemoveStalePid() {
  // A server killed without stopping its PostgreSQL leaves postmaster.pid behind. When the
  // process it names is gone (or is not a postgres), the file is stale: remove it, and the
  // socket lock files that name the same process.
  std::string pid_file = data_dir_ + "/postmaster.pid";
  if (fs::exists(pid_file)) {
    long pid = std::atol(ReadFile(pid_file).c_str());
    if (!IsLivePostgres(pid)) {
      logger_->warn("postgres stale_pid_file removed pid={} file={}", pid, pid_file);
      std::error_code ec;
      fs::remove(pid_file, ec);
    }
  }
  std::string lock = socket_dir_ + "/.s.PGSQL." + std::to_string(kPort) + ".lock";
  if (fs::exists(lock)) {
    long pid = std::atol(ReadFile(lock).c_str());
    if (!IsLivePostgres(pid)) {
      std::error_code ec;
      fs::remove(lock, ec);
      fs::remove(socket_dir_ + "/.s.PGSQL." + std::to_string(kPort), ec);
    }
  }
  return {};
}

core::Result<std::string> EmbeddedPostgres::Start() {
  if (auto st = FindBinaries(); !st.ok()) return st.error();
  if (auto st = PrepareDirectories(); !st.ok()) return st.error();
  std::string out;
  if (!fs::exists(data_dir_ + "/PG_VERSION")) {
    std::error_code ec;
    fs::remove_all(data_dir_, ec);  // a half-made cluster from an interrupted initdb
    logger_->info("postgres initdb data_dir={} bin_dir={}", data_dir_, bin_dir_);
    int rc = RunPg({bin_dir_ + "/initdb", "-D", data_dir_, "-U", "weft", "--auth=trust", "-E",
                    "UTF8", "--no-locale"},
                   &out);
    if (rc != 0) {
      return core::FailedPrecondition("initdb failed (exit " + std::to_string(rc) + ") for " +
                                      data_dir_ + ": " + Tail(out, 10));
    }
  }
  std::string url = "postgresql:///postgres?host=" + socket_dir_ + "&port=" +
                    std::to_string(kPort) + "&user=weft";
  // Already running (a previous server was killed and left it up)? Reuse it.
  long running_pid = std::atol(ReadFile(data_dir_ + "/postmaster.pid").c_str());
  if (IsLivePostgres(running_pid)) {
    logger_->warn("postgres already_running data_dir={} action=reuse", data_dir_);
  } else {
    (void)RemoveStalePid();
    std::string options = "-c listen_addresses='' -k " + socket_dir_ + " -p " +
                          std::to_string(kPort);
    logger_->info("postgres starting data_dir={} socket_dir={}", data_dir_, socket_dir_);
    int rc = RunPg({bin_dir_ + "/pg_ctl", "start", "-w", "-t", "60", "-D", data_dir_, "-l",
                    log_file_, "-o", options},
                   &out);
    if (rc != 0) {
      return core::FailedPrecondition("pg_ctl start failed (exit " + std::to_string(rc) +
                                      ") for " + data_dir_ + ": " + Tail(out, 5) + " " +
                                      Tail(ReadFile(log_file_), 10));
    }
  }
  started_ = true;
  if (auto st = store::CreateDatabaseIfMissing(url, "weft"); !st.ok()) {
    return core::Unavailable("embedded PostgreSQL: cannot create database weft: " +
                             st.error().message);
  }
  logger_->info("postgres ready data_dir={}", data_dir_);
  return store::WithDatabaseName(url, "weft");
}

void EmbeddedPostgres::Stop() {
  if (!started_) return;
  started_ = false;
  std::string out;
  logger_->info("postgres stopping data_dir={}", data_dir_);
  int rc = RunPg({bin_dir_ + "/pg_ctl", "stop", "-D", data_dir_, "-m", "fast", "-w", "-t", "60"},
                 &out);
  if (rc != 0) logger_->warn("postgres stop_failed exit={} output=\"{}\"", rc, Tail(out, 3));
}

}  // namespace weft::server::app
