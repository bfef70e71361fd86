#pragma once
// "Machine Learning: Lorentzian Classification" (jdehorty, TradingView), streaming, one closed
// bar at a time, faithful to the published Pine script including its quirks. docs/lorentzian.md
// explains the algorithm and every choice made here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "keel/indicators/averages.hpp"
#include "keel/indicators/bar.hpp"
#include "keel/indicators/momentum.hpp"
#include "keel/indicators/volatility.hpp"
#include "keel/indicators/window.hpp"

namespace keel::indicators {

enum class LorentzianFeatureKind { rsi, wt, cci, adx };

struct LorentzianFeature {
    LorentzianFeatureKind kind;
    int a;      // the primary period ("Parameter A")
    int b = 1;  // the smoothing period ("Parameter B"; WT's second length; unused by ADX)
};

// Which past bars the neighbour search compares with. The published script appends every bar to
// arrays it never trims and scans their first max_bars_back entries, so it compares with the
// first bars it ever saw (`first_bars`, the default, what TradingView shows). `recent_bars` scans
// the latest max_bars_back bars instead, oldest first, with everything else the same.
enum class TrainingWindow { first_bars, recent_bars };

struct LorentzianSettings {
    int neighbors = 8;
    int max_bars_back = 2000;
    int feature_count = 5;  // 2..5: the first feature_count of `features`
    std::array<LorentzianFeature, 5> features = {{{LorentzianFeatureKind::rsi, 14, 1},
                                                  {LorentzianFeatureKind::wt, 10, 11},
                                                  {LorentzianFeatureKind::cci, 20, 1},
                                                  {LorentzianFeatureKind::adx, 20, 2},
                                                  {LorentzianFeatureKind::rsi, 9, 1}}};
    TrainingWindow training = TrainingWindow::first_bars;
    // Bars before this index are learned from but not predicted (the script's maxBarsBackIndex,
    // last_bar_index - max_bars_back on TradingView; 0 predicts from the first bar).
    int64_t predict_from_bar = 0;

    bool use_volatility_filter = true;
    bool use_regime_filter = true;
    double regime_threshold = -0.1;
    bool use_adx_filter = false;
    double adx_threshold = 20;
    bool use_ema_filter = false;
    int ema_period = 200;
    bool use_sma_filter = false;
    int sma_period = 200;

    bool use_kernel_filter = true;
    bool use_kernel_smoothing = false;
    int kernel_lookback = 8;            // h
    double kernel_relative_weight = 8;  // r
    int kernel_regression_level = 25;   // x
    int kernel_lag = 2;
    bool use_dynamic_exits = false;

    // Throws std::invalid_argument naming the setting that is out of range.
    void validate() const;
};

struct LorentzianOutput {
    std::array<double, 5> features{};  // NaN until each is ready
    double prediction = 0;             // sum of the kept neighbours' labels; NaN before any is kept
    int signal = 0;                    // +1 long, -1 short, 0 neutral (held between changes)
    bool filter_volatility = false, filter_regime = false, filter_adx = false;
    double yhat1 = kNotReady, yhat2 = kNotReady;  // rational quadratic and Gaussian estimates
    bool kernel_bullish = false, kernel_bearish = false;
    bool start_long = false, start_short = false, end_long = false, end_short = false;
};

class LorentzianClassifier {
  public:
    explicit LorentzianClassifier(LorentzianSettings s = {});
    LorentzianClassifier(const LorentzianClassifier &) = default;
    LorentzianClassifier &operator=(const LorentzianClassifier &) = default;

    const LorentzianOutput &update(const Bar &b);
    const LorentzianOutput &output() const { return out_; }
    const LorentzianSettings &settings() const { return s_; }
    // True once every feature has a value (the model predicts from then on).
    bool ready() const { return features_ready_; }
    // |prediction| / neighbors: 1 when every neighbour agrees.
    double confidence() const;
    void reset();

    // One feature series, Pine's arithmetic; public for tests.
    class Feature {
      public:
        explicit Feature(LorentzianFeature f);
        double update(const Bar &b);  // NaN while not ready
        void reset();

      private:
        LorentzianFeature f_;
        Rsi rsi_;
        Ema smooth_;
        WaveTrend wt_;
        Cci cci_;
        // The script's own ADX (MLExtensions n_adx), not ta.dmi.
        double prev_high_ = 0, prev_low_ = 0, prev_close_ = 0;
        bool has_prev_ = false;
        double tr_smooth_ = 0, dm_plus_smooth_ = 0, dm_minus_smooth_ = 0;
        Rma adx_;
        // normalize(): running min and max of every value seen.
        double min_ = 10e10, max_ = -10e10;
        friend class LorentzianClassifier;
    };

  private:
    void search();
    void signals(const Bar &b);

    LorentzianSettings s_;
    std::vector<Feature> features_;
    // Training rows, structure of arrays: feature j of row i is rows_[j][i].
    std::array<std::vector<double>, 5> rows_;
    std::vector<int> labels_;
    size_t row_count_ = 0, ring_head_ = 0;
    std::vector<double> distances_;  // products of (1 + |difference|): see search()
    std::vector<int> predictions_;
    std::vector<double> scratch_;
    RingWindow closes_;  // the last 5 closes (label) and kernel window
    bool features_ready_ = false;
    int64_t bar_ = 0;

    // Filters.
    Atr atr_recent_, atr_history_;
    double regime_value1_ = kNotReady, regime_value2_ = 0, regime_klmf_ = kNotReady;
    double regime_prev_src_ = kNotReady;
    Ema regime_slope_ema_;
    Feature filter_adx_;
    Ema trend_ema_;
    Sma trend_sma_;

    // Kernel regression weights, newest first.
    std::vector<double> rq_weights_, gauss_weights_;
    double rq_weight_sum_ = 0, gauss_weight_sum_ = 0;

    // Short histories (index 0 = this bar) for the script's x[1]..x[4].
    template <typename T, size_t N>
    struct History {
        std::array<T, N> v{};
        void push(T x) {
            for (size_t i = N - 1; i > 0; --i) v[i] = v[i - 1];
            v[0] = x;
        }
        T operator[](size_t i) const { return v[i]; }
    };
    History<int, 5> signal_;
    History<bool, 5> changed_, ema_up_, sma_up_, ema_down_, sma_down_, start_long_, start_short_;
    History<bool, 2> valid_long_exit_, valid_short_exit_;
    History<double, 3> yhat1_, yhat2_;
    int64_t bars_held_ = 0;
    int64_t since_start_long_ = -1, since_start_short_ = -1, since_alert_bull_ = -1,
            since_alert_bear_ = -1;

    LorentzianOutput out_;
};

}  // namespace keel::indicators
