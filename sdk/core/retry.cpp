#include "sdk/core/retry.hpp"

#include <algorithm>
#include <cmath>

namespace weft::core {

RetryPolicy RetryPolicy::Fixed(int retries, double delay_seconds) {
  RetryPolicy p;
  p.max_retries = retries;
  if (delay_seconds > 0) p.delays_seconds = {delay_seconds};
  return p;
}

RetryPolicy RetryPolicy::List(int retries, std::vector<double> delays_seconds) {
  RetryPolicy p;
  p.max_retries = retries;
  p.delays_seconds = std::move(delays_seconds);
  return p;
}

RetryPolicy RetryPolicy::Exponential(int retries, double base_delay_seconds, double jitter,
                                     double max_delay_seconds) {
  RetryPolicy p;
  p.max_retries = retries;
  p.delays_seconds = {base_delay_seconds};
  p.exponential_base = 2;
  p.jitter_factor = jitter;
  p.max_delay_seconds = max_delay_seconds;
  return p;
}

double RetryPolicy::BaseDelay(int retry) const {
  if (delays_seconds.empty() || retry < 1) return 0;
  double d;
  if (exponential_base > 0) {
    d = delays_seconds.front() * std::pow(exponential_base, retry - 1);
  } else {
    size_t i = std::min(static_cast<size_t>(retry - 1), delays_seconds.size() - 1);
    d = delays_seconds[i];
  }
  if (max_delay_seconds > 0) d = std::min(d, max_delay_seconds);
  return std::max(0.0, d);
}

double RetryPolicy::DelayBeforeRetry(int retry, double unit_random) const {
  double d = BaseDelay(retry);
  double j = std::clamp(jitter_factor, 0.0, 1.0);
  if (j <= 0 || d <= 0) return d;
  double u = std::clamp(unit_random, 0.0, 1.0);
  return d * (1 - j + 2 * j * u);
}

std::string RetryPolicy::Validate() const {
  if (max_retries < 0) return "retries: must be >= 0, got " + std::to_string(max_retries);
  if (max_retries > 1000) return "retries: at most 1000, got " + std::to_string(max_retries);
  for (double d : delays_seconds) {
    if (!(d >= 0) || std::isinf(d)) return "retry_delays: each delay must be a number >= 0";
  }
  if (!(exponential_base >= 0)) return "retry_backoff: base must be >= 0";
  if (!(jitter_factor >= 0 && jitter_factor <= 1)) return "retry_jitter: must be between 0 and 1";
  return {};
}

}  // namespace weft::core
