#include "server/store/api_key_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

const char* const kColumns =
    "id, name, scope, work_queues, secret_sha256, created, expires, last_used";

ApiKeyRecord ReadKey(const pqxx::row& r) {
  ApiKeyRecord k;
  k.id = r["id"].c_str();
  k.name = r["name"].c_str();
  k.scope = r["scope"].c_str();
  k.work_queues = ReadTextArray(r["work_queues"]);
  k.secret_sha256 = r["secret_sha256"].c_str();
  k.created = ReadTimeOr(r["created"]);
  k.expires = ReadTime(r["expires"]);
  k.last_used = ReadTime(r["last_used"]);
  return k;
}

std::optional<ApiKeyRecord> One(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return ReadKey(r[0]);
}

}  // namespace

std::vector<Statement> ApiKeyRepoStatements() {
  std::string cols = kColumns;
  return {
      {"api_key.insert",
       "INSERT INTO api_keys (id, name, scope, work_queues, secret_sha256, expires)"
       " VALUES ($1, $2, $3, $4::text[], $5, $6::timestamptz) ON CONFLICT DO NOTHING"
       " RETURNING id"},
      {"api_key.get", "SELECT " + cols + " FROM api_keys WHERE id = $1"},
      {"api_key.get_by_name", "SELECT " + cols + " FROM api_keys WHERE name = $1"},
      {"api_key.list", "SELECT " + cols + " FROM api_keys ORDER BY name"},
      {"api_key.delete", "DELETE FROM api_keys WHERE name = $1 RETURNING id"},
      {"api_key.touch",
       "UPDATE api_keys SET last_used = $2::timestamptz WHERE id = $1"
       " AND (last_used IS NULL OR last_used < $2::timestamptz - interval '1 minute')"},
      {"server_secret.insert",
       "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING"},
      {"server_secret.get", "SELECT value FROM server_secrets WHERE name = $1"},
  };
}

bool ApiKeyRepo::Insert(Tx& tx, const ApiKeyRecord& key) {
  return !tx.raw()
              .exec_prepared("api_key.insert", key.id, key.name, key.scope,
                             ArrayLiteral(key.work_queues), key.secret_sha256,
                             TimeParam(key.expires))
              .empty();
}

std::optional<ApiKeyRecord> ApiKeyRepo::GetById(Tx& tx, const std::string& id) {
  return One(tx.raw().exec_prepared("api_key.get", id));
}

std::optional<ApiKeyRecord> ApiKeyRepo::GetByName(Tx& tx, const std::string& name) {
  return One(tx.raw().exec_prepared("api_key.get_by_name", name));
}

std::vector<ApiKeyRecord> ApiKeyRepo::List(Tx& tx) {
  auto r = tx.raw().exec_prepared("api_key.list");
  std::vector<ApiKeyRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadKey(row));
  return out;
}

bool ApiKeyRepo::DeleteByName(Tx& tx, const std::string& name) {
  return !tx.raw().exec_prepared("api_key.delete", name).empty();
}

void ApiKeyRepo::TouchLastUsed(Tx& tx, const std::string& id, core::TimePoint now) {
  tx.raw().exec_prepared("api_key.touch", id, TimeParam(now));
}

std::string ApiKeyRepo::SharedSecret(Tx& tx, const std::string& name,
                                     const std::string& candidate) {
  tx.raw().exec_prepared("server_secret.insert", name, candidate);
  return tx.raw().exec_prepared1("server_secret.get", name)[0].c_str();
}

}  // namespace weft::server::store
