// submit_run: submits a run of a deployment from C++ (weft::Client) and follows it.
//   submit_run --param months=3 --param val_month=4
//   submit_run --deployment taxi_training/weekly --start-in 10m --tag adhoc --wait 60
// Prints the run's id, name, scheduled time and state. With --wait N it polls the run until
// it ends or N seconds pass; until an agent serves the deployment's work queue the run stays
// Scheduled, and that is what it says.
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "sdk/flow/client.hpp"

namespace {

const char* kUsage =
    "usage: submit_run [--deployment FLOW/NAME] [--param NAME=VALUE]... [--tag TAG]...\n"
    "                  [--start-in DURATION | --start-at TIME] [--idempotency-key KEY]\n"
    "                  [--wait SECONDS]\n"
    "\n"
    "Submits a run of a deployment (default taxi_training/weekly) with these parameters on\n"
    "top of the deployment's, prints its id and state, and with --wait follows it.\n"
    "The server is WEFT_API_URL (default 127.0.0.1:4201), the key WEFT_API_KEY.\n"
    "Exit: 0 submitted (and, with --wait, Completed or still waiting), 1 an error or the run\n"
    "ended Failed/Crashed/Cancelled, 2 a usage error.\n";

struct Args {
  std::string deployment = "taxi_training/weekly";
  weft::ParamMap params;
  weft::RunDeploymentOptions options;
  std::optional<double> wait_seconds;
};

int Usage(const std::string& problem) {
  std::cerr << "error: " << problem << "\n\n" << kUsage;
  return 2;
}

// A --param value as the JSON scalar it reads as (3, 2.5, true), else as text. Either way the
// server checks it against the flow's declared type (text is parsed like a flow's --param).
weft::ParamArg ParamValue(const std::string& text) {
  if (text == "true" || text == "false") return weft::ParamArg(text == "true");
  std::int64_t i = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (ec == std::errc() && end == text.data() + text.size()) return weft::ParamArg(i);
  double d = 0;
  auto [dend, dec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (dec == std::errc() && dend == text.data() + text.size() && std::isfinite(d)) {
    return weft::ParamArg(d);
  }
  return weft::ParamArg(text);
}

std::string When(const std::optional<weft::core::TimePoint>& t) {
  return t ? weft::core::FormatTime(*t) : std::string("-");
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  std::vector<std::string> argl(argv + 1, argv + argc);
  for (std::size_t i = 0; i < argl.size(); ++i) {
    const std::string& a = argl[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argl.size()) return Usage(a + ": expected a value");
    const std::string& v = argl[++i];
    if (a == "--deployment" || a == "-d") {
      args.deployment = v;
    } else if (a == "--param" || a == "-p") {
      auto kv = weft::core::SplitAssignment(v);
      if (!kv) return Usage(kv.error().message);
      args.params.insert_or_assign(kv->first, ParamValue(kv->second));
    } else if (a == "--tag") {
      args.options.tags.push_back(v);
    } else if (a == "--start-in") {
      auto seconds = weft::core::ParseDurationSeconds(v);
      if (!seconds) return Usage("--start-in: expected a duration like 10m or 90s, got \"" + v + "\"");
      args.options.start_in = std::chrono::duration<double>(*seconds);
    } else if (a == "--start-at") {
      auto t = weft::core::ParseTime(v);
      if (!t) return Usage("--start-at: expected an RFC 3339 time, got \"" + v + "\"");
      args.options.start_at = *t;
    } else if (a == "--idempotency-key") {
      args.options.idempotency_key = v;
    } else if (a == "--wait") {
      auto seconds = weft::core::ParseDurationSeconds(v);
      if (!seconds) return Usage("--wait: expected seconds (or 2m, 1h), got \"" + v + "\"");
      args.wait_seconds = *seconds;
    } else {
      return Usage("unknown argument \"" + a + "\"");
    }
  }

  try {
    weft::Client client;
    weft::FlowRunHandle run = client.RunDeployment(args.deployment, args.params, args.options);
    weft::FlowRunInfo info = run.Get();
    std::cout << (run.created() ? "submitted" : "already submitted (same idempotency key)")
              << " flow run " << info.id << " (" << info.name << ") of deployment "
              << args.deployment << "\n"
              << "  parameters: " << info.parameters_json << "\n"
              << "  scheduled:  " << When(info.expected_start_time) << "\n"
              << "  work queue: " << info.work_queue << "\n"
              << "  state:      " << info.state.name << "\n";
    if (!args.wait_seconds) return 0;

    std::cout << "waiting up to " << *args.wait_seconds << " s for it to finish..." << std::endl;
    weft::core::State state = run.Wait(std::chrono::duration<double>(*args.wait_seconds));
    if (!state.IsTerminal()) {
      std::cout << "still " << state.name << " after " << *args.wait_seconds << " s";
      if (state.type == weft::core::StateType::kScheduled) {
        std::cout << ": no agent has picked it up yet (an agent serving work queue \""
                  << info.work_queue << "\" runs it)";
      }
      std::cout << "\n";
      return 0;
    }
    std::cout << "finished in state " << state.name;
    if (!state.message.empty()) std::cout << ": " << state.message;
    std::cout << "\n";
    return state.type == weft::core::StateType::kCompleted ? 0 : 1;
  } catch (const weft::ApiError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
