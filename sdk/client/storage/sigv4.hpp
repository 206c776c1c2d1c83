#pragma once
// AWS Signature Version 4 (header form), as used by S3 and S3-compatible servers.
// Pure functions over strings, so each step can be checked against published examples.
#include <map>
#include <string>

namespace weft::client::storage {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials)
};

struct SigV4Request {
  std::string method;                          // "GET", "PUT", "HEAD"
  std::string path;                            // URI path, not yet encoded ("/bucket/key")
  std::map<std::string, std::string> query;    // decoded names and values
  std::map<std::string, std::string> headers;  // names in any case; must include host
  std::string payload_sha256_hex;              // hex sha256 of the body, or UNSIGNED-PAYLOAD
};

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX
// (upper case); '/' kept when `keep_slash`.
std::string UriEncode(const std::string& s, bool keep_slash);

// The steps of the algorithm, exposed for tests.
std::string CanonicalRequest(const SigV4Request& req);
std::string CredentialScope(const std::string& date, const std::string& region,
                            const std::string& service);  // "20130524/us-east-1/s3/aws4_request"
std::string StringToSign(const std::string& amz_date, const std::string& scope,
                         const std::string& canonical_request);
// Raw bytes of the derived key; hex of it for tests.
std::string SigningKey(const std::string& secret, const std::string& date,
                       const std::string& region, const std::string& service);
std::string HexEncode(const std::string& bytes);
std::string HmacSha256(const std::string& key, const std::string& data);  // raw bytes
std::string SignedHeaders(const SigV4Request& req);                       // "host;range;x-amz-date"

// The Authorization header value for `req` signed at `amz_date` ("20130524T000000Z").
// `req.headers` must already hold x-amz-date (and x-amz-content-sha256 / x-amz-security-token
// when used), since they are signed.
std::string Authorization(const SigV4Request& req, const SigV4Credentials& creds,
                          const std::string& region, const std::string& service,
                          const std::string& amz_date);

}  // namespace weft::client::storage
