#pragma once
// Features and a linear regression (least squares through the normal equations).
#include <string>
#include <vector>

#include "examples/taxi_training/trips.hpp"

namespace taxi {

struct Dataset {
  std::vector<std::string> feature_names;
  std::vector<double> x;  // row-major, rows() x cols()
  std::vector<double> y;  // duration in minutes
  size_t cols() const { return feature_names.size(); }
  size_t rows() const { return y.size(); }
};

// Drops implausible trips (no distance, over 3 hours) and builds the feature rows.
Dataset AddFeatures(const std::vector<Trip>& trips);

struct Model {
  std::vector<std::string> feature_names;
  std::vector<double> coefficients;
  double Predict(const double* row) const;
};

// Solves (X'X + ridge I) b = X'y. Throws std::runtime_error when there is too little data.
Model Fit(const Dataset& data, double ridge = 1e-6);
double Rmse(const Model& model, const Dataset& data);
double BaselineRmse(const Dataset& train, const Dataset& validation);  // predict the mean

}  // namespace taxi
