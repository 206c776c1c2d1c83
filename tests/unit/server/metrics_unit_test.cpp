#include <catch2/catch.hpp>

#include "server/metrics/metrics.hpp"

using weft::server::metrics::ServerMetrics;

TEST_CASE("server metrics: hooks show up in the Prometheus text") {
  ServerMetrics m;
  m.OnTransition("flow_run", "REJECT", "PreventDuplicateTransitions", "Running");
  m.OnTransition("flow_run", "REJECT", "PreventDuplicateTransitions", "Running");
  m.OnRpc("/weft.v1.FlowService/CreateFlow", "OK", 0.003);
  m.SetRunsByState({{"COMPLETED", "Completed", 5}, {"FAILED", "Failed", 1}});
  m.SetQueueDepths({{"default", 2, 30}});
  std::string text = m.Render();
  CHECK_THAT(text, Catch::Contains(
                       R"(weft_transitions_total{decision="REJECT",kind="flow_run",rule="PreventDuplicateTransitions",state="Running"} 2)"));
  CHECK_THAT(text, Catch::Contains(
                       R"(weft_rpc_duration_seconds_count{code="OK",method="/weft.v1.FlowService/CreateFlow"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(weft_flow_runs{state_name="Failed",state_type="FAILED"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(weft_work_queue_due_runs{work_queue="default"} 2)"));

  // A state that empties reads 0; a queue that disappears is dropped.
  m.SetRunsByState({{"COMPLETED", "Completed", 6}});
  m.SetQueueDepths({});
  text = m.Render();
  CHECK_THAT(text, Catch::Contains(R"(weft_flow_runs{state_name="Failed",state_type="FAILED"} 0)"));
  CHECK_THAT(text, !Catch::Contains(R"(work_queue="default")"));
}

TEST_CASE("server metrics: the refresh hook runs at every render") {
  ServerMetrics m;
  int calls = 0;
  m.SetRefresh([&] {
    ++calls;
    m.SetWaitingPolls(calls);
  });
  m.Render();
  std::string text = m.Render();
  CHECK(calls == 2);
  CHECK_THAT(text, Catch::Contains("weft_agent_waiting_polls 2"));
}
