#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "agent/runners/docker.hpp"
#include "agent/runners/flow_env.hpp"
#include "agent/runners/kubernetes.hpp"
#include "agent/runners/process.hpp"

using namespace weft::agent;
using nlohmann::json;

namespace {

RunSpec Spec() {
  RunSpec s;
  s.flow_run_id = "0b5c8a3e-1f2d-4c1e-9a8b-7e6d5c4b3a21";
  s.run_name = "amber-otter-42";
  s.deployment_name = "etl/nightly";
  s.entrypoint = {"./job.sh", "--day", "2026-11-26"};
  s.image = "registry.example.com/etl:1.4";
  s.env = {{"REGION", "eu"},
           {"WEFT_API_URL", "127.0.0.1:4201"},
           {"WEFT_API_KEY", "secret-key"},
           {"WEFT_FLOW_RUN_ID", "0b5c8a3e-1f2d-4c1e-9a8b-7e6d5c4b3a21"},
           {"WEFT_FLOW_RUN_PARAMETERS", R"({"day":"2026-11-26"})"}};
  return s;
}

auto EnvOf(std::map<std::string, std::string> m) {
  return [m = std::move(m)](const char* name) -> const char* {
    auto it = m.find(name);
    return it == m.end() ? nullptr : it->second.c_str();
  };
}

std::string TempDir() {
  char tmpl[] = "/tmp/weft-agent-unit-XXXXXX";
  return mkdtemp(tmpl);
}

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("docker runner: the docker run argv", "[agent][docker]") {
  auto argv = DockerArgv(Spec(), "/var/weft/runs/0b5c");
  REQUIRE(argv);
  std::vector<std::string> expected = {"docker",
                                       "run",
                                       "--rm",
                                       "--name",
                                       "weft-0b5c8a3e-1f2d-4c1e-9a8b-7e6d5c4b3a21",
                                       "--label",
                                       "weft.flow-run-id=0b5c8a3e-1f2d-4c1e-9a8b-7e6d5c4b3a21",
                                       "-v",
                                       "/var/weft/runs/0b5c:/opt/weft/run",
                                       "-w",
                                       "/opt/weft/run",
                                       "-e",
                                       "REGION",
                                       "-e",
                                       "WEFT_API_URL",
                                       "-e",
                                       "WEFT_API_KEY",
                                       "-e",
                                       "WEFT_FLOW_RUN_ID",
                                       "-e",
                                       "WEFT_FLOW_RUN_PARAMETERS",
                                       "--",
                                       "registry.example.com/etl:1.4",
                                       "./job.sh",
                                       "--day",
                                       "2026-11-26"};
  CHECK(*argv == expected);
  // Values (the API key) never appear in the argv.
  for (const auto& a : *argv) CHECK(a.find("secret-key") == std::string::npos);
}

TEST_CASE("docker runner: no --network unless the agent names one", "[agent][docker]") {
  auto plain = DockerArgv(Spec(), "/d");
  REQUIRE(plain);
  CHECK(std::find(plain->begin(), plain->end(), "--network") == plain->end());
  CHECK(std::find(plain->begin(), plain->end(), "host") == plain->end());
  RunSpec s = Spec();
  s.network = "weft-flows";
  auto named = DockerArgv(s, "/d");
  REQUIRE(named);
  std::vector<std::string> head(named->begin(), named->begin() + 7);
  CHECK(head == std::vector<std::string>{"docker", "run", "--rm", "--name",
                                         "weft-0b5c8a3e-1f2d-4c1e-9a8b-7e6d5c4b3a21", "--network",
                                         "weft-flows"});
}

TEST_CASE("docker runner: --pass-env variables go to the container by name", "[agent][docker]") {
  RunSpec s = Spec();
  s.passed_env = {{"AWS_PROFILE", "etl"}, {"REGION", "us"}};
  auto argv = DockerArgv(s, "/d");
  REQUIRE(argv);
  std::vector<std::string> names;
  for (std::size_t i = 0; i + 1 < argv->size(); ++i) {
    if ((*argv)[i] == "-e") names.push_back((*argv)[i + 1]);
  }
  // runner.env's REGION wins over the passed one; one -e per name.
  CHECK(names == std::vector<std::string>{"AWS_PROFILE", "REGION", "WEFT_API_URL", "WEFT_API_KEY",
                                          "WEFT_FLOW_RUN_ID", "WEFT_FLOW_RUN_PARAMETERS"});
  // Values travel in the docker CLI's environment, never in the argv.
  for (const auto& a : *argv) CHECK(a.find("AWS_PROFILE=") == std::string::npos);
}

TEST_CASE("docker runner: a bad image is refused naming runner.image and the value",
          "[agent][docker]") {
  for (const std::string bad :
       {"--privileged", "-v/:/host", "alpine --privileged", "alpine\t", "Alpine:3", "alpine:-x",
        "alpine:", "alpine@sha256:12", "registry.example.com:port/etl", "a//b", "etl_/x", "/etl"}) {
    RunSpec s = Spec();
    s.image = bad;
    auto argv = DockerArgv(s, "/d");
    INFO(bad);
    REQUIRE_FALSE(argv);
    CHECK(argv.error().message.rfind("runner docker: deployment \"etl/nightly\": runner.image \"" +
                                         bad + "\" is not a valid image reference: ",
                                     0) == 0);
  }
  RunSpec s = Spec();
  s.image = "-v/:/host";
  DockerRunner r;
  CHECK(r.Describe(s, "/d").find("starts with '-'") != std::string::npos);
}

TEST_CASE("docker runner: no image is an error naming the deployment", "[agent][docker]") {
  RunSpec s = Spec();
  s.image.clear();
  auto argv = DockerArgv(s, "/d");
  REQUIRE_FALSE(argv);
  CHECK(argv.error().message == "runner docker: deployment \"etl/nightly\" has no runner.image");
  DockerRunner r;
  CHECK(r.Describe(s, "/d").find("has no runner.image") != std::string::npos);
}

TEST_CASE("docker runner: Describe shows a shell-quoted argv and env names", "[agent][docker]") {
  DockerRunner r;
  std::string d = r.Describe(Spec(), "/runs/x y");
  CHECK(d.find("docker run --rm --name weft-0b5c8a3e") != std::string::npos);
  CHECK(d.find("-v '/runs/x y:/opt/weft/run'") != std::string::npos);
  CHECK(d.find("env (values from the agent): REGION, WEFT_API_URL") != std::string::npos);
  CHECK(d.find("secret-key") == std::string::npos);
}

TEST_CASE("kubernetes runner: the Job manifest", "[agent][kubernetes]") {
  auto m = K8sJobManifest(Spec(), "flows", 600);
  REQUIRE(m);
  json j = json::parse(*m);
  CHECK(j["apiVersion"] == "batch/v1");
  CHECK(j["kind"] == "Job");
  CHECK(j["metadata"]["name"] == "weft-0b5c8a3e-1f2d-4c1e-9a8b-7e6d5c4b3a21");
  CHECK(j["metadata"]["namespace"] == "flows");
  CHECK(j["metadata"]["labels"]["weft.flow-run-id"] == "0b5c8a3e-1f2d-4c1e-9a8b-7e6d5c4b3a21");
  CHECK(j["spec"]["backoffLimit"] == 0);
  CHECK(j["spec"]["ttlSecondsAfterFinished"] == 600);
  const json& pod = j["spec"]["template"]["spec"];
  CHECK(pod["restartPolicy"] == "Never");
  CHECK(j["spec"]["template"]["metadata"]["labels"]["weft.flow-run-id"] ==
        "0b5c8a3e-1f2d-4c1e-9a8b-7e6d5c4b3a21");
  REQUIRE(pod["containers"].size() == 1);
  const json& c = pod["containers"][0];
  CHECK(c["image"] == "registry.example.com/etl:1.4");
  CHECK(c["command"] == json::array({"./job.sh", "--day", "2026-11-26"}));
  std::map<std::string, std::string> env;
  for (const auto& e : c["env"]) env[e["name"]] = e["value"];
  CHECK(env["WEFT_FLOW_RUN_ID"] == "0b5c8a3e-1f2d-4c1e-9a8b-7e6d5c4b3a21");
  CHECK(env["WEFT_API_KEY"] == "secret-key");
  CHECK(env["WEFT_FLOW_RUN_PARAMETERS"] == R"({"day":"2026-11-26"})");
  CHECK(env["REGION"] == "eu");
}

TEST_CASE("kubernetes runner: --dry-run redacts the API key", "[agent][kubernetes]") {
  KubernetesRunner r;
  RunSpec s = Spec();
  s.k8s_namespace = "etl";
  std::string d = r.Describe(s, "/unused");
  CHECK(d.find("POST /apis/batch/v1/namespaces/etl/jobs") != std::string::npos);
  CHECK(d.find("secret-key") == std::string::npos);
  CHECK(d.find("<redacted>") != std::string::npos);
}

TEST_CASE("kubernetes runner: --pass-env variables are in the Job, redacted in --dry-run",
          "[agent][kubernetes]") {
  RunSpec s = Spec();
  s.passed_env = {{"AWS_PROFILE", "etl-profile"}};
  auto m = K8sJobManifest(s, "flows", 600);
  REQUIRE(m);
  std::map<std::string, std::string> env;
  json job = json::parse(*m);
  for (const auto& e : job["spec"]["template"]["spec"]["containers"][0]["env"]) {
    env[e["name"]] = e["value"];
  }
  CHECK(env["AWS_PROFILE"] == "etl-profile");
  CHECK(env.size() == 6);  // passed + runner.env + what Weft sets, nothing else
  KubernetesRunner r;
  std::string d = r.Describe(s, "/unused");
  CHECK(d.find("AWS_PROFILE") != std::string::npos);
  CHECK(d.find("etl-profile") == std::string::npos);
}

TEST_CASE("kubernetes runner: bad specs are errors", "[agent][kubernetes]") {
  RunSpec s = Spec();
  s.image.clear();
  CHECK(K8sJobManifest(s, "default").error().message ==
        "runner kubernetes: deployment \"etl/nightly\" has no runner.image");
  s = Spec();
  s.entrypoint.clear();
  CHECK_FALSE(K8sJobManifest(s, "default"));
}

TEST_CASE("kubernetes runner: job names are DNS labels", "[agent][kubernetes]") {
  RunSpec s = Spec();
  s.flow_run_id = "ABC_def";
  CHECK(K8sJobName(s) == "weft-abc-def");
}

TEST_CASE("kubernetes: kubeconfig with a token and CA data", "[agent][kubernetes]") {
  const char* yaml = R"(
apiVersion: v1
kind: Config
current-context: prod
contexts:
- name: dev
  context: {cluster: dev, user: dev}
- name: prod
  context:
    cluster: prod-cluster
    user: robot
    namespace: flows
clusters:
- name: prod-cluster
  cluster:
    server: https://k8s.example.com:6443/
    certificate-authority-data: aGVsbG8=
users:
- name: robot
  user:
    token: abc.def
)";
  auto c = ParseKubeconfig(yaml, "/home/ann/.kube", "~/.kube/config");
  REQUIRE(c);
  CHECK(c->server == "https://k8s.example.com:6443");
  CHECK(c->token == "abc.def");
  CHECK(c->ca_pem == "hello");
  CHECK(c->default_namespace == "flows");
  CHECK(c->source == "~/.kube/config");
}

TEST_CASE("kubernetes: kubeconfig with client certificate files", "[agent][kubernetes]") {
  const char* yaml = R"(
current-context: kind
contexts: [{name: kind, context: {cluster: kind, user: kind}}]
clusters: [{name: kind, cluster: {server: "https://127.0.0.1:6443", certificate-authority: ca.crt}}]
users: [{name: kind, user: {client-certificate: certs/me.crt, client-key: /abs/me.key}}]
)";
  auto c = ParseKubeconfig(yaml, "/cfg", "/cfg/config");
  REQUIRE(c);
  CHECK(c->ca_file == "/cfg/ca.crt");
  CHECK(c->client_cert_file == "/cfg/certs/me.crt");
  CHECK(c->client_key_file == "/abs/me.key");
  CHECK(c->token.empty());
  CHECK(c->default_namespace == "default");
}

TEST_CASE("kubernetes: kubeconfig problems name the field", "[agent][kubernetes]") {
  CHECK(ParseKubeconfig("clusters: []", "/", "k").error().message ==
        "kubeconfig k: current-context is not set");
  CHECK(ParseKubeconfig("current-context: x\ncontexts: []", "/", "k").error().message ==
        "kubeconfig k: current-context \"x\" not found in contexts");
  CHECK(
      ParseKubeconfig("current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
                      "clusters: [{name: c, cluster: {server: 'https://a'}}]\n"
                      "users: [{name: u, user: {exec: {command: aws}}}]",
                      "/", "k")
          .error()
          .message.find("neither a token nor a client certificate") != std::string::npos);
  CHECK(ParseKubeconfig(": : :\n- [", "/", "k")
            .error()
            .message.rfind("kubeconfig k: not valid YAML", 0) == 0);
}

TEST_CASE("kubernetes: credentials from the environment", "[agent][kubernetes]") {
  std::string dir = TempDir();
  SECTION("nothing configured names what is missing") {
    auto c = LoadK8sCredentials(EnvOf({{"HOME", dir}}), dir + "/sa");
    REQUIRE_FALSE(c);
    CHECK(
        c.error().message ==
        "runner kubernetes: no credentials: KUBERNETES_SERVICE_HOST is not set (not in a cluster) "
        "and there is no kubeconfig at " +
            dir + "/.kube/config (set KUBECONFIG)");
  }
  SECTION("in-cluster without a token") {
    auto c = LoadK8sCredentials(EnvOf({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}), dir + "/sa");
    REQUIRE_FALSE(c);
    CHECK(c.error().message.find(dir + "/sa/token is missing") != std::string::npos);
  }
  SECTION("in-cluster") {
    Write(dir + "/sa/token", "tok\n");
    Write(dir + "/sa/ca.crt", "PEM");
    Write(dir + "/sa/namespace", "team-a");
    auto c = LoadK8sCredentials(
        EnvOf({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}),
        dir + "/sa");
    REQUIRE(c);
    CHECK(c->server == "https://10.0.0.1:443");
    CHECK(c->token == "tok");
    CHECK(c->ca_file == dir + "/sa/ca.crt");
    CHECK(c->default_namespace == "team-a");
    CHECK(c->source == "in-cluster");
  }
  SECTION("KUBECONFIG") {
    Write(dir + "/kc",
          "current-context: a\ncontexts: [{name: a, context: {cluster: a, user: a}}]\n"
          "clusters: [{name: a, cluster: {server: 'https://h:1'}}]\n"
          "users: [{name: a, user: {token: t}}]\n");
    auto c = LoadK8sCredentials(EnvOf({{"KUBECONFIG", dir + "/kc"}}), dir + "/sa");
    REQUIRE(c);
    CHECK(c->server == "https://h:1");
    CHECK(c->source == dir + "/kc");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("process runner: argv resolution against the run dir", "[agent][process]") {
  std::string dir = TempDir();
  Write(dir + "/job.sh", "#!/bin/sh\n");
  RunSpec s;
  s.entrypoint = {"./job.sh", "a"};
  auto argv = ProcessArgv(s, dir);
  REQUIRE(argv);
  CHECK((*argv)[0] == dir + "/job.sh");
  CHECK((*argv)[1] == "a");
  s.entrypoint = {"job.sh"};
  CHECK((*ProcessArgv(s, dir))[0] == dir + "/job.sh");
  s.entrypoint = {"sh", "-c", "true"};
  CHECK((*ProcessArgv(s, dir))[0].find("/sh") != std::string::npos);
  s.entrypoint = {"./missing"};
  CHECK(ProcessArgv(s, dir).error().message ==
        "runner process: entrypoint \"./missing\" is not in the bundle");
  s.entrypoint = {"no-such-program-weft"};
  CHECK(ProcessArgv(s, dir).error().message ==
        "runner process: entrypoint \"no-such-program-weft\" is neither in the bundle nor on PATH");
  s.entrypoint = {};
  CHECK_FALSE(ProcessArgv(s, dir));
  std::filesystem::remove_all(dir);
}

TEST_CASE("shell quoting for --dry-run", "[agent][process]") {
  CHECK(ShellQuote("abc") == "abc");
  CHECK(ShellQuote("a b") == "'a b'");
  CHECK(ShellQuote("it's") == "'it'\\''s'");
  CHECK(ShellQuote("") == "''");
  CHECK(ShellJoin({"echo", "{\"a\": 1}"}) == "echo '{\"a\": 1}'");
}

TEST_CASE("flow environment: an allowlist of the agent's variables, never all of them",
          "[agent][env]") {
  EnvList agent_env = {{"PATH", "/usr/bin:/bin"},
                       {"HOME", "/home/weft"},
                       {"USER", "weft"},
                       {"LOGNAME", "weft"},
                       {"LANG", "C.UTF-8"},
                       {"LC_TIME", "en_GB.UTF-8"},
                       {"TZ", "Europe/Paris"},
                       {"TMPDIR", "/var/tmp"},
                       {"AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"},
                       {"AWS_SECRET_ACCESS_KEY", "aws-secret"},
                       {"WEFT_API_KEY", "agent-key"},
                       {"WEFT_AGENT_WORK_QUEUES", "etl"},
                       {"DATABASE_PASSWORD", "db-secret"},
                       {"LC", "not-a-locale-var"},
                       {"HTTP_PROXY", "http://user:pw@proxy:3128"},
                       {"PGPASSWORD", "pg-secret"}};
  RunSpec spec = Spec();  // runner.env REGION + WEFT_API_URL/KEY/FLOW_RUN_ID/PARAMETERS
  spec.passed_env = PassedEnvironment(agent_env, {"DATABASE_PASSWORD", "NOT_SET_ANYWHERE"});
  CHECK(spec.passed_env == EnvList{{"DATABASE_PASSWORD", "db-secret"}});

  EnvList env = FlowProcessEnvironment(agent_env, spec);
  std::map<std::string, std::string> got(env.begin(), env.end());
  CHECK(got.size() == env.size());  // one entry per name
  std::map<std::string, std::string> expected = {
      {"PATH", "/usr/bin:/bin"},
      {"HOME", "/home/weft"},
      {"USER", "weft"},
      {"LOGNAME", "weft"},
      {"LANG", "C.UTF-8"},
      {"LC_TIME", "en_GB.UTF-8"},
      {"TZ", "Europe/Paris"},
      {"TMPDIR", "/var/tmp"},
      {"DATABASE_PASSWORD", "db-secret"},
      {"REGION", "eu"},
      {"WEFT_API_URL", "127.0.0.1:4201"},
      {"WEFT_API_KEY", "secret-key"},  // what Weft sets for the run, not the agent's own
      {"WEFT_FLOW_RUN_ID", "0b5c8a3e-1f2d-4c1e-9a8b-7e6d5c4b3a21"},
      {"WEFT_FLOW_RUN_PARAMETERS", R"({"day":"2026-11-26"})"}};
  CHECK(got == expected);

  // runner.env wins over a basic or passed variable of the same name.
  spec.env.insert(spec.env.begin(), {"TZ", "UTC"});
  got.clear();
  for (const auto& [k, v] : FlowProcessEnvironment(agent_env, spec)) got[k] = v;
  CHECK(got["TZ"] == "UTC");

  // Containers get no basics from the agent (the image has its own PATH, HOME, locale).
  EnvList container = FlowContainerEnvironment(spec);
  std::map<std::string, std::string> in_container(container.begin(), container.end());
  CHECK(in_container.count("PATH") == 0);
  CHECK(in_container.count("AWS_SECRET_ACCESS_KEY") == 0);
  CHECK(in_container["DATABASE_PASSWORD"] == "db-secret");
  CHECK(in_container.size() == 7);
}

TEST_CASE("flow environment: which names are basics", "[agent][env]") {
  for (const char* n : {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_ALL",
                        "LC_CTYPE", "TZ", "TMPDIR", "TSAN_OPTIONS"}) {
    INFO(n);
    CHECK(IsBasicEnvName(n));
  }
  for (const char* n :
       {"AWS_ACCESS_KEY_ID", "WEFT_API_KEY", "WEFT_HOME", "WEFT_AGENT_NAME", "LD_PRELOAD",
        "LD_LIBRARY_PATH", "HTTP_PROXY", "LC_", "path", "PGPASSWORD"}) {
    INFO(n);
    CHECK_FALSE(IsBasicEnvName(n));
  }
}
