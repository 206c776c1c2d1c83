#pragma once
// The embedded PostgreSQL cluster used when no database URL is configured:
// $WEFT_HOME/postgres/data, initdb on first start, pg_ctl start/stop with the server,
// listening only on a unix socket in $WEFT_HOME/postgres (no TCP port to clash).
// As root, initdb/pg_ctl run as the postgres user (runuser) from "/".
//
// Authentication is SCRAM-SHA-256, never trust: initdb gets a random password that the
// server keeps in $WEFT_HOME/postgres/password (0600, the server's user; root can read it
// when PostgreSQL runs as postgres) and puts in the connection URL it returns (never logged).
// A cluster made by an older version with trust is moved over on start: the weft role gets a
// password (over the socket, while trust still holds), the file is written, pg_hba.conf
// switches trust -> scram-sha-256 and PostgreSQL reloads.
//
// The socket directory is one only the PostgreSQL user (and root) can enter: mode 0700,
// owned by that user. When $WEFT_HOME is too long for a socket path it is
// /tmp/weft-pg-<hash>, created 0700; an existing one owned by someone else, with wider
// permissions, or not a plain directory is refused.
#include <memory>
#include <string>
#include <vector>

#include "sdk/core/error.hpp"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::app {

class EmbeddedPostgres {
 public:
  EmbeddedPostgres(std::string home, std::shared_ptr<spdlog::logger> logger);
  ~EmbeddedPostgres();  // Stop()

  // Starts the cluster (initdb first when needed) and creates database "weft".
  // Returns the URL to connect to.
  core::Result<std::string> Start();
  // pg_ctl stop -m fast, when this object started it. Idempotent.
  void Stop();

  const std::string& data_dir() const { return data_dir_; }

 private:
  core::Status FindBinaries();
  core::Status PrepareDirectories();
  core::Status RemoveStalePid();
  core::Status PrepareSocketDir();
  // `dir` is a directory (not a link) owned by pg_uid_ with no group/other permissions.
  core::Status CheckPrivateDir(const std::string& dir) const;
  // The password from password_file_, or a new one written there (0600).
  core::Result<std::string> LoadOrCreatePassword();
  // initdb with --auth=scram-sha-256 and the password.
  core::Status InitDb(const std::string& password);
  // Moves a cluster still on trust (older versions) to scram-sha-256; no-op otherwise.
  core::Status UpgradeFromTrust(const std::string& socket_url, std::string& password);
  bool HbaUsesTrust() const;
  int RunPg(const std::vector<std::string>& argv, std::string* output);

  std::string home_;
  std::string dir_;       // $home/postgres
  std::string data_dir_;  // $home/postgres/data
  std::string socket_dir_;
  std::string bin_dir_;
  std::string log_file_;
  std::string password_file_;  // $home/postgres/password
  bool as_root_ = false;
  unsigned pg_uid_ = 0;  // the user that runs PostgreSQL (postgres as root, else ourselves)
  unsigned pg_gid_ = 0;
  bool started_ = false;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace weft::server::app
