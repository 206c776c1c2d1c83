#pragma once
// Who may call what: scopes, the caller's identity and the one access table of the API.
// Pure: no gRPC, no database (the gRPC auth processor and the HTTP middleware use it).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/core/error.hpp"

namespace weft::server::auth {

enum class Scope { kViewer, kOperator, kAgent, kAdmin, kRun };

const char* ScopeName(Scope s);
// viewer | operator | agent | admin (run tokens are minted, never asked for by name).
std::optional<Scope> ParseScope(std::string_view name);

// The authenticated caller of one call.
struct Identity {
  Scope scope = Scope::kViewer;
  std::string name;                      // the key's name, or "run:<flow run id>"
  std::string key_id;                    // API keys: the lookup id ("" for run tokens)
  std::vector<std::string> work_queues;  // agent keys: the queues it serves (empty = all)
  std::string flow_run_id;               // run tokens: the run it belongs to
  // Run tokens of a run that just became final: only its last log lines are still accepted
  // (the SDK logs "Finished in state …" after the final state); everything else is
  // UNAUTHENTICATED with this message.
  std::string run_final;

  // Agent keys limited to some queues: whether `queue` is one of them (true otherwise).
  bool MayServeQueue(std::string_view queue) const;
};

// Whether `who` may call `method` ("/weft.v1.FlowRunService/CreateFlowRun"): nullopt when
// allowed, else PERMISSION_DENIED naming the method and the scopes that may call it
// (UNAUTHENTICATED for the token of a final run calling anything but WriteLogs).
std::optional<core::Error> Authorize(const Identity& who, std::string_view method);

// The scopes (admin aside) that may call `method`; empty for a method missing from the table
// (then only admin may call it). For docs and tests.
std::vector<Scope> AllowedScopes(std::string_view method);

// Whether `method` is one of the API's (the table above or an admin-only method): the closed
// set of method names a metric label may carry.
bool IsApiMethod(std::string_view method);

}  // namespace weft::server::auth
