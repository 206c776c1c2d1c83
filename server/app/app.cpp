#include "server/app/app.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/server_interceptor.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "sdk/core/address.hpp"
#include "sdk/core/connection_limits.hpp"
#include "sdk/core/net_policy.hpp"
#include "server/api/auth_processor.hpp"
#include "server/api/call_limits.hpp"
#include "server/api/concurrency_service.hpp"
#include "server/api/notification_service.hpp"
#include "server/api/services.hpp"
#include "server/http/http_server.hpp"
#include "server/app/embedded_postgres.hpp"
#include "server/auth/authenticator.hpp"
#include "server/auth/run_scope.hpp"
#include "server/orchestration/agent_manager.hpp"
#include "server/metrics/collector.hpp"
#include "server/metrics/metrics.hpp"
#include "server/metrics/rpc_interceptor.hpp"
#include "server/orchestration/deployment_manager.hpp"
#include "server/orchestration/log_service.hpp"
#include "server/orchestration/notification_manager.hpp"
#include "server/orchestration/run_service.hpp"
#include "server/orchestration/set_state.hpp"
#include "server/orchestration/storage_catalog.hpp"
#include "server/orchestration/work_queue_manager.hpp"
#include "server/services/liveness.hpp"
#include "server/services/notifier.hpp"
#include "server/services/scheduler.hpp"
#include "server/store/database.hpp"
#include "server/store/migrator.hpp"

namespace weft::server::app {

namespace {

std::shared_ptr<spdlog::logger> Logger(const std::string& name) {
  auto l = spdlog::get(name);
  if (!l) {
    // Logs go to stderr: stdout carries only the ready line.
    l = spdlog::stderr_color_mt(name);
    l->set_level(spdlog::get_level());
  }
  return l;
}

}  // namespace

void ConfigureLogging(const std::string& level) {
  auto lvl = spdlog::level::from_str(level == "warning" ? "warn" : level);
  spdlog::set_level(lvl);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v");
  for (const char* name :
       {"server.app", "server.api", "server.store", "server.orchestration", "server.postgres",
        "server.storage", "server.deployments", "server.scheduler", "server.work_queues",
        "server.agents", "server.liveness", "server.http", "server.notifier", "server.auth"}) {
    Logger(name)->set_level(lvl);
  }
}

struct App::Impl {
  Settings settings;
  const core::Clock& clock;
  std::shared_ptr<spdlog::logger> log = Logger("server.app");
  std::unique_ptr<EmbeddedPostgres> postgres;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<auth::RunScope> run_scope;
  std::unique_ptr<grpc::Service> api_key_service;
  std::string admin_key;
  std::string admin_key_path;
  std::unique_ptr<orchestration::Orchestrator> orchestrator;
  std::unique_ptr<orchestration::RunService> runs;
  std::unique_ptr<orchestration::StorageCatalog> storage;
  std::unique_ptr<orchestration::DeploymentManager> deployments;
  std::unique_ptr<orchestration::WorkQueueManager> work_queues;
  std::unique_ptr<orchestration::AgentManager> agents;
  std::unique_ptr<orchestration::LogService> logs;
  std::unique_ptr<api::ApiServices> services;
  std::unique_ptr<metrics::ServerMetrics> metrics = std::make_unique<metrics::ServerMetrics>();
  std::unique_ptr<metrics::MetricsCollector> collector;
  std::unique_ptr<orchestration::NotificationManager> notifications;
  std::unique_ptr<grpc::Service> notification_service;
  std::unique_ptr<orchestration::ConcurrencyManager> concurrency;
  std::unique_ptr<grpc::Service> concurrency_service;
  std::unique_ptr<services::Notifier> notifier;
  std::unique_ptr<services::Scheduler> scheduler;
  std::unique_ptr<services::ZombieReaper> reaper;
  std::unique_ptr<services::LateRunMarker> late_runs;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<http::HttpServer> http;
  std::string bound_address;
  std::mutex mu;
  std::condition_variable cv;
  bool shutting_down = false;
  bool stopped = false;

  Impl(Settings s, const core::Clock& c) : settings(std::move(s)), clock(c) {}
};

App::App(Settings settings, const core::Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(settings), clock)) {}

App::~App() { Shutdown(); }

core::Status App::Start() {
  auto& m = *impl_;
  std::string url = m.settings.database_url;
  if (url.empty()) {
    m.postgres = std::make_unique<EmbeddedPostgres>(m.settings.home, Logger("server.postgres"));
    auto started = m.postgres->Start();
    if (!started.ok()) {
      m.postgres->Stop();
      return started.error();
    }
    url = *started;
  }
  auto fail = [&](core::Error e) -> core::Status {
    Shutdown();
    return e;
  };
  store::DatabaseOptions opts;
  opts.url = url;
  opts.pool_size = m.settings.pool_size;
  opts.statement_timeout_seconds = m.settings.db_statement_timeout;
  opts.idle_in_transaction_timeout_seconds = m.settings.db_idle_in_transaction_timeout;
  auto db = store::Database::Open(opts, Logger("server.store"));
  if (!db.ok()) {
    return fail(core::Error{db.error().code, "database: " + db.error().message});
  }
  m.db = std::move(*db);
  store::Migrator migrator(*m.db, Logger("server.store"));
  auto migrated = migrator.Migrate();
  if (!migrated.ok()) return fail(migrated.error());
  m.log->info("migrations done schema_version={} applied={}", migrated->schema_version,
              migrated->applied.size());
  {
    auth::AuthenticatorOptions ao;
    ao.cache_seconds = m.settings.auth_cache_seconds;
    m.authenticator =
        std::make_unique<auth::Authenticator>(*m.db, m.clock, ao, Logger("server.auth"));
    if (auto st = m.authenticator->Start(); !st.ok()) return fail(st.error());
    if (m.settings.write_admin_key) {
      m.admin_key_path = m.settings.admin_key_file.empty() ? m.settings.home + "/admin.key"
                                                           : m.settings.admin_key_file;
    }
    auto key = m.authenticator->EnsureLocalAdminKey(m.admin_key_path);
    if (!key.ok()) return fail(key.error());
    m.admin_key = *key;
    m.api_key_service = api::MakeApiKeyService(*m.authenticator, Logger("server.api"));
  }
  m.orchestrator =
      std::make_unique<orchestration::Orchestrator>(*m.db, m.clock, Logger("server.orchestration"));
  {
    auto* mx = m.metrics.get();
    m.orchestrator->SetDecisionObserver(
        [mx](orchestration::RunKind kind, std::string_view proposed,
             const orchestration::Outcome& o) {
          mx->OnTransition(kind == orchestration::RunKind::kFlowRun ? "flow_run" : "task_run",
                           core::orchestration::DecisionName(o.decision), o.rule, proposed);
        });
  }
  m.orchestrator->SetMaxResultSize(m.settings.max_result_size);
  m.runs = std::make_unique<orchestration::RunService>(*m.orchestrator);
  m.storage = std::make_unique<orchestration::StorageCatalog>(*m.db, m.settings.max_bundle_size,
                                                              Logger("server.storage"));
  {
    std::string dir = m.settings.upload_dir;
    if (dir.empty() && !m.settings.home.empty()) dir = m.settings.home + "/tmp/uploads";
    m.storage->SetUploadSpool(dir, m.settings.max_concurrent_uploads);
  }
  m.deployments = std::make_unique<orchestration::DeploymentManager>(*m.orchestrator, *m.runs,
                                                                     Logger("server.deployments"));
  m.work_queues = std::make_unique<orchestration::WorkQueueManager>(*m.db, m.clock,
                                                                    Logger("server.work_queues"));
  orchestration::AgentOptions ao;
  ao.heartbeat_interval_seconds = m.settings.heartbeat_interval;
  ao.heartbeat_timeout_seconds = m.settings.heartbeat_timeout;
  ao.late_after_seconds = m.settings.late_after;
  m.agents =
      std::make_unique<orchestration::AgentManager>(*m.orchestrator, ao, Logger("server.agents"));
  m.logs = std::make_unique<orchestration::LogService>(*m.db, m.clock, Logger("server.logs"));
  m.run_scope = std::make_unique<auth::RunScope>(*m.db);
  m.services = std::make_unique<api::ApiServices>(
      api::ApiDomain{*m.runs, *m.storage, *m.deployments, *m.work_queues, *m.agents, *m.logs,
                     *m.authenticator, *m.run_scope},
      Logger("server.api"));

  std::vector<core::IpNetwork> webhook_allow;
  for (const auto& n : m.settings.webhook_allow_networks) {
    auto network = core::ParseIpNetwork(n);
    if (!network) {
      return fail(core::InvalidArgument("webhook-allow-network: \"" + n + "\" is not a network"));
    }
    webhook_allow.push_back(*network);
  }
  m.notifications = std::make_unique<orchestration::NotificationManager>(
      *m.db, Logger("server.notifier"), webhook_allow);
  m.notification_service =
      api::MakeNotificationService(*m.notifications, Logger("server.api"));
  m.orchestrator->SetSlotHolderTimeout(m.settings.heartbeat_timeout);
  m.concurrency = std::make_unique<orchestration::ConcurrencyManager>(
      *m.orchestrator, /*listen=*/true, Logger("server.concurrency"), m.settings.max_slot_waiters);
  m.concurrency_service = api::MakeConcurrencyLimitService(*m.concurrency, Logger("server.api"));
  m.collector = std::make_unique<metrics::MetricsCollector>(
      *m.metrics, *m.db, m.clock, m.agents.get(),
      metrics::CollectorOptions{m.settings.metrics_refresh, m.settings.heartbeat_timeout},
      Logger("server.app"));
  m.collector->Install();

  grpc::ServerBuilder builder;
  {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> timers;
    // First: it may cancel a call while the call's other interceptors are still alive.
    timers.push_back(api::MakeCallLimitsFactory(
        api::CallLimits{m.settings.rpc_timeout, m.settings.stream_idle_timeout,
                        m.settings.transfer_timeout},
        Logger("server.api")));
    timers.push_back(metrics::MakeRpcInterceptorFactory(*m.metrics));
    builder.experimental().SetInterceptorCreators(std::move(timers));
  }
  int port = 0;
  // Every call is authenticated by the processor. With TLS: SSL credentials. Without: gRPC's
  // "local" credentials (no bytes on the wire, so plaintext clients connect) that only accept
  // peers on this machine (loopback TCP or a unix socket); or, off loopback with
  // --insecure-no-tls, plaintext credentials that still run the processor.
  bool unix_socket = m.settings.grpc_address.rfind("unix:", 0) == 0;
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (m.settings.tls()) {
    auto pem = [](const std::string& path) -> std::optional<std::string> {
      std::ifstream in(path, std::ios::binary);
      if (!in) return std::nullopt;
      std::ostringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    auto cert = pem(m.settings.tls_cert);
    auto key = pem(m.settings.tls_key);
    if (!cert || !key) {
      return fail(core::InvalidArgument("tls: cannot read " +
                                        (cert ? m.settings.tls_key : m.settings.tls_cert)));
    }
    grpc::SslServerCredentialsOptions so(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    if (!m.settings.tls_client_ca.empty()) {
      auto ca = pem(m.settings.tls_client_ca);
      if (!ca) return fail(core::InvalidArgument("tls-client-ca: cannot read " +
                                                 m.settings.tls_client_ca));
      so.pem_root_certs = *ca;
      so.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    so.pem_key_cert_pairs.push_back({*key, *cert});
    creds = grpc::SslServerCredentials(so);
  }
  bool plaintext_off_loopback = !m.settings.tls() && m.settings.insecure_no_tls &&
                                !core::IsLoopbackAddress(m.settings.grpc_address);
  if (plaintext_off_loopback) {
    m.log->warn("plaintext off loopback (--insecure-no-tls) address={}: API keys, run tokens and "
                "all data cross the network in clear; use --tls-cert/--tls-key",
                m.settings.grpc_address);
    creds = api::PlaintextCredentialsWithAuth(api::MakeAuthProcessor(*m.authenticator));
  } else {
    if (!creds) creds = grpc::experimental::LocalServerCredentials(unix_socket ? UDS : LOCAL_TCP);
    creds->SetAuthMetadataProcessor(api::MakeAuthProcessor(*m.authenticator));
  }
  builder.AddListeningPort(m.settings.grpc_address, creds, &port);
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  {
    // Keepalive (docs/limits.md): dead peers are found, idle connections closed, and clients
    // may ping as often as the SDK does (no GOAWAY too_many_pings).
    namespace lim = core::limits;
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, lim::kServerKeepaliveTimeMs);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, lim::kKeepaliveTimeoutMs);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                               lim::kMinClientPingIntervalMs);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, lim::kMaxConnectionIdleMs);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, lim::kMaxConcurrentStreams);
  }
  grpc::ResourceQuota quota("weft-server");
  quota.SetMaxThreads(std::max(16, m.settings.pool_size * 4));
  builder.SetResourceQuota(quota);
  m.services->RegisterWith(builder);
  builder.RegisterService(m.notification_service.get());
  builder.RegisterService(m.concurrency_service.get());
  builder.RegisterService(m.api_key_service.get());
  m.server = builder.BuildAndStart();
  if (!m.server || (port == 0 && m.settings.grpc_address.rfind("unix:", 0) != 0)) {
    return fail(core::Unavailable("grpc-address: cannot listen on " + m.settings.grpc_address +
                                  " (in use or not a local address?)"));
  }
  m.bound_address = m.settings.grpc_address;
  if (m.bound_address.rfind("unix:", 0) != 0) {
    m.bound_address =
        m.bound_address.substr(0, m.bound_address.rfind(':')) + ":" + std::to_string(port);
  }
  m.log->info("grpc listening address={} database={} tls={}", m.bound_address, database_kind(),
              m.settings.tls() ? (m.settings.tls_client_ca.empty() ? "on" : "mutual") : "off");
  if (m.settings.http_enabled) {
    http::HttpOptions ho;
    ho.address = m.settings.http_address;
    ho.tls_cert = m.settings.tls_cert;
    ho.tls_key = m.settings.tls_key;
    ho.authenticator = m.authenticator.get();
    ho.public_url = m.settings.public_url;
    auto* mx = m.metrics.get();
    ho.metrics = [mx] { return mx->Render(); };
    m.http = std::make_unique<http::HttpServer>(
        http::HttpDomain{*m.runs, *m.storage, *m.deployments, *m.work_queues, *m.agents,
                         m.logs.get(), m.notifications.get(), m.concurrency.get()},
        ho,
        Logger("server.http"), m.clock);
    if (auto st = m.http->Start(); !st.ok()) return fail(st.error());
  }
  if (m.settings.scheduler_enabled) {
    services::SchedulerOptions so;
    so.min_runs = m.settings.scheduler_min_runs;
    so.max_runs = m.settings.scheduler_max_runs;
    so.min_time_seconds = m.settings.scheduler_min_time;
    so.max_time_seconds = m.settings.scheduler_max_time;
    so.grace_seconds = m.settings.scheduler_grace;
    so.interval_seconds = m.settings.scheduler_interval;
    so.listen = true;  // changes made through other replicas wake this one too
    {
      auto* mx = m.metrics.get();
      so.on_pass = [mx](const core::Result<services::PassStats>& r, double seconds) {
        mx->OnSchedulerPass(!r.ok() || r->leader, r.ok(), r.ok() ? r->runs_created : 0, seconds);
      };
    }
    m.scheduler =
        std::make_unique<services::Scheduler>(*m.orchestrator, so, Logger("server.scheduler"));
    auto* s = m.scheduler.get();
    m.deployments->SetOnChange([s] { s->Wake(); });
    m.scheduler->Start();
  }
  if (m.settings.liveness_enabled) {
    services::LivenessOptions lo;
    lo.interval_seconds = m.settings.heartbeat_interval;
    m.reaper = std::make_unique<services::ZombieReaper>(*m.agents, *m.orchestrator, lo,
                                                        Logger("server.liveness"));
    m.late_runs = std::make_unique<services::LateRunMarker>(*m.agents, *m.orchestrator, lo,
                                                            Logger("server.liveness"));
    m.reaper->Start();
    m.late_runs->Start();
  }
  if (m.settings.notifier_enabled) {
    services::NotifierOptions no;
    no.interval_seconds = m.settings.notifier_interval;
    no.timeout_seconds = m.settings.notification_timeout;
    no.max_attempts = m.settings.notification_max_attempts;
    no.backoff_seconds = m.settings.notification_backoff;
    no.allow_networks = m.notifications->webhook_allow();
    no.dashboard_url = m.settings.public_url;
    if (no.dashboard_url.empty()) {
      std::string http = m.http ? m.http->address() : m.settings.http_address;
      no.dashboard_url = (m.settings.tls() ? "https://" : "http://") + http;
    }
    auto* mx = m.metrics.get();
    no.on_attempt = [mx](std::string_view outcome, double seconds) {
      mx->OnNotificationAttempt(outcome, seconds);
    };
    m.notifier = std::make_unique<services::Notifier>(*m.db, m.clock, no, Logger("server.notifier"));
    m.notifier->Start();
  }
  return {};
}

std::string App::metrics_text() const { return impl_->metrics->Render(); }

std::string App::grpc_address() const { return impl_->bound_address; }

std::string App::admin_key() const { return impl_->admin_key; }

std::string App::admin_key_file() const { return impl_->admin_key_path; }

std::string App::http_address() const { return impl_->http ? impl_->http->address() : ""; }

std::string App::database_kind() const { return impl_->postgres ? "embedded" : "external"; }

void App::Wait() {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait(lock, [&] { return impl_->shutting_down; });
}

void App::Shutdown() {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.stopped) return;
    m.stopped = true;
    m.shutting_down = true;
  }
  m.cv.notify_all();
  // Waiting agent polls answer at once (empty), so they do not hold the shutdown up.
  if (m.agents) m.agents->ShutdownPolls();
  if (m.concurrency) m.concurrency->Shutdown();  // waiting slot polls too
  if (m.http) m.http->Stop();  // before the domain objects its handlers use
  if (m.server) {
    m.log->info("grpc stopping");
    m.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    m.server->Wait();
    m.server.reset();
  }
  m.scheduler.reset();  // stops its loop and releases its lease (no calls can poke it now)
  m.reaper.reset();
  m.late_runs.reset();
  m.notifier.reset();
  m.services.reset();
  m.notification_service.reset();
  m.notifications.reset();
  m.concurrency_service.reset();
  m.api_key_service.reset();
  m.concurrency.reset();
  m.collector.reset();
  m.logs.reset();
  m.agents.reset();
  m.work_queues.reset();
  m.deployments.reset();
  m.storage.reset();
  m.runs.reset();
  m.orchestrator.reset();
  m.run_scope.reset();
  m.authenticator.reset();
  m.db.reset();
  if (m.postgres) m.postgres->Stop();
  m.log->info("stopped");
}

}  // namespace weft::server::app
