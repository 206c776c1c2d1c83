#pragma once
// The kubernetes runner: one batch/v1 Job per flow run, submitted to the Kubernetes API
// with libcurl, watched by polling its status, stopped by deleting it (propagationPolicy
// Background). The image must contain the flow: bundles are not mounted into pods; the
// Job's environment carries WEFT_API_URL, WEFT_API_KEY, WEFT_FLOW_RUN_ID and the parameters.
// Credentials: in-cluster (KUBERNETES_SERVICE_HOST/_PORT and the service-account token and
// CA) or a kubeconfig (KUBECONFIG, else ~/.kube/config: server, token or client cert).
#include <functional>
#include <string>

#include "agent/runners/runner.hpp"

namespace weft::agent {

struct K8sCredentials {
  std::string server;   // https://10.0.0.1:443
  std::string token;    // bearer token ("" = client certificate)
  std::string ca_file;  // PEM file, or
  std::string ca_pem;   // PEM data
  std::string client_cert_file, client_cert_pem;
  std::string client_key_file, client_key_pem;
  bool insecure_skip_verify = false;
  std::string default_namespace = "default";
  std::string source;  // "in-cluster" or the kubeconfig path
};

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// Parses a kubeconfig (YAML) for its current context; relative file names are taken from
// `base_dir`. Errors name the field ("kubeconfig ~/.kube/config: current-context \"x\" not found").
core::Result<K8sCredentials> ParseKubeconfig(const std::string& yaml_text,
                                             const std::string& base_dir,
                                             const std::string& source);

// In-cluster credentials when KUBERNETES_SERVICE_HOST is set (token and CA under
// `service_account_dir`), else the kubeconfig. The error names what is missing.
core::Result<K8sCredentials> LoadK8sCredentials(
    const std::function<const char*(const char*)>& getenv,
    const std::string& service_account_dir = kServiceAccountDir);

// "weft-<flow run id>" (lowercase, at most 63 characters).
std::string K8sJobName(const RunSpec& spec);

// The Job manifest as JSON: image, command = entrypoint, env, restartPolicy Never,
// backoffLimit 0, ttlSecondsAfterFinished, label weft.flow-run-id. `redact` replaces the
// value of WEFT_API_KEY (for --dry-run). Errors: no image, empty entrypoint.
core::Result<std::string> K8sJobManifest(const RunSpec& spec, const std::string& ns,
                                         int ttl_seconds_after_finished = 3600,
                                         bool redact = false);

class KubernetesRunner final : public Runner {
 public:
  // Credentials are loaded at each Start (they may appear or rotate while the agent runs).
  KubernetesRunner();
  std::string type() const override { return "kubernetes"; }
  core::Result<std::unique_ptr<RunHandle>> Start(const RunSpec& spec, const std::string& run_dir,
                                                 LineSink sink) override;
  std::string Describe(const RunSpec& spec, const std::string& run_dir) const override;
};

}  // namespace weft::agent
