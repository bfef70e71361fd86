// WaveTrend, Chandelier Exit and the Lorentzian model against an independent JavaScript
// implementation of their published Pine definitions (tests/reference/lorentzian), run at test
// time on the real candles. Numbers agree to 1e-9 (relative; absolute for the [0, 1] features);
// every discrete output (direction, prediction, signal, filters, entries, exits) agrees exactly.
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>

#include <simdjson.h>

#include "keel/indicators/lorentzian.hpp"
#include "keel/indicators/momentum.hpp"
#include "keel/indicators/volatility.hpp"
#include "reference.hpp"

using namespace keel;
using namespace keel::indicators;

namespace {

// One output series of the JS reference: NaN stands for null (na), booleans are 0/1.
using Series = std::vector<double>;

struct PineRef {
    size_t bars = 0;
    std::map<std::string, Series> series;  // "wavetrend.wt1", "lorentzian.signal", ...
};

PineRef read_pine_reference(const std::filesystem::path &json) {
    simdjson::dom::parser parser;
    simdjson::padded_string text;
    if (simdjson::padded_string::load(json.string()).get(text))
        throw std::runtime_error("cannot read " + json.string() +
                                 " (the lorentzian_reference test writes it)");
    simdjson::dom::element doc = parser.parse(text);
    PineRef ref;
    ref.bars = static_cast<size_t>(doc["bars"].get_int64().value());
    for (const char *group : {"wavetrend", "chandelier", "lorentzian"}) {
        for (auto field : doc[group].get_object()) {
            Series s;
            for (auto v : field.value.get_array()) {
                if (v.is_null())
                    s.push_back(NAN);
                else if (v.is_bool())
                    s.push_back(v.get_bool().value() ? 1.0 : 0.0);
                else
                    s.push_back(v.get_double().value());
            }
            ref.series.emplace(std::string(group) + "." + std::string(field.key), std::move(s));
        }
    }
    return ref;
}

// Counts disagreements of one series: availability (NaN or not) must match, values within tol
// (relative to max(1, |want|) when `absolute_floor`, else to max(|got|, |want|)).
struct Compare {
    std::string name;
    size_t mismatches = 0, compared = 0, first_bad = SIZE_MAX;
    double worst = 0;
    void add(size_t t, double got, double want, double tol, bool absolute_floor = false) {
        bool bad;
        if (std::isnan(got) || std::isnan(want)) {
            bad = std::isnan(got) != std::isnan(want);
        } else {
            double scale = absolute_floor ? std::max(1.0, std::fabs(want))
                                          : std::max(std::fabs(got), std::fabs(want));
            double e = scale == 0 ? 0 : std::fabs(got - want) / scale;
            worst = std::max(worst, e);
            bad = e > tol;
            ++compared;
        }
        if (bad && first_bad == SIZE_MAX) first_bad = t;
        mismatches += bad;
    }
};

void report(const std::vector<Compare> &cs) {
    for (auto &c : cs) {
        INFO(c.name << ": " << c.mismatches << " mismatches (first at bar " << c.first_bad << "), "
                    << c.compared << " values compared, worst error " << c.worst);
        CHECK(c.mismatches == 0);
        CHECK(c.compared > 0);
    }
}

const std::vector<std::string> &pine_files() {
    static const std::vector<std::string> f = {
        "binance_BTCUSDT_1m_20210420_20210520.json", "binance_ETHUSDT_1m_20210420_20210520.json",
        "binance_SOLUSDT_1m_20210515_20210615.json", "ftx_BTC-PERP_1m_20211231_20220201.csv"};
    return f;
}

void compare_lorentzian(const test::Bars &data, const PineRef &ref, int64_t predict_from,
                        const std::string &label) {
    LorentzianSettings s;
    s.predict_from_bar = predict_from;
    LorentzianClassifier model(s);
    static const char *names[] = {"f1",
                                  "f2",
                                  "f3",
                                  "f4",
                                  "f5",
                                  "prediction",
                                  "signal",
                                  "filter_volatility",
                                  "filter_regime",
                                  "yhat1",
                                  "yhat2",
                                  "start_long",
                                  "start_short",
                                  "end_long",
                                  "end_short"};
    std::vector<Compare> cs;
    for (auto n : names) cs.push_back({label + " lorentzian." + n});
    size_t entries = 0;
    for (size_t t = 0; t < ref.bars; ++t) {
        const auto &o = model.update(data.bars[t]);
        auto want = [&](int k) { return ref.series.at(std::string("lorentzian.") + names[k])[t]; };
        for (int j = 0; j < 5; ++j) cs[j].add(t, o.features[j], want(j), 1e-9, true);
        cs[5].add(t, o.prediction, want(5), 0);
        cs[6].add(t, o.signal, want(6), 0);
        cs[7].add(t, o.filter_volatility, want(7), 0);
        cs[8].add(t, o.filter_regime, want(8), 0);
        cs[9].add(t, o.yhat1, want(9), 1e-9);
        cs[10].add(t, o.yhat2, want(10), 1e-9);
        cs[11].add(t, o.start_long, want(11), 0);
        cs[12].add(t, o.start_short, want(12), 0);
        cs[13].add(t, o.end_long, want(13), 0);
        cs[14].add(t, o.end_short, want(14), 0);
        entries += o.start_long + o.start_short;
    }
    report(cs);
    // The comparison covers real trading decisions, not only quiet bars.
    INFO(label << ": " << entries << " entries");
    CHECK(entries > 0);
}

}  // namespace

TEST_CASE("WaveTrend and Chandelier Exit equal the Pine reference on real candles",
          "[indicators][pine]") {
    for (const auto &file : pine_files()) {
        auto data = test::load_bars(test::candle_dir() / file);
        auto ref =
            read_pine_reference(test::reference_dir() / "lorentzian" /
                                (std::filesystem::path(file).stem().string() + ".lorentzian.json"));
        REQUIRE(ref.bars == data.bars.size());
        WaveTrend wt(10, 21);
        ChandelierExit ce(22, 3.0, true);
        std::vector<Compare> cs = {{file + " wt1"},
                                   {file + " wt2"},
                                   {file + " long_stop"},
                                   {file + " short_stop"},
                                   {file + " dir"}};
        for (size_t t = 0; t < data.bars.size(); ++t) {
            wt.update(data.bars[t]);
            ce.update(data.bars[t]);
            cs[0].add(t, wt.ready() || !std::isnan(wt.wt1()) ? wt.wt1() : NAN,
                      ref.series.at("wavetrend.wt1")[t], 1e-9, true);
            // wt1 and wt2 cross zero, where a relative error means nothing: below magnitude 1
            // the bound is absolute (1e-9), as for the [0, 1] features.
            cs[1].add(t, wt.wt2(), ref.series.at("wavetrend.wt2")[t], 1e-9, true);
            cs[2].add(t, ce.long_stop(), ref.series.at("chandelier.long_stop")[t], 1e-9);
            cs[3].add(t, ce.short_stop(), ref.series.at("chandelier.short_stop")[t], 1e-9);
            cs[4].add(t, ce.direction(), ref.series.at("chandelier.dir")[t], 0);
        }
        report(cs);
    }
}

TEST_CASE("the Lorentzian model equals the Pine reference on real candles", "[indicators][pine]") {
    SECTION("TradingView's window: predictions on the last max_bars_back + 1 bars") {
        for (const auto &file : pine_files()) {
            auto data = test::load_bars(test::candle_dir() / file);
            auto ref = read_pine_reference(
                test::reference_dir() / "lorentzian" /
                (std::filesystem::path(file).stem().string() + ".lorentzian.json"));
            REQUIRE(ref.bars == data.bars.size());
            int64_t last = static_cast<int64_t>(ref.bars) - 1;
            compare_lorentzian(data, ref, last >= 2000 ? last - 2000 : 0, file);
        }
    }
    SECTION("predictions on every bar, through the growth of the training window") {
        const auto &file = pine_files()[0];
        auto data = test::load_bars(test::candle_dir() / file);
        auto ref =
            read_pine_reference(test::reference_dir() / "lorentzian_all" /
                                (std::filesystem::path(file).stem().string() + ".lorentzian.json"));
        REQUIRE(ref.bars == 8000);
        compare_lorentzian(data, ref, 0, file + " (all bars)");
    }
}

TEST_CASE("recent_bars scans the latest rows: the same as first_bars until the window is full",
          "[indicators][pine]") {
    auto data = test::load_bars(test::candle_dir() / pine_files()[0]);
    LorentzianSettings first, recent;
    first.max_bars_back = recent.max_bars_back = 100;
    recent.training = TrainingWindow::recent_bars;
    LorentzianClassifier a(first), b(recent);
    size_t differ_before = 0, differ_after = 0;
    for (size_t t = 0; t < 3000; ++t) {
        double pa = a.update(data.bars[t]).prediction, pb = b.update(data.bars[t]).prediction;
        bool same = pa == pb || (std::isnan(pa) && std::isnan(pb));
        (t < 100 ? differ_before : differ_after) += !same;
    }
    CHECK(differ_before == 0);
    // Later the recent window learns from other candles than the first 100, and predicts otherwise.
    CHECK(differ_after > 100);
}
