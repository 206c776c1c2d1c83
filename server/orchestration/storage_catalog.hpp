#pragma once
// Storages (named places for code bundles) and the bundles kept in "server" storage.
// No gRPC or pqxx types. Bundles stream through in chunks: an upload is spooled to an
// unlinked temporary file (no database connection is held while the client sends), checked,
// then stored in one short transaction; never more than about one chunk is in memory.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/error.hpp"
#include "server/store/database.hpp"
#include "server/store/records.hpp"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::orchestration {

struct StorageSpec {
  std::string name;
  std::string kind;  // local | server | s3
  std::map<std::string, std::string> config;
  bool make_default = false;
};

struct UploadResult {
  std::string digest;
  std::int64_t size = 0;
  bool already_present = false;
};

class StorageCatalog {
 public:
  static constexpr std::int64_t kDefaultMaxBundleSize = 100LL << 20;  // 100 MiB
  static constexpr std::size_t kChunkBytes = 1 << 20;                 // 1 MiB

  StorageCatalog(store::Database& db, std::int64_t max_bundle_size,
                 std::shared_ptr<spdlog::logger> logger);

  // Where uploads are spooled ("" = the system's temporary directory; created 0700 when
  // missing) and how many may be in progress at once (more: RESOURCE_EXHAUSTED).
  void SetUploadSpool(std::string dir, int max_concurrent_uploads);

  // Validates name, kind and config (see CheckStorageSpec). The first storage, or one
  // created with make_default, becomes the default.
  core::Result<store::StorageRecord> Create(const StorageSpec& spec);
  core::Result<store::StorageRecord> Get(const std::string& name);
  core::Result<std::vector<store::StorageRecord>> List(const std::string& after_name, int limit);
  core::Result<store::StorageRecord> SetDefault(const std::string& name);
  // FAILED_PRECONDITION naming the deployments that use it. When the default is deleted,
  // the first remaining storage by name becomes the default.
  core::Status Delete(const std::string& name);

  // nullopt when absent.
  core::Result<std::optional<store::BundleInfo>> StatBundle(const std::string& digest);
  // `next` yields the stream's data pieces in order (false = end of stream). The bytes are
  // counted against the size limit as they arrive and spooled to a temporary file (removed on
  // every path), then checked against `digest` and `size`; nothing is kept unless all is
  // right. A bundle already stored is answered with already_present=true at once.
  core::Result<UploadResult> UploadBundle(const std::string& digest, std::int64_t size,
                                          const std::function<bool(std::string* data)>& next);
  // Calls `write` with each chunk in order (false from write = the receiver went away).
  core::Status DownloadBundle(const std::string& digest,
                              const std::function<bool(const std::string& data)>& write);

  std::int64_t max_bundle_size() const { return max_bundle_size_; }
  const std::string& spool_dir() const { return spool_dir_; }

 private:
  store::Database& db_;
  std::int64_t max_bundle_size_;
  std::string spool_dir_;
  int max_concurrent_uploads_;
  std::atomic<int> uploads_in_progress_{0};
  std::shared_ptr<spdlog::logger> logger_;
};

// "" when valid; else the problem naming the field (name, kind, config.<key>).
// Fills config defaults (s3 region). Credentials are refused: they come from the environment.
std::string CheckStorageSpec(StorageSpec& spec);
// "" when `digest` is "sha256:<64 lowercase hex>"; else the problem.
std::string CheckDigest(const std::string& digest);
// A name by the one rule (sdk/core/names.hpp): [A-Za-z0-9_.-], 1 to 200 characters.
bool IsPlainName(const std::string& name);
// "120.0 MiB"; whole MiB without a fraction when exact ("100 MiB").
std::string FormatMiB(std::int64_t bytes, bool exact_if_whole);

}  // namespace weft::server::orchestration
