#include "server/store/storage_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

// Advisory lock key for the storage catalog: "weft" + "stor".
constexpr long long kCatalogLockKey = 0x77656674'73746f72LL;

const char* const kSelect =
    "SELECT s.id, s.name, s.kind, s.config, s.is_default, s.created,"
    " COALESCE((SELECT array_agg(f.name || '/' || d.name ORDER BY f.name, d.name)"
    " FROM deployments d JOIN flows f ON f.id = d.flow_id WHERE d.storage_id = s.id),"
    " '{}') AS used_by FROM storages s";

StorageRecord ReadStorage(const pqxx::row& r) {
  StorageRecord s;
  s.id = r["id"].c_str();
  s.name = r["name"].c_str();
  s.kind = r["kind"].c_str();
  s.config_json = ReadText(r["config"]);
  s.is_default = r["is_default"].as<bool>();
  s.created = ReadTimeOr(r["created"]);
  if (!r["used_by"].is_null()) s.used_by = ReadTextArray(r["used_by"]);
  return s;
}

}  // namespace

std::vector<Statement> StorageRepoStatements() {
  std::string sel = kSelect;
  return {
      {"storage.insert",
       "INSERT INTO storages (name, kind, config) VALUES ($1, $2, $3::jsonb)"
       " ON CONFLICT (name) DO NOTHING"
       " RETURNING id, name, kind, config, is_default, created, '{}'::text[] AS used_by"},
      {"storage.get_by_name", sel + " WHERE s.name = $1"},
      {"storage.get_default", sel + " WHERE s.is_default"},
      {"storage.list", sel + " WHERE s.name > $1 ORDER BY s.name LIMIT $2"},
      {"storage.clear_default", "UPDATE storages SET is_default = false WHERE is_default"},
      {"storage.set_default", "UPDATE storages SET is_default = true WHERE name = $1 RETURNING id"},
      {"storage.has_default", "SELECT EXISTS (SELECT 1 FROM storages WHERE is_default)"},
      {"storage.delete", "DELETE FROM storages WHERE id = $1::uuid RETURNING id"},
      {"storage.lock_catalog", "SELECT pg_advisory_xact_lock($1)"},
      {"bundle.stat", "SELECT digest, size, chunks FROM bundles WHERE digest = $1 AND chunks >= 0"},
      {"bundle.begin",
       "INSERT INTO bundles (digest, size, chunks) VALUES ($1, $2, -1)"
       " ON CONFLICT (digest) DO NOTHING RETURNING digest"},
      {"bundle.insert_chunk", "INSERT INTO bundle_chunks (digest, seq, data) VALUES ($1, $2, $3)"},
      {"bundle.complete", "UPDATE bundles SET size = $2, chunks = $3 WHERE digest = $1"},
      {"bundle.read_chunk", "SELECT data FROM bundle_chunks WHERE digest = $1 AND seq = $2"},
  };
}

std::optional<StorageRecord> StorageRepo::Insert(Tx& tx, const std::string& name,
                                                 const std::string& kind,
                                                 const std::string& config_json) {
  auto r = tx.raw().exec_prepared("storage.insert", name, kind, config_json);
  if (r.empty()) return std::nullopt;
  return ReadStorage(r[0]);
}

std::optional<StorageRecord> StorageRepo::GetByName(Tx& tx, const std::string& name) {
  auto r = tx.raw().exec_prepared("storage.get_by_name", name);
  if (r.empty()) return std::nullopt;
  return ReadStorage(r[0]);
}

std::optional<StorageRecord> StorageRepo::GetDefault(Tx& tx) {
  auto r = tx.raw().exec_prepared("storage.get_default");
  if (r.empty()) return std::nullopt;
  return ReadStorage(r[0]);
}

std::vector<StorageRecord> StorageRepo::List(Tx& tx, const std::string& after_name, int limit) {
  auto r = tx.raw().exec_prepared("storage.list", after_name, limit);
  std::vector<StorageRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadStorage(row));
  return out;
}

bool StorageRepo::SetDefault(Tx& tx, const std::string& name) {
  tx.raw().exec_prepared("storage.clear_default");
  return !tx.raw().exec_prepared("storage.set_default", name).empty();
}

bool StorageRepo::HasDefault(Tx& tx) {
  return tx.raw().exec_prepared1("storage.has_default")[0].as<bool>();
}

bool StorageRepo::Delete(Tx& tx, const std::string& id) {
  return !tx.raw().exec_prepared("storage.delete", id).empty();
}

void StorageRepo::LockCatalog(Tx& tx) {
  tx.raw().exec_prepared("storage.lock_catalog", kCatalogLockKey);
}

std::optional<BundleInfo> BundleRepo::Stat(Tx& tx, const std::string& digest) {
  auto r = tx.raw().exec_prepared("bundle.stat", digest);
  if (r.empty()) return std::nullopt;
  return BundleInfo{r[0]["digest"].c_str(), r[0]["size"].as<std::int64_t>(),
                    r[0]["chunks"].as<int>()};
}

bool BundleRepo::Begin(Tx& tx, const std::string& digest, std::int64_t size) {
  return !tx.raw().exec_prepared("bundle.begin", digest, size).empty();
}

void BundleRepo::InsertChunk(Tx& tx, const std::string& digest, int seq, const char* data,
                             std::size_t size) {
  pqxx::binarystring bytes(data, size);
  tx.raw().exec_prepared("bundle.insert_chunk", digest, seq, bytes);
}

void BundleRepo::Complete(Tx& tx, const std::string& digest, std::int64_t size, int chunks) {
  tx.raw().exec_prepared("bundle.complete", digest, size, chunks);
}

std::optional<std::string> BundleRepo::ReadChunk(Tx& tx, const std::string& digest, int seq) {
  auto r = tx.raw().exec_prepared("bundle.read_chunk", digest, seq);
  if (r.empty()) return std::nullopt;
  pqxx::binarystring bytes(r[0][0]);
  return bytes.str();
}

}  // namespace weft::server::store
