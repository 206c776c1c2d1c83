#include "agent/metrics.hpp"

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <thread>

#include "sdk/core/bounds.hpp"

namespace weft::agent {

namespace {
std::string Label(std::string_view v) { return v.empty() ? "none" : std::string(v); }
}  // namespace

struct AgentMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Gauge& running = prometheus::BuildGauge()
                                   .Name("weft_agent_running_flows")
                                   .Help("Flow runs this agent is running now")
                                   .Register(*registry)
                                   .Add({});
  prometheus::Gauge& limit = prometheus::BuildGauge()
                                 .Name("weft_agent_run_limit")
                                 .Help("Concurrent runs this agent takes at most (0 = unbounded)")
                                 .Register(*registry)
                                 .Add({});
  prometheus::Counter& claims = prometheus::BuildCounter()
                                    .Name("weft_agent_claims_total")
                                    .Help("Flow runs claimed by this agent")
                                    .Register(*registry)
                                    .Add({});
  prometheus::Family<prometheus::Counter>& polls =
      prometheus::BuildCounter()
          .Name("weft_agent_polls_total")
          .Help("Poll calls by outcome (claimed, empty, error)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& bundles =
      prometheus::BuildCounter()
          .Name("weft_agent_bundle_cache_total")
          .Help("Bundle fetches by result: hit (from the local cache) or miss (from storage)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& finished =
      prometheus::BuildCounter()
          .Name("weft_agent_runs_finished_total")
          .Help("Runs of this agent that ended, by final state name")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& failures =
      prometheus::BuildCounter()
          .Name("weft_agent_failures_total")
          .Help("Failures by kind (poll, bundle, spawn, report, heartbeat)")
          .Register(*registry);
  prometheus::Gauge& ready_gauge = prometheus::BuildGauge()
                                       .Name("weft_agent_ready")
                                       .Help("1 when the last call to the server succeeded")
                                       .Register(*registry)
                                       .Add({});
  std::atomic<bool> ready{false};
};

AgentMetrics::AgentMetrics() : impl_(std::make_unique<Impl>()) {}
AgentMetrics::~AgentMetrics() = default;

void AgentMetrics::SetRunning(int runs) { impl_->running.Set(runs); }
void AgentMetrics::SetLimit(int limit) { impl_->limit.Set(limit); }

void AgentMetrics::OnPoll(std::string_view outcome, int claimed) {
  impl_->polls.Add({{"outcome", Label(outcome)}}).Increment();
  if (claimed > 0) impl_->claims.Increment(claimed);
}

void AgentMetrics::OnBundle(bool cache_hit) {
  impl_->bundles.Add({{"result", cache_hit ? "hit" : "miss"}}).Increment();
}

void AgentMetrics::OnRunFinished(std::string_view state_name) {
  // Weft's own state names only: a flow's made-up name must not become a series.
  impl_->finished.Add({{"state", std::string(core::StateNameLabel(state_name))}}).Increment();
}

void AgentMetrics::OnFailure(std::string_view kind) {
  impl_->failures.Add({{"kind", Label(kind)}}).Increment();
}

void AgentMetrics::SetReady(bool ready) {
  impl_->ready = ready;
  impl_->ready_gauge.Set(ready ? 1 : 0);
}

bool AgentMetrics::ready() const { return impl_->ready.load(); }

std::string AgentMetrics::Render() {
  prometheus::TextSerializer s;
  return s.Serialize(impl_->registry->Collect());
}

struct MetricsServer::Impl {
  AgentMetrics& metrics;
  std::string host;
  int port;
  httplib::Server server;
  std::thread thread;
  Impl(AgentMetrics& m, std::string h, int p) : metrics(m), host(std::move(h)), port(p) {}
};

MetricsServer::MetricsServer(AgentMetrics& metrics, std::string host, int port)
    : impl_(std::make_unique<Impl>(metrics, std::move(host), port)) {}

MetricsServer::~MetricsServer() { Stop(); }

core::Status MetricsServer::Start() {
  auto& m = *impl_;
  m.server.Get("/metrics", [&m](const httplib::Request&, httplib::Response& res) {
    res.set_content(m.metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  m.server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  m.server.Get("/readyz", [&m](const httplib::Request&, httplib::Response& res) {
    if (m.metrics.ready()) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready: the server has not answered yet\n", "text/plain");
    }
  });
  int bound = m.port == 0 ? m.server.bind_to_any_port(m.host)
                          : (m.server.bind_to_port(m.host, m.port) ? m.port : -1);
  if (bound <= 0) {
    return core::Unavailable("metrics-port: cannot listen on " + m.host + ":" +
                             std::to_string(m.port) + " (in use?)");
  }
  m.port = bound;
  m.thread = std::thread([&m] { m.server.listen_after_bind(); });
  return {};
}

int MetricsServer::port() const { return impl_->port; }

void MetricsServer::Stop() {
  auto& m = *impl_;
  if (!m.thread.joinable()) return;
  m.server.stop();
  m.thread.join();
}

}  // namespace weft::agent
