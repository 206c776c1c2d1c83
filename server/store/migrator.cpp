#include "server/store/migrator.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "server/store/pg_util.hpp"

namespace weft::server::store {

namespace {
// Any fixed 64-bit key shared by every Weft server: "weft" + "migr".
constexpr long long kAdvisoryLockKey = 0x77656674'6d696772LL;
}  // namespace

Migrator::Migrator(Database& db, std::shared_ptr<spdlog::logger> logger,
                   std::vector<Migration> migrations)
    : db_(db), logger_(std::move(logger)), migrations_(std::move(migrations)) {
  if (!logger_) logger_ = spdlog::default_logger();
}

core::Result<MigrationReport> Migrator::Migrate() {
  MigrationReport report;
  core::Status st = db_.WithConnection([&](void* raw) -> core::Status {
    auto& conn = *static_cast<pqxx::connection_base*>(raw);
    {
      pqxx::nontransaction n(conn);
      n.exec_params("SELECT pg_advisory_lock($1)", kAdvisoryLockKey);
    }
    core::Status result;
    try {
      {
        pqxx::nontransaction n(conn);
        n.exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY,"
            " name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())");
      }
      std::set<int> done;
      {
        pqxx::nontransaction n(conn);
        for (const auto& row : n.exec("SELECT version FROM schema_migrations")) {
          done.insert(row[0].as<int>());
        }
      }
      for (const Migration& m : migrations_) {
        if (done.count(m.version)) continue;
        logger_->info("migration applying version={} name={}", m.version, m.name);
        try {
          pqxx::work w(conn);
          w.exec(m.sql);
          w.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                        std::string(m.name));
          w.commit();
        } catch (...) {
          core::Error e = TranslateCurrentException();
          result = core::Internal(std::string("migration ") + m.name + " failed: " + e.message);
          break;
        }
        report.applied.push_back(m.version);
        done.insert(m.version);
      }
      if (result.ok()) report.schema_version = done.empty() ? 0 : *done.rbegin();
    } catch (...) {
      result = TranslateCurrentException();
    }
    try {
      pqxx::nontransaction n(conn);
      n.exec_params("SELECT pg_advisory_unlock($1)", kAdvisoryLockKey);
    } catch (...) {
      // The lock goes with the session, which ends when the connection closes.
    }
    return result;
  });
  if (!st.ok()) return st.error();
  return report;
}

}  // namespace weft::server::store
