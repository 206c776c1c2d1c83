#pragma once
// The SQL migrations, embedded into the binary at build time from migrations/*.sql
// (see server/CMakeLists.txt and server/store/embed_migrations.cmake).
#include <vector>

namespace weft::server::store {

struct Migration {
  int version;        // from the file name: 0001_init.sql -> 1
  const char* name;   // "0001_init.sql"
  const char* sql;
};

// In ascending version order.
const std::vector<Migration>& EmbeddedMigrations();

}  // namespace weft::server::store
