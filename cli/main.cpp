// weft: the command line. CLI11 lives only in this file (it is slow to compile).
#include <CLI/CLI.hpp>
#include <iostream>
#include <string_view>

#include "cli/commands/common.hpp"

using namespace weft::cli;

int main(int argc, char** argv) {
  // "weft server start ARGS..." hands ARGS to weft-server untouched (its own flags and --help).
  if (argc >= 3 && std::string_view(argv[1]) == "server" && std::string_view(argv[2]) == "start") {
    return ServerStart(std::vector<std::string>(argv + 3, argv + argc));
  }
  CLI::App app{"weft: workflow orchestration for native code", "weft"};
  app.require_subcommand(1);
  app.fallthrough();
  Globals g;
  g.api = weft::client::OptionsFromEnv();
  std::string output = "table";
  std::string api_url;
  app.add_option("--api-url", api_url, "gRPC address of weft-server (env WEFT_API_URL)");
  app.add_option("-o,--output", output, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  std::function<int()> action;

  // server
  auto* server = app.add_subcommand("server", "Run the API server")->require_subcommand(1);
  // Handled before parsing (above); registered here so that it shows in --help.
  server->add_subcommand("start",
                         "Start weft-server in the foreground (arguments go to weft-server; "
                         "see 'weft server start --help')");

  // flow
  auto* flow = app.add_subcommand("flow", "Flows")->require_subcommand(1);
  int flow_limit = 100;
  auto* flow_ls = flow->add_subcommand("ls", "List flows");
  flow_ls->add_option("--limit", flow_limit, "How many")->check(CLI::Range(1, 1000));
  flow_ls->callback([&] { action = [&] { return FlowLs(g, flow_limit); }; });

  // flow-run
  auto* flow_run = app.add_subcommand("flow-run", "Flow runs")->require_subcommand(1);
  FlowRunLsOptions fr;
  auto* fr_ls = flow_run->add_subcommand("ls", "List flow runs, newest first");
  fr_ls->add_option("--flow", fr.flow, "Only runs of this flow");
  fr_ls->add_option("--state", fr.states, "Only runs in this state type or name (repeatable)");
  fr_ls->add_option("--limit", fr.limit, "How many")->check(CLI::Range(1, 1000));
  fr_ls->callback([&] { action = [&] { return FlowRunLs(g, fr); }; });
  std::string fr_id;
  auto* fr_inspect = flow_run->add_subcommand("inspect", "A flow run with its state history");
  fr_inspect->add_option("id", fr_id, "Flow run id")->required();
  fr_inspect->callback([&] { action = [&] { return FlowRunInspect(g, fr_id); }; });

  // task-run
  auto* task_run = app.add_subcommand("task-run", "Task runs")->require_subcommand(1);
  std::string tr_flow_run;
  int tr_limit = 1000;
  auto* tr_ls = task_run->add_subcommand("ls", "List the task runs of a flow run");
  tr_ls->add_option("--flow-run", tr_flow_run, "Flow run id")->required();
  tr_ls->add_option("--limit", tr_limit, "How many")->check(CLI::Range(1, 1000));
  tr_ls->callback([&] { action = [&] { return TaskRunLs(g, tr_flow_run, tr_limit); }; });
  std::string tr_id;
  auto* tr_inspect = task_run->add_subcommand("inspect", "A task run with its state history");
  tr_inspect->add_option("id", tr_id, "Task run id")->required();
  tr_inspect->callback([&] { action = [&] { return TaskRunInspect(g, tr_id); }; });

  // orchestration
  auto* orch = app.add_subcommand("orchestration", "Orchestration rules")->require_subcommand(1);
  orch->add_subcommand("rules", "List the rule chain, in order")->callback([&] {
    action = [&] { return OrchestrationRules(g); };
  });

  // config
  auto* config = app.add_subcommand("config", "Settings")->require_subcommand(1);
  config->add_subcommand("view", "Print the effective settings and where each comes from")
      ->callback([&] { action = [&] { return ConfigView(g); }; });

  app.add_subcommand("version", "Client and server versions")->callback([&] {
    action = [&] { return Version(g); };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n(run 'weft --help' for usage)" << std::endl;
    return 2;
  }
  if (!api_url.empty()) {
    setenv("WEFT_API_URL", api_url.c_str(), 1);
    g.api = weft::client::OptionsFromEnv();
  }
  g.format = output == "json" ? Format::kJson : Format::kTable;
  if (!action) {
    std::cerr << "error: no command given\n(run 'weft --help' for usage)" << std::endl;
    return 2;
  }
  return action();
}
