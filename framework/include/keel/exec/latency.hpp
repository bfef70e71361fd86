#pragma once
// The fill simulator's latency: how long an order or a cancel takes from keel to the simulated
// venue, as configured (config::Latency: a constant, a lognormal given by its median and 99th
// percentile, a uniform range, or an empirical list of samples). Draws are deterministic: one
// generator per stream (orders, cancels) seeded from `account.latency_seed`, with the generator
// (mt19937_64), the seeding (seed_seq) and the transforms all written out here rather than left
// to the standard library's distributions, whose algorithms differ between implementations.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "keel/config/config.hpp"
#include "keel/core/types.hpp"

namespace keel::exec {

class LatencySampler {
  public:
    // `stream` separates generators seeded alike (0: orders, 1: cancels).
    LatencySampler(const config::Latency &spec, uint64_t seed, uint32_t stream);

    // Every draw is 0: the simulator then acts at once, exactly as without a model.
    bool zero() const { return zero_; }
    // The next latency, in nanoseconds (at most kMaxLatency).
    TimeNs sample();

    static constexpr TimeNs kMaxLatency = 3'600'000'000'000;  // an hour: caps the lognormal tail
    static constexpr double kZ99 = 2.3263478740408408;        // the standard normal's 99th pct

  private:
    double uniform01();  // [0, 1), 53 random bits

    config::Latency::Dist dist_;
    bool zero_ = false;
    double a_ = 0, b_ = 0;  // constant: a (ns); lognormal: mu, sigma of ln(ns); uniform: min, max
    std::vector<TimeNs> samples_;  // empirical
    std::mt19937_64 rng_;
};

// "25 ms", "lognormal, median 20 ms, p99 120 ms", "uniform 5-40 ms", "empirical, 3 samples".
std::string describe(const config::Latency &latency);

}  // namespace keel::exec
