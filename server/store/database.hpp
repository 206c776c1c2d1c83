#pragma once
// The database seam: a small pool of libpqxx connections, transactions and the one
// translator of pqxx exceptions into core::Error. pqxx types appear here only as
// forward declarations; repositories (store/*_repo.cpp) are the only users of Tx::raw().
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "sdk/core/error.hpp"

namespace pqxx {
class transaction_base;
}  // namespace pqxx
namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::store {

// An open transaction on a leased connection. Only valid inside WithTransaction.
class Tx {
 public:
  explicit Tx(pqxx::transaction_base& raw) : raw_(raw) {}
  pqxx::transaction_base& raw() const { return raw_; }

 private:
  pqxx::transaction_base& raw_;
};

struct DatabaseOptions {
  std::string url;                       // postgresql://...
  int pool_size = 8;                     // connections kept open
  double acquire_timeout_seconds = 10;   // waiting for a free connection
  int max_attempts = 5;                  // WithRetry: serialization failures and deadlocks
  // Session settings of the pooled connections (0 = PostgreSQL's default, off). A statement
  // running longer is cancelled (DEADLINE_EXCEEDED); a session idle inside a transaction
  // longer is ended by PostgreSQL (UNAVAILABLE). WithConnection's dedicated connections
  // (migrations, DDL) and the LISTEN connections keep PostgreSQL's defaults; a transaction
  // that needs longer uses SetLocalStatementTimeout.
  double statement_timeout_seconds = 0;
  double idle_in_transaction_timeout_seconds = 0;
};

class Database {
 public:
  // Connects once to check the URL; further connections are opened on demand.
  static core::Result<std::unique_ptr<Database>> Open(DatabaseOptions options,
                                                      std::shared_ptr<spdlog::logger> logger);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const DatabaseOptions& options() const { return options_; }

  // Connections leased now, open (idle + leased) and the most the pool opens (metrics).
  struct PoolStats {
    int in_use = 0;
    int open = 0;
    int size = 0;
  };
  PoolStats pool_stats() const;

  // Runs fn in one transaction and commits when it returns a value; a returned Error
  // rolls back. Exceptions from the database become core::Error (see TranslateCurrentException).
  template <typename F>
  auto WithTransaction(F&& fn) -> std::invoke_result_t<F&, Tx&> {
    return Wrap(std::forward<F>(fn), 1);
  }
  // Like WithTransaction, retried (fn runs again from scratch) on serialization
  // failures and deadlocks, up to options().max_attempts.
  template <typename F>
  auto WithRetry(F&& fn) -> std::invoke_result_t<F&, Tx&> {
    return Wrap(std::forward<F>(fn), options_.max_attempts);
  }

  // Runs fn with a connection outside any transaction (DDL, advisory locks, CREATE DATABASE).
  // fn receives the pqxx::connection_base as void* (store-internal helpers cast it back).
  core::Status WithConnection(const std::function<core::Status(void* connection)>& fn);

  // Prepares every registered statement on a fresh connection: a statement that does not
  // fit the schema fails here, naming itself.
  core::Status CheckStatements();

 private:
  struct Pool;
  Database(DatabaseOptions options, std::shared_ptr<spdlog::logger> logger);
  core::Status Run(const std::function<core::Status(Tx&)>& fn, int attempts);

  template <typename F>
  auto Wrap(F&& fn, int attempts) -> std::invoke_result_t<F&, Tx&> {
    using R = std::invoke_result_t<F&, Tx&>;
    std::optional<R> out;
    core::Status st = Run(
        [&](Tx& tx) -> core::Status {
          out.reset();
          out.emplace(fn(tx));
          if (!out->ok()) return out->error();
          return {};
        },
        attempts);
    if (!st.ok()) return R(st.error());
    return std::move(*out);
  }

  DatabaseOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<Pool> pool_;
};

// Overrides the statement timeout for the rest of this transaction only (SET LOCAL; 0 = none):
// for the rare operation that is allowed to run longer than the session's limit.
void SetLocalStatementTimeout(Tx& tx, double seconds);

// Database administration helpers used by the embedded PostgreSQL and the tests.
// `url` names any database on the cluster; `name` must be a plain identifier.
core::Status CreateDatabaseIfMissing(const std::string& url, const std::string& name);
core::Status DropDatabase(const std::string& url, const std::string& name);
// Sets `role`'s password, stored as a SCRAM-SHA-256 verifier (the embedded PostgreSQL's move
// from trust to password authentication). The password is never part of an error message.
core::Status SetRolePassword(const std::string& url, const std::string& role,
                             const std::string& password);
// The URL with its database name replaced: postgresql://u@h:p/old?x -> .../name?x
std::string WithDatabaseName(const std::string& url, const std::string& name);

}  // namespace weft::server::store
