#include "server/http/http_server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <thread>

#include "sdk/core/connection_limits.hpp"
#include "sdk/core/field_limits.hpp"
#include "server/http/assets.hpp"
#include "server/http/auth_middleware.hpp"
#include "server/http/routes.hpp"
#include "server/orchestration/run_service.hpp"

namespace weft::server::http {

struct HttpServer::Impl {
  ApiContext ctx;
  HttpOptions options;
  AccessPolicy access;  // read by the pre-routing handler: filled before listening
  std::unique_ptr<httplib::Server> server;  // an httplib::SSLServer under TLS
  std::thread thread;
  std::string host;
  int port = 0;
  std::mutex mu;
  bool started = false;
  bool stopped = false;

  Impl(HttpDomain d, HttpOptions o, std::shared_ptr<spdlog::logger> l, const core::Clock& c)
      : ctx{d, c, std::move(l)}, options(std::move(o)) {}
};

HttpServer::HttpServer(HttpDomain domain, HttpOptions options,
                       std::shared_ptr<spdlog::logger> logger, const core::Clock& clock)
    : impl_(std::make_unique<Impl>(domain, std::move(options), std::move(logger), clock)) {}

HttpServer::~HttpServer() { Stop(); }

namespace {

void ServeAsset(const Asset& a, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");  // X-Content-Type-Options: auth_middleware
  res.set_content(a.body.data(), a.body.size(), ContentTypeOf(a.path));
}

const Asset* FindAsset(std::string_view path) {
  for (const auto& a : EmbeddedAssets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace

core::Status HttpServer::Start() {
  auto& m = *impl_;
  auto colon = m.options.address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return core::InvalidArgument("http-address: \"" + m.options.address +
                                 "\" must be host:port (e.g. 127.0.0.1:4200)");
  }
  m.host = m.options.address.substr(0, colon);
  if (m.host.size() > 2 && m.host.front() == '[' && m.host.back() == ']') {
    m.host = m.host.substr(1, m.host.size() - 2);
  }
  int wanted = 0;
  try {
    wanted = std::stoi(m.options.address.substr(colon + 1));
  } catch (...) {
    return core::InvalidArgument("http-address: \"" + m.options.address +
                                 "\": port is not a number");
  }

  if (!m.options.authenticator) {
    return core::InvalidArgument("http: no authenticator (the dashboard never serves unchecked)");
  }
  m.access.authenticator = m.options.authenticator;
  m.access.tls = !m.options.tls_cert.empty();
  m.access.session_seconds = m.options.session_seconds;
  if (!m.options.public_url.empty()) {
    std::string public_host = UrlHost(m.options.public_url);
    if (public_host.empty()) {
      return core::InvalidArgument("public-url: \"" + m.options.public_url +
                                   "\" has no host name (e.g. https://weft.example.com)");
    }
    m.access.allowed_hosts.push_back(public_host);
  }

  if (!m.options.tls_cert.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(m.options.tls_cert.c_str(),
                                                    m.options.tls_key.c_str());
    if (!tls->is_valid()) {
      return core::InvalidArgument("tls: cannot use " + m.options.tls_cert + " with " +
                                   m.options.tls_key + " for HTTPS (not a PEM pair?)");
    }
    m.server = std::move(tls);
  } else {
    m.server = std::make_unique<httplib::Server>();
  }
  auto& s = *m.server;
  auto* log = m.ctx.logger.get();
  s.set_keep_alive_max_count(100);
  // Each connection holds a worker thread while it is open: more threads than httplib's
  // default (8 here), and an idle keep-alive connection gives its thread back after 2 s, so a
  // few idle browsers or clients cannot starve /metrics and the API.
  s.new_task_queue = [] { return new httplib::ThreadPool(core::limits::kHttpThreads); };
  s.set_keep_alive_timeout(core::limits::kHttpKeepAliveSeconds);
  s.set_tcp_nodelay(true);  // small JSON answers: no 40 ms delayed-ACK stalls
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  s.set_payload_max_length(core::kMaxHttpBodyBytes);
  // A body over the limit is refused by httplib before any handler (413): say so in JSON.
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        if (res.status != 413 || !res.body.empty()) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        res.set_header("Cache-Control", "no-store");
        res.set_content(R"({"error":{"code":"INVALID_ARGUMENT","message":"body: larger than )" +
                            core::DescribeBytes(core::kMaxHttpBodyBytes) + R"("}})",
                        "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_exception_handler(
      [log](const httplib::Request& req, httplib::Response& res, const std::exception_ptr& ep) {
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        log->error("http handler failed method={} path={} error={}", req.method, req.path, what);
        res.status = 500;
        res.set_content(R"({"error":{"code":"INTERNAL","message":"internal error"}})",
                        "application/json");
      });

  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  auto& runs = m.ctx.domain.runs;
  s.Get("/readyz", [&runs](const httplib::Request&, httplib::Response& res) {
    auto info = runs.GetDatabaseInfo();
    if (!info.ok()) {
      res.status = 503;
      res.set_content("not ready: database: " + info.error().message + "\n",
                      "text/plain; charset=utf-8");
      return;
    }
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  if (m.options.metrics) {
    auto metrics = m.options.metrics;
    s.Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }
  InstallAccessControl(s, m.access, m.ctx.logger);  // before the API's catch-all 404
  RegisterJsonApi(s, m.ctx);
  // The single-page app: "/" is index.html; other files by path.
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    if (const Asset* a = FindAsset("/index.html")) {
      ServeAsset(*a, res);
    } else {
      res.status = 404;
      res.set_content("dashboard assets missing from this build\n", "text/plain");
    }
  });
  s.Get(R"(/(.+\.(?:html|css|js|svg)))", [](const httplib::Request& req, httplib::Response& res) {
    if (const Asset* a = FindAsset(req.path)) {
      ServeAsset(*a, res);
      return;
    }
    res.status = 404;
    res.set_content("not found\n", "text/plain; charset=utf-8");
  });
  s.set_logger([log](const httplib::Request& req, const httplib::Response& res) {
    log->debug("http request method={} path={} status={}", req.method, req.path, res.status);
  });

  bool ok = false;
  if (wanted == 0) {
    m.port = s.bind_to_any_port(m.host);
    ok = m.port > 0;
  } else {
    ok = s.bind_to_port(m.host, wanted);
    m.port = wanted;
  }
  if (!ok) {
    return core::Unavailable("http-address: cannot listen on " + m.options.address +
                             " (in use or not a local address? --no-http disables the dashboard)");
  }
  if (m.host != "0.0.0.0" && m.host != "::" && !m.host.empty()) {
    // Clients that dial the bound address by IP or name send it as Host.
    std::string exact = address();
    std::transform(exact.begin(), exact.end(), exact.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    m.access.allowed_host_ports.push_back(exact);
  }
  m.thread = std::thread([&s] { s.listen_after_bind(); });
  // Stop() must not race the thread's start (stop() before listening would be lost).
  for (int i = 0; i < 500 && !s.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  {
    std::lock_guard lock(m.mu);
    m.started = true;
  }
  m.ctx.logger->info("http listening address={}", address());
  return {};
}

std::string HttpServer::address() const {
  const auto& m = *impl_;
  std::string host = m.host.find(':') != std::string::npos ? "[" + m.host + "]" : m.host;
  return host + ":" + std::to_string(m.port);
}

void HttpServer::Stop() {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.stopped || !m.started) {
      m.stopped = true;
      return;
    }
    m.stopped = true;
  }
  m.ctx.logger->info("http stopping");
  m.server->stop();
  if (m.thread.joinable()) m.thread.join();
}

}  // namespace weft::server::http
