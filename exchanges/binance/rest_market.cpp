#include "rest_market.hpp"

#include <algorithm>
#include <limits>

namespace keel::binance {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;
// 1e-8 units: Binance writes money, rates and off-grid prices with at most 8 decimals.
constexpr market::DecimalGrid kE8{8, 1};

using Value = simdjson::simdjson_result<simdjson::dom::element>;

// Digits with at most one point and a digit somewhere, after an optional minus: the only number
// text Binance sends. Tells "not a number" from "not on the grid" in the error.
bool plain_decimal(std::string_view s) {
    if (s.starts_with('-')) s.remove_prefix(1);
    bool digit = false, dot = false;
    for (char c : s) {
        if (c == '.' && !dot)
            dot = true;
        else if (c >= '0' && c <= '9')
            digit = true;
        else
            return false;
    }
    return digit;
}

// Reads fields of one object or array, remembering the first that is missing or malformed as
// "<where><name>: <why>". Every read returns 0 or empty after a failure, so a caller reads all
// its fields and checks ok() once.
class Reader {
  public:
    explicit Reader(std::string where) : where_(std::move(where)) {}

    std::string_view text(Value v, const char *name) {
        std::string_view s;
        if (v.error() == simdjson::NO_SUCH_FIELD || v.error() == simdjson::INDEX_OUT_OF_BOUNDS)
            note(name, "missing");
        else if (v.get_string().get(s))
            note(name, "not a string");
        return s;
    }
    int64_t integer(Value v, const char *name) {
        int64_t i = 0;
        if (!number(v, name)) return 0;
        if (v.get_int64().get(i)) note(name, "not an integer");
        return i;
    }
    uint64_t id(Value v, const char *name) {
        uint64_t u = 0;
        if (!number(v, name)) return 0;
        if (v.get_uint64().get(u)) note(name, "not an id");
        return u;
    }
    // Milliseconds since the epoch to nanoseconds; negative or past 2262 is not a time.
    TimeNs ms_to_ns(Value v, const char *name) {
        int64_t ms = integer(v, name);
        if (ms < 0 || ms > std::numeric_limits<TimeNs>::max() / kNsPerMs) {
            note(name, "not a time in milliseconds");
            return 0;
        }
        return ms * kNsPerMs;
    }
    bool flag(Value v, const char *name) {
        bool b = false;
        if (v.error() == simdjson::NO_SUCH_FIELD)
            note(name, "missing");
        else if (v.get_bool().get(b))
            note(name, "not true or false");
        return b;
    }
    // Whole units of a grid, exactly: a value with more precision than the grid is refused.
    int64_t units(Value v, const char *name, market::DecimalGrid grid) {
        std::string_view s = text(v, name);
        if (!ok()) return 0;
        bool negative = s.starts_with('-');
        auto u = grid.to_units(negative ? s.substr(1) : s);
        if (!plain_decimal(s))
            note(name, quoted(s) + " is not a decimal");
        else if (!u)
            note(name, quoted(s) + " is off the grid or out of range");
        return u ? (negative ? -*u : *u) : 0;
    }
    // A price or size, which is never negative.
    int64_t positive_units(Value v, const char *name, market::DecimalGrid grid) {
        int64_t u = units(v, name, grid);
        if (u < 0) note(name, "negative");
        return u;
    }
    Money money(Value v, const char *name) {
        return Money::from_units(positive_units(v, name, kE8));
    }
    Rate rate(Value v, const char *name) { return Rate{units(v, name, kE8)}; }

    void check(bool condition, const char *what) {
        if (!condition && ok()) bad_ = where_ + what;
    }
    bool ok() const { return bad_.empty(); }
    const std::string &bad() const { return bad_; }

  private:
    bool number(Value v, const char *name) {
        if (v.error() == simdjson::NO_SUCH_FIELD || v.error() == simdjson::INDEX_OUT_OF_BOUNDS) {
            note(name, "missing");
            return false;
        }
        return true;
    }
    // Built with append, not `"\"" + std::string(s)`: GCC 12 at -O3 warns -Wrestrict on that
    // (GCC bug 105329).
    static std::string quoted(std::string_view s) {
        std::string q;
        q.reserve(s.size() + 2);
        q.append(1, '"').append(s).append(1, '"');
        return q;
    }
    void note(const char *name, const std::string &why) {
        if (ok()) bad_ = where_ + name + ": " + why;
    }

    std::string where_;
    std::string bad_;
};

// "klines[3]": where in a list answer a field is.
std::string at(const char *list, size_t i) {
    return std::string(list) + "[" + std::to_string(i) + "]";
}

}  // namespace

bool RestMarket::fail(std::string what) {
    error_ = std::move(what);
    return false;
}

bool RestMarket::load(std::string_view text, simdjson::dom::element &root) {
    error_.clear();
    if (auto ec = parser_.parse(text.data(), text.size()).get(root))
        return fail(simdjson::error_message(ec));
    return true;
}

bool RestMarket::load_object(std::string_view text, simdjson::dom::object &out, bool stream) {
    simdjson::dom::element root;
    if (!load(text, root)) return false;
    if (root.get_object().get(out)) return fail("not a JSON object");
    simdjson::dom::object data;
    if (stream && out["stream"].error() == simdjson::SUCCESS) {
        if (out["data"].get_object().get(data)) return fail("data: missing or not an object");
        out = data;
    }
    return true;
}

namespace {

// The checks every kline passes, REST row or stream event; sets the trade count.
void check_kline(Reader &r, market::Candle &c, int64_t trades) {
    r.check(c.length > 0, "close time: not after the open time");
    r.check(trades >= 0 && trades <= std::numeric_limits<uint32_t>::max(), "trades: out of range");
    // A column mix-up shows here before it reaches a strategy.
    r.check(c.low <= std::min(c.open, c.close) && c.high >= std::max(c.open, c.close),
            "high and low do not bound open and close");
    c.trades = static_cast<uint32_t>(std::max<int64_t>(trades, 0));
    c.flat = trades == 0;
}

}  // namespace

bool RestMarket::parse_klines(std::string_view body) {
    candles_.clear();
    simdjson::dom::element root;
    simdjson::dom::array list;
    if (!load(body, root)) return false;
    if (root.get_array().get(list)) return fail("klines: not a JSON array");
    size_t i = 0;
    for (simdjson::dom::element e : list) {
        simdjson::dom::array k;
        if (e.get_array().get(k)) return fail(at("klines", i) + ": not an array");
        Reader r(at("klines", i) + ".");
        TimeNs open_time = r.ms_to_ns(k.at(0), "open time");
        market::Candle c{
            .start = open_time,
            // Binance's close time is the interval's last millisecond.
            .length = r.ms_to_ns(k.at(6), "close time") + kNsPerMs - open_time,
            .open = r.positive_units(k.at(1), "open", price_),
            .high = r.positive_units(k.at(2), "high", price_),
            .low = r.positive_units(k.at(3), "low", price_),
            .close = r.positive_units(k.at(4), "close", price_),
            .volume = r.positive_units(k.at(5), "volume", qty_),
            .trades = 0,
            .flat = false,
            .history = true,
        };
        check_kline(r, c, r.integer(k.at(8), "trades"));
        if (!r.ok()) {
            candles_.clear();
            return fail(r.bad());
        }
        candles_.push_back(c);
        ++i;
    }
    return true;
}

bool RestMarket::parse_trades(std::string_view body) {
    trades_.clear();
    simdjson::dom::element root;
    simdjson::dom::array list;
    if (!load(body, root)) return false;
    if (root.get_array().get(list)) return fail("trades: not a JSON array");
    size_t i = 0;
    for (simdjson::dom::element e : list) {
        simdjson::dom::object t;
        if (e.get_object().get(t)) return fail(at("trades", i) + ": not an object");
        Reader r(at("trades", i) + ".");
        MarketTrade m{
            .id = r.id(t["id"], "id"),
            .first_id = 0,
            .last_id = 0,
            .time_ns = r.ms_to_ns(t["time"], "time"),
            .price = r.positive_units(t["price"], "price", price_),
            .qty = r.positive_units(t["qty"], "qty", qty_),
            .aggressor = r.flag(t["isBuyerMaker"], "isBuyerMaker") ? KEEL_SIDE_SELL : KEEL_SIDE_BUY,
            .quote = r.money(t["quoteQty"], "quoteQty"),
        };
        if (!r.ok()) {
            trades_.clear();
            return fail(r.bad());
        }
        m.first_id = m.last_id = m.id;
        trades_.push_back(m);
        ++i;
    }
    return true;
}

bool RestMarket::parse_agg_trades(std::string_view body) {
    trades_.clear();
    simdjson::dom::element root;
    simdjson::dom::array list;
    if (!load(body, root)) return false;
    if (root.get_array().get(list)) return fail("aggTrades: not a JSON array");
    size_t i = 0;
    for (simdjson::dom::element e : list) {
        simdjson::dom::object t;
        if (e.get_object().get(t)) return fail(at("aggTrades", i) + ": not an object");
        Reader r(at("aggTrades", i) + ".");
        MarketTrade m{
            .id = r.id(t["a"], "a"),
            .first_id = r.id(t["f"], "f"),
            .last_id = r.id(t["l"], "l"),
            .time_ns = r.ms_to_ns(t["T"], "T"),
            .price = r.positive_units(t["p"], "p", price_),
            .qty = r.positive_units(t["q"], "q", qty_),
            .aggressor = r.flag(t["m"], "m") ? KEEL_SIDE_SELL : KEEL_SIDE_BUY,
            .quote = {},
        };
        r.check(m.first_id <= m.last_id, "l: before f");
        if (!r.ok()) {
            trades_.clear();
            return fail(r.bad());
        }
        trades_.push_back(m);
        ++i;
    }
    return true;
}

bool RestMarket::parse_book_ticker(std::string_view body) {
    book_ticker_ = {};
    simdjson::dom::object o;
    if (!load_object(body, o, false)) return false;
    Reader r("bookTicker.");
    RestBookTicker b{
        .symbol = std::string(r.text(o["symbol"], "symbol")),
        .bid = {r.positive_units(o["bidPrice"], "bidPrice", price_),
                r.positive_units(o["bidQty"], "bidQty", qty_)},
        .ask = {r.positive_units(o["askPrice"], "askPrice", price_),
                r.positive_units(o["askQty"], "askQty", qty_)},
    };
    if (!r.ok()) return fail(r.bad());
    book_ticker_ = std::move(b);
    return true;
}

bool RestMarket::parse_ticker_price(std::string_view body) {
    ticker_price_ = {};
    simdjson::dom::object o;
    if (!load_object(body, o, false)) return false;
    Reader r("ticker.");
    TickerPrice t{
        .symbol = std::string(r.text(o["symbol"], "symbol")),
        .price = r.positive_units(o["price"], "price", price_),
    };
    if (!r.ok()) return fail(r.bad());
    ticker_price_ = std::move(t);
    return true;
}

bool RestMarket::parse_avg_price(std::string_view body) {
    average_price_ = {};
    simdjson::dom::object o;
    if (!load_object(body, o, false)) return false;
    Reader r("avgPrice.");
    AveragePrice a{.minutes = r.integer(o["mins"], "mins"), .price = r.money(o["price"], "price")};
    if (!r.ok()) return fail(r.bad());
    average_price_ = a;
    return true;
}

bool RestMarket::parse_server_time(std::string_view body) {
    server_time_ns_ = 0;
    simdjson::dom::object o;
    if (!load_object(body, o, false)) return false;
    Reader r("time.");
    TimeNs t = r.ms_to_ns(o["serverTime"], "serverTime");
    if (!r.ok()) return fail(r.bad());
    server_time_ns_ = t;
    return true;
}

bool RestMarket::parse_mark_price(std::string_view frame) {
    mark_price_ = {};
    simdjson::dom::object o;
    if (!load_object(frame, o, true)) return false;
    Reader r("markPriceUpdate.");
    r.check(r.text(o["e"], "e") == "markPriceUpdate", "e: not markPriceUpdate");
    MarkPrice m{
        .symbol = std::string(r.text(o["s"], "s")),
        .event_ns = r.ms_to_ns(o["E"], "E"),
        .mark = r.money(o["p"], "p"),
        .index = r.money(o["i"], "i"),
        .settlement = r.money(o["P"], "P"),
        .funding_rate = r.rate(o["r"], "r"),
        .next_funding_ns = r.ms_to_ns(o["T"], "T"),
    };
    if (!r.ok()) return fail(r.bad());
    mark_price_ = std::move(m);
    return true;
}

bool RestMarket::parse_kline(std::string_view frame) {
    candles_.clear();
    kline_closed_ = false;
    simdjson::dom::object o, k;
    if (!load_object(frame, o, true)) return false;
    Reader r("kline.");
    r.check(r.text(o["e"], "e") == "kline", "e: not kline");
    if (!r.ok()) return fail(r.bad());
    if (o["k"].get_object().get(k)) return fail("kline.k: missing or not an object");
    Reader f("kline.k.");
    const TimeNs open_time = f.ms_to_ns(k["t"], "t");
    market::Candle c{
        .start = open_time,
        .length = f.ms_to_ns(k["T"], "T") + kNsPerMs - open_time,  // T: its last millisecond
        .open = f.positive_units(k["o"], "o", price_),
        .high = f.positive_units(k["h"], "h", price_),
        .low = f.positive_units(k["l"], "l", price_),
        .close = f.positive_units(k["c"], "c", price_),
        .volume = f.positive_units(k["v"], "v", qty_),
        .history = true,
    };
    check_kline(f, c, f.integer(k["n"], "n"));
    const bool closed = f.flag(k["x"], "x");
    if (!f.ok()) return fail(f.bad());
    candles_.push_back(c);
    kline_closed_ = closed;
    return true;
}

bool RestMarket::parse_force_order(std::string_view frame) {
    force_order_ = {};
    simdjson::dom::object o, order;
    if (!load_object(frame, o, true)) return false;
    Reader r("forceOrder.");
    r.check(r.text(o["e"], "e") == "forceOrder", "e: not forceOrder");
    TimeNs event_ns = r.ms_to_ns(o["E"], "E");
    if (!r.ok()) return fail(r.bad());
    if (o["o"].get_object().get(order)) return fail("forceOrder.o: missing or not an object");
    Reader f("forceOrder.o.");
    std::string_view side = f.text(order["S"], "S");
    f.check(side == "BUY" || side == "SELL", "S: neither BUY nor SELL");
    ForceOrder l{
        .symbol = std::string(f.text(order["s"], "s")),
        .side = side == "SELL" ? KEEL_SIDE_SELL : KEEL_SIDE_BUY,
        .type = std::string(f.text(order["o"], "o")),
        .time_in_force = std::string(f.text(order["f"], "f")),
        .status = std::string(f.text(order["X"], "X")),
        .event_ns = event_ns,
        .trade_ns = f.ms_to_ns(order["T"], "T"),
        .price = f.positive_units(order["p"], "p", price_),
        .average_price = f.money(order["ap"], "ap"),
        .qty = f.positive_units(order["q"], "q", qty_),
        .last_filled = f.positive_units(order["l"], "l", qty_),
        .filled = f.positive_units(order["z"], "z", qty_),
    };
    f.check(l.filled <= l.qty && l.last_filled <= l.filled, "z: fills do not add up");
    if (!f.ok()) return fail(f.bad());
    force_order_ = std::move(l);
    return true;
}

}  // namespace keel::binance
