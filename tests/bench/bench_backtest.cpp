// Backtest throughput through the whole engine (plugin, sync and sanitizer, candles, indicators,
// Lua strategy, risk gate, paper fills, journal), on the real data in ../shared/data:
//  - candles: configs/backtest-rsi.yaml, seed 001's RSI strategy on 42,915 BTCUSDT 1m candles
//    (each played as four book snapshots and four trades);
//  - L2: configs/replay-binance.yaml, the imbalance scalper on the USD-M BTCUSDT recording as
//    recorded (93,954 frames: depth diffs, bookTicker, trades), parsed from JSON text.
// Reported as candles/s and frames/s (counters), per whole run.
#include <benchmark/benchmark.h>

#include <string>

#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/log/log.hpp"
#include "support/shipped_config.hpp"

using namespace keel;

namespace {

config::Config shipped(const std::string &name) {
    auto cfg = config::load_string(test::shipped_config(name),
                                   std::filesystem::path(KEEL_SOURCE_DIR) / "configs" / name);
    cfg.notifiers.clear();
    cfg.logging.level = "off";
    return cfg;
}

engine::Summary run_once(const config::Config &cfg) {
    engine::EngineOptions o;
    o.clock = engine::ClockKind::simulated;
    o.plugin_search = {KEEL_PLUGIN_DIR};
    o.watch_strategy_files = false;
    engine::Engine e(cfg, o);
    return e.run(TimeNs{100} * 86400 * 1'000'000'000);
}

void BM_CandleBacktest(benchmark::State &state) {
    auto cfg = shipped("backtest-rsi.yaml");
    uint64_t candles = 0;
    for (auto _ : state) {
        auto s = run_once(cfg);
        candles += s.trade_events / 4;  // four trades per candle
        benchmark::DoNotOptimize(s.equity);
    }
    state.counters["candles/s"] =
        benchmark::Counter(static_cast<double>(candles), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CandleBacktest)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_L2ReplayBacktest(benchmark::State &state) {
    auto cfg = shipped("replay-binance.yaml");
    uint64_t frames = 0;
    for (auto _ : state) {
        auto s = run_once(cfg);
        frames += s.frames;
        benchmark::DoNotOptimize(s.equity);
    }
    state.counters["frames/s"] =
        benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_L2ReplayBacktest)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char **argv) {
    log::Settings quiet;
    quiet.level = "off";
    log::configure(quiet);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
