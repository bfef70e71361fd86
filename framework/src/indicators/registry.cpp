#include "keel/indicators/registry.hpp"

#include <array>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "keel/indicators/averages.hpp"
#include "keel/indicators/momentum.hpp"
#include "keel/indicators/volatility.hpp"
#include "keel/indicators/volume.hpp"

namespace keel::indicators {
namespace {

template <typename I, size_t N>
class Adapter final : public AnyIndicator {
  public:
    using Update = void (*)(I &, const Bar &, TimeNs);
    using Get = double (*)(const I &);
    Adapter(I ind, Update on_update, const std::array<const char *, N> &names,
            const std::array<Get, N> &get)
        : ind_(std::move(ind)), update_(on_update), names_(names), get_(get) {}
    void update(const Bar &b, TimeNs start) override { update_(ind_, b, start); }
    bool ready() const override { return ind_.ready(); }
    std::span<const char *const> output_names() const override { return names_; }
    double output(size_t k) const override { return get_[k](ind_); }
    void reset() override { ind_.reset(); }
    std::unique_ptr<AnyIndicator> clone() const override {
        return std::make_unique<Adapter>(*this);
    }

  private:
    I ind_;
    Update update_;
    std::array<const char *, N> names_;
    std::array<Get, N> get_;
};

template <typename I, size_t N>
std::unique_ptr<AnyIndicator> adapt(I ind, typename Adapter<I, N>::Update update,
                                    const std::array<const char *, N> &names,
                                    const std::array<typename Adapter<I, N>::Get, N> &get) {
    return std::make_unique<Adapter<I, N>>(std::move(ind), update, names, get);
}

// One-output indicators of the close.
template <typename I>
std::unique_ptr<AnyIndicator> of_close(I ind) {
    return adapt<I, 1>(std::move(ind), [](I &i, const Bar &b, TimeNs) { i.update(b.close); },
                       {"value"}, {[](const I &i) { return i.value(); }});
}
// One-output indicators of the bar.
template <typename I>
std::unique_ptr<AnyIndicator> of_bar(I ind) {
    return adapt<I, 1>(std::move(ind), [](I &i, const Bar &b, TimeNs) { i.update(b); }, {"value"},
                       {[](const I &i) { return i.value(); }});
}

struct ResetLorentzian {
    LorentzianClassifier model;
    bool ready() const { return model.ready(); }
    void reset() { model.reset(); }
};

const std::vector<IndicatorKind> &kinds() {
    static const std::vector<IndicatorKind> k = {
        {"sma", "simple moving average of the close", {{"period", 20}}},
        {"ema", "exponential moving average of the close (TA-Lib seeding)", {{"period", 20}}},
        {"wma", "linearly weighted moving average of the close", {{"period", 20}}},
        {"rma", "Wilder's moving average of the close", {{"period", 14}}},
        {"rsi", "Wilder's RSI of the close (TA-Lib)", {{"period", 14}}},
        {"true_range", "true range", {}},
        {"atr", "average true range (TA-Lib)", {{"period", 14}}},
        {"adx", "ADX with +DI and -DI (TA-Lib); outputs adx, plus_di, minus_di", {{"period", 14}}},
        {"cci", "commodity channel index of the typical price", {{"period", 20}}},
        {"wavetrend", "LazyBear's WaveTrend; outputs wt1, wt2", {{"channel", 10}, {"average", 21}}},
        {"bollinger",
         "Bollinger Bands; outputs upper, middle, lower",
         {{"period", 20}, {"deviations", 2}}},
        {"chandelier",
         "Chandelier Exit; outputs long_stop, short_stop, direction",
         {{"period", 22}, {"multiplier", 3}, {"use_close", 1}}},
        {"macd",
         "MACD (TA-Lib); outputs macd, signal, histogram",
         {{"fast", 12}, {"slow", 26}, {"signal", 9}}},
        {"stochastic", "slow stochastic; outputs k, d", {{"k", 14}, {"slowing", 3}, {"d", 3}}},
        {"vwap",
         "VWAP of the typical price, anchored to sessions of `session` seconds (UTC days)",
         {{"session", 86400}}},
        {"obv", "on-balance volume", {}},
        {"donchian", "Donchian channel; outputs upper, middle, lower", {{"period", 20}}},
        {"keltner",
         "Keltner channel (EMA +- multiplier x ATR); outputs upper, middle, lower",
         {{"period", 20}, {"atr_period", 10}, {"multiplier", 2}}},
        {"highest", "highest high over a period", {{"period", 20}}},
        {"lowest", "lowest low over a period", {{"period", 20}}},
        {"stddev",
         "rolling population standard deviation of the close",
         {{"period", 20}, {"deviations", 1}}},
        {"lorentzian",
         "Lorentzian classification; outputs prediction, signal, confidence, start_long, "
         "start_short, end_long, end_short, yhat1, yhat2, f1..f5 (settings: docs/lorentzian.md)",
         {}},
    };
    return k;
}

struct Args {
    std::string_view kind;
    const IndicatorParams &given;
    const IndicatorKind &spec;

    double get(const char *name) const {
        auto it = given.find(name);
        if (it != given.end()) return it->second;
        for (auto &[n, d] : spec.params)
            if (std::string_view(n) == name) return d;
        throw std::logic_error("indicator parameter without default");
    }
    long period(const char *name) const {
        double v = get(name);
        if (!(v >= 1) || v != std::floor(v) || v > 1e6)
            throw std::invalid_argument(
                fmt::format("indicator {}: {} must be a whole number from 1 to 1000000, got {}",
                            kind, name, v));
        return static_cast<long>(v);
    }
    double positive(const char *name) const {
        double v = get(name);
        if (!(v > 0) || !std::isfinite(v))
            throw std::invalid_argument(
                fmt::format("indicator {}: {} must be a positive number, got {}", kind, name, v));
        return v;
    }
};

}  // namespace

std::span<const IndicatorKind> indicator_kinds() {
    return kinds();
}

LorentzianSettings lorentzian_settings(const IndicatorParams &params) {
    LorentzianSettings s;
    auto integer = [](std::string_view name, double v) {
        if (v != std::floor(v) || !std::isfinite(v) || std::fabs(v) > 1e9)
            throw std::invalid_argument(
                fmt::format("indicator lorentzian: {} must be a whole number, got {}", name, v));
        return static_cast<int>(v);
    };
    for (auto &[name, v] : params) {
        if (name == "neighbors")
            s.neighbors = integer(name, v);
        else if (name == "max_bars_back")
            s.max_bars_back = integer(name, v);
        else if (name == "feature_count")
            s.feature_count = integer(name, v);
        else if (name == "predict_from_bar")
            s.predict_from_bar = integer(name, v);
        else if (name == "recent_bars")
            s.training = v != 0 ? TrainingWindow::recent_bars : TrainingWindow::first_bars;
        else if (name == "use_volatility_filter")
            s.use_volatility_filter = v != 0;
        else if (name == "use_regime_filter")
            s.use_regime_filter = v != 0;
        else if (name == "regime_threshold")
            s.regime_threshold = v;
        else if (name == "use_adx_filter")
            s.use_adx_filter = v != 0;
        else if (name == "adx_threshold")
            s.adx_threshold = v;
        else if (name == "use_ema_filter")
            s.use_ema_filter = v != 0;
        else if (name == "ema_period")
            s.ema_period = integer(name, v);
        else if (name == "use_sma_filter")
            s.use_sma_filter = v != 0;
        else if (name == "sma_period")
            s.sma_period = integer(name, v);
        else if (name == "use_kernel_filter")
            s.use_kernel_filter = v != 0;
        else if (name == "use_kernel_smoothing")
            s.use_kernel_smoothing = v != 0;
        else if (name == "kernel_lookback")
            s.kernel_lookback = integer(name, v);
        else if (name == "kernel_relative_weight")
            s.kernel_relative_weight = v;
        else if (name == "kernel_regression_level")
            s.kernel_regression_level = integer(name, v);
        else if (name == "kernel_lag")
            s.kernel_lag = integer(name, v);
        else if (name == "use_dynamic_exits")
            s.use_dynamic_exits = v != 0;
        else
            throw std::invalid_argument(
                fmt::format("indicator lorentzian: unknown setting '{}'", name));
    }
    try {
        s.validate();
    } catch (const std::invalid_argument &e) {
        throw std::invalid_argument(fmt::format("indicator {}", e.what()));
    }
    return s;
}

std::unique_ptr<AnyIndicator> make_indicator(std::string_view kind, const IndicatorParams &params) {
    const IndicatorKind *spec = nullptr;
    for (auto &k : kinds())
        if (kind == k.name) spec = &k;
    if (!spec) {
        std::string known;
        for (auto &k : kinds()) known += (known.empty() ? "" : ", ") + std::string(k.name);
        throw std::invalid_argument(fmt::format("unknown indicator '{}' (known: {})", kind, known));
    }
    if (kind == "lorentzian") {
        ResetLorentzian model{LorentzianClassifier(lorentzian_settings(params))};
        using M = ResetLorentzian;
        return adapt<M, 14>(
            std::move(model), [](M &m, const Bar &b, TimeNs) { m.model.update(b); },
            {"prediction", "signal", "confidence", "start_long", "start_short", "end_long",
             "end_short", "yhat1", "yhat2", "f1", "f2", "f3", "f4", "f5"},
            {[](const M &m) { return m.model.output().prediction; },
             [](const M &m) { return double(m.model.output().signal); },
             [](const M &m) { return m.model.confidence(); },
             [](const M &m) { return double(m.model.output().start_long); },
             [](const M &m) { return double(m.model.output().start_short); },
             [](const M &m) { return double(m.model.output().end_long); },
             [](const M &m) { return double(m.model.output().end_short); },
             [](const M &m) { return m.model.output().yhat1; },
             [](const M &m) { return m.model.output().yhat2; },
             [](const M &m) { return m.model.output().features[0]; },
             [](const M &m) { return m.model.output().features[1]; },
             [](const M &m) { return m.model.output().features[2]; },
             [](const M &m) { return m.model.output().features[3]; },
             [](const M &m) { return m.model.output().features[4]; }});
    }
    for (auto &[name, value] : params) {
        bool known = false;
        for (auto &[n, d] : spec->params) known |= name == n;
        if (!known)
            throw std::invalid_argument(
                fmt::format("indicator {}: unknown parameter '{}'", kind, name));
    }
    Args a{kind, params, *spec};

    if (kind == "sma") return of_close(Sma(a.period("period")));
    if (kind == "ema") return of_close(Ema(a.period("period")));
    if (kind == "wma") return of_close(Wma(a.period("period")));
    if (kind == "rma") return of_close(Rma(a.period("period")));
    if (kind == "rsi") return of_close(Rsi(a.period("period")));
    if (kind == "true_range") return of_bar(TrueRange());
    if (kind == "atr") return of_bar(Atr(a.period("period")));
    if (kind == "cci") return of_bar(Cci(a.period("period")));
    if (kind == "obv") return of_bar(Obv());
    if (kind == "highest")
        return adapt<Highest, 1>(Highest(a.period("period")),
                                 [](Highest &i, const Bar &b, TimeNs) { i.update(b.high); },
                                 {"value"}, {[](const Highest &i) { return i.value(); }});
    if (kind == "lowest")
        return adapt<Lowest, 1>(Lowest(a.period("period")),
                                [](Lowest &i, const Bar &b, TimeNs) { i.update(b.low); }, {"value"},
                                {[](const Lowest &i) { return i.value(); }});
    if (kind == "stddev")
        return of_close(RollingStdDev(a.period("period"), a.positive("deviations")));
    if (kind == "vwap") {
        double session = a.get("session");
        if (!(session >= 0) || session != std::floor(session))
            throw std::invalid_argument(fmt::format(
                "indicator vwap: session must be whole seconds (0 = never), got {}", session));
        return adapt<Vwap, 1>(Vwap(static_cast<TimeNs>(session) * 1'000'000'000),
                              [](Vwap &i, const Bar &b, TimeNs start) { i.update(b, start); },
                              {"value"}, {[](const Vwap &i) { return i.value(); }});
    }
    if (kind == "adx")
        return adapt<Adx, 3>(
            Adx(a.period("period")), [](Adx &i, const Bar &b, TimeNs) { i.update(b); },
            {"adx", "plus_di", "minus_di"},
            {[](const Adx &i) { return i.adx(); }, [](const Adx &i) { return i.plus_di(); },
             [](const Adx &i) { return i.minus_di(); }});
    if (kind == "wavetrend")
        return adapt<WaveTrend, 2>(
            WaveTrend(a.period("channel"), a.period("average")),
            [](WaveTrend &i, const Bar &b, TimeNs) { i.update(b); }, {"wt1", "wt2"},
            {[](const WaveTrend &i) { return i.ready() ? i.wt1() : kNotReady; },
             [](const WaveTrend &i) { return i.wt2(); }});
    if (kind == "bollinger")
        return adapt<BollingerBands, 3>(
            BollingerBands(a.period("period"), a.positive("deviations")),
            [](BollingerBands &i, const Bar &b, TimeNs) { i.update(b); },
            {"upper", "middle", "lower"},
            {[](const BollingerBands &i) { return i.upper(); },
             [](const BollingerBands &i) { return i.middle(); },
             [](const BollingerBands &i) { return i.lower(); }});
    if (kind == "chandelier")
        return adapt<ChandelierExit, 3>(
            ChandelierExit(a.period("period"), a.positive("multiplier"), a.get("use_close") != 0),
            [](ChandelierExit &i, const Bar &b, TimeNs) { i.update(b); },
            {"long_stop", "short_stop", "direction"},
            {[](const ChandelierExit &i) { return i.long_stop(); },
             [](const ChandelierExit &i) { return i.short_stop(); },
             [](const ChandelierExit &i) {
                 return i.ready() ? double(i.direction()) : kNotReady;
             }});
    if (kind == "macd")
        return adapt<Macd, 3>(
            Macd(a.period("fast"), a.period("slow"), a.period("signal")),
            [](Macd &i, const Bar &b, TimeNs) { i.update(b.close); },
            {"macd", "signal", "histogram"},
            {[](const Macd &i) { return i.line(); }, [](const Macd &i) { return i.signal(); },
             [](const Macd &i) { return i.histogram(); }});
    if (kind == "stochastic")
        return adapt<Stochastic, 2>(
            Stochastic(a.period("k"), a.period("slowing"), a.period("d")),
            [](Stochastic &i, const Bar &b, TimeNs) { i.update(b); }, {"k", "d"},
            {[](const Stochastic &i) { return i.k(); }, [](const Stochastic &i) { return i.d(); }});
    if (kind == "donchian")
        return adapt<DonchianChannel, 3>(
            DonchianChannel(a.period("period")),
            [](DonchianChannel &i, const Bar &b, TimeNs) { i.update(b); },
            {"upper", "middle", "lower"},
            {[](const DonchianChannel &i) { return i.upper(); },
             [](const DonchianChannel &i) { return i.middle(); },
             [](const DonchianChannel &i) { return i.lower(); }});
    if (kind == "keltner")
        return adapt<KeltnerChannel, 3>(
            KeltnerChannel(a.period("period"), a.period("atr_period"), a.positive("multiplier")),
            [](KeltnerChannel &i, const Bar &b, TimeNs) { i.update(b); },
            {"upper", "middle", "lower"},
            {[](const KeltnerChannel &i) { return i.upper(); },
             [](const KeltnerChannel &i) { return i.middle(); },
             [](const KeltnerChannel &i) { return i.lower(); }});
    throw std::logic_error("indicator kind listed but not built: " + std::string(kind));
}

std::vector<double> run_batch(const AnyIndicator &prototype, std::span<const Bar> bars,
                              std::span<const TimeNs> starts) {
    auto ind = prototype.clone();
    ind->reset();
    size_t n = ind->output_names().size();
    std::vector<double> out;
    out.reserve(bars.size() * n);
    for (size_t t = 0; t < bars.size(); ++t) {
        ind->update(bars[t], t < starts.size() ? starts[t] : 0);
        for (size_t k = 0; k < n; ++k) out.push_back(ind->output(k));
    }
    return out;
}

IndicatorSeries::IndicatorSeries(std::unique_ptr<AnyIndicator> indicator, size_t depth)
    : indicator_(std::move(indicator)),
      depth_(depth ? depth : 1),
      outputs_(indicator_->output_names().size()),
      history_(depth_ * outputs_, kNotReady) {}

void IndicatorSeries::update(const Bar &b, TimeNs start) {
    indicator_->update(b, start);
    head_ = head_ + 1 == depth_ ? 0 : head_ + 1;
    for (size_t k = 0; k < outputs_; ++k) history_[head_ * outputs_ + k] = indicator_->output(k);
    if (filled_ < depth_) ++filled_;
}

double IndicatorSeries::value(size_t output, size_t ago) const {
    if (output >= outputs_ || ago >= filled_) return kNotReady;
    size_t row = head_ + depth_ - ago;
    row = row >= depth_ ? row - depth_ : row;
    return history_[row * outputs_ + output];
}

}  // namespace keel::indicators
