// Running a flow program: parameters, server or ephemeral mode, creating or adopting the flow
// run, and weft::Main (the command line).
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "sdk/client/client.hpp"
#include "sdk/client/convert.hpp"
#include "sdk/core/names.hpp"
#include "sdk/flow/internal.hpp"
#include "sdk/flow/subflow.hpp"

namespace weft {

// ------------------------------------------------------------------ options

RetryDelays RetryDelays::Exponential(double base_seconds, double jitter, double max_seconds) {
  RetryDelays d;
  d.delays_ = {base_seconds};
  d.exponential_base_ = 2;
  d.jitter_ = jitter;
  d.max_seconds_ = max_seconds;
  return d;
}

core::RetryPolicy RetryDelays::ToPolicy(int retries) const {
  core::RetryPolicy p;
  p.max_retries = retries;
  p.delays_seconds = delays_;
  p.exponential_base = exponential_base_;
  p.jitter_factor = jitter_;
  p.max_delay_seconds = max_seconds_;
  return p;
}

namespace {

// Declaration problems (a bad parameter default, a bad retry policy) are reported when the
// flow runs (exit 2), not at static-initialization time.
struct FlowCheck {
  std::vector<core::ParamSpec> specs;
  std::string error;
};

FlowCheck CheckFlow(const std::string& name, const FlowOptions& options) {
  FlowCheck c;
  std::vector<core::ParamSpec> specs;
  for (const auto& p : options.params) specs.push_back(p.spec());
  auto normalized = core::NormalizeSpecs(std::move(specs));
  if (!normalized) {
    c.error = "flow \"" + name + "\": " + normalized.error().message;
    return c;
  }
  c.specs = std::move(normalized.value());
  std::string problem = options.retry_delays.ToPolicy(options.retries).Validate();
  if (!problem.empty()) c.error = "flow \"" + name + "\": " + problem;
  if (auto s = core::CheckFlowName(name, "flow name"); !s.ok()) c.error = s.error().message;
  return c;
}

}  // namespace

Flow::Flow(std::string name, Body body, FlowOptions options)
    : name_(std::move(name)), body_(std::move(body)), options_(std::move(options)) {
  FlowCheck c = CheckFlow(name_, options_);
  specs_ = std::move(c.specs);
  declaration_error_ = std::move(c.error);
}

// ------------------------------------------------------------------ Run

namespace {

bool EnvTrue(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return false;
  std::string s = v;
  return s != "0" && s != "false" && s != "no" && s != "off";
}

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// A quick look before gRPC's own connect: does anything accept connections at `address`
// (host:port, [v6]:port or unix:/path)? A refused port answers at once, so ephemeral mode
// starts without waiting; gRPC's WaitForReady then checks that it speaks the protocol.
bool AcceptsConnections(const std::string& address, double timeout_seconds) {
  auto try_connect = [&](int family, const sockaddr* addr, socklen_t len) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    bool ok = false;
    if (::connect(fd, addr, len) == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(timeout_seconds * 1000)) == 1) {
        int err = 0;
        socklen_t elen = sizeof err;
        ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0;
      }
    }
    ::close(fd);
    return ok;
  };
  if (address.rfind("unix:", 0) == 0) {
    std::string path = address.substr(5);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (path.size() >= sizeof sun.sun_path) return true;  // let gRPC decide
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
    return try_connect(AF_UNIX, reinterpret_cast<sockaddr*>(&sun), sizeof sun);
  }
  std::string host, port;
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string::npos) return true;
    host = address.substr(1, close - 1);
    if (close + 1 < address.size() && address[close + 1] == ':') port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) return true;  // not host:port; let gRPC decide
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (port.empty()) return true;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found) return false;
  bool ok = false;
  for (addrinfo* a = found; a && !ok; a = a->ai_next) {
    ok = try_connect(a->ai_family, a->ai_addr, a->ai_addrlen);
  }
  ::freeaddrinfo(found);
  return ok;
}

void SayEphemeralOnce(const std::string& address) {
  static std::atomic<bool> said{false};
  if (said.exchange(true)) return;
  detail::WriteConsoleLine("weft: no server at " + address +
                           "; running in ephemeral mode (states are not recorded)");
}

FlowRunResult Fail(int code, std::string error, bool ephemeral) {
  FlowRunResult r;
  r.exit_code = code;
  r.error = std::move(error);
  r.ephemeral = ephemeral;
  return r;
}

FlowRunResult RunEphemeral(const Flow& flow, core::ParamValues params, const RunOptions& options) {
  auto backend = detail::MakeEphemeralBackend(flow.retry_policy());
  detail::EngineConfig cfg;
  cfg.flow = &flow;
  cfg.params = std::move(params);
  cfg.backend = backend.get();
  cfg.flow_run_id = detail::NewUuid();
  cfg.flow_run_name = detail::NewRunName();
  cfg.keep_history = options.keep_history;
  std::string run_name = cfg.flow_run_name;
  std::string run_id = cfg.flow_run_id;
  detail::Engine engine(std::move(cfg));
  detail::ScopedRunHost host(&engine, nullptr, run_id, run_name, options.keep_history);
  // The run is created Pending, as the server would.
  auto created = backend->ProposeFlowRunState(core::Pending(std::chrono::system_clock::now()));
  engine.flow_logger().info("Beginning flow run '{}' for flow '{}' in state Pending() (ephemeral)",
                            run_name, flow.name());
  FlowRunResult result;
  engine.Execute(result);
  if (created && !created->written.empty()) {
    result.history.insert(result.history.begin(), created->written.front());
  }
  return result;
}

FlowRunResult RunOnServer(const Flow& flow, client::Client& client,
                          std::optional<core::ParamValues> params, const std::string& adopt_id,
                          const RunOptions& options) {
  const std::string& address = client.options().address;
  v1::CreateFlowRequest cf;
  cf.set_name(flow.name());
  for (const auto& t : flow.options().tags) cf.add_tags(t);
  cf.set_parameters_schema_json(core::SpecsToJson(flow.param_specs()));
  auto created_flow = detail::WithRetries([&] { return client.CreateFlow(cf); });
  if (!created_flow) {
    return Fail(1,
                "registering flow \"" + flow.name() + "\" at " + address + ": " +
                    created_flow.error().message,
                false);
  }

  v1::FlowRun run;
  if (!adopt_id.empty()) {
    v1::GetFlowRunRequest gr;
    gr.set_id(adopt_id);
    auto got = detail::WithRetries([&] { return client.GetFlowRun(gr); });
    if (!got) return Fail(1, "flow run " + adopt_id + ": " + got.error().message, false);
    run = got->flow_run();
    auto resolved = core::ResolveParams(flow.param_specs(), run.parameters_json(), options.params);
    if (!resolved) {
      // The run cannot start with these parameters: say so on the run itself.
      v1::SetFlowRunStateRequest sr;
      sr.set_flow_run_id(run.id());
      core::State failed = core::Failed(std::chrono::system_clock::now(), resolved.error().message,
                                        "{\"error\":\"invalid parameters\"}");
      *sr.mutable_state() = client::ToProto(failed);
      auto set = client.SetFlowRunState(sr);
      (void)set;
      return Fail(2, resolved.error().message, false);
    }
    params = std::move(resolved.value());
  } else {
    v1::CreateFlowRunRequest cr;
    cr.set_flow_name(flow.name());
    cr.set_parameters_json(core::ParamsToJson(*params));
    for (const auto& t : flow.options().tags) cr.add_tags(t);
    *cr.mutable_retry_policy() = client::ToProto(flow.retry_policy());
    *cr.mutable_initial_state() = client::ToProto(core::Pending(std::chrono::system_clock::now()));
    auto created = client.CreateFlowRun(cr);
    if (!created)
      return Fail(1, "creating a flow run at " + address + ": " + created.error().message, false);
    run = created->flow_run();
  }

  std::optional<core::State> current;
  if (run.has_state()) current = client::FromProto(run.state());
  auto backend = detail::MakeServerBackend(client, run.id(), current, adopt_id.empty());
  detail::EngineConfig cfg;
  cfg.flow = &flow;
  cfg.params = std::move(*params);
  cfg.backend = backend.get();
  cfg.flow_run_id = run.id();
  cfg.flow_run_name = run.name().empty() ? run.id() : run.name();
  cfg.keep_history = options.keep_history;
  cfg.initial_state = current;
  cfg.initial_run_count = run.run_count();
  cfg.adopted = !adopt_id.empty();
  detail::Engine engine(std::move(cfg));
  detail::ScopedRunHost host(&engine, &client, run.id(),
                             run.name().empty() ? run.id() : run.name(), options.keep_history);
  if (adopt_id.empty()) {
    engine.flow_logger().info("Created flow run '{}' for flow '{}' (id {}) in state {}", run.name(),
                              flow.name(), run.id(),
                              current ? detail::DescribeState(*current) : "Pending()");
  } else {
    engine.flow_logger().info("Adopted flow run '{}' of flow '{}' (id {}) in state {}", run.name(),
                              flow.name(), run.id(),
                              current ? detail::DescribeState(*current) : "?");
  }
  FlowRunResult result;
  engine.Execute(result);
  if (current) result.history.insert(result.history.begin(), *current);
  return result;
}

}  // namespace

FlowRunResult Run(const Flow& flow, const RunOptions& options) {
  if (!flow.declaration_error().empty()) return Fail(2, flow.declaration_error(), true);

  bool forced_ephemeral = options.mode == RunOptions::Mode::kEphemeral ||
                          (options.mode == RunOptions::Mode::kAuto && EnvTrue("WEFT_EPHEMERAL"));
  std::string adopt_id;
  if (!forced_ephemeral) {
    adopt_id = !options.flow_run_id.empty() ? options.flow_run_id : EnvOr("WEFT_FLOW_RUN_ID", "");
  }

  // Parameters first: bad input never creates a run.
  std::optional<core::ParamValues> params;
  if (adopt_id.empty()) {
    auto resolved = core::ResolveParams(flow.param_specs(), "", options.params);
    if (!resolved) return Fail(2, resolved.error().message, true);
    params = std::move(resolved.value());
  }
  if (forced_ephemeral) return RunEphemeral(flow, std::move(*params), options);

  client::ClientOptions co = client::OptionsFromEnv();
  if (!options.api_url.empty()) {
    co.address = options.api_url;
    for (const char* prefix : {"http://", "grpc://"}) {
      if (co.address.rfind(prefix, 0) == 0) co.address = co.address.substr(std::strlen(prefix));
    }
  }
  if (!options.api_key.empty()) co.api_key = options.api_key;
  client::Client client(co);
  bool reachable = AcceptsConnections(co.address, options.connect_timeout_seconds) &&
                   client.WaitForReady(options.connect_timeout_seconds);
  if (!reachable && !adopt_id.empty()) {
    // An agent started this run: its server is restarting rather than absent. Wait for it
    // as long as any other call of the run would (detail::kRetryWindow).
    detail::WriteConsoleLine("weft: waiting for the server at " + co.address + " (flow run " +
                             adopt_id + ")");
    auto deadline = std::chrono::steady_clock::now() + detail::kRetryWindow;
    while (!reachable && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      reachable = AcceptsConnections(co.address, options.connect_timeout_seconds) &&
                  client.WaitForReady(options.connect_timeout_seconds);
    }
  }
  if (!reachable) {
    if (!adopt_id.empty()) {
      return Fail(1, "flow run " + adopt_id + ": no server at " + co.address, false);
    }
    if (options.mode == RunOptions::Mode::kServer) {
      return Fail(1, "no server at " + co.address, false);
    }
    SayEphemeralOnce(co.address);
    return RunEphemeral(flow, std::move(*params), options);
  }
  return RunOnServer(flow, client, std::move(params), adopt_id, options);
}

// ------------------------------------------------------------------ Main

std::string Usage(const Flow& flow, std::string_view program) {
  std::string out = fmt::format("usage: {} [--param NAME=VALUE]...\n\n", program);
  out += "Runs flow \"" + flow.name() + "\"";
  if (!flow.options().description.empty()) out += ": " + flow.options().description;
  out += "\n\nparameters:\n";
  if (flow.param_specs().empty()) out += "  (none)\n";
  size_t width = 4;
  for (const auto& s : flow.param_specs()) width = std::max(width, s.name.size());
  for (const auto& s : flow.param_specs()) {
    std::string how;
    if (s.default_value) {
      how = "default " + core::DescribeParamValue(*s.default_value);
    } else {
      how = s.required ? "required" : "optional";
    }
    out += fmt::format("  {:<{}}  {:<6}  {}", s.name, width, core::ParamTypeName(s.type), how);
    if (!s.description.empty()) out += "  " + s.description;
    out += "\n";
  }
  out +=
      "\noptions:\n"
      "  -p, --param NAME=VALUE  set a parameter (repeatable)\n"
      "  -h, --help              show this help\n"
      "  --weft-describe         print the deployments this program declares (JSON) and exit\n"
      "\nenvironment:\n"
      "  WEFT_API_URL      server address (default 127.0.0.1:4201); unreachable -> ephemeral mode\n"
      "  WEFT_API_KEY      API key\n"
      "  WEFT_FLOW_RUN_ID  adopt this flow run instead of creating one (set by agents)\n"
      "  WEFT_EPHEMERAL=1  do not contact a server; states are printed only\n"
      "  WEFT_LOG_LEVEL    debug | info | warning | error | off\n";
  return out;
}

int Main(int argc, char** argv, const Flow& flow) { return Main(argc, argv, flow, {}); }

int Main(int argc, char** argv, const Flow& flow, const std::vector<Deployment>& deployments) {
  std::string program = argc > 0 && argv[0] ? argv[0] : flow.name();
  if (auto slash = program.rfind('/'); slash != std::string::npos)
    program = program.substr(slash + 1);
  RunOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    if (arg == "-h" || arg == "--help") {
      std::cout << Usage(flow, program);
      return 0;
    }
    if (arg == "--weft-describe") {
      // What `weft deployment create ./program` reads: no server, no run, nothing else.
      auto specs = DeploymentSpecs(flow, deployments, program);
      if (!specs) {
        std::cerr << "error: " << specs.error().message << "\n";
        return 2;
      }
      std::cout << core::DeploymentSpecsToJson(*specs) << std::endl;
      return 0;
    }
    if (arg == "-p" || arg == "--param") {
      if (i + 1 >= argc) {
        std::cerr << "error: " << arg << ": expected NAME=VALUE (see --help)\n";
        return 2;
      }
      value = argv[++i];
    } else if (arg.rfind("--param=", 0) == 0) {
      value = arg.substr(8);
    } else {
      std::cerr << "error: unknown argument \"" << arg << "\" (see --help)\n";
      return 2;
    }
    auto kv = core::SplitAssignment(value);
    if (!kv) {
      std::cerr << "error: " << kv.error().message << "\n";
      return 2;
    }
    options.params.push_back(std::move(kv.value()));
  }
  FlowRunResult result = Run(flow, options);
  if (result.exit_code != 0 && !result.error.empty()) {
    std::cout.flush();
    std::cerr << "error: " << result.error << "\n";
  }
  return result.exit_code;
}

}  // namespace weft
