// taxi_training: the tutorial pipeline in C++. Reads NYC-taxi-like trips (synthetic and
// deterministic, or a CSV), builds features, fits a linear regression for trip duration on
// the training months, reports RMSE on the validation month and saves the coefficients.
//   ./taxi_training --param months=2 --param val_month=3 --param model_path=/tmp/model.txt
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "examples/taxi_training/model.hpp"
#include "examples/taxi_training/trips.hpp"
#include "sdk/flow/weft.hpp"

namespace {

// Reading is the step that meets the outside world (a file share, a bucket): retry it.
auto read_trips = weft::task(
    "read_trips",
    [](weft::TaskContext& ctx, int month, std::int64_t count, const std::string& csv) {
      std::vector<taxi::Trip> trips =
          csv.empty() ? taxi::SyntheticTrips(month, count) : taxi::ReadTripsCsv(csv, month);
      ctx.logger().info("read {} trips for month {} from {}", trips.size(), month,
                        csv.empty() ? "the synthetic generator" : csv);
      return trips;
    },
    weft::TaskOptions{.retries = 3, .retry_delays = weft::RetryDelays::Exponential(0.5, 0.2)});

auto add_features =
    weft::task("add_features", [](weft::TaskContext& ctx, const std::vector<taxi::Trip>& trips) {
      taxi::Dataset d = taxi::AddFeatures(trips);
      ctx.logger().info("{} rows x {} features ({} implausible trips dropped)", d.rows(), d.cols(),
                        trips.size() - d.rows());
      return d;
    });

auto train = weft::task("train", [](weft::TaskContext& ctx, const taxi::Dataset& data) {
  taxi::Model m = taxi::Fit(data);
  for (size_t i = 0; i < m.coefficients.size(); ++i) {
    ctx.logger().debug("coefficient {} = {:.4f}", m.feature_names[i], m.coefficients[i]);
  }
  ctx.logger().info("fitted {} coefficients on {} trips", m.coefficients.size(), data.rows());
  return m;
});

auto evaluate =
    weft::task("evaluate", [](weft::TaskContext& ctx, const taxi::Model& model,
                              const taxi::Dataset& train_set, const taxi::Dataset& validation) {
      double rmse = taxi::Rmse(model, validation);
      double baseline = taxi::BaselineRmse(train_set, validation);
      ctx.logger().info("validation RMSE {:.3f} minutes (predicting the mean: {:.3f}) on {} trips",
                        rmse, baseline, validation.rows());
      return rmse;
    });

auto save_model = weft::task("save_model", [](weft::TaskContext& ctx, const taxi::Model& model,
                                              const std::string& path, double rmse) {
  std::filesystem::path target = std::filesystem::absolute(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  std::ofstream out(target);
  if (!out) throw std::runtime_error("model_path \"" + target.string() + "\": cannot write");
  out << "# taxi trip duration model (linear regression), validation RMSE " << rmse << "\n";
  for (size_t i = 0; i < model.coefficients.size(); ++i) {
    out << model.feature_names[i] << " " << model.coefficients[i] << "\n";
  }
  out.close();
  if (!out) throw std::runtime_error("model_path \"" + target.string() + "\": write failed");
  ctx.logger().info("saved the model to {}", target.string());
  return target.string();
});

auto taxi_training = weft::flow(
    "taxi_training",
    [](weft::FlowContext& ctx) {
      const auto& p = ctx.params();
      int months = static_cast<int>(p.Int("months"));
      int val_month = static_cast<int>(p.Int("val_month"));
      std::int64_t per_month = p.Int("trips_per_month");
      std::string csv = p.StringOr("csv", "");

      // Train on the `months` months before the validation month (wrapping into last year).
      std::vector<taxi::Trip> training;
      for (int back = months; back >= 1; --back) {
        int month = (val_month - back - 1 + 12) % 12 + 1;
        auto trips = read_trips(month, per_month, csv);
        training.insert(training.end(), trips.begin(), trips.end());
      }
      auto validation = read_trips(val_month, per_month, csv);

      auto train_set = add_features(training);
      auto validation_set = add_features(validation);
      auto model = train(train_set);
      double rmse = evaluate(model, train_set, validation_set);
      save_model(model, p.String("model_path"), rmse);
    },
    weft::FlowOptions{
        .description = "train a trip-duration model on NYC-taxi-like data",
        .params =
            {
                weft::Param::Int("months").Default(2).Range(1, 11).Describe(
                    "training months (those before val_month)"),
                weft::Param::Int("val_month").Default(3).Range(1, 12).Describe("validation month"),
                weft::Param::Int("trips_per_month")
                    .Default(20000)
                    .Range(10, 10000000)
                    .Describe("synthetic trips per month"),
                weft::Param::String("csv").Optional().Describe(
                    "read trips from this CSV instead of generating them"),
                weft::Param::String("model_path")
                    .Default("model.txt")
                    .Describe("where to write the coefficients"),
            },
        .tags = {"ml", "example"},
    });

// The deployment that deploy.yaml (next to this file) also declares: retrain every Monday
// at 06:00 Berlin time on the agents of work queue "ml", code kept in the server's storage.
// `weft deployment create build/release/examples/taxi_training/taxi_training` reads it through
// `--weft-describe`; both ways create the same deployment "taxi_training/weekly".
const std::vector<weft::Deployment> deployments = {
    weft::Deployment{
        .name = "weekly",
        .description = "retrain the trip-duration model every Monday morning",
        .version = "1",
        .schedule = weft::Cron("0 6 * * 1", "Europe/Berlin"),
        .parameters = {{"months", 2},
                       {"val_month", 3},
                       {"model_path", "/tmp/weft/taxi_training/model.txt"}},
        .tags = {"ml"},
        .work_queue = "ml",
        .storage = "server",
        .catchup = {.policy = weft::CatchupPolicy::kLatest, .max_lateness_seconds = 6 * 3600},
    },
};

}  // namespace

int main(int argc, char** argv) { return weft::Main(argc, argv, taxi_training, deployments); }
