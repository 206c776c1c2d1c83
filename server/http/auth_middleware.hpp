#pragma once
// Internal to weft_server_http (includes httplib): the one place where HTTP requests are
// checked (server/README.md, "HTTP"). Handlers never check anything themselves.
//
// Every request, in this order:
//   1. Host allowlist: 127.0.0.1, localhost and [::1] (any port), the host of --public-url,
//      and the bound host:port when it is not a wildcard; anything else answers 421 (a
//      DNS-rebinding page cannot drive the dashboard). /healthz and /readyz are exempt (load
//      balancers probe them by address; they hold no data).
//   2. Security headers on every answer: Content-Security-Policy (frame-ancestors 'none'),
//      X-Frame-Options, X-Content-Type-Options, Referrer-Policy.
//   3. Mutating methods (anything but GET/HEAD) with an Origin that is not this Host: 403.
//   4. /api/*: "Authorization: Bearer <API key or run token>" or the weft_session cookie;
//      none or invalid: 401. Reads need viewer, operator or admin; POST/PUT/PATCH/DELETE need
//      operator or admin (403 naming the scope). /api/login and /api/logout are open;
//      /api/whoami is answered here. /metrics is open to loopback peers, viewer elsewhere.
//      The dashboard's static files are open (they hold no data).
#include <httplib.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::auth {
class Authenticator;
}  // namespace weft::server::auth

namespace weft::server::http {

struct AccessPolicy {
  auth::Authenticator* authenticator = nullptr;
  std::vector<std::string> allowed_hosts;       // lowercase names, any port
  std::vector<std::string> allowed_host_ports;  // lowercase exact host:port
  bool tls = false;                             // cookies get Secure
  double session_seconds = 12 * 3600.0;
};

constexpr const char* kSessionCookie = "weft_session";

// The host part of a Host header value ("Example.com:4200" -> "example.com", "[::1]:80" ->
// "::1"), lowercase; "" when malformed.
std::string HostName(std::string_view host_header);
// The host of a URL ("https://weft.example.com:8443/x" -> "weft.example.com"); "" if none.
std::string UrlHost(std::string_view url);
bool HostAllowed(const AccessPolicy& policy, std::string_view host_header);
bool IsLoopbackPeer(std::string_view remote_addr);

// Installs steps 1-4 as the server's pre-routing handler and registers POST /api/login and
// POST /api/logout. `policy` must outlive the server. Call before RegisterJsonApi (its
// catch-all 404 would shadow the session routes).
void InstallAccessControl(httplib::Server& server, const AccessPolicy& policy,
                          std::shared_ptr<spdlog::logger> logger);

}  // namespace weft::server::http
