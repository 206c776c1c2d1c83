#include "examples/taxi_training/model.hpp"

#include <cmath>
#include <stdexcept>

namespace taxi {

Dataset AddFeatures(const std::vector<Trip>& trips) {
  Dataset d;
  d.feature_names = {"intercept",  "distance",        "log1p_distance",
                     "rush_hour",  "rush_x_distance", "night",
                     "passengers", "same_zone",       "slow_pickup_zone"};
  d.x.reserve(trips.size() * d.cols());
  d.y.reserve(trips.size());
  for (const Trip& t : trips) {
    if (t.distance_miles <= 0 || t.duration_minutes <= 0 || t.duration_minutes > 180) continue;
    bool rush =
        (t.pickup_hour >= 7 && t.pickup_hour <= 9) || (t.pickup_hour >= 16 && t.pickup_hour <= 19);
    bool night = t.pickup_hour >= 22 || t.pickup_hour <= 5;
    const double row[] = {1.0,
                          t.distance_miles,
                          std::log1p(t.distance_miles),
                          rush ? 1.0 : 0.0,
                          rush ? t.distance_miles : 0.0,
                          night ? t.distance_miles : 0.0,
                          static_cast<double>(t.passengers),
                          t.pickup_zone == t.dropoff_zone ? 1.0 : 0.0,
                          t.pickup_zone % 11 == 0 ? 1.0 : 0.0};
    d.x.insert(d.x.end(), std::begin(row), std::end(row));
    d.y.push_back(t.duration_minutes);
  }
  return d;
}

double Model::Predict(const double* row) const {
  double s = 0;
  for (size_t j = 0; j < coefficients.size(); ++j) s += coefficients[j] * row[j];
  return s;
}

Model Fit(const Dataset& data, double ridge) {
  const size_t k = data.cols();
  const size_t n = data.rows();
  if (n < k * 2) {
    throw std::runtime_error("train: " + std::to_string(n) + " usable trips is too few for " +
                             std::to_string(k) + " features");
  }
  // A = X'X + ridge I (k x k), b = X'y.
  std::vector<double> a(k * k, 0.0), b(k, 0.0);
  for (size_t r = 0; r < n; ++r) {
    const double* row = &data.x[r * k];
    for (size_t i = 0; i < k; ++i) {
      b[i] += row[i] * data.y[r];
      for (size_t j = i; j < k; ++j) a[i * k + j] += row[i] * row[j];
    }
  }
  for (size_t i = 0; i < k; ++i) {
    for (size_t j = 0; j < i; ++j) a[i * k + j] = a[j * k + i];
    a[i * k + i] += ridge;
  }
  // Gaussian elimination with partial pivoting.
  for (size_t col = 0; col < k; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < k; ++r) {
      if (std::fabs(a[r * k + col]) > std::fabs(a[pivot * k + col])) pivot = r;
    }
    if (std::fabs(a[pivot * k + col]) < 1e-12) {
      throw std::runtime_error("train: feature \"" + data.feature_names[col] +
                               "\" is constant or collinear in the training data");
    }
    if (pivot != col) {
      for (size_t j = 0; j < k; ++j) std::swap(a[col * k + j], a[pivot * k + j]);
      std::swap(b[col], b[pivot]);
    }
    for (size_t r = col + 1; r < k; ++r) {
      double f = a[r * k + col] / a[col * k + col];
      if (f == 0) continue;
      for (size_t j = col; j < k; ++j) a[r * k + j] -= f * a[col * k + j];
      b[r] -= f * b[col];
    }
  }
  Model m;
  m.feature_names = data.feature_names;
  m.coefficients.assign(k, 0.0);
  for (size_t i = k; i-- > 0;) {
    double s = b[i];
    for (size_t j = i + 1; j < k; ++j) s -= a[i * k + j] * m.coefficients[j];
    m.coefficients[i] = s / a[i * k + i];
  }
  return m;
}

double Rmse(const Model& model, const Dataset& data) {
  if (data.rows() == 0) throw std::runtime_error("evaluate: the validation set is empty");
  double sum = 0;
  for (size_t r = 0; r < data.rows(); ++r) {
    double e = model.Predict(&data.x[r * data.cols()]) - data.y[r];
    sum += e * e;
  }
  return std::sqrt(sum / static_cast<double>(data.rows()));
}

double BaselineRmse(const Dataset& train, const Dataset& validation) {
  double mean = 0;
  for (double v : train.y) mean += v;
  mean /= static_cast<double>(std::max<size_t>(train.rows(), 1));
  double sum = 0;
  for (double v : validation.y) sum += (v - mean) * (v - mean);
  return std::sqrt(sum / static_cast<double>(std::max<size_t>(validation.rows(), 1)));
}

}  // namespace taxi
