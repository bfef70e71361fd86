#include "keel/exec/latency.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

namespace keel::exec {

namespace {

TimeNs to_ns(double ms) {
    double ns = std::round(ms * 1e6);
    return static_cast<TimeNs>(
        std::clamp(ns, 0.0, static_cast<double>(LatencySampler::kMaxLatency)));
}

}  // namespace

LatencySampler::LatencySampler(const config::Latency &spec, uint64_t seed, uint32_t stream)
    : dist_(spec.dist), zero_(spec.zero()) {
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), stream};
    rng_.seed(seq);
    switch (dist_) {
        case config::Latency::Dist::constant:
            a_ = static_cast<double>(to_ns(spec.ms));
            break;
        case config::Latency::Dist::lognormal:
            a_ = std::log(spec.median_ms * 1e6);
            b_ = std::log(spec.p99_ms / spec.median_ms) / kZ99;
            break;
        case config::Latency::Dist::uniform:
            a_ = spec.min_ms * 1e6;
            b_ = spec.max_ms * 1e6;
            break;
        case config::Latency::Dist::empirical:
            for (double ms : spec.samples_ms) samples_.push_back(to_ns(ms));
            zero_ = std::all_of(samples_.begin(), samples_.end(), [](TimeNs t) { return t == 0; });
            break;
    }
    if (dist_ == config::Latency::Dist::uniform && spec.max_ms == 0) zero_ = true;
}

double LatencySampler::uniform01() {
    return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

TimeNs LatencySampler::sample() {
    switch (dist_) {
        case config::Latency::Dist::constant:
            return static_cast<TimeNs>(a_);
        case config::Latency::Dist::lognormal: {
            // Box-Muller, one normal per draw: u1 in (0, 1] keeps the log finite.
            double u1 = 1.0 - uniform01(), u2 = uniform01();
            double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
            double ns = std::exp(a_ + b_ * z);
            return ns >= static_cast<double>(kMaxLatency) ? kMaxLatency : std::llround(ns);
        }
        case config::Latency::Dist::uniform:
            return std::llround(a_ + (b_ - a_) * uniform01());
        case config::Latency::Dist::empirical:
            // Modulo bias: below n / 2^64, far under anything 10k draws could show.
            return samples_[rng_() % samples_.size()];
    }
    return 0;
}

std::string describe(const config::Latency &l) {
    switch (l.dist) {
        case config::Latency::Dist::constant:
            return fmt::format("{:g} ms", l.ms);
        case config::Latency::Dist::lognormal:
            return fmt::format("lognormal, median {:g} ms, p99 {:g} ms", l.median_ms, l.p99_ms);
        case config::Latency::Dist::uniform:
            return fmt::format("uniform {:g}-{:g} ms", l.min_ms, l.max_ms);
        case config::Latency::Dist::empirical:
            return fmt::format("empirical, {} samples", l.samples_ms.size());
    }
    return "?";
}

}  // namespace keel::exec
