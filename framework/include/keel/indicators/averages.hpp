#pragma once
// Moving averages and rolling dispersion. Each mirrors the arithmetic of its reference (TA-Lib,
// or Pine for Convention::tradingview) operation for operation, so results agree to the last bits
// rather than merely to a tolerance; docs/indicators.md lists the conventions.

#include <cmath>
#include <cstddef>
#include <stdexcept>

#include "keel/indicators/bar.hpp"
#include "keel/indicators/window.hpp"

namespace keel::indicators {

inline size_t checked_period(long period, const char *what) {
    if (period < 1) throw std::invalid_argument(std::string(what) + ": period must be at least 1");
    return static_cast<size_t>(period);
}

// Simple moving average. The running sum is updated as TA-Lib does (add the new value, divide,
// then subtract the one leaving), so it drifts exactly as TA-Lib's does and no more.
class Sma {
  public:
    explicit Sma(long period) : n_(checked_period(period, "SMA")), window_(n_) {}
    void update(double x) {
        sum_ += x;
        window_.push(x);
        if (window_.full()) {
            value_ = sum_ / static_cast<double>(n_);
            sum_ -= window_[0];
        }
    }
    bool ready() const { return window_.full(); }
    double value() const { return ready() ? value_ : kNotReady; }
    size_t period() const { return n_; }
    size_t warmup() const { return n_; }
    void reset() {
        sum_ = 0;
        window_.clear();
    }

  private:
    size_t n_;
    RingWindow window_;
    double sum_ = 0, value_ = 0;
};

// An exponentially smoothed average seeded with the simple average of its first `period` inputs,
// the shape of both the EMA and Wilder's RMA. TA-Lib writes the recursion (x - prev) * k + prev,
// Pine alpha * x + (1 - alpha) * prev; `Convention` picks one, so results match either bit for bit.
class SmoothedAverage {
  public:
    SmoothedAverage(size_t period, double alpha, Convention c) : n_(period), k_(alpha), c_(c) {}
    void update(double x) {
        if (count_ < n_) {
            seed_ += x;
            if (++count_ == n_) value_ = seed_ / static_cast<double>(n_);
            return;
        }
        value_ = c_ == Convention::talib ? (x - value_) * k_ + value_ : k_ * x + (1 - k_) * value_;
    }
    // Starts the recursion from a value computed elsewhere (MACD seeds its fast EMA late).
    void seed_with(double v) {
        value_ = v;
        count_ = n_;
    }
    bool ready() const { return count_ >= n_; }
    double value() const { return ready() ? value_ : kNotReady; }
    size_t period() const { return n_; }
    size_t warmup() const { return n_; }
    void reset() {
        count_ = 0;
        seed_ = 0;
    }

  private:
    size_t n_;
    double k_;
    Convention c_;
    size_t count_ = 0;
    double seed_ = 0, value_ = 0;
};

// Exponential moving average, alpha = 2 / (period + 1). TA-Lib and Pine both seed it with the
// simple average of the first `period` values.
class Ema : public SmoothedAverage {
  public:
    explicit Ema(long period, Convention c = Convention::talib)
        : SmoothedAverage(checked_period(period, "EMA"), 2.0 / (static_cast<double>(period) + 1),
                          c) {}
};

// Wilder's moving average (RMA, SMMA): alpha = 1 / period, Pine's ta.rma. TA-Lib has no RMA of
// its own (its RSI, ATR and ADX each inline theirs, and keel's versions of those mirror them).
class Rma : public SmoothedAverage {
  public:
    explicit Rma(long period)
        : SmoothedAverage(checked_period(period, "RMA"), 1.0 / static_cast<double>(period),
                          Convention::tradingview) {}
};

// Linearly weighted moving average (weights 1..period, newest heaviest), TA-Lib's O(1) form: a
// running weighted sum less a running plain sum each step.
class Wma {
  public:
    explicit Wma(long period)
        : n_(checked_period(period, "WMA")),
          divider_(static_cast<double>((n_ * (n_ + 1)) / 2)),
          window_(n_) {}
    void update(double x) {
        window_.push(x);
        if (!window_.full()) {
            sub_ += x;
            sum_ += x * static_cast<double>(window_.size());
            return;
        }
        sub_ += x;
        sub_ -= trailing_;
        sum_ += x * static_cast<double>(n_);
        trailing_ = window_[0];
        value_ = sum_ / divider_;
        sum_ -= sub_;
    }
    bool ready() const { return window_.full(); }
    double value() const { return ready() ? value_ : kNotReady; }
    size_t warmup() const { return n_; }
    void reset() {
        window_.clear();
        sub_ = sum_ = trailing_ = 0;
    }

  private:
    size_t n_;
    double divider_;
    RingWindow window_;
    double sub_ = 0, sum_ = 0, trailing_ = 0, value_ = 0;
};

// Population variance and standard deviation over `period` values, from running sums of x and
// x^2 as TA-Lib computes them (VAR, STDDEV, BBANDS). A variance at or below 1e-8 reads as 0.
class RollingStdDev {
  public:
    explicit RollingStdDev(long period, double deviations = 1.0)
        : n_(checked_period(period, "STDDEV")), dev_(deviations), window_(n_) {}
    void update(double x) {
        sum1_ += x;
        sum2_ += x * x;
        window_.push(x);
        if (!window_.full()) return;
        mean_ = sum1_ / static_cast<double>(n_);
        double mean2 = sum2_ / static_cast<double>(n_);
        double old = window_[0];
        sum1_ -= old;
        sum2_ -= old * old;
        variance_ = mean2 - mean_ * mean_;
    }
    bool ready() const { return window_.full(); }
    double mean() const { return ready() ? mean_ : kNotReady; }
    double variance() const { return ready() ? variance_ : kNotReady; }
    // sqrt(variance) * deviations; 0 where TA-Lib would call the variance zero or negative.
    double value() const {
        if (!ready()) return kNotReady;
        if (near_zero_or_negative(variance_)) return 0.0;
        return dev_ == 1.0 ? std::sqrt(variance_) : std::sqrt(variance_) * dev_;
    }
    size_t warmup() const { return n_; }
    void reset() {
        window_.clear();
        sum1_ = sum2_ = 0;
    }

  private:
    size_t n_;
    double dev_;
    RingWindow window_;
    double sum1_ = 0, sum2_ = 0, mean_ = 0, variance_ = 0;
};

}  // namespace keel::indicators
