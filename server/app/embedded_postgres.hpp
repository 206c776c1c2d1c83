#pragma once
// The embedded PostgreSQL cluster used when no database URL is configured:
// $WEFT_HOME/postgres/data, initdb on first start, pg_ctl start/stop with the server,
// listening only on a unix socket in $WEFT_HOME/postgres (no TCP port to clash).
// As root, initdb/pg_ctl run as the postgres user (runuser) from "/".
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
  int RunPg(const std::vector<std::string>& argv, std::string* output);

  std::string home_;
  std::string dir_;       // $home/postgres
  std::string data_dir_;  // $home/postgres/data
  std::string socket_dir_;
  std::string bin_dir_;
  std::string log_file_;
  bool as_root_ = false;
  bool started_ = false;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace weft::server::app
