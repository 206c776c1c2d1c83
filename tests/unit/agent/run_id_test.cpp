// The agent names a run's directory after its id: only UUIDs are accepted.
#include <catch2/catch.hpp>

#include "agent/agent.hpp"

using weft::agent::IsRunId;

TEST_CASE("agent: a claimed run's id must be a UUID before it names a path", "[bounds][agent]") {
  CHECK(IsRunId("3f2a1c9d-0e1b-4c2d-8e3f-4a5b6c7d8e9f"));
  CHECK(IsRunId("3F2A1C9D-0E1B-4C2D-8E3F-4A5B6C7D8E9F"));
  CHECK(IsRunId(weft::agent::NewAgentId()));
  CHECK_FALSE(IsRunId(""));
  CHECK_FALSE(IsRunId(".."));
  CHECK_FALSE(IsRunId("../../../../etc/cron.d/x"));
  CHECK_FALSE(IsRunId("/etc/passwd"));
  CHECK_FALSE(IsRunId("3f2a1c9d-0e1b-4c2d-8e3f-4a5b6c7d8e9"));     // short
  CHECK_FALSE(IsRunId("3f2a1c9d-0e1b-4c2d-8e3f-4a5b6c7d8e9f0"));   // long
  CHECK_FALSE(IsRunId("3f2a1c9d-0e1b-4c2d-8e3f/4a5b6c7d8e9f"));    // a slash where a dash is
  CHECK_FALSE(IsRunId("3f2a1c9d-0e1b-4c2d-8e3f-4a5b6c7d8e.."));    // dots
  CHECK_FALSE(IsRunId(std::string("3f2a1c9d-0e1b-4c2d-8e3f-4a5b6c7d8e9") + '\0'));
}
