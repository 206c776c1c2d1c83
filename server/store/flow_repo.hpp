#pragma once
// Flows: one row per flow name.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/store/database.hpp"
#include "server/store/records.hpp"

namespace weft::server::store {

// Methods throw database exceptions; Database::WithTransaction translates them.
class FlowRepo {
 public:
  // Idempotent on name: returns the flow and whether it was created. An existing flow's
  // schema is replaced when `parameters_schema_json` is not empty; its tags when `tags` is not.
  static std::pair<FlowRecord, bool> Upsert(Tx& tx, const std::string& name,
                                            const std::vector<std::string>& tags,
                                            const std::string& parameters_schema_json);
  // The id of the flow named `name`, created when missing.
  static std::string EnsureId(Tx& tx, const std::string& name);
  static std::optional<FlowRecord> GetById(Tx& tx, const std::string& id);
  static std::optional<FlowRecord> GetByName(Tx& tx, const std::string& name);
  // Ordered by name; `after_name` is the keyset cursor ("" = from the start).
  static std::vector<FlowRecord> List(Tx& tx, const std::string& name_prefix,
                                      const std::string& after_name, int limit);
};

}  // namespace weft::server::store
