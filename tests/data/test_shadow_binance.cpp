// A shadow session against the loopback Binance venue (tests/venue): the binance plugin takes
// the real USD-M BTCUSDT capture over real TLS WebSockets and a REST depth snapshot from the
// venue, through the host's network, and the engine must build exactly the books the reference
// rebuild of the capture gives. The session's recording must pass the bookTicker check.

#include <catch2/catch.hpp>

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

}  // namespace

TEST_CASE("shadow session against the loopback venue builds the replay's books over TLS",
          "[data][shadow][network]") {
    const std::vector<Tops> expected = venue_view();
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    const int port = venue.port();
    REQUIRE(std::filesystem::exists(venue.cert()));

    dir.write("watcher.lua", kWatcher);
    auto cfg = config::load_file(
        dir.write("shadow.yaml", fmt::format(R"(mode: paper
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
      streams: depth,trade,bookTicker
instruments:
  - {{ symbol: BTCUSDT, venue: binance }}
strategies:
  - {{ name: watcher, file: watcher.lua, instruments: [BTCUSDT] }}
)",
                                             dir.path().string(), kExchangeInfo.string(), port)));
    cfg.notifiers.clear();
    engine::EngineOptions options;  // the wall clock: a live session
    options.plugin_search = {KEEL_PLUGIN_DIR};
    options.watch_strategy_files = false;
    engine::Engine e(cfg, options);
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
