// Storage, bundles and deployments with real processes: weft-server, the weft CLI, a local
// S3-compatible server (s3rver, from tests/e2e/s3) and bundle_tool, which fetches a bundle
// the way an agent will.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/e2e/support.hpp"

using namespace weft::e2e;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The s3rver key pair of these tests. The secret is a marker that must never show up in
// anything weft prints.
const std::string kAccessKey = "WEFTE2EACCESSKEY";
const std::string kSecret = "weft-e2e-secret-6f1c2a9d";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Every output of the CLI, so that a test can check it never printed a secret.
std::string& Transcript() {
  static std::string all;
  return all;
}

RunResult Cli(const Env& env, std::vector<std::string> args, const std::string& cwd = "") {
  args.insert(args.begin(), WEFT_CLI_BIN);
  RunResult r = Run(args, env, 120, cwd);
  Transcript() += r.out + r.err;
  return r;
}

std::string Describe(const std::vector<std::string>& args, const RunResult& r) {
  std::string cmd = "weft";
  for (const auto& a : args) cmd += " " + a;
  return cmd + "\nexit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" +
         r.err;
}

RunResult CliOk(const Env& env, const std::vector<std::string>& args, const std::string& cwd = "") {
  RunResult r = Cli(env, args, cwd);
  INFO(Describe(args, r));
  REQUIRE(r.exit_code == 0);
  return r;
}

json CliJson(const Env& env, std::vector<std::string> args) {
  args.push_back("--output");
  args.push_back("json");
  RunResult r = CliOk(env, args);
  return json::parse(r.out);
}

void WriteFile(const fs::path& p, const std::string& data, bool executable = false) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
  if (executable) ::chmod(p.c_str(), 0755);
}

std::string Slurp(const fs::path& p) { return ReadFile(p.string()); }

// A small project: an entrypoint script, data and a binary larger than one 1 MiB chunk.
void MakeProject(const fs::path& dir) {
  WriteFile(dir / "flow.sh", "#!/bin/sh\necho \"running with $*\"\n", true);
  WriteFile(dir / "data/table.csv", "id,value\n1,0.5\n2,0.25\n");
  std::string blob(2'600'000, '\0');
  unsigned x = 2463534242u;
  for (auto& c : blob) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  WriteFile(dir / "model.bin", blob);
}

std::string FindOnPath(const std::string& name) {
  std::string path = Getenv("PATH");
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

// s3rver on a free loopback port with its own directory and the bucket "weft".
class S3Server {
 public:
  S3Server()
      : port_(FreePort()), dir_(TempDir("s3")), proc_(Argv(port_, dir_), {}, dir_ + "/s3rver.log") {
    if (!proc_.WaitForLog("s3rver listening", 60)) {
      throw std::runtime_error("s3rver did not start; its log:\n" + proc_.Log());
    }
  }
  ~S3Server() { proc_.Stop(5); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }

 private:
  static std::vector<std::string> Argv(int port, const std::string& dir) {
    std::string node = FindOnPath("node");
    if (node.empty()) throw std::runtime_error("node is not installed (scripts/install_deps.sh)");
    std::string start = std::string(S3_TEST_DIR) + "/start.js";
    if (!fs::exists(std::string(S3_TEST_DIR) + "/node_modules/s3rver")) {
      throw std::runtime_error(
          "s3rver is not installed: run npm ci --prefix tests/e2e/s3 (scripts/test.sh does)");
    }
    return {node, start, dir + "/data", std::to_string(port), "weft", kAccessKey, kSecret};
  }
  int port_;
  std::string dir_;
  Background proc_;
};

Env WithS3(Env env) {
  env["AWS_ACCESS_KEY_ID"] = kAccessKey;
  env["AWS_SECRET_ACCESS_KEY"] = kSecret;
  env["AWS_SESSION_TOKEN"] = "<unset>";
  return env;
}

json Deployments(const Env& env) { return CliJson(env, {"deployment", "ls"})["deployments"]; }

}  // namespace

TEST_CASE(
    "storage: each kind round-trips a bundle byte for byte and an identical bundle is "
    "stored once",
    "[e2e][storage]") {
  Server server(FreshDatabase("storage"));
  S3Server s3;
  Env env = WithS3(server.ClientEnv());
  fs::path project = TempDir("project");
  MakeProject(project);
  fs::path local_root = fs::path(TempDir("local-storage")) / "flows";

  CliOk(env, {"storage", "create", "local", "--name", "shared", "--path", local_root.string()});
  CliOk(env, {"storage", "create", "server", "--name", "db"});
  CliOk(env, {"storage", "create", "s3", "--name", "bucket", "--endpoint", s3.endpoint(),
              "--bucket", "weft", "--prefix", "team-a"});
  // Three of ours plus the server's built-in "server" storage.
  json storages = CliJson(env, {"storage", "ls"})["storages"];
  REQUIRE(storages.size() == 4);

  std::set<std::string> digests;
  for (const std::string storage : {"shared", "db", "bucket"}) {
    INFO("storage " << storage);
    std::string spec = "name: rt-" + storage +
                       "\nflow_name: roundtrip\nentrypoint: ./flow.sh\n"
                       "include: [flow.sh, data, model.bin]\nstorage: " +
                       storage + "\n";
    WriteFile(project / ("deploy-" + storage + ".yaml"), spec);
    RunResult created =
        CliOk(env, {"deployment", "create", "deploy-" + storage + ".yaml"}, project.string());
    CHECK(Contains(created.out, "Created deployment roundtrip/rt-" + storage));
    CHECK(Contains(created.out, "3 files) in storage " + storage + ", uploaded"));

    json d = CliJson(env, {"deployment", "inspect", "roundtrip/rt-" + storage});
    std::string digest = d["spec"]["bundle"]["digest"];
    CHECK(d["spec"]["bundle"]["storage"] == storage);
    CHECK(digest.rfind("sha256:", 0) == 0);
    digests.insert(digest);

    fs::path out = fs::path(TempDir("fetch")) / "bundle";
    RunResult fetched = Run({BUNDLE_TOOL_BIN, "fetch", storage, digest, out.string()}, env);
    INFO("bundle_tool: " << fetched.out << fetched.err);
    REQUIRE(fetched.exit_code == 0);
    CHECK(Slurp(out / "flow.sh") == Slurp(project / "flow.sh"));
    CHECK(Slurp(out / "data/table.csv") == Slurp(project / "data/table.csv"));
    CHECK(Slurp(out / "model.bin") == Slurp(project / "model.bin"));
    CHECK(::access((out / "flow.sh").c_str(), X_OK) == 0);
    CHECK_FALSE(fs::exists(out / ("deploy-" + storage + ".yaml")));

    // The same files again: nothing is uploaded.
    RunResult again =
        CliOk(env, {"deployment", "create", "deploy-" + storage + ".yaml"}, project.string());
    CHECK(Contains(again.out, "Updated deployment roundtrip/rt-" + storage));
    CHECK(Contains(again.out, "in storage " + storage + ", already stored"));
  }
  // Packing is deterministic: the three storages hold the same bundle.
  CHECK(digests.size() == 1);
  std::string hex = digests.begin()->substr(7);
  CHECK(fs::exists(local_root / "bundles" / (hex + ".tar.gz")));

  // A second deployment with identical files shares the stored bundle.
  WriteFile(project / "other.yaml",
            "name: other\nflow_name: roundtrip\nentrypoint: ./flow.sh\n"
            "include: [model.bin, data, flow.sh]\nstorage: db\n");
  RunResult other = CliOk(env, {"deployment", "create", "other.yaml"}, project.string());
  CHECK(Contains(other.out, "in storage db, already stored"));

  CHECK_FALSE(Contains(Transcript(), kSecret));
}

TEST_CASE(
    "deployment from YAML: schedule, upcoming runs, run with parameters, pause, "
    "backfill, delete",
    "[e2e][deployment]") {
  Server server(FreshDatabase("deploy_yaml"));
  Env env = server.ClientEnv();
  fs::path project = TempDir("project");
  MakeProject(project);
  CliOk(env, {"storage", "create", "local", "--name", "flows", "--path",
              TempDir("flows") + "/store", "--default"});
  WriteFile(project / "deploy.yaml", R"(# nightly ETL
name: nightly
flow_name: etl
description: Loads the day's trips
version: 1.0
entrypoint: [./flow.sh, --fast]
include:
  - flow.sh
  - data
schedule:
  cron: "0 3 * * *"
  timezone: Europe/Berlin
parameters:
  rows: 100
  mode: full
tags: [etl, nightly]
work_queue: etl
catchup:
  policy: none
)");
  RunResult created = CliOk(env, {"deployment", "create", "deploy.yaml"}, project.string());
  CHECK(Contains(created.out, "Created deployment etl/nightly"));
  CHECK(Contains(created.out, "2 files) in storage flows, uploaded"));
  CHECK(Contains(created.out, "cron 0 3 * * *"));

  json ds = Deployments(env);
  REQUIRE(ds.size() == 1);
  CHECK(ds[0]["spec"]["flow_name"] == "etl");
  CHECK(ds[0]["spec"]["name"] == "nightly");
  CHECK(ds[0]["spec"]["version"] == "1.0");
  CHECK(ds[0]["spec"]["work_queue"] == "etl");
  CHECK(json::parse(ds[0]["spec"]["parameters_json"].get<std::string>()) ==
        json({{"rows", 100}, {"mode", "full"}}));
  RunResult table = CliOk(env, {"deployment", "ls"});
  CHECK(Contains(table.out, "etl/nightly"));
  CHECK(Contains(table.out, "active"));

  // The scheduler materialises the next runs: 03:00 in Berlin is 01:00 or 02:00 UTC.
  json upcoming;
  bool scheduled = Eventually(
      [&] {
        upcoming = CliJson(env, {"deployment", "upcoming", "etl/nightly", "--limit", "5"});
        return upcoming["flow_runs"].size() >= 3;
      },
      20, 0.2);
  INFO(upcoming.dump(2));
  REQUIRE(scheduled);
  std::string previous;
  for (const auto& r : upcoming["flow_runs"]) {
    CHECK(r["state"]["type"] == "SCHEDULED");
    CHECK(r["auto_scheduled"] == true);
    CHECK(r["deployment_name"] == "etl/nightly");
    std::string t = r["state"]["scheduled_time"];  // RFC 3339, UTC
    CHECK((t.substr(11, 8) == "01:00:00" || t.substr(11, 8) == "02:00:00"));
    CHECK(t > previous);
    previous = t;
  }
  RunResult upcoming_table = CliOk(env, {"deployment", "upcoming", "etl/nightly"});
  CHECK(Contains(upcoming_table.out, "Scheduled"));
  CHECK(Contains(upcoming_table.out, "schedule"));

  // A manual run with parameters, in 10 minutes.
  json run = CliJson(env, {"deployment", "run", "etl/nightly", "--param", "rows=5", "--param",
                           "label=hello world", "--start-in", "10m", "--tag", "manual"});
  json fr = run["flow_run"];
  std::string run_id = fr["id"];
  CHECK(fr["state"]["type"] == "SCHEDULED");
  CHECK(fr["auto_scheduled"] == false);
  json params = json::parse(fr["parameters_json"].get<std::string>());
  CHECK(params["rows"] == 5);
  CHECK(params["label"] == "hello world");

  json scheduled_runs = CliJson(env, {"flow-run", "ls", "--state", "Scheduled", "--limit", "100"});
  bool found = false;
  for (const auto& r : scheduled_runs["flow_runs"]) {
    if (r["id"] != run_id) continue;
    found = true;
    CHECK(json::parse(r["parameters_json"].get<std::string>())["rows"] == 5);
  }
  CHECK(found);
  json by_deployment =
      CliJson(env, {"flow-run", "ls", "--deployment", "etl/nightly", "--limit", "100"});
  REQUIRE(by_deployment["flow_runs"].size() >= 4);
  for (const auto& r : by_deployment["flow_runs"]) CHECK(r["deployment_name"] == "etl/nightly");

  // The people's form prints the id and the scheduled time.
  RunResult at =
      CliOk(env, {"deployment", "run", "etl/nightly", "--start-at", "2031-03-04T05:06:07Z"});
  CHECK(Contains(at.out, "Created flow run"));
  CHECK(Contains(at.out, "2031-03-04 05:06:07"));
  RunResult bad_param = Cli(env, {"deployment", "run", "etl/nightly", "--param", "oops"});
  CHECK(bad_param.exit_code == 1);
  CHECK(Contains(bad_param.err, "--param: expected NAME=VALUE"));
  RunResult missing = Cli(env, {"deployment", "run", "etl/nope"});
  CHECK(missing.exit_code == 1);
  CHECK(Contains(missing.err, "error: "));

  // Re-creating updates it.
  RunResult updated = CliOk(env, {"deployment", "create", "deploy.yaml"}, project.string());
  CHECK(Contains(updated.out, "Updated deployment etl/nightly"));
  CHECK(Contains(updated.out, "already stored"));
  CHECK(Deployments(env).size() == 1);

  // Pause: the auto-scheduled future runs go, the manual ones stay.
  CliOk(env, {"deployment", "pause", "etl/nightly"});
  json paused = CliJson(env, {"deployment", "inspect", "etl/nightly"});
  CHECK(paused["paused"] == true);
  json after_pause = CliJson(env, {"deployment", "upcoming", "etl/nightly", "--limit", "50"});
  bool manual_kept = false;
  for (const auto& r : after_pause["flow_runs"]) {
    CHECK(r["auto_scheduled"] == false);
    if (r["id"] == run_id) manual_kept = true;
  }
  CHECK(manual_kept);
  CliOk(env, {"deployment", "resume", "etl/nightly"});
  CHECK(Eventually(
      [&] {
        json u = CliJson(env, {"deployment", "upcoming", "etl/nightly", "--limit", "50"});
        int autos = 0;
        for (const auto& r : u["flow_runs"]) autos += r["auto_scheduled"] == true;
        return autos >= 3;
      },
      20, 0.2));

  // Backfill two past days: 03:00 Berlin (winter) = 02:00 UTC.
  json bf = CliJson(env, {"deployment", "backfill", "etl/nightly", "--from", "2026-01-01T00:00:00Z",
                          "--to", "2026-01-03T00:00:00Z"});
  CHECK(bf["created"] == 2);
  RunResult bf_again = CliOk(env, {"deployment", "backfill", "etl/nightly", "--from",
                                   "2026-01-01T00:00:00Z", "--to", "2026-01-03T00:00:00Z"});
  CHECK(Contains(bf_again.out, "0 runs created, 2 already existed"));

  CliOk(env, {"deployment", "delete", "etl/nightly"});
  CHECK(Deployments(env).empty());
}

TEST_CASE("deployment from a flow program that describes its deployments", "[e2e][deployment]") {
  Server server(FreshDatabase("deploy_program"));
  Env env = server.ClientEnv();
  CliOk(env, {"storage", "create", "server", "--name", "db", "--default"});
  fs::path dir = TempDir("program");
  // Any executable can declare deployments: it prints their specs for --weft-describe.
  WriteFile(dir / "describe_flow", R"(#!/bin/sh
if [ "$1" = "--weft-describe" ]; then
  cat <<'JSON'
[
  {"name": "hourly", "flow_name": "reports", "entrypoint": ["./describe_flow"],
   "schedule": {"interval": 3600, "timezone": "UTC"},
   "parameters": {"region": "eu"}, "tags": ["reports"]},
  {"name": "on-demand", "flow_name": "reports", "entrypoint": ["./describe_flow", "--full"]}
]
JSON
  exit 0
fi
echo "report"
)",
            true);
  std::string program = (dir / "describe_flow").string();

  RunResult dry = CliOk(env, {"deployment", "create", program, "--dry-run"});
  CHECK(Contains(dry.out, "Dry run"));
  CHECK(Contains(dry.out, "reports/hourly"));
  CHECK(Deployments(env).empty());

  RunResult created = CliOk(env, {"deployment", "create", program});
  CHECK(Contains(created.out, "Created deployment reports/hourly"));
  CHECK(Contains(created.out, "Created deployment reports/on-demand"));
  CHECK(Contains(created.out, "1 file) in storage db, uploaded"));
  json ds = Deployments(env);
  REQUIRE(ds.size() == 2);
  // Both specs share the program's bundle.
  CHECK(ds[0]["spec"]["bundle"]["digest"] == ds[1]["spec"]["bundle"]["digest"]);

  // The bundle holds the program itself.
  json hourly = CliJson(env, {"deployment", "inspect", "reports/hourly"});
  fs::path out = fs::path(TempDir("fetch")) / "bundle";
  RunResult fetched =
      Run({BUNDLE_TOOL_BIN, "fetch", "db", hourly["spec"]["bundle"]["digest"], out.string()}, env);
  INFO(fetched.err);
  REQUIRE(fetched.exit_code == 0);
  CHECK(Slurp(out / "describe_flow") == Slurp(program));

  CHECK(Eventually(
      [&] {
        return CliJson(env, {"deployment", "upcoming", "reports/hourly"})["flow_runs"].size() >= 3;
      },
      20, 0.2));
  CHECK(CliJson(env, {"deployment", "upcoming", "reports/on-demand"})["flow_runs"].empty());

  // A program that fails to describe itself: its stderr is in the message.
  WriteFile(dir / "broken_flow", "#!/bin/sh\necho 'no flows declared' >&2\nexit 3\n", true);
  RunResult broken = Cli(env, {"deployment", "create", (dir / "broken_flow").string()});
  CHECK(broken.exit_code == 1);
  CHECK(Contains(broken.err, "--weft-describe exited with 3: no flows declared"));

  // The taxi example: its deploy.yaml (the build puts a copy beside the binary) and the
  // program's own declaration are the same deployment with the same bundle.
  fs::path taxi_yaml = fs::path(TAXI_TRAINING_BIN).parent_path() / "deploy.yaml";
  REQUIRE(fs::exists(taxi_yaml));
  RunResult from_yaml = CliOk(env, {"deployment", "create", taxi_yaml.string()});
  CHECK(Contains(from_yaml.out, "Created deployment taxi_training/weekly"));
  CHECK(Contains(from_yaml.out, "in storage server, uploaded"));
  CHECK(Contains(from_yaml.out, "cron 0 6 * * 1 (Europe/Berlin)"));
  RunResult from_program = CliOk(env, {"deployment", "create", TAXI_TRAINING_BIN});
  CHECK(Contains(from_program.out, "Updated deployment taxi_training/weekly"));
  CHECK(Contains(from_program.out, "in storage server, already stored"));
  CHECK(Deployments(env).size() == 3);
  // Mondays 06:00 in Berlin: 05:00 UTC in winter, 04:00 UTC in summer.
  json taxi_runs;
  REQUIRE(Eventually(
      [&] {
        taxi_runs = CliJson(env, {"deployment", "upcoming", "taxi_training/weekly"});
        return taxi_runs["flow_runs"].size() >= 3;
      },
      20, 0.2));
  for (const auto& r : taxi_runs["flow_runs"]) {
    std::string t = r["state"]["scheduled_time"];
    CHECK((t.substr(11, 8) == "05:00:00" || t.substr(11, 8) == "04:00:00"));
  }
}

TEST_CASE("bad deployment specs fail with their messages and create nothing", "[e2e][deployment]") {
  Server server(FreshDatabase("deploy_bad"));
  Env env = server.ClientEnv();
  fs::path project = TempDir("project");
  MakeProject(project);
  fs::path store = fs::path(TempDir("flows")) / "store";
  CliOk(env,
        {"storage", "create", "local", "--name", "flows", "--path", store.string(), "--default"});
  const std::string good =
      "name: good\nflow_name: etl\nentrypoint: ./flow.sh\ninclude: [flow.sh]\n"
      "schedule: {interval: 1h}\n";
  WriteFile(project / "deploy.yaml", good);
  CliOk(env, {"deployment", "create", "deploy.yaml"}, project.string());
  REQUIRE(Deployments(env).size() == 1);
  auto bundles_in_store = [&] {
    return std::distance(fs::directory_iterator(store / "bundles"), fs::directory_iterator{});
  };
  REQUIRE(bundles_in_store() == 1);

  struct Case {
    const char* what;
    std::string yaml;
    std::string message;
  };
  const std::string head = "name: bad\nflow_name: etl\nentrypoint: ./flow.sh\n";
  std::vector<Case> cases = {
      {"misspelt field", head + "include: [model.bin]\nshedule: {cron: '0 9 * * *'}\n",
       "deploy.yaml: unknown field \"shedule\""},
      {"bad cron field", head + "include: [model.bin]\nschedule: {cron: '0 9 * * 8'}\n",
       "deploy.yaml: schedule.cron: field 5"},
      {"unknown time zone",
       head + "include: [model.bin]\nschedule: {cron: '0 9 * * 1', timezone: Mars/Olympus}\n",
       "unknown time zone \"Mars/Olympus\""},
      {"missing include file", head + "include: [model.bin, data/x.csv]\n",
       "deploy.yaml: include: file \"data/x.csv\" not found"},
      {"unknown storage", head + "include: [model.bin]\nstorage: nope\n",
       "deploy.yaml: storage: unknown storage \"nope\""},
      {"the second of two specs is bad",
       "deployments:\n  - " +
           std::string("name: first\n    flow_name: etl\n    entrypoint: ./flow.sh\n"
                       "    include: [model.bin]\n") +
           "  - name: second\n    flow_name: etl\n    entrypoint: ./flow.sh\n"
           "    include: [model.bin]\n    schedule: {interval: 0}\n",
       "deploy.yaml: deployments[1]: "},
      {"not YAML", "name: [unclosed\n", "deploy.yaml: line "},
  };
  for (const auto& c : cases) {
    {
      INFO("case: " << c.what);
      WriteFile(project / "deploy.yaml", c.yaml);
      RunResult r = Cli(env, {"deployment", "create", "deploy.yaml"}, project.string());
      INFO(Describe({"deployment", "create", "deploy.yaml"}, r));
      CHECK(r.exit_code == 1);
      CHECK(Contains(r.err, "error: deploy.yaml: "));
      CHECK(Contains(r.err, c.message));
      json ds = Deployments(env);
      REQUIRE(ds.size() == 1);
      CHECK(ds[0]["spec"]["name"] == "good");
      CHECK(bundles_in_store() == 1);  // nothing was uploaded either
    }
  }
  // Over the bundle size limit: both sizes in the message, nothing created or stored.
  WriteFile(project / "deploy.yaml",
            "name: big\nflow_name: etl\nentrypoint: ./flow.sh\n"
            "include: [model.bin]\n");
  Env small = env;
  small["WEFT_MAX_BUNDLE_SIZE"] = "1MiB";
  RunResult too_big = Cli(small, {"deployment", "create", "deploy.yaml"}, project.string());
  INFO(too_big.err);
  CHECK(too_big.exit_code == 1);
  CHECK(Contains(too_big.err, "error: deploy.yaml: bundle is "));
  CHECK(Contains(too_big.err, "over the limit of 1.0 MiB (1048576 bytes)"));
  CHECK(Deployments(env).size() == 1);
  CHECK(bundles_in_store() == 1);

  RunResult no_file = Cli(env, {"deployment", "create", "missing.yaml"}, project.string());
  CHECK(no_file.exit_code == 1);
  CHECK(Contains(no_file.err, "missing.yaml: no such file"));
}

TEST_CASE("storage: inspect and delete, delete refused while used, secrets never printed",
          "[e2e][storage]") {
  Server server(FreshDatabase("storage_admin"));
  S3Server s3;
  Env env = WithS3(server.ClientEnv());
  fs::path project = TempDir("project");
  MakeProject(project);

  RunResult created =
      CliOk(env, {"storage", "create", "s3", "--name", "bucket", "--endpoint", s3.endpoint(),
                  "--bucket", "weft", "--region", "eu-west-1", "--default"});
  CHECK(Contains(created.out, "Created storage bucket (s3"));
  CliOk(env, {"storage", "create", "local", "--name", "spare", "--path", TempDir("spare") + "/s"});
  RunResult twice = Cli(env, {"storage", "create", "server", "--name", "spare"});
  CHECK(twice.exit_code == 1);
  CHECK(Contains(twice.err, "spare"));
  RunResult bad_endpoint = Cli(env, {"storage", "create", "s3", "--name", "x", "--endpoint",
                                     "ftp://127.0.0.1", "--bucket", "b"});
  CHECK(bad_endpoint.exit_code == 1);
  CHECK(Contains(bad_endpoint.err, "--endpoint: \"ftp://127.0.0.1\" must start with http://"));
  RunResult usage = Cli(env, {"storage", "create", "local", "--name", "nopath"});
  CHECK(usage.exit_code == 2);
  CHECK(Contains(usage.err, "--path"));
  RunResult ls = CliOk(env, {"storage", "ls"});
  CHECK(Contains(ls.out, "bucket"));
  CHECK(Contains(ls.out, "spare"));
  json inspect = CliJson(env, {"storage", "inspect", "bucket"});
  CHECK(inspect["kind"] == "s3");
  CHECK(inspect["is_default"] == true);
  CHECK(inspect["config"]["bucket"] == "weft");
  CHECK(inspect["config"]["endpoint"] == s3.endpoint());
  CHECK(inspect["config"]["region"] == "eu-west-1");
  CHECK(inspect["used_by"].empty());

  WriteFile(project / "deploy.yaml",
            "name: train\nflow_name: taxi\nentrypoint: ./flow.sh\ninclude: [flow.sh, data]\n");
  RunResult deployed = CliOk(env, {"deployment", "create", "deploy.yaml"}, project.string());
  CHECK(Contains(deployed.out, "in storage bucket, uploaded"));

  json used = CliJson(env, {"storage", "inspect", "bucket"});
  REQUIRE(used["used_by"].size() == 1);
  CHECK(used["used_by"][0] == "taxi/train");
  RunResult inspect_table = CliOk(env, {"storage", "inspect", "bucket"});
  CHECK(Contains(inspect_table.out, "taxi/train"));

  RunResult refused = Cli(env, {"storage", "delete", "bucket"});
  CHECK(refused.exit_code == 1);
  CHECK(Contains(refused.err, "taxi/train"));

  // A wrong secret: S3 refuses the signature; the message says so and shows no secret.
  Env wrong = env;
  wrong["AWS_SECRET_ACCESS_KEY"] = "weft-e2e-wrong-secret-93b1";
  WriteFile(project / "more.yaml",
            "name: more\nflow_name: taxi\nentrypoint: ./flow.sh\ninclude: [flow.sh, model.bin]\n");
  RunResult denied = Cli(wrong, {"deployment", "create", "more.yaml"}, project.string());
  CHECK(denied.exit_code == 1);
  CHECK(Contains(denied.err, "HTTP 403"));
  CHECK_FALSE(Contains(denied.out + denied.err, "weft-e2e-wrong-secret-93b1"));
  Env none = env;
  none["AWS_ACCESS_KEY_ID"] = "<unset>";
  none["AWS_SECRET_ACCESS_KEY"] = "<unset>";
  RunResult no_creds = Cli(none, {"deployment", "create", "more.yaml"}, project.string());
  CHECK(no_creds.exit_code == 1);
  CHECK(Contains(no_creds.err, "AWS_ACCESS_KEY_ID"));
  CHECK(CliJson(env, {"deployment", "ls"})["deployments"].size() == 1);

  CliOk(env, {"storage", "set-default", "spare"});
  CHECK(CliJson(env, {"storage", "inspect", "spare"})["is_default"] == true);
  CliOk(env, {"deployment", "delete", "taxi/train"});
  CliOk(env, {"storage", "delete", "bucket"});
  std::set<std::string> left;
  json all = CliJson(env, {"storage", "ls"});
  for (const auto& st : all["storages"]) left.insert(st["name"]);
  CHECK(left == std::set<std::string>{"server", "spare"});  // "server" is built in

  CHECK_FALSE(Contains(Transcript(), kSecret));
}
