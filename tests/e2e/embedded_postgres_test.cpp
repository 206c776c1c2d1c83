// The embedded PostgreSQL (weft-server with --home and no database URL): SCRAM
// authentication with the password file only the server's user can read, a private socket
// directory (also when a long WEFT_HOME moves it to /tmp), and the move of a cluster made with
// trust by an older version.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/e2e/support.hpp"

using namespace weft::e2e;
namespace fs = std::filesystem;

namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The user that runs the embedded PostgreSQL: postgres when the tests run as root.
uid_t PostgresUid() {
  if (::geteuid() != 0) return ::geteuid();
  const passwd* pw = ::getpwnam("postgres");
  return pw ? pw->pw_uid : 0;
}

struct stat Stat(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

// psql over the cluster's socket as the weft role; `password` "" = none given.
RunResult Psql(const std::string& socket_dir, const std::string& password) {
  Env env = {{"PGPASSWORD", password.empty() ? "<unset>" : password},
             {"PGPASSFILE", "/nonexistent"}};
  return Run(
      {"/usr/bin/psql", "-w", "-X", "-tA",
       "host=" + socket_dir + " port=5432 user=weft dbname=weft", "-c", "SELECT 'connected'"},
      env, 60);
}

std::string Password(const std::string& home) {
  std::string pw = ReadFile(home + "/postgres/password");
  while (!pw.empty() && pw.back() == '\n') pw.pop_back();
  return pw;
}

// The socket directory the server logged ("postgres socket_dir=...") or $home/postgres.
std::string SocketDir(const std::string& log, const std::string& home) {
  auto at = log.find("socket_dir=");
  if (at == std::string::npos) return home + "/postgres";
  at += 11;
  return log.substr(at, log.find_first_of(" \n", at) - at);
}

}  // namespace

TEST_CASE("embedded PostgreSQL: password authentication and a private socket directory",
          "[e2e][embedded]") {
  std::string home = TempDir("home");
  Server server("", home);
  std::string pw = Password(home);
  CHECK(pw.size() == 64);
  struct stat pw_st = Stat(home + "/postgres/password");
  CHECK((pw_st.st_mode & 0777) == 0600);
  CHECK(pw_st.st_uid == ::geteuid());  // the server's user, root included, can read it
  std::string socket_dir = SocketDir(server.Log(), home);
  CHECK(socket_dir == home + "/postgres");
  struct stat dir_st = Stat(socket_dir);
  CHECK((dir_st.st_mode & 0777) == 0700);
  CHECK(dir_st.st_uid == PostgresUid());

  // Without the password the weft role is refused; with it, it connects.
  RunResult refused = Psql(socket_dir, "");
  INFO("psql: " << refused.out << refused.err);
  CHECK(refused.exit_code != 0);
  CHECK((Contains(refused.err, "no password supplied") ||
         Contains(refused.err, "password authentication failed")));
  CHECK(Psql(socket_dir, "wrong-password").exit_code != 0);
  RunResult ok = Psql(socket_dir, pw);
  INFO("psql: " << ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(Contains(ok.out, "connected"));
  std::string hba = ReadFile(home + "/postgres/data/pg_hba.conf");
  CHECK(Contains(hba, "scram-sha-256"));
  // The password never reaches a log.
  CHECK_FALSE(Contains(server.Log(), pw));
  CHECK_FALSE(Contains(ReadFile(home + "/postgres/postgres.log"), pw));
  CHECK(server.Stop() == 0);
  fs::remove_all(home);
}

TEST_CASE("embedded PostgreSQL: a long WEFT_HOME gets a private socket directory in /tmp",
          "[e2e][embedded]") {
  std::string home = TempDir("home") + "/" + std::string(90, 'h');
  std::string socket_dir;
  {
    Server server("", home);
    socket_dir = SocketDir(server.Log(), home);
    REQUIRE(socket_dir.rfind("/tmp/weft-pg-", 0) == 0);
    struct stat st = Stat(socket_dir);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(st.st_uid == PostgresUid());
    RunResult refused = Psql(socket_dir, "");
    CHECK(refused.exit_code != 0);
    CHECK(Psql(socket_dir, Password(home)).exit_code == 0);
    CHECK(server.Stop() == 0);
  }
  // Someone widened it (or made it first with other permissions): the server refuses it.
  REQUIRE(::chmod(socket_dir.c_str(), 0755) == 0);
  try {
    Server again("", home);
    FAIL("the server started with a socket directory of mode 0755");
  } catch (const std::runtime_error& e) {
    std::string log = e.what();
    CHECK(Contains(log, "socket directory " + socket_dir + " has mode 0755, wider than 0700"));
  }
  fs::remove_all(socket_dir);
  fs::remove_all(fs::path(home).parent_path());
}

TEST_CASE("embedded PostgreSQL: a cluster made with trust by an older version moves to SCRAM",
          "[e2e][embedded]") {
  std::string home = TempDir("home");
  std::string pg = home + "/postgres";
  fs::create_directories(pg);
  RunResult bin = Run({"/bin/sh", "-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1"});
  std::string bin_dir = bin.out.substr(0, bin.out.find('\n'));
  REQUIRE_FALSE(bin_dir.empty());
  std::vector<std::string> initdb = {bin_dir + "/initdb", "-D", pg + "/data", "-U",         "weft",
                                     "--auth=trust",      "-E", "UTF8",       "--no-locale"};
  if (::geteuid() == 0) {
    REQUIRE(::chown(pg.c_str(), PostgresUid(), static_cast<gid_t>(-1)) == 0);
    initdb.insert(initdb.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  }
  RunResult made = Run(initdb, {}, 120, "/");
  INFO(made.out << made.err);
  REQUIRE(made.exit_code == 0);
  REQUIRE(Contains(ReadFile(pg + "/data/pg_hba.conf"), "trust"));

  {
    Server server("", home);
    CHECK(Contains(server.Log(), "authentication upgrade from=trust to=scram-sha-256"));
    // The server works on the moved cluster.
    RunResult ls = Run({WEFT_CLI_BIN, "flow-run", "ls"}, server.ClientEnv());
    INFO(ls.out << ls.err);
    CHECK(ls.exit_code == 0);
    std::string hba;
    {
      std::ifstream in(pg + "/data/pg_hba.conf");
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty() && line[0] != '#') hba += line + "\n";
      }
    }
    CHECK_FALSE(Contains(hba, "trust"));
    CHECK(Contains(hba, "scram-sha-256"));
    CHECK((Stat(pg + "/password").st_mode & 0777) == 0600);
    CHECK(Psql(pg, "").exit_code != 0);
    CHECK(Psql(pg, Password(home)).exit_code == 0);
    CHECK_FALSE(Contains(server.Log(), Password(home)));
    CHECK(server.Stop() == 0);
  }
  // And it starts again with the password it keeps.
  Server again("", home);
  CHECK_FALSE(Contains(again.Log(), "authentication upgrade"));
  CHECK(Psql(pg, Password(home)).exit_code == 0);
  CHECK(again.Stop() == 0);
  fs::remove_all(home);
}
