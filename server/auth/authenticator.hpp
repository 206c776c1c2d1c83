#pragma once
// Authentication: API keys (created, listed, revoked; checked by hash in constant time) and
// run tokens (minted at claim for one flow run; valid until the run is final), with a short
// cache so a call costs no database round trip. Used by the gRPC auth processor and the HTTP
// middleware alike; no gRPC or pqxx types here.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "sdk/core/error.hpp"
#include "sdk/core/time.hpp"
#include "server/auth/access.hpp"
#include "server/store/api_key_repo.hpp"
#include "server/store/database.hpp"

namespace spdlog {
class logger;
}

namespace weft::server::auth {

struct AuthenticatorOptions {
  // How long a checked token is trusted without asking the database again: a revoked or
  // expired key (or a run token whose run became final) is refused at most this much later.
  double cache_seconds = 1;
  // A run token's hard expiry after it is minted (it also dies when its run is final).
  double run_token_lifetime_seconds = 7 * 86400.0;
  // After its run is final a run token may still write that run's logs this long (the last
  // lines a flow ships after its final state); then it is refused for everything.
  double run_token_log_grace_seconds = 60;
};

class Authenticator {
 public:
  Authenticator(store::Database& db, const core::Clock& clock, AuthenticatorOptions options,
                std::shared_ptr<spdlog::logger> logger);
  ~Authenticator();

  // Loads (or creates, on the first server) the key that signs run tokens.
  core::Status Start();

  // The local admin key of this server: reuses the admin token in `path` when it is still
  // valid, otherwise creates a key named "local-admin-<id>" and writes its token to `path`
  // (mode 0600, through a temporary file and a rename). With an empty `path` a fresh key is
  // made and only returned (servers embedded in tests and benchmarks).
  core::Result<std::string> EnsureLocalAdminKey(const std::string& path);

  // The caller behind `token` (an API key or a run token); UNAUTHENTICATED otherwise, with a
  // message that never echoes the token.
  core::Result<Identity> Authenticate(const std::string& token);

  struct CreatedKey {
    store::ApiKeyRecord key;
    std::string token;  // shown once
  };
  core::Result<CreatedKey> CreateKey(const std::string& name, const std::string& scope,
                                     const std::vector<std::string>& work_queues,
                                     double expires_in_seconds);
  core::Result<std::vector<store::ApiKeyRecord>> ListKeys();
  // Forgets the key; this replica refuses it at once, others within cache_seconds.
  core::Status RevokeKey(const std::string& name);

  // A token for the flow process of `flow_run_id`.
  std::string MintRunToken(const std::string& flow_run_id) const;

  // Dashboard sessions (the HTTP side's cookie). A session stands for the API key `who` was
  // authenticated with (never a run token: INVALID_ARGUMENT) for `lifetime_seconds`; it holds
  // no secret of the key. AuthenticateSession answers the key's identity, or UNAUTHENTICATED
  // when the token is forged or expired or its key is revoked or expired (cached like keys).
  // Authenticate() never accepts a session token, so a cookie is no API key elsewhere.
  core::Result<std::string> MintSessionToken(const Identity& who, double lifetime_seconds) const;
  core::Result<Identity> AuthenticateSession(const std::string& token);

 private:
  struct Entry {
    core::Result<Identity> identity;
    std::chrono::steady_clock::time_point checked;
  };
  core::Result<Identity> Check(const std::string& token);
  core::Result<Identity> CheckApiKey(const std::string& token);
  core::Result<Identity> CheckRunToken(const std::string& token);
  core::Result<Identity> CheckSession(const std::string& token);
  core::Result<Identity> Cached(const std::string& cache_key,
                                core::Result<Identity> (Authenticator::*check)(const std::string&),
                                const std::string& token);

  store::Database& db_;
  const core::Clock& clock_;
  AuthenticatorOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string run_token_key_;
  std::string session_token_key_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;  // by sha256 of the token
};

// Checks a key name: the name rule with '@', at most 64 (sdk/core/names.hpp). "" when fine,
// else the problem.
std::string CheckKeyName(const std::string& name);

}  // namespace weft::server::auth
