// weft::pause_flow_run: the flow run goes to Paused (its resume deadline in the state's
// scheduled_time) and the call waits for `weft flow-run resume ID` (the run back in Running)
// or the deadline. Heartbeats go on from the backend's own thread meanwhile; the server also
// fails Paused runs past their deadline (services/liveness), in case this process is gone.
// docs/pause-resume.md has the contract.
#include <cmath>
#include <thread>

#include "sdk/client/client.hpp"
#include "sdk/client/convert.hpp"
#include "sdk/flow/internal.hpp"
#include "sdk/flow/subflow.hpp"

namespace weft {

namespace {

std::string Seconds(double s) { return fmt::format("{:g}s", s); }

}  // namespace

void pause_flow_run(double timeout_seconds) {
  detail::Engine* engine = detail::Engine::Current();
  auto host = engine ? detail::FindRunHost(engine) : nullptr;
  if (!host) {
    throw std::logic_error(
        "weft::pause_flow_run was called outside a flow run (call it from a flow body)");
  }
  if (!host->client) {
    throw std::logic_error("weft::pause_flow_run: flow run '" + host->flow_run_name +
                           "' runs in ephemeral mode (no server), so nothing could resume it; "
                           "run the flow against a server (WEFT_API_URL)");
  }
  if (!std::isfinite(timeout_seconds) || timeout_seconds <= 0) {
    throw std::invalid_argument("weft::pause_flow_run: timeout must be > 0 seconds, got " +
                                fmt::format("{}", timeout_seconds));
  }
  client::Client& c = *host->client;
  const Logger& log = engine->flow_logger();
  const std::string& id = host->flow_run_id;
  auto now = std::chrono::system_clock::now();
  auto deadline = now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                            std::chrono::duration<double>(timeout_seconds));
  core::State paused = core::Paused(now, "waiting for `weft flow-run resume " + id +
                                             "` until " + core::FormatTime(deadline));
  paused.scheduled_time = deadline;
  paused.details_json = "{\"timeout_seconds\":" + fmt::format("{}", timeout_seconds) + "}";
  paused.idempotency_key = detail::NewUuid();
  v1::SetFlowRunStateRequest req;
  req.set_flow_run_id(id);
  *req.mutable_state() = client::ToProto(paused);
  auto answer = detail::WithRetries([&] { return c.SetFlowRunState(req); });
  if (!answer) {
    throw std::runtime_error("weft::pause_flow_run: proposing Paused: " + answer.error().message);
  }
  if (answer->result().decision() != v1::ACCEPT) {
    throw std::runtime_error("weft::pause_flow_run: Paused refused: " + answer->result().reason());
  }
  log.info("Entered state Paused(); resume with `weft flow-run resume {}` within {}", id,
           Seconds(timeout_seconds));

  auto interval = std::chrono::milliseconds(200);
  for (;;) {
    auto left = deadline - std::chrono::system_clock::now();
    if (left > std::chrono::system_clock::duration::zero()) {
      std::this_thread::sleep_for(std::min<std::chrono::system_clock::duration>(interval, left));
    }
    interval = std::min(interval * 3 / 2, std::chrono::milliseconds(1000));
    v1::GetFlowRunRequest get;
    get.set_id(id);
    auto run = c.GetFlowRun(get);
    if (run) {
      const v1::State& s = run->flow_run().state();
      if (s.type() == v1::RUNNING) {
        log.info("Resumed: entered state {}", s.name().empty() ? "Running" : s.name());
        return;
      }
      if (s.type() == v1::FAILED) {
        throw PauseTimedOut("flow run was not resumed within " + Seconds(timeout_seconds) +
                            (s.message().empty() ? "" : " (" + s.message() + ")"));
      }
      auto state = client::FromProto(s);
      if (state && state->IsTerminal()) {
        throw std::runtime_error("weft::pause_flow_run: the paused flow run ended " +
                                 state->name +
                                 (state->message.empty() ? "" : ": " + state->message));
      }
    } else if (!detail::Transient(run.error())) {
      log.warning("pause: reading the flow run: {}", run.error().message);
    }
    if (std::chrono::system_clock::now() >= deadline) {
      throw PauseTimedOut("flow run was not resumed within " + Seconds(timeout_seconds) +
                          " (`weft flow-run resume " + id + "`)");
    }
  }
}

void pause_flow_run(std::chrono::duration<double> timeout) { pause_flow_run(timeout.count()); }

}  // namespace weft
