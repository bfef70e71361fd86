// Market-data hot path on the real Binance USD-M BTCUSDT capture: raw frame text to updated book
// (parse + sanitize + sync + apply), the simdjson-only ceiling on the same frames, book queries
// and candle updates. Every allocation is counted by the replaced global operator new of
// tests/data/allocation_counter.cpp: the full path must not allocate per message in steady state,
// and the benchmark fails if it does.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "codec.hpp"
#include "data/allocation_counter.hpp"
#include "keel/market/book_feed.hpp"
#include "keel/market/candles.hpp"
#include "keel/market/capture.hpp"
#include "simdjson_ceiling.hpp"

namespace {
bool g_failed = false;  // a broken premise: exit non-zero so the smoke test in CTest notices
}  // namespace

using namespace keel;

namespace {

constexpr auto kCapture = "binance/usdm/ws_capture/btcusdt_20240808.gz";

// One frame with simdjson's padding after it.
struct Frame {
    std::string text;
    size_t size;
    std::string_view view() const { return {text.data(), size}; }
};

struct Capture {
    std::vector<Frame> early;  // depth diffs received before the snapshot
    Frame snapshot;
    std::vector<Frame> diffs;            // depth diffs received after it
    std::vector<binance::Trade> trades;  // every trade in the capture, in order
    size_t diff_bytes = 0, diff_levels = 0;
};

binance::Codec make_codec() {
    return {market::DecimalGrid{2, 10},
            market::DecimalGrid{3, 1}};  // BTCUSDT: tick 0.10, lot 0.001
}

const Capture &capture() {
    static const Capture c = [] {
        Capture out;
        market::CaptureReader reader(std::string(KEEL_DATA_DIR) + "/" + kCapture);
        auto codec = make_codec();
        bool seen_snapshot = false;
        TimeNs ts;
        std::string_view f;
        while (reader.next(ts, f)) {
            Frame frame{std::string(f) + std::string(market::CaptureReader::kPadding, '\0'),
                        f.size()};
            switch (codec.parse(frame.view(), frame.text.size())) {
                case binance::MessageKind::snapshot:
                    out.snapshot = std::move(frame);
                    seen_snapshot = true;
                    break;
                case binance::MessageKind::depth:
                    if (!seen_snapshot) {
                        out.early.push_back(std::move(frame));
                        break;
                    }
                    out.diff_bytes += frame.size;
                    out.diff_levels += codec.depth().bids.size() + codec.depth().asks.size();
                    out.diffs.push_back(std::move(frame));
                    break;
                case binance::MessageKind::trade:
                    out.trades.push_back(codec.trade());
                    break;
                case binance::MessageKind::invalid:
                    std::fprintf(stderr, "bench_book: %s\n", codec.error().c_str());
                    std::exit(2);
                default:
                    break;
            }
        }
        if (!seen_snapshot || out.diffs.empty()) {
            std::fprintf(stderr, "bench_book: no snapshot or diffs in %s\n", kCapture);
            std::exit(2);
        }
        return out;
    }();
    return c;
}

// The full path for one pass over the capture, as after a connect: the diffs that come before
// the snapshot are buffered, the snapshot makes the book whole, then every later diff applies.
struct FullPath {
    binance::Codec codec = make_codec();
    market::BookFeed feed{market::SequenceRule::binance_futures};
    uint64_t applied = 0;

    void snapshot(const Frame &f) {
        if (codec.parse(f.view(), f.text.size()) != binance::MessageKind::snapshot) std::abort();
        const auto &s = codec.snapshot();
        feed.on_snapshot(s.last_update_id, s.bids, s.asks);
    }
    void diff(const Frame &f) {
        if (codec.parse(f.view(), f.text.size()) != binance::MessageKind::depth) {
            feed.on_malformed();
            return;
        }
        const auto &d = codec.depth();
        if (feed.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks, 0,
                          d.event_ms * 1'000'000) == market::SyncStatus::applied)
            ++applied;
    }
    void start(const Capture &c) {
        feed.restart();
        for (const auto &f : c.early) diff(f);
        snapshot(c.snapshot);
    }
    void pass(const Capture &c) {
        start(c);
        for (const auto &f : c.diffs) diff(f);
    }
};

void check_pass(benchmark::State &state, const FullPath &p) {
    if (p.feed.rejects().total() != 0 || !p.feed.usable()) {
        for (size_t r = 0; r < market::kRejectReasons; ++r)
            if (auto n = p.feed.rejects().by_reason[r])
                std::fprintf(stderr, "bench_book: %s x%llu\n", market::to_string(market::Reject(r)),
                             (unsigned long long)n);
        state.SkipWithError("the replay was not clean: the benchmark measured the wrong thing");
        g_failed = true;
    }
}

void BM_FullPath(benchmark::State &state) {
    const auto &c = capture();
    FullPath p;
    for (int i = 0; i < 3; ++i) p.pass(c);  // warm-up: vectors and pools grow to their size
    uint64_t allocations = 0;
    for (auto _ : state) {
        test::start_counting_allocations();
        p.pass(c);
        allocations += test::stop_counting_allocations();
    }
    check_pass(state, p);
    auto messages = double(state.iterations()) * double(c.early.size() + 1 + c.diffs.size());
    state.SetItemsProcessed(int64_t(messages));
    state.SetBytesProcessed(int64_t(double(state.iterations()) * double(c.diff_bytes)));
    state.counters["allocs_per_msg"] = double(allocations) / messages;
    state.counters["ns_per_msg"] =
        benchmark::Counter(messages, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    if (allocations != 0) {
        state.SkipWithError("the full path allocated in steady state");
        g_failed = true;
    }
}
BENCHMARK(BM_FullPath)->Unit(benchmark::kMillisecond);

// Per-message latency distribution: each message timed on its own, minus the cost of reading
// the clock (measured here the same way), reported as median and p99.
void BM_FullPathPerMessage(benchmark::State &state) {
    using clock = std::chrono::steady_clock;
    const auto &c = capture();
    FullPath p;
    p.pass(c);
    std::vector<int64_t> samples(c.diffs.size()), empty(c.diffs.size());
    std::vector<int64_t> medians, p99s;
    for (auto _ : state) {
        p.start(c);
        for (size_t i = 0; i < c.diffs.size(); ++i) {
            auto t0 = clock::now();
            p.diff(c.diffs[i]);
            auto t1 = clock::now();
            samples[i] = (t1 - t0).count();
        }
        for (auto &e : empty) {
            auto t0 = clock::now();
            auto t1 = clock::now();
            e = (t1 - t0).count();
        }
        std::sort(samples.begin(), samples.end());
        std::sort(empty.begin(), empty.end());
        auto overhead = empty[empty.size() / 2];
        medians.push_back(samples[samples.size() / 2] - overhead);
        p99s.push_back(samples[samples.size() * 99 / 100] - overhead);
    }
    check_pass(state, p);
    std::sort(medians.begin(), medians.end());
    std::sort(p99s.begin(), p99s.end());
    state.counters["median_ns"] = double(medians[medians.size() / 2]);
    state.counters["p99_ns"] = double(p99s[p99s.size() / 2]);
    state.counters["clock_ns"] = double(empty[empty.size() / 2]);
}
BENCHMARK(BM_FullPathPerMessage)->Unit(benchmark::kMillisecond);

// The two halves of the full path on their own: the codec (text to integer levels) and the
// book (sanitize + sync + apply of levels parsed beforehand).
void BM_ParseOnly(benchmark::State &state) {
    const auto &c = capture();
    auto codec = make_codec();
    uint64_t levels = 0;
    for (auto _ : state)
        for (const auto &f : c.diffs) {
            codec.parse(f.view(), f.text.size());
            levels += codec.depth().bids.size();
        }
    benchmark::DoNotOptimize(levels);
    auto messages = double(state.iterations()) * double(c.diffs.size());
    state.counters["ns_per_msg"] =
        benchmark::Counter(messages, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ParseOnly)->Unit(benchmark::kMillisecond);

void BM_ApplyOnly(benchmark::State &state) {
    const auto &c = capture();
    auto codec = make_codec();
    std::vector<binance::DepthUpdate> parsed;
    for (const auto &f : c.diffs) {
        codec.parse(f.view(), f.text.size());
        parsed.push_back(codec.depth());
    }
    FullPath p;
    for (int i = 0; i < 3; ++i) p.pass(c);
    for (auto _ : state) {
        p.start(c);
        for (const auto &d : parsed)
            p.feed.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks);
    }
    check_pass(state, p);
    auto messages = double(state.iterations()) * double(c.diffs.size());
    state.counters["ns_per_msg"] =
        benchmark::Counter(messages, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ApplyOnly)->Unit(benchmark::kMillisecond);

// The ceiling: simdjson alone parses the same frames and touches every price and quantity.
void BM_SimdjsonCeiling(benchmark::State &state) {
    if (!bench::SimdjsonCeiling::supported()) {
        state.SkipWithError("this CPU cannot run simdjson's AVX2 kernel");
        return;
    }
    const auto &c = capture();
    bench::SimdjsonCeiling ceiling;
    uint64_t touched = 0;
    bool ok = true;
    for (auto _ : state)
        for (const auto &f : c.diffs)
            ok &= ceiling.touch(f.text.data(), f.size, f.text.size(), touched);
    benchmark::DoNotOptimize(touched);
    if (!ok) {
        state.SkipWithError("simdjson found a level that is not two strings");
        g_failed = true;
    }
    auto messages = double(state.iterations()) * double(c.diffs.size());
    state.SetItemsProcessed(int64_t(messages));
    state.SetBytesProcessed(int64_t(double(state.iterations()) * double(c.diff_bytes)));
    state.counters["ns_per_msg"] =
        benchmark::Counter(messages, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SimdjsonCeiling)->Unit(benchmark::kMillisecond);

// Queries on the real book as it stands at the end of the capture.
const market::Book &final_book() {
    static FullPath p = [] {
        FullPath out;
        out.pass(capture());
        return out;
    }();
    return p.feed.book();
}

void BM_BestBidAsk(benchmark::State &state) {
    const auto &book = final_book();
    for (auto _ : state) {
        benchmark::DoNotOptimize(&book);
        auto bid = book.best_bid();
        auto ask = book.best_ask();
        benchmark::DoNotOptimize(bid);
        benchmark::DoNotOptimize(ask);
    }
}
BENCHMARK(BM_BestBidAsk);

void BM_Imbalance5(benchmark::State &state) {
    const auto &book = final_book();
    for (auto _ : state) {
        benchmark::DoNotOptimize(&book);
        auto imbalance = book.imbalance(5);
        benchmark::DoNotOptimize(imbalance);
    }
}
BENCHMARK(BM_Imbalance5);

// Trades into a CandleSet of 1, 3 or 5 timeframes, over the capture's real trades, reported per
// trade per timeframe. The `skip` policy: passes jump ahead in time, and `flat` would fill the
// jump with empty candles that no live feed would see.
void BM_CandleUpdate(benchmark::State &state) {
    const auto &trades = capture().trades;
    constexpr TimeNs s = 1'000'000'000;
    const std::vector<std::vector<TimeNs>> sets{
        {60 * s}, {s, 60 * s, 3600 * s}, {s, 60 * s, 300 * s, 3600 * s, 86400 * s}};
    const auto &lengths = sets.at(size_t(state.range(0)));
    market::CandleSet candles(lengths, market::EmptyIntervals::skip);
    uint64_t closed = 0;
    auto count = [&](const market::Candle &) { ++closed; };
    TimeNs shift = 0;  // each pass moves on by whole days, so candles keep closing as live
    const TimeNs day = 86400 * s;
    const TimeNs span = (trades.back().trade_ms - trades.front().trade_ms) * 1'000'000 + day;
    for (auto _ : state) {
        for (const auto &t : trades)
            candles.on_trade(t.trade_ms * 1'000'000 + shift, t.price, t.qty, count);
        shift += span - span % day;
    }
    benchmark::DoNotOptimize(closed);
    auto updates = double(state.iterations()) * double(trades.size()) * double(lengths.size());
    state.counters["timeframes"] = double(lengths.size());
    state.counters["ns_per_trade_tf"] =
        benchmark::Counter(updates, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CandleUpdate)->Arg(0)->Arg(1)->Arg(2);

}  // namespace

int main(int argc, char **argv) {
    const auto &c = capture();
    std::printf(
        "capture: %s\n  %zu diffs after the snapshot, %.0f B and %.1f levels on average, "
        "%zu trades\n",
        kCapture, c.diffs.size(), double(c.diff_bytes) / double(c.diffs.size()),
        double(c.diff_levels) / double(c.diffs.size()), c.trades.size());
    const auto &b = final_book();
    std::printf("  final book: %zu bids (%lld..%lld), %zu asks (%lld..%lld) in ticks\n",
                b.depth(Side::buy), (long long)b.level(Side::buy, b.depth(Side::buy) - 1)->price,
                (long long)b.best_bid()->price, b.depth(Side::sell), (long long)b.best_ask()->price,
                (long long)b.level(Side::sell, b.depth(Side::sell) - 1)->price);
    std::printf("  top 5 bids:");
    for (size_t i = 0; i < 5; ++i) std::printf(" %lld", (long long)b.level(Side::buy, i)->price);
    std::printf("\n  top 5 asks:");
    for (size_t i = 0; i < 5; ++i) std::printf(" %lld", (long long)b.level(Side::sell, i)->price);
    std::printf("\n");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return g_failed ? 1 : 0;
}
