#include "keel/indicators/lorentzian.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace keel::indicators {
namespace {

double rescale_0_100(double v) {
    // MLExtensions rescale(v, 0, 100, 0, 1), in its own arithmetic.
    return 0.0 + (1.0 - 0.0) * (v - 0.0) / std::max(100.0 - 0.0, 10e-10);
}

void require(bool ok, const std::string &what) {
    if (!ok) throw std::invalid_argument("lorentzian: " + what);
}

}  // namespace

void LorentzianSettings::validate() const {
    require(neighbors >= 1 && neighbors <= 100, "neighbors must be 1..100");
    // Bounds keep the storage sizes sane: a typo must be an error, not gigabytes of rows.
    require(max_bars_back >= 1 && max_bars_back <= 100000, "max_bars_back must be 1..100000");
    require(feature_count >= 2 && feature_count <= 5, "feature_count must be 2..5");
    for (int i = 0; i < feature_count; ++i) {
        const auto &f = features[static_cast<size_t>(i)];
        require(f.a >= 1 && f.a <= 100000 &&
                    (f.kind == LorentzianFeatureKind::adx || (f.b >= 1 && f.b <= 100000)),
                "feature " + std::to_string(i + 1) + " periods must be 1..100000");
    }
    require(ema_period >= 1 && ema_period <= 100000 && sma_period >= 1 && sma_period <= 100000,
            "ema_period and sma_period must be 1..100000");
    require(kernel_lookback > kernel_lag && kernel_lag >= 0,
            "kernel_lookback must exceed kernel_lag (the Gaussian uses lookback - lag)");
    require(kernel_relative_weight > 0 && std::isfinite(kernel_relative_weight),
            "kernel_relative_weight must be a positive number");
    require(std::isfinite(regime_threshold) && std::isfinite(adx_threshold),
            "regime_threshold and adx_threshold must be numbers");
    require(kernel_regression_level >= 0 && kernel_regression_level <= 10000,
            "kernel_regression_level must be 0..10000");
}

LorentzianClassifier::Feature::Feature(LorentzianFeature f)
    : f_(f),
      rsi_(f.a, Convention::tradingview),
      smooth_(f.kind == LorentzianFeatureKind::adx ? 1 : f.b, Convention::tradingview),
      wt_(f.a, f.kind == LorentzianFeatureKind::wt ? f.b : 1, 4),
      cci_(f.a),
      adx_(f.a) {}

void LorentzianClassifier::Feature::reset() {
    *this = Feature(f_);
}

double LorentzianClassifier::Feature::update(const Bar &b) {
    auto normalize = [this](double v) {
        if (std::isnan(v)) return v;
        min_ = std::min(v, min_);
        max_ = std::max(v, max_);
        return 0.0 + (1.0 - 0.0) * (v - min_) / std::max(max_ - min_, 10e-10);
    };
    switch (f_.kind) {
        case LorentzianFeatureKind::rsi:  // n_rsi: rescale(ema(rsi(close, a), b), 0, 100, 0, 1)
            rsi_.update(b.close);
            if (!rsi_.ready()) return kNotReady;
            smooth_.update(rsi_.value());
            return smooth_.ready() ? rescale_0_100(smooth_.value()) : kNotReady;
        case LorentzianFeatureKind::wt: {  // n_wt: normalize(wt1 - wt2) of hlc3
            wt_.update(b.hlc3());
            return normalize(wt_.ready() ? wt_.wt1() - wt_.wt2() : kNotReady);
        }
        case LorentzianFeatureKind::cci:  // n_cci: normalize(ema(cci(close, a), b))
            cci_.update(b.close);
            if (!cci_.ready()) return normalize(kNotReady);
            smooth_.update(cci_.value());
            return normalize(smooth_.ready() ? smooth_.value() : kNotReady);
        case LorentzianFeatureKind::adx: {
            // n_adx: previous values are nz()'d, so the first bar compares with 0.
            double ph = has_prev_ ? prev_high_ : 0, pl = has_prev_ ? prev_low_ : 0,
                   pc = has_prev_ ? prev_close_ : 0;
            double tr =
                std::max(std::max(b.high - b.low, std::fabs(b.high - pc)), std::fabs(b.low - pc));
            double dm_plus = b.high - ph > pl - b.low ? std::max(b.high - ph, 0.0) : 0.0;
            double dm_minus = pl - b.low > b.high - ph ? std::max(pl - b.low, 0.0) : 0.0;
            double n = static_cast<double>(f_.a);
            tr_smooth_ = tr_smooth_ - tr_smooth_ / n + tr;
            dm_plus_smooth_ = dm_plus_smooth_ - dm_plus_smooth_ / n + dm_plus;
            dm_minus_smooth_ = dm_minus_smooth_ - dm_minus_smooth_ / n + dm_minus;
            prev_high_ = b.high;
            prev_low_ = b.low;
            prev_close_ = b.close;
            has_prev_ = true;
            double di_plus = dm_plus_smooth_ / tr_smooth_ * 100;
            double di_minus = dm_minus_smooth_ / tr_smooth_ * 100;
            double dx = std::fabs(di_plus - di_minus) / (di_plus + di_minus) * 100;
            if (std::isfinite(dx)) adx_.update(dx);  // Pine's rma skips na
            return adx_.ready() ? rescale_0_100(adx_.value()) : kNotReady;
        }
    }
    return kNotReady;
}

LorentzianClassifier::LorentzianClassifier(LorentzianSettings s)
    : s_((s.validate(), s)),
      closes_(static_cast<size_t>(std::max(5, s.kernel_regression_level + 2))),
      atr_recent_(1, Convention::tradingview),
      atr_history_(10, Convention::tradingview),
      regime_slope_ema_(200, Convention::tradingview),
      filter_adx_({LorentzianFeatureKind::adx, 14, 1}),
      trend_ema_(s.ema_period, Convention::tradingview),
      trend_sma_(s.sma_period) {
    for (int j = 0; j < s_.feature_count; ++j)
        features_.emplace_back(s_.features[static_cast<size_t>(j)]);
    size_t cap = static_cast<size_t>(s_.max_bars_back);
    for (int j = 0; j < s_.feature_count; ++j) rows_[static_cast<size_t>(j)].assign(cap, 0.0);
    labels_.assign(cap, 0);
    scratch_.assign(cap, 0.0);
    distances_.reserve(static_cast<size_t>(s_.neighbors) + 1);
    predictions_.reserve(static_cast<size_t>(s_.neighbors) + 1);

    // KernelFunctions: i = 0 .. 1 + x, newest first.
    int terms = s_.kernel_regression_level + 2;
    double h = s_.kernel_lookback, r = s_.kernel_relative_weight;
    double g = s_.kernel_lookback - s_.kernel_lag;
    for (int i = 0; i < terms; ++i) {
        double w1 = std::pow(1 + (std::pow(i, 2) / ((std::pow(h, 2) * 2 * r))), -r);
        double w2 = std::exp(-std::pow(i, 2) / (2 * std::pow(g, 2)));
        rq_weights_.push_back(w1);
        gauss_weights_.push_back(w2);
        rq_weight_sum_ += w1;
        gauss_weight_sum_ += w2;
    }
}

void LorentzianClassifier::reset() {
    *this = LorentzianClassifier(s_);
}

double LorentzianClassifier::confidence() const {
    return std::fabs(out_.prediction) / s_.neighbors;
}

// The approximate nearest-neighbour scan. The script sums log(1 + |difference|) over features and
// keeps a neighbour when that sum is >= the running threshold. log is increasing, so comparing
// the products of (1 + |difference|) orders candidates the same way without a logarithm per
// feature: the threshold and the kept distances are products here. (Features lie in [0, 1], so a
// product stays below 2^5.)
void LorentzianClassifier::search() {
    size_t k = static_cast<size_t>(s_.neighbors);
    size_t stored = std::min(row_count_, static_cast<size_t>(s_.max_bars_back));
    size_t size = stored - 1;  // the scan runs i = 0..size inclusive
    size_t nf = features_.size();
    double *prod = scratch_.data();
    // Oldest first: in `recent_bars` the ring's oldest row is at ring_head_ once it is full.
    size_t offset =
        s_.training == TrainingWindow::recent_bars && row_count_ > stored ? ring_head_ : 0;
    size_t cap = static_cast<size_t>(s_.max_bars_back);
    for (size_t i = 0; i <= size; ++i) prod[i] = 1.0;
    for (size_t j = 0; j < nf; ++j) {
        const double *row = rows_[j].data();
        double f = out_.features[j];
        if (offset == 0) {
            for (size_t i = 0; i <= size; ++i) prod[i] *= 1 + std::fabs(f - row[i]);
        } else {
            for (size_t i = 0; i <= size; ++i) {
                size_t at = offset + i;
                prod[i] *= 1 + std::fabs(f - row[at >= cap ? at - cap : at]);
            }
        }
    }
    double last = 0.0;  // the script's lastDistance = -1, as a product (any real distance passes)
    bool any = false;
    size_t quarter = static_cast<size_t>(std::lround(s_.neighbors * 3.0 / 4.0));
    for (size_t i = 1; i <= size; ++i) {
        if (i % 4 == 0) continue;
        double d = prod[i];
        if (!(any ? d >= last : d == d)) continue;  // NaN (a feature not ready then) never passes
        any = true;
        last = d;
        size_t at = offset + i;
        distances_.push_back(d);
        predictions_.push_back(labels_[at >= cap ? at - cap : at]);
        if (predictions_.size() > k) {
            last = distances_[quarter];
            distances_.erase(distances_.begin());
            predictions_.erase(predictions_.begin());
        }
    }
    // Pine's array.sum of an empty array is na (no neighbour kept yet: features not ready).
    double sum = predictions_.empty() ? kNotReady : 0.0;
    for (int p : predictions_) sum += p;
    out_.prediction = sum;
}

const LorentzianOutput &LorentzianClassifier::update(const Bar &b) {
    // Features, and whether all have values.
    bool all = true;
    for (size_t j = 0; j < features_.size(); ++j) {
        out_.features[j] = features_[j].update(b);
        all &= !std::isnan(out_.features[j]);
    }
    features_ready_ = all;

    // Training label: close 4 bars ago against now (the script's y_train_series, direction as
    // published: a rise over those 4 bars is labelled short).
    closes_.push(b.close);
    int label = 0;
    if (closes_.size() > 4) {
        double then = closes_.back(4), now = b.close;
        label = then < now ? -1 : then > now ? 1 : 0;
    }
    // Append the row: `first_bars` keeps the first max_bars_back rows (the only ones the script
    // ever reads); `recent_bars` overwrites the oldest.
    size_t cap = static_cast<size_t>(s_.max_bars_back);
    if (row_count_ < cap || s_.training == TrainingWindow::recent_bars) {
        size_t at = row_count_ < cap ? row_count_ : ring_head_;
        for (size_t j = 0; j < features_.size(); ++j) rows_[j][at] = out_.features[j];
        labels_[at] = label;
        if (row_count_ >= cap) ring_head_ = ring_head_ + 1 == cap ? 0 : ring_head_ + 1;
    }
    ++row_count_;

    if (bar_ >= s_.predict_from_bar) search();
    signals(b);
    ++bar_;
    return out_;
}

void LorentzianClassifier::signals(const Bar &b) {
    // Filters.
    atr_recent_.update(b);
    atr_history_.update(b);
    out_.filter_volatility =
        !s_.use_volatility_filter ||
        (atr_recent_.ready() && atr_history_.ready() && atr_recent_.value() > atr_history_.value());

    double src = b.ohlc4();
    double value1 =
        0.2 * (src - regime_prev_src_) + 0.8 * (std::isnan(regime_value1_) ? 0.0 : regime_value1_);
    regime_value2_ = 0.1 * (b.high - b.low) + 0.8 * regime_value2_;
    double omega = std::fabs(value1 / regime_value2_);
    double alpha =
        (-std::pow(omega, 2) + std::sqrt(std::pow(omega, 4) + 16 * std::pow(omega, 2))) / 8;
    double klmf = alpha * src + (1 - alpha) * (std::isnan(regime_klmf_) ? 0.0 : regime_klmf_);
    double slope = std::fabs(klmf - regime_klmf_);
    if (!std::isnan(slope)) regime_slope_ema_.update(slope);
    double ema = regime_slope_ema_.ready() ? regime_slope_ema_.value() : kNotReady;
    double decline = (slope - ema) / ema;
    out_.filter_regime = !s_.use_regime_filter || decline >= s_.regime_threshold;
    regime_value1_ = value1;
    regime_klmf_ = klmf;
    regime_prev_src_ = src;

    filter_adx_.update(b);
    out_.filter_adx = !s_.use_adx_filter ||
                      (filter_adx_.adx_.ready() && filter_adx_.adx_.value() > s_.adx_threshold);

    trend_ema_.update(b.close);
    trend_sma_.update(b.close);
    bool ema_up = !s_.use_ema_filter || (trend_ema_.ready() && b.close > trend_ema_.value());
    bool ema_down = !s_.use_ema_filter || (trend_ema_.ready() && b.close < trend_ema_.value());
    bool sma_up = !s_.use_sma_filter || (trend_sma_.ready() && b.close > trend_sma_.value());
    bool sma_down = !s_.use_sma_filter || (trend_sma_.ready() && b.close < trend_sma_.value());

    // Signal, held until the filtered prediction changes it.
    bool pass = out_.filter_volatility && out_.filter_regime && out_.filter_adx;
    int prev_signal = out_.signal;
    out_.signal = out_.prediction > 0 && pass ? 1 : out_.prediction < 0 && pass ? -1 : prev_signal;
    bool changed = bar_ > 0 && out_.signal != prev_signal;
    signal_.push(out_.signal);
    changed_.push(changed);
    ema_up_.push(ema_up);
    ema_down_.push(ema_down);
    sma_up_.push(sma_up);
    sma_down_.push(sma_down);
    bars_held_ = changed ? 0 : bars_held_ + 1;
    bool held_four = bars_held_ == 4;
    bool held_less = 0 < bars_held_ && bars_held_ < 4;
    bool has4 = bar_ >= 4;
    bool buy = out_.signal == 1 && ema_up && sma_up;
    bool sell = out_.signal == -1 && ema_down && sma_down;
    bool last_buy = has4 && signal_[4] == 1 && ema_up_[4] && sma_up_[4];
    bool last_sell = has4 && signal_[4] == -1 && ema_down_[4] && sma_down_[4];
    bool new_buy = buy && changed;
    bool new_sell = sell && changed;

    // Kernel regression over the last x + 2 closes, newest first.
    size_t terms = rq_weights_.size();
    double yhat1 = kNotReady, yhat2 = kNotReady;
    if (closes_.size() >= terms) {
        double c1 = 0, c2 = 0;
        for (size_t i = 0; i < terms; ++i) {
            double y = closes_.back(i);
            c1 += y * rq_weights_[i];
            c2 += y * gauss_weights_[i];
        }
        yhat1 = c1 / rq_weight_sum_;
        yhat2 = c2 / gauss_weight_sum_;
    }
    yhat1_.push(yhat1);
    yhat2_.push(yhat2);
    out_.yhat1 = yhat1;
    out_.yhat2 = yhat2;
    bool was_bearish_rate = yhat1_[2] > yhat1_[1];
    bool was_bullish_rate = yhat1_[2] < yhat1_[1];
    bool bearish_rate = yhat1_[1] > yhat1;
    bool bullish_rate = yhat1_[1] < yhat1;
    bool bearish_change = bearish_rate && was_bullish_rate;
    bool bullish_change = bullish_rate && was_bearish_rate;
    bool cross_up = yhat2 > yhat1 && yhat2_[1] <= yhat1_[1];
    bool cross_down = yhat2 < yhat1 && yhat2_[1] >= yhat1_[1];
    bool bullish_smooth = yhat2 >= yhat1, bearish_smooth = yhat2 <= yhat1;
    bool alert_bullish = s_.use_kernel_smoothing ? cross_up : bullish_change;
    bool alert_bearish = s_.use_kernel_smoothing ? cross_down : bearish_change;
    out_.kernel_bullish =
        !s_.use_kernel_filter || (s_.use_kernel_smoothing ? bullish_smooth : bullish_rate);
    out_.kernel_bearish =
        !s_.use_kernel_filter || (s_.use_kernel_smoothing ? bearish_smooth : bearish_rate);

    // Entries.
    out_.start_long = new_buy && out_.kernel_bullish && ema_up && sma_up;
    out_.start_short = new_sell && out_.kernel_bearish && ema_down && sma_down;
    start_long_.push(out_.start_long);
    start_short_.push(out_.start_short);

    // Exits: strict (4 bars after the entry, or an early flip) unless dynamic exits are on.
    auto since = [](int64_t &counter, bool now) {
        if (now)
            counter = 0;
        else if (counter >= 0)
            ++counter;
    };
    since(since_start_long_, out_.start_long);
    since(since_start_short_, out_.start_short);
    since(since_alert_bull_, alert_bullish);
    since(since_alert_bear_, alert_bearish);
    // ta.barssince is na before the first occurrence, and na compares false.
    bool valid_short_exit =
        since_alert_bull_ >= 0 && since_start_short_ >= 0 && since_alert_bull_ > since_start_short_;
    bool valid_long_exit =
        since_alert_bear_ >= 0 && since_start_long_ >= 0 && since_alert_bear_ > since_start_long_;
    valid_long_exit_.push(valid_long_exit);
    valid_short_exit_.push(valid_short_exit);
    bool end_long_dynamic = bearish_change && bar_ >= 1 && valid_long_exit_[1];
    bool end_short_dynamic = bullish_change && bar_ >= 1 && valid_short_exit_[1];
    bool end_long_strict =
        ((held_four && last_buy) || (held_less && new_sell && last_buy)) && has4 && start_long_[4];
    bool end_short_strict = ((held_four && last_sell) || (held_less && new_buy && last_sell)) &&
                            has4 && start_short_[4];
    bool dynamic = s_.use_dynamic_exits && !s_.use_ema_filter && !s_.use_sma_filter &&
                   !s_.use_kernel_smoothing;
    out_.end_long = dynamic ? end_long_dynamic : end_long_strict;
    out_.end_short = dynamic ? end_short_dynamic : end_short_strict;
}

}  // namespace keel::indicators
