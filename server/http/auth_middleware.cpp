#include "server/http/auth_middleware.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

#include "sdk/core/field_limits.hpp"
#include "server/auth/access.hpp"
#include "server/auth/authenticator.hpp"

namespace weft::server::http {

namespace {

using nlohmann::json;
using HandlerResponse = httplib::Server::HandlerResponse;

// 'self' only: the dashboard is ES modules and a stylesheet from this server; its inline
// styles are set through the CSSOM (ui/js/dom.js), which CSP does not govern. data: images
// for the empty favicon in index.html.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void SendError(httplib::Response& res, int status, const char* code, const std::string& message) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(
      json{{"error", {{"code", code}, {"message", message}}}}.dump(-1, ' ', false,
                                                                  json::error_handler_t::replace),
      "application/json");
}

void SendError(httplib::Response& res, const core::Error& e) {
  int status = e.code == core::Code::kUnauthenticated    ? 401
               : e.code == core::Code::kPermissionDenied ? 403
               : e.code == core::Code::kInvalidArgument  ? 400
               : e.code == core::Code::kUnavailable      ? 503
                                                         : 500;
  SendError(res, status, core::CodeName(e.code), e.message);
  if (status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"weft\"");
}

std::string CookieValue(const httplib::Request& req, std::string_view name) {
  std::string header = req.get_header_value("Cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    auto semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
  }
  return "";
}

bool IsRead(const std::string& method) { return method == "GET" || method == "HEAD"; }

bool MayRead(auth::Scope s) {
  return s == auth::Scope::kViewer || s == auth::Scope::kOperator || s == auth::Scope::kAdmin;
}

bool MayChange(auth::Scope s) { return s == auth::Scope::kOperator || s == auth::Scope::kAdmin; }

std::string Describe(const auth::Identity& who) {
  if (who.scope == auth::Scope::kRun) return "a run token";
  return "key \"" + who.name + "\" (scope " + auth::ScopeName(who.scope) + ")";
}

struct Caller {
  auth::Identity who;
  const char* via = "bearer";  // bearer | session
};

// The caller of `req`: the Authorization header first, then the session cookie.
core::Result<Caller> Identify(const AccessPolicy& policy, const httplib::Request& req) {
  std::string authz = req.get_header_value("Authorization");
  if (!authz.empty()) {
    constexpr std::string_view kBearer = "bearer ";
    if (authz.size() <= kBearer.size() || Lower(authz.substr(0, kBearer.size())) != kBearer) {
      return core::Error{core::Code::kUnauthenticated,
                         "Authorization: only \"Bearer <API key>\" is accepted"};
    }
    std::string token = authz.substr(kBearer.size());
    while (!token.empty() && token.front() == ' ') token.erase(token.begin());
    auto who = policy.authenticator->Authenticate(token);
    if (!who.ok()) return who.error();
    return Caller{*who, "bearer"};
  }
  std::string session = CookieValue(req, kSessionCookie);
  if (!session.empty()) {
    auto who = policy.authenticator->AuthenticateSession(session);
    if (!who.ok()) return who.error();
    return Caller{*who, "session"};
  }
  return core::Error{core::Code::kUnauthenticated,
                     "not logged in: log in on the dashboard or send \"Authorization: Bearer "
                     "<API key>\" (weft api-key create NAME --scope viewer)"};
}

std::string SessionCookie(const AccessPolicy& policy, const std::string& value, long max_age) {
  std::string c = std::string(kSessionCookie) + "=" + value + "; Path=/; Max-Age=" +
                  std::to_string(max_age) + "; HttpOnly; SameSite=Strict";
  if (policy.tls) c += "; Secure";
  return c;
}

bool JsonBody(const httplib::Request& req, httplib::Response& res) {
  if (req.get_header_value("Content-Type").rfind("application/json", 0) == 0) return true;
  SendError(res, 415, "INVALID_ARGUMENT",
            "Content-Type: must be application/json (send {} for no arguments)");
  return false;
}

}  // namespace

std::string HostName(std::string_view host) {
  if (host.empty() || host.size() > 255) return "";
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return "";
    std::string_view after = host.substr(close + 1);
    if (!after.empty() && after.front() != ':') return "";
    return Lower(host.substr(1, close - 1));
  }
  auto colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) != std::string_view::npos) {
    return "";  // an unbracketed IPv6 address is not a Host header
  }
  std::string_view name = host.substr(0, colon);
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return "";
    }
  }
  return Lower(name);
}

std::string UrlHost(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  auto at = url.rfind('@');
  if (at != std::string_view::npos) url.remove_prefix(at + 1);
  return HostName(url);
}

bool HostAllowed(const AccessPolicy& policy, std::string_view host_header) {
  std::string name = HostName(host_header);
  if (name.empty()) return false;
  if (name == "localhost" || name == "127.0.0.1" || name == "::1") return true;
  for (const auto& h : policy.allowed_hosts) {
    if (name == h) return true;
  }
  std::string exact = Lower(host_header);
  for (const auto& hp : policy.allowed_host_ports) {
    if (exact == hp) return true;
  }
  return false;
}

bool IsLoopbackPeer(std::string_view addr) {
  if (addr == "::1") return true;
  if (addr.rfind("::ffff:", 0) == 0) addr.remove_prefix(7);
  return addr.rfind("127.", 0) == 0;
}

void InstallAccessControl(httplib::Server& s, const AccessPolicy& policy,
                          std::shared_ptr<spdlog::logger> logger) {
  const AccessPolicy* p = &policy;
  auto* log = logger.get();

  s.set_pre_routing_handler([p, log](const httplib::Request& req,
                                     httplib::Response& res) -> HandlerResponse {
    const std::string& path = req.path;
    res.set_header("Content-Security-Policy", kContentSecurityPolicy);
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    bool probe = path == "/healthz" || path == "/readyz";
    std::string host = req.get_header_value("Host");
    if (!probe && !HostAllowed(*p, host)) {
      res.status = 421;
      std::string shown = host.size() > 100 ? host.substr(0, 100) + "…" : host;
      res.set_content("misdirected request: this server does not answer to Host \"" + shown +
                          "\"; use 127.0.0.1 or localhost, or start weft-server with "
                          "--public-url naming this host\n",
                      "text/plain; charset=utf-8");
      res.set_header("Connection", "close");
      log->info("http request refused reason=host method={} path={}", req.method, path);
      return HandlerResponse::Handled;
    }
    if (probe) return HandlerResponse::Unhandled;

    bool read = IsRead(req.method);
    if (!read) {
      // A browser names the page's origin; another site's page must not drive this one
      // (SameSite=Strict does not cover other ports of the same host).
      std::string origin = req.get_header_value("Origin");
      if (!origin.empty() && Lower(origin) != Lower(std::string(p->tls ? "https://" : "http://") + host)) {
        SendError(res, 403, "PERMISSION_DENIED",
                  req.method + " " + path + ": request from origin \"" +
                      origin.substr(0, 100) + "\" refused (only pages of this server may change it)");
        res.set_header("Connection", "close");
        log->info("http request refused reason=origin method={} path={}", req.method, path);
        return HandlerResponse::Handled;
      }
    }

    bool api = path.rfind("/api/", 0) == 0;
    bool metrics = path == "/metrics";
    if (!api && !metrics) return HandlerResponse::Unhandled;  // the dashboard's files
    if (path == "/api/login" || path == "/api/logout") return HandlerResponse::Unhandled;
    if (metrics && IsLoopbackPeer(req.remote_addr)) return HandlerResponse::Unhandled;

    auto caller = Identify(*p, req);
    if (!caller.ok()) {
      SendError(res, caller.error());
      if (!read) res.set_header("Connection", "close");
      log->debug("http request refused reason=unauthenticated method={} path={}", req.method,
                 path);
      return HandlerResponse::Handled;
    }
    const auth::Identity& who = caller->who;
    if (!MayRead(who.scope)) {
      SendError(res, 403, "PERMISSION_DENIED",
                req.method + " " + path + " needs scope viewer, operator or admin; " +
                    Describe(who) + " may not call it");
      if (!read) res.set_header("Connection", "close");
      return HandlerResponse::Handled;
    }
    if (!read && !MayChange(who.scope)) {
      SendError(res, 403, "PERMISSION_DENIED",
                req.method + " " + path + " needs scope operator or admin; " + Describe(who) +
                    " may not call it");
      res.set_header("Connection", "close");
      log->info("http request refused reason=scope method={} path={} key={}", req.method, path,
                who.name);
      return HandlerResponse::Handled;
    }
    if (path == "/api/whoami" && read) {
      res.set_header("Cache-Control", "no-store");
      res.set_content(json{{"name", who.name},
                           {"scope", auth::ScopeName(who.scope)},
                           {"via", caller->via}}
                          .dump(),
                      "application/json");
      return HandlerResponse::Handled;
    }
    return HandlerResponse::Unhandled;
  });

  s.Post("/api/login", [p, log](const httplib::Request& req, httplib::Response& res) {
    if (!JsonBody(req, res)) return;
    auto parsed =
        core::ParseJsonObjectBody(req.body, "body", {core::kMaxLoginBodyBytes, core::kMaxJsonDepth});
    if (!parsed.ok()) {
      SendError(res, parsed.error());
      return;
    }
    const json& body = *parsed;
    if (!body.contains("api_key") || !body["api_key"].is_string() ||
        body["api_key"].get<std::string>().empty()) {
      SendError(res, 400, "INVALID_ARGUMENT", "api_key: required (a key from weft api-key create)");
      return;
    }
    auto who = p->authenticator->Authenticate(body["api_key"].get<std::string>());
    if (!who.ok()) {
      log->info("dashboard login refused reason=key");
      SendError(res, who.error());
      return;
    }
    if (!MayRead(who->scope) || who->key_id.empty()) {
      SendError(res, 403, "PERMISSION_DENIED",
                "the dashboard needs a viewer, operator or admin key; " + Describe(*who) +
                    " may not log in");
      return;
    }
    auto token = p->authenticator->MintSessionToken(*who, p->session_seconds);
    if (!token.ok()) {
      SendError(res, token.error());
      return;
    }
    res.set_header("Set-Cookie",
                   SessionCookie(*p, *token, static_cast<long>(p->session_seconds)));
    res.set_header("Cache-Control", "no-store");
    res.set_content(json{{"name", who->name}, {"scope", auth::ScopeName(who->scope)}}.dump(),
                    "application/json");
    log->info("dashboard login name={} scope={}", who->name, auth::ScopeName(who->scope));
  });

  s.Post("/api/logout", [p](const httplib::Request& req, httplib::Response& res) {
    if (!JsonBody(req, res)) return;
    res.set_header("Set-Cookie", SessionCookie(*p, "", 0));
    res.set_header("Cache-Control", "no-store");
    res.set_content("{}", "application/json");
  });
}

}  // namespace weft::server::http
