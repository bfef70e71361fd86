// cryptofeed's Binance captures (several symbols on one combined stream, REST depth snapshots in
// a separate file) replayed in receive-time order through the codec and BookSync.

#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include <fmt/format.h>

#include "codec.hpp"
#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/market/book_sync.hpp"
#include "keel/market/capture.hpp"
#include "support/engine.hpp"
#include "support/support.hpp"

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

namespace {

// The capture replayed through the whole engine (venue `replay:` naming its NAME.ws.N.0; the
// binance plugin with the exchangeInfo the capture itself fetched) must build every symbol's
// book exactly as the direct rebuild above: the same snapshot, no gap, the same final book.
// `off_grid`: the symbol whose snapshot holds levels off the tick size exchangeInfo gives
// (CTKUSDT 0.50579 on a 0.001 tick; NKNUSDT 0.25974 on 0.0001): keel refuses that frame whole,
// counted, and the book stays invalid rather than being built on a rounded grid.
void check_engine_replay(const std::filesystem::path &dir, const std::string &name,
                         const char *market, SequenceRule rule, const std::string &off_grid) {
    const Replay direct = replay(dir, name, rule);
    test::TempDir tmp;
    // NAME.0 holds the exchangeInfo answer: "<url> -> <ts>: <body>".
    std::ifstream in(dir / (name + ".0"));
    std::string line;
    REQUIRE(std::getline(in, line));
    const auto body = line.find(": {");
    REQUIRE(body != std::string::npos);
    const auto info = tmp.write("exchange_info.json", line.substr(body + 2));
    std::string instruments, symbols;
    for (const auto &[symbol, s] : direct.symbols) {
        instruments += fmt::format("  - {{ symbol: {}, venue: binance }}\n", symbol);
        symbols += (symbols.empty() ? "" : ", ") + symbol;
    }
    tmp.write("idle.lua", "function on_book(inst, book) end\n");
    auto cfg = config::load_file(
        tmp.write("replay.yaml", fmt::format(R"(mode: paper
venues:
  binance:
    plugin: binance
    replay: {}
    settings:
      market: {}
      exchange_info: {}
instruments:
{}strategies:
  - {{ name: idle, file: idle.lua, instruments: [{}] }}
)",
                                             (dir / (name + ".ws.1.0")).string(), market,
                                             info.string(), instruments, symbols)));
    cfg.notifiers.clear();
    engine::Engine e(cfg, test::simulated());
    const auto summary = e.run(TimeNs{3600} * 1'000'000'000);  // the capture ends first
    CHECK(summary.malformed_frames == 1);                      // the off-grid snapshot
    REQUIRE(summary.market.size() == direct.symbols.size());
    InstrumentIndex i = 0;
    for (const auto &[symbol, s] : direct.symbols) {
        INFO(symbol);
        const auto &m = summary.market[i];
        CHECK(m.instrument == symbol);
        if (symbol == off_grid) {
            CHECK(m.sync.snapshots == 0);
            CHECK(m.sync.applied == 0);
            CHECK_FALSE(e.book(i).valid());
            ++i;
            continue;
        }
        CHECK(m.sync.snapshots == 1);
        CHECK(m.sync.gaps == 0);
        CHECK(m.sync.out_of_order == 0);
        CHECK(m.sync.applied == s.sync.stats().applied);
        // Only quiet spells are counted (RUNEEUR's book rests more than 10 s at a time).
        CHECK(m.rejects.total() == m.rejects[market::Reject::stale]);
        CHECK(m.resyncs == 0);
        // The same final book, level by level (the reference keeps prices to 1e-8).
        const auto &book = e.book(i);
        const auto &spec = e.spec(i);
        for (Side side : {Side::buy, Side::sell}) {
            REQUIRE(book.depth(side) == s.book.depth(side));
            for (size_t k = 0; k < book.depth(side); ++k) {
                INFO("level " << k);
                CHECK(spec.price(book.level(side, k)->price) ==
                      Approx(static_cast<double>(s.book.level(side, k)->price) / 1e8));
                CHECK(spec.qty(book.level(side, k)->qty) ==
                      Approx(static_cast<double>(s.book.level(side, k)->qty) / 1e8));
            }
        }
        ++i;
    }
}

}  // namespace

TEST_CASE("the cryptofeed captures replay through the engine to the same books",
          "[data][binance][cryptofeed][replay]") {
    SECTION("USD-M") {
        check_engine_replay(kData / "binance/usdm/cryptofeed_capture", "BINANCE_FUTURES", "usdm",
                            SequenceRule::binance_futures, "CTKUSDT");
    }
    SECTION("spot") {
        check_engine_replay(kData / "binance/spot/cryptofeed_capture", "BINANCE", "spot",
                            SequenceRule::binance_spot, "NKNUSDT");
    }
}
