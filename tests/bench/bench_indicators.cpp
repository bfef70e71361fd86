// Indicator updates on real candles (Binance BTCUSDT 1m, 42,915 bars), one closed candle per
// update, cycling through the file. Each case reports the time per update and counts heap
// allocations per update (tests/data/allocation_counter.cpp): an update must not allocate, and
// the benchmark fails (exits non-zero) if one does. The Lorentzian case runs the model with a full
// 2,000-bar training window and predicts on every bar.
#include <benchmark/benchmark.h>

#include "data/allocation_counter.hpp"
#include "keel/indicators/averages.hpp"
#include "keel/indicators/lorentzian.hpp"
#include "keel/indicators/momentum.hpp"
#include "keel/indicators/volatility.hpp"
#include "keel/indicators/volume.hpp"
#include "keel/market/candle_file.hpp"

namespace {
bool g_failed = false;  // an update allocated: exit non-zero so the smoke test in CTest notices
}  // namespace

using namespace keel::indicators;

namespace {

const std::vector<Bar> &bars() {
    static const std::vector<Bar> b = [] {
        std::vector<Bar> out;
        for (auto &r : keel::market::read_candle_file(
                 std::string(KEEL_DATA_DIR) + "/candles/binance_BTCUSDT_1m_20210420_20210520.json"))
            out.push_back({r.open, r.high, r.low, r.close, r.volume});
        return out;
    }();
    return b;
}

// Times `update(indicator, bar)` per closed candle, after a warm-up pass over the whole file.
template <typename I, typename Update>
void run(benchmark::State &state, I ind, Update update) {
    const auto &b = bars();
    for (const auto &bar : b) update(ind, bar);
    size_t t = 0;
    keel::test::start_counting_allocations();
    for (auto _ : state) {
        update(ind, b[t]);
        benchmark::DoNotOptimize(ind);
        if (++t == b.size()) t = 0;
    }
    uint64_t allocations = keel::test::stop_counting_allocations();
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["allocs_per_update"] =
        static_cast<double>(allocations) / static_cast<double>(state.iterations());
    if (allocations) {
        state.SkipWithError("an indicator update allocated");
        g_failed = true;
    }
}

auto by_close = [](auto &i, const Bar &b) {
    i.update(b.close);
    benchmark::DoNotOptimize(i.value());
};
auto by_bar = [](auto &i, const Bar &b) {
    i.update(b);
    benchmark::DoNotOptimize(i.value());
};

void BM_Sma20(benchmark::State &s) {
    run(s, Sma(20), by_close);
}
void BM_Ema20(benchmark::State &s) {
    run(s, Ema(20), by_close);
}
void BM_Rsi14(benchmark::State &s) {
    run(s, Rsi(14), by_close);
}
void BM_Atr14(benchmark::State &s) {
    run(s, Atr(14), by_bar);
}
void BM_Adx14(benchmark::State &s) {
    run(s, Adx(14), by_bar);
}
void BM_Cci20(benchmark::State &s) {
    run(s, Cci(20), by_bar);
}
void BM_Bollinger20(benchmark::State &s) {
    run(s, BollingerBands(20, 2.0), by_bar);
}
void BM_Stochastic14(benchmark::State &s) {
    run(s, Stochastic(14, 3, 3), by_bar);
}
void BM_Macd(benchmark::State &s) {
    run(s, Macd(12, 26, 9), by_close);
}
void BM_WaveTrend(benchmark::State &s) {
    run(s, WaveTrend(10, 21), by_bar);
}
void BM_Chandelier22(benchmark::State &s) {
    run(s, ChandelierExit(22, 3.0), by_bar);
}
// Rolling extremes are O(1) amortized: the time per update must not grow with the period.
void BM_Highest(benchmark::State &s) {
    run(s, Highest(s.range(0)), [](Highest &i, const Bar &b) {
        i.update(b.high);
        benchmark::DoNotOptimize(i.value());
    });
}

void BM_Lorentzian(benchmark::State &s) {
    LorentzianSettings settings;  // defaults: 8 neighbours, 2,000 bars back, 5 features
    settings.training = s.range(0) ? TrainingWindow::recent_bars : TrainingWindow::first_bars;
    run(s, LorentzianClassifier(settings), [](LorentzianClassifier &m, const Bar &b) {
        benchmark::DoNotOptimize(m.update(b).prediction);
    });
}

}  // namespace

BENCHMARK(BM_Sma20);
BENCHMARK(BM_Ema20);
BENCHMARK(BM_Rsi14);
BENCHMARK(BM_Atr14);
BENCHMARK(BM_Adx14);
BENCHMARK(BM_Cci20);
BENCHMARK(BM_Bollinger20);
BENCHMARK(BM_Stochastic14);
BENCHMARK(BM_Macd);
BENCHMARK(BM_WaveTrend);
BENCHMARK(BM_Chandelier22);
BENCHMARK(BM_Highest)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_Lorentzian)->Arg(0)->Arg(1);
int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return g_failed ? 1 : 0;
}
