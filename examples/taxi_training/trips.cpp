#include "examples/taxi_training/trips.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>
#include <stdexcept>

namespace taxi {

namespace {

// splitmix64: tiny, fast and identical everywhere (std:: distributions are not).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  int Int(int lo, int hi) {
    return lo + static_cast<int>(Next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  double Normal() {  // Box-Muller
    double u1 = std::max(Uniform(), 1e-12);
    double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  std::uint64_t state_;
};

// Busy hours are slower per mile.
double CongestionFactor(int hour) {
  if ((hour >= 7 && hour <= 9) || (hour >= 16 && hour <= 19)) return 1.6;
  if (hour >= 22 || hour <= 5) return 0.8;
  return 1.0;
}

int PickHour(Rng& rng) {
  // More trips in the day than at night.
  for (;;) {
    int h = rng.Int(0, 23);
    double weight = (h >= 7 && h <= 22) ? 1.0 : 0.35;
    if (rng.Uniform() < weight) return h;
  }
}

}  // namespace

std::vector<Trip> SyntheticTrips(int month, std::int64_t count) {
  Rng rng(0x7A31ULL * 1000003ULL + static_cast<std::uint64_t>(month) * 7919ULL);
  std::vector<Trip> trips;
  trips.reserve(static_cast<size_t>(std::max<std::int64_t>(count, 0)));
  double seasonal =
      1.0 + 0.05 * std::sin(2.0 * std::numbers::pi * (month - 1) / 12.0);  // winter is slower
  for (std::int64_t i = 0; i < count; ++i) {
    Trip t;
    t.month = month;
    t.pickup_zone = rng.Int(1, 263);
    bool same_area = rng.Uniform() < 0.3;
    t.dropoff_zone =
        same_area ? std::clamp(t.pickup_zone + rng.Int(-3, 3), 1, 263) : rng.Int(1, 263);
    t.distance_miles = std::clamp(std::exp(0.8 + 0.75 * rng.Normal()), 0.1, 40.0);
    t.pickup_hour = PickHour(rng);
    double p = rng.Uniform();
    t.passengers = p < 0.7 ? 1 : p < 0.85 ? 2 : p < 0.92 ? 3 : rng.Int(4, 6);
    double minutes_per_mile = 2.4 * CongestionFactor(t.pickup_hour) * seasonal;
    double zone_delay = (t.pickup_zone % 11 == 0) ? 4.0 : 0.0;  // a few slow pickup zones
    double d = 3.0 + t.distance_miles * minutes_per_mile + 0.35 * t.passengers + zone_delay +
               2.5 * rng.Normal();
    t.duration_minutes = std::max(1.0, d);
    trips.push_back(t);
  }
  return trips;
}

std::vector<Trip> ReadTripsCsv(const std::string& path, int month) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("csv \"" + path + "\": cannot open the file");
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error("csv \"" + path + "\": the file is empty");
  auto split = [](const std::string& text) {
    std::vector<std::string> cells;
    std::stringstream ss(text);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
      while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
      while (!cell.empty() && cell.front() == ' ') cell.erase(cell.begin());
      cells.push_back(cell);
    }
    return cells;
  };
  const std::vector<std::string> wanted = {"month",           "pickup_zone", "dropoff_zone",
                                           "trip_distance",   "pickup_hour", "passenger_count",
                                           "duration_minutes"};
  std::vector<std::string> header = split(line);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  for (const auto& w : wanted) {
    if (!col.count(w))
      throw std::runtime_error("csv \"" + path + "\": missing column \"" + w + "\"");
  }
  std::vector<Trip> trips;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    std::vector<std::string> cells = split(line);
    auto number = [&](const std::string& name) {
      size_t i = col[name];
      if (i >= cells.size()) {
        throw std::runtime_error("csv \"" + path + "\" line " + std::to_string(line_no) +
                                 ": missing value for \"" + name + "\"");
      }
      char* end = nullptr;
      double v = std::strtod(cells[i].c_str(), &end);
      if (cells[i].empty() || *end != '\0' || !std::isfinite(v)) {
        throw std::runtime_error("csv \"" + path + "\" line " + std::to_string(line_no) + ": \"" +
                                 name + "\" is not a number: \"" + cells[i] + "\"");
      }
      return v;
    };
    Trip t;
    t.month = static_cast<int>(number("month"));
    if (t.month != month) continue;
    t.pickup_zone = static_cast<int>(number("pickup_zone"));
    t.dropoff_zone = static_cast<int>(number("dropoff_zone"));
    t.distance_miles = number("trip_distance");
    t.pickup_hour = static_cast<int>(number("pickup_hour"));
    t.passengers = static_cast<int>(number("passenger_count"));
    t.duration_minutes = number("duration_minutes");
    trips.push_back(t);
  }
  return trips;
}

}  // namespace taxi
