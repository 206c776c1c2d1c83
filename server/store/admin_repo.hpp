#pragma once
// Facts about the database itself.
#include <string>

#include "server/store/database.hpp"

namespace weft::server::store {

class AdminRepo {
 public:
  // "15.18 (Debian 15.18-0+deb12u1)" style: PostgreSQL's server_version.
  static std::string ServerVersion(Tx& tx);
  // The highest applied migration (0 when none).
  static int SchemaVersion(Tx& tx);
};

}  // namespace weft::server::store
