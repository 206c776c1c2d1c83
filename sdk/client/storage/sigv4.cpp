#include "sdk/client/storage/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "sdk/client/bundle.hpp"

namespace weft::client::storage {

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Trims and collapses runs of spaces, as the canonical header value wants.
std::string CanonicalValue(const std::string& v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::map<std::string, std::string> CanonicalHeaders(const SigV4Request& req) {
  std::map<std::string, std::string> h;
  for (const auto& [k, v] : req.headers) h[Lower(k)] = CanonicalValue(v);
  return h;
}

}  // namespace

std::string UriEncode(const std::string& s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string HexEncode(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

std::string HmacSha256(const std::string& key, const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &n);
  return std::string(reinterpret_cast<const char*>(md), n);
}

std::string SignedHeaders(const SigV4Request& req) {
  std::string out;
  for (const auto& [k, v] : CanonicalHeaders(req)) {
    if (!out.empty()) out += ';';
    out += k;
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& req) {
  std::string out = req.method + "\n";
  out += UriEncode(req.path.empty() ? "/" : req.path, true) + "\n";
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : req.query) q.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(q.begin(), q.end());
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (i) out += '&';
    out += q[i].first + "=" + q[i].second;
  }
  out += "\n";
  for (const auto& [k, v] : CanonicalHeaders(req)) out += k + ":" + v + "\n";
  out += "\n";
  out += SignedHeaders(req) + "\n";
  out += req.payload_sha256_hex;
  return out;
}

std::string CredentialScope(const std::string& date, const std::string& region,
                            const std::string& service) {
  return date + "/" + region + "/" + service + "/aws4_request";
}

std::string StringToSign(const std::string& amz_date, const std::string& scope,
                         const std::string& canonical_request) {
  return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(canonical_request);
}

std::string SigningKey(const std::string& secret, const std::string& date,
                       const std::string& region, const std::string& service) {
  std::string k = HmacSha256("AWS4" + secret, date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string Authorization(const SigV4Request& req, const SigV4Credentials& creds,
                          const std::string& region, const std::string& service,
                          const std::string& amz_date) {
  std::string date = amz_date.substr(0, 8);
  std::string scope = CredentialScope(date, region, service);
  std::string sts = StringToSign(amz_date, scope, CanonicalRequest(req));
  std::string signature =
      HexEncode(HmacSha256(SigningKey(creds.secret_access_key, date, region, service), sts));
  return "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + scope +
         ", SignedHeaders=" + SignedHeaders(req) + ", Signature=" + signature;
}

}  // namespace weft::client::storage
