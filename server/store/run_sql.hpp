#pragma once
// Store-internal: the SQL shared by the two run aggregates (flow_runs, task_runs), which
// have the same state columns and history tables. Used by flow_run_repo.cpp and
// task_run_repo.cpp to build their named statements and to bind their parameters.
#include <string>
#include <utility>
#include <vector>

#include "server/store/database.hpp"
#include "server/store/records.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store::run_sql {

// "id, state_id, state_type, ..., total_run_time" (qualified with `alias.` when given).
std::string FactColumns(const std::string& alias = "");

// Statements named <prefix>.lock_many / update_many / insert_states / list_states /
// list_states_newest.
std::vector<Statement> Statements(const std::string& prefix, const std::string& table,
                                  const std::string& states_table, const std::string& fk);

std::vector<RunFacts> LockMany(Tx& tx, const std::string& prefix,
                               const std::vector<std::string>& ids);
void UpdateMany(Tx& tx, const std::string& prefix, const std::vector<RunFacts>& runs);
// Appends states in order; returns their history ids in the same order.
std::vector<std::int64_t> InsertStates(
    Tx& tx, const std::string& prefix,
    const std::vector<std::pair<std::string, const core::State*>>& rows);
std::vector<StateRecord> ListStates(Tx& tx, const std::string& prefix, const std::string& id,
                                   const StatePage& page);

}  // namespace weft::server::store::run_sql
