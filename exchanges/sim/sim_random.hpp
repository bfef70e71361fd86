#pragma once
// Random numbers for the synthetic market, written out by hand so that a seed gives the same
// market on every standard library: std::normal_distribution and friends are not specified
// bit for bit and differ between libstdc++ and libc++.
//
// Generator: xoshiro256** (Blackman and Vigna), state filled from the seed by splitmix64.
// Normals: Box-Muller, both values of a pair used.

#include <cmath>
#include <cstdint>
#include <string_view>

namespace keel::sim {

inline uint64_t splitmix64(uint64_t &state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// FNV-1a, used to derive an independent stream per instrument from the seed and the symbol.
inline uint64_t fnv1a(std::string_view text) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001B3ull;
    }
    return h;
}

class rng {
  public:
    explicit rng(uint64_t seed) {
        uint64_t sm = seed;
        for (auto &word : s_) word = splitmix64(sm);
    }

    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    // Uniform in (0, 1): safe to take the logarithm of.
    double uniform_open() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    bool chance(double p) { return uniform() < p; }

    // Uniform integer in [0, n), n > 0. The bias of the float method is far below 2^-40 for the
    // small n used here.
    int64_t below(int64_t n) {
        auto k = static_cast<int64_t>(uniform() * static_cast<double>(n));
        return k < n ? k : n - 1;
    }

    double normal() {
        if (have_spare_) {
            have_spare_ = false;
            return spare_;
        }
        const double r = std::sqrt(-2.0 * std::log(uniform_open()));
        const double theta = 6.283185307179586 * uniform();
        spare_ = r * std::sin(theta);
        have_spare_ = true;
        return r * std::cos(theta);
    }

    double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }

    // Exponentially distributed with the given mean.
    double exponential(double mean) { return -mean * std::log(uniform_open()); }

    // Number of failures before the first success: P(k) = p (1 - p)^k.
    int64_t geometric(double p) {
        if (p >= 1.0) return 0;
        const double k = std::floor(std::log(uniform_open()) / std::log1p(-p));
        return k < 1e9 ? static_cast<int64_t>(k) : 1000000000;
    }

    // Poisson count: Knuth's product method for small means, a rounded normal above that.
    int64_t poisson(double mean) {
        if (mean <= 0.0) return 0;
        if (mean > 30.0) {
            const double x = std::floor(mean + std::sqrt(mean) * normal() + 0.5);
            return x > 0.0 ? static_cast<int64_t>(x) : 0;
        }
        const double limit = std::exp(-mean);
        int64_t k = 0;
        double p = uniform_open();
        while (p > limit) {
            ++k;
            p *= uniform_open();
        }
        return k;
    }

  private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    uint64_t s_[4];
    double spare_ = 0.0;
    bool have_spare_ = false;
};

}  // namespace keel::sim
