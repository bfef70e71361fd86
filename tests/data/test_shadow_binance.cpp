// A shadow session against the loopback Binance venue (tests/venue): the binance plugin takes
// the real USD-M BTCUSDT capture over real TLS WebSockets and a REST depth snapshot from the
// venue, through the host's network, and the engine must build exactly the books the reference
// rebuild of the capture gives. The session's recording must pass the bookTicker check.

#include <catch2/catch.hpp>

#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "codec.hpp"
#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/market/book_feed.hpp"
#include "keel/market/capture.hpp"
#include "loopback_venue.hpp"
#include "support/support.hpp"
#include "ticker_check.hpp"
#include "usdm_reference.hpp"

using namespace keel;
using namespace keel::test::usdm;
using binance::MessageKind;

namespace {

// The books a client of the venue sees: the venue serves the capture's snapshot as its depth
// answer before any diff, then sends every diff from the one that bridges it, each a book event
// (the reference rebuild of the capture applies that first diff inside the snapshot instead).
std::vector<Tops> venue_view() {
    binance::Codec codec(*market::DecimalGrid::parse("0.10"), *market::DecimalGrid::parse("0.001"));
    std::string snapshot;
    {
        market::CaptureReader reader(kCapture);
        TimeNs ts;
        std::string_view frame;
        while (snapshot.empty() && reader.next(ts, frame))
            if (frame.starts_with("{\"lastUpdateId\"")) snapshot = frame;
    }
    REQUIRE(!snapshot.empty());
    snapshot.resize(snapshot.size() + 64, ' ');
    REQUIRE(codec.parse({snapshot.data(), snapshot.size() - 64}, snapshot.size()) ==
            MessageKind::snapshot);
    market::BookFeed feed(market::SequenceRule::binance_futures);
    const auto &snap = codec.snapshot();
    const uint64_t id = snap.last_update_id;
    REQUIRE(feed.on_snapshot(id, snap.bids, snap.asks, 0) == market::SyncStatus::applied);
    std::vector<Tops> events(1);
    events.back().add(feed.book());
    market::CaptureReader reader(kCapture);
    TimeNs ts;
    std::string_view frame;
    while (reader.next(ts, frame)) {
        if (codec.parse(frame, reader.capacity()) != MessageKind::depth) continue;
        const auto &d = codec.depth();
        if (d.last < id) continue;  // before the venue's market starts
        if (feed.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks, ts) !=
                market::SyncStatus::applied ||
            !feed.usable())
            continue;
        events.emplace_back().add(feed.book());
    }
    return events;
}

// A shadow session's config against the loopback venue, recording what it receives to
// <dir>/recorded: the plugin on `streams`, and one strategy, its YAML entry as `strategy`.
config::Config shadow_config(const test::TempDir &dir, const test::LoopbackVenue &venue,
                             const std::string &streams, const std::string &strategy) {
    auto cfg = config::load_file(dir.write(
        "shadow.yaml",
        fmt::format(R"(mode: paper
venues:
  binance:
    plugin: binance
    ca_file: {0}/venue.crt
    record: {0}/recorded
    settings:
      market: usdm
      exchange_info: {1}
      rest_url: https://127.0.0.1:{2}
      ws_url: wss://127.0.0.1:{2}
      streams: {3}
instruments:
  - {{ symbol: BTCUSDT, venue: binance }}
strategies:
  - {4}
)",
                    dir.path().string(), kExchangeInfo.string(), venue.port(), streams, strategy)));
    cfg.notifiers.clear();
    return cfg;
}

engine::EngineOptions shadow_options() {
    engine::EngineOptions options;  // the wall clock: a live session
    options.plugin_search = {KEEL_PLUGIN_DIR};
    options.watch_strategy_files = false;
    return options;
}

}  // namespace

TEST_CASE("shadow session against the loopback venue builds the replay's books over TLS",
          "[data][shadow][network]") {
    const std::vector<Tops> expected = venue_view();
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    REQUIRE(std::filesystem::exists(venue.cert()));

    dir.write("watcher.lua", kWatcher);
    engine::Engine e(shadow_config(dir, venue, "depth,trade,bookTicker",
                                   "{ name: watcher, file: watcher.lua, instruments: [BTCUSDT] }"),
                     shadow_options());
    // The venue sends the 6 minutes of capture as fast as the socket takes them.
    auto summary = e.run(TimeNs{10} * 1'000'000'000);

    REQUIRE(summary.market.size() == 1);
    const auto &m = summary.market[0];
    INFO("venue stderr: " << venue.process().err());
    CHECK(summary.malformed_frames == 0);
    CHECK(m.sync.gaps == 0);
    INFO("snapshots applied " << m.sync.snapshots << ", stale " << m.sync.stale << ", buffered "
                              << m.sync.buffered);
    CHECK(m.sync.snapshots >= 1);
    Tops seen = watched_tops(e);
    // The session's books are the venue view's, from the snapshot it was served to the end:
    // count and all three sums of that run agree with what the strategy saw.
    REQUIRE(seen.n > expected.size() / 2);
    REQUIRE(seen.n <= expected.size());
    Tops tail;
    for (size_t k = expected.size() - seen.n; k < expected.size(); ++k) tail.add_event(expected[k]);
    INFO("session saw " << seen.n << " books of " << expected.size());
    CHECK(tail.bid_ticks == seen.bid_ticks);
    CHECK(tail.ask_ticks == seen.ask_ticks);
    CHECK(tail.top_lots == seen.top_lots);

    // The session recorded what it received, the REST snapshot included: its bookTickers match.
    std::filesystem::path recording;
    for (const auto &f : std::filesystem::directory_iterator(dir.path() / "recorded"))
        recording = f.path();
    REQUIRE(!recording.empty());
    auto tickers = test::replay(recording, market::SequenceRule::binance_futures);
    CHECK(tickers.invalid == 0);
    CHECK(tickers.sync.snapshots == m.sync.snapshots);
    CHECK(tickers.sync.gaps == 0);
    CHECK(tickers.crossed == 0);
    CHECK(tickers.ticker_mismatches == 0);
    CHECK(tickers.ticker_matches == 629);  // every one the data README counts for the capture
}

// Market data stopped and started again while the session runs (Command::unsubscribe and
// subscribe): the plugin changes the live connection's streams with UNSUBSCRIBE and SUBSCRIBE,
// the venue stops and resumes sending, and the book comes back whole from a new snapshot.
TEST_CASE("an instrument unsubscribed and subscribed again at run time resyncs its book",
          "[data][shadow][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir, "1");  // the capture at its own pace
    constexpr TimeNs kSecond = 1'000'000'000;
    const TimeNs t0 = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    // Books the strategy sees once active again, and any it sees crossed or not whole.
    dir.write("counter.lua", fmt::format(R"(
after, bad = 0, 0
function on_book(inst, book)
  if keel.now() > {} then after = after + 1 end
  local b, a = book:best_bid(), book:best_ask()
  if not b or not a or b >= a then bad = bad + 1 end
end
)",
                                         static_cast<double>(t0) / 1e9 + 6.5));
    engine::Engine e(shadow_config(dir, venue, "depth,trade,bookTicker",
                                   "{ name: counter, file: counter.lua, instruments: [BTCUSDT] }"),
                     shadow_options());
    using engine::Command;
    // Refused: the strategy is active on it. Then the operator's way: deactivate, unsubscribe,
    // subscribe, activate.
    e.schedule(Command::unsubscribe, t0 + 1 * kSecond, "test", "BTCUSDT");
    e.schedule(Command::deactivate, t0 + 2 * kSecond + kSecond / 2, "test", "counter");
    e.schedule(Command::unsubscribe, t0 + 3 * kSecond, "test", "BTCUSDT");
    e.schedule(Command::subscribe, t0 + 6 * kSecond, "test", "BTCUSDT");
    e.schedule(Command::activate, t0 + 6 * kSecond + kSecond / 2, "test", "counter");
    auto summary = e.run(10 * kSecond);

    INFO("venue stderr: " << venue.process().err());
    REQUIRE(summary.market.size() == 1);
    const auto &m = summary.market[0];
    CHECK(summary.malformed_frames == 0);
    CHECK(m.sync.gaps == 0);
    CHECK(m.sync.snapshots == 2);  // at the start and after subscribing again

    // The recording holds what arrived: stream frames until about the unsubscribe at 3 s (the
    // last may come a few ms before it; had the one at 1 s not been refused, they would have
    // stopped by about 2 s), none from then until the subscribe at 6 s, then the stream again.
    std::filesystem::path recording;
    for (const auto &f : std::filesystem::directory_iterator(dir.path() / "recorded"))
        recording = f.path();
    REQUIRE(!recording.empty());
    TimeNs previous = 0, gap_from = 0, gap_to = 0;
    uint64_t after_gap = 0;
    {
        market::CaptureReader reader(recording);
        TimeNs ts;
        std::string_view frame;
        while (reader.next(ts, frame)) {
            if (!frame.starts_with("{\"stream\"")) continue;
            if (previous && ts - previous > gap_to - gap_from) {
                gap_from = previous;
                gap_to = ts;
            }
            previous = ts;
        }
    }
    {
        market::CaptureReader reader(recording);
        TimeNs ts;
        std::string_view frame;
        while (reader.next(ts, frame))
            if (frame.starts_with("{\"stream\"") && ts >= gap_to) ++after_gap;
    }
    INFO("longest pause in the stream: " << static_cast<double>(gap_from - t0) / 1e9 << " s to "
                                         << static_cast<double>(gap_to - t0) / 1e9
                                         << " s after the start");
    CHECK(gap_from >= t0 + 2 * kSecond + kSecond / 2);
    CHECK(gap_to >= t0 + 6 * kSecond);
    CHECK(gap_to - gap_from >= kSecond);
    CHECK(after_gap > 100);

    // Every bookTicker of the recording, before and after the pause, matches the rebuilt book.
    auto tickers = test::replay(recording, market::SequenceRule::binance_futures);
    CHECK(tickers.invalid == 0);
    CHECK(tickers.sync.snapshots == 2);
    CHECK(tickers.crossed == 0);
    CHECK(tickers.ticker_mismatches == 0);
    CHECK(tickers.ticker_matches > 10);

    // Active again, the strategy reads whole books.
    auto global = [&](const char *g) {
        return std::stod(*e.strategy("counter")->global_as_string(g));
    };
    CHECK(global("after") > 10);
    CHECK(global("bad") == 0);
}

// Candles from the venue's kline stream (`streams: depth,kline_1m`, no trade stream): each closed
// 1m kline becomes an on_candle event, equal to the minute computed here from the capture's trades.
TEST_CASE("a session without a trade stream takes its candles from the venue's kline stream",
          "[data][shadow][network]") {
    // The reference: the capture's trades by minute of their time T.
    std::map<int64_t, market::Candle> minutes;
    {
        binance::Codec codec(*market::DecimalGrid::parse("0.10"),
                             *market::DecimalGrid::parse("0.001"));
        market::CaptureReader reader(kCapture);
        TimeNs ts;
        std::string_view frame;
        while (reader.next(ts, frame)) {
            if (codec.parse(frame, reader.capacity()) != MessageKind::trade) continue;
            const auto &t = codec.trade();
            auto [it, fresh] = minutes.try_emplace(t.trade_ms / 60'000);
            market::Candle &c = it->second;
            if (fresh) c.open = c.high = c.low = t.price;
            c.high = std::max(c.high, t.price);
            c.low = std::min(c.low, t.price);
            c.close = t.price;
            c.volume += t.qty;
            ++c.trades;
        }
    }
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    dir.write("candles.lua", R"(
seen = ""
function on_candle(tf, c)
  seen = seen .. string.format("%d %d %d %d %d %d %d %s;", c.time, math.floor(c.open * 10 + 0.5),
    math.floor(c.high * 10 + 0.5), math.floor(c.low * 10 + 0.5), math.floor(c.close * 10 + 0.5),
    math.floor(c.volume * 1000 + 0.5), c.trades, tostring(c.history))
end
)");
    engine::Engine e(shadow_config(dir, venue, "depth,kline_1m",
                                   "{ name: candles, file: candles.lua, instruments: [BTCUSDT], "
                                   "timeframes: [1m], empty_candles: skip }"),
                     shadow_options());
    auto summary = e.run(TimeNs{8} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    CHECK(summary.malformed_frames == 0);

    const std::string seen = *e.strategy("candles")->global_as_string("seen");
    INFO(seen);
    std::vector<std::string> candles;
    for (size_t at = 0, end; (end = seen.find(';', at)) != std::string::npos; at = end + 1)
        candles.push_back(seen.substr(at, end - at));
    // The capture's 6 minutes: the first kline holds only what the venue replayed of its minute,
    // and the last one closes after the session has seen it or not; the ones between are whole.
    REQUIRE(candles.size() >= 4);
    for (size_t k = 1; k < candles.size(); ++k) {
        INFO(candles[k]);
        int64_t time = 0, o = 0, h = 0, l = 0, c = 0, v = 0, n = 0;
        char history[8] = {0};
        REQUIRE(std::sscanf(candles[k].c_str(), "%ld %ld %ld %ld %ld %ld %ld %7s", &time, &o, &h,
                            &l, &c, &v, &n, history) == 8);
        CHECK(std::string(history) == "true");  // from the venue, not built from trades here
        const auto it = minutes.find(time / 60);
        REQUIRE(it != minutes.end());
        CHECK(o == it->second.open);
        CHECK(h == it->second.high);
        CHECK(l == it->second.low);
        CHECK(c == it->second.close);
        CHECK(v == it->second.volume);
        CHECK(n == it->second.trades);
    }
}
