#pragma once
// The one helper handlers call to scope a call to what its caller may touch. The auth
// processor has already decided that the caller's scope may call the method (the access
// table, auth/access.hpp); a handler whose request names a flow run, a task run or a work
// queue asks the guard whether those are the caller's (auth/run_scope.hpp: a run token's run
// tree, an agent key's work queues) before it does anything.
#include <grpcpp/support/status.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/auth/authenticator.hpp"
#include "server/auth/run_scope.hpp"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace weft::server::api {

class ScopeGuard {
 public:
  ScopeGuard(auth::Authenticator& authenticator, auth::RunScope& scope)
      : authenticator_(authenticator), scope_(scope) {}

  // Each answers nullopt when the caller of `ctx` may go on, else the status to return:
  // PERMISSION_DENIED naming the field and the id, UNAUTHENTICATED when the caller's token no
  // longer authenticates (it did a moment ago, in the processor), or the lookup's error.
  std::optional<grpc::Status> FlowRun(const grpc::ServerContextBase& ctx, std::string_view field,
                                      const std::string& id) const;
  std::optional<grpc::Status> TaskRun(const grpc::ServerContextBase& ctx, std::string_view field,
                                      const std::string& id) const;
  std::optional<grpc::Status> WorkQueue(const grpc::ServerContextBase& ctx,
                                        std::string_view field, const std::string& name) const;
  // Any other check of auth::RunScope (batches, creation, listing). `check` runs only for
  // callers that RunScope limits, so a batch's RunRefs are built only for them.
  using Check = std::function<core::Status(auth::RunScope&, const auth::Identity&)>;
  std::optional<grpc::Status> Allow(const grpc::ServerContextBase& ctx, const Check& check) const;

  // Task runs (id, flow run id) a call has just created or found: RunScope remembers them,
  // so the next call naming them needs no lookup.
  void Learned(const std::vector<std::pair<std::string, std::string>>& task_runs) const {
    scope_.RememberTaskRuns(task_runs);
  }

 private:
  auth::Authenticator& authenticator_;
  auth::RunScope& scope_;
};

}  // namespace weft::server::api
