#include "agent/runners/kubernetes.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "agent/runners/flow_env.hpp"

namespace weft::agent {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string ReadText(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Base64Decode(const std::string& in) {
  static const std::string kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0;
  int bits = -8;
  for (char c : in) {
    auto pos = kChars.find(c);
    if (pos == std::string::npos) continue;  // '=', whitespace
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string Resolve(const std::string& file, const std::string& base_dir) {
  if (file.empty() || file[0] == '/') return file;
  return (fs::path(base_dir) / file).string();
}

std::string Str(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap() || !n[key] || !n[key].IsScalar()) return "";
  return n[key].as<std::string>();
}

YAML::Node Named(const YAML::Node& list, const std::string& name, const char* inner) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (Str(item, "name") == name) return item[inner];
  }
  return YAML::Node();
}

}  // namespace

core::Result<K8sCredentials> ParseKubeconfig(const std::string& yaml_text,
                                             const std::string& base_dir,
                                             const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return core::InvalidArgument(
        fmt::format("kubeconfig {}: not valid YAML: {}", source, e.what()));
  }
  std::string ctx_name = Str(root, "current-context");
  if (ctx_name.empty()) {
    return core::InvalidArgument(fmt::format("kubeconfig {}: current-context is not set", source));
  }
  YAML::Node ctx = Named(root["contexts"], ctx_name, "context");
  if (!ctx || !ctx.IsMap()) {
    return core::InvalidArgument(fmt::format(
        "kubeconfig {}: current-context \"{}\" not found in contexts", source, ctx_name));
  }
  std::string cluster_name = Str(ctx, "cluster");
  std::string user_name = Str(ctx, "user");
  YAML::Node cluster = Named(root["clusters"], cluster_name, "cluster");
  if (!cluster || !cluster.IsMap()) {
    return core::InvalidArgument(
        fmt::format("kubeconfig {}: cluster \"{}\" not found in clusters", source, cluster_name));
  }
  K8sCredentials c;
  c.source = source;
  c.server = Str(cluster, "server");
  if (c.server.empty()) {
    return core::InvalidArgument(
        fmt::format("kubeconfig {}: clusters[{}].cluster.server is empty", source, cluster_name));
  }
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  c.ca_file = Resolve(Str(cluster, "certificate-authority"), base_dir);
  if (auto d = Str(cluster, "certificate-authority-data"); !d.empty()) c.ca_pem = Base64Decode(d);
  c.insecure_skip_verify = Str(cluster, "insecure-skip-tls-verify") == "true";
  if (auto ns = Str(ctx, "namespace"); !ns.empty()) c.default_namespace = ns;
  YAML::Node user = Named(root["users"], user_name, "user");
  if (user && user.IsMap()) {
    c.token = Str(user, "token");
    if (c.token.empty()) {
      if (auto tf = Str(user, "tokenFile"); !tf.empty()) {
        bool ok = false;
        c.token = ReadText(Resolve(tf, base_dir), &ok);
        while (!c.token.empty() && (c.token.back() == '\n' || c.token.back() == '\r'))
          c.token.pop_back();
      }
    }
    c.client_cert_file = Resolve(Str(user, "client-certificate"), base_dir);
    if (auto d = Str(user, "client-certificate-data"); !d.empty())
      c.client_cert_pem = Base64Decode(d);
    c.client_key_file = Resolve(Str(user, "client-key"), base_dir);
    if (auto d = Str(user, "client-key-data"); !d.empty()) c.client_key_pem = Base64Decode(d);
  }
  bool has_cert = !c.client_cert_file.empty() || !c.client_cert_pem.empty();
  if (c.token.empty() && !has_cert) {
    return core::FailedPrecondition(fmt::format(
        "kubeconfig {}: user \"{}\" has neither a token nor a client certificate (exec and "
        "auth-provider plugins are not supported)",
        source, user_name));
  }
  return c;
}

core::Result<K8sCredentials> LoadK8sCredentials(
    const std::function<const char*(const char*)>& getenv, const std::string& service_account_dir) {
  auto env = [&](const char* n) -> std::string {
    const char* v = getenv(n);
    return v ? v : "";
  };
  std::string host = env("KUBERNETES_SERVICE_HOST");
  if (!host.empty()) {
    std::string port = env("KUBERNETES_SERVICE_PORT");
    if (port.empty()) port = "443";
    K8sCredentials c;
    c.source = "in-cluster";
    bool ipv6 = host.find(':') != std::string::npos;
    c.server = fmt::format("https://{}{}{}:{}", ipv6 ? "[" : "", host, ipv6 ? "]" : "", port);
    bool ok = false;
    c.token = ReadText(service_account_dir + "/token", &ok);
    if (!ok || c.token.empty()) {
      return core::FailedPrecondition(fmt::format(
          "runner kubernetes: KUBERNETES_SERVICE_HOST is set but the service-account token "
          "{}/token is missing",
          service_account_dir));
    }
    while (!c.token.empty() && (c.token.back() == '\n' || c.token.back() == '\r'))
      c.token.pop_back();
    c.ca_file = service_account_dir + "/ca.crt";
    std::error_code ec;
    if (!fs::exists(c.ca_file, ec)) {
      return core::FailedPrecondition(
          fmt::format("runner kubernetes: the service-account CA {} is missing", c.ca_file));
    }
    bool ns_ok = false;
    std::string ns = ReadText(service_account_dir + "/namespace", &ns_ok);
    while (!ns.empty() && (ns.back() == '\n' || ns.back() == ' ')) ns.pop_back();
    if (ns_ok && !ns.empty()) c.default_namespace = ns;
    return c;
  }
  std::string path = env("KUBECONFIG");
  if (auto colon = path.find(':'); colon != std::string::npos) path = path.substr(0, colon);
  if (path.empty()) {
    std::string home = env("HOME");
    if (home.empty()) {
      return core::FailedPrecondition(
          "runner kubernetes: no credentials: KUBERNETES_SERVICE_HOST is not set (not in a "
          "cluster), KUBECONFIG is not set and HOME is unknown");
    }
    path = home + "/.kube/config";
  }
  bool ok = false;
  std::string text = ReadText(path, &ok);
  if (!ok) {
    return core::FailedPrecondition(fmt::format(
        "runner kubernetes: no credentials: KUBERNETES_SERVICE_HOST is not set (not in a "
        "cluster) and there is no kubeconfig at {} (set KUBECONFIG)",
        path));
  }
  auto c = ParseKubeconfig(text, fs::path(path).parent_path().string(), path);
  if (!c) return core::Error{c.error().code, "runner kubernetes: " + c.error().message};
  return c;
}

std::string K8sJobName(const RunSpec& spec) {
  std::string name = "weft-";
  for (char ch : spec.flow_run_id) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    name += ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) ? l : '-';
  }
  if (name.size() > 63) name.resize(63);
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name;
}

core::Result<std::string> K8sJobManifest(const RunSpec& spec, const std::string& ns,
                                         int ttl_seconds_after_finished, bool redact) {
  if (spec.image.empty()) {
    return core::InvalidArgument(fmt::format(
        "runner kubernetes: deployment \"{}\" has no runner.image", spec.deployment_name));
  }
  if (spec.entrypoint.empty()) {
    return core::InvalidArgument("runner kubernetes: the deployment's entrypoint is empty");
  }
  json labels = {{"app.kubernetes.io/managed-by", "weft"}, {"weft.flow-run-id", spec.flow_run_id}};
  json env = json::array();
  // The flow's environment (runners/flow_env.hpp); --dry-run hides the API key and the
  // values of --pass-env variables.
  for (const auto& [k, v] : FlowContainerEnvironment(spec)) {
    bool passed = std::any_of(spec.passed_env.begin(), spec.passed_env.end(),
                              [&](const auto& e) { return e.first == k; });
    bool secret = k == "WEFT_API_KEY" || passed;
    env.push_back({{"name", k}, {"value", redact && secret && !v.empty() ? "<redacted>" : v}});
  }
  json container = {
      {"name", "flow"}, {"image", spec.image}, {"command", spec.entrypoint}, {"env", env}};
  json manifest = {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata", {{"name", K8sJobName(spec)}, {"namespace", ns}, {"labels", labels}}},
      {"spec",
       {{"backoffLimit", 0},
        {"ttlSecondsAfterFinished", ttl_seconds_after_finished},
        {"template",
         {{"metadata", {{"labels", labels}}},
          {"spec", {{"restartPolicy", "Never"}, {"containers", json::array({container})}}}}}}}};
  return manifest.dump(2);
}

namespace {

struct HttpReply {
  long status = 0;
  std::string body;
};

size_t CollectBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

core::Result<HttpReply> K8sRequest(const K8sCredentials& c, const std::string& method,
                                   const std::string& path, const std::string& body) {
  CURL* curl = curl_easy_init();
  if (!curl) return core::Internal("runner kubernetes: curl_easy_init failed");
  std::string url = c.server + path;
  HttpReply reply;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
  std::string auth;
  if (!c.token.empty()) {
    auth = "Authorization: Bearer " + c.token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_blob ca{const_cast<char*>(c.ca_pem.data()), c.ca_pem.size(), CURL_BLOB_COPY};
  curl_blob cert{const_cast<char*>(c.client_cert_pem.data()), c.client_cert_pem.size(),
                 CURL_BLOB_COPY};
  curl_blob key{const_cast<char*>(c.client_key_pem.data()), c.client_key_pem.size(),
                CURL_BLOB_COPY};
  if (!c.ca_pem.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &ca);
  if (!c.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, c.ca_file.c_str());
  if (!c.client_cert_pem.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cert);
  if (!c.client_cert_file.empty())
    curl_easy_setopt(curl, CURLOPT_SSLCERT, c.client_cert_file.c_str());
  if (!c.client_key_pem.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &key);
  if (!c.client_key_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, c.client_key_file.c_str());
  if (c.insecure_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return core::Unavailable(
        fmt::format("runner kubernetes: {} {}: {}", method, url, curl_easy_strerror(rc)));
  }
  return reply;
}

std::string ApiMessage(const HttpReply& r) {
  try {
    auto j = json::parse(r.body);
    if (j.contains("message")) return j["message"].get<std::string>();
  } catch (const std::exception&) {
  }
  return r.body.substr(0, 300);
}

class JobHandle final : public RunHandle {
 public:
  JobHandle(K8sCredentials creds, std::string ns, std::string name)
      : creds_(std::move(creds)), ns_(std::move(ns)), name_(std::move(name)) {}

  std::optional<ExitStatus> Wait(double seconds) override {
    if (done_) return status_;
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(static_cast<long>(std::max(0.0, seconds) * 1000));
    for (;;) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next_check_) {
        next_check_ = now + std::chrono::seconds(2);
        if (auto s = Check()) {
          done_ = true;
          status_ = *s;
          return status_;
        }
      }
      if (now >= deadline) return std::nullopt;
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(deadline - now, next_check_ - now));
    }
  }

  void Signal(int /*sig*/) override {
    if (deleted_ || done_) return;
    auto r = K8sRequest(
        creds_, "DELETE",
        fmt::format("/apis/batch/v1/namespaces/{}/jobs/{}?propagationPolicy=Background", ns_,
                    name_),
        R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})");
    if (r && (r->status < 300 || r->status == 404)) deleted_ = true;
  }

  int pid() const override { return -1; }

 private:
  std::optional<ExitStatus> Check() {
    auto r = K8sRequest(creds_, "GET",
                        fmt::format("/apis/batch/v1/namespaces/{}/jobs/{}", ns_, name_), "");
    if (!r) return std::nullopt;  // API away: keep watching
    if (r->status == 404) return ExitStatus{true, 0, deleted_ ? SIGTERM : SIGKILL};
    if (r->status >= 300) return std::nullopt;
    json job;
    try {
      job = json::parse(r->body);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    const json status = job.value("status", json::object());
    if (status.value("succeeded", 0) > 0) return ExitStatus{false, 0, 0};
    if (status.value("failed", 0) > 0) return PodExit();
    return std::nullopt;
  }

  // The exit of the Job's pod container (exit code, or signal); code 1 when unknown.
  ExitStatus PodExit() {
    auto r = K8sRequest(
        creds_, "GET",
        fmt::format("/api/v1/namespaces/{}/pods?labelSelector=job-name%3D{}", ns_, name_), "");
    if (r && r->status < 300) {
      try {
        auto pods = json::parse(r->body);
        for (const auto& pod : pods.value("items", json::array())) {
          for (const auto& cs : pod["status"].value("containerStatuses", json::array())) {
            if (cs.contains("state") && cs["state"].contains("terminated")) {
              const auto& t = cs["state"]["terminated"];
              int sig = t.value("signal", 0);
              if (sig > 0) return ExitStatus{true, 0, sig};
              return ExitStatus{false, t.value("exitCode", 1), 0};
            }
          }
        }
      } catch (const std::exception&) {
      }
    }
    return ExitStatus{false, 1, 0};
  }

  K8sCredentials creds_;
  std::string ns_;
  std::string name_;
  bool done_ = false;
  bool deleted_ = false;
  ExitStatus status_;
  std::chrono::steady_clock::time_point next_check_{};
};

}  // namespace

KubernetesRunner::KubernetesRunner() = default;

core::Result<std::unique_ptr<RunHandle>> KubernetesRunner::Start(const RunSpec& spec,
                                                                 const std::string& /*run_dir*/,
                                                                 LineSink /*sink*/) {
  auto creds = LoadK8sCredentials([](const char* n) { return std::getenv(n); });
  if (!creds) return creds.error();
  std::string ns = spec.k8s_namespace.empty() ? creds->default_namespace : spec.k8s_namespace;
  auto manifest = K8sJobManifest(spec, ns);
  if (!manifest) return manifest.error();
  auto r =
      K8sRequest(*creds, "POST", fmt::format("/apis/batch/v1/namespaces/{}/jobs", ns), *manifest);
  if (!r) return r.error();
  if (r->status >= 300) {
    return core::FailedPrecondition(
        fmt::format("runner kubernetes: creating Job {} in {} ({}): HTTP {}: {}", K8sJobName(spec),
                    ns, creds->server, r->status, ApiMessage(*r)));
  }
  return std::unique_ptr<RunHandle>(std::make_unique<JobHandle>(*creds, ns, K8sJobName(spec)));
}

std::string KubernetesRunner::Describe(const RunSpec& spec, const std::string& /*run_dir*/) const {
  std::string ns = spec.k8s_namespace.empty() ? "default" : spec.k8s_namespace;
  auto manifest = K8sJobManifest(spec, ns, 3600, /*redact=*/true);
  if (!manifest) return "runner: kubernetes\nerror: " + manifest.error().message + "\n";
  return fmt::format("runner: kubernetes\nPOST /apis/batch/v1/namespaces/{}/jobs\n{}\n", ns,
                     *manifest);
}

}  // namespace weft::agent
