#pragma once
// Token formats and the cryptography under them (OpenSSL). No I/O.
//
//   API key:   weft_<id: 12 hex>_<secret: 64 hex>       the server keeps sha256(secret)
//   run token: weftrun_<flow run id>_<expiry unix s>_<hmac-sha256 hex>
//              signed with the replicas' shared "run_token_key"
//   session:   weftsess_<API key id>_<expiry unix s>_<hmac-sha256 hex>
//              the dashboard's cookie, signed with the shared "session_token_key"
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft::server::auth {

// `bytes` random bytes from the OS's CSPRNG, as lowercase hex.
std::string RandomHex(std::size_t bytes);
std::string Sha256Hex(std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Same length and bytes, compared without an early exit.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

struct ApiKeyToken {
  std::string id;
  std::string secret;
};
// A new key: a fresh id and secret.
ApiKeyToken NewApiKeyToken();
std::string FormatApiKeyToken(const ApiKeyToken& t);
// nullopt unless `token` has the API key shape.
std::optional<ApiKeyToken> ParseApiKeyToken(std::string_view token);

struct RunToken {
  std::string flow_run_id;
  std::int64_t expires_unix = 0;
};
std::string MintRunToken(std::string_view key, const RunToken& t);
// nullopt unless `token` is a run token signed with `key` (expiry is not checked here).
std::optional<RunToken> VerifyRunToken(std::string_view key, std::string_view token);
bool LooksLikeRunToken(std::string_view token);

// A dashboard session: stands for the API key `key_id` until `expires_unix`. It never holds
// the key's secret; revoking the key ends it.
struct SessionToken {
  std::string key_id;
  std::int64_t expires_unix = 0;
};
std::string MintSessionToken(std::string_view key, const SessionToken& t);
// nullopt unless `token` is a session token signed with `key` (expiry is not checked here).
std::optional<SessionToken> VerifySessionToken(std::string_view key, std::string_view token);

}  // namespace weft::server::auth
