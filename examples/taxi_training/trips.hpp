#pragma once
// NYC-taxi-like trips: a deterministic synthetic generator and a CSV reader.
#include <cstdint>
#include <string>
#include <vector>

namespace taxi {

struct Trip {
  int month = 1;        // 1-12
  int pickup_zone = 1;  // 1-263, like the TLC taxi zones
  int dropoff_zone = 1;
  double distance_miles = 0;
  int pickup_hour = 0;  // 0-23
  int passengers = 1;   // 1-6
  double duration_minutes = 0;
};

// `count` trips of `month`, the same for the same (month, count) on every machine.
std::vector<Trip> SyntheticTrips(int month, std::int64_t count);

// Reads a CSV with the header
//   month,pickup_zone,dropoff_zone,trip_distance,pickup_hour,passenger_count,duration_minutes
// (columns in any order) and keeps the rows of `month`. Throws std::runtime_error naming the
// file, line and column on bad input.
std::vector<Trip> ReadTripsCsv(const std::string& path, int month);

}  // namespace taxi
