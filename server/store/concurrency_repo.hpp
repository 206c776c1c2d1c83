#pragma once
// Tag concurrency limits and the slots task runs hold (migration 0008). Slots are released
// by the triggers of 0008 (task run leaves RUNNING, flow run ends), which NOTIFY
// weft_concurrency '<tag>'.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/time.hpp"
#include "server/store/database.hpp"

namespace weft::server::store {

// NOTIFY channel of released slots; the payload is the tag.
inline constexpr const char* kConcurrencyChannel = "weft_concurrency";

struct ConcurrencyLimitRecord {
  std::string tag;
  int limit = 0;
  int active_slots = 0;  // live holders
  std::vector<core::orchestration::SlotHolder> holders;
  std::vector<std::string> holder_flow_run_names;  // parallel to holders
  core::TimePoint created{};
  core::TimePoint updated{};
};

class ConcurrencyRepo {
 public:
  // Creates or updates; `created` tells which.
  static ConcurrencyLimitRecord Upsert(Tx& tx, const std::string& tag, int limit, bool& created);
  // FOR UPDATE when `lock`.
  static std::optional<ConcurrencyLimitRecord> Get(Tx& tx, const std::string& tag, bool lock);
  // Every limit with its live slot count, by tag.
  static std::vector<ConcurrencyLimitRecord> List(Tx& tx, core::TimePoint live_after);
  // At most `limit` of them, by tag, after the tag `after` ("" = from the first).
  static std::vector<ConcurrencyLimitRecord> ListPage(Tx& tx, core::TimePoint live_after,
                                                      const std::string& after, int limit);
  static bool Delete(Tx& tx, const std::string& tag);
  // Frees every slot of the tag and wakes its waiters (NOTIFY); returns how many.
  static int Reset(Tx& tx, const std::string& tag);

  // Limits on the tags of these task runs, locked FOR UPDATE in tag order: run id -> limits
  // (holders not filled).
  static std::map<std::string, std::vector<core::orchestration::TagLimit>> LockLimitsOfRuns(
      Tx& tx, const std::vector<std::string>& task_run_ids);
  // Live holders of these tags: task run RUNNING, flow run not final, and its heartbeat (when
  // it has one) after `live_after`. With flow run names.
  static std::map<std::string, std::vector<core::orchestration::SlotHolder>> Holders(
      Tx& tx, const std::vector<std::string>& tags, core::TimePoint live_after,
      std::map<std::string, std::string>* flow_run_names = nullptr);
  // Records the slots (tag, task run) secured at `now` (idempotent).
  static void Acquire(Tx& tx, const std::vector<std::string>& tags,
                      const std::vector<std::string>& task_run_ids, core::TimePoint now);
  // Of these tags, the ones that are full now (limit reached by live holders).
  static std::vector<std::string> FullTags(Tx& tx, const std::vector<std::string>& tags,
                                           core::TimePoint live_after);
};

}  // namespace weft::server::store
