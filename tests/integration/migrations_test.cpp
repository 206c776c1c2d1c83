#include <catch2/catch.hpp>
#include <thread>

#include "server/store/admin_repo.hpp"
#include "server/store/migrator.hpp"
#include "tests/integration/test_database.hpp"

using namespace weft;
using weft::server::store::Migrator;

TEST_CASE("migrations apply from an empty database, and a second run is a no-op",
          "[migrations]") {
  test::TestDatabase t(/*migrate=*/false);
  const auto& embedded = server::store::EmbeddedMigrations();
  REQUIRE_FALSE(embedded.empty());

  auto first = Migrator(t.db(), nullptr).Migrate();
  REQUIRE(first.ok());
  CHECK(first->applied.size() == embedded.size());
  CHECK(first->schema_version == embedded.back().version);

  auto second = Migrator(t.db(), nullptr).Migrate();
  REQUIRE(second.ok());
  CHECK(second->applied.empty());
  CHECK(second->schema_version == embedded.back().version);

  auto version = t.db().WithTransaction([](server::store::Tx& tx) -> core::Result<int> {
    return server::store::AdminRepo::SchemaVersion(tx);
  });
  REQUIRE(version.ok());
  CHECK(*version == embedded.back().version);
}

TEST_CASE("two migrators started at once apply each migration once", "[migrations]") {
  test::TestDatabase t(/*migrate=*/false);
  core::Result<server::store::MigrationReport> a = core::Error{}, b = core::Error{};
  std::thread ta([&] { a = Migrator(t.db(), nullptr).Migrate(); });
  std::thread tb([&] { b = Migrator(t.db(), nullptr).Migrate(); });
  ta.join();
  tb.join();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->applied.size() + b->applied.size() == server::store::EmbeddedMigrations().size());
}

TEST_CASE("every repository statement prepares on the latest schema", "[migrations]") {
  test::TestDatabase t;
  auto st = t.db().CheckStatements();
  INFO((st.ok() ? std::string() : st.error().message));
  CHECK(st.ok());
}

TEST_CASE("a failing migration is reported with its name and leaves nothing behind",
          "[migrations]") {
  test::TestDatabase t(/*migrate=*/false);
  std::vector<server::store::Migration> bad = {
      {1, "0001_ok.sql", "CREATE TABLE a (x int);"},
      {2, "0002_bad.sql", "CREATE TABLE b (x int); SELECT * FROM no_such_table;"}};
  auto r = Migrator(t.db(), nullptr, bad).Migrate();
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("0002_bad.sql"));
  // 0001 stays applied; 0002 rolled back entirely (table b absent): rerunning the good part
  // is a no-op.
  auto again = Migrator(t.db(), nullptr, {bad[0]}).Migrate();
  REQUIRE(again.ok());
  CHECK(again->applied.empty());
  CHECK(again->schema_version == 1);
}
