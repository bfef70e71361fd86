#pragma once
// Ranges, trend strength and bands: True Range, ATR, ADX with +DI/-DI, Bollinger, Keltner,
// Donchian, Chandelier Exit, rolling highest/lowest.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "keel/indicators/averages.hpp"
#include "keel/indicators/bar.hpp"
#include "keel/indicators/window.hpp"

namespace keel::indicators {

// max(high - low, |high - previous close|, |low - previous close|), from the second bar on.
class TrueRange {
  public:
    void update(const Bar &b) {
        if (has_prev_) value_ = range(b, prev_close_);
        first_range_ = b.high - b.low;
        prev_close_ = b.close;
        ready_ = has_prev_;
        has_prev_ = true;
    }
    bool ready() const { return ready_; }
    double value() const { return ready_ ? value_ : kNotReady; }
    // high - low of the latest bar: what Pine's ta.tr(true) uses on the first bar.
    double bar_range() const { return first_range_; }
    size_t warmup() const { return 2; }
    void reset() { has_prev_ = ready_ = false; }

    static double range(const Bar &b, double prev_close) {
        double greatest = b.high - b.low;
        double up = std::fabs(prev_close - b.high);
        if (up > greatest) greatest = up;
        double down = std::fabs(prev_close - b.low);
        if (down > greatest) greatest = down;
        return greatest;
    }

  private:
    double prev_close_ = 0, value_ = 0, first_range_ = 0;
    bool has_prev_ = false, ready_ = false;
};

// Average True Range, Wilder-smoothed.
// talib: the first bar has no true range; the first ATR is the mean of true ranges 2..period+1
//        (so it comes with bar period + 1), then (atr * (n-1) + tr) / n.
// tradingview (Pine ta.atr): the first bar's true range is high - low; the first ATR is the mean
//        of the first `period` ranges (bar `period`), then alpha * tr + (1 - alpha) * atr.
class Atr {
  public:
    explicit Atr(long period = 14, Convention c = Convention::talib)
        : n_(checked_period(period, "ATR")), c_(c) {}
    void update(const Bar &b) {
        bool first = !tr_.ready() && !seen_;
        seen_ = true;
        tr_.update(b);
        if (first && c_ == Convention::talib) return;
        double tr = first ? tr_.bar_range() : tr_.value();
        double n = static_cast<double>(n_);
        if (count_ < n_) {
            sum_ += tr;
            if (++count_ == n_) value_ = sum_ / n;
            return;
        }
        if (c_ == Convention::talib) {
            value_ *= n - 1;
            value_ += tr;
            value_ /= n;
        } else {
            double alpha = 1 / n;
            value_ = alpha * tr + (1 - alpha) * value_;
        }
    }
    bool ready() const { return count_ >= n_; }
    double value() const { return ready() ? value_ : kNotReady; }
    size_t warmup() const { return c_ == Convention::talib ? n_ + 1 : n_; }
    void reset() {
        tr_.reset();
        seen_ = false;
        count_ = 0;
        sum_ = 0;
    }

  private:
    size_t n_;
    Convention c_;
    TrueRange tr_;
    bool seen_ = false;
    size_t count_ = 0;
    double sum_ = 0, value_ = 0;
};

// Wilder's directional movement as TA-Lib computes ADX, PLUS_DI and MINUS_DI: the smoothed
// +DM, -DM and TR start as sums over bars 2..period, then each bar does s = s - s / n + x; the
// DIs come with bar period + 1, DX likewise, and ADX (the mean of the first `period` DX, then
// Wilder-smoothed) with bar 2 * period.
class Adx {
  public:
    explicit Adx(long period = 14) : n_(checked_period(period, "ADX")) {}
    void update(const Bar &b) {
        if (bars_++ == 0) {
            prev_ = b;
            return;
        }
        double diff_plus = b.high - prev_.high;
        double diff_minus = prev_.low - b.low;
        double tr = TrueRange::range(b, prev_.close);
        prev_ = b;
        double n = static_cast<double>(n_);
        size_t moves = bars_ - 1;  // this bar's move is number `moves`
        if (moves >= n_) {
            minus_dm_ -= minus_dm_ / n;
            plus_dm_ -= plus_dm_ / n;
        }
        if (diff_minus > 0 && diff_plus < diff_minus)
            minus_dm_ += diff_minus;
        else if (diff_plus > 0 && diff_plus > diff_minus)
            plus_dm_ += diff_plus;
        if (moves < n_) {
            tr_ += tr;
            return;
        }
        tr_ = tr_ - tr_ / n + tr;

        // DI and DX from bar period + 1.
        di_ready_ = true;
        bool dx_valid = false;
        if (!near_zero(tr_)) {
            minus_di_ = 100.0 * (minus_dm_ / tr_);
            plus_di_ = 100.0 * (plus_dm_ / tr_);
            double sum = minus_di_ + plus_di_;
            if (!near_zero(sum)) {
                dx_ = 100.0 * (std::fabs(minus_di_ - plus_di_) / sum);
                dx_valid = true;
            }
        } else {
            minus_di_ = plus_di_ = 0.0;
        }
        size_t dx_count = moves - n_ + 1;  // DX values so far, counting this one
        if (dx_count < n_) {
            if (dx_valid) sum_dx_ += dx_;
        } else if (dx_count == n_) {
            if (dx_valid) sum_dx_ += dx_;
            adx_ = sum_dx_ / n;
            adx_ready_ = true;
        } else if (dx_valid) {
            adx_ = ((adx_ * (n - 1)) + dx_) / n;
        }
    }
    bool ready() const { return adx_ready_; }
    double value() const { return adx(); }
    double adx() const { return adx_ready_ ? adx_ : kNotReady; }
    double plus_di() const { return di_ready_ ? plus_di_ : kNotReady; }
    double minus_di() const { return di_ready_ ? minus_di_ : kNotReady; }
    size_t warmup() const { return 2 * n_; }
    void reset() {
        bars_ = 0;
        plus_dm_ = minus_dm_ = tr_ = sum_dx_ = 0;
        di_ready_ = adx_ready_ = false;
    }

  private:
    size_t n_;
    size_t bars_ = 0;
    Bar prev_;
    double plus_dm_ = 0, minus_dm_ = 0, tr_ = 0;
    double plus_di_ = 0, minus_di_ = 0, dx_ = 0, sum_dx_ = 0, adx_ = 0;
    bool di_ready_ = false, adx_ready_ = false;
};

// Bollinger Bands as TA-Lib's BBANDS with an SMA: middle = SMA(period), upper/lower = middle +-
// deviations * population standard deviation.
class BollingerBands {
  public:
    explicit BollingerBands(long period = 20, double deviations = 2.0)
        : dev_(deviations), sd_(period) {}
    void update(double x) {
        sd_.update(x);
        if (!sd_.ready()) return;
        double sd = sd_.value();
        double width = dev_ == 1.0 ? sd : sd * dev_;
        middle_ = sd_.mean();
        upper_ = middle_ + width;
        lower_ = middle_ - width;
    }
    void update(const Bar &b) { update(b.close); }
    bool ready() const { return sd_.ready(); }
    double upper() const { return ready() ? upper_ : kNotReady; }
    double middle() const { return ready() ? middle_ : kNotReady; }
    double lower() const { return ready() ? lower_ : kNotReady; }
    double value() const { return middle(); }
    size_t warmup() const { return sd_.warmup(); }
    void reset() { sd_.reset(); }

  private:
    double dev_;
    RollingStdDev sd_;
    double upper_ = 0, middle_ = 0, lower_ = 0;
};

// Highest high, lowest low and their midpoint over `period` bars (TA-Lib MAX, MIN, MIDPRICE).
class DonchianChannel {
  public:
    explicit DonchianChannel(long period = 20)
        : high_(checked_period(period, "Donchian")), low_(high_.length()) {}
    void update(const Bar &b) {
        high_.push(b.high);
        low_.push(b.low);
    }
    bool ready() const { return high_.ready(); }
    double upper() const { return ready() ? high_.value() : kNotReady; }
    double lower() const { return ready() ? low_.value() : kNotReady; }
    double middle() const { return ready() ? (high_.value() + low_.value()) / 2 : kNotReady; }
    double value() const { return middle(); }
    size_t warmup() const { return high_.length(); }
    void reset() {
        high_.clear();
        low_.clear();
    }

  private:
    RollingMax high_;
    RollingMin low_;
};

// Rolling highest or lowest of one series over `period` values (TA-Lib MAX / MIN).
template <typename Window>
class Rolling {
  public:
    explicit Rolling(long period) : w_(checked_period(period, "rolling extreme")) {}
    void update(double x) { w_.push(x); }
    bool ready() const { return w_.ready(); }
    double value() const { return ready() ? w_.value() : kNotReady; }
    size_t warmup() const { return w_.length(); }
    void reset() { w_.clear(); }

  private:
    Window w_;
};
using Highest = Rolling<RollingMax>;
using Lowest = Rolling<RollingMin>;

// Keltner channel: middle = EMA(close, period), upper/lower = middle +- multiplier *
// ATR(atr_period), both with keel's (TA-Lib) conventions. Ready when both are.
class KeltnerChannel {
  public:
    KeltnerChannel(long period = 20, long atr_period = 10, double multiplier = 2.0)
        : mult_(multiplier), ema_(period), atr_(atr_period) {}
    void update(const Bar &b) {
        ema_.update(b.close);
        atr_.update(b);
    }
    bool ready() const { return ema_.ready() && atr_.ready(); }
    double middle() const { return ready() ? ema_.value() : kNotReady; }
    double upper() const { return ready() ? ema_.value() + mult_ * atr_.value() : kNotReady; }
    double lower() const { return ready() ? ema_.value() - mult_ * atr_.value() : kNotReady; }
    double value() const { return middle(); }
    size_t warmup() const { return std::max(ema_.warmup(), atr_.warmup()); }
    void reset() {
        ema_.reset();
        atr_.reset();
    }

  private:
    double mult_;
    Ema ema_;
    Atr atr_;
};

// Chandelier Exit as published on TradingView (everget), in Pine's arithmetic:
// long stop = highest(close or high, period) - mult * ATR(period), ratcheted up while the previous
// close stays above the previous long stop; short stop mirrored; direction turns +1 when the close
// crosses above the previous short stop and -1 below the previous long stop (it starts at +1).
class ChandelierExit {
  public:
    explicit ChandelierExit(long period = 22, double multiplier = 3.0, bool use_close = true)
        : mult_(multiplier),
          use_close_(use_close),
          atr_(period, Convention::tradingview),
          highest_(checked_period(period, "Chandelier")),
          lowest_(highest_.length()) {}
    void update(const Bar &b) {
        atr_.update(b);
        highest_.push(use_close_ ? b.close : b.high);
        lowest_.push(use_close_ ? b.close : b.low);
        double prev_close = prev_close_;
        bool had_close = has_close_;
        prev_close_ = b.close;
        has_close_ = true;
        if (!atr_.ready() || !highest_.ready()) return;
        double range = mult_ * atr_.value();
        double long_stop = highest_.value() - range;
        double short_stop = lowest_.value() + range;
        double long_prev = ready_ ? long_stop_ : long_stop;
        double short_prev = ready_ ? short_stop_ : short_stop;
        if (had_close && prev_close > long_prev) long_stop = std::max(long_stop, long_prev);
        if (had_close && prev_close < short_prev) short_stop = std::min(short_stop, short_prev);
        direction_ = b.close > short_prev ? 1 : b.close < long_prev ? -1 : direction_;
        long_stop_ = long_stop;
        short_stop_ = short_stop;
        ready_ = true;
    }
    bool ready() const { return ready_; }
    double long_stop() const { return ready_ ? long_stop_ : kNotReady; }
    double short_stop() const { return ready_ ? short_stop_ : kNotReady; }
    int direction() const { return direction_; }
    double value() const { return direction_ > 0 ? long_stop() : short_stop(); }
    size_t warmup() const { return std::max(atr_.warmup(), highest_.length()); }
    void reset() {
        atr_.reset();
        highest_.clear();
        lowest_.clear();
        has_close_ = ready_ = false;
        direction_ = 1;
    }

  private:
    double mult_;
    bool use_close_;
    Atr atr_;
    RollingMax highest_;
    RollingMin lowest_;
    double prev_close_ = 0, long_stop_ = 0, short_stop_ = 0;
    bool has_close_ = false, ready_ = false;
    int direction_ = 1;
};

}  // namespace keel::indicators
