// weft: the command line. CLI11 lives only in this file (it is slow to compile).
#include <CLI/CLI.hpp>
#include <iostream>
#include <string_view>

#include "cli/commands/agent.hpp"
#include "cli/commands/api_key.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/concurrency_limit.hpp"
#include "cli/commands/config.hpp"
#include "cli/commands/notification.hpp"
#include "cli/commands/logs.hpp"
#include "cli/commands/tls_cert.hpp"
#include "cli/commands/work_queue.hpp"
#include "cli/output/printable.hpp"
#include "sdk/core/time.hpp"

using namespace weft::cli;

int main(int argc, char** argv) {
  // "weft server start ARGS..." hands ARGS to weft-server untouched (its own flags and --help).
  if (argc >= 3 && std::string_view(argv[1]) == "server" && std::string_view(argv[2]) == "start") {
    return ServerStart(std::vector<std::string>(argv + 3, argv + argc));
  }
  // "weft agent start ARGS..." likewise hands ARGS to weft-agent.
  if (argc >= 3 && std::string_view(argv[1]) == "agent" && std::string_view(argv[2]) == "start") {
    return AgentStart(std::vector<std::string>(argv + 3, argv + argc));
  }
  CLI::App app{"weft: workflow orchestration for native code", "weft"};
  app.require_subcommand(1);
  app.fallthrough();
  Globals g;
  g.api = weft::client::OptionsFromEnv();
  std::string output = "table";
  std::string api_url;
  app.add_option("--api-url", api_url, "gRPC address of weft-server (env WEFT_API_URL)");
  std::string api_key;
  app.add_option("--api-key", api_key, "API key (env WEFT_API_KEY; default: the local admin key)");
  std::string tls_ca;
  app.add_option("--tls-ca", tls_ca,
                 "PEM CA that signed the server's certificate, for https:// URLs (env WEFT_TLS_CA)");
  bool insecure = false;
  app.add_flag("--insecure", insecure,
               "Allow plaintext to a host that is not loopback (env WEFT_INSECURE=1)");
  app.add_option("-o,--output", output, "table or json")->check(CLI::IsMember({"table", "json"}));
  std::function<int()> action;

  // server
  auto* server = app.add_subcommand("server", "Run the API server")->require_subcommand(1);
  // Handled before parsing (above); registered here so that it shows in --help.
  server->add_subcommand("start",
                         "Start weft-server in the foreground (arguments go to weft-server; "
                         "see 'weft server start --help')");
  CertOptions cert;
  auto* server_cert = server->add_subcommand(
      "cert", "Make a private CA and a server certificate for TLS across machines");
  server_cert->add_option("--host", cert.hosts,
                          "A DNS name or IP address clients use to reach the server (repeatable)");
  server_cert->add_option("--client", cert.clients,
                          "Also make a client certificate with this name, for mutual TLS "
                          "(repeatable)");
  server_cert->add_option("--dir", cert.dir, "Where to write them (default $WEFT_HOME/tls)");
  server_cert->add_option("--days", cert.days, "Validity of the certificates")
      ->capture_default_str();
  server_cert->callback([&] {
    action = [&] {
      if (cert.dir.empty()) cert.dir = weft::client::DefaultHome() + "/tls";
      return ServerCert(cert);
    };
  });

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
  fr_ls->add_option("--deployment", fr.deployment, "Only runs of this deployment (FLOW/NAME)");
  fr_ls->add_option("--state", fr.states, "Only runs in this state type or name (repeatable)");
  fr_ls->add_option("--limit", fr.limit, "How many")->check(CLI::Range(1, 1000));
  fr_ls->add_option("--parent", fr.parent, "Only the subflow runs of this flow run (id)");
  fr_ls->callback([&] { action = [&] { return FlowRunLs(g, fr); }; });
  std::string fr_id;
  auto* fr_inspect = flow_run->add_subcommand("inspect", "A flow run with its state history");
  fr_inspect->add_option("id", fr_id, "Flow run id")->required();
  fr_inspect->callback([&] { action = [&] { return FlowRunInspect(g, fr_id); }; });
  std::string fr_cancel_message;
  auto* fr_cancel = flow_run->add_subcommand(
      "cancel", "Cancel a flow run (Scheduled: at once; running: its agent stops it)");
  fr_cancel->add_option("id", fr_id, "Flow run id")->required();
  fr_cancel->add_option("--message,-m", fr_cancel_message,
                        "Why (recorded in the state; default \"cancelled by user\")");
  fr_cancel->callback(
      [&] { action = [&] { return FlowRunCancel(g, fr_id, fr_cancel_message); }; });
  auto* fr_resume = flow_run->add_subcommand(
      "resume", "Resume a Paused flow run (its weft::pause_flow_run call returns)");
  fr_resume->add_option("id", fr_id, "Flow run id")->required();
  fr_resume->callback([&] { action = [&] { return FlowRunResume(g, fr_id); }; });
  std::string fr_wait_timeout = "1h";
  auto* fr_wait = flow_run->add_subcommand(
      "wait", "Wait until a flow run ends; exit 0 when it Completed, 1 otherwise");
  fr_wait->add_option("id", fr_id, "Flow run id")->required();
  fr_wait->add_option("--timeout", fr_wait_timeout, "Give up after this long (e.g. 90s, 10m)");
  fr_wait->callback([&] {
    action = [&] {
      if (weft::core::IsNegativeDuration(fr_wait_timeout)) {
        return Fail("--timeout: must not be negative, got \"" + fr_wait_timeout + "\"");
      }
      auto seconds = weft::core::ParseDurationSeconds(fr_wait_timeout);
      if (!seconds || *seconds <= 0) {
        return Fail("--timeout: expected a duration like 90s or 10m, got \"" + fr_wait_timeout +
                    "\"");
      }
      return FlowRunWait(g, fr_id, *seconds);
    };
  });

  LogsOptions fr_logs_opt;
  auto* fr_logs = flow_run->add_subcommand(
      "logs", "A flow run's log lines in order (TIME | LEVEL | TASK RUN | MESSAGE)");
  fr_logs->add_option("id", fr_logs_opt.id, "Flow run id")->required();
  fr_logs->add_flag("--follow,-f", fr_logs_opt.follow,
                    "Print new lines as they arrive until the run is over");
  fr_logs->add_option("--level", fr_logs_opt.level,
                      "Only lines at this level or above (debug, info, warning, error, critical)");
  fr_logs->add_option("--task", fr_logs_opt.task, "Only lines of task runs named NAME or NAME-<n>");
  fr_logs->add_option("--limit", fr_logs_opt.limit, "At most this many lines (default: all)")
      ->check(CLI::NonNegativeNumber);
  fr_logs->callback([&] { action = [&] { return FlowRunLogs(g, fr_logs_opt); }; });

  // agent
  auto* agent = app.add_subcommand("agent", "Agents: daemons that run flow runs from work queues")
                    ->require_subcommand(1);
  // Handled before parsing (above); registered here so that it shows in --help.
  agent->add_subcommand("start",
                        "Start weft-agent in the foreground (arguments go to weft-agent; "
                        "see 'weft agent start --help')");
  std::string agent_queue;
  auto* agent_ls = agent->add_subcommand("ls", "Agents seen in the last hour, most recent first");
  agent_ls->add_option("--queue,-q", agent_queue, "Only agents serving this work queue");
  agent_ls->callback([&] { action = [&] { return AgentLs(g, agent_queue); }; });

  // storage
  auto* storage = app.add_subcommand("storage", "Where code bundles live")->require_subcommand(1);
  StorageCreateOptions sc;
  auto* st_create = storage->add_subcommand("create", "Create a storage")->require_subcommand(1);
  auto* st_local = st_create->add_subcommand("local", "A directory (may be a shared mount)");
  st_local->add_option("--path", sc.path, "Directory that holds the bundles")->required();
  auto* st_server = st_create->add_subcommand("server", "Bundles kept in the server's database");
  auto* st_s3 = st_create->add_subcommand("s3", "An S3-compatible bucket");
  st_s3->add_option("--endpoint", sc.endpoint, "http(s)://host[:port]")->required();
  st_s3->add_option("--bucket", sc.bucket, "Bucket name")->required();
  st_s3->add_option("--region", sc.region, "Region (default us-east-1)");
  st_s3->add_option("--prefix", sc.prefix, "Key prefix inside the bucket");
  for (const auto& [sub, kind] : std::initializer_list<std::pair<CLI::App*, const char*>>{
           {st_local, "local"}, {st_server, "server"}, {st_s3, "s3"}}) {
    sub->add_option("--name", sc.name, "Storage name")->required();
    sub->add_flag("--default", sc.make_default, "Make it the default storage");
    std::string k = kind;
    sub->callback([&, k] {
      sc.kind = k;
      action = [&] { return StorageCreate(g, sc); };
    });
  }
  storage->add_subcommand("ls", "List storages")->callback([&] {
    action = [&] { return StorageLs(g); };
  });
  std::string st_name;
  auto* st_inspect = storage->add_subcommand("inspect", "A storage: config, default, used by");
  st_inspect->add_option("name", st_name, "Storage name")->required();
  st_inspect->callback([&] { action = [&] { return StorageInspect(g, st_name); }; });
  auto* st_default = storage->add_subcommand("set-default", "Make a storage the default");
  st_default->add_option("name", st_name, "Storage name")->required();
  st_default->callback([&] { action = [&] { return StorageSetDefault(g, st_name); }; });
  auto* st_delete =
      storage->add_subcommand("delete", "Delete a storage (refused while deployments use it)");
  st_delete->add_option("name", st_name, "Storage name")->required();
  st_delete->callback([&] { action = [&] { return StorageDelete(g, st_name); }; });

  // deployment
  auto* deployment =
      app.add_subcommand("deployment", "Deployments: a flow's bundle, schedule and parameters")
          ->require_subcommand(1);
  std::string dep_file;
  bool dep_dry_run = false;
  auto* dep_create = deployment->add_subcommand(
      "create", "Create or update deployments from a deploy.yaml or a flow program");
  dep_create
      ->add_option("file", dep_file, "deploy.yaml, or a flow program (run with --weft-describe)")
      ->required();
  dep_create->add_flag("--dry-run", dep_dry_run, "Validate and pack; upload and create nothing");
  dep_create->callback(
      [&] { action = [&] { return DeploymentCreate(g, dep_file, dep_dry_run); }; });
  std::string dep_flow;
  auto* dep_ls = deployment->add_subcommand("ls", "List deployments");
  dep_ls->add_option("--flow", dep_flow, "Only deployments of this flow");
  dep_ls->callback([&] { action = [&] { return DeploymentLs(g, dep_flow); }; });
  std::string dep_name;
  auto* dep_inspect = deployment->add_subcommand("inspect", "A deployment's spec and status");
  dep_inspect->add_option("name", dep_name, "FLOW/NAME")->required();
  dep_inspect->callback([&] { action = [&] { return DeploymentInspect(g, dep_name); }; });
  DeploymentRunOptions dr;
  auto* dep_run = deployment->add_subcommand("run", "Create a flow run of a deployment");
  dep_run->add_option("name", dr.name, "FLOW/NAME")->required();
  dep_run->add_option("--param,-p", dr.params, "NAME=VALUE (repeatable; JSON values allowed)");
  auto* start_in = dep_run->add_option("--start-in", dr.start_in, "Start after a delay: 10m, 2h");
  dep_run->add_option("--start-at", dr.start_at, "Start at a time: 2026-05-01T09:00:00Z")
      ->excludes(start_in);
  dep_run->add_option("--tag", dr.tags, "Extra tag for this run (repeatable)");
  dep_run->callback([&] { action = [&] { return DeploymentRun(g, dr); }; });
  auto* dep_pause = deployment->add_subcommand("pause", "Stop scheduling a deployment");
  dep_pause->add_option("name", dep_name, "FLOW/NAME")->required();
  dep_pause->callback([&] { action = [&] { return DeploymentSetPaused(g, dep_name, true); }; });
  auto* dep_resume = deployment->add_subcommand("resume", "Schedule a paused deployment again");
  dep_resume->add_option("name", dep_name, "FLOW/NAME")->required();
  dep_resume->callback([&] { action = [&] { return DeploymentSetPaused(g, dep_name, false); }; });
  auto* dep_delete = deployment->add_subcommand("delete", "Delete a deployment");
  dep_delete->add_option("name", dep_name, "FLOW/NAME")->required();
  dep_delete->callback([&] { action = [&] { return DeploymentDelete(g, dep_name); }; });
  int dep_limit = 10;
  auto* dep_upcoming = deployment->add_subcommand("upcoming", "The next scheduled runs");
  dep_upcoming->add_option("name", dep_name, "FLOW/NAME")->required();
  dep_upcoming->add_option("--limit", dep_limit, "How many")->check(CLI::Range(1, 1000));
  dep_upcoming->callback(
      [&] { action = [&] { return DeploymentUpcoming(g, dep_name, dep_limit); }; });
  std::string bf_from, bf_to;
  auto* dep_backfill =
      deployment->add_subcommand("backfill", "Create the runs the schedule has between two times");
  dep_backfill->add_option("name", dep_name, "FLOW/NAME")->required();
  dep_backfill->add_option("--from", bf_from, "Start time (RFC 3339)")->required();
  dep_backfill->add_option("--to", bf_to, "End time (RFC 3339)")->required();
  dep_backfill->callback(
      [&] { action = [&] { return DeploymentBackfill(g, dep_name, bf_from, bf_to); }; });

  // work-queue
  auto* wq = app.add_subcommand("work-queue", "Work queues: which scheduled runs agents pick up")
                 ->require_subcommand(1);
  WorkQueueCreateOptions wqc;
  int wqc_limit = 0;
  auto* wq_create = wq->add_subcommand("create", "Create a work queue");
  wq_create->add_option("name", wqc.name, "Queue name ([A-Za-z0-9_.-]+)")->required();
  wq_create->add_option("--tag", wqc.tags, "Runs must carry this tag (repeatable; all required)");
  wq_create->add_option("--deployment", wqc.deployments, "Only runs of FLOW/NAME (repeatable)");
  wq_create->add_option("--runner", wqc.runner_types,
                        "Only runs for this runner: process, docker, kubernetes (repeatable)");
  auto* wqc_limit_opt = wq_create->add_option(
      "--concurrency-limit", wqc_limit, "Most Pending + Running runs at once (default: no limit)");
  wq_create->add_option("--priority", wqc.priority, "Lower first (default 0)");
  wq_create->add_option("--description", wqc.description, "What the queue is for");
  wq_create->callback([&] {
    if (wqc_limit_opt->count() > 0) wqc.concurrency_limit = wqc_limit;
    action = [&] { return WorkQueueCreate(g, wqc); };
  });
  wq->add_subcommand("ls", "List work queues (by priority, then name)")->callback([&] {
    action = [&] { return WorkQueueLs(g); };
  });
  std::string wq_name;
  auto* wq_inspect = wq->add_subcommand("inspect", "A work queue's filters, limit and status");
  wq_inspect->add_option("name", wq_name, "Queue name")->required();
  wq_inspect->callback([&] { action = [&] { return WorkQueueInspect(g, wq_name); }; });
  double wq_hours = 0;
  int wq_preview_limit = 100;
  auto* wq_preview =
      wq->add_subcommand("preview", "The scheduled runs the queue would hand out next, in order");
  wq_preview->add_option("name", wq_name, "Queue name")->required();
  wq_preview->add_option("--hours", wq_hours, "Look this far ahead (default 24)");
  wq_preview->add_option("--limit", wq_preview_limit, "How many")->check(CLI::Range(1, 1000));
  wq_preview->callback(
      [&] { action = [&] { return WorkQueuePreview(g, wq_name, wq_hours, wq_preview_limit); }; });
  auto* wq_pause = wq->add_subcommand("pause", "Stop handing out runs");
  wq_pause->add_option("name", wq_name, "Queue name")->required();
  wq_pause->callback([&] { action = [&] { return WorkQueueSetPaused(g, wq_name, true); }; });
  auto* wq_resume = wq->add_subcommand("resume", "Hand out runs again");
  wq_resume->add_option("name", wq_name, "Queue name")->required();
  wq_resume->callback([&] { action = [&] { return WorkQueueSetPaused(g, wq_name, false); }; });
  int wq_limit = 0;
  auto* wq_set_limit =
      wq->add_subcommand("set-concurrency-limit", "Most Pending + Running runs at once");
  wq_set_limit->add_option("name", wq_name, "Queue name")->required();
  wq_set_limit->add_option("limit", wq_limit, "A number >= 0")->required();
  wq_set_limit->callback(
      [&] { action = [&] { return WorkQueueSetConcurrencyLimit(g, wq_name, wq_limit); }; });
  auto* wq_clear_limit = wq->add_subcommand("clear-concurrency-limit", "No limit");
  wq_clear_limit->add_option("name", wq_name, "Queue name")->required();
  wq_clear_limit->callback([&] {
    action = [&] { return WorkQueueSetConcurrencyLimit(g, wq_name, std::nullopt); };
  });
  auto* wq_delete = wq->add_subcommand("delete", "Delete a work queue (not \"default\")");
  wq_delete->add_option("name", wq_name, "Queue name")->required();
  wq_delete->callback([&] { action = [&] { return WorkQueueDelete(g, wq_name); }; });

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
  auto* tr_result = task_run->add_subcommand(
      "result", "The result a task run stored (a Cached run: the one it reused), as JSON");
  tr_result->add_option("id", tr_id, "Task run id")->required();
  tr_result->callback([&] { action = [&] { return TaskRunResult(g, tr_id); }; });
  LogsOptions tr_logs_opt;
  auto* tr_logs = task_run->add_subcommand("logs", "A task run's log lines in order");
  tr_logs->add_option("id", tr_logs_opt.id, "Task run id")->required();
  tr_logs->add_flag("--follow,-f", tr_logs_opt.follow,
                    "Print new lines as they arrive until the task run is over");
  tr_logs->add_option("--level", tr_logs_opt.level,
                      "Only lines at this level or above (debug, info, warning, error, critical)");
  tr_logs->add_option("--limit", tr_logs_opt.limit, "At most this many lines (default: all)")
      ->check(CLI::NonNegativeNumber);
  tr_logs->callback([&] { action = [&] { return TaskRunLogs(g, tr_logs_opt); }; });

  // api-key
  auto* ak = app.add_subcommand("api-key", "API keys (admin)")->require_subcommand(1);
  ApiKeyCreateOptions akc;
  auto* ak_create =
      ak->add_subcommand("create", "Create a key and print its token (shown this once)");
  ak_create->add_option("name", akc.name, "Key name ([A-Za-z0-9_.@-], at most 64)")->required();
  ak_create->add_option("--scope", akc.scope, "admin, operator, viewer or agent")
      ->required()
      ->check(CLI::IsMember({"admin", "operator", "viewer", "agent"}));
  ak_create->add_option("--work-queue,-q", akc.work_queues,
                        "Agent keys: a work queue it may serve (repeatable; default any)");
  ak_create->add_option("--expires", akc.expires, "Expire after this long (e.g. 90d); default never");
  ak_create->callback([&] { action = [&] { return ApiKeyCreate(g, akc); }; });
  ak->add_subcommand("ls", "List keys (never their secrets)")->callback([&] {
    action = [&] { return ApiKeyLs(g); };
  });
  std::string ak_name;
  auto* ak_revoke = ak->add_subcommand("revoke", "Revoke a key (refused within a second)");
  ak_revoke->add_option("name", ak_name, "Key name")->required();
  ak_revoke->callback([&] { action = [&] { return ApiKeyRevoke(g, ak_name); }; });
  app.add_subcommand("whoami", "The key this CLI uses: its name and scope")->callback([&] {
    action = [&] { return WhoAmI(g); };
  });

  // notification
  auto* notif = app.add_subcommand("notification", "Webhook notifications on flow run states")
                    ->require_subcommand(1);
  NotificationCreateOptions nc;
  auto* nc_cmd = notif->add_subcommand(
      "create", "POST to a webhook when a flow run enters one of the states");
  nc_cmd->add_option("--state", nc.states, "State name, e.g. Failed (repeatable)")->required();
  nc_cmd->add_option("--tag", nc.tags, "Only runs carrying one of these tags (repeatable)");
  nc_cmd->add_option("--webhook", nc.webhook, "http:// or https:// URL")->required();
  nc_cmd->add_option("--format", nc.format, "json or slack ({\"text\": ...})")
      ->check(CLI::IsMember({"json", "slack"}))
      ->capture_default_str();
  nc_cmd->callback([&] { action = [&] { return NotificationCreate(g, nc); }; });
  notif->add_subcommand("ls", "List notification policies")->callback([&] {
    action = [&] { return NotificationLs(g); };
  });
  std::string notif_id;
  auto* n_pause = notif->add_subcommand("pause", "Stop sending for a policy");
  n_pause->add_option("id", notif_id, "Policy id")->required();
  n_pause->callback([&] { action = [&] { return NotificationSetPaused(g, notif_id, true); }; });
  auto* n_resume = notif->add_subcommand("resume", "Send again for a paused policy");
  n_resume->add_option("id", notif_id, "Policy id")->required();
  n_resume->callback([&] { action = [&] { return NotificationSetPaused(g, notif_id, false); }; });
  auto* n_delete = notif->add_subcommand("delete", "Delete a policy and its delivery records");
  n_delete->add_option("id", notif_id, "Policy id")->required();
  n_delete->callback([&] { action = [&] { return NotificationDelete(g, notif_id); }; });
  int notif_limit = 50;
  auto* n_deliveries =
      notif->add_subcommand("deliveries", "Recent deliveries (attempts, errors), newest first");
  n_deliveries->add_option("id", notif_id, "Only this policy's deliveries");
  n_deliveries->add_option("--limit", notif_limit, "How many")->check(CLI::Range(1, 1000));
  n_deliveries->callback(
      [&] { action = [&] { return NotificationDeliveries(g, notif_id, notif_limit); }; });

  // concurrency-limit
  auto* cl = app.add_subcommand("concurrency-limit", "Tag concurrency limits for task runs")
                 ->require_subcommand(1);
  std::string cl_tag, cl_limit;
  auto* cl_create = cl->add_subcommand("create", "Create a limit on a tag, or change it");
  cl_create->add_option("tag", cl_tag, "Tag")->required();
  cl_create->add_option("limit", cl_limit, "Task runs carrying the tag that may run at once")
      ->required();
  cl_create->callback(
      [&] { action = [&] { return ConcurrencyLimitCreate(g, cl_tag, cl_limit); }; });
  cl->add_subcommand("ls", "List limits with their slots in use")->callback([&] {
    action = [&] { return ConcurrencyLimitLs(g); };
  });
  auto* cl_inspect = cl->add_subcommand("inspect", "A limit and the task runs holding its slots");
  cl_inspect->add_option("tag", cl_tag, "Tag")->required();
  cl_inspect->callback([&] { action = [&] { return ConcurrencyLimitInspect(g, cl_tag); }; });
  auto* cl_reset = cl->add_subcommand("reset", "Free every slot of a tag");
  cl_reset->add_option("tag", cl_tag, "Tag")->required();
  cl_reset->callback([&] { action = [&] { return ConcurrencyLimitReset(g, cl_tag); }; });
  auto* cl_delete = cl->add_subcommand("delete", "Delete a limit (its tag runs freely again)");
  cl_delete->add_option("tag", cl_tag, "Tag")->required();
  cl_delete->callback([&] { action = [&] { return ConcurrencyLimitDelete(g, cl_tag); }; });

  // orchestration
  auto* orch = app.add_subcommand("orchestration", "Orchestration rules")->require_subcommand(1);
  orch->add_subcommand("rules", "List the rule chain, in order")->callback([&] {
    action = [&] { return OrchestrationRules(g); };
  });

  // config
  auto* config = app.add_subcommand("config", "Settings")->require_subcommand(1);
  config->add_subcommand("view", "Print the effective settings and where each comes from")
      ->callback([&] { action = [&] { return ConfigView(g); }; });
  std::string cfg_key, cfg_value;
  auto* cfg_set = config->add_subcommand(
      "set", "Set a setting in the active profile (api_url, api_key, tls_ca, tls_cert, tls_key, insecure)");
  cfg_set->add_option("key", cfg_key, "Setting")->required();
  cfg_set->add_option("value", cfg_value, "Value")->required();
  cfg_set->callback([&] { action = [&] { return ConfigSet(cfg_key, cfg_value, false); }; });
  auto* cfg_unset = config->add_subcommand("unset", "Remove a setting from the active profile");
  cfg_unset->add_option("key", cfg_key, "Setting")->required();
  cfg_unset->callback([&] { action = [&] { return ConfigSet(cfg_key, "", true); }; });

  // profile
  auto* profile = app.add_subcommand("profile", "Named sets of client settings ($WEFT_HOME/config.yaml)")
                      ->require_subcommand(1);
  std::string profile_name;
  bool profile_use = false;
  auto* pr_create = profile->add_subcommand("create", "Create an empty profile");
  pr_create->add_option("name", profile_name, "Profile name")->required();
  pr_create->add_flag("--use", profile_use, "Make it the active profile");
  pr_create->callback([&] { action = [&] { return ProfileCreate(profile_name, profile_use); }; });
  auto* pr_use = profile->add_subcommand("use", "Make a profile the active one");
  pr_use->add_option("name", profile_name, "Profile name")->required();
  pr_use->callback([&] { action = [&] { return ProfileUse(profile_name); }; });
  profile->add_subcommand("ls", "List profiles (* = active)")->callback([&] {
    action = [&] { return ProfileLs(g); };
  });
  auto* pr_delete = profile->add_subcommand("delete", "Delete a profile");
  pr_delete->add_option("name", profile_name, "Profile name")->required();
  pr_delete->callback([&] { action = [&] { return ProfileDelete(profile_name); }; });

  // login
  LoginOptions login;
  auto* login_cmd = app.add_subcommand(
      "login", "Check a server URL and key, then save them in the active (or named) profile");
  login_cmd->add_option("--api-url", login.api_url, "https://host:4201 (or host:port on loopback)")
      ->required();
  login_cmd->add_option("--api-key", login.api_key, "The API key")->required();
  login_cmd->add_option("--tls-ca", login.tls_ca, "PEM CA of a private server certificate");
  login_cmd->add_option("--profile", login.profile, "Save in (and switch to) this profile");
  login_cmd->callback([&] { action = [&] { return Login(g, login); }; });

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
  if (!api_key.empty()) g.api.api_key = api_key;
  if (!tls_ca.empty()) g.api.tls_ca_file = tls_ca;
  if (insecure) g.api.insecure = true;
  g.format = output == "json" ? Format::kJson : Format::kTable;
  if (!action) {
    std::cerr << "error: no command given\n(run 'weft --help' for usage)" << std::endl;
    return 2;
  }
  // Whatever the server sent (log lines, names, messages) prints without control characters.
  weft::cli::output::PrintableStdStreams printable;
  return action();
}
