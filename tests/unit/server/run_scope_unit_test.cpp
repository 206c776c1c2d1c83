// The pure half of resource scoping (auth/run_scope.hpp): who is limited at all, and work
// queues. The run-tree checks need the database: tests/integration/auth_test.cpp.
#include <catch2/catch.hpp>

#include "server/auth/run_scope.hpp"

namespace weft::server::auth {

namespace {

Identity Agent(std::vector<std::string> queues) {
  Identity who;
  who.scope = Scope::kAgent;
  who.name = "g";
  who.work_queues = std::move(queues);
  return who;
}

}  // namespace

TEST_CASE("run scope: only run tokens and agent keys limited to queues are limited", "[auth]") {
  Identity run;
  run.scope = Scope::kRun;
  run.flow_run_id = "11111111-1111-4111-8111-111111111111";
  CHECK(RunScope::Limits(run));
  CHECK(RunScope::Limits(Agent({"etl"})));
  CHECK_FALSE(RunScope::Limits(Agent({})));
  for (Scope s : {Scope::kViewer, Scope::kOperator, Scope::kAdmin}) {
    Identity who;
    who.scope = s;
    CHECK_FALSE(RunScope::Limits(who));
  }
}

TEST_CASE("run scope: an agent key limited to queues reads only those queues", "[auth]") {
  CHECK(RunScope::CheckWorkQueue(Agent({"etl", "ml"}), "name", "ml").ok());
  CHECK(RunScope::CheckWorkQueue(Agent({}), "name", "default").ok());
  auto denied = RunScope::CheckWorkQueue(Agent({"etl", "ml"}), "name", "default");
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().code == core::Code::kPermissionDenied);
  CHECK(denied.error().message ==
        "name: key \"g\" may serve only the work queues etl, ml, not \"default\"");
  Identity run;
  run.scope = Scope::kRun;
  run.flow_run_id = "11111111-1111-4111-8111-111111111111";
  CHECK_FALSE(RunScope::CheckWorkQueue(run, "name", "default").ok());
}

}  // namespace weft::server::auth
