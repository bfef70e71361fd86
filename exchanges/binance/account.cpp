#include "account.hpp"

#include <cstring>

namespace keel::binance {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

__extension__ using Int128 = __int128;

// Decimal text to an integer count of 10^-decimals, rounding half away from zero past them.
std::optional<int64_t> scaled(std::string_view text, int decimals) {
    if (text.empty()) return std::nullopt;
    bool negative = text.front() == '-';
    if (negative) text.remove_prefix(1);
    Int128 value = 0;
    int seen_decimals = 0;
    bool dot = false, digits = false, round_up = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '.') {
            if (dot) return std::nullopt;
            dot = true;
            continue;
        }
        if (c < '0' || c > '9') return std::nullopt;
        digits = true;
        if (dot && seen_decimals == decimals) {
            // The first dropped digit decides the rounding; the rest must still be digits.
            round_up = c >= '5';
            for (size_t j = i + 1; j < text.size(); ++j)
                if (text[j] < '0' || text[j] > '9') return std::nullopt;
            break;
        }
        value = value * 10 + (c - '0');
        if (dot) ++seen_decimals;
        if (value > static_cast<Int128>(INT64_MAX)) return std::nullopt;
    }
    if (!digits) return std::nullopt;
    for (; seen_decimals < decimals; ++seen_decimals) {
        value *= 10;
        if (value > static_cast<Int128>(INT64_MAX)) return std::nullopt;
    }
    if (round_up) ++value;
    if (value > static_cast<Int128>(INT64_MAX)) return std::nullopt;
    return negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
}

keel_side side_of(std::string_view s) {
    return s == "SELL" ? KEEL_SIDE_SELL : KEEL_SIDE_BUY;
}

// Binance's order status; 0 for one keel does not know.
keel_order_state state_of(std::string_view s) {
    if (s == "NEW" || s == "PENDING_NEW" || s == "PENDING_CANCEL") return KEEL_ORDER_STATE_NEW;
    if (s == "PARTIALLY_FILLED") return KEEL_ORDER_STATE_PARTIALLY_FILLED;
    if (s == "FILLED") return KEEL_ORDER_STATE_FILLED;
    if (s == "CANCELED") return KEEL_ORDER_STATE_CANCELED;
    if (s == "REJECTED") return KEEL_ORDER_STATE_REJECTED;
    if (s == "EXPIRED" || s == "EXPIRED_IN_MATCH") return KEEL_ORDER_STATE_EXPIRED;
    return keel_order_state{};
}

// A field as text: strings as they are, numbers (order ids) in decimal.
std::string text_of(simdjson::dom::element e) {
    std::string_view s;
    if (!e.get_string().get(s)) return std::string(s);
    uint64_t u;
    if (!e.get_uint64().get(u)) return std::to_string(u);
    int64_t i;
    if (!e.get_int64().get(i)) return std::to_string(i);
    return {};
}

// Reads fields of one object, remembering the first that is missing or malformed.
class Fields {
  public:
    explicit Fields(simdjson::dom::object o) : o_(o) {}
    std::string_view str(const char *key) {
        std::string_view s;
        if (o_[key].get_string().get(s)) note(key);
        return s;
    }
    std::string_view str_or(const char *key, std::string_view fallback) {
        std::string_view s;
        return o_[key].get_string().get(s) ? fallback : s;
    }
    int64_t ms_to_ns(const char *key) {
        int64_t v = 0;
        if (o_[key].get_int64().get(v)) note(key);
        return v * kNsPerMs;
    }
    int64_t int_or(const char *key, int64_t fallback) {
        int64_t v;
        return o_[key].get_int64().get(v) ? fallback : v;
    }
    bool flag(const char *key) {
        bool b = false;
        if (o_[key].get_bool().get(b)) note(key);
        return b;
    }
    bool has(const char *key) { return !o_[key].error(); }
    std::string id(const char *key) {
        simdjson::dom::element e;
        if (o_[key].get(e)) {
            note(key);
            return {};
        }
        return text_of(e);
    }
    // Exact units of a grid; a value off it is a malformed message, never rounded.
    int64_t units(const char *key, market::DecimalGrid grid) {
        std::string_view s = str(key);
        bool negative = !s.empty() && s.front() == '-';
        if (negative) s.remove_prefix(1);
        auto v = grid.to_units(s);
        if (!v) note(key);
        return v ? (negative ? -*v : *v) : 0;
    }
    int64_t amount(const char *key) {
        auto v = parse_amount(str(key));
        if (!v) note(key);
        return v.value_or(0);
    }
    int64_t amount_or_zero(const char *key) { return has(key) ? amount(key) : 0; }
    int64_t nearest(const char *key, market::DecimalGrid grid) {
        auto v = nearest_ticks(str(key), grid);
        if (!v) note(key);
        return v.value_or(0);
    }
    const char *bad() const { return bad_; }

  private:
    void note(const char *key) {
        if (!bad_) bad_ = key;
    }
    simdjson::dom::object o_;
    const char *bad_ = nullptr;
};

// The fields USD-M's ORDER_TRADE_UPDATE "o" and spot's executionReport share: the order and,
// when the event is a fill, the fill with its fee.
void order_fields(Fields &f, const SymbolGrid &g, OrderUpdate &u) {
    u.venue_order_id = f.id("i");
    u.state = state_of(f.str("X"));
    u.side = side_of(f.str("S"));
    u.type = f.str("o");
    u.qty_lots = f.units("q", g.qty);
    u.price_ticks = f.units("p", g.price);
    u.filled_lots = f.units("z", g.qty);
    u.last_qty_lots = f.units("l", g.qty);
    if (u.last_qty_lots > 0) {
        u.last_price_ticks = f.units("L", g.price);
        u.trade_id = static_cast<uint64_t>(f.int_or("t", 0));
        u.maker = f.flag("m");
        u.fee_amount = f.amount_or_zero("n");
        u.fee_asset = f.str_or("N", "");
    }
}

}  // namespace

std::optional<int64_t> parse_amount(std::string_view text) {
    return scaled(text, 8);
}

std::optional<int64_t> nearest_ticks(std::string_view text, market::DecimalGrid grid) {
    auto units = scaled(text, grid.decimals);
    if (!units || grid.step <= 0) return std::nullopt;
    int64_t q = *units / grid.step, r = *units % grid.step;
    if (2 * (r < 0 ? -r : r) >= grid.step) q += *units < 0 ? -1 : 1;
    return q;
}

keel_order_update OrderUpdate::abi() const {
    return keel_order_update{
        .struct_size = sizeof(keel_order_update),
        .instrument = instrument,
        .client_order_id = client_order_id.c_str(),
        .venue_order_id = venue_order_id.empty() ? nullptr : venue_order_id.c_str(),
        .state = state,
        .side = side,
        .reason = reason,
        .venue_code = venue_code,
        .message = message.empty() ? nullptr : message.c_str(),
        .exchange_ts_ns = exchange_ts_ns,
        .qty_lots = qty_lots,
        .price_ticks = price_ticks,
        .filled_lots = filled_lots,
        .last_qty_lots = last_qty_lots,
        .last_price_ticks = last_price_ticks,
        .trade_id = trade_id,
        .maker = maker ? 1u : 0u,
        .fee_amount = fee_amount,
        .fee_asset = fee_asset.empty() ? nullptr : fee_asset.c_str(),
        .realized_pnl_amount = realized_pnl_amount,
        .retry_at_ns = retry_at_ns,
    };
}

keel_position_update PositionUpdate::abi() const {
    return keel_position_update{.struct_size = sizeof(keel_position_update),
                                .instrument = instrument,
                                .exchange_ts_ns = exchange_ts_ns,
                                .qty_lots = qty_lots,
                                .entry_price_ticks = entry_price_ticks,
                                .unrealized_pnl_amount = unrealized_pnl_amount};
}

keel_balance_update BalanceUpdate::abi() const {
    return keel_balance_update{.struct_size = sizeof(keel_balance_update),
                               .asset = asset.c_str(),
                               .exchange_ts_ns = exchange_ts_ns,
                               .total_amount = total_amount,
                               .free_amount = has_free ? free_amount : total_amount,
                               .has_free = has_free ? 1u : 0u,
                               .reason = reason,
                               .change_amount = change_amount};
}

namespace {
// ACCOUNT_UPDATE's event reason type (m).
keel_balance_reason balance_reason(std::string_view m) {
    if (m == "ORDER") return KEEL_BALANCE_TRADE;
    if (m == "FUNDING_FEE") return KEEL_BALANCE_FUNDING;
    if (m == "DEPOSIT" || m == "WITHDRAW" || m == "WITHDRAW_REJECT" || m == "ADMIN_DEPOSIT" ||
        m == "ADMIN_WITHDRAW" || m == "MARGIN_TRANSFER" || m == "ASSET_TRANSFER")
        return KEEL_BALANCE_TRANSFER;
    return m.empty() ? KEEL_BALANCE_UNSAID : KEEL_BALANCE_OTHER;
}
}  // namespace

keel_venue_reason reason_for(int http_status, int32_t code, std::string_view message) {
    auto says = [&](const char *text) { return message.find(text) != std::string_view::npos; };
    if (http_status == 418) return KEEL_VENUE_BANNED;
    if (http_status == 429 || code == -1003 || code == -1015) return KEEL_VENUE_RATE_LIMITED;
    switch (code) {
        case -1021:
            return KEEL_VENUE_BAD_TIMESTAMP;
        case -1022:
            return KEEL_VENUE_BAD_SIGNATURE;
        case -1002:
        case -2014:
        case -2015:
            return KEEL_VENUE_UNAUTHORIZED;
        case -1000:
        case -1006:
        case -1007:
            return KEEL_VENUE_UNKNOWN_OUTCOME;
        case -1001:
        case -1008:
        case -1016:
            return KEEL_VENUE_TRANSIENT;
        case -2011:
        case -2013:
            return KEEL_VENUE_UNKNOWN_ORDER;
        case -2019:
            return KEEL_VENUE_INSUFFICIENT_FUNDS;
        case -2022:
            return KEEL_VENUE_REDUCE_ONLY;
        case -5022:
            return KEEL_VENUE_WOULD_TAKE;
        case -4116:
            return KEEL_VENUE_DUPLICATE_ORDER;
        case -1013:
        case -1111:
        case -4164:
            return KEEL_VENUE_FILTER;
        case -2010:
            if (says("insufficient balance")) return KEEL_VENUE_INSUFFICIENT_FUNDS;
            if (says("would immediately match")) return KEEL_VENUE_WOULD_TAKE;
            if (says("Duplicate order")) return KEEL_VENUE_DUPLICATE_ORDER;
            return KEEL_VENUE_REJECTED;
        default:
            break;
    }
    // Binance: a 5xx means the request reached it and the outcome is unknown, except the two
    // answers that say it was not processed.
    if (http_status >= 500) {
        if (says("Service Unavailable") || says("Internal error")) return KEEL_VENUE_TRANSIENT;
        return KEEL_VENUE_UNKNOWN_OUTCOME;
    }
    return KEEL_VENUE_REJECTED;
}

// ---------------------------------------------------------------------------------------------

void AccountCodec::clear() {
    orders_.clear();
    positions_.clear();
    balances_.clear();
    error_.clear();
}

bool AccountCodec::fail(std::string what) {
    error_ = std::move(what);
    return false;
}

bool AccountCodec::load(std::string_view text, simdjson::dom::element &root) {
    clear();
    if (auto err = parser_.parse(text.data(), text.size()).get(root))
        return fail(std::string("not JSON: ") + simdjson::error_message(err));
    return true;
}

const SymbolGrid *AccountCodec::grid(std::string_view symbol) {
    const SymbolGrid *g = lookup_ ? lookup_(symbol) : nullptr;
    if (!g) ++foreign_;
    return g;
}

AccountEvent AccountCodec::parse_event(std::string_view frame) {
    simdjson::dom::element root;
    if (!load(frame, root)) return AccountEvent::invalid;
    simdjson::dom::object data;
    if (root.get_object().get(data)) {
        fail("not a JSON object");
        return AccountEvent::invalid;
    }
    simdjson::dom::object inner;
    if (!data["data"].get_object().get(inner)) data = inner;  // combined-stream envelope
    std::string_view type;
    if (data["e"].get_string().get(type)) {
        fail("no event type \"e\"");
        return AccountEvent::invalid;
    }
    bool ok = true;
    AccountEvent kind = AccountEvent::orders;
    if (type == "ORDER_TRADE_UPDATE") {
        ok = futures_order_event(data);
    } else if (type == "executionReport") {
        ok = spot_execution_report(data);
    } else if (type == "ACCOUNT_UPDATE") {
        ok = futures_account_update(data), kind = AccountEvent::account;
    } else if (type == "outboundAccountPosition") {
        ok = spot_account_position(data), kind = AccountEvent::account;
    } else if (type == "ALGO_UPDATE") {
        ok = algo_update(data), kind = AccountEvent::algo;
    } else if (type == "TRADE_LITE") {
        ok = trade_lite(data), kind = AccountEvent::fill_notice;
    } else if (type == "listenKeyExpired") {
        kind = AccountEvent::listen_key_expired;
    } else {
        kind = AccountEvent::other;
    }
    return ok ? kind : AccountEvent::invalid;
}

bool AccountCodec::futures_order_event(Object data) {
    Fields event(data);
    int64_t event_ts = event.ms_to_ns("T");
    simdjson::dom::object o;
    if (data["o"].get_object().get(o)) return fail("ORDER_TRADE_UPDATE without \"o\"");
    Fields f(o);
    std::string_view symbol = f.str("s");
    const SymbolGrid *g = grid(symbol);
    if (!g) return true;
    OrderUpdate u;
    u.instrument = g->id;
    u.symbol = symbol;
    u.client_order_id = f.str("c");
    u.exchange_ts_ns = f.has("T") ? f.ms_to_ns("T") : event_ts;
    order_fields(f, *g, u);
    u.realized_pnl_amount = f.amount_or_zero("rp");
    if (u.state == KEEL_ORDER_STATE_EXPIRED || u.state == KEEL_ORDER_STATE_REJECTED)
        u.message = f.str_or("x", "");
    if (const char *bad = event.bad() ? event.bad() : f.bad())
        return fail(std::string("ORDER_TRADE_UPDATE: bad or missing \"") + bad + "\"");
    if (!u.state) return fail("ORDER_TRADE_UPDATE: unknown order status");
    orders_.push_back(std::move(u));
    return true;
}

bool AccountCodec::spot_execution_report(Object data) {
    Fields f(data);
    std::string_view symbol = f.str("s");
    const SymbolGrid *g = grid(symbol);
    if (!g) return true;
    OrderUpdate u;
    u.instrument = g->id;
    u.symbol = symbol;
    // A cancel carries the cancel request's own id in "c" and the order's in "C".
    std::string_view original = f.str_or("C", "");
    u.client_order_id = original.empty() ? f.str("c") : original;
    u.exchange_ts_ns = f.ms_to_ns("T");
    order_fields(f, *g, u);
    std::string_view why = f.str_or("r", "NONE");
    if (why != "NONE") {
        u.message = why;
        u.reason =
            why == "INSUFFICIENT_BALANCES" ? KEEL_VENUE_INSUFFICIENT_FUNDS : KEEL_VENUE_REJECTED;
    }
    if (const char *bad = f.bad())
        return fail(std::string("executionReport: bad or missing \"") + bad + "\"");
    if (!u.state) return fail("executionReport: unknown order status");
    orders_.push_back(std::move(u));
    return true;
}

bool AccountCodec::trade_lite(Object data) {
    Fields f(data);
    std::string_view symbol = f.str("s");
    const SymbolGrid *g = grid(symbol);
    if (!g) return true;
    OrderUpdate u;
    u.instrument = g->id;
    u.symbol = symbol;
    u.client_order_id = f.str("c");
    u.venue_order_id = f.id("i");
    u.side = side_of(f.str("S"));
    u.exchange_ts_ns = f.ms_to_ns("T");
    u.qty_lots = f.units("q", g->qty);
    u.price_ticks = f.units("p", g->price);
    u.last_qty_lots = f.units("l", g->qty);
    u.last_price_ticks = f.units("L", g->price);
    u.trade_id = static_cast<uint64_t>(f.int_or("t", 0));
    u.maker = f.flag("m");
    if (const char *bad = f.bad())
        return fail(std::string("TRADE_LITE: bad or missing \"") + bad + "\"");
    orders_.push_back(std::move(u));
    return true;
}

bool AccountCodec::futures_account_update(Object data) {
    Fields event(data);
    int64_t ts = event.ms_to_ns("T");
    simdjson::dom::object a;
    if (data["a"].get_object().get(a)) return fail("ACCOUNT_UPDATE without \"a\"");
    std::string_view why;
    const keel_balance_reason reason =
        a["m"].get_string().get(why) ? KEEL_BALANCE_UNSAID : balance_reason(why);
    simdjson::dom::array list;
    if (!a["B"].get_array().get(list)) {
        for (simdjson::dom::element e : list) {
            simdjson::dom::object b;
            if (e.get_object().get(b)) return fail("ACCOUNT_UPDATE: a balance is not an object");
            Fields f(b);
            BalanceUpdate u{.asset = std::string(f.str("a")),
                            .exchange_ts_ns = ts,
                            .total_amount = f.amount("wb"),
                            .free_amount = 0,
                            .has_free = false,
                            .reason = reason,
                            .change_amount = f.amount_or_zero("bc")};
            if (f.bad()) return fail(std::string("ACCOUNT_UPDATE balance: \"") + f.bad() + "\"");
            balances_.push_back(std::move(u));
        }
    }
    if (!a["P"].get_array().get(list)) {
        for (simdjson::dom::element e : list) {
            simdjson::dom::object p;
            if (e.get_object().get(p)) return fail("ACCOUNT_UPDATE: a position is not an object");
            Fields f(p);
            std::string_view symbol = f.str("s");
            const SymbolGrid *g = grid(symbol);
            if (!g) continue;
            PositionUpdate u{.instrument = g->id,
                             .symbol = std::string(symbol),
                             .position_side = std::string(f.str_or("ps", "BOTH")),
                             .exchange_ts_ns = ts,
                             .qty_lots = f.units("pa", g->qty),
                             .entry_price_ticks = f.nearest("ep", g->price),
                             .unrealized_pnl_amount = f.amount("up")};
            if (f.bad()) return fail(std::string("ACCOUNT_UPDATE position: \"") + f.bad() + "\"");
            positions_.push_back(std::move(u));
        }
    }
    if (event.bad()) return fail(std::string("ACCOUNT_UPDATE: \"") + event.bad() + "\"");
    return true;
}

bool AccountCodec::spot_account_position(Object data) {
    Fields event(data);
    int64_t ts = event.has("u") ? event.ms_to_ns("u") : event.ms_to_ns("E");
    simdjson::dom::array list;
    if (data["B"].get_array().get(list)) return fail("outboundAccountPosition without \"B\"");
    for (simdjson::dom::element e : list) {
        simdjson::dom::object b;
        if (e.get_object().get(b)) return fail("outboundAccountPosition: not an object");
        Fields f(b);
        int64_t free = f.amount("f"), locked = f.amount("l");
        if (f.bad()) return fail(std::string("outboundAccountPosition: \"") + f.bad() + "\"");
        balances_.push_back({.asset = std::string(f.str("a")),
                             .exchange_ts_ns = ts,
                             .total_amount = free + locked,
                             .free_amount = free});
    }
    if (event.bad()) return fail(std::string("outboundAccountPosition: \"") + event.bad() + "\"");
    return true;
}

bool AccountCodec::algo_update(Object data) {
    Fields event(data);
    int64_t ts = event.ms_to_ns("T");
    simdjson::dom::object o;
    if (data["o"].get_object().get(o)) return fail("ALGO_UPDATE without \"o\"");
    Fields f(o);
    algo_ = AlgoUpdate{};
    algo_.symbol = f.str("s");
    algo_.client_algo_id = f.str("caid");
    algo_.algo_id = static_cast<uint64_t>(f.int_or("aid", 0));
    algo_.status = f.str("X");
    algo_.type = f.str("o");
    algo_.reason = f.str_or("rm", "");
    algo_.side = side_of(f.str("S"));
    algo_.exchange_ts_ns = ts;
    algo_.venue_order_id = f.str_or("ai", "");
    if (const SymbolGrid *g = grid(algo_.symbol)) {
        algo_.qty_lots = f.units("q", g->qty);
        algo_.trigger_price_ticks = f.units("tp", g->price);
        algo_.price_ticks = f.units("p", g->price);
        if (f.has("aq")) algo_.filled_lots = f.units("aq", g->qty);
    }
    if (const char *bad = event.bad() ? event.bad() : f.bad())
        return fail(std::string("ALGO_UPDATE: bad or missing \"") + bad + "\"");
    return true;
}

// ---------------------------------------------------------------------------------------------
// REST answers

bool AccountCodec::parse_error(int http_status, std::string_view body) {
    last_error_ = VenueError{.http_status = http_status};
    simdjson::dom::element root;
    simdjson::dom::object o;
    int64_t code = 0;
    std::string_view msg;
    if (!load(body, root) || root.get_object().get(o) || o["code"].get_int64().get(code) ||
        o["msg"].get_string().get(msg)) {
        last_error_.reason = reason_for(http_status, 0, body.substr(0, 200));
        last_error_.message = std::string(body.substr(0, 200));
        return false;
    }
    last_error_.code = static_cast<int32_t>(code);
    last_error_.message = msg;
    last_error_.reason = reason_for(http_status, last_error_.code, msg);
    return true;
}

bool AccountCodec::rest_order(Object order) {
    Fields f(order);
    if (f.has("code")) {  // an element of a batch answer that failed on its own
        OrderUpdate u;
        u.state = KEEL_ORDER_STATE_REJECTED;
        u.venue_code = static_cast<int32_t>(f.int_or("code", 0));
        u.message = f.str_or("msg", "");
        u.reason = reason_for(400, u.venue_code, u.message);
        orders_.push_back(std::move(u));
        return true;
    }
    std::string_view symbol = f.str("symbol");
    const SymbolGrid *g = grid(symbol);
    if (!g) return true;
    OrderUpdate u;
    u.instrument = g->id;
    u.symbol = symbol;
    // A spot cancel answers with the cancel's own id in clientOrderId, the order's in
    // origClientOrderId.
    std::string_view original = f.str_or("origClientOrderId", "");
    u.client_order_id = original.empty() ? f.str("clientOrderId") : original;
    u.venue_order_id = f.id("orderId");
    u.state = state_of(f.str("status"));
    u.side = side_of(f.str("side"));
    u.type = f.str("type");
    const char *time_key = f.has("updateTime") ? "updateTime" : "transactTime";
    if (!f.has(time_key)) time_key = "time";
    u.exchange_ts_ns = f.ms_to_ns(time_key);
    u.qty_lots = f.units("origQty", g->qty);
    u.price_ticks = f.units("price", g->price);
    u.filled_lots = f.units("executedQty", g->qty);
    if (const char *bad = f.bad())
        return fail(std::string("order: bad or missing \"") + bad + "\"");
    if (!u.state) return fail("order: unknown status");
    // Spot FULL answers list the fills made on arrival (taking, so never maker): one update each,
    // the running total in filled_lots and the order's status on the last.
    simdjson::dom::array fills;
    if (!order["fills"].get_array().get(fills) && fills.size() > 0) {
        int64_t running = u.filled_lots;
        for (simdjson::dom::element e : fills) {
            simdjson::dom::object fill;
            if (e.get_object().get(fill)) return fail("order: a fill is not an object");
            Fields ff(fill);
            running -= ff.units("qty", g->qty);
        }
        size_t left = fills.size();
        for (simdjson::dom::element e : fills) {
            simdjson::dom::object fill = e.get_object().value_unsafe();
            Fields ff(fill);
            OrderUpdate step = u;
            step.last_qty_lots = ff.units("qty", g->qty);
            step.last_price_ticks = ff.units("price", g->price);
            step.trade_id = static_cast<uint64_t>(ff.int_or("tradeId", 0));
            step.fee_amount = ff.amount("commission");
            step.fee_asset = ff.str("commissionAsset");
            running += step.last_qty_lots;
            step.filled_lots = running;
            if (--left > 0) step.state = KEEL_ORDER_STATE_PARTIALLY_FILLED;
            if (ff.bad()) return fail(std::string("order fill: \"") + ff.bad() + "\"");
            orders_.push_back(std::move(step));
        }
        return true;
    }
    orders_.push_back(std::move(u));
    return true;
}

bool AccountCodec::parse_order(std::string_view body) {
    simdjson::dom::element root;
    if (!load(body, root)) return false;
    simdjson::dom::object o;
    if (root.get_object().get(o)) return fail("an order answer is not an object");
    if (!o["code"].error() && o["symbol"].error()) {
        parse_error(400, body);
        return fail("error answer: " + last_error_.message);
    }
    return rest_order(o);
}

bool AccountCodec::parse_orders(std::string_view body) {
    simdjson::dom::element root;
    if (!load(body, root)) return false;
    simdjson::dom::array list;
    if (root.get_array().get(list)) {
        simdjson::dom::object o;
        if (!root.get_object().get(o) && !o["code"].error()) {
            parse_error(400, body);
            return fail("error answer: " + last_error_.message);
        }
        return fail("an order list is not an array");
    }
    for (simdjson::dom::element e : list) {
        simdjson::dom::object o;
        if (e.get_object().get(o)) return fail("an order in the list is not an object");
        if (!rest_order(o)) return false;
    }
    return true;
}

bool AccountCodec::rest_trade(Object trade) {
    Fields f(trade);
    std::string_view symbol = f.str("symbol");
    const SymbolGrid *g = grid(symbol);
    if (!g) return true;
    OrderUpdate u;
    u.instrument = g->id;
    u.symbol = symbol;
    u.venue_order_id = f.id("orderId");
    // USD-M says "side" and "maker"; spot says "isBuyer" and "isMaker".
    if (f.has("side")) {
        u.side = side_of(f.str("side"));
        u.maker = f.flag("maker");
    } else {
        u.side = f.flag("isBuyer") ? KEEL_SIDE_BUY : KEEL_SIDE_SELL;
        u.maker = f.flag("isMaker");
    }
    u.exchange_ts_ns = f.ms_to_ns("time");
    u.last_qty_lots = f.units("qty", g->qty);
    u.last_price_ticks = f.units("price", g->price);
    u.trade_id = static_cast<uint64_t>(f.int_or("id", 0));
    u.fee_amount = f.amount("commission");
    u.fee_asset = f.str("commissionAsset");
    u.realized_pnl_amount = f.amount_or_zero("realizedPnl");
    if (const char *bad = f.bad())
        return fail(std::string("trade: bad or missing \"") + bad + "\"");
    orders_.push_back(std::move(u));
    return true;
}

bool AccountCodec::parse_trades(std::string_view body) {
    simdjson::dom::element root;
    if (!load(body, root)) return false;
    simdjson::dom::array list;
    if (root.get_array().get(list)) return fail("a trade list is not an array");
    for (simdjson::dom::element e : list) {
        simdjson::dom::object o;
        if (e.get_object().get(o)) return fail("a trade in the list is not an object");
        if (!rest_trade(o)) return false;
    }
    return true;
}

bool AccountCodec::parse_account(std::string_view body) {
    simdjson::dom::element root;
    if (!load(body, root)) return false;
    auto balance = [&](Object b, const char *total_key, const char *free_key) {
        Fields f(b);
        BalanceUpdate u{.asset = std::string(f.str("asset")),
                        .exchange_ts_ns = f.has("updateTime") ? f.ms_to_ns("updateTime") : 0,
                        .total_amount = f.amount(total_key),
                        .free_amount = f.amount(free_key)};
        if (f.bad()) return fail(std::string("balance: bad or missing \"") + f.bad() + "\"");
        balances_.push_back(std::move(u));
        return true;
    };
    simdjson::dom::array list;
    if (!root.get_array().get(list)) {  // USD-M /fapi/v2/balance
        for (simdjson::dom::element e : list) {
            simdjson::dom::object b;
            if (e.get_object().get(b)) return fail("a balance is not an object");
            if (!balance(b, "balance", "availableBalance")) return false;
        }
        return true;
    }
    simdjson::dom::object account;
    if (root.get_object().get(account)) return fail("an account answer is not an object");
    if (!account["balances"].get_array().get(list)) {  // spot /api/v3/account
        int64_t ts = Fields(account).int_or("updateTime", 0) * kNsPerMs;
        for (simdjson::dom::element e : list) {
            simdjson::dom::object b;
            if (e.get_object().get(b)) return fail("a balance is not an object");
            Fields f(b);
            int64_t free = f.amount("free"), locked = f.amount("locked");
            if (f.bad()) return fail(std::string("balance: bad or missing \"") + f.bad() + "\"");
            balances_.push_back({.asset = std::string(f.str("asset")),
                                 .exchange_ts_ns = ts,
                                 .total_amount = free + locked,
                                 .free_amount = free});
        }
        return true;
    }
    if (account["assets"].get_array().get(list)) return fail("an account without balances");
    for (simdjson::dom::element e : list) {  // USD-M /fapi/v2/account
        simdjson::dom::object b;
        if (e.get_object().get(b)) return fail("an asset is not an object");
        if (!balance(b, "walletBalance", "availableBalance")) return false;
    }
    if (!account["positions"].get_array().get(list)) {
        for (simdjson::dom::element e : list) {
            simdjson::dom::object p;
            if (e.get_object().get(p)) return fail("a position is not an object");
            Fields f(p);
            std::string_view symbol = f.str("symbol");
            const SymbolGrid *g = grid(symbol);
            if (!g) continue;
            PositionUpdate u{.instrument = g->id,
                             .symbol = std::string(symbol),
                             .position_side = std::string(f.str_or("positionSide", "BOTH")),
                             .exchange_ts_ns = f.ms_to_ns("updateTime"),
                             .qty_lots = f.units("positionAmt", g->qty),
                             .entry_price_ticks = f.nearest("entryPrice", g->price),
                             .unrealized_pnl_amount = f.amount("unrealizedProfit")};
            if (f.bad()) return fail(std::string("position: bad or missing \"") + f.bad() + "\"");
            positions_.push_back(std::move(u));
        }
    }
    return true;
}

}  // namespace keel::binance
