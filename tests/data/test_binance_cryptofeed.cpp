// cryptofeed's Binance captures (several symbols on one combined stream, REST depth snapshots in
// a separate file) replayed in receive-time order through the codec and BookSync.

#include <catch2/catch.hpp>

#include <map>

#include "codec.hpp"
#include "keel/market/book_sync.hpp"
#include "keel/market/capture.hpp"

using namespace keel;
using binance::MessageKind;
using market::CryptofeedKind;
using market::CryptofeedLine;
using market::CryptofeedReader;
using market::SequenceRule;
using market::SyncStatus;

namespace {

// Two cryptofeed files read as one stream ordered by receive time, as the process that recorded
// them saw it: the REST snapshots arrive in between the WebSocket frames.
class MergedCapture {
  public:
    MergedCapture(const std::filesystem::path &a, const std::filesystem::path &b)
        : readers_{CryptofeedReader(a), CryptofeedReader(b)} {
        for (int i = 0; i < 2; ++i) has_[i] = readers_[i].next(lines_[i]);
    }

    // The earliest pending line of either file; it stays valid until the next call.
    bool next(const CryptofeedLine *&line, size_t &capacity) {
        if (consumed_ >= 0) has_[consumed_] = readers_[consumed_].next(lines_[consumed_]);
        if (!has_[0] && !has_[1]) return false;
        int i = !has_[0] ? 1 : !has_[1] ? 0 : lines_[1].ts < lines_[0].ts ? 1 : 0;
        line = &lines_[i];
        capacity = readers_[i].capacity();
        consumed_ = i;
        return true;
    }

  private:
    CryptofeedReader readers_[2];
    CryptofeedLine lines_[2];
    bool has_[2] = {false, false};
    int consumed_ = -1;
};

struct Top {
    market::Level bid, ask;
};

struct SymbolState {
    explicit SymbolState(SequenceRule rule) : sync(rule) {}
    market::Book book;
    market::BookSync sync;
    std::map<uint64_t, Top> top_after;  // u of each applied depth event -> best levels then
    std::vector<binance::BookTicker> tickers;
    uint64_t crossed = 0, ticker_matches = 0, ticker_mismatches = 0;
};

struct Replay {
    std::map<std::string, SymbolState, std::less<>> symbols;
    uint64_t depth = 0, tickers = 0, trades = 0, other = 0, invalid = 0;
};

SymbolState &state_of(Replay &r, std::string_view symbol, SequenceRule rule) {
    auto it = r.symbols.find(symbol);
    if (it == r.symbols.end()) it = r.symbols.emplace(std::string(symbol), rule).first;
    return it->second;
}

Replay replay(const std::filesystem::path &dir, const std::string &name, SequenceRule rule) {
    binance::Codec codec(market::DecimalGrid{8, 1}, market::DecimalGrid{8, 1});
    MergedCapture capture(dir / (name + ".http.0.0"), dir / (name + ".ws.1.0"));
    Replay r;
    const CryptofeedLine *line = nullptr;
    size_t capacity = 0;
    while (capture.next(line, capacity)) {
        MessageKind kind;
        if (line->kind == CryptofeedKind::rest_response)
            kind = codec.parse_depth_response(line->url, line->payload, capacity);
        else if (line->kind == CryptofeedKind::received)
            kind = codec.parse(line->payload, capacity);
        else
            continue;
        switch (kind) {
            case MessageKind::snapshot: {
                auto &s = state_of(r, codec.symbol(), rule);
                const auto &snap = codec.snapshot();
                s.sync.on_snapshot(snap.last_update_id, snap.bids, snap.asks, s.book);
                break;
            }
            case MessageKind::depth: {
                ++r.depth;
                auto &s = state_of(r, codec.symbol(), rule);
                const auto &d = codec.depth();
                auto status =
                    s.sync.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks, s.book);
                if (status != SyncStatus::applied) break;
                if (!s.book.valid()) {
                    ++s.crossed;
                    break;
                }
                s.top_after[d.last] = {*s.book.best_bid(), *s.book.best_ask()};
                break;
            }
            case MessageKind::book_ticker:
                ++r.tickers;
                state_of(r, codec.symbol(), rule).tickers.push_back(codec.book_ticker());
                break;
            case MessageKind::trade:
                ++r.trades;
                break;
            case MessageKind::other:
                ++r.other;
                break;
            case MessageKind::invalid:
                ++r.invalid;
                FAIL_CHECK(name << ": " << codec.error());
                break;
        }
    }
    for (auto &[symbol, s] : r.symbols) {
        for (auto &t : s.tickers) {
            auto it = s.top_after.find(t.update_id);
            if (it == s.top_after.end()) continue;
            const auto &top = it->second;
            bool same = top.bid == t.bid && top.ask == t.ask;
            ++(same ? s.ticker_matches : s.ticker_mismatches);
        }
    }
    return r;
}

void check_books(const Replay &r, size_t symbols) {
    CHECK(r.invalid == 0);
    REQUIRE(r.symbols.size() == symbols);
    uint64_t matches = 0;
    for (auto &[symbol, s] : r.symbols) {
        INFO(symbol);
        const auto &st = s.sync.stats();
        CHECK(st.snapshots == 1);
        CHECK(st.applied > 0);
        CHECK(st.gaps == 0);
        CHECK(st.out_of_order == 0);
        CHECK_FALSE(s.sync.needs_snapshot());
        CHECK(s.crossed == 0);
        CHECK(s.ticker_mismatches == 0);
        WARN(symbol << ": " << st.applied << " depth applied, " << st.buffered << " buffered, "
                    << st.stale << " stale; bookTicker matches " << s.ticker_matches << "/"
                    << s.tickers.size());
        matches += s.ticker_matches;
    }
    CHECK(matches > 0);
}

const std::filesystem::path kData = KEEL_DATA_DIR;

}  // namespace

TEST_CASE("Binance USD-M cryptofeed capture rebuilds every symbol's book",
          "[data][binance][cryptofeed]") {
    auto r = replay(kData / "binance/usdm/cryptofeed_capture", "BINANCE_FUTURES",
                    SequenceRule::binance_futures);
    // The counts the data README lists for this capture.
    CHECK(r.depth == 764);
    CHECK(r.tickers == 613);
    CHECK(r.trades == 91);
    CHECK(r.other == 67);  // kline_1m
    check_books(r, 4);
}

TEST_CASE("Binance spot cryptofeed capture rebuilds every symbol's book",
          "[data][binance][cryptofeed]") {
    auto r =
        replay(kData / "binance/spot/cryptofeed_capture", "BINANCE", SequenceRule::binance_spot);
    CHECK(r.depth == 177);
    CHECK(r.tickers == 84);
    CHECK(r.trades == 2);
    CHECK(r.other == 2);  // kline_1m
    check_books(r, 4);
}
