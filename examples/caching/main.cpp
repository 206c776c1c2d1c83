// caching: a slow task whose result the server keeps, keyed by the task's inputs
// (docs/caching.md). Run it twice against a server: the second run's `summarize` task run
// ends Cached at once and the flow prints the same summary without recomputing it.
//
//   ./caching --param day=2026-11-26          # takes ~2 s: summarize runs
//   ./caching --param day=2026-11-26          # instant: summarize-0 is Cached
//   ./caching --param day=2026-11-27          # another day, another key: it runs
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "sdk/flow/json.hpp"  // results and cache-key inputs convert through nlohmann::json

namespace {

// A user type as a result: it needs to_json/from_json, here declared by the macro.
struct DaySummary {
  std::string day;
  int trips = 0;
  std::map<std::string, double> fare_by_zone;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DaySummary, day, trips, fare_by_zone)

auto summarize = weft::task(
    "summarize",
    [](const std::string& day) {
      weft::log::info("computing the summary of {} (slow)", day);
      std::this_thread::sleep_for(std::chrono::seconds(2));
      DaySummary s;
      s.day = day;
      s.trips = static_cast<int>(day.size()) * 1000;
      s.fare_by_zone = {{"north", 12.5}, {"south", 9.75}};
      return s;
    },
    weft::TaskOptions{
        .retries = 1,
        // The key: a hash of the task's name and its arguments (here, the day).
        .cache_key_fn = weft::task_input_hash,
        // A stored summary serves later runs for a day; then the task runs again.
        .cache_expiration_seconds = 24 * 3600,
    });

auto report = weft::flow(
    "daily_report",
    [](weft::FlowContext& ctx) {
      DaySummary s = summarize(ctx.params().String("day"));
      ctx.logger().info("{}: {} trips, north {:.2f}, south {:.2f}", s.day, s.trips,
                        s.fare_by_zone["north"], s.fare_by_zone["south"]);
    },
    weft::FlowOptions{
        .description = "a daily summary cached per day",
        .params = {weft::Param::String("day").Default("2026-11-26")},
    });

}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, report); }
