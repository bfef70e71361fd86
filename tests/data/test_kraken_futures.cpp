// Kraken Futures: the official docs examples through the codec, and cryptofeed's capture of ten
// products replayed through codec and BookSync (`contiguous` seq).

#include <catch2/catch.hpp>

#include <map>

#include "keel/market/book_sync.hpp"
#include "keel/market/capture.hpp"
#include "kraken_futures/codec.hpp"

using namespace keel;
using kraken_futures::MessageKind;
using market::Level;

namespace {

const std::filesystem::path kData = KEEL_DATA_DIR;

// 8 decimals covers every Kraken Futures price and size in the data.
kraken_futures::Codec codec() {
    return {market::DecimalGrid{8, 1}, market::DecimalGrid{8, 1}};
}

constexpr int64_t kUnit = 100'000'000;  // 1.0 on the 8-decimal grid

struct DocExample {
    simdjson::padded_string text;
    MessageKind parse(kraken_futures::Codec &c) const {
        return c.parse({text.data(), text.size()}, text.size() + simdjson::SIMDJSON_PADDING);
    }
};

DocExample doc_example(const char *name) {
    return {simdjson::padded_string::load((kData / "kraken_futures/docs_examples" / name).string())
                .value()};
}

}  // namespace

TEST_CASE("Kraken Futures docs examples parse to exact ticks and lots", "[data][kraken]") {
    auto c = codec();

    auto snap = doc_example("ws_futures_book_snapshot.json");
    REQUIRE(snap.parse(c) == MessageKind::book_snapshot);
    CHECK(c.product_id() == "PI_XBTUSD");
    CHECK(c.snapshot().seq == 326072249);
    CHECK(c.snapshot().timestamp_ms == 1612269825817);
    CHECK(c.snapshot().bids ==
          std::vector<Level>{{348925 * kUnit / 10, 6385 * kUnit}, {34892 * kUnit, 10924 * kUnit}});
    CHECK(c.snapshot().asks ==
          std::vector<Level>{{349115 * kUnit / 10, 20598 * kUnit}, {34912 * kUnit, 2300 * kUnit}});

    auto delta = doc_example("ws_futures_book_delta.json");
    REQUIRE(delta.parse(c) == MessageKind::book_delta);
    CHECK(c.delta().seq == 326094134);
    CHECK(c.delta().side == Side::sell);
    CHECK(c.delta().level == Level{34981 * kUnit, 0});

    auto trade = doc_example("ws_futures_trade.json");
    REQUIRE(trade.parse(c) == MessageKind::trade);
    REQUIRE(c.trades().size() == 1);
    CHECK(c.trades()[0].seq == 653355);
    CHECK(c.trades()[0].taker_side == Side::sell);
    CHECK(c.trades()[0].price == 349695 * kUnit / 10);
    CHECK(c.trades()[0].qty == 15000 * kUnit);

    auto trades = doc_example("ws_futures_trade_snapshot.json");
    REQUIRE(trades.parse(c) == MessageKind::trade_snapshot);
    REQUIRE(c.trades().size() == 2);
    CHECK(c.trades()[0].seq == 655508);
    CHECK(c.trades()[1].seq == 655507);
    CHECK(c.trades()[1].price == 34891 * kUnit);

    // Private feeds are not market data: well-formed, but not this codec's business.
    for (auto name : {"ws_futures_fills_snapshot.json", "ws_futures_open_orders_snapshot.json",
                      "ws_futures_open_orders_delta.json", "ws_futures_open_orders_cancel.json"}) {
        INFO(name);
        auto other = doc_example(name);
        CHECK(other.parse(c) == MessageKind::other);
    }
}

namespace {

struct ProductBook {
    ProductBook() : sync(market::SequenceRule::contiguous) {}
    market::Book book;
    market::BookSync sync;
    uint64_t deltas = 0, crossed = 0;
};

}  // namespace

TEST_CASE("Kraken Futures capture: every product's book follows its snapshot, seq contiguous",
          "[data][kraken][cryptofeed]") {
    auto c = codec();
    market::CryptofeedReader reader(kData /
                                    "kraken_futures/cryptofeed_capture/KRAKEN_FUTURES.ws.1.0");
    std::map<std::string, ProductBook, std::less<>> products;
    auto product = [&](std::string_view id) -> ProductBook & {
        auto it = products.find(id);
        if (it == products.end()) it = products.emplace(std::string(id), ProductBook{}).first;
        return it->second;
    };
    uint64_t snapshots = 0, deltas = 0, trades = 0, trade_snapshots = 0, ticker_lite = 0,
             invalid = 0;
    market::CryptofeedLine line;
    while (reader.next(line)) {
        if (line.kind != market::CryptofeedKind::received) continue;
        switch (c.parse(line.payload, reader.capacity())) {
            case MessageKind::book_snapshot: {
                ++snapshots;
                auto &p = product(c.product_id());
                const auto &s = c.snapshot();
                p.sync.on_snapshot(s.seq, s.bids, s.asks, p.book);
                if (!p.book.valid()) ++p.crossed;
                break;
            }
            case MessageKind::book_delta: {
                ++deltas;
                auto &p = product(c.product_id());
                ++p.deltas;
                const auto &d = c.delta();
                std::span<const Level> one(&d.level, 1), none;
                bool buy = d.side == Side::buy;
                auto status =
                    p.sync.on_delta({d.seq, d.seq, 0}, buy ? one : none, buy ? none : one, p.book);
                if (status == market::SyncStatus::applied && !p.book.valid()) ++p.crossed;
                break;
            }
            case MessageKind::trade:
                ++trades;
                break;
            case MessageKind::trade_snapshot:
                ++trade_snapshots;
                CHECK_FALSE(c.trades().empty());
                break;
            case MessageKind::other:
                if (c.feed() == "ticker_lite") ++ticker_lite;
                break;
            case MessageKind::invalid:
                ++invalid;
                FAIL_CHECK("line " << reader.line_number() << ": " << c.error());
                break;
        }
    }
    // The counts the data README lists for this capture.
    CHECK(invalid == 0);
    CHECK(snapshots == 10);
    CHECK(deltas == 7014);
    CHECK(trade_snapshots == 10);
    CHECK(trades == 3);
    CHECK(ticker_lite == 107);
    REQUIRE(products.size() == 10);
    for (auto &[id, p] : products) {
        INFO(id);
        const auto &st = p.sync.stats();
        CHECK(st.snapshots == 1);
        CHECK(st.applied == p.deltas);  // every delta continues the book: none stale, none lost
        CHECK(st.gaps == 0);
        CHECK(st.out_of_order == 0);
        CHECK(st.stale == 0);
        CHECK(p.crossed == 0);
        CHECK(p.book.valid());
        WARN(id << ": " << st.applied << " deltas applied after the snapshot");
    }
    CHECK(products.at("PI_ETHUSD").sync.stats().applied == 3890);
}
