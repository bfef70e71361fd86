#include "spot_exchange.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>
#include <simdjson.h>

namespace keel::venue {

namespace {

constexpr int64_t kFee = 10;  // commission per 10,000, maker and taker (Binance's default 0.1 %)
constexpr const char *kStp = "EXPIRE_MAKER";  // spot's default selfTradePreventionMode

int64_t div_round(int64_t a, int64_t b) {
    return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

const char *side_text(Side s) {
    return s == Side::buy ? "BUY" : "SELL";
}

std::optional<int64_t> to_int(std::string_view s) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

Answer mandatory(std::string_view name) {
    return error(
        400, -1102,
        fmt::format("Mandatory parameter '{}' was not sent, was empty/null, or malformed.", name));
}

Answer filter_failure(std::string_view filter) {
    return error(400, -1013, fmt::format("Filter failure: {}", filter));
}

Answer rejected(std::string_view why) {
    return error(400, -2010, why);
}

// Decimal text for a price or quantity: its units on `grid`, or spot's answer. Not a number:
// -1100; more than the asset's 8 decimals: -1111; off the grid: the filter's -1013.
std::optional<int64_t> on_grid(std::string_view text, ShownGrid grid, std::string_view name,
                               std::string_view filter, std::optional<Answer> &failure) {
    if (!market::DecimalGrid{12, 1}.to_units(text)) {
        failure = error(400, -1100,
                        fmt::format("Illegal characters found in parameter '{}'; "
                                    "legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.",
                                    name));
        return std::nullopt;
    }
    if (!market::DecimalGrid{std::max(grid.shown, 8), 1}.to_units(text)) {
        failure = error(400, -1111, fmt::format("Parameter '{}' has too much precision.", name));
        return std::nullopt;
    }
    const auto units = grid.grid.to_units(text);
    if (!units) failure = filter_failure(filter);
    return units;
}

bool valid_client_id(std::string_view id) {
    if (id.empty() || id.size() > 36) return false;
    for (const char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != ':' && c != '/' &&
            c != '_' && c != '-')
            return false;
    return true;
}

}  // namespace

SpotExchange::SpotExchange(const binance::SymbolInfo &info, std::string_view exchange_info,
                           const Market &market, int64_t quote_balance, int64_t base_balance)
    : symbol_(info.symbol),
      base_asset_(info.base),
      quote_asset_(info.quote),
      market_(market),
      price_show_(market.price_grid()),
      qty_show_(market.qty_grid()),
      price_(price_show_.grid),
      qty_(qty_show_.grid) {
    const auto lot = market::DecimalGrid::parse(info.step_size);
    const auto lot_units = qty_.to_units(info.step_size);
    if (!lot || !lot_units || *lot_units <= 0 || qty_.decimals > 8 ||
        price_.decimals + lot->decimals > 8)
        throw std::runtime_error(symbol_ + ": tick and lot too fine for amounts in 1e-8");
    lot_ = *lot_units;
    quote_shift_ = 8 - price_.decimals - qty_.decimals;
    base_scale_ = static_cast<int64_t>(market::kPowersOfTen[8 - qty_.decimals]);
    if (base_asset_.empty()) base_asset_ = symbol_.substr(0, symbol_.size() - 4);
    if (quote_asset_.empty()) quote_asset_ = symbol_.substr(symbol_.size() - 4);

    // The bounds SymbolInfo does not carry: PRICE_FILTER min/maxPrice, LOT_SIZE min/maxQty, and
    // which notional filter the symbol has (MIN_NOTIONAL or NOTIONAL) and whether it applies to
    // market orders.
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(exchange_info.data(), exchange_info.size()).get(doc))
        throw std::runtime_error("exchangeInfo does not parse");
    simdjson::dom::array symbols;
    if (doc["symbols"].get_array().get(symbols)) symbols = {};
    const auto text = [](simdjson::dom::element e, const char *key) {
        std::string_view v;
        return e[key].get_string().get(v) ? std::string_view{} : v;
    };
    for (auto s : symbols) {
        if (text(s, "symbol") != symbol_) continue;
        simdjson::dom::array filters;
        if (s["filters"].get_array().get(filters)) break;
        for (auto f : filters) {
            const auto type = text(f, "filterType");
            if (type == "PRICE_FILTER") {
                min_price_ = market::DecimalGrid{8, 1}.to_units(text(f, "minPrice")).value_or(0) /
                             static_cast<int64_t>(market::kPowersOfTen[8 - price_.decimals]) /
                             price_.step;
                max_price_ = market::DecimalGrid{8, 1}.to_units(text(f, "maxPrice")).value_or(0) /
                             static_cast<int64_t>(market::kPowersOfTen[8 - price_.decimals]) /
                             price_.step;
            } else if (type == "LOT_SIZE") {
                min_qty_ = qty_.to_units(text(f, "minQty")).value_or(0);
                max_qty_ = qty_.to_units(text(f, "maxQty")).value_or(0);
            } else if (type == "MIN_NOTIONAL" || type == "NOTIONAL") {
                notional_filter_ = std::string(type);
                auto n = text(f, "minNotional");
                if (n.empty()) n = text(f, "notional");
                min_notional_ = market::DecimalGrid{8, 1}.to_units(n).value_or(0);
                bool applies = true;
                if (!f["applyToMarket"].get_bool().get(applies) ||
                    !f["applyMinToMarket"].get_bool().get(applies))
                    notional_applies_to_market_ = applies;
            }
        }
    }
    quote_free_ = quote_balance;
    base_free_ = base_balance;
}

int64_t SpotExchange::cost(Ticks price, Lots qty) const {
    const int64_t v = price * price_.step * qty * qty_.step;
    return quote_shift_ >= 0 ? v * static_cast<int64_t>(market::kPowersOfTen[quote_shift_])
                             : v / static_cast<int64_t>(market::kPowersOfTen[-quote_shift_]);
}

int64_t SpotExchange::base(Lots qty) const {
    return qty * qty_.step * base_scale_;
}

const char *SpotExchange::status_text(Status s) {
    switch (s) {
        case Status::fresh:
            return "NEW";
        case Status::partially_filled:
            return "PARTIALLY_FILLED";
        case Status::filled:
            return "FILLED";
        case Status::canceled:
            return "CANCELED";
        case Status::expired:
            return "EXPIRED";
    }
    return "NEW";
}

const char *SpotExchange::type_text(Type t) {
    switch (t) {
        case Type::market:
            return "MARKET";
        case Type::limit:
            return "LIMIT";
        case Type::limit_maker:
            return "LIMIT_MAKER";
    }
    return "LIMIT";
}

std::string SpotExchange::order_json(const Order &o) const {
    return fmt::format(
        R"({{"symbol":"{}","orderId":{},"orderListId":-1,"clientOrderId":"{}","price":"{}",)"
        R"("origQty":"{}","executedQty":"{}","cummulativeQuoteQty":"{}","status":"{}",)"
        R"("timeInForce":"{}","type":"{}","side":"{}","stopPrice":"0.00000000",)"
        R"("icebergQty":"0.00000000","time":{},"updateTime":{},"isWorking":{},"workingTime":{},)"
        R"("origQuoteOrderQty":"0.00000000","selfTradePreventionMode":"{}"}})",
        symbol_, o.id, o.client_id, format_units(o.price, price_show_),
        format_units(o.qty, qty_show_), format_units(o.filled, qty_show_), amount(o.quote),
        status_text(o.status), o.tif, type_text(o.type), side_text(o.side), o.time_ms, o.update_ms,
        o.type != Type::market, o.time_ms, kStp);
}

std::string SpotExchange::result_json(const Order &o, int64_t now_ms, std::string_view resp_type,
                                      const std::vector<const Fill *> &fills) const {
    std::string out = fmt::format(
        R"({{"symbol":"{}","orderId":{},"orderListId":-1,"clientOrderId":"{}","transactTime":{})",
        symbol_, o.id, o.client_id, now_ms);
    if (resp_type == "ACK") return out + '}';
    fmt::format_to(
        std::back_inserter(out),
        R"(,"price":"{}","origQty":"{}","executedQty":"{}","origQuoteOrderQty":"0.00000000",)"
        R"("cummulativeQuoteQty":"{}","status":"{}","timeInForce":"{}","type":"{}","side":"{}",)"
        R"("workingTime":{},"selfTradePreventionMode":"{}")",
        format_units(o.price, price_show_), format_units(o.qty, qty_show_),
        format_units(o.filled, qty_show_), amount(o.quote), status_text(o.status), o.tif,
        type_text(o.type), side_text(o.side), now_ms, kStp);
    if (resp_type == "FULL") {
        out += R"(,"fills":[)";
        for (size_t i = 0; i < fills.size(); ++i) {
            const Fill &f = *fills[i];
            fmt::format_to(
                std::back_inserter(out),
                R"({}{{"price":"{}","qty":"{}","commission":"{}","commissionAsset":"{}","tradeId":{}}})",
                i ? "," : "", format_units(f.price, price_show_), format_units(f.qty, qty_show_),
                amount(f.fee), f.side == Side::buy ? base_asset_ : quote_asset_, f.id);
        }
        out += ']';
    }
    return out + '}';
}

std::string SpotExchange::cancel_json(const Order &o, std::string_view cancel_id,
                                      int64_t now_ms) const {
    return fmt::format(
        R"({{"symbol":"{}","origClientOrderId":"{}","orderId":{},"orderListId":-1,)"
        R"("clientOrderId":"{}","transactTime":{},"price":"{}","origQty":"{}","executedQty":"{}",)"
        R"("origQuoteOrderQty":"0.00000000","cummulativeQuoteQty":"{}","status":"{}",)"
        R"("timeInForce":"{}","type":"{}","side":"{}","selfTradePreventionMode":"{}"}})",
        symbol_, o.client_id, o.id, cancel_id, now_ms, format_units(o.price, price_show_),
        format_units(o.qty, qty_show_), format_units(o.filled, qty_show_), amount(o.quote),
        status_text(o.status), o.tif, type_text(o.type), side_text(o.side), kStp);
}

void SpotExchange::report(const Order &o, std::string_view x, const Fill *fill, int64_t now_ms,
                          std::string_view cancel_id) {
    const bool working = o.type != Type::market &&
                         (o.status == Status::fresh || o.status == Status::partially_filled);
    const std::string fee_asset =
        fill ? fmt::format(R"("{}")", fill->side == Side::buy ? base_asset_ : quote_asset_)
             : "null";
    events_.push_back(fmt::format(
        R"({{"e":"executionReport","E":{},"s":"{}","c":"{}","S":"{}","o":"{}","f":"{}","q":"{}",)"
        R"("p":"{}","P":"0.00000000","F":"0.00000000","g":-1,"C":"{}","x":"{}","X":"{}",)"
        R"("r":"NONE","i":{},"l":"{}","z":"{}","L":"{}","n":"{}","N":{},"T":{},"t":{},"I":{},)"
        R"("w":{},"m":{},"M":true,"O":{},"Z":"{}","Y":"{}","Q":"0.00000000","W":{},"V":"{}"}})",
        now_ms, symbol_, cancel_id.empty() ? o.client_id : cancel_id, side_text(o.side),
        type_text(o.type), o.tif, format_units(o.qty, qty_show_),
        format_units(o.price, price_show_), cancel_id.empty() ? "" : o.client_id, x,
        status_text(o.status), o.id, format_units(fill ? fill->qty : 0, qty_show_),
        format_units(o.filled, qty_show_), format_units(fill ? fill->price : 0, price_show_),
        amount(fill ? fill->fee : 0), fee_asset, now_ms, fill ? fill->id : -1,
        o.id * 2 + static_cast<int64_t>(events_.size()), working, fill && fill->maker, o.time_ms,
        amount(o.quote), amount(fill ? fill->quote : 0), o.time_ms, kStp));
}

void SpotExchange::balance_event(int64_t now_ms) {
    events_.push_back(fmt::format(
        R"({{"e":"outboundAccountPosition","E":{},"u":{},"B":[{{"a":"{}","f":"{}","l":"{}"}},)"
        R"({{"a":"{}","f":"{}","l":"{}"}}]}})",
        now_ms, now_ms, base_asset_, amount(base_free_), amount(base_locked_), quote_asset_,
        amount(quote_free_), amount(quote_locked_)));
}

void SpotExchange::execute(Order &o, Ticks price, Lots qty, bool maker, int64_t now_ms) {
    const int64_t quote = cost(price, qty), got_base = base(qty);
    int64_t fee = 0;
    if (o.side == Side::buy) {
        // Pays quote (from what its limit locked, or from the free balance for a market order),
        // receives base less the commission.
        if (o.type == Type::market) {
            quote_free_ -= quote;
        } else {
            const int64_t reserved = cost(o.price, qty);
            o.locked -= reserved;
            quote_locked_ -= reserved;
            quote_free_ += reserved - quote;  // a better price gives the difference back
        }
        fee = div_round(got_base * kFee, 10000);
        base_free_ += got_base - fee;
    } else {
        if (o.type == Type::market) {
            base_free_ -= got_base;
        } else {
            o.locked -= got_base;
            base_locked_ -= got_base;
        }
        fee = div_round(quote * kFee, 10000);
        quote_free_ += quote - fee;
    }
    o.filled += qty;
    o.quote += quote;
    o.status = o.filled == o.qty ? Status::filled : Status::partially_filled;
    o.update_ms = now_ms;
    fills_.push_back({.id = next_trade_id_++,
                      .order_id = o.id,
                      .time_ms = now_ms,
                      .side = o.side,
                      .price = price,
                      .qty = qty,
                      .quote = quote,
                      .fee = fee,
                      .maker = maker});
    report(o, "TRADE", &fills_.back(), now_ms);
    balance_event(now_ms);
}

void SpotExchange::release(Order &o) {
    if (o.locked == 0) return;
    if (o.side == Side::buy) {
        quote_locked_ -= o.locked;
        quote_free_ += o.locked;
    } else {
        base_locked_ -= o.locked;
        base_free_ += o.locked;
    }
    o.locked = 0;
}

Answer SpotExchange::place(const Params &params, int64_t now_ms, bool &placed) {
    placed = false;
    const auto symbol = find(params, "symbol");
    if (!symbol) return mandatory("symbol");
    if (*symbol != symbol_) return error(400, -1121, "Invalid symbol.");
    Order o;
    const auto side = find(params, "side");
    if (!side) return mandatory("side");
    if (*side != "BUY" && *side != "SELL") return error(400, -1117, "Invalid side.");
    o.side = *side == "BUY" ? Side::buy : Side::sell;
    const auto type = find(params, "type");
    if (!type) return mandatory("type");
    if (*type == "MARKET")
        o.type = Type::market;
    else if (*type == "LIMIT")
        o.type = Type::limit;
    else if (*type == "LIMIT_MAKER")
        o.type = Type::limit_maker;
    else
        return error(400, -1116, "Invalid orderType.");
    const auto resp_type = find(params, "newOrderRespType").value_or("FULL");
    if (resp_type != "ACK" && resp_type != "RESULT" && resp_type != "FULL")
        return error(400, -1100,
                     "Illegal characters found in parameter 'newOrderRespType'; legal range is "
                     "'ACK, RESULT, FULL'.");

    std::optional<Answer> failure;
    const auto qty_text = find(params, "quantity");
    if (!qty_text) {
        if (o.type == Type::market && find(params, "quoteOrderQty"))
            return error(400, -1013, "quoteOrderQty is not supported by this venue.");
        return mandatory("quantity");
    }
    const auto qty = on_grid(*qty_text, qty_show_, "quantity", "LOT_SIZE", failure);
    if (!qty) return *failure;
    if (*qty <= 0 || *qty % lot_ != 0 || *qty < min_qty_ || (max_qty_ > 0 && *qty > max_qty_))
        return filter_failure("LOT_SIZE");
    o.qty = *qty;

    if (o.type == Type::market) {
        if (find(params, "price"))
            return error(400, -1106, "Parameter 'price' sent when not required.");
        if (find(params, "timeInForce"))
            return error(400, -1106, "Parameter 'timeInForce' sent when not required.");
        o.tif = "GTC";
    } else {
        if (o.type == Type::limit_maker) {
            if (find(params, "timeInForce"))
                return error(400, -1106, "Parameter 'timeInForce' sent when not required.");
            o.tif = "GTC";
        } else {
            const auto tif = find(params, "timeInForce");
            if (!tif) return mandatory("timeInForce");
            if (*tif != "GTC" && *tif != "IOC" && *tif != "FOK")
                return error(400, -1115, "Invalid timeInForce.");
            o.tif = std::string(*tif);
        }
        const auto price_text = find(params, "price");
        if (!price_text) return mandatory("price");
        const auto price = on_grid(*price_text, price_show_, "price", "PRICE_FILTER", failure);
        if (!price) return *failure;
        if (*price <= 0 || *price < min_price_ || (max_price_ > 0 && *price > max_price_))
            return filter_failure("PRICE_FILTER");
        o.price = *price;
    }

    const auto best = o.side == Side::buy ? market_.book().best_ask() : market_.book().best_bid();
    if (min_notional_ > 0 && (o.type != Type::market || notional_applies_to_market_)) {
        // A market order's notional at the best opposite price (Binance uses its average price).
        const Ticks reference = o.type == Type::market ? (best ? best->price : 0) : o.price;
        if (cost(reference, o.qty) < min_notional_) return filter_failure(notional_filter_);
    }

    if (const auto cid = find(params, "newClientOrderId")) {
        if (!valid_client_id(*cid))
            return error(400, -1100,
                         "Illegal characters found in parameter 'newClientOrderId'; legal range "
                         "is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.");
        for (const int64_t id : resting_)
            if (orders_.at(id).client_id == *cid) return rejected("Duplicate order sent.");
        o.client_id = std::string(*cid);
    }

    // What the book offers it as a taker, level by level (the replayed book is not depleted by
    // our fills: the next diff says what the market really left there).
    std::vector<market::Level> takes;
    Lots available = 0;
    int64_t take_cost = 0;
    const Side opposite = o.side == Side::buy ? Side::sell : Side::buy;
    market_.book().visit(opposite, [&](const market::Level &l) {
        const bool reaches = o.type == Type::market ||
                             (o.side == Side::buy ? l.price <= o.price : l.price >= o.price);
        if (!reaches || available >= o.qty) return false;
        // Whole lots of the level (the rest of a finer level stays for others).
        const Lots take = std::min(floor_lot(l.qty), o.qty - available);
        if (take == 0) return true;
        takes.push_back({l.price, take});
        available += take;
        take_cost += cost(l.price, take);
        return true;
    });
    if (o.type == Type::limit_maker && best &&
        (o.side == Side::buy ? best->price <= o.price : best->price >= o.price))
        return rejected("Order would immediately match and take.");

    // Funds: a limit locks its whole price x quantity (buy) or quantity (sell); a market order
    // needs what its walk of the book costs (buy) or its quantity (sell).
    const int64_t need = o.side == Side::buy
                             ? (o.type == Type::market ? take_cost : cost(o.price, o.qty))
                             : base(o.qty);
    if (need > (o.side == Side::buy ? quote_free_ : base_free_))
        return rejected("Account has insufficient balance for requested action.");

    o.id = next_order_id_++;
    if (o.client_id.empty()) o.client_id = fmt::format("keelvenue{}", o.id);
    o.time_ms = o.update_ms = now_ms;
    ++placed_per_client_id_[o.client_id];
    placed = true;
    Order &order = orders_.emplace(o.id, o).first->second;
    if (order.type != Type::market) {
        order.locked = need;
        (order.side == Side::buy ? quote_free_ : base_free_) -= need;
        (order.side == Side::buy ? quote_locked_ : base_locked_) += need;
    }
    report(order, "NEW", nullptr, now_ms);
    if (order.locked > 0) balance_event(now_ms);

    const size_t first_fill = fills_.size();
    const auto finish = [&](Status s, std::string_view x) {
        order.status = s;
        order.update_ms = now_ms;
        const bool had_lock = order.locked > 0;
        release(order);
        report(order, x, nullptr, now_ms);
        if (had_lock) balance_event(now_ms);
    };
    if (order.tif == "FOK" && available < order.qty) {
        finish(Status::expired, "EXPIRED");
    } else {
        for (const auto &t : takes) execute(order, t.price, t.qty, false, now_ms);
        if (order.status != Status::filled) {
            if (order.type == Type::market || order.tif == "IOC" || order.tif == "FOK")
                finish(Status::expired, "EXPIRED");
            else
                resting_.push_back(order.id);
        }
    }
    std::vector<const Fill *> fills;
    for (size_t i = first_fill; i < fills_.size(); ++i) fills.push_back(&fills_[i]);
    return Answer{200, result_json(order, now_ms, resp_type, fills)};
}

void SpotExchange::on_trade(const binance::Trade &trade, int64_t now_ms) {
    if (resting_.empty()) return;
    std::vector<int64_t> queue = resting_;
    std::stable_sort(queue.begin(), queue.end(), [&](int64_t a, int64_t b) {
        const Order &x = orders_.at(a), &y = orders_.at(b);
        if (x.side != y.side) return x.side < y.side;
        return x.side == Side::buy ? x.price > y.price : x.price < y.price;
    });
    Lots left_buy = trade.qty, left_sell = trade.qty;
    for (const int64_t id : queue) {
        Order &o = orders_.at(id);
        const bool reached = o.side == Side::buy ? trade.price <= o.price : trade.price >= o.price;
        Lots &left = o.side == Side::buy ? left_buy : left_sell;
        if (!reached || left == 0) continue;
        const Lots q = std::min(floor_lot(left), o.qty - o.filled);
        if (q == 0) continue;
        left -= q;
        execute(o, o.price, q, true, now_ms);
    }
    std::erase_if(resting_, [&](int64_t id) { return orders_.at(id).status == Status::filled; });
}

const SpotExchange::Order *SpotExchange::lookup(const Params &params,
                                                std::optional<Answer> &failure) const {
    const auto symbol = find(params, "symbol");
    if (!symbol || *symbol != symbol_) {
        failure = symbol ? error(400, -1121, "Invalid symbol.") : mandatory("symbol");
        return nullptr;
    }
    const auto id = find(params, "orderId");
    const auto cid = find(params, "origClientOrderId");
    if (!id && !cid) {
        failure = error(400, -1102,
                        "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
                        "empty/null!");
        return nullptr;
    }
    if (id) {
        const auto n = to_int(*id);
        const auto it = n ? orders_.find(*n) : orders_.end();
        if (it != orders_.end() && (!cid || it->second.client_id == *cid)) return &it->second;
    } else {
        for (auto it = orders_.rbegin(); it != orders_.rend(); ++it)
            if (it->second.client_id == *cid) return &it->second;
    }
    failure = error(400, -2013, "Order does not exist.");
    return nullptr;
}

Answer SpotExchange::cancel(const Params &params, int64_t now_ms) {
    std::optional<Answer> failure;
    const Order *found = lookup(params, failure);
    if (!found)
        return failure->body.find("-2013") != std::string::npos
                   ? error(400, -2011, "Unknown order sent.")
                   : *failure;
    Order &o = orders_.at(found->id);
    if (std::find(resting_.begin(), resting_.end(), o.id) == resting_.end())
        return error(400, -2011, "Unknown order sent.");
    std::string cancel_id(find(params, "newClientOrderId").value_or(""));
    if (cancel_id.empty()) cancel_id = fmt::format("keelcancel{}", o.id);
    std::erase(resting_, o.id);
    o.status = Status::canceled;
    o.update_ms = now_ms;
    release(o);
    report(o, "CANCELED", nullptr, now_ms, cancel_id);
    balance_event(now_ms);
    return Answer{200, cancel_json(o, cancel_id, now_ms)};
}

Answer SpotExchange::query(const Params &params) const {
    std::optional<Answer> failure;
    const Order *o = lookup(params, failure);
    return o ? Answer{200, order_json(*o)} : *failure;
}

Answer SpotExchange::open_orders(const Params &params) const {
    const auto symbol = find(params, "symbol");
    if (symbol && *symbol != symbol_) return error(400, -1121, "Invalid symbol.");
    std::string out = "[";
    for (const int64_t id : resting_) {
        if (out.size() > 1) out += ',';
        out += order_json(orders_.at(id));
    }
    return Answer{200, out + "]"};
}

Answer SpotExchange::cancel_all(const Params &params, int64_t now_ms) {
    const auto symbol = find(params, "symbol");
    if (!symbol) return mandatory("symbol");
    if (*symbol != symbol_) return error(400, -1121, "Invalid symbol.");
    if (resting_.empty()) return error(400, -2011, "Unknown order sent.");
    std::string out = "[";
    for (const int64_t id : std::exchange(resting_, {})) {
        Order &o = orders_.at(id);
        o.status = Status::canceled;
        o.update_ms = now_ms;
        release(o);
        const auto cancel_id = fmt::format("keelcancel{}", o.id);
        report(o, "CANCELED", nullptr, now_ms, cancel_id);
        if (out.size() > 1) out += ',';
        out += cancel_json(o, cancel_id, now_ms);
    }
    balance_event(now_ms);
    return Answer{200, out + "]"};
}

Answer SpotExchange::account(int64_t now_ms) const {
    return Answer{
        200, fmt::format(
                 R"({{"makerCommission":10,"takerCommission":10,"buyerCommission":0,)"
                 R"("sellerCommission":0,"commissionRates":{{"maker":"0.00100000",)"
                 R"("taker":"0.00100000","buyer":"0.00000000","seller":"0.00000000"}},)"
                 R"("canTrade":true,"canWithdraw":true,"canDeposit":true,"brokered":false,)"
                 R"("requireSelfTradePrevention":false,"preventSor":false,"updateTime":{},)"
                 R"("accountType":"SPOT","balances":[{{"asset":"{}","free":"{}","locked":"{}"}},)"
                 R"({{"asset":"{}","free":"{}","locked":"{}"}}],"permissions":["SPOT"],"uid":1}})",
                 now_ms, base_asset_, amount(base_free_), amount(base_locked_), quote_asset_,
                 amount(quote_free_), amount(quote_locked_))};
}

Answer SpotExchange::my_trades(const Params &params) const {
    const auto symbol = find(params, "symbol");
    if (!symbol) return mandatory("symbol");
    if (*symbol != symbol_) return error(400, -1121, "Invalid symbol.");
    const auto order_id = to_int(find(params, "orderId").value_or(""));
    const auto from_id = to_int(find(params, "fromId").value_or(""));
    const auto limit =
        std::clamp<int64_t>(to_int(find(params, "limit").value_or("")).value_or(500), 1, 1000);
    std::string out = "[";
    int64_t n = 0;
    for (const auto &f : fills_) {
        if ((order_id && f.order_id != *order_id) || (from_id && f.id < *from_id)) continue;
        if (n++ == limit) break;
        if (out.size() > 1) out += ',';
        fmt::format_to(std::back_inserter(out),
                       R"({{"symbol":"{}","id":{},"orderId":{},"orderListId":-1,"price":"{}",)"
                       R"("qty":"{}","quoteQty":"{}","commission":"{}","commissionAsset":"{}",)"
                       R"("time":{},"isBuyer":{},"isMaker":{},"isBestMatch":true}})",
                       symbol_, f.id, f.order_id, format_units(f.price, price_show_),
                       format_units(f.qty, qty_show_), amount(f.quote), amount(f.fee),
                       f.side == Side::buy ? base_asset_ : quote_asset_, f.time_ms,
                       f.side == Side::buy, f.maker);
    }
    return Answer{200, out + "]"};
}

Answer SpotExchange::listen_key(std::string_view method, const Params &params, int64_t now_ms,
                                int64_t life_ms) {
    if (method == "POST") {
        if (!listen_key_valid(listen_key_, now_ms)) {
            static constexpr char kAlphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            uint64_t x = static_cast<uint64_t>(now_ms) * 6364136223846793005ULL + next_order_id_;
            listen_key_.clear();
            for (int i = 0; i < 60; ++i) {  // spot's keys are 60 characters
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                listen_key_ += kAlphabet[(x >> 33) % 62];
            }
        }
        listen_key_expiry_ms_ = now_ms + life_ms;
        return Answer{200, fmt::format(R"({{"listenKey":"{}"}})", listen_key_)};
    }
    const auto key = find(params, "listenKey");
    if (!key) return mandatory("listenKey");
    if (!listen_key_valid(*key, now_ms)) return error(400, -1125, "This listenKey does not exist.");
    listen_key_expiry_ms_ = method == "PUT" ? now_ms + life_ms : 0;
    return Answer{200, "{}"};
}

bool SpotExchange::listen_key_valid(std::string_view key, int64_t now_ms) const {
    return !key.empty() && key == listen_key_ && now_ms < listen_key_expiry_ms_;
}

std::string SpotExchange::state_json() const {
    std::string open = "[";
    for (const int64_t id : resting_) {
        if (open.size() > 1) open += ',';
        open += order_json(orders_.at(id));
    }
    open += ']';
    std::string placed = "{";
    for (const auto &[cid, n] : placed_per_client_id_) {
        if (placed.size() > 1) placed += ',';
        fmt::format_to(std::back_inserter(placed), R"("{}":{})", cid, n);
    }
    placed += '}';
    std::string outcome = "{";
    for (const auto &[id, o] : orders_) {
        if (outcome.size() > 1) outcome += ',';
        fmt::format_to(std::back_inserter(outcome), R"("{}":["{}","{}"])", o.client_id,
                       status_text(o.status), format_units(o.filled, qty_show_));
    }
    outcome += '}';
    return fmt::format(
        R"({{"market":"spot","balances":{{"{}":{{"free":"{}","locked":"{}"}},)"
        R"("{}":{{"free":"{}","locked":"{}"}}}},"openOrders":{},)"
        R"("ordersPlacedPerClientOrderId":{},"ordersByClientOrderId":{},"fills":{}}})",
        base_asset_, amount(base_free_), amount(base_locked_), quote_asset_, amount(quote_free_),
        amount(quote_locked_), open, placed, outcome, fills_.size());
}

}  // namespace keel::venue
