#pragma once
// Oscillators: RSI, MACD, Stochastic, CCI, WaveTrend.

#include <cmath>
#include <cstddef>

#include "keel/indicators/averages.hpp"
#include "keel/indicators/bar.hpp"
#include "keel/indicators/window.hpp"

namespace keel::indicators {

// Wilder's RSI. Both conventions seed the averages of gains and losses with the simple average of
// the first `period` changes, so the first value comes with input period + 1. They differ only in
// arithmetic: TA-Lib (avg * (n-1) + x) / n and 100 * gain / (gain + loss); Pine
// alpha * x + (1 - alpha) * avg and 100 - 100 / (1 + gain / loss).
class Rsi {
  public:
    explicit Rsi(long period, Convention c = Convention::talib)
        : n_(checked_period(period, "RSI")), c_(c) {}
    void update(double x) {
        if (inputs_++ == 0) {
            prev_ = x;
            return;
        }
        double change = x - prev_;
        prev_ = x;
        double gain = change > 0 ? change : 0, loss = change < 0 ? -change : 0;
        double n = static_cast<double>(n_);
        size_t changes = inputs_ - 1;
        if (changes < n_) {
            gain_ += gain;
            loss_ += loss;
            return;
        }
        if (changes == n_) {
            gain_ += gain;
            loss_ += loss;
            gain_ /= n;
            loss_ /= n;
        } else if (c_ == Convention::talib) {
            loss_ *= n - 1;
            gain_ *= n - 1;
            loss_ += loss;
            gain_ += gain;
            loss_ /= n;
            gain_ /= n;
        } else {
            double alpha = 1 / n;
            gain_ = alpha * gain + (1 - alpha) * gain_;
            loss_ = alpha * loss + (1 - alpha) * loss_;
        }
        if (c_ == Convention::talib) {
            double total = gain_ + loss_;
            value_ = near_zero(total) ? 0.0 : 100.0 * (gain_ / total);
        } else {
            value_ = loss_ == 0 ? 100.0 : gain_ == 0 ? 0.0 : 100.0 - 100.0 / (1 + gain_ / loss_);
        }
    }
    bool ready() const { return inputs_ > n_; }
    double value() const { return ready() ? value_ : kNotReady; }
    size_t warmup() const { return n_ + 1; }
    void reset() {
        inputs_ = 0;
        gain_ = loss_ = 0;
    }

  private:
    size_t n_;
    Convention c_;
    size_t inputs_ = 0;
    double prev_ = 0, gain_ = 0, loss_ = 0, value_ = 0;
};

// MACD as TA-Lib computes it: line = EMA(fast) - EMA(slow), signal = EMA(signal) of the line,
// histogram = line - signal. TA-Lib seeds the fast EMA late, on the same bar as the slow one, with
// the simple average of the `fast` values ending there (bar 25 for 12/26, not bar 11), so every
// output starts at bar slow + signal - 2 (33 for 12/26/9). keel follows that.
class Macd {
  public:
    Macd(long fast = 12, long slow = 26, long signal = 9)
        : fast_(checked_period(fast, "MACD fast")),
          slow_(checked_period(slow, "MACD slow")),
          fast_window_(fast_),
          slow_ema_(static_cast<long>(slow_)),
          fast_ema_(static_cast<long>(fast_)),
          signal_ema_(checked_period(signal, "MACD signal")) {
        // TA-Lib swaps the periods if slow < fast.
        if (slow_ < fast_) throw std::invalid_argument("MACD: slow period must not be below fast");
    }
    void update(double x) {
        slow_ema_.update(x);
        if (!fast_ema_.ready()) {
            fast_window_.push(x);
            if (slow_ema_.ready()) {
                double sum = 0;
                for (size_t i = 0; i < fast_window_.size(); ++i) sum += fast_window_[i];
                fast_ema_.seed_with(sum / static_cast<double>(fast_));
            }
        } else {
            fast_ema_.update(x);
        }
        if (!slow_ema_.ready()) return;
        line_ = fast_ema_.value() - slow_ema_.value();
        signal_ema_.update(line_);
    }
    bool ready() const { return signal_ema_.ready(); }
    double line() const { return ready() ? line_ : kNotReady; }
    double signal() const { return signal_ema_.value(); }
    double histogram() const { return ready() ? line_ - signal_ema_.value() : kNotReady; }
    double value() const { return line(); }
    size_t warmup() const { return slow_ + signal_ema_.warmup() - 1; }
    void reset() {
        fast_window_.clear();
        slow_ema_.reset();
        fast_ema_.reset();
        signal_ema_.reset();
    }

  private:
    size_t fast_, slow_;
    RingWindow fast_window_;
    Ema slow_ema_, fast_ema_, signal_ema_;
    double line_ = 0;
};

// Slow stochastic as TA-Lib's STOCH with SMA smoothing: fast %K = 100 * (close - lowest low) /
// (highest high - lowest low) over k_period (0 when the range is 0), %K = SMA(fast %K, k_slowing),
// %D = SMA(%K, d_period).
class Stochastic {
  public:
    Stochastic(long k_period = 14, long k_slowing = 3, long d_period = 3)
        : highest_(checked_period(k_period, "STOCH %K")),
          lowest_(highest_.length()),
          k_(k_slowing),
          d_(d_period) {}
    void update(const Bar &b) {
        highest_.push(b.high);
        lowest_.push(b.low);
        if (!highest_.ready()) return;
        double lo = lowest_.value();
        double diff = (highest_.value() - lo) / 100.0;
        k_.update(diff != 0.0 ? (b.close - lo) / diff : 0.0);
        if (k_.ready()) d_.update(k_.value());
    }
    bool ready() const { return d_.ready(); }
    double k() const { return ready() ? k_.value() : kNotReady; }
    double d() const { return d_.value(); }
    double value() const { return k(); }
    size_t warmup() const { return highest_.length() + k_.warmup() + d_.warmup() - 2; }
    void reset() {
        highest_.clear();
        lowest_.clear();
        k_.reset();
        d_.reset();
    }

  private:
    RollingMax highest_;
    RollingMin lowest_;
    Sma k_, d_;
};

// Commodity Channel Index of any source: (x - SMA) / (0.015 * mean absolute deviation), 0 when
// either is 0. update(Bar) uses the typical price (high + low + close) / 3 as TA-Lib does; Pine's
// ta.cci(close, n) is update(close). The deviation is a sum over the window (O(period)); the
// window's storage order is TA-Lib's circular buffer order, so the sums match it exactly.
class Cci {
  public:
    explicit Cci(long period = 20) : n_(checked_period(period, "CCI")), window_(n_) {}
    void update(const Bar &b) { update(b.hlc3()); }
    void update(double x) {
        window_.push(x);
        if (!window_.full()) return;
        const double *v = window_.raw();
        double n = static_cast<double>(n_);
        double avg = 0;
        for (size_t j = 0; j < n_; ++j) avg += v[j];
        avg /= n;
        double dev = 0;
        for (size_t j = 0; j < n_; ++j) dev += std::fabs(v[j] - avg);
        double diff = x - avg;
        value_ = diff != 0.0 && dev != 0.0 ? diff / (0.015 * (dev / n)) : 0.0;
    }
    bool ready() const { return window_.full(); }
    double value() const { return ready() ? value_ : kNotReady; }
    size_t warmup() const { return n_; }
    void reset() { window_.clear(); }

  private:
    size_t n_;
    RingWindow window_;
    double value_ = 0;
};

// WaveTrend by LazyBear (TradingView "WaveTrend Oscillator [WT]"), in Pine's arithmetic:
// ap = hlc3, esa = EMA(ap, channel), d = EMA(|ap - esa|, channel), ci = (ap - esa) / (0.015 d),
// wt1 = EMA(ci, average), wt2 = SMA(wt1, 4). Each stage starts when its input is ready.
class WaveTrend {
  public:
    explicit WaveTrend(long channel = 10, long average = 21, long signal = 4)
        : esa_(channel, Convention::tradingview),
          d_(channel, Convention::tradingview),
          tci_(average, Convention::tradingview),
          wt2_(signal) {}
    void update(const Bar &b) { update(b.hlc3()); }
    void update(double ap) {
        esa_.update(ap);
        if (!esa_.ready()) return;
        double esa = esa_.value();
        d_.update(std::fabs(ap - esa));
        if (!d_.ready()) return;
        double d = d_.value();
        // Pine: division by zero gives na, which the EMA skips.
        if (d == 0.0) return;
        tci_.update((ap - esa) / (0.015 * d));
        if (tci_.ready()) wt2_.update(tci_.value());
    }
    bool ready() const { return wt2_.ready(); }
    double wt1() const { return tci_.value(); }
    double wt2() const { return wt2_.value(); }
    double value() const { return ready() ? wt1() : kNotReady; }
    void reset() {
        esa_.reset();
        d_.reset();
        tci_.reset();
        wt2_.reset();
    }

  private:
    Ema esa_, d_, tci_;
    Sma wt2_;
};

}  // namespace keel::indicators
