#include "agent/settings.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace weft::agent;

namespace {
auto EnvOf(std::map<std::string, std::string> m) {
  return [m = std::move(m)](const char* name) -> const char* {
    auto it = m.find(name);
    return it == m.end() ? nullptr : it->second.c_str();
  };
}
}  // namespace

TEST_CASE("agent settings: defaults live under WEFT_HOME", "[agent][settings]") {
  std::vector<std::string> problems;
  Settings s = SettingsFromEnvironment(EnvOf({{"WEFT_HOME", "/srv/weft"}}), problems);
  CHECK(problems.empty());
  CHECK(s.limit == 0);
  CHECK(s.poll_interval == 5);
  CHECK(s.prefetch == 10);
  CHECK(s.long_poll);
  CHECK(s.kill_grace == 10);
  CHECK(s.cache_size == (1LL << 30));
  CHECK(s.WorkDir() == "/srv/weft/agent/runs");
  CHECK(s.CacheDir() == "/srv/weft/agent/bundles");
  s.work_dir = "/tmp/runs";
  CHECK(s.WorkDir() == "/tmp/runs");
}

TEST_CASE("agent settings: HOME gives ~/.weft when WEFT_HOME is unset", "[agent][settings]") {
  CHECK(DefaultHome(EnvOf({{"HOME", "/home/ann"}})) == "/home/ann/.weft");
}

TEST_CASE("agent settings: the environment is read", "[agent][settings]") {
  std::vector<std::string> problems;
  Settings s = SettingsFromEnvironment(EnvOf({{"WEFT_AGENT_WORK_QUEUES", "etl, ml"},
                                              {"WEFT_AGENT_LIMIT", "4"},
                                              {"WEFT_AGENT_POLL_INTERVAL", "250ms"},
                                              {"WEFT_AGENT_LONG_POLL", "false"},
                                              {"WEFT_AGENT_CACHE_SIZE", "500MiB"},
                                              {"WEFT_AGENT_KILL_GRACE", "2s"},
                                              {"WEFT_LOG_LEVEL", "debug"},
                                              {"WEFT_AGENT_NAME", "worker-1"}}),
                                       problems);
  CHECK(problems.empty());
  CHECK(s.work_queues == std::vector<std::string>{"etl", "ml"});
  CHECK(s.limit == 4);
  CHECK(s.poll_interval == Approx(0.25));
  CHECK_FALSE(s.long_poll);
  CHECK(s.cache_size == 500LL * 1024 * 1024);
  CHECK(s.kill_grace == 2);
  CHECK(s.log_level == "debug");
  CHECK(s.name == "worker-1");
  CHECK(Validate(s).empty());
}

TEST_CASE("agent settings: bad environment values name the variable", "[agent][settings]") {
  std::vector<std::string> problems;
  SettingsFromEnvironment(EnvOf({{"WEFT_AGENT_LIMIT", "many"},
                                 {"WEFT_AGENT_PREFETCH", "soon"},
                                 {"WEFT_AGENT_CACHE_SIZE", "big"}}),
                          problems);
  REQUIRE(problems.size() == 3);
  CHECK(problems[0] == "WEFT_AGENT_LIMIT: \"many\" is not a whole number");
  CHECK(problems[1].rfind("WEFT_AGENT_PREFETCH: \"soon\" is not a duration", 0) == 0);
  CHECK(problems[2].rfind("WEFT_AGENT_CACHE_SIZE: \"big\" is not a size", 0) == 0);
}

TEST_CASE("agent settings: flag values are parsed and named", "[agent][settings]") {
  Settings s;
  CHECK_FALSE(ApplySetting(s, "limit", "3", "--limit"));
  CHECK(s.limit == 3);
  CHECK_FALSE(ApplySetting(s, "work-queue", "a", "--work-queue"));
  CHECK_FALSE(ApplySetting(s, "work-queue", "b", "--work-queue"));
  CHECK(s.work_queues == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(ApplySetting(s, "no-long-poll", "", "--no-long-poll"));
  CHECK_FALSE(s.long_poll);
  CHECK(*ApplySetting(s, "limit", "2x", "--limit") == "--limit: \"2x\" is not a whole number");
  CHECK(ApplySetting(s, "poll-interval", "fast", "--poll-interval")
            ->rfind("--poll-interval: \"fast\"", 0) == 0);
  CHECK(ApplySetting(s, "kill-grace", "", "--kill-grace").has_value());
}

TEST_CASE("agent settings: Validate reports every problem at once", "[agent][settings]") {
  Settings s;
  s.home = "/h";
  s.limit = -1;
  s.poll_interval = 0;
  s.prefetch = -1;
  s.kill_grace = -1;
  s.cache_size = 0;
  s.log_level = "loud";
  auto p = Validate(s);
  REQUIRE(p.size() == 7);
  CHECK(p[0] == "--work-queue: at least one work queue is required (-q NAME)");
  CHECK(p[1] == "--limit: must be >= 0 (0 = unbounded), got -1");
  CHECK(p[2].rfind("--poll-interval: must be > 0", 0) == 0);
  CHECK(p[3] == "--prefetch: must be between 0 and 1h");
  CHECK(p[4] == "--kill-grace: must be >= 0");
  CHECK(p[5] == "--cache-size: must be at least 1 byte");
  CHECK(p[6].rfind("--log-level: \"loud\"", 0) == 0);
  CHECK(Validate(s, /*require_queues=*/false).size() == 6);
}

TEST_CASE("agent settings: byte sizes", "[agent][settings]") {
  CHECK(ParseByteSize("1024") == 1024);
  CHECK(ParseByteSize("1GiB") == (1LL << 30));
  CHECK(ParseByteSize("1.5KiB") == 1536);
  CHECK(ParseByteSize("10 MB") == 10000000);
  CHECK(ParseByteSize("2G") == 2LL * (1LL << 30));
  CHECK_FALSE(ParseByteSize(""));
  CHECK_FALSE(ParseByteSize("-1"));
  CHECK_FALSE(ParseByteSize("12 parsecs"));
  CHECK_FALSE(ParseByteSize("GiB"));
}

TEST_CASE("agent settings: --pass-env and WEFT_AGENT_PASS_ENV", "[agent][settings]") {
  std::vector<std::string> problems;
  Settings s = SettingsFromEnvironment(
      EnvOf({{"WEFT_AGENT_PASS_ENV", "AWS_PROFILE, CUDA_VISIBLE_DEVICES,,AWS_PROFILE"},
             {"WEFT_AGENT_DOCKER_NETWORK", "weft-flows"}}),
      problems);
  CHECK(problems.empty());
  CHECK(s.pass_env == std::vector<std::string>{"AWS_PROFILE", "CUDA_VISIBLE_DEVICES"});
  CHECK(s.docker_network == "weft-flows");
  Settings d;
  CHECK(d.pass_env.empty());
  CHECK(d.docker_network.empty());  // the engine's default network, never host by default
  CHECK_FALSE(ApplySetting(d, "pass-env", "HF_TOKEN", "--pass-env"));
  CHECK_FALSE(ApplySetting(d, "pass-env", "_X1", "--pass-env"));
  CHECK(d.pass_env == std::vector<std::string>{"HF_TOKEN", "_X1"});
  CHECK(*ApplySetting(d, "pass-env", "1X", "--pass-env") ==
        "--pass-env: \"1X\" is not an environment variable name (letters, digits, '_', not "
        "starting with a digit)");
  CHECK(ApplySetting(d, "pass-env", "A=B", "--pass-env").has_value());
  SettingsFromEnvironment(EnvOf({{"WEFT_AGENT_PASS_ENV", "OK,BAD-NAME"},
                                 {"WEFT_AGENT_DOCKER_NETWORK", "--privileged"}}),
                          problems);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].rfind("WEFT_AGENT_PASS_ENV: \"BAD-NAME\" is not an environment variable", 0) ==
        0);
  CHECK(problems[1].rfind("WEFT_AGENT_DOCKER_NETWORK: \"--privileged\" is not a docker network",
                          0) == 0);
}
