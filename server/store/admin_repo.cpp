#include "server/store/admin_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

std::vector<Statement> AdminRepoStatements() {
  return {
      {"admin.server_version", "SELECT current_setting('server_version')"},
      {"admin.schema_version", "SELECT COALESCE(max(version), 0) FROM schema_migrations"},
  };
}

std::string AdminRepo::ServerVersion(Tx& tx) {
  return tx.raw().exec_prepared1("admin.server_version")[0].c_str();
}

int AdminRepo::SchemaVersion(Tx& tx) {
  return tx.raw().exec_prepared1("admin.schema_version")[0].as<int>();
}

}  // namespace weft::server::store
