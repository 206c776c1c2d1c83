#pragma once
// Retry policies: how many retries and how long to wait before each one.
#include <string>
#include <vector>

namespace weft::core {

struct RetryPolicy {
  int max_retries = 0;
  std::vector<double> delays_seconds;  // per retry; the last one repeats; empty = no wait
  double exponential_base = 0;         // > 0: delay(n) = delays_seconds[0] * base^(n-1)
  double jitter_factor = 0;            // 0..1: the delay is spread over [d(1-j), d(1+j)]
  double max_delay_seconds = 0;        // > 0 caps the delay (before jitter)

  // Fixed delay between retries.
  static RetryPolicy Fixed(int retries, double delay_seconds);
  // A list of delays, one per retry (the last repeats).
  static RetryPolicy List(int retries, std::vector<double> delays_seconds);
  // delay(n) = base_delay * 2^(n-1), capped, with jitter.
  static RetryPolicy Exponential(int retries, double base_delay_seconds, double jitter = 0.2,
                                 double max_delay_seconds = 0);

  // The wait before retry number `retry` (1-based). `unit_random` is a draw in [0, 1):
  // passing it in keeps this pure and testable.
  double DelayBeforeRetry(int retry, double unit_random) const;
  // Unjittered delay: the centre of the jitter band.
  double BaseDelay(int retry) const;
  // An empty string when valid; otherwise the problem, naming the field.
  std::string Validate() const;
};

}  // namespace weft::core
