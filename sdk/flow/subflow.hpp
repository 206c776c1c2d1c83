#pragma once
// libweft internals: what a running flow run offers the code called inside it (subflows,
// pause_flow_run): its client (null in ephemeral mode), its id and per-run counters. Run
// (run.cpp) and subflows register each engine they execute; lookups go by the thread's
// current engine (detail::Engine::Current()).
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace weft::client {
class Client;
}

namespace weft::detail {

class Engine;

struct RunHost {
  client::Client* client = nullptr;  // null: ephemeral (nothing on a server)
  std::string flow_run_id;
  std::string flow_run_name;
  bool keep_history = false;
  std::mutex mu;
  std::map<std::string, int> subflow_calls;  // child flow name -> next dynamic key
};

// Registers `engine` for its lifetime in scope.
class ScopedRunHost {
 public:
  ScopedRunHost(const Engine* engine, client::Client* client, std::string flow_run_id,
                std::string flow_run_name, bool keep_history);
  ~ScopedRunHost();
  ScopedRunHost(const ScopedRunHost&) = delete;
  ScopedRunHost& operator=(const ScopedRunHost&) = delete;

 private:
  const Engine* engine_;
};

// The host of `engine`, or null.
std::shared_ptr<RunHost> FindRunHost(const Engine* engine);

}  // namespace weft::detail
