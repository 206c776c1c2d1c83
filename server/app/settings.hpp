#pragma once
// weft-server settings: flags > environment (WEFT_*) > defaults.
#include <string>
#include <vector>

namespace weft::server::app {

struct Settings {
  std::string grpc_address = "127.0.0.1:4201";  // --grpc-address, WEFT_SERVER_GRPC_ADDRESS
  std::string database_url;                     // --database-url, WEFT_DATABASE_URL ("" = embedded)
  std::string home;                             // --home, WEFT_HOME (see DefaultHome)
  int pool_size = 8;                            // --pool-size, WEFT_SERVER_POOL_SIZE
  std::string log_level = "info";               // --log-level, WEFT_LOG_LEVEL

  // Defaults overridden by the environment. Unparsable numbers are kept as problems
  // reported by Validate().
  static Settings FromEnvironment();
  // ~/.weft; /var/lib/weft when running as root with WEFT_HOME unset (the postgres
  // user cannot enter /root).
  static std::string DefaultHome();

  // Every problem at once, each naming the setting; empty when valid.
  std::vector<std::string> Validate() const;

  std::vector<std::string> env_problems;  // filled by FromEnvironment
};

}  // namespace weft::server::app
