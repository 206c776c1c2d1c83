#include "server/auth/authenticator.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sdk/core/names.hpp"
#include "server/auth/tokens.hpp"
#include "server/store/flow_run_repo.hpp"

namespace weft::server::auth {

namespace {

constexpr const char* kLocalAdmin = "local-admin";
constexpr std::size_t kMaxCacheEntries = 10000;

core::Error Unauthenticated(std::string m) {
  return core::Error{core::Code::kUnauthenticated, std::move(m)};
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::string s;
  std::getline(in, s);
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

core::Status WritePrivateFile(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return core::Error{core::Code::kFailedPrecondition,
                       "admin key file: cannot write " + tmp + ": " + std::strerror(errno)};
  }
  ::fchmod(fd, 0600);
  std::string line = content + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return core::Error{core::Code::kFailedPrecondition,
                       "admin key file: cannot write " + path + ": " + why};
  }
  return {};
}

// The caller behind a valid API key (or a session of one).
Identity KeyIdentity(const store::ApiKeyRecord& rec) {
  Identity who;
  auto scope = ParseScope(rec.scope);
  who.scope = scope ? *scope : Scope::kViewer;
  who.name = rec.name;
  who.key_id = rec.id;
  who.work_queues = rec.work_queues;
  return who;
}

}  // namespace

std::string CheckKeyName(const std::string& name) {
  return core::NameProblem(name, core::kMaxApiKeyNameLength, "@");
}

Authenticator::Authenticator(store::Database& db, const core::Clock& clock,
                             AuthenticatorOptions options, std::shared_ptr<spdlog::logger> logger)
    : db_(db), clock_(clock), options_(options), logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
}

Authenticator::~Authenticator() = default;

core::Status Authenticator::Start() {
  std::string candidate = RandomHex(32);
  auto key = db_.WithRetry([&](store::Tx& tx) -> core::Result<std::string> {
    return store::ApiKeyRepo::SharedSecret(tx, "run_token_key", candidate);
  });
  if (!key.ok()) return key.error();
  run_token_key_ = *key;
  std::string session_candidate = RandomHex(32);
  auto session_key = db_.WithRetry([&](store::Tx& tx) -> core::Result<std::string> {
    return store::ApiKeyRepo::SharedSecret(tx, "session_token_key", session_candidate);
  });
  if (!session_key.ok()) return session_key.error();
  session_token_key_ = *session_key;
  return {};
}

core::Result<std::string> Authenticator::EnsureLocalAdminKey(const std::string& path) {
  if (!path.empty()) {
    std::string existing = ReadSmallFile(path);
    if (!existing.empty()) {
      auto who = Check(existing);
      if (who.ok() && who->scope == Scope::kAdmin) return existing;
    }
  }
  ApiKeyToken t = NewApiKeyToken();
  store::ApiKeyRecord rec;
  rec.id = t.id;
  // One key per key file: replicas (or tests) sharing a database never replace each other's.
  rec.name = std::string(kLocalAdmin) + "-" + t.id;
  rec.scope = "admin";
  rec.secret_sha256 = Sha256Hex(t.secret);
  auto st = db_.WithRetry([&](store::Tx& tx) -> core::Status {
    store::ApiKeyRepo::Insert(tx, rec);
    return {};
  });
  if (!st.ok()) return st.error();
  {
    std::lock_guard lock(mu_);
    cache_.clear();
  }
  std::string token = FormatApiKeyToken(t);
  if (!path.empty()) {
    if (auto w = WritePrivateFile(path, token); !w.ok()) return w.error();
    logger_->info("local admin key written path={}", path);
  }
  return token;
}

core::Result<Identity> Authenticator::Authenticate(const std::string& token) {
  if (token.empty()) {
    return Unauthenticated("no API key: send \"authorization: Bearer <key>\" (set WEFT_API_KEY)");
  }
  if (token.size() > 512) return Unauthenticated("API key not recognised");
  return Cached(Sha256Hex(token), &Authenticator::Check, token);
}

core::Result<Identity> Authenticator::AuthenticateSession(const std::string& token) {
  if (token.empty()) return Unauthenticated("no session: log in");
  if (token.size() > 512) return Unauthenticated("session not recognised");
  // Its own cache key: the same text never passes for both an API key and a session.
  return Cached("session:" + Sha256Hex(token), &Authenticator::CheckSession, token);
}

core::Result<Identity> Authenticator::Cached(
    const std::string& digest, core::Result<Identity> (Authenticator::*check)(const std::string&),
    const std::string& token) {
  auto now = std::chrono::steady_clock::now();
  auto ttl = std::chrono::duration<double>(options_.cache_seconds);
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(digest);
    if (it != cache_.end() && now - it->second.checked < ttl) return it->second.identity;
  }
  auto who = (this->*check)(token);
  // Database trouble is not an answer about the token: do not cache it.
  if (!who.ok() && who.error().code != core::Code::kUnauthenticated) return who;
  std::lock_guard lock(mu_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.insert_or_assign(digest, Entry{who, now});
  return who;
}

core::Result<Identity> Authenticator::Check(const std::string& token) {
  if (LooksLikeRunToken(token)) return CheckRunToken(token);
  return CheckApiKey(token);
}

core::Result<Identity> Authenticator::CheckApiKey(const std::string& token) {
  auto parsed = ParseApiKeyToken(token);
  if (!parsed) return Unauthenticated("API key not recognised (malformed)");
  auto now = clock_.Now();
  auto rec = db_.WithTransaction([&](store::Tx& tx) -> core::Result<store::ApiKeyRecord> {
    auto k = store::ApiKeyRepo::GetById(tx, parsed->id);
    if (!k) return Unauthenticated("API key not recognised (unknown or revoked)");
    if (!ConstantTimeEqual(k->secret_sha256, Sha256Hex(parsed->secret))) {
      return Unauthenticated("API key not recognised (unknown or revoked)");
    }
    if (k->expires && *k->expires <= now) {
      return Unauthenticated("API key \"" + k->name + "\" expired at " +
                             core::FormatTime(*k->expires));
    }
    store::ApiKeyRepo::TouchLastUsed(tx, k->id, now);
    return *k;
  });
  if (!rec.ok()) return rec.error();
  return KeyIdentity(*rec);
}

core::Result<Identity> Authenticator::CheckRunToken(const std::string& token) {
  auto t = VerifyRunToken(run_token_key_, token);
  if (!t) return Unauthenticated("run token not recognised");
  auto now = clock_.Now();
  auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (t->expires_unix <= now_unix) return Unauthenticated("run token expired");
  auto run = db_.WithTransaction([&](store::Tx& tx) -> core::Result<store::FlowRunRecord> {
    auto r = store::FlowRunRepo::Get(tx, t->flow_run_id);
    if (!r) return Unauthenticated("run token: its flow run no longer exists");
    return *r;
  });
  if (!run.ok()) return run.error();
  Identity who;
  if (run->run.state && run->run.state->IsTerminal()) {
    std::string why = "run token: flow run " + t->flow_run_id + " is final (" +
                      run->run.state->name + "); its token is no longer valid";
    auto ended = run->run.end_time.value_or(run->run.state->timestamp);
    auto grace = std::chrono::duration_cast<core::TimePoint::duration>(
        std::chrono::duration<double>(options_.run_token_log_grace_seconds));
    if (now - ended >= grace) return Unauthenticated(why);
    who.run_final = why;  // its last log lines only
  }
  who.scope = Scope::kRun;
  who.name = "run:" + t->flow_run_id;
  who.flow_run_id = t->flow_run_id;
  return who;
}

core::Result<Authenticator::CreatedKey> Authenticator::CreateKey(
    const std::string& name, const std::string& scope, const std::vector<std::string>& queues,
    double expires_in_seconds) {
  if (auto p = CheckKeyName(name); !p.empty()) return core::InvalidArgument("name: " + p);
  auto s = ParseScope(scope);
  if (!s) {
    return core::InvalidArgument("scope: \"" + scope +
                                 "\" is not one of viewer, operator, agent, admin");
  }
  if (!queues.empty() && *s != Scope::kAgent) {
    return core::InvalidArgument("work_queues: only an agent key is limited to work queues");
  }
  if (queues.size() > 100) return core::InvalidArgument("work_queues: at most 100");
  for (std::size_t i = 0; i < queues.size(); ++i) {
    if (auto st = core::CheckName(queues[i], "work_queues[" + std::to_string(i) + "]"); !st.ok()) {
      return st.error();
    }
  }
  if (expires_in_seconds < 0 || expires_in_seconds > 10 * 366 * 86400.0) {
    return core::InvalidArgument("expires_in_seconds: must be between 0 (never) and 10 years");
  }
  ApiKeyToken t = NewApiKeyToken();
  store::ApiKeyRecord rec;
  rec.id = t.id;
  rec.name = name;
  rec.scope = scope;
  rec.work_queues = queues;
  rec.secret_sha256 = Sha256Hex(t.secret);
  if (expires_in_seconds > 0) {
    rec.expires = clock_.Now() + std::chrono::duration_cast<core::TimePoint::duration>(
                                     std::chrono::duration<double>(expires_in_seconds));
  }
  auto created = db_.WithRetry([&](store::Tx& tx) -> core::Result<store::ApiKeyRecord> {
    if (!store::ApiKeyRepo::Insert(tx, rec)) {
      return core::AlreadyExists("api key \"" + name + "\" already exists");
    }
    auto back = store::ApiKeyRepo::GetById(tx, rec.id);
    if (!back) return core::Internal("api key vanished after insert");
    return *back;
  });
  if (!created.ok()) return created.error();
  logger_->info("api key created name={} scope={} queues={}", name, scope, queues.size());
  return CreatedKey{*created, FormatApiKeyToken(t)};
}

core::Result<std::vector<store::ApiKeyRecord>> Authenticator::ListKeys() {
  return db_.WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::ApiKeyRecord>> {
        return store::ApiKeyRepo::List(tx);
      });
}

core::Status Authenticator::RevokeKey(const std::string& name) {
  auto st = db_.WithRetry([&](store::Tx& tx) -> core::Status {
    if (!store::ApiKeyRepo::DeleteByName(tx, name)) {
      return core::NotFound("api key \"" + name + "\" not found");
    }
    return {};
  });
  if (!st.ok()) return st;
  {
    std::lock_guard lock(mu_);
    cache_.clear();
  }
  logger_->info("api key revoked name={}", name);
  return {};
}

core::Result<Identity> Authenticator::CheckSession(const std::string& token) {
  auto t = VerifySessionToken(session_token_key_, token);
  if (!t) return Unauthenticated("session not recognised: log in again");
  auto now = clock_.Now();
  auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (t->expires_unix <= now_unix) return Unauthenticated("session expired: log in again");
  auto rec = db_.WithTransaction([&](store::Tx& tx) -> core::Result<store::ApiKeyRecord> {
    auto k = store::ApiKeyRepo::GetById(tx, t->key_id);
    if (!k) return Unauthenticated("session ended: its API key was revoked; log in again");
    if (k->expires && *k->expires <= now) {
      return Unauthenticated("session ended: API key \"" + k->name + "\" expired at " +
                             core::FormatTime(*k->expires));
    }
    store::ApiKeyRepo::TouchLastUsed(tx, k->id, now);
    return *k;
  });
  if (!rec.ok()) return rec.error();
  return KeyIdentity(*rec);
}

core::Result<std::string> Authenticator::MintSessionToken(const Identity& who,
                                                          double lifetime_seconds) const {
  if (who.key_id.empty()) {
    return core::InvalidArgument("a session needs an API key (not a run token)");
  }
  auto exp = clock_.Now() + std::chrono::duration_cast<core::TimePoint::duration>(
                                std::chrono::duration<double>(lifetime_seconds));
  SessionToken t;
  t.key_id = who.key_id;
  t.expires_unix =
      std::chrono::duration_cast<std::chrono::seconds>(exp.time_since_epoch()).count();
  return auth::MintSessionToken(session_token_key_, t);
}

std::string Authenticator::MintRunToken(const std::string& flow_run_id) const {
  auto exp = clock_.Now() + std::chrono::duration_cast<core::TimePoint::duration>(
                                std::chrono::duration<double>(options_.run_token_lifetime_seconds));
  RunToken t;
  t.flow_run_id = flow_run_id;
  t.expires_unix =
      std::chrono::duration_cast<std::chrono::seconds>(exp.time_since_epoch()).count();
  return auth::MintRunToken(run_token_key_, t);
}

}  // namespace weft::server::auth
