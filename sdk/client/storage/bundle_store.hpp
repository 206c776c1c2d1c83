#pragma once
// Where bundles live: one interface over the three storage kinds. Bundles are addressed by
// their digest ("sha256:<hex>"); Get verifies the digest of what it fetched.
//   local:  <path>/bundles/<hex>.tar.gz (written atomically: temp file + rename)
//   server: streamed to and from weft-server over gRPC (1 MiB chunks)
//   s3:     <prefix>bundles/<hex>.tar.gz in the bucket, path-style URLs, SigV4-signed;
//           credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
#include <cstdint>
#include <memory>
#include <string>

#include "sdk/core/error.hpp"
#include "weft/v1/storage.pb.h"

namespace weft::client {
class Client;
}

namespace weft::client::storage {

class BundleStore {
 public:
  virtual ~BundleStore() = default;
  // "local /srv/flows", "server", "s3 http://127.0.0.1:9000/bucket/prefix/".
  virtual std::string Describe() const = 0;
  // Stores `file` under `digest` (the caller computed it; stores may check it).
  [[nodiscard]] virtual core::Status Put(const std::string& digest, const std::string& file) = 0;
  [[nodiscard]] virtual core::Result<bool> Exists(const std::string& digest) = 0;
  // Fetches into `dest_file` (atomically) and verifies the digest.
  [[nodiscard]] virtual core::Status Get(const std::string& digest,
                                         const std::string& dest_file) = 0;
};

// The store for a storage record from the server. `client` must outlive the store (used by
// "server" storage). Config errors (a missing path, bucket or credentials) name the storage
// and the field.
core::Result<std::unique_ptr<BundleStore>> OpenBundleStore(const v1::Storage& storage,
                                                           Client& client);

// Direct constructors, for tests and tools.
std::unique_ptr<BundleStore> MakeLocalStore(const std::string& path);
std::unique_ptr<BundleStore> MakeServerStore(Client& client);
struct S3Config {
  std::string endpoint;  // "http://127.0.0.1:9000" or "https://s3.eu-west-1.amazonaws.com"
  std::string bucket;
  std::string region = "us-east-1";
  std::string prefix;  // "" or ending in '/' ("team-a/")
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  // A GET that has not finished after this long is abandoned (DEADLINE_EXCEEDED); 0 = the
  // default, core::bounds::kS3GetTimeoutSeconds. A body over `max_get_bytes` (0 = the bundle
  // size limit, MaxBundleSize()) is abandoned as it arrives (RESOURCE_EXHAUSTED).
  double get_timeout_seconds = 0;
  std::int64_t max_get_bytes = 0;
};
std::unique_ptr<BundleStore> MakeS3Store(S3Config config);

// Object key or file name of a bundle: "bundles/<hex>.tar.gz".
std::string BundleObjectName(const std::string& digest);

// The last step of every download: checks that `tmp` has `digest`, then renames it to
// `dest_file`. On any failure `tmp` is removed and nothing is left at `dest_file`.
core::Status PublishVerified(const std::string& tmp, const std::string& digest,
                             const std::string& dest_file);

}  // namespace weft::client::storage
