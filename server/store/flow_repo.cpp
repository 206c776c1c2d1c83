#include "server/store/flow_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

constexpr const char* kColumns = "id, name, tags, parameters_schema, created";

FlowRecord ReadFlow(const pqxx::row& r) {
  FlowRecord f;
  f.id = r["id"].c_str();
  f.name = r["name"].c_str();
  f.tags = ReadTextArray(r["tags"]);
  f.parameters_schema_json = ReadText(r["parameters_schema"]);
  f.created = ReadTimeOr(r["created"]);
  return f;
}

}  // namespace

std::vector<Statement> FlowRepoStatements() {
  std::string cols = kColumns;
  return {
      {"flow.upsert",
       "INSERT INTO flows (name, tags, parameters_schema) VALUES ($1, $2::text[], $3::jsonb)"
       " ON CONFLICT (name) DO UPDATE SET"
       " parameters_schema = COALESCE(EXCLUDED.parameters_schema, flows.parameters_schema),"
       " tags = CASE WHEN cardinality(EXCLUDED.tags) > 0 THEN EXCLUDED.tags ELSE flows.tags END,"
       " updated = now()"
       " RETURNING " + cols + ", (xmax = 0) AS inserted"},
      {"flow.id_by_name", "SELECT id FROM flows WHERE name = $1"},
      {"flow.insert_if_missing",
       "INSERT INTO flows (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id"},
      {"flow.get_by_id", "SELECT " + cols + " FROM flows WHERE id = $1::uuid"},
      {"flow.get_by_name", "SELECT " + cols + " FROM flows WHERE name = $1"},
      {"flow.list",
       "SELECT " + cols + " FROM flows WHERE starts_with(name, $1) AND name > $2"
       " ORDER BY name LIMIT $3"},
  };
}

std::pair<FlowRecord, bool> FlowRepo::Upsert(Tx& tx, const std::string& name,
                                             const std::vector<std::string>& tags,
                                             const std::string& parameters_schema_json) {
  auto row = tx.raw().exec_prepared1("flow.upsert", name, ArrayLiteral(tags),
                                     NullIfEmpty(parameters_schema_json));
  return {ReadFlow(row), row["inserted"].as<bool>()};
}

std::string FlowRepo::EnsureId(Tx& tx, const std::string& name) {
  // Read first: the common case takes no row lock, so concurrent run creations of one
  // flow do not queue behind each other.
  for (int i = 0; i < 3; ++i) {
    auto r = tx.raw().exec_prepared("flow.id_by_name", name);
    if (!r.empty()) return r[0][0].c_str();
    auto ins = tx.raw().exec_prepared("flow.insert_if_missing", name);
    if (!ins.empty()) return ins[0][0].c_str();
  }
  throw pqxx::internal_error("flow \"" + name + "\" could be neither created nor found");
}

std::optional<FlowRecord> FlowRepo::GetById(Tx& tx, const std::string& id) {
  auto r = tx.raw().exec_prepared("flow.get_by_id", id);
  if (r.empty()) return std::nullopt;
  return ReadFlow(r[0]);
}

std::optional<FlowRecord> FlowRepo::GetByName(Tx& tx, const std::string& name) {
  auto r = tx.raw().exec_prepared("flow.get_by_name", name);
  if (r.empty()) return std::nullopt;
  return ReadFlow(r[0]);
}

std::vector<FlowRecord> FlowRepo::List(Tx& tx, const std::string& name_prefix,
                                       const std::string& after_name, int limit) {
  auto r = tx.raw().exec_prepared("flow.list", name_prefix, after_name, limit);
  std::vector<FlowRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadFlow(row));
  return out;
}

}  // namespace weft::server::store
