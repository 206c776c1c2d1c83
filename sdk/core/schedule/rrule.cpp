// RFC 5545 recurrence rules (subset): placeholder until the rrule engine lands.
#include "sdk/core/schedule/local_rule.hpp"

namespace weft::core::schedule_detail {

Result<CompiledRRule> CompileRRule(const std::string&, const std::string&, const date::time_zone*) {
  return InvalidArgument("rrule: not supported yet");
}

}  // namespace weft::core::schedule_detail
