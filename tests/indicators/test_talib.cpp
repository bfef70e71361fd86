// keel's indicators against TA-Lib (talib-web, TA-Lib 0.4 compiled to WebAssembly), run at test
// time by tests/reference/talib.mjs on the real 1m candles in ../shared/data/candles.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "keel/indicators/averages.hpp"
#include "keel/indicators/momentum.hpp"
#include "keel/indicators/volatility.hpp"
#include "keel/indicators/volume.hpp"
#include "reference.hpp"

using namespace keel;
using namespace keel::indicators;

namespace {

// A keel computation producing one series to compare with one TA-Lib output.
struct Case {
    std::string ref;  // the reference's key
    std::function<void(const Bar &)> update;
    std::function<bool()> ready;
    std::function<double()> value;
};

template <typename I, typename Get>
Case of(std::string ref, std::shared_ptr<I> ind, std::function<void(I &, const Bar &)> up,
        Get get) {
    return {std::move(ref), [ind, up](const Bar &b) { up(*ind, b); },
            [ind] { return ind->ready(); }, [ind, get] { return get(*ind); }};
}
template <typename I>
Case close_of(std::string ref, I ind) {
    auto p = std::make_shared<I>(std::move(ind));
    return of<I>(
        std::move(ref), p, [](I &i, const Bar &b) { i.update(b.close); },
        [](const I &i) { return i.value(); });
}
template <typename I>
Case bar_of(std::string ref, I ind) {
    auto p = std::make_shared<I>(std::move(ind));
    return of<I>(
        std::move(ref), p, [](I &i, const Bar &b) { i.update(b); },
        [](const I &i) { return i.value(); });
}
template <typename I, typename Get>
Case bar_get(std::string ref, std::shared_ptr<I> p, Get get) {
    return of<I>(
        std::move(ref), p, [](I &i, const Bar &b) { i.update(b); }, get);
}

std::vector<Case> cases() {
    std::vector<Case> c;
    c.push_back(close_of("SMA_20", Sma(20)));
    c.push_back(close_of("SMA_7", Sma(7)));
    c.push_back(close_of("EMA_20", Ema(20)));
    c.push_back(close_of("EMA_50", Ema(50)));
    c.push_back(close_of("WMA_20", Wma(20)));
    c.push_back(close_of("RSI_14", Rsi(14)));
    c.push_back(close_of("RSI_9", Rsi(9)));
    c.push_back(close_of("STDDEV_20", RollingStdDev(20)));
    c.push_back(bar_of("ATR_14", Atr(14)));
    c.push_back(bar_of("TRANGE", TrueRange()));
    c.push_back(bar_of("CCI_20", Cci(20)));
    c.push_back(bar_of("CCI_14", Cci(14)));
    c.push_back(bar_of("OBV", Obv()));
    for (long n : {14L, 20L}) {
        auto adx = std::make_shared<Adx>(n);
        c.push_back(bar_get("ADX_" + std::to_string(n), adx, [](const Adx &a) { return a.adx(); }));
    }
    // The DIs are ready before the ADX: a separate instance asks about them.
    auto di = std::make_shared<Adx>(14);
    c.push_back(of<Adx>(
        "PLUS_DI_14", di, [](Adx &a, const Bar &b) { a.update(b); },
        [](const Adx &a) { return a.plus_di(); }));
    c.back().ready = [di] { return !std::isnan(di->plus_di()); };
    auto di2 = std::make_shared<Adx>(14);
    c.push_back(of<Adx>(
        "MINUS_DI_14", di2, [](Adx &a, const Bar &b) { a.update(b); },
        [](const Adx &a) { return a.minus_di(); }));
    c.back().ready = [di2] { return !std::isnan(di2->minus_di()); };

    auto bb = std::make_shared<BollingerBands>(20, 2.0);
    c.push_back(
        bar_get("BBANDS_20_2_upper", bb, [](const BollingerBands &b) { return b.upper(); }));
    auto bb2 = std::make_shared<BollingerBands>(20, 2.0);
    c.push_back(
        bar_get("BBANDS_20_2_middle", bb2, [](const BollingerBands &b) { return b.middle(); }));
    auto bb3 = std::make_shared<BollingerBands>(20, 2.0);
    c.push_back(
        bar_get("BBANDS_20_2_lower", bb3, [](const BollingerBands &b) { return b.lower(); }));

    for (int k = 0; k < 3; ++k) {
        static const char *names[] = {"MACD_12_26_9_macd", "MACD_12_26_9_signal",
                                      "MACD_12_26_9_hist"};
        auto m = std::make_shared<Macd>(12, 26, 9);
        c.push_back(of<Macd>(
            names[k], m, [](Macd &x, const Bar &b) { x.update(b.close); },
            [k](const Macd &x) {
                return k == 0 ? x.line() : k == 1 ? x.signal() : x.histogram();
            }));
    }
    auto st = std::make_shared<Stochastic>(14, 3, 3);
    c.push_back(bar_get("STOCH_14_3_3_slowk", st, [](const Stochastic &s) { return s.k(); }));
    auto st2 = std::make_shared<Stochastic>(14, 3, 3);
    c.push_back(bar_get("STOCH_14_3_3_slowd", st2, [](const Stochastic &s) { return s.d(); }));

    auto dc = std::make_shared<DonchianChannel>(20);
    c.push_back(bar_get("MAX_20", dc, [](const DonchianChannel &d) { return d.upper(); }));
    auto dc2 = std::make_shared<DonchianChannel>(20);
    c.push_back(bar_get("MIN_20", dc2, [](const DonchianChannel &d) { return d.lower(); }));
    auto dc3 = std::make_shared<DonchianChannel>(20);
    c.push_back(bar_get("MIDPRICE_20", dc3, [](const DonchianChannel &d) { return d.middle(); }));
    auto hi = std::make_shared<Highest>(20);
    c.push_back(of<Highest>(
        "MAX_20", hi, [](Highest &h, const Bar &b) { h.update(b.high); },
        [](const Highest &h) { return h.value(); }));
    auto lo = std::make_shared<Lowest>(20);
    c.push_back(of<Lowest>(
        "MIN_20", lo, [](Lowest &h, const Bar &b) { h.update(b.low); },
        [](const Lowest &h) { return h.value(); }));
    return c;
}

// |a - b| relative to the larger magnitude; exact zeros compare equal, NaN is infinitely wrong.
double rel_error(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return INFINITY;
    double scale = std::max(std::fabs(a), std::fabs(b));
    return scale == 0 ? 0 : std::fabs(a - b) / scale;
}

}  // namespace

TEST_CASE("indicators equal TA-Lib on real 1m candles", "[indicators][talib]") {
    for (const auto &file : test::talib_files()) {
        auto data = test::load_bars(test::candle_dir() / file);
        auto ref = test::read_talib_reference(test::reference_dir() / (file + ".talib.json"));
        REQUIRE(ref.size() == 28);
        for (auto &c : cases()) {
            INFO(file << " " << c.ref);
            REQUIRE(ref.count(c.ref));
            const auto &r = ref.at(c.ref);
            REQUIRE(r.begin + r.values.size() == data.bars.size());
            size_t first_ready = data.bars.size(), compared = 0;
            double worst = 0;
            size_t worst_at = 0;
            for (size_t t = 0; t < data.bars.size(); ++t) {
                c.update(data.bars[t]);
                if (!c.ready()) continue;
                if (first_ready == data.bars.size()) first_ready = t;
                double e = rel_error(c.value(), r.values[t - r.begin]);
                if (e > worst) {
                    worst = e;
                    worst_at = t;
                }
                ++compared;
            }
            // keel's warm-up is TA-Lib's lookback: the first value comes on the same bar.
            CHECK(first_ready == r.begin);
            CHECK(compared == r.values.size());
            INFO("worst relative error " << worst << " at bar " << worst_at);
            CHECK(worst <= 1e-9);
        }
    }
}

TEST_CASE("Keltner channel is TA-Lib's EMA plus and minus a multiple of TA-Lib's ATR",
          "[indicators][talib]") {
    const auto &file = test::talib_files()[0];
    auto data = test::load_bars(test::candle_dir() / file);
    auto ref = test::read_talib_reference(test::reference_dir() / (file + ".talib.json"));
    const auto &ema = ref.at("EMA_20");
    const auto &atr = ref.at("ATR_14");
    KeltnerChannel kc(20, 14, 2.0);
    size_t compared = 0;
    for (size_t t = 0; t < data.bars.size(); ++t) {
        kc.update(data.bars[t]);
        if (!kc.ready()) continue;
        double e = ema.values[t - ema.begin], a = atr.values[t - atr.begin];
        REQUIRE(rel_error(kc.middle(), e) <= 1e-9);
        REQUIRE(rel_error(kc.upper(), e + 2 * a) <= 1e-9);
        REQUIRE(rel_error(kc.lower(), e - 2 * a) <= 1e-9);
        ++compared;
    }
    CHECK(compared == data.bars.size() - std::max(ema.begin, atr.begin));
}
