// The pure half of authentication: token formats and the access table.
#include <google/protobuf/descriptor.h>

#include <catch2/catch.hpp>

#include "server/auth/access.hpp"
#include "server/auth/tokens.hpp"
#include "weft/v1/admin.pb.h"
#include "weft/v1/agents.pb.h"
#include "weft/v1/api_keys.pb.h"
#include "weft/v1/concurrency_limits.pb.h"
#include "weft/v1/deployments.pb.h"
#include "weft/v1/flow_runs.pb.h"
#include "weft/v1/flows.pb.h"
#include "weft/v1/logs.pb.h"
#include "weft/v1/notifications.pb.h"
#include "weft/v1/storage.pb.h"
#include "weft/v1/task_runs.pb.h"
#include "weft/v1/work_queues.pb.h"

using namespace weft::server::auth;

TEST_CASE("API key tokens: a fresh token parses back; other shapes do not", "[auth]") {
  ApiKeyToken t = NewApiKeyToken();
  std::string token = FormatApiKeyToken(t);
  CHECK(token.rfind("weft_", 0) == 0);
  CHECK(token.size() == 5 + 12 + 1 + 64);
  auto back = ParseApiKeyToken(token);
  REQUIRE(back);
  CHECK(back->id == t.id);
  CHECK(back->secret == t.secret);
  CHECK(NewApiKeyToken().secret != t.secret);  // random
  CHECK_FALSE(ParseApiKeyToken(""));
  CHECK_FALSE(ParseApiKeyToken(token.substr(0, token.size() - 1)));
  CHECK_FALSE(ParseApiKeyToken("weft_" + std::string(12, 'g') + "_" + std::string(64, 'a')));
  std::string upper = token;
  upper.back() = 'A';
  CHECK_FALSE(ParseApiKeyToken(upper));
}

TEST_CASE("run tokens: signed by the key, bound to their run and expiry", "[auth]") {
  std::string key = RandomHex(32);
  RunToken t{"0c9a1f6e-1b2c-4d3e-8f40-5a6b7c8d9e0f", 1900000000};
  std::string token = MintRunToken(key, t);
  CHECK(LooksLikeRunToken(token));
  auto back = VerifyRunToken(key, token);
  REQUIRE(back);
  CHECK(back->flow_run_id == t.flow_run_id);
  CHECK(back->expires_unix == t.expires_unix);
  CHECK_FALSE(VerifyRunToken(RandomHex(32), token));  // another server's key
  // Changing the run or the expiry breaks the signature.
  std::string other = token;
  other.replace(other.find("0c9a"), 4, "1c9a");
  CHECK_FALSE(VerifyRunToken(key, other));
  std::string later = token;
  later.replace(later.find("1900000000"), 10, "1999999999");
  CHECK_FALSE(VerifyRunToken(key, later));
  CHECK_FALSE(VerifyRunToken(key, "weftrun_"));
  CHECK_FALSE(VerifyRunToken(key, FormatApiKeyToken(NewApiKeyToken())));
}

TEST_CASE("session tokens: signed, bound to their key and expiry, unlike other tokens",
          "[auth]") {
  std::string key = RandomHex(32);
  SessionToken t{"0123456789ab", 1900000000};
  std::string token = MintSessionToken(key, t);
  CHECK(token.rfind("weftsess_0123456789ab_1900000000_", 0) == 0);
  auto back = VerifySessionToken(key, token);
  REQUIRE(back);
  CHECK(back->key_id == "0123456789ab");
  CHECK(back->expires_unix == 1900000000);
  CHECK_FALSE(VerifySessionToken(RandomHex(32), token));  // another server's key
  std::string other_key_id = token;
  other_key_id[std::string("weftsess_").size()] = 'f';
  CHECK_FALSE(VerifySessionToken(key, other_key_id));
  std::string later = MintSessionToken(key, t);
  later.replace(later.find("1900000000"), 10, "1999999999");
  CHECK_FALSE(VerifySessionToken(key, later));
  CHECK_FALSE(VerifySessionToken(key, "weftsess_"));
  // Neither a run token nor an API key passes for a session, nor a session for them.
  CHECK_FALSE(VerifySessionToken(key, MintRunToken(key, RunToken{"0123456789ab", 1900000000})));
  CHECK_FALSE(VerifySessionToken(key, FormatApiKeyToken(NewApiKeyToken())));
  CHECK_FALSE(VerifyRunToken(key, token));
  CHECK_FALSE(LooksLikeRunToken(token));
  CHECK_FALSE(ParseApiKeyToken(token));
}

TEST_CASE("constant-time compare and digests", "[auth]") {
  CHECK(ConstantTimeEqual("abc", "abc"));
  CHECK_FALSE(ConstantTimeEqual("abc", "abd"));
  CHECK_FALSE(ConstantTimeEqual("abc", "abcd"));
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  CHECK(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

namespace {

Identity Key(Scope s, std::vector<std::string> queues = {}) {
  Identity who;
  who.scope = s;
  who.name = "k";
  who.work_queues = std::move(queues);
  return who;
}

}  // namespace

TEST_CASE("the access table: what each scope may call", "[auth]") {
  const std::string create_dep = "/weft.v1.DeploymentService/CreateDeployment";
  const std::string run_dep = "/weft.v1.DeploymentService/RunDeployment";
  const std::string list_runs = "/weft.v1.FlowRunService/ListFlowRuns";
  const std::string poll = "/weft.v1.AgentService/PollWorkQueues";
  const std::string create_key = "/weft.v1.ApiKeyService/CreateApiKey";
  const std::string download = "/weft.v1.StorageService/DownloadBundle";

  CHECK_FALSE(Authorize(Key(Scope::kViewer), list_runs));
  auto denied = Authorize(Key(Scope::kViewer), run_dep);
  REQUIRE(denied);
  CHECK(denied->code == weft::core::Code::kPermissionDenied);
  CHECK(denied->message ==
        "DeploymentService.RunDeployment needs scope operator or admin; key \"k\" (scope "
        "viewer) may not call it");
  CHECK(Authorize(Key(Scope::kViewer), download));

  CHECK_FALSE(Authorize(Key(Scope::kOperator), create_dep));
  CHECK_FALSE(Authorize(Key(Scope::kOperator), run_dep));
  CHECK(Authorize(Key(Scope::kOperator), create_key));

  CHECK_FALSE(Authorize(Key(Scope::kAgent), poll));
  CHECK_FALSE(Authorize(Key(Scope::kAgent), download));
  CHECK(Authorize(Key(Scope::kAgent), create_dep));
  CHECK(Authorize(Key(Scope::kAgent), list_runs));

  Identity run = Key(Scope::kRun);
  CHECK_FALSE(Authorize(run, "/weft.v1.TaskRunService/ReportTaskRuns"));
  CHECK_FALSE(Authorize(run, run_dep));
  CHECK(Authorize(run, create_dep));
  CHECK(Authorize(run, poll));
  CHECK(Authorize(run, create_key)->message.find("a run token") != std::string::npos);
  // The token of a run that just became final may only ship its last log lines.
  run.run_final = "run token: flow run X is final (Completed); its token is no longer valid";
  CHECK_FALSE(Authorize(run, "/weft.v1.LogService/WriteLogs"));
  auto final_call = Authorize(run, "/weft.v1.FlowRunService/GetFlowRun");
  REQUIRE(final_call);
  CHECK(final_call->code == weft::core::Code::kUnauthenticated);
  CHECK(final_call->message == run.run_final);

  CHECK_FALSE(Authorize(Key(Scope::kAdmin), create_key));
  CHECK_FALSE(Authorize(Key(Scope::kAdmin), "/weft.v1.Nothing/Unknown"));
  CHECK(Authorize(Key(Scope::kOperator), "/weft.v1.Nothing/Unknown"));
}

TEST_CASE("agent keys serve only their work queues", "[auth]") {
  CHECK(Key(Scope::kAgent).MayServeQueue("anything"));
  Identity etl = Key(Scope::kAgent, {"etl", "ml"});
  CHECK(etl.MayServeQueue("ml"));
  CHECK_FALSE(etl.MayServeQueue("default"));
  CHECK(Key(Scope::kOperator).MayServeQueue("default"));
}

TEST_CASE("every method of the API has a line in the access table", "[auth]") {
  // A method missing from the table would be admin-only by accident: name it here.
  // One message of each .proto: linking it in registers the file and its services.
  std::vector<const google::protobuf::FileDescriptor*> files = {
      weft::v1::GetVersionRequest::descriptor()->file(),
      weft::v1::PollWorkQueuesRequest::descriptor()->file(),
      weft::v1::WhoAmIRequest::descriptor()->file(),
      weft::v1::CreateConcurrencyLimitRequest::descriptor()->file(),
      weft::v1::CreateDeploymentRequest::descriptor()->file(),
      weft::v1::CreateFlowRunRequest::descriptor()->file(),
      weft::v1::CreateFlowRequest::descriptor()->file(),
      weft::v1::WriteLogsRequest::descriptor()->file(),
      weft::v1::CreateNotificationRequest::descriptor()->file(),
      weft::v1::CreateStorageRequest::descriptor()->file(),
      weft::v1::CreateTaskRunRequest::descriptor()->file(),
      weft::v1::CreateWorkQueueRequest::descriptor()->file(),
  };
  std::vector<std::string> missing;
  int methods = 0;
  for (const auto* file : files) {
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* sd = file->service(s);
      for (int i = 0; i < sd->method_count(); ++i) {
        ++methods;
        std::string path = "/" + sd->full_name() + "/" + sd->method(i)->name();
        if (sd->name() == "ApiKeyService" && sd->method(i)->name() != "WhoAmI") continue;
        if (AllowedScopes(path).empty()) missing.push_back(path);
      }
    }
  }
  INFO("missing: " << missing.size());
  for (const auto& m : missing) INFO(m);
  CHECK(missing.empty());
  CHECK(methods > 50);
  // The key service is admin's, WhoAmI excepted.
  CHECK(AllowedScopes("/weft.v1.ApiKeyService/CreateApiKey").empty());
  CHECK(AllowedScopes("/weft.v1.ApiKeyService/WhoAmI").size() == 4);
}
