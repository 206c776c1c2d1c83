#pragma once
// Storages (named places for bundles) and the bundles kept in "server" storage.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/store/database.hpp"
#include "server/store/records.hpp"

namespace weft::server::store {

// Methods throw database exceptions; Database::WithTransaction translates them.
class StorageRepo {
 public:
  // nullopt when the name is taken.
  static std::optional<StorageRecord> Insert(Tx& tx, const std::string& name,
                                             const std::string& kind,
                                             const std::string& config_json);
  // With used_by.
  static std::optional<StorageRecord> GetByName(Tx& tx, const std::string& name);
  static std::optional<StorageRecord> GetDefault(Tx& tx);
  // Ordered by name, after `after_name` (keyset), with used_by.
  static std::vector<StorageRecord> List(Tx& tx, const std::string& after_name, int limit);
  // Makes `name` the one default (clears the others first). False when unknown.
  static bool SetDefault(Tx& tx, const std::string& name);
  static bool HasDefault(Tx& tx);
  static bool Delete(Tx& tx, const std::string& id);
  // Takes a lock that serializes changes of the default (and deletions).
  static void LockCatalog(Tx& tx);
};

class BundleRepo {
 public:
  static std::optional<BundleInfo> Stat(Tx& tx, const std::string& digest);
  // Claims the digest: inserts the bundle row (size, chunks filled later by Complete).
  // False when a bundle with this digest already exists (waits for a concurrent upload of
  // the same digest to commit or roll back first).
  static bool Begin(Tx& tx, const std::string& digest, std::int64_t size);
  static void InsertChunk(Tx& tx, const std::string& digest, int seq, const char* data,
                          std::size_t size);
  static void Complete(Tx& tx, const std::string& digest, std::int64_t size, int chunks);
  // nullopt when the chunk does not exist.
  static std::optional<std::string> ReadChunk(Tx& tx, const std::string& digest, int seq);
};

}  // namespace weft::server::store
