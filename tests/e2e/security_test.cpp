// Secure by default across machines, for real: three network namespaces joined by veth pairs
// stand for three hosts. The server (TLS, a certificate from `weft server cert`) runs in one,
// an agent with an agent-scoped key and the CA in a second, the CLI with an operator key in a
// third. Where network namespaces cannot be made (not root, no iproute2) the test says so and
// passes without running.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/e2e/cli_support.hpp"

using namespace weft::e2e;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Addresses are private to our own namespaces (nothing leaves them).
const char* kServerToAgent = "10.77.1.1";
const char* kAgentIp = "10.77.1.2";
const char* kServerToCli = "10.77.2.1";
const char* kCliIp = "10.77.2.2";

// iproute2's `ip` (the e2e Run helper does not search PATH).
std::string IpBin() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "ip";
}

bool Ip(const std::vector<std::string>& args, std::string* err = nullptr) {
  std::vector<std::string> argv = {IpBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = Run(argv, {}, 30);
  if (r.exit_code != 0 && err) *err = r.err;
  return r.exit_code == 0;
}

// Three namespaces "<p>s" (server), "<p>a" (agent), "<p>c" (CLI): server<->agent on
// 10.77.1.0/24 and server<->CLI on 10.77.2.0/24. Deleted (with their links) on destruction.
struct Hosts {
  std::string server, agent, cli;
  std::string problem;  // why the hosts could not be made ("" = ready)

  Hosts() {
    std::string p = "weft" + std::to_string(getpid() % 100000);
    server = p + "s";
    agent = p + "a";
    cli = p + "c";
    std::string err;
    if (!Ip({"netns", "add", server}, &err)) {
      problem = "cannot create network namespaces (ip netns add: " + err + ")";
      server.clear();
      return;
    }
    bool ok = Ip({"netns", "add", agent}) && Ip({"netns", "add", cli});
    ok = ok && Link(p + "x0", p + "x1", server, agent, kServerToAgent, kAgentIp);
    ok = ok && Link(p + "y0", p + "y1", server, cli, kServerToCli, kCliIp);
    for (const auto& ns : {server, agent, cli}) {
      ok = ok && Ip({"-n", ns, "link", "set", "lo", "up"});
    }
    if (!ok) problem = "cannot wire the network namespaces with veth pairs";
  }
  ~Hosts() {
    for (const auto& ns : {server, agent, cli}) {
      if (!ns.empty()) Ip({"netns", "del", ns});
    }
  }

  static bool Link(const std::string& a, const std::string& b, const std::string& ns_a,
                   const std::string& ns_b, const std::string& ip_a, const std::string& ip_b) {
    return Ip({"link", "add", a, "type", "veth", "peer", "name", b}) &&
           Ip({"link", "set", a, "netns", ns_a}) && Ip({"link", "set", b, "netns", ns_b}) &&
           Ip({"-n", ns_a, "addr", "add", ip_a + "/24", "dev", a}) &&
           Ip({"-n", ns_b, "addr", "add", ip_b + "/24", "dev", b}) &&
           Ip({"-n", ns_a, "link", "set", a, "up"}) && Ip({"-n", ns_b, "link", "set", b, "up"});
  }
};

std::vector<std::string> In(const std::string& ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {IpBin(), "netns", "exec", ns});
  return argv;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// The test cluster's database `url` as a unix-socket URL: a socket is a file, so processes
// in other network namespaces reach it.
std::string SocketUrl(const std::string& url) {
  std::string name = url.substr(url.rfind('/') + 1);
  return "postgresql:///" + name + "?host=" + Getenv("WEFT_TEST_PG_SOCKET_DIR") +
         "&port=" + Getenv("PGPORT") + "&user=postgres";
}

}  // namespace

TEST_CASE("across machines: TLS, scoped keys, an agent on another host, run tokens",
          "[e2e][security]") {
  Hosts hosts;
  if (!hosts.problem.empty()) {
    WARN("skipped: " << hosts.problem);
    return;
  }
  REQUIRE_FALSE(Getenv("WEFT_TEST_PG_SOCKET_DIR").empty());
  fs::path work = TempDir("netns");
  fs::path tls = work / "tls";
  fs::path empty_home = TempDir("netns_empty_home");

  // A private CA and a certificate for the server's two addresses.
  WeftOk({}, {"server", "cert", "--dir", tls.string(), "--host", kServerToAgent, "--host",
              kServerToCli});
  const std::string ca = (tls / "ca.pem").string();

  // Plaintext off loopback is refused by the server itself.
  RunResult plain_server = Run({WEFT_SERVER_BIN, "--grpc-address", "0.0.0.0:4201", "--no-http",
                                "--database-url", "postgresql://x@127.0.0.1/none"});
  CHECK(plain_server.exit_code == 2);
  CHECK(Has(plain_server.err, "grpc-address: 0.0.0.0:4201 is not a loopback address"));
  CHECK(Has(plain_server.err, "--insecure-no-tls"));

  std::string key_file = (work / "admin.key").string();
  const std::string server_db = SocketUrl(FreshDatabase("netns"));
  Background server(
      In(hosts.server,
         {WEFT_SERVER_BIN, "--grpc-address", "0.0.0.0:4201", "--http-address", "0.0.0.0:4200",
          "--tls-cert", (tls / "server.pem").string(), "--tls-key", (tls / "server.key").string(),
          "--database-url", server_db, "--admin-key-file", key_file,
          "--public-url", std::string("https://") + kServerToCli + ":4200",
          "--heartbeat-interval", "1s"}),
      {{"WEFT_DATABASE_URL", "<unset>"}}, (work / "server.log").string());
  REQUIRE(server.WaitForLog("weft-server ready", 90));
  INFO("server log:\n" << server.Log());

  // On the CLI's host: the admin key (copied over, as an operator would) makes the others.
  std::string grpc_for_cli = std::string("https://") + kServerToCli + ":4201";
  Env admin = {{"WEFT_API_URL", grpc_for_cli},
               {"WEFT_TLS_CA", ca},
               {"WEFT_API_KEY", Trimmed(ReadFile(key_file))},
               {"WEFT_HOME", empty_home.string()}};
  auto make_key = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {WEFT_CLI_BIN, "api-key", "create"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--output", "json"});
    RunResult r = Run(In(hosts.cli, argv), admin);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out)["token"].get<std::string>();
  };
  std::string operator_key = make_key({"ops", "--scope", "operator"});
  std::string viewer_key = make_key({"dash", "--scope", "viewer"});
  std::string agent_key = make_key({"worker-1", "--scope", "agent", "--work-queue", "etl"});
  Env op = admin;
  op["WEFT_API_KEY"] = operator_key;
  auto cli = [&](const Env& env, std::vector<std::string> args, const std::string& cwd = "") {
    args.insert(args.begin(), WEFT_CLI_BIN);
    return Run(In(hosts.cli, args), env, 120, cwd);
  };

  // The operator deploys (bundles go to the server's storage over TLS) and creates the queue.
  fs::path project = work / "project";
  fs::path out = work / "out";
  fs::create_directories(out);
  fs::create_directories(project);
  fs::copy_file(HELLO_FLOW_BIN, project / "hello_flow", fs::copy_options::overwrite_existing);
  WriteFile(project / "envdump.sh", "#!/bin/sh\nenv > \"$OUT_DIR/env.$WEFT_FLOW_RUN_ID\"\n", true);
  WriteFile(project / "deploy.yaml",
            "deployments:\n"
            "  - name: greet\n    flow_name: hello\n    entrypoint: ./hello_flow\n"
            "    include: [hello_flow]\n    work_queue: etl\n"
            "  - name: env\n    flow_name: envdump\n    entrypoint: ./envdump.sh\n"
            "    include: [envdump.sh]\n    work_queue: etl\n"
            "    runner: {type: process, env: {OUT_DIR: \"" + out.string() + "\"}}\n");
  fs::permissions(project / "hello_flow", fs::perms::owner_all, fs::perm_options::add);
  RunResult deployed = cli(op, {"deployment", "create", "deploy.yaml"}, project.string());
  INFO(deployed.out << deployed.err);
  REQUIRE(deployed.exit_code == 0);
  REQUIRE(cli(op, {"work-queue", "create", "etl"}).exit_code == 0);
  cli(op, {"work-queue", "create", "default"});  // may exist already

  // The agent on its own host, with its agent key and the CA.
  Env agent_env = {{"WEFT_API_URL", std::string("https://") + kServerToAgent + ":4201"},
                   {"WEFT_TLS_CA", ca},
                   {"WEFT_API_KEY", agent_key},
                   {"WEFT_HOME", empty_home.string()},
                   {"AWS_SECRET_ACCESS_KEY", "agent-only-secret"}};
  Background agent(In(hosts.agent, {WEFT_AGENT_BIN, "-q", "etl", "--name", "worker-1",
                                    "--work-dir", (work / "runs").string(), "--cache-dir",
                                    (work / "cache").string()}),
                   agent_env, (work / "agent.log").string());
  REQUIRE(agent.WaitForLog("weft-agent ready", 60));
  INFO("agent log:\n" << agent.Log());

  auto run_and_wait = [&](const std::string& deployment) {
    RunResult r = cli(op, {"deployment", "run", deployment, "--output", "json"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    std::string id = json::parse(r.out)["flow_run"]["id"];
    RunResult waited = cli(op, {"flow-run", "wait", id, "--timeout", "90s"});
    INFO("wait: " << waited.out << waited.err);
    CHECK(waited.exit_code == 0);
    return id;
  };
  // An SDK flow (task runs, logs, states through its run token over TLS) and a script.
  std::string hello_id = run_and_wait("hello/greet");
  json tasks = json::parse(cli(op, {"task-run", "ls", "--flow-run", hello_id, "--output", "json"}).out);
  CHECK(tasks["task_runs"].size() == 3);
  std::string env_id = run_and_wait("envdump/env");

  // The flow process held a run token for its own run, never the agent's key or secrets.
  std::string flow_env = ReadFile((out / ("env." + env_id)).string());
  CHECK(Has(flow_env, "WEFT_API_KEY=weftrun_" + env_id + "_"));
  CHECK_FALSE(Has(flow_env, agent_key));
  CHECK(Has(flow_env, "WEFT_TLS_CA=" + ca));
  std::string run_token;
  {
    auto at = flow_env.find("WEFT_API_KEY=");
    run_token = flow_env.substr(at + 13, flow_env.find('\n', at) - at - 13);
  }
  // ... and that token is dead now that its run is final.
  Env as_run = op;
  as_run["WEFT_API_KEY"] = run_token;
  RunResult dead = cli(as_run, {"whoami"});
  CHECK(dead.exit_code == 1);
  CHECK(Has(dead.err, "is final (Completed)"));

  // No key at all: UNAUTHENTICATED, with a hint.
  Env nokey = op;
  nokey["WEFT_API_KEY"] = "<unset>";
  RunResult anon = cli(nokey, {"flow-run", "ls"});
  CHECK(anon.exit_code == 1);
  CHECK(Has(anon.err, "error: no API key"));
  CHECK(Has(anon.err, "hint:"));

  // A viewer reads but cannot run a deployment.
  Env viewer = op;
  viewer["WEFT_API_KEY"] = viewer_key;
  CHECK(cli(viewer, {"flow-run", "ls"}).exit_code == 0);
  RunResult viewer_run = cli(viewer, {"deployment", "run", "envdump/env"});
  CHECK(viewer_run.exit_code == 1);
  CHECK(Has(viewer_run.err, "needs scope operator or admin; key \"dash\" (scope viewer)"));

  // The agent key cannot create deployments, nor serve another queue.
  Env as_agent = op;
  as_agent["WEFT_API_KEY"] = agent_key;
  RunResult agent_deploys = cli(as_agent, {"deployment", "create", "deploy.yaml"}, project.string());
  CHECK(agent_deploys.exit_code == 1);
  INFO(agent_deploys.err);
  CHECK(Has(agent_deploys.err, "key \"worker-1\" (scope agent) may not call it"));
  {
    Background other(In(hosts.agent, {WEFT_AGENT_BIN, "-q", "default", "--work-dir",
                                      (work / "runs2").string(), "--cache-dir",
                                      (work / "cache2").string()}),
                     agent_env, (work / "agent2.log").string());
    CHECK(other.WaitForLog("may serve only the work queues etl", 30));
    other.Stop(5);
  }

  // Plaintext to the server's host is refused by the client; forced, it cannot connect.
  Env plain = op;
  plain["WEFT_API_URL"] = std::string(kServerToCli) + ":4201";
  RunResult refused = cli(plain, {"flow-run", "ls"});
  CHECK(refused.exit_code == 1);
  CHECK(Has(refused.err, "refusing to send the API key in plaintext"));
  plain["WEFT_API_TIMEOUT"] = "5";
  RunResult forced = cli(plain, {"--insecure", "flow-run", "ls"});
  CHECK(forced.exit_code == 1);
  CHECK(Has(forced.err, "server unavailable"));

  // A replica that was told --insecure-no-tls: plaintext across hosts, keys still required,
  // and it says so in its log.
  {
    Background plain_replica(
        In(hosts.server,
           {WEFT_SERVER_BIN, "--grpc-address", "0.0.0.0:4301", "--http-address", "0.0.0.0:4300",
            "--insecure-no-tls", "--database-url", server_db, "--admin-key-file",
            (work / "replica.key").string(), "--no-scheduler", "--no-liveness", "--no-notifier"}),
        {{"WEFT_DATABASE_URL", "<unset>"}}, (work / "replica.log").string());
    REQUIRE(plain_replica.WaitForLog("weft-server ready", 60));
    CHECK(Has(plain_replica.Log(), "plaintext off loopback (--insecure-no-tls)"));
    Env insecure = op;
    insecure["WEFT_API_URL"] = std::string(kServerToCli) + ":4301";
    insecure["WEFT_INSECURE"] = "1";
    RunResult who = cli(insecure, {"whoami"});
    INFO(who.out << who.err);
    CHECK(who.exit_code == 0);
    CHECK(Has(who.out, "ops (scope operator)"));
    insecure["WEFT_API_KEY"] = "<unset>";
    RunResult anon_plain = cli(insecure, {"flow-run", "ls"});
    CHECK(anon_plain.exit_code == 1);
    CHECK(Has(anon_plain.err, "error: no API key"));
    CHECK(plain_replica.Stop() == 0);
  }

  // A CA that did not sign the server's certificate: no connection.
  fs::path other_ca = work / "other-ca";
  WeftOk({}, {"server", "cert", "--dir", other_ca.string(), "--host", "elsewhere.example"});
  Env wrong_ca = op;
  wrong_ca["WEFT_TLS_CA"] = (other_ca / "ca.pem").string();
  wrong_ca["WEFT_API_TIMEOUT"] = "5";
  RunResult untrusted = cli(wrong_ca, {"flow-run", "ls"});
  CHECK(untrusted.exit_code == 1);
  CHECK(Has(untrusted.err, "certificate verify failed"));

  // The dashboard is HTTPS on the same certificate.
  RunResult health = Run(In(hosts.cli, {"/usr/bin/curl", "-sS", "--cacert", ca,
                                        std::string("https://") + kServerToCli + ":4200/healthz"}));
  CHECK(health.exit_code == 0);
  CHECK(Has(health.out, "ok"));
  // Off loopback /metrics and /api need a key; the public URL's host is allowed.
  auto status = [&](const std::string& path, const std::string& key) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w",
                                     "%{http_code}", "--cacert", ca};
    if (!key.empty()) argv.insert(argv.end(), {"-H", "Authorization: Bearer " + key});
    argv.push_back(std::string("https://") + kServerToCli + ":4200" + path);
    return Run(In(hosts.cli, argv)).out;
  };
  CHECK(status("/metrics", "") == "401");
  CHECK(status("/metrics", viewer_key) == "200");
  CHECK(status("/api/flow-runs", "") == "401");
  CHECK(status("/api/flow-runs", viewer_key) == "200");
  CHECK(status("/api/flow-runs", agent_key) == "403");

  CHECK(agent.Stop() == 0);
  CHECK(server.Stop() == 0);
  // Nothing secret reached a log.
  for (const std::string& secret : {agent_key, operator_key, viewer_key, run_token}) {
    CHECK_FALSE(Has(agent.Log(), secret));
    CHECK_FALSE(Has(server.Log(), secret));
  }
  CHECK_FALSE(Has(agent.Log(), "agent-only-secret"));
}

TEST_CASE("profiles, login and api keys from the CLI", "[e2e][security]") {
  Server server(FreshDatabase("profiles"));
  fs::path home = TempDir("profiles_home");  // no admin key here: nothing is found by itself
  Env env = {{"WEFT_API_URL", server.address()},
             {"WEFT_HOME", home.string()},
             {"WEFT_API_KEY", "<unset>"},
             {"WEFT_PROFILE", "<unset>"}};
  RunResult anon = Weft(env, {"flow-run", "ls"});
  CHECK(anon.exit_code == 1);
  CHECK(Has(anon.err, "error: no API key"));
  CHECK(Has(anon.err, "hint: set WEFT_API_KEY"));
  RunResult version = Weft(env, {"version"});  // reachable, but it says why it refused
  CHECK(Has(version.out, "server at " + server.address() + ": no API key"));

  // A wrong key is checked before anything is saved.
  RunResult bad = Weft(env, {"login", "--api-url", server.address(), "--api-key", "weft_nope"});
  CHECK(bad.exit_code == 1);
  CHECK(Has(bad.err, "API key not recognised"));
  CHECK_FALSE(fs::exists(home / "config.yaml"));

  RunResult login =
      Weft(env, {"login", "--api-url", server.address(), "--api-key", server.admin_key()});
  INFO(login.out << login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(Has(login.out, "as local-admin-"));
  CHECK((fs::status(home / "config.yaml").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(Weft(env, {"flow-run", "ls"}).exit_code == 0);  // the profile's key
  RunResult view = Weft(env, {"config", "view"});
  CHECK(Has(view.out, "profile default"));
  CHECK_FALSE(Has(view.out, server.admin_key()));  // masked
  CHECK(Has(view.out, server.admin_key().substr(0, 17) + "_***"));

  // The environment beats the profile.
  Env env_key = env;
  env_key["WEFT_API_KEY"] = "weft_000000000000_" + std::string(64, '0');
  RunResult overridden = Weft(env_key, {"flow-run", "ls"});
  CHECK(overridden.exit_code == 1);
  CHECK(Has(overridden.err, "not recognised"));

  // A second, empty profile; WEFT_PROFILE picks one for a single command.
  WeftOk(env, {"profile", "create", "staging", "--use"});
  CHECK(Weft(env, {"flow-run", "ls"}).exit_code == 1);
  Env pick = env;
  pick["WEFT_PROFILE"] = "default";
  CHECK(Weft(pick, {"flow-run", "ls"}).exit_code == 0);
  RunResult profiles = WeftOk(env, {"profile", "ls"});
  CHECK(Has(profiles.out, "*  staging"));
  WeftOk(env, {"profile", "use", "default"});

  // Keys: the token is printed once, listed never, and a revoked key is refused.
  RunResult created = WeftOk(env, {"api-key", "create", "reader", "--scope", "viewer"});
  std::string token = Trimmed(created.out);
  CHECK(token.rfind("weft_", 0) == 0);
  CHECK(Has(created.err, "only time the token is shown"));
  RunResult ls = WeftOk(env, {"api-key", "ls"});
  CHECK(Has(ls.out, "reader"));
  CHECK(Has(ls.out, "viewer"));
  CHECK_FALSE(Has(ls.out, token.substr(18)));
  Env reader = env;
  reader["WEFT_API_KEY"] = token;
  RunResult who = WeftOk(reader, {"whoami"});
  CHECK(Has(who.out, "reader (scope viewer)"));
  RunResult denied = Weft(reader, {"api-key", "ls"});
  CHECK(denied.exit_code == 1);
  CHECK(Has(denied.err, "needs scope admin"));
  CHECK(Has(denied.err, "hint: `weft whoami`"));
  WeftOk(env, {"api-key", "revoke", "reader"});
  RunResult revoked = Weft(reader, {"whoami"});
  CHECK(revoked.exit_code == 1);
  CHECK(Has(revoked.err, "not recognised"));
  RunResult bad_scope = Weft(env, {"api-key", "create", "x", "--scope", "root"});
  CHECK(bad_scope.exit_code == 2);  // a usage error
}

TEST_CASE("mutual TLS: a client without a certificate from the CA cannot connect",
          "[e2e][security]") {
  fs::path tls = fs::path(TempDir("mtls")) / "tls";
  WeftOk({}, {"server", "cert", "--dir", tls.string(), "--host", "127.0.0.1", "--client",
              "worker-1"});
  Server server(FreshDatabase("mtls"), "", 0,
                {"--tls-cert", (tls / "server.pem").string(), "--tls-key",
                 (tls / "server.key").string(), "--tls-client-ca", (tls / "ca.pem").string()});
  Env env = server.ClientEnv();
  env["WEFT_API_URL"] = "https://" + server.address();
  env["WEFT_TLS_CA"] = (tls / "ca.pem").string();
  env["WEFT_API_TIMEOUT"] = "5";
  RunResult no_cert = Weft(env, {"whoami"});
  CHECK(no_cert.exit_code == 1);
  CHECK(Has(no_cert.err, "server unavailable"));
  env["WEFT_TLS_CERT"] = (tls / "client-worker-1.pem").string();
  env["WEFT_TLS_KEY"] = (tls / "client-worker-1.key").string();
  RunResult with_cert = Weft(env, {"whoami"});
  INFO(with_cert.out << with_cert.err);
  CHECK(with_cert.exit_code == 0);
  CHECK(Has(with_cert.out, "(scope admin)"));
  // A certificate is not a key: without one the call is still refused.
  env["WEFT_API_KEY"] = "<unset>";
  env["WEFT_HOME"] = TempDir("mtls_home");
  RunResult no_key = Weft(env, {"whoami"});
  CHECK(no_key.exit_code == 1);
  CHECK(Has(no_key.err, "no API key"));
  // Half a pair is a clear client-side error.
  env.erase("WEFT_TLS_KEY");
  env["WEFT_TLS_KEY"] = "<unset>";
  RunResult half = Weft(env, {"whoami"});
  CHECK(half.exit_code == 1);
  CHECK(Has(half.err, "WEFT_TLS_CERT and WEFT_TLS_KEY go together"));
}
