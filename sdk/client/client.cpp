#include "sdk/client/client.hpp"

#include <grpcpp/grpcpp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <mutex>
#include <set>

#include "sdk/client/profiles.hpp"
#include "sdk/core/address.hpp"
#include "sdk/core/connection_limits.hpp"
#include "weft/v1/admin.grpc.pb.h"
#include "weft/v1/agents.grpc.pb.h"
#include "weft/v1/api_keys.grpc.pb.h"
#include "weft/v1/concurrency_limits.grpc.pb.h"
#include "weft/v1/deployments.grpc.pb.h"
#include "weft/v1/flow_runs.grpc.pb.h"
#include "weft/v1/flows.grpc.pb.h"
#include "weft/v1/logs.grpc.pb.h"
#include "weft/v1/notifications.grpc.pb.h"
#include "weft/v1/storage.grpc.pb.h"
#include "weft/v1/task_runs.grpc.pb.h"
#include "weft/v1/work_queues.grpc.pb.h"

namespace weft::client {

std::string DefaultHome() {
  if (const char* h = std::getenv("WEFT_HOME"); h && *h) return h;
  if (geteuid() == 0) return "/var/lib/weft";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.weft";
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_dir) {
    return std::string(pw->pw_dir) + "/.weft";
  }
  return "/tmp/weft";
}

std::string LocalAdminKeyFile() { return DefaultHome() + "/admin.key"; }

std::string ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.size() > 512) return "";
  return line;
}

ClientOptions OptionsFromEnv() {
  ClientSettings settings = ResolveClientSettings();
  auto get = [&](const char* key) -> std::string {
    auto it = settings.values.find(key);
    return it == settings.values.end() ? "" : it->second.value;
  };
  ClientOptions o;
  if (std::string a = get("api_url"); !a.empty()) {
    for (const char* prefix : {"https://", "grpcs://"}) {
      if (a.rfind(prefix, 0) == 0) o.tls = true;
    }
    for (const char* prefix : {"http://", "grpc://", "https://", "grpcs://"}) {
      if (a.rfind(prefix, 0) == 0) a = a.substr(std::char_traits<char>::length(prefix));
    }
    while (!a.empty() && a.back() == '/') a.pop_back();
    o.address = a;
  }
  o.api_key = get("api_key");
  o.tls_ca_file = get("tls_ca");
  o.tls_cert_file = get("tls_cert");
  o.tls_key_file = get("tls_key");
  std::string insecure = get("insecure");
  o.insecure = insecure == "1" || insecure == "true" || insecure == "yes";
  if (const char* t = std::getenv("WEFT_API_TIMEOUT"); t && *t) {
    double v = std::atof(t);
    if (v > 0) o.timeout_seconds = v;
  }
  return o;
}

std::string ApiUrl(const ClientOptions& o) {
  return o.tls ? "https://" + o.address : o.address;
}

namespace {

std::optional<std::string> ReadPem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string ConnectionProblem(const ClientOptions& o) {
  if (!o.tls && !o.insecure && !core::IsLoopbackAddress(o.address)) {
    return "refusing to send the API key in plaintext to " + o.address +
           " (not a loopback address): use https://" + o.address +
           " (TLS; WEFT_TLS_CA names a private CA), or --insecure / WEFT_INSECURE=1 on a "
           "network you trust";
  }
  if (o.tls) {
    for (const auto* f : {&o.tls_ca_file, &o.tls_cert_file, &o.tls_key_file}) {
      if (!f->empty() && ::access(f->c_str(), R_OK) != 0) {
        const char* which = f == &o.tls_ca_file     ? "WEFT_TLS_CA"
                            : f == &o.tls_cert_file ? "WEFT_TLS_CERT"
                                                    : "WEFT_TLS_KEY";
        return std::string(which) + ": cannot read " + *f;
      }
    }
    if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
      return "WEFT_TLS_CERT and WEFT_TLS_KEY go together (a client certificate and its key)";
    }
  }
  return "";
}

struct Client::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::FlowService::Stub> flows;
  std::unique_ptr<v1::FlowRunService::Stub> flow_runs;
  std::unique_ptr<v1::TaskRunService::Stub> task_runs;
  std::unique_ptr<v1::AdminService::Stub> admin;
  std::unique_ptr<v1::StorageService::Stub> storage;
  std::unique_ptr<v1::DeploymentService::Stub> deployments;
  std::unique_ptr<v1::WorkQueueService::Stub> work_queues;
  std::unique_ptr<v1::AgentService::Stub> agents;
  std::unique_ptr<v1::LogService::Stub> logs;
  std::unique_ptr<v1::NotificationService::Stub> notifications;
  std::unique_ptr<v1::ConcurrencyLimitService::Stub> concurrency;
  std::unique_ptr<v1::ApiKeyService::Stub> api_keys;
  std::string problem;                     // ConnectionProblem(options): every call fails with it
  std::mutex polls_mu;                     // PollWorkQueues calls in flight, for CancelPolls
  std::set<grpc::ClientContext*> polls;
};

Client::Client(ClientOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  // Reconnect quickly after a server restart. GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is left at
  // its default on purpose: gRPC also uses it as the minimum time a connection attempt may
  // take, and 100 ms made calls fail with "connection attempt timed out before receiving
  // SETTINGS frame" on a loaded machine.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Keepalive during calls (a long poll waits up to 60 s without data): a dead server is found
  // within seconds, at an interval the server accepts (docs/limits.md).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, core::limits::kClientKeepaliveTimeMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, core::limits::kKeepaliveTimeoutMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  impl_->problem = ConnectionProblem(options_);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (options_.tls && impl_->problem.empty()) {
    grpc::SslCredentialsOptions so;
    if (!options_.tls_ca_file.empty()) so.pem_root_certs = ReadPem(options_.tls_ca_file).value_or("");
    if (!options_.tls_cert_file.empty()) {
      so.pem_cert_chain = ReadPem(options_.tls_cert_file).value_or("");
      so.pem_private_key = ReadPem(options_.tls_key_file).value_or("");
    }
    creds = grpc::SslCredentials(so);
  }
  impl_->channel = grpc::CreateCustomChannel(options_.address, creds, args);
  impl_->flows = v1::FlowService::NewStub(impl_->channel);
  impl_->flow_runs = v1::FlowRunService::NewStub(impl_->channel);
  impl_->task_runs = v1::TaskRunService::NewStub(impl_->channel);
  impl_->admin = v1::AdminService::NewStub(impl_->channel);
  impl_->storage = v1::StorageService::NewStub(impl_->channel);
  impl_->deployments = v1::DeploymentService::NewStub(impl_->channel);
  impl_->work_queues = v1::WorkQueueService::NewStub(impl_->channel);
  impl_->agents = v1::AgentService::NewStub(impl_->channel);
  impl_->logs = v1::LogService::NewStub(impl_->channel);
  impl_->notifications = v1::NotificationService::NewStub(impl_->channel);
  impl_->concurrency = v1::ConcurrencyLimitService::NewStub(impl_->channel);
  impl_->api_keys = v1::ApiKeyService::NewStub(impl_->channel);
}

Client::~Client() = default;

bool Client::WaitForReady(double seconds) {
  auto deadline = std::chrono::system_clock::now() +
                  std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  return impl_->channel->WaitForConnected(deadline);
}

namespace {

core::Error FromStatus(const grpc::Status& s, const std::string& address) {
  auto code = static_cast<core::Code>(s.error_code());
  std::string msg = s.error_message();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    msg = "server unavailable at " + address + (msg.empty() ? "" : " (" + msg + ")");
    if (msg.find("Socket closed") != std::string::npos) {
      msg += "; if the server uses TLS, use https://" + address;
    }
  } else if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    // The server's own reason (e.g. a database statement timeout) is kept.
    bool own = !msg.empty() && msg != "Deadline Exceeded";
    msg = "deadline exceeded calling " + address + (own ? ": " + msg : "");
  }
  return core::Error{code, msg};
}

template <typename Stub, typename Req, typename Resp>
core::Result<Resp> Call(const ClientOptions& o, const std::string& problem, Stub* stub,
                        grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                        const Req& req) {
  if (!problem.empty()) return core::FailedPrecondition(problem);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<long>(o.timeout_seconds * 1000)));
  if (!o.api_key.empty()) ctx.AddMetadata("authorization", "Bearer " + o.api_key);
  Resp resp;
  grpc::Status s = (stub->*method)(&ctx, req, &resp);
  if (!s.ok()) return FromStatus(s, o.address);
  return resp;
}

}  // namespace

#define WEFT_CALL(STUB, SVC, NAME)                                                 \
  core::Result<v1::NAME##Response> Client::NAME(const v1::NAME##Request& req) {     \
    return Call<v1::SVC::Stub, v1::NAME##Request, v1::NAME##Response>(             \
        options_, impl_->problem, impl_->STUB.get(), &v1::SVC::Stub::NAME, req);   \
  }

WEFT_CALL(flows, FlowService, CreateFlow)
WEFT_CALL(flows, FlowService, GetFlow)
WEFT_CALL(flows, FlowService, ListFlows)
WEFT_CALL(flow_runs, FlowRunService, CreateFlowRun)
WEFT_CALL(flow_runs, FlowRunService, GetFlowRun)
WEFT_CALL(flow_runs, FlowRunService, ListFlowRuns)
WEFT_CALL(flow_runs, FlowRunService, SetFlowRunState)
WEFT_CALL(flow_runs, FlowRunService, ListFlowRunStates)
WEFT_CALL(flow_runs, FlowRunService, ResumeFlowRun)
WEFT_CALL(task_runs, TaskRunService, CreateTaskRun)
WEFT_CALL(task_runs, TaskRunService, GetTaskRun)
WEFT_CALL(task_runs, TaskRunService, ListTaskRuns)
WEFT_CALL(task_runs, TaskRunService, SetTaskRunState)
WEFT_CALL(task_runs, TaskRunService, ReportTaskRuns)
WEFT_CALL(task_runs, TaskRunService, ListTaskRunStates)
WEFT_CALL(task_runs, TaskRunService, GetTaskRunResult)
WEFT_CALL(storage, StorageService, CreateStorage)
WEFT_CALL(storage, StorageService, GetStorage)
WEFT_CALL(storage, StorageService, ListStorages)
WEFT_CALL(storage, StorageService, SetDefaultStorage)
WEFT_CALL(storage, StorageService, DeleteStorage)
WEFT_CALL(storage, StorageService, StatBundle)
WEFT_CALL(deployments, DeploymentService, CreateDeployment)
WEFT_CALL(deployments, DeploymentService, GetDeployment)
WEFT_CALL(deployments, DeploymentService, ListDeployments)
WEFT_CALL(deployments, DeploymentService, DeleteDeployment)
WEFT_CALL(deployments, DeploymentService, SetDeploymentPaused)
WEFT_CALL(deployments, DeploymentService, RunDeployment)
WEFT_CALL(deployments, DeploymentService, ListUpcomingRuns)
WEFT_CALL(deployments, DeploymentService, Backfill)
WEFT_CALL(work_queues, WorkQueueService, CreateWorkQueue)
WEFT_CALL(work_queues, WorkQueueService, GetWorkQueue)
WEFT_CALL(work_queues, WorkQueueService, ListWorkQueues)
WEFT_CALL(work_queues, WorkQueueService, UpdateWorkQueue)
WEFT_CALL(work_queues, WorkQueueService, DeleteWorkQueue)
WEFT_CALL(work_queues, WorkQueueService, PreviewWorkQueue)
WEFT_CALL(agents, AgentService, AgentHeartbeat)
WEFT_CALL(agents, AgentService, FlowRunHeartbeat)
WEFT_CALL(agents, AgentService, ListAgents)
WEFT_CALL(agents, AgentService, CancelFlowRun)
WEFT_CALL(logs, LogService, WriteLogs)
WEFT_CALL(logs, LogService, ListLogs)
WEFT_CALL(notifications, NotificationService, CreateNotification)
WEFT_CALL(notifications, NotificationService, ListNotifications)
WEFT_CALL(notifications, NotificationService, SetNotificationPaused)
WEFT_CALL(notifications, NotificationService, DeleteNotification)
WEFT_CALL(notifications, NotificationService, ListNotificationDeliveries)
WEFT_CALL(concurrency, ConcurrencyLimitService, CreateConcurrencyLimit)
WEFT_CALL(concurrency, ConcurrencyLimitService, GetConcurrencyLimit)
WEFT_CALL(concurrency, ConcurrencyLimitService, ListConcurrencyLimits)
WEFT_CALL(concurrency, ConcurrencyLimitService, ResetConcurrencyLimit)
WEFT_CALL(concurrency, ConcurrencyLimitService, DeleteConcurrencyLimit)
WEFT_CALL(api_keys, ApiKeyService, CreateApiKey)
WEFT_CALL(api_keys, ApiKeyService, ListApiKeys)
WEFT_CALL(api_keys, ApiKeyService, RevokeApiKey)
WEFT_CALL(api_keys, ApiKeyService, WhoAmI)
WEFT_CALL(admin, AdminService, ListRules)
WEFT_CALL(admin, AdminService, GetVersion)

#undef WEFT_CALL

core::Result<v1::PollWorkQueuesResponse> Client::PollWorkQueues(
    const v1::PollWorkQueuesRequest& req) {
  if (!impl_->problem.empty()) return core::FailedPrecondition(impl_->problem);
  double timeout = options_.timeout_seconds + std::max(0.0, req.wait_seconds());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<long>(timeout * 1000)));
  if (!options_.api_key.empty()) ctx.AddMetadata("authorization", "Bearer " + options_.api_key);
  {
    std::lock_guard lock(impl_->polls_mu);
    impl_->polls.insert(&ctx);
  }
  v1::PollWorkQueuesResponse resp;
  grpc::Status s = impl_->agents->PollWorkQueues(&ctx, req, &resp);
  {
    std::lock_guard lock(impl_->polls_mu);
    impl_->polls.erase(&ctx);
  }
  if (!s.ok()) return FromStatus(s, options_.address);
  return resp;
}

core::Result<v1::WaitForConcurrencySlotResponse> Client::WaitForConcurrencySlot(
    const v1::WaitForConcurrencySlotRequest& req) {
  double wait = req.timeout_seconds() > 0 ? req.timeout_seconds() : 30.0;
  ClientOptions o = options_;
  o.timeout_seconds += std::min(wait, 60.0);
  return Call<v1::ConcurrencyLimitService::Stub, v1::WaitForConcurrencySlotRequest,
              v1::WaitForConcurrencySlotResponse>(
      o, impl_->problem, impl_->concurrency.get(),
      &v1::ConcurrencyLimitService::Stub::WaitForConcurrencySlot,
      req);
}

void Client::CancelPolls() {
  std::lock_guard lock(impl_->polls_mu);
  for (grpc::ClientContext* ctx : impl_->polls) ctx->TryCancel();
}

namespace {
void AddAuth(grpc::ClientContext& ctx, const ClientOptions& o) {
  if (!o.api_key.empty()) ctx.AddMetadata("authorization", "Bearer " + o.api_key);
}
constexpr std::size_t kChunkBytes = 1 << 20;
}  // namespace

core::Result<v1::UploadBundleResponse> Client::UploadBundle(
    const std::string& digest, std::int64_t size,
    const std::function<std::size_t(char* buf, std::size_t max)>& read) {
  if (!impl_->problem.empty()) return core::FailedPrecondition(impl_->problem);
  grpc::ClientContext ctx;
  AddAuth(ctx, options_);
  v1::UploadBundleResponse resp;
  auto writer = impl_->storage->UploadBundle(&ctx, &resp);
  std::string buf(kChunkBytes, '\0');
  bool first = true;
  for (;;) {
    std::size_t n = read(buf.data(), buf.size());
    v1::BundleChunk chunk;
    if (first) {
      chunk.set_digest(digest);
      chunk.set_size(size);
    }
    chunk.set_data(buf.data(), n);
    if ((n > 0 || first) && !writer->Write(chunk)) break;  // the server ended the stream
    first = false;
    if (n == 0) break;
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) return FromStatus(s, options_.address);
  return resp;
}

core::Status Client::DownloadBundle(const std::string& digest,
                                    const std::function<void(const std::string& data)>& write) {
  if (!impl_->problem.empty()) return core::FailedPrecondition(impl_->problem);
  grpc::ClientContext ctx;
  AddAuth(ctx, options_);
  v1::DownloadBundleRequest req;
  req.set_digest(digest);
  auto reader = impl_->storage->DownloadBundle(&ctx, req);
  v1::BundleChunk chunk;
  while (reader->Read(&chunk)) write(chunk.data());
  grpc::Status s = reader->Finish();
  if (!s.ok()) return FromStatus(s, options_.address);
  return {};
}

}  // namespace weft::client
