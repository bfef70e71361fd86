#pragma once
// The bookTicker check on a Binance capture or recording: rebuild the book from its depth
// snapshot and diffs (codec + BookSync), and compare every bookTicker whose u equals an applied
// depth event's u with the rebuilt best bid and ask, price and quantity exactly.

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "codec.hpp"
#include "keel/market/book_sync.hpp"
#include "keel/market/capture.hpp"

namespace keel::test {

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
inline ReplayResult replay(const std::filesystem::path &file, market::SequenceRule rule) {
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
        // The venue's answers to SUBSCRIBE / UNSUBSCRIBE carry no market data.
        if (frame.starts_with("{\"result\"")) continue;
        ++r.frames;
        // A recorded REST answer carries its URL (a session's recording); bare snapshots do not.
        auto kind = reader.url().empty()
                        ? codec.parse(frame, reader.capacity())
                        : codec.parse_depth_response(reader.url(), frame, reader.capacity());
        switch (kind) {
            case binance::MessageKind::snapshot: {
                const auto &s = codec.snapshot();
                sync.on_snapshot(s.last_update_id, s.bids, s.asks, book);
                break;
            }
            case binance::MessageKind::depth: {
                ++r.depth;
                const auto &d = codec.depth();
                auto status = sync.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks, book);
                if (status != market::SyncStatus::applied) break;
                if (!book.valid()) {
                    ++r.crossed;
                    break;
                }
                top_after[d.last] = {*book.best_bid(), *book.best_ask()};
                break;
            }
            case binance::MessageKind::book_ticker:
                ++r.tickers;
                tickers.push_back(codec.book_ticker());
                break;
            case binance::MessageKind::trade:
                ++r.trades;
                break;
            case binance::MessageKind::invalid:
                ++r.invalid;
                FAIL_CHECK(file.filename().string()
                           << ":" << reader.line_number() << ": " << codec.error());
                break;
            case binance::MessageKind::other:
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

}  // namespace keel::test
