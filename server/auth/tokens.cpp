#include "server/auth/tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace weft::server::auth {

namespace {

constexpr std::string_view kKeyPrefix = "weft_";
constexpr std::string_view kRunPrefix = "weftrun_";
constexpr std::string_view kSessionPrefix = "weftsess_";
constexpr std::size_t kIdHex = 12;
constexpr std::size_t kSecretHex = 64;

std::string Hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string RandomHex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
    // No randomness means no safe keys: a bug or a broken machine, not an expected failure.
    std::abort();
  }
  return Hex(buf.data(), bytes);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return Hex(md, n);
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &n);
  return Hex(md, n);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

ApiKeyToken NewApiKeyToken() { return {RandomHex(kIdHex / 2), RandomHex(kSecretHex / 2)}; }

std::string FormatApiKeyToken(const ApiKeyToken& t) {
  return std::string(kKeyPrefix) + t.id + "_" + t.secret;
}

std::optional<ApiKeyToken> ParseApiKeyToken(std::string_view token) {
  if (token.size() != kKeyPrefix.size() + kIdHex + 1 + kSecretHex) return std::nullopt;
  if (token.substr(0, kKeyPrefix.size()) != kKeyPrefix) return std::nullopt;
  std::string_view rest = token.substr(kKeyPrefix.size());
  if (rest[kIdHex] != '_') return std::nullopt;
  std::string_view id = rest.substr(0, kIdHex);
  std::string_view secret = rest.substr(kIdHex + 1);
  if (!IsLowerHex(id) || !IsLowerHex(secret)) return std::nullopt;
  return ApiKeyToken{std::string(id), std::string(secret)};
}

bool LooksLikeRunToken(std::string_view token) {
  return token.substr(0, kRunPrefix.size()) == kRunPrefix;
}

namespace {

// "<prefix><subject>_<expiry>_<hmac of subject_expiry>": the shape of run and session tokens.
std::string Sign(std::string_view prefix, std::string_view key, const std::string& subject,
                 std::int64_t expires_unix) {
  std::string body = subject + "_" + std::to_string(expires_unix);
  return std::string(prefix) + body + "_" + HmacSha256Hex(key, body);
}

struct Signed {
  std::string subject;
  std::int64_t expires_unix = 0;
};

// The subject and expiry of a token `Sign` made with the same prefix and key; nullopt for
// anything else (a wrong key or prefix, a changed subject or expiry, a malformed token).
std::optional<Signed> Verify(std::string_view prefix, std::string_view key,
                             std::string_view token) {
  if (token.size() > 200 || token.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view rest = token.substr(prefix.size());
  auto last = rest.rfind('_');
  if (last == std::string_view::npos) return std::nullopt;
  std::string_view body = rest.substr(0, last);
  if (!ConstantTimeEqual(HmacSha256Hex(key, body), rest.substr(last + 1))) return std::nullopt;
  auto sep = body.rfind('_');
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view exp = body.substr(sep + 1);
  if (exp.empty() || exp.size() > 15) return std::nullopt;
  for (char c : exp) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return Signed{std::string(body.substr(0, sep)), std::stoll(std::string(exp))};
}

}  // namespace

std::string MintRunToken(std::string_view key, const RunToken& t) {
  return Sign(kRunPrefix, key, t.flow_run_id, t.expires_unix);
}

std::optional<RunToken> VerifyRunToken(std::string_view key, std::string_view token) {
  auto v = Verify(kRunPrefix, key, token);
  if (!v) return std::nullopt;
  return RunToken{v->subject, v->expires_unix};
}

std::string MintSessionToken(std::string_view key, const SessionToken& t) {
  return Sign(kSessionPrefix, key, t.key_id, t.expires_unix);
}

std::optional<SessionToken> VerifySessionToken(std::string_view key, std::string_view token) {
  auto v = Verify(kSessionPrefix, key, token);
  if (!v || v->subject.size() != kIdHex || !IsLowerHex(v->subject)) return std::nullopt;
  SessionToken t;
  t.key_id = v->subject;
  t.expires_unix = v->expires_unix;
  return t;
}

}  // namespace weft::server::auth
