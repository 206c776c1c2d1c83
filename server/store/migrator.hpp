#pragma once
// Applies the embedded migrations in order, each in its own transaction, recorded in
// schema_migrations, all under a PostgreSQL advisory lock so that servers starting at
// the same time do not race.
#include <memory>
#include <vector>

#include "sdk/core/error.hpp"
#include "server/store/database.hpp"
#include "server/store/migrations.hpp"

namespace weft::server::store {

struct MigrationReport {
  int schema_version = 0;       // after the run
  std::vector<int> applied;     // versions applied by this run (empty = nothing to do)
};

class Migrator {
 public:
  Migrator(Database& db, std::shared_ptr<spdlog::logger> logger,
           std::vector<Migration> migrations = EmbeddedMigrations());
  core::Result<MigrationReport> Migrate();

 private:
  Database& db_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<Migration> migrations_;
};

}  // namespace weft::server::store
