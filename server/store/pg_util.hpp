#pragma once
// Store-internal helpers around libpqxx: parameters and row decoding.
// Included only by server/store/*.cpp.
#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

#include "sdk/core/error.hpp"
#include "sdk/core/retry.hpp"
#include "sdk/core/state.hpp"
#include "server/store/records.hpp"

namespace weft::server::store {

// Turns the exception being handled into an Error (the one translator; see database.cpp).
core::Error TranslateCurrentException();

// A PostgreSQL array literal: {"a","b",NULL}. Elements are quoted and escaped.
std::string ArrayLiteral(const std::vector<std::string>& items);
std::string ArrayLiteral(const std::vector<std::optional<std::string>>& items);

std::optional<std::string> TimeParam(const std::optional<core::TimePoint>& t);
std::string TimeParam(core::TimePoint t);
// "" -> NULL (for jsonb columns fed from optional JSON text)
std::optional<std::string> NullIfEmpty(const std::string& s);

std::optional<core::TimePoint> ReadTime(const pqxx::field& f);
core::TimePoint ReadTimeOr(const pqxx::field& f, core::TimePoint fallback = {});
std::string ReadText(const pqxx::field& f);  // NULL -> ""
std::vector<std::string> ReadTextArray(const pqxx::field& f);

std::string RetryPolicyToJson(const core::RetryPolicy& p);
core::RetryPolicy RetryPolicyFromJson(const std::string& json);

// Reads the state columns of a run row (state_type, state_name, ...); none when NULL.
std::optional<core::State> ReadRunState(const pqxx::row& r);
// Reads a history row (type, name, timestamp, message, details, scheduled_time, idempotency_key).
core::State ReadHistoryState(const pqxx::row& r);
// Reads the RunFacts columns shared by flow_runs and task_runs.
RunFacts ReadRunFacts(const pqxx::row& r);

}  // namespace weft::server::store
