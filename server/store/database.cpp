#include "server/store/database.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

std::string FirstLine(const char* what) {
  std::string s = what ? what : "";
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  if (s.rfind("ERROR:", 0) == 0) s = s.substr(6);
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

// "30000" (milliseconds) for PostgreSQL's SET; 0 stays 0 (off).
std::string Millis(double seconds) {
  return std::to_string(seconds > 0 ? std::max<long long>(1, std::llround(seconds * 1000)) : 0);
}

// `session` = the pool's session settings (timeouts); dedicated connections keep the defaults.
std::unique_ptr<pqxx::connection> Connect(const std::string& url,
                                          const DatabaseOptions* session = nullptr) {
  auto c = std::make_unique<pqxx::connection>(url);
  {
    pqxx::nontransaction n(*c);
    n.exec("SET TIME ZONE 'UTC'");
    if (session) {
      n.exec("SET statement_timeout = " + Millis(session->statement_timeout_seconds));
      n.exec("SET idle_in_transaction_session_timeout = " +
             Millis(session->idle_in_transaction_timeout_seconds));
    }
  }
  for (const Statement& s : AllStatements()) c->prepare(s.name, s.sql);
  return c;
}

}  // namespace

// The one translator of database exceptions into API errors (documented in server/README.md).
core::Error TranslateCurrentException() {
  try {
    throw;
  } catch (const pqxx::unique_violation& e) {
    return core::AlreadyExists(FirstLine(e.what()));
  } catch (const pqxx::foreign_key_violation& e) {
    return core::FailedPrecondition(FirstLine(e.what()));
  } catch (const pqxx::serialization_failure& e) {
    return core::Error{core::Code::kAborted, "serialization failure: " + FirstLine(e.what())};
  } catch (const pqxx::deadlock_detected& e) {
    return core::Error{core::Code::kAborted, "deadlock: " + FirstLine(e.what())};
  } catch (const pqxx::in_doubt_error& e) {
    return core::Unavailable("database connection lost during commit (outcome unknown): " +
                             FirstLine(e.what()));
  } catch (const pqxx::broken_connection& e) {
    return core::Unavailable("database unavailable: " + FirstLine(e.what()));
  } catch (const pqxx::data_exception& e) {
    return core::InvalidArgument(FirstLine(e.what()));

  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "57014") {
      // statement_timeout (the pool's session setting) or an operator's pg_cancel_backend.
      return core::Error{core::Code::kDeadlineExceeded, "database: " + FirstLine(e.what())};
    }
    if (e.sqlstate().rfind("57P", 0) == 0 || e.sqlstate().rfind("08", 0) == 0) {
      return core::Unavailable("database unavailable: " + FirstLine(e.what()));
    }
    return core::Internal("database error " + e.sqlstate() + ": " + FirstLine(e.what()));
  } catch (const std::exception& e) {
    return core::Internal(std::string("database error: ") + FirstLine(e.what()));
  } catch (...) {
    return core::Internal("database error: unknown exception");
  }
}

const std::vector<Statement>& AllStatements() {
  static const std::vector<Statement> all = [] {
    std::vector<Statement> v;
    for (auto part : {FlowRepoStatements(), FlowRunRepoStatements(), TaskRunRepoStatements(),
                      AdminRepoStatements(), StorageRepoStatements(), DeploymentRepoStatements(),
                      WorkQueueRepoStatements(), AgentRepoStatements(), LogRepoStatements(),
                      MetricsRepoStatements(), NotificationRepoStatements(),
                      ConcurrencyRepoStatements(), ApiKeyRepoStatements()}) {
      v.insert(v.end(), part.begin(), part.end());
    }
    return v;
  }();
  return all;
}

struct Database::Pool {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<pqxx::connection>> idle;
  int open = 0;  // idle + leased
};

Database::Database(DatabaseOptions options, std::shared_ptr<spdlog::logger> logger)
    : options_(std::move(options)), logger_(std::move(logger)), pool_(std::make_unique<Pool>()) {
  if (!logger_) logger_ = spdlog::default_logger();
}

Database::~Database() = default;

Database::PoolStats Database::pool_stats() const {
  std::lock_guard lock(pool_->mu);
  PoolStats s;
  s.open = pool_->open;
  s.in_use = pool_->open - static_cast<int>(pool_->idle.size());
  s.size = options_.pool_size;
  return s;
}

core::Result<std::unique_ptr<Database>> Database::Open(DatabaseOptions options,
                                                       std::shared_ptr<spdlog::logger> logger) {
  if (options.pool_size < 1) return core::InvalidArgument("pool_size: must be at least 1");
  std::unique_ptr<Database> db(new Database(std::move(options), std::move(logger)));
  try {
    auto c = Connect(db->options_.url, &db->options_);
    std::lock_guard lock(db->pool_->mu);
    db->pool_->idle.push_back(std::move(c));
    db->pool_->open = 1;
  } catch (...) {
    return TranslateCurrentException();
  }
  return db;
}

core::Status Database::WithConnection(const std::function<core::Status(void*)>& fn) {
  // A dedicated connection, not a pooled one: session state (advisory locks) never leaks.
  try {
    auto c = Connect(options_.url);
    return fn(static_cast<pqxx::connection_base*>(c.get()));
  } catch (...) {
    return TranslateCurrentException();
  }
}

core::Status Database::Run(const std::function<core::Status(Tx&)>& fn, int attempts) {
  using Clock = std::chrono::steady_clock;
  for (int attempt = 1;; ++attempt) {
    // Lease a connection.
    std::unique_ptr<pqxx::connection> conn;
    {
      std::unique_lock lock(pool_->mu);
      auto deadline =
          Clock::now() +
          std::chrono::milliseconds(static_cast<long>(options_.acquire_timeout_seconds * 1000));
      while (pool_->idle.empty() && pool_->open >= options_.pool_size) {
        if (pool_->cv.wait_until(lock, deadline) == std::cv_status::timeout &&
            pool_->idle.empty() && pool_->open >= options_.pool_size) {
          return core::Unavailable("database: no free connection within " +
                                   std::to_string(options_.acquire_timeout_seconds) +
                                   "s (pool size " + std::to_string(options_.pool_size) + ")");
        }
      }
      if (!pool_->idle.empty()) {
        conn = std::move(pool_->idle.back());
        pool_->idle.pop_back();
      } else {
        ++pool_->open;
      }
    }
    auto release = [&](bool keep) {
      std::lock_guard lock(pool_->mu);
      if (keep && conn && conn->is_open()) {
        pool_->idle.push_back(std::move(conn));
      } else {
        conn.reset();
        --pool_->open;
      }
      pool_->cv.notify_one();
    };
    if (!conn || !conn->is_open()) {
      try {
        conn = Connect(options_.url, &options_);
      } catch (...) {
        core::Error e = TranslateCurrentException();
        release(false);
        logger_->warn("database connect failed error=\"{}\"", e.message);
        if (e.code == core::Code::kInternal) e.code = core::Code::kUnavailable;
        return e;
      }
    }
    core::Error err;
    try {
      pqxx::work w(*conn);
      Tx tx(w);
      core::Status st = fn(tx);
      if (!st.ok()) {
        w.abort();
        release(true);
        return st;
      }
      w.commit();
      release(true);
      return {};
    } catch (...) {
      err = TranslateCurrentException();
    }
    bool broken = !conn->is_open();
    release(!broken);
    if (broken) logger_->warn("database connection dropped error=\"{}\"", err.message);
    if (err.code == core::Code::kAborted && attempt < attempts) {
      logger_->debug("transaction retried attempt={} error=\"{}\"", attempt, err.message);
      std::this_thread::sleep_for(std::chrono::milliseconds(2 * attempt));
      continue;
    }
    if (err.code == core::Code::kAborted) {
      err.message =
          "transaction failed after " + std::to_string(attempt) + " attempts: " + err.message;
    }
    return err;
  }
}

core::Status Database::CheckStatements() {
  try {
    auto c = Connect(options_.url);
    for (const Statement& s : AllStatements()) {
      try {
        c->prepare_now(s.name);
      } catch (...) {
        core::Error e = TranslateCurrentException();
        return core::Internal("statement " + s.name + ": " + e.message);
      }
    }
  } catch (...) {
    return TranslateCurrentException();
  }
  return {};
}

void SetLocalStatementTimeout(Tx& tx, double seconds) {
  tx.raw().exec("SET LOCAL statement_timeout = " + Millis(seconds));
}

std::string WithDatabaseName(const std::string& url, const std::string& name) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;  // key=value form: not supported here
  auto path = url.find('/', scheme + 3);
  auto query = url.find('?', scheme + 3);
  if (path == std::string::npos || (query != std::string::npos && path > query)) {
    if (query == std::string::npos) return url + "/" + name;
    return url.substr(0, query) + "/" + name + url.substr(query);
  }
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return url.substr(0, path) + "/" + name + rest;
}

core::Status CreateDatabaseIfMissing(const std::string& url, const std::string& name) {
  try {
    pqxx::connection c(url);
    pqxx::nontransaction n(c);
    auto r = n.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", name);
    if (!r.empty()) return {};
    try {
      n.exec("CREATE DATABASE " + c.quote_name(name));
    } catch (const pqxx::sql_error& e) {
      // Created meanwhile by someone else: fine.
      if (e.sqlstate() != "42P04" && e.sqlstate() != "23505") throw;
    }
  } catch (...) {
    return TranslateCurrentException();
  }
  return {};
}

core::Status DropDatabase(const std::string& url, const std::string& name) {
  try {
    pqxx::connection c(url);
    pqxx::nontransaction n(c);
    n.exec("DROP DATABASE IF EXISTS " + c.quote_name(name) + " WITH (FORCE)");
  } catch (...) {
    return TranslateCurrentException();
  }
  return {};
}

core::Status SetRolePassword(const std::string& url, const std::string& role,
                             const std::string& password) {
  try {
    pqxx::connection c(url);
    pqxx::nontransaction n(c);
    n.exec("SET password_encryption = 'scram-sha-256'");
    n.exec("ALTER ROLE " + c.quote_name(role) + " PASSWORD " + c.quote(password));
  } catch (const pqxx::sql_error& e) {
    // The statement (with the password) must not travel in the message.
    return core::Internal("cannot set the password of role " + role + " (SQLSTATE " +
                          e.sqlstate() + ")");
  } catch (...) {
    return TranslateCurrentException();
  }
  return {};
}

}  // namespace weft::server::store
