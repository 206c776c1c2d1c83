#include "cli/commands/agent.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli/output/json.hpp"
#include "cli/output/table.hpp"

namespace weft::cli {

namespace {

// weft-agent beside this executable, then the build tree's layout, then PATH.
std::string FindAgent() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto dir = self.parent_path();
    for (auto candidate : {dir / "weft-agent", dir / ".." / "agent" / "weft-agent"}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal().string();
    }
  }
  return "weft-agent";  // execvp searches PATH
}

std::string Queues(const v1::Agent& a) {
  std::vector<std::string> q(a.work_queues().begin(), a.work_queues().end());
  return Join(q, ",");
}

}  // namespace

int AgentStart(const std::vector<std::string>& agent_args) {
  std::string agent = FindAgent();
  std::vector<char*> argv;
  argv.push_back(agent.data());
  std::vector<std::string> args = agent_args;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execvp(agent.c_str(), argv.data());
  return Fail("cannot start weft-agent (" + agent + "): " + std::strerror(errno) +
              "; is it installed beside weft or on PATH?");
}

int AgentLs(const Globals& g, const std::string& queue) {
  client::Client c(g.api);
  v1::ListAgentsRequest req;
  req.set_work_queue(queue);
  auto resp = c.ListAgents(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"NAME", "ID", "HOST", "QUEUES", "RUNNING", "LIMIT", "LAST SEEN", "LAST POLLED"});
  for (const auto& a : resp->agents()) {
    t.AddRow({a.name(), a.id(), a.hostname(), Queues(a), std::to_string(a.running()),
              a.limit() > 0 ? std::to_string(a.limit()) : "-", ShortTime(a.last_seen()),
              ShortTime(a.last_polled())});
  }
  if (t.empty()) {
    std::cout << "No agents seen in the last hour"
              << (queue.empty() ? "" : " on work queue \"" + queue + "\"") << ".\n";
    return 0;
  }
  t.Print(std::cout);
  return 0;
}

}  // namespace weft::cli
