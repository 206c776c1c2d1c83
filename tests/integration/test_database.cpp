#include "tests/integration/test_database.hpp"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>

#include "server/store/migrator.hpp"

namespace weft::test {

std::string ClusterUrl() {
  const char* url = std::getenv("WEFT_TEST_DATABASE_URL");
  if (!url || !*url) {
    FAIL(
        "WEFT_TEST_DATABASE_URL is not set: run the integration tests through "
        "scripts/with_pg.sh, e.g. scripts/with_pg.sh ctest --test-dir build/dev -L integration");
  }
  return url;
}

TestDatabase::TestDatabase(bool migrate, int pool_size)
    : clock_(std::chrono::system_clock::now()) {
  static std::atomic<int> counter{0};
  cluster_ = ClusterUrl();
  name_ = "weft_it_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  auto created = server::store::CreateDatabaseIfMissing(cluster_, name_);
  if (!created.ok()) FAIL("cannot create test database: " << created.error().message);
  url_ = server::store::WithDatabaseName(cluster_, name_);
  server::store::DatabaseOptions opts;
  opts.url = url_;
  opts.pool_size = pool_size;
  auto db = server::store::Database::Open(opts, nullptr);
  if (!db.ok()) FAIL("cannot open test database: " << db.error().message);
  db_ = std::move(*db);
  if (migrate) {
    server::store::Migrator m(*db_, nullptr);
    auto r = m.Migrate();
    if (!r.ok()) FAIL("migration failed: " << r.error().message);
  }
  orch_ = std::make_unique<server::orchestration::Orchestrator>(*db_, clock_, nullptr);
  runs_ = std::make_unique<server::orchestration::RunService>(*orch_);
}

TestDatabase::~TestDatabase() {
  runs_.reset();
  orch_.reset();
  db_.reset();
  (void)server::store::DropDatabase(cluster_, name_);
}

}  // namespace weft::test
