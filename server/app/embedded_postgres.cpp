#include "server/app/embedded_postgres.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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

std::string UserName(unsigned uid) {
  const passwd* pw = ::getpwuid(uid);
  return pw ? std::string(pw->pw_name) : "uid " + std::to_string(uid);
}

std::string Octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// 32 random bytes as 64 hex digits: safe in a URL, a pwfile and an SQL literal.
core::Result<std::string> RandomPassword() {
  unsigned char bytes[32];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return core::Internal(std::string("getrandom: ") + std::strerror(errno));
    got += static_cast<std::size_t>(n);
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// Writes `text` to `path` (replacing it) with mode 0600, owned by (uid, gid) when `chown`.
core::Status WritePrivateFile(const std::string& path, const std::string& text, bool chown,
                              unsigned uid, unsigned gid) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return core::FailedPrecondition("cannot create " + tmp + ": " + std::strerror(errno));
  }
  bool ok = ::fchmod(fd, 0600) == 0;
  if (ok && chown) ok = ::fchown(fd, uid, gid) == 0;
  std::size_t off = 0;
  while (ok && off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    ::unlink(tmp.c_str());
    return core::FailedPrecondition("cannot write " + path + ": " + std::strerror(err));
  }
  return {};
}

// pg_hba.conf lines without their comments.
std::string StripComment(const std::string& line) {
  auto hash = line.find('#');
  return hash == std::string::npos ? line : line.substr(0, hash);
}

bool HasWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

}  // namespace

EmbeddedPostgres::EmbeddedPostgres(std::string home, std::shared_ptr<spdlog::logger> logger)
    : home_(std::move(home)), logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
  dir_ = (fs::path(home_) / "postgres").lexically_normal().string();
  data_dir_ = dir_ + "/data";
  log_file_ = dir_ + "/postgres.log";
  password_file_ = dir_ + "/password";
  as_root_ = ::geteuid() == 0;
  pg_uid_ = ::geteuid();
  pg_gid_ = ::getegid();
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
  if (as_root_) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) {
      return core::FailedPrecondition(
          "running as root needs the \"postgres\" user to run the embedded PostgreSQL; install "
          "the postgresql package or set WEFT_DATABASE_URL");
    }
    pg_uid_ = pw->pw_uid;
    pg_gid_ = pw->pw_gid;
    // Every parent directory must be traversable by postgres.
    for (fs::path p = fs::path(dir_).parent_path(); !p.empty(); p = p.parent_path()) {
      if (!Traversable(p, pg_uid_, pg_gid_)) {
        return core::FailedPrecondition(
            "the postgres user cannot enter " + p.string() + " (needed for the embedded " +
            "PostgreSQL under " + dir_ + "); set WEFT_HOME to a directory it can reach, " +
            "e.g. WEFT_HOME=/var/lib/weft, or set WEFT_DATABASE_URL");
      }
      if (p == p.root_path()) break;
    }
    if (::chown(dir_.c_str(), pg_uid_, pg_gid_) != 0) {
      return core::FailedPrecondition("cannot chown " + dir_ + " to postgres: " +
                                      std::strerror(errno));
    }
  }
  ::chmod(dir_.c_str(), 0700);
  if (auto st = CheckPrivateDir(dir_); !st.ok()) return st;
  // The unix socket path must stay under ~100 characters.
  socket_dir_ = dir_;
  if (socket_dir_.size() + std::string("/.s.PGSQL.5432.lock").size() > 100) {
    socket_dir_ = "/tmp/weft-pg-" + std::to_string(std::hash<std::string>{}(dir_) % 100000000);
    if (auto st = PrepareSocketDir(); !st.ok()) return st;
    logger_->info("postgres socket_dir={} reason=\"home path too long for a unix socket\"",
                  socket_dir_);
  }
  if (!as_root_) return {};
  if (fs::exists(data_dir_)) {
    for (const auto& e : fs::recursive_directory_iterator(data_dir_, ec)) {
      (void)::lchown(e.path().c_str(), pg_uid_, pg_gid_);
    }
    (void)::chown(data_dir_.c_str(), pg_uid_, pg_gid_);
  }
  for (const std::string& f : {log_file_}) {
    if (fs::exists(f)) (void)::chown(f.c_str(), pg_uid_, pg_gid_);
  }
  return {};
}

core::Status EmbeddedPostgres::CheckPrivateDir(const std::string& dir) const {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return core::FailedPrecondition("embedded PostgreSQL: cannot read " + dir + ": " +
                                    std::strerror(errno));
  }
  const std::string why =
      "; refusing to use it (another user could reach the database socket). Remove it, or set "
      "WEFT_HOME to a short path (the socket then lives in $WEFT_HOME/postgres)";
  if (!S_ISDIR(st.st_mode)) {
    return core::FailedPrecondition("embedded PostgreSQL: socket directory " + dir +
                                    " is not a directory (a link or a file)" + why);
  }
  if (st.st_uid != pg_uid_) {
    return core::FailedPrecondition("embedded PostgreSQL: socket directory " + dir +
                                    " is owned by " + UserName(st.st_uid) + ", not by " +
                                    UserName(pg_uid_) + " who runs PostgreSQL" + why);
  }
  if ((st.st_mode & 077) != 0) {
    return core::FailedPrecondition("embedded PostgreSQL: socket directory " + dir +
                                    " has mode " + Octal(st.st_mode) +
                                    ", wider than 0700" + why);
  }
  return {};
}

core::Status EmbeddedPostgres::PrepareSocketDir() {
  // Created here with 0700 and handed to the PostgreSQL user, or already there: then it
  // must be exactly that (a predictable name in /tmp could have been made by anyone).
  if (::mkdir(socket_dir_.c_str(), 0700) == 0) {
    if (as_root_ && ::chown(socket_dir_.c_str(), pg_uid_, pg_gid_) != 0) {
      int err = errno;
      ::rmdir(socket_dir_.c_str());
      return core::FailedPrecondition("cannot chown " + socket_dir_ + " to postgres: " +
                                      std::strerror(err));
    }
    ::chmod(socket_dir_.c_str(), 0700);
  } else if (errno != EEXIST) {
    return core::FailedPrecondition("embedded PostgreSQL: cannot create socket directory " +
                                    socket_dir_ + ": " + std::strerror(errno));
  }
  return CheckPrivateDir(socket_dir_);
}

core::Result<std::string> EmbeddedPostgres::LoadOrCreatePassword() {
  struct stat st {};
  if (::lstat(password_file_.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return core::FailedPrecondition("embedded PostgreSQL: " + password_file_ +
                                      " is not a regular file");
    }
    if ((st.st_mode & 077) != 0) {
      logger_->warn("postgres password_file mode={} action=chmod 0600 file={}", Octal(st.st_mode),
                    password_file_);
      ::chmod(password_file_.c_str(), 0600);
    }
    std::string pw = ReadFile(password_file_);
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
    if (pw.empty()) {
      return core::FailedPrecondition("embedded PostgreSQL: " + password_file_ + " is empty");
    }
    return pw;
  }
  auto pw = RandomPassword();
  if (!pw.ok()) return pw.error();
  // Owned by the server's user: root reads it even inside the postgres-owned directory.
  if (auto w = WritePrivateFile(password_file_, *pw + "\n", false, 0, 0); !w.ok()) {
    return w.error();
  }
  logger_->info("postgres password_file created file={} mode=0600", password_file_);
  return *pw;
}

core::Status EmbeddedPostgres::InitDb(const std::string& password) {
  std::error_code ec;
  fs::remove_all(data_dir_, ec);  // a half-made cluster from an interrupted initdb
  // initdb (as the PostgreSQL user) reads the password from a file of its own, removed after.
  std::string pwfile = dir_ + "/initdb-pwfile";
  if (auto w = WritePrivateFile(pwfile, password + "\n", as_root_, pg_uid_, pg_gid_); !w.ok()) {
    return w;
  }
  logger_->info("postgres initdb data_dir={} bin_dir={} auth=scram-sha-256", data_dir_, bin_dir_);
  std::string out;
  int rc = RunPg({bin_dir_ + "/initdb", "-D", data_dir_, "-U", "weft", "--auth=scram-sha-256",
                  "--pwfile=" + pwfile, "-E", "UTF8", "--no-locale"},
                 &out);
  ::unlink(pwfile.c_str());
  if (rc != 0) {
    return core::FailedPrecondition("initdb failed (exit " + std::to_string(rc) + ") for " +
                                    data_dir_ + ": " + Tail(out, 10));
  }
  return {};
}

bool EmbeddedPostgres::HbaUsesTrust() const {
  std::istringstream in(ReadFile(data_dir_ + "/pg_hba.conf"));
  std::string line;
  while (std::getline(in, line)) {
    if (HasWord(StripComment(line), "trust")) return true;
  }
  return false;
}

core::Status EmbeddedPostgres::UpgradeFromTrust(const std::string& socket_url,
                                                std::string& password) {
  if (!HbaUsesTrust()) return {};
  const std::string hba = data_dir_ + "/pg_hba.conf";
  logger_->warn("postgres authentication upgrade from=trust to=scram-sha-256 data_dir={}",
                data_dir_);
  // 1. While trust still holds: the weft role gets the password (a SCRAM verifier).
  if (auto st = store::SetRolePassword(socket_url, "weft", password); !st.ok()) {
    return core::FailedPrecondition("embedded PostgreSQL: moving " + data_dir_ +
                                    " from trust to password authentication: " +
                                    st.error().message);
  }
  // 2. pg_hba.conf: every trust method becomes scram-sha-256 (comments kept as they are).
  std::istringstream in(ReadFile(hba));
  std::string line, text;
  while (std::getline(in, line)) {
    auto hash = line.find('#');
    std::string body = hash == std::string::npos ? line : line.substr(0, hash);
    std::string rest = hash == std::string::npos ? "" : line.substr(hash);
    std::string out;
    std::size_t i = 0;
    while (i < body.size()) {
      if (std::isspace(static_cast<unsigned char>(body[i]))) {
        out += body[i++];
        continue;
      }
      std::size_t j = i;
      while (j < body.size() && !std::isspace(static_cast<unsigned char>(body[j]))) ++j;
      std::string word = body.substr(i, j - i);
      out += word == "trust" ? "scram-sha-256" : word;
      i = j;
    }
    text += out + rest + "\n";
  }
  {
    // In place: the file keeps its owner (the PostgreSQL user) and mode.
    std::ofstream f(hba, std::ios::trunc);
    f << text;
    if (!f.flush()) {
      return core::FailedPrecondition("embedded PostgreSQL: cannot rewrite " + hba);
    }
  }
  // 3. Reload: new connections need the password from now on.
  std::string out;
  int rc = RunPg({bin_dir_ + "/pg_ctl", "reload", "-D", data_dir_}, &out);
  if (rc != 0) {
    return core::FailedPrecondition("embedded PostgreSQL: pg_ctl reload failed (exit " +
                                    std::to_string(rc) + ") for " + data_dir_ + ": " +
                                    Tail(out, 5));
  }
  logger_->info("postgres authentication upgraded method=scram-sha-256 password_file={}",
                password_file_);
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
  bool fresh = !fs::exists(data_dir_ + "/PG_VERSION");
  if (!fresh && !fs::exists(password_file_) && !HbaUsesTrust()) {
    return core::FailedPrecondition(
        "embedded PostgreSQL: the password file " + password_file_ + " of the cluster in " +
        data_dir_ + " is missing; restore it, or let the server set a new password: change the "
        "methods in " + data_dir_ + "/pg_hba.conf to trust and start the server again");
  }
  auto password = LoadOrCreatePassword();
  if (!password.ok()) return password.error();
  if (fresh) {
    if (auto st = InitDb(*password); !st.ok()) return st.error();
  }
  std::string out;
  // The URL without the password: only for the trust upgrade. Neither is ever logged.
  std::string socket_url = "postgresql:///postgres?host=" + socket_dir_ + "&port=" +
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
  if (auto st = UpgradeFromTrust(socket_url, *password); !st.ok()) return st.error();
  std::string url = socket_url + "&password=" + *password;
  if (auto st = store::CreateDatabaseIfMissing(url, "weft"); !st.ok()) {
    return core::Unavailable("embedded PostgreSQL: cannot create database weft: " +
                             st.error().message + " (password from " + password_file_ + ")");
  }
  logger_->info("postgres ready data_dir={} auth=scram-sha-256", data_dir_);
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
