#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "codec.hpp"

using namespace keel;
using binance::MessageKind;

namespace {

struct Parser {
    binance::Codec codec;
    std::string buffer;
    explicit Parser(market::DecimalGrid price = {2, 10}, market::DecimalGrid qty = {3, 1})
        : codec(price, qty) {}
    // The frame followed by `padding` (simdjson's zeros unless told otherwise).
    MessageKind parse(std::string_view frame, char padding = '\0') {
        buffer.assign(frame);
        buffer.append(simdjson::SIMDJSON_PADDING, padding);
        return codec.parse({buffer.data(), frame.size()}, buffer.size());
    }
    MessageKind parse_padded(std::string_view frame, std::string_view padding) {
        buffer.assign(frame);
        while (buffer.size() < frame.size() + simdjson::SIMDJSON_PADDING) buffer.append(padding);
        return codec.parse({buffer.data(), frame.size()}, buffer.size());
    }
};

std::string futures_depth(const std::string &bids, const std::string &asks, int U = 100,
                          int u = 105) {
    return R"({"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,)"
           R"("T":1723161256298,"s":"BTCUSDT","U":)" +
           std::to_string(U) + R"(,"u":)" + std::to_string(u) + R"(,"pu":99,"b":)" + bids +
           R"(,"a":)" + asks + "}}";
}

// Everything parse() reads from a depth diff, bookTicker or trade, to compare two parses.
struct Message {
    MessageKind kind;
    std::string error, symbol;
    uint64_t first = 0, last = 0, prev_last = 0;  // depth
    int64_t event_ms = 0;
    std::vector<market::Level> bids, asks;
    uint64_t id = 0;  // bookTicker u, trade t
    market::Level bid, ask;
    int64_t trade_ms = 0;
    Ticks price = 0;
    Lots qty = 0;
    bool buyer_is_maker = false;
    bool operator==(const Message &) const = default;
};

Message read(Parser &p, std::string_view frame) {
    Message m{};
    m.kind = p.parse(frame);
    if (m.kind == MessageKind::invalid) {
        m.error = p.codec.error();
        return m;
    }
    m.symbol = p.codec.symbol();
    if (m.kind == MessageKind::depth) {
        const auto &x = p.codec.depth();
        m.first = x.first;
        m.last = x.last;
        m.prev_last = x.prev_last;
        m.event_ms = x.event_ms;
        m.bids = x.bids;
        m.asks = x.asks;
    } else if (m.kind == MessageKind::book_ticker) {
        m.id = p.codec.book_ticker().update_id;
        m.bid = p.codec.book_ticker().bid;
        m.ask = p.codec.book_ticker().ask;
    } else if (m.kind == MessageKind::trade) {
        const auto &t = p.codec.trade();
        m.id = t.id;
        m.trade_ms = t.trade_ms;
        m.price = t.price;
        m.qty = t.qty;
        m.buyer_is_maker = t.buyer_is_maker;
    }
    return m;
}

// The same frame with a space after every ',' and ':': no longer Binance's exact layout, so it
// goes through simdjson's on-demand iterator all the way (the reference for the text path).
std::string spaced(std::string_view frame) {
    std::string out;
    for (char c : frame) {
        out += c;
        if (c == ',' || c == ':') out += ' ';
    }
    return out;
}

}  // namespace

TEST_CASE("Binance depth diffs become integer levels", "[binance][codec]") {
    Parser p;
    auto frame = futures_depth(R"([["61800.20","2.507"],["61799.00","0.000"]])",
                               R"([["61800.30","3.33"],["65880.7","15.918"]])");
    REQUIRE(p.parse(frame) == MessageKind::depth);
    const auto &d = p.codec.depth();
    CHECK(d.first == 100);
    CHECK(d.last == 105);
    CHECK(d.prev_last == 99);
    CHECK(d.event_ms == 1723161256299);
    CHECK(p.codec.symbol() == "BTCUSDT");
    CHECK(d.bids == std::vector<market::Level>{{618002, 2507}, {617990, 0}});
    CHECK(d.asks == std::vector<market::Level>{{618003, 3330}, {658807, 15918}});

    // Spot: no T, no pu.
    REQUIRE(p.parse(R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":5,)"
                    R"("s":"BTCUSDT","U":7,"u":9,"b":[],"a":[["1.0","0.001"]]}})") ==
            MessageKind::depth);
    CHECK(p.codec.depth().prev_last == 0);
    CHECK(p.codec.depth().bids.empty());
    CHECK(p.codec.depth().asks == std::vector<market::Level>{{10, 1}});

    // Trailing whitespace after the frame is fine.
    CHECK(p.parse(frame + " \r\n") == MessageKind::depth);
}

TEST_CASE("Binance depth diffs read as text equal the on-demand reading", "[binance][codec]") {
    Parser text, on_demand;
    const std::vector<std::string> frames{
        futures_depth(R"([["61800.20","2.507"],["0.1","0.0010000"]])", R"([])"),
        futures_depth(R"([])", R"([[".5","7."],["000061800.30","12345.678"]])"),
        futures_depth(R"([["61800.20","2.507"]])", R"([["1","2"]])", 7, 7),
        // The asks not right after the bids: found by the iterator.
        R"({"stream":"btcusdt@depth","data":{"E":1,"s":"BTCUSDT","U":1,"u":2,"a":[["2.0","1"]],)"
        R"("b":[["1.0","1"]]}})",
        // Numbers the text path leaves to DecimalGrid (more than 18 characters).
        futures_depth(R"([["61800.2000000000000000","2.5070000000000000000"]])", "[]"),
    };
    for (const auto &f : frames) {
        INFO(f);
        auto a = read(text, f);
        CHECK(a.kind == MessageKind::depth);
        CHECK(a == read(on_demand, spaced(f)));
        // Only the level arrays differ from Binance's layout.
        auto b_at = f.find(R"("b":)") + 4;
        CHECK(a == read(on_demand, f.substr(0, b_at) + " " + f.substr(b_at)));
    }
    // The symbol outlives a change of the frame's buffer (it is copied, as simdjson does).
    REQUIRE(text.parse(frames[0]) == MessageKind::depth);
    auto symbol = text.codec.symbol();
    text.buffer.assign(text.buffer.size(), 'x');
    CHECK(symbol == "BTCUSDT");
}

TEST_CASE("malformed Binance depth diffs are invalid with the reason", "[binance][codec]") {
    Parser p;  // tick 0.10 (given as 2 decimals, step 10), lot 0.001
    const std::vector<std::pair<std::string, std::string>> cases{
        {futures_depth(R"("x")", "[]"), "b: not an array"},
        {futures_depth(R"([["1.0","2"],"x"])", "[]"), "b: level not a pair"},
        {futures_depth(R"([["1.0","2"],3])", "[]"), "b: level not a pair"},
        {futures_depth(R"([[1.0,"2"]])", "[]"), "b: level price is not a string"},
        {futures_depth(R"([[]])", "[]"), "b: level price is not a string"},
        {futures_depth(R"([["1.0",2]])", "[]"), "b: level size is not a string"},
        {futures_depth(R"([["1.0"]])", "[]"), "b: level size is not a string"},
        {futures_depth(R"([["1.05","2"]])", "[]"), R"(b: bad price "1.05")"},  // precision
        {futures_depth(R"([["1.0x","2"]])", "[]"), R"(b: bad price "1.0x")"},  // junk
        {futures_depth(R"([["1.0","2a"]])", "[]"), R"(b: bad size "2a")"},     // junk
        {futures_depth(R"([["","2"]])", "[]"), R"(b: bad price "")"},          // empty
        {futures_depth(R"([[".","2"]])", "[]"), R"(b: bad price ".")"},        // no digit
        {futures_depth(R"([["-1.0","2"]])", "[]"), R"(b: bad price "-1.0")"},  // sign
        {futures_depth(R"([["1.0.0","2"]])", "[]"), R"(b: bad price "1.0.0")"},
        {futures_depth(R"([["1e3","2"]])", "[]"), R"(b: bad price "1e3")"},
        {futures_depth(R"([["1.\u0030","2"]])", "[]"), R"(b: bad price "1.\u0030")"},  // escape
        {futures_depth(R"([["99999999999999999999","2"]])", "[]"),
         R"(b: bad price "99999999999999999999")"},  // overflow
        {futures_depth(R"([["1.0","0.0001"]])", "[]"), R"(b: bad size "0.0001")"},
        {futures_depth("[]", R"([["1.0","2"],["1.0",""]])"), R"(a: bad size "")"},
        {futures_depth("[]", R"([["1.0","2"]x])"), "a: level not a pair"},
        {futures_depth("[]", "[]", 9, 8), "depth: u < U"},
        {R"({"stream":"btcusdt@depth","data":{"E":01,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}})",
         "depth: no E"},
        {R"({"stream":"btcusdt@depth","data":{"E":1,"s":"BTCUSDT","U":-1,"u":2,"b":[],"a":[]}})",
         "depth: no U"},
        {R"({"stream":"btcusdt@depth","data":{"E":1,"s":"BTCUSDT","U":1,"u":2,"a":[]}})",
         "b: not an array"},
        {R"({"stream":"btcusdt@depth","data":{"E":1,"s":"BTCUSDT","U":1,"u":2,"b":[]}})",
         "a: not an array"},
    };
    for (const auto &[frame, error] : cases) {
        INFO(frame);
        CHECK(p.parse(frame) == MessageKind::invalid);
        CHECK(p.codec.error() == error);
        // The same through the REST snapshot's reading of the levels.
        auto b = frame.find(R"("b":)"), a = frame.find(R"("a":)");
        if (b == std::string::npos || a == std::string::npos || error.starts_with("depth"))
            continue;
        auto bids = frame.substr(b + 4, frame.find(R"(,"a":)") - b - 4);
        auto asks = frame.substr(a + 4, frame.size() - 2 - a - 4);
        std::string body = R"({"lastUpdateId":5,"bids":)" + bids + R"(,"asks":)" + asks + "}";
        std::string padded = body + std::string(simdjson::SIMDJSON_PADDING, '\0');
        CHECK(p.codec.parse_depth_response("/fapi/v1/depth?symbol=BTCUSDT",
                                           {padded.data(), body.size()},
                                           padded.size()) == MessageKind::invalid);
        CHECK(p.codec.error() ==
              (error[0] == 'b' ? "bids" + error.substr(1) : "asks" + error.substr(1)));
    }
}

TEST_CASE("a truncated Binance frame never reads its padding as data", "[binance][codec]") {
    Parser p;
    auto frame = futures_depth(R"([["1.0","2"],["3.0","4"]])", "[]");
    // Cut inside a number, after a level, and inside the asks; the padding looks like more levels.
    for (auto cut : {frame.find("3.0") + 1, frame.find(",[\"3.0\""), frame.size() - 3}) {
        auto head = frame.substr(0, cut);
        INFO(head);
        auto kind = p.parse_padded(head, R"(],["5.0","6"]],"a":[]}})");
        if (kind == MessageKind::depth)
            for (auto &lv : p.codec.depth().bids) CHECK(lv.price != 50);
        CHECK(kind == MessageKind::invalid);
    }
}

TEST_CASE("the text reading keeps the grid's range", "[binance][codec]") {
    // A grid of 17 decimals, step 10: the units of 10^-17 must fit in int64.
    Parser p({17, 10}, {0, 1});
    REQUIRE(p.parse(futures_depth(R"([["92.23","1"]])", "[]")) == MessageKind::depth);
    CHECK(p.codec.depth().bids[0].price == 922300000000000000);
    CHECK(p.parse(futures_depth(R"([["92.24","1"]])", "[]")) == MessageKind::invalid);
    CHECK(p.codec.error() == R"(b: bad price "92.24")");
    // A step that is not a power of ten: 0.05.
    Parser nickel({2, 5}, {0, 1});
    REQUIRE(nickel.parse(futures_depth(R"([["1.05","1"]])", "[]")) == MessageKind::depth);
    CHECK(nickel.codec.depth().bids[0].price == 21);
    CHECK(nickel.parse(futures_depth(R"([["1.01","1"]])", "[]")) == MessageKind::invalid);
    CHECK(nickel.codec.error() == R"(b: bad price "1.01")");
}

TEST_CASE("every level price and size is read as DecimalGrid::to_units reads it",
          "[binance][codec]") {
    std::mt19937_64 rng(20240808);
    const char alphabet[] = "0123456789000.";
    auto text = [&] {
        std::string s;
        auto n = rng() % 21;
        for (size_t i = 0; i < n; ++i) s += alphabet[rng() % (sizeof alphabet - 1)];
        if (rng() % 16 == 0 && !s.empty()) s[rng() % s.size()] = "x-+e /"[rng() % 6];
        return s;
    };
    const std::vector<market::DecimalGrid> grids{{0, 1}, {1, 1},   {2, 10},  {2, 5},   {3, 1},
                                                 {8, 1}, {8, 100}, {17, 10}, {3, 250}, {18, 1}};
    for (auto grid : grids) {
        Parser p(grid, grid);
        for (int i = 0; i < 3000; ++i) {
            auto price = text(), size = text();
            // Each number both before another level and last: the text path reads a level
            // followed by another in one word where it can.
            auto frame = futures_depth(R"([["1",")" + size + R"("],["1",")" + size + R"("]])",
                                       R"([[")" + price + R"(","1"],[")" + price + R"(","1"]])");
            INFO(frame << " on " << grid.decimals << "/" << grid.step);
            auto one = grid.to_units("1");
            auto want_price = grid.to_units(price), want_size = grid.to_units(size);
            auto kind = p.parse(frame);
            if (!one) {
                CHECK(kind == MessageKind::invalid);
                continue;
            }
            if (!want_size) {
                REQUIRE(kind == MessageKind::invalid);
                CHECK(p.codec.error() == "b: bad size \"" + size + "\"");
            } else if (!want_price) {
                REQUIRE(kind == MessageKind::invalid);
                CHECK(p.codec.error() == "a: bad price \"" + price + "\"");
            } else {
                REQUIRE(kind == MessageKind::depth);
                CHECK(p.codec.depth().bids[0].qty == *want_size);
                CHECK(p.codec.depth().bids[1].qty == *want_size);
                CHECK(p.codec.depth().asks[0].price == *want_price);
                CHECK(p.codec.depth().asks[1].price == *want_price);
            }
        }
    }
}

namespace {

// Real frames of each form (the captures in ../shared/data).
const std::vector<std::string> kTickersAndTrades{
    R"({"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":5123107839020,"s":"BTCUSDT",)"
    R"("b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}})",
    R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,)"
    R"("s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}})",
    R"({"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.60000000",)"
    R"("B":"3.78800000","a":"61837.70000000","A":"1.54600000"}})",
    R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT",)"
    R"("t":3735683259,"p":"61837.60000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}})",
};

}  // namespace

TEST_CASE("Binance bookTickers and trades read as text equal the on-demand reading",
          "[binance][codec]") {
    Parser text, on_demand;
    std::vector<std::string> frames = kTickersAndTrades;
    // Variants the text path reads, leaves to simdjson, or refuses as simdjson would.
    auto with = [](std::string f, const std::string &from, const std::string &to) {
        return f.replace(f.find(from), from.size(), to);
    };
    const auto &usdm_ticker = kTickersAndTrades[0], &usdm_trade = kTickersAndTrades[1];
    frames.push_back(with(usdm_trade, R"("m":false)", R"("m":true)"));
    frames.push_back(with(usdm_trade, "MARKET", "INSURANCE_FUND"));
    frames.push_back(with(usdm_ticker, R"("61800.20")", R"("61800.25")"));  // off the tick
    frames.push_back(with(usdm_ticker, R"("2.507")", R"("2.5070000")"));    // zeros beyond the lot
    frames.push_back(with(usdm_trade, R"("0.006")", R"("0.000")"));         // no size
    frames.push_back(with(usdm_trade, R"("m":false)", R"("m":0)"));
    frames.push_back(with(usdm_ticker, R"("s":"BTCUSDT")", R"("s":"BTC\u0055SDT")"));
    frames.push_back(with(usdm_ticker, R"(,"A":"2.510")", ""));
    frames.push_back(with(usdm_trade, R"("t":5266583935)", R"("t":-1)"));
    frames.push_back(with(usdm_trade, "@trade", "@aggTrade"));
    frames.push_back(usdm_ticker + " \r\n");
    for (const auto &f : frames) {
        INFO(f);
        auto a = read(text, f);
        CHECK(a == read(on_demand, spaced(f)));
    }
    // The text path took the real frames: their symbol outlives the frame's buffer.
    for (const auto &f : kTickersAndTrades) {
        INFO(f);
        auto kind = text.parse(f);
        CHECK((kind == MessageKind::book_ticker || kind == MessageKind::trade));
        auto symbol = text.codec.symbol();
        text.buffer.assign(text.buffer.size(), 'x');
        CHECK(symbol == "BTCUSDT");
    }
}

TEST_CASE("a bookTicker or trade with any one byte changed reads as simdjson reads it",
          "[binance][codec]") {
    // Every position of each real frame, replaced by bytes that matter to a JSON reader. ',' and
    // ':' are left out: the reference (the frame spaced out for simdjson) spaces after them.
    Parser text, on_demand;
    const std::string replacements = "0 19.-\"}]{[e\\x\x01";
    uint64_t compared = 0, accepted = 0;
    for (const auto &f : kTickersAndTrades) {
        for (size_t i = 0; i < f.size(); ++i) {
            if (f[i] == ',' || f[i] == ':') continue;
            for (char c : replacements) {
                if (c == f[i]) continue;
                std::string changed = f;
                changed[i] = c;
                INFO(changed);
                auto a = read(text, changed);
                REQUIRE(a == read(on_demand, spaced(changed)));
                ++compared;
                accepted += a.kind != MessageKind::invalid;
            }
        }
    }
    CHECK(compared > 5000);
    CHECK(accepted > 500);  // changed digits still read, and equal
}
