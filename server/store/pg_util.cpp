#include "server/store/pg_util.hpp"

#include <nlohmann/json.hpp>

namespace weft::server::store {

namespace {

void AppendQuoted(std::string& out, const std::string& item) {
  out.push_back('"');
  for (char ch : item) {
    if (ch == '"' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('"');
}

std::optional<core::StateType> TypeFromColumn(const std::string& s) {
  return core::ParseStateType(s);
}

}  // namespace

std::string ArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    AppendQuoted(out, items[i]);
  }
  out.push_back('}');
  return out;
}

std::string ArrayLiteral(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    if (items[i]) {
      AppendQuoted(out, *items[i]);
    } else {
      out += "NULL";
    }
  }
  out.push_back('}');
  return out;
}

std::optional<std::string> TimeParam(const std::optional<core::TimePoint>& t) {
  if (!t) return std::nullopt;
  return core::FormatTime(*t);
}

std::string TimeParam(core::TimePoint t) { return core::FormatTime(t); }

std::optional<std::string> NullIfEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<core::TimePoint> ReadTime(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return core::ParseTime(f.c_str());
}

core::TimePoint ReadTimeOr(const pqxx::field& f, core::TimePoint fallback) {
  auto t = ReadTime(f);
  return t ? *t : fallback;
}

std::string ReadText(const pqxx::field& f) { return f.is_null() ? std::string() : f.c_str(); }

std::vector<std::string> ReadTextArray(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  auto parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done;
       item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out.push_back(item.second);
  }
  return out;
}

std::string RetryPolicyToJson(const core::RetryPolicy& p) {
  nlohmann::json j = {{"max_retries", p.max_retries},
                      {"delays_seconds", p.delays_seconds},
                      {"exponential_base", p.exponential_base},
                      {"jitter_factor", p.jitter_factor},
                      {"max_delay_seconds", p.max_delay_seconds}};
  return j.dump();
}

core::RetryPolicy RetryPolicyFromJson(const std::string& text) {
  core::RetryPolicy p;
  if (text.empty()) return p;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return p;
  p.max_retries = j.value("max_retries", 0);
  p.delays_seconds = j.value("delays_seconds", std::vector<double>{});
  p.exponential_base = j.value("exponential_base", 0.0);
  p.jitter_factor = j.value("jitter_factor", 0.0);
  p.max_delay_seconds = j.value("max_delay_seconds", 0.0);
  return p;
}

std::optional<core::State> ReadRunState(const pqxx::row& r) {
  if (r["state_type"].is_null()) return std::nullopt;
  auto type = TypeFromColumn(r["state_type"].c_str());
  if (!type) return std::nullopt;
  core::State s;
  s.type = *type;
  s.name = ReadText(r["state_name"]);
  if (s.name.empty()) s.name = core::DefaultStateName(s.type);
  s.timestamp = ReadTimeOr(r["state_timestamp"]);
  s.message = ReadText(r["state_message"]);
  s.details_json = ReadText(r["state_details"]);
  s.scheduled_time = ReadTime(r["state_scheduled_time"]);
  s.idempotency_key = ReadText(r["state_idempotency_key"]);
  return s;
}

core::State ReadHistoryState(const pqxx::row& r) {
  core::State s;
  s.type = TypeFromColumn(r["type"].c_str()).value_or(core::StateType::kPending);
  s.name = ReadText(r["name"]);
  s.timestamp = ReadTimeOr(r["timestamp"]);
  s.message = ReadText(r["message"]);
  s.details_json = ReadText(r["details"]);
  s.scheduled_time = ReadTime(r["scheduled_time"]);
  s.idempotency_key = ReadText(r["idempotency_key"]);
  return s;
}

RunFacts ReadRunFacts(const pqxx::row& r) {
  RunFacts f;
  f.id = r["id"].c_str();
  f.state = ReadRunState(r);
  f.state_id = r["state_id"].is_null() ? 0 : r["state_id"].as<std::int64_t>();
  f.run_count = r["run_count"].as<int>();
  f.retry_policy = RetryPolicyFromJson(ReadText(r["retry_policy"]));
  f.expected_start_time = ReadTime(r["expected_start_time"]);
  f.start_time = ReadTime(r["start_time"]);
  f.end_time = ReadTime(r["end_time"]);
  f.total_run_time = r["total_run_time"].as<double>();
  return f;
}

}  // namespace weft::server::store
