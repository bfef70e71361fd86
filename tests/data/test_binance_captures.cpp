// Real Binance captures from ../shared/data replayed through the codec and BookSync: the same
// parsing and sync path the Binance plugin uses.

#include <catch2/catch.hpp>

#include <map>

#include "codec.hpp"
#include "keel/market/book_sync.hpp"
#include "keel/market/capture.hpp"

using namespace keel;
using binance::MessageKind;
using market::SequenceRule;
using market::SyncStatus;

namespace {

std::filesystem::path data_dir() {
    return KEEL_DATA_DIR;
}

struct Top {
    market::Level bid, ask;
};

struct ReplayResult {
    uint64_t frames = 0, depth = 0, tickers = 0, trades = 0, invalid = 0;
    uint64_t crossed = 0, ticker_matches = 0, ticker_mismatches = 0;
    market::SyncStats sync;
    std::string first_mismatch;
};

// Replays a capture, rebuilding the book, and compares it with every bookTicker whose update id
// equals the u of an applied depth event.
ReplayResult replay(const std::filesystem::path &file, SequenceRule rule) {
    // 8 decimals covers every Binance price and size exactly.
    binance::Codec codec(market::DecimalGrid{8, 1}, market::DecimalGrid{8, 1});
    market::Book book;
    market::BookSync sync(rule);
    market::CaptureReader reader(file);
    std::map<uint64_t, Top> top_after;  // u of each applied depth event -> best levels then
    std::vector<binance::BookTicker> tickers;
    ReplayResult r;
    TimeNs ts = 0;
    std::string_view frame;
    while (reader.next(ts, frame)) {
        ++r.frames;
        switch (codec.parse(frame, reader.capacity())) {
            case MessageKind::snapshot: {
                const auto &s = codec.snapshot();
                sync.on_snapshot(s.last_update_id, s.bids, s.asks, book);
                break;
            }
            case MessageKind::depth: {
                ++r.depth;
                const auto &d = codec.depth();
                auto status = sync.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks, book);
                if (status != SyncStatus::applied) break;
                if (!book.valid()) {
                    ++r.crossed;
                    break;
                }
                top_after[d.last] = {*book.best_bid(), *book.best_ask()};
                break;
            }
            case MessageKind::book_ticker:
                ++r.tickers;
                tickers.push_back(codec.book_ticker());
                break;
            case MessageKind::trade:
                ++r.trades;
                break;
            case MessageKind::invalid:
                ++r.invalid;
                FAIL_CHECK(file.filename().string()
                           << ":" << reader.line_number() << ": " << codec.error());
                break;
            case MessageKind::other:
                break;
        }
    }
    for (auto &t : tickers) {
        auto it = top_after.find(t.update_id);
        if (it == top_after.end()) continue;
        const auto &top = it->second;
        bool same = top.bid.price == t.bid.price && top.bid.qty == t.bid.qty &&
                    top.ask.price == t.ask.price && top.ask.qty == t.ask.qty;
        if (same) {
            ++r.ticker_matches;
        } else if (r.ticker_mismatches++ == 0) {
            r.first_mismatch = "u=" + std::to_string(t.update_id);
        }
    }
    r.sync = sync.stats();
    return r;
}

void check_clean(const ReplayResult &r, uint64_t expected_matches) {
    INFO("first mismatch: " << r.first_mismatch);
    CHECK(r.invalid == 0);
    CHECK(r.sync.snapshots == 1);
    CHECK(r.sync.gaps == 0);
    CHECK(r.sync.out_of_order == 0);
    CHECK(r.crossed == 0);
    CHECK(r.ticker_mismatches == 0);
    // The counts the data README lists for each capture.
    CHECK(r.ticker_matches == expected_matches);
}

}  // namespace

TEST_CASE("Binance USD-M BTCUSDT capture rebuilds an exact book", "[data][binance]") {
    auto r = replay(data_dir() / "binance/usdm/ws_capture/btcusdt_20240808.gz",
                    SequenceRule::binance_futures);
    CHECK(r.depth == 6551);
    check_clean(r, 629);
}

TEST_CASE("Binance USD-M ETHUSDT capture rebuilds an exact book", "[data][binance]") {
    auto r = replay(data_dir() / "binance/usdm/ws_capture/ethusdt_20240808.gz",
                    SequenceRule::binance_futures);
    check_clean(r, 551);
}

TEST_CASE("Binance spot BTCUSDT capture rebuilds an exact book", "[data][binance]") {
    auto r = replay(data_dir() / "binance/spot/ws_capture/btcusdt_20240808.gz",
                    SequenceRule::binance_spot);
    check_clean(r, 564);
}

TEST_CASE("Binance spot ETHUSDT capture rebuilds an exact book", "[data][binance]") {
    auto r = replay(data_dir() / "binance/spot/ws_capture/ethusdt_20240808.gz",
                    SequenceRule::binance_spot);
    check_clean(r, 577);
}
