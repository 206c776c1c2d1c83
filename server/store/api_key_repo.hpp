#pragma once
// API keys and the servers' shared secrets (migration 0012). Only hashes of key secrets
// are stored; see server/auth/ for how tokens are made and checked.
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/time.hpp"
#include "server/store/database.hpp"

namespace weft::server::store {

struct ApiKeyRecord {
  std::string id;    // lookup prefix
  std::string name;
  std::string scope;  // viewer | operator | agent | admin
  std::vector<std::string> work_queues;
  std::string secret_sha256;  // hex
  core::TimePoint created{};
  std::optional<core::TimePoint> expires;
  std::optional<core::TimePoint> last_used;
};

class ApiKeyRepo {
 public:
  // False when the name is taken.
  static bool Insert(Tx& tx, const ApiKeyRecord& key);
  static std::optional<ApiKeyRecord> GetById(Tx& tx, const std::string& id);
  static std::optional<ApiKeyRecord> GetByName(Tx& tx, const std::string& name);
  static std::vector<ApiKeyRecord> List(Tx& tx);
  // False when no key has that name.
  static bool DeleteByName(Tx& tx, const std::string& name);
  // Records use at most once a minute per key (no write on most calls).
  static void TouchLastUsed(Tx& tx, const std::string& id, core::TimePoint now);

  // The named shared secret, created from `candidate` by the first caller (replicas agree).
  static std::string SharedSecret(Tx& tx, const std::string& name, const std::string& candidate);
};

}  // namespace weft::server::store
