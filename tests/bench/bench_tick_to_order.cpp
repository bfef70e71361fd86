// Tick-to-order inside the host (issue 7): from a raw frame handed to the binance plugin to the
// order handed to the venue, on every frame of the real USD-M BTCUSDT capture on which the
// strategy orders. The path is the engine's own: the plugin parses the frame and emits the book
// event, the engine's sequence sync and L0 sanitizer apply it, the portfolio is marked, the fill
// simulator looks at its resting orders, the Lua strategy's on_book (tests/bench/
// imbalance_taker.lua, top-5 imbalance) calls keel.order, Engine::place asks the risk gate, and
// the approved order is handed to the venue (here the fill simulator; what the venue then does
// is not counted). The capture runs as a paper replay on the simulated clock; an engine::Probe
// reads a steady clock when each frame goes in, when its book is handed to the strategy, and
// when the first order of that frame comes out.
//
// Counters, over every ordering frame of every run: p50/p99/max in µs; the two halves, frame to
// book (book_: parse, sync, sanitizer, marks, resting fills) and book to order (order_: on_book
// in Lua, keel.order, the risk gate, the host's bookkeeping); p50/p99 and the count per run by
// the frame's size in price levels (depth diffs by bids + asks: 1-50, 51-200, 201-500, 501+, up to
// 1,226; and the REST snapshot, 2,000 levels and the diffs buffered before it); and what one pair
// of clock reads costs (included in each figure). Both Lua modes: the interpreter with the runaway
// hook (the default) and `jit: true`. docs/execution.md has the figures.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codec.hpp"
#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/log/log.hpp"
#include "keel/market/capture.hpp"

using namespace keel;
using Clock = std::chrono::steady_clock;

namespace {

const std::filesystem::path kData = KEEL_DATA_DIR;
const auto kCapture = kData / "binance/usdm/ws_capture/btcusdt_20240808.gz";
const auto kExchangeInfo = kData / "binance/usdm/rest/http_futures_market_exchange_info.json";

// Price levels in each frame of the capture, in replay order (0 for trades and bookTickers), and
// kSnapshot for the REST depth snapshot (2,000 levels, applied with the diffs buffered before it).
constexpr uint32_t kSnapshot = UINT32_MAX;
const std::vector<uint32_t> &frame_levels() {
    static const std::vector<uint32_t> levels = [] {
        std::vector<uint32_t> out;
        binance::Codec codec(*market::DecimalGrid::parse("0.10"),
                             *market::DecimalGrid::parse("0.001"));
        market::CaptureReader reader(kCapture);
        TimeNs ts;
        std::string_view frame;
        while (reader.next(ts, frame)) {
            uint32_t n = 0;
            switch (codec.parse(frame, reader.capacity())) {
                case binance::MessageKind::depth:
                    n = static_cast<uint32_t>(codec.depth().bids.size() +
                                              codec.depth().asks.size());
                    break;
                case binance::MessageKind::snapshot:
                    n = kSnapshot;
                    break;
                default:
                    break;
            }
            out.push_back(n);
        }
        return out;
    }();
    return levels;
}

// Depth diffs by size, then the snapshot.
constexpr std::array<uint32_t, 5> kBucketTop = {50, 200, 500, kSnapshot - 1, kSnapshot};
constexpr std::array<const char *, 5> kBucketName = {"1-50", "51-200", "201-500", "501+",
                                                     "snapshot"};
size_t bucket(uint32_t levels) {
    size_t b = 0;
    while (levels > kBucketTop[b]) ++b;
    return b;
}

int64_t ns(Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// Stamps each frame in, its book handed to the strategies, and the first order out of it.
class TickToOrder final : public engine::Probe {
  public:
    struct Sample {
        int64_t total_ns, book_ns;  // frame in to order out; frame in to book ready
        uint32_t levels;
    };
    void frame_in(const keel_frame &) override {
        in_ = Clock::now();
        book_ = in_;
        ++frames_;
        ordered_ = false;
    }
    void book_ready(InstrumentIndex) override { book_ = Clock::now(); }
    void order_out(exec::OrderId, const exec::OrderIntent &) override {
        if (ordered_) return;  // the frame's first order is its tick-to-order
        auto out = Clock::now();
        ordered_ = true;
        samples_.push_back({ns(out - in_), ns(book_ - in_),
                            frames_ - 1});  // the frame's index for now; its size after the run
    }
    void start_run() { frames_ = 0; }
    // After a run: frame indices become sizes (the run must have replayed the whole capture).
    void end_run(size_t from) {
        const auto &levels = frame_levels();
        if (frames_ != levels.size()) {
            std::fprintf(stderr,
                         "bench_tick_to_order: the engine replayed %u frames, the capture "
                         "has %zu\n",
                         frames_, levels.size());
            std::exit(1);
        }
        for (size_t k = from; k < samples_.size(); ++k)
            samples_[k].levels = levels[samples_[k].levels];
    }
    std::vector<Sample> samples_;

  private:
    Clock::time_point in_, book_;
    uint32_t frames_ = 0;
    bool ordered_ = false;
};

double quantile_us(std::vector<int64_t> &ns, double q) {
    if (ns.empty()) return 0;
    auto k = static_cast<size_t>(q * static_cast<double>(ns.size() - 1));
    std::nth_element(ns.begin(), ns.begin() + static_cast<std::ptrdiff_t>(k), ns.end());
    return static_cast<double>(ns[k]) / 1000;
}

config::Config replay_config(bool jit) {
    auto cfg = config::load_string(
        fmt::format(R"(mode: paper
venues:
  binance:
    plugin: binance
    replay: {}
    settings:
      market: usdm
      exchange_info: {}
instruments:
  - {{ symbol: BTCUSDT, venue: binance }}
strategies:
  - {{ name: imbalance, file: {}/tests/bench/imbalance_taker.lua, instruments: [BTCUSDT],
      jit: {} }}
risk:
  max_order_notional: 2000
  max_position_notional: 2500
  max_orders_per_second: 1000
  max_orders_per_day: 100000
account:
  starting_balance: 10000
  maker_fee: 0.0002
  taker_fee: 0.0004
)",
                    kCapture.string(), kExchangeInfo.string(), KEEL_SOURCE_DIR, jit),
        std::filesystem::path(KEEL_SOURCE_DIR) / "tests/bench/tick_to_order.yaml");
    cfg.notifiers.clear();
    cfg.logging.level = "off";
    return cfg;
}

// What two back-to-back clock reads cost: part of every sample.
double clock_pair_ns() {
    constexpr int kReads = 100'000;
    auto t0 = Clock::now();
    for (int k = 0; k < kReads; ++k) benchmark::DoNotOptimize(Clock::now());
    auto t1 = Clock::now();
    return 2.0 * static_cast<double>(ns(t1 - t0)) / kReads;
}

void BM_TickToOrder(benchmark::State &state) {
    const auto cfg = replay_config(state.range(0) != 0);
    frame_levels();  // read before timing
    TickToOrder probe;
    uint64_t orders = 0;
    for (auto _ : state) {
        engine::EngineOptions o;
        o.clock = engine::ClockKind::simulated;
        o.plugin_search = {KEEL_PLUGIN_DIR};
        o.watch_strategy_files = false;
        o.probe = &probe;
        engine::Engine e(cfg, o);
        probe.start_run();
        size_t from = probe.samples_.size();
        auto s = e.run(TimeNs{3600} * 1'000'000'000);
        probe.end_run(from);
        orders += s.orders;
        benchmark::DoNotOptimize(s.equity);
    }
    std::vector<int64_t> all, book, strategy;
    std::array<std::vector<int64_t>, kBucketTop.size()> by_size;
    for (const auto &x : probe.samples_) {
        all.push_back(x.total_ns);
        book.push_back(x.book_ns);
        strategy.push_back(x.total_ns - x.book_ns);
        by_size[bucket(x.levels)].push_back(x.total_ns);
    }
    auto &c = state.counters;
    c["frames_ordering/run"] =
        static_cast<double>(all.size()) / static_cast<double>(state.iterations());
    c["p50_us"] = quantile_us(all, 0.50);
    c["p99_us"] = quantile_us(all, 0.99);
    c["max_us"] = quantile_us(all, 1.0);
    // The two halves: frame to book (parse, sync, sanitizer, marks) and book to order (Lua,
    // keel.order, risk gate, bookkeeping).
    c["book_p50_us"] = quantile_us(book, 0.50);
    c["book_p99_us"] = quantile_us(book, 0.99);
    c["order_p50_us"] = quantile_us(strategy, 0.50);
    c["order_p99_us"] = quantile_us(strategy, 0.99);
    for (size_t b = 0; b < by_size.size(); ++b) {
        std::string name = kBucketName[b];
        c["n_" + name] =
            static_cast<double>(by_size[b].size()) / static_cast<double>(state.iterations());
        c["p50_us_" + name] = quantile_us(by_size[b], 0.50);
        c["p99_us_" + name] = quantile_us(by_size[b], 0.99);
    }
    c["clock_pair_ns"] = clock_pair_ns();
    state.SetItemsProcessed(static_cast<int64_t>(all.size()));
    benchmark::DoNotOptimize(orders);
}
BENCHMARK(BM_TickToOrder)
    ->ArgName("jit")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

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
