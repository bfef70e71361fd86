#include "exchange.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

namespace keel::venue {

namespace {

constexpr int kMoneyDecimals = 8;                // USDT amounts: 1e-8, as Binance prints them
constexpr int64_t kMakerFee = 2, kTakerFee = 5;  // per 10,000 of notional
constexpr int64_t kMaxLeverage = 125;

// a / b rounded half away from zero (b > 0).
int64_t div_round(int64_t a, int64_t b) {
    return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

std::string money(int64_t v) {
    return format_fixed(v, kMoneyDecimals);
}

// The largest position notional (USDT) a leverage allows: the leverage brackets of BTCUSDT in
// Binance's documentation of the USD-M leverage endpoints (21x to 50x: 1,000,000, the docs'
// example answer). The live brackets change from time to time; these stand for them here.
int64_t max_notional(int64_t leverage) {
    static constexpr std::pair<int64_t, int64_t> kBrackets[] = {
        {125, 50'000},   {100, 250'000},   {50, 1'000'000},  {20, 5'000'000},  {10, 20'000'000},
        {5, 50'000'000}, {4, 100'000'000}, {3, 200'000'000}, {2, 300'000'000}, {1, 1'000'000'000}};
    int64_t cap = kBrackets[0].second;
    for (const auto &[max_leverage, notional] : kBrackets)
        if (leverage <= max_leverage) cap = notional;
    return cap;
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

// Decimal text on a grid: the units, or the Binance error for text that is not on it.
std::optional<int64_t> on_grid(std::string_view text, ShownGrid grid, std::string_view name,
                               bool price, std::optional<Answer> &failure) {
    if (!market::DecimalGrid{12, 1}.to_units(text)) {  // a number at all (12 places fit int64)
        failure = mandatory(name);
        return std::nullopt;
    }
    if (!market::DecimalGrid{grid.shown, 1}.to_units(text)) {
        failure = error(400, -1111, "Precision is over the maximum defined for this asset.");
        return std::nullopt;
    }
    const auto units = grid.grid.to_units(text);
    if (!units)
        failure = price
                      ? error(400, -4014, "Price not increased by tick size.")
                      : error(400, -1111, "Precision is over the maximum defined for this asset.");
    return units;
}

}  // namespace

Exchange::Exchange(const binance::SymbolInfo &info, const Market &market, int64_t balance_usdt)
    : symbol_(info.symbol),
      market_(market),
      price_show_(market.price_grid()),
      qty_show_(market.qty_grid()),
      price_(price_show_.grid),
      qty_(qty_show_.grid) {
    quote_decimals_ = price_.decimals + qty_.decimals;
    if (quote_decimals_ > kMoneyDecimals)
        throw std::runtime_error(symbol_ + ": tick and lot too fine for money in 1e-8 USDT");
    money_per_quote_ = static_cast<int64_t>(market::kPowersOfTen[kMoneyDecimals - quote_decimals_]);
    if (auto q = qty_.to_units(info.min_qty)) min_qty_ = std::max<Lots>(1, *q);
    if (!info.min_notional.empty())
        if (auto n = market::DecimalGrid{kMoneyDecimals, 1}.to_units(info.min_notional))
            min_notional_ = *n;
    min_notional_text_ = info.min_notional;
    wallet_ = balance_usdt * static_cast<int64_t>(market::kPowersOfTen[kMoneyDecimals]);
}

std::string Exchange::quote_text(int64_t v) const {
    return format_quote(v, price_show_, qty_show_);
}

int64_t Exchange::notional_money(Ticks price, Lots qty) const {
    return price * price_.step * qty * qty_.step * money_per_quote_;
}

int64_t Exchange::unrealized() const {
    const auto bid = market_.book().best_bid(), ask = market_.book().best_ask();
    if (position_ == 0 || !bid || !ask) return 0;
    const Lots size = position_ > 0 ? position_ : -position_;
    const int64_t value = div_round(notional_money(bid->price + ask->price, size), 2);
    return position_ > 0 ? value - position_cost_ : position_cost_ - value;
}

std::string Exchange::entry_price() const {
    if (position_ == 0) return quote_text(0);
    const Lots size = position_ > 0 ? position_ : -position_;
    // cost (1e-8 USDT) over the size in units of the quantity grid, at quote_decimals_ places.
    const int64_t scale = static_cast<int64_t>(market::kPowersOfTen[qty_.decimals]);
    return quote_text(div_round(position_cost_ * scale, size * qty_.step * money_per_quote_));
}

const char *Exchange::status_text(Status s) {
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

std::string Exchange::order_json(const Order &o, bool with_time) const {
    const std::string avg =
        o.filled == 0 ? quote_text(0)
                      : quote_text(div_round(
                            o.quote * static_cast<int64_t>(market::kPowersOfTen[qty_.decimals]),
                            o.filled * qty_.step));
    const char *type = o.market ? "MARKET" : "LIMIT";
    std::string out = fmt::format(
        R"({{"orderId":{},"symbol":"{}","status":"{}","clientOrderId":"{}","price":"{}",)"
        R"("avgPrice":"{}","origQty":"{}","executedQty":"{}","cumQty":"{}","cumQuote":"{}",)"
        R"("timeInForce":"{}","type":"{}","reduceOnly":{},"closePosition":false,"side":"{}",)"
        R"("positionSide":"BOTH","stopPrice":"0","workingType":"CONTRACT_PRICE",)"
        R"("priceProtect":false,"origType":"{}","priceMatch":"NONE",)"
        R"("selfTradePreventionMode":"NONE","goodTillDate":0,)",
        o.id, symbol_, status_text(o.status), o.client_id, format_units(o.price, price_show_), avg,
        format_units(o.qty, qty_show_), format_units(o.filled, qty_show_),
        format_units(o.filled, qty_show_), quote_text(o.quote), o.tif, type, o.reduce_only,
        side_text(o.side), type);
    if (with_time) fmt::format_to(std::back_inserter(out), R"("time":{},)", o.time_ms);
    fmt::format_to(std::back_inserter(out), R"("updateTime":{}}})", o.update_ms);
    return out;
}

void Exchange::order_event(const Order &o, std::string_view x, const Fill *fill, int64_t now_ms) {
    const std::string avg = order_json(o, false);  // for its avgPrice text
    const auto at = avg.find(R"("avgPrice":")") + 12;
    const auto ap = avg.substr(at, avg.find('"', at) - at);
    const char *type = o.market ? "MARKET" : "LIMIT";
    events_.push_back(fmt::format(
        R"({{"e":"ORDER_TRADE_UPDATE","T":{},"E":{},"o":{{"s":"{}","c":"{}","S":"{}","o":"{}",)"
        R"("f":"{}","q":"{}","p":"{}","ap":"{}","sp":"0","x":"{}","X":"{}","i":{},"l":"{}",)"
        R"("z":"{}","L":"{}","N":"USDT","n":"{}","T":{},"t":{},"b":"0","a":"0","m":{},"R":{},)"
        R"("wt":"CONTRACT_PRICE","ot":"{}","ps":"BOTH","cp":false,"rp":"{}","pP":false,"si":0,)"
        R"("ss":0,"V":"NONE","pm":"NONE","gtd":0}}}})",
        now_ms, now_ms, symbol_, o.client_id, side_text(o.side), type, o.tif,
        format_units(o.qty, qty_show_), format_units(o.price, price_show_), ap, x,
        status_text(o.status), o.id, format_units(fill ? fill->qty : 0, qty_show_),
        format_units(o.filled, qty_show_), format_units(fill ? fill->price : 0, price_show_),
        money(fill ? fill->fee : 0), now_ms, fill ? fill->id : 0, fill && fill->maker,
        o.reduce_only, type, money(fill ? fill->realized : 0)));
}

int64_t Exchange::position_margin() const {
    const auto mid = market_.mid_1e8();
    if (position_ == 0 || !mid) return 0;
    const Lots size = position_ > 0 ? position_ : -position_;
    __extension__ using Wide = __int128;
    const Wide value = Wide(size) * qty_.step * *mid;  // 10^-(qty decimals + 8) USDT
    const auto scale = static_cast<int64_t>(market::kPowersOfTen[qty_.decimals]);
    return div_round(static_cast<int64_t>(value / leverage_), scale);
}

std::string Exchange::position_update() const {
    // iw: the isolated wallet; the venue keeps one wallet, so an isolated position's margin
    // (its value at the mid over the leverage) stands for it.
    return fmt::format(
        R"({{"s":"{}","pa":"{}","ep":"{}","bep":"{}","cr":"{}","up":"{}","mt":"{}","iw":"{}",)"
        R"("ps":"BOTH"}})",
        symbol_, format_units(position_, qty_show_), entry_price(), entry_price(),
        money(realized_total_), money(unrealized()), isolated_ ? "isolated" : "cross",
        isolated_ ? money(position_margin()) : "0");
}

void Exchange::account_event(int64_t now_ms) {
    events_.push_back(fmt::format(
        R"({{"e":"ACCOUNT_UPDATE","T":{},"E":{},"a":{{"m":"ORDER","B":[{{"a":"USDT","wb":"{}",)"
        R"("cw":"{}","bc":"0"}}],"P":[{}]}}}})",
        now_ms, now_ms, money(wallet_), money(wallet_), position_update()));
}

void Exchange::settle_funding(int64_t time_ms, int64_t mark_1e8, int64_t rate_1e8) {
    if (position_ == 0) return;
    // position (10^-qty decimals BTC) x mark (1e-8) x rate (1e-8), in 1e-8 USDT: divide by
    // 10^(qty decimals + 8), half away from zero. Longs pay a positive rate.
    __extension__ using Wide = __int128;
    const Wide product = Wide(position_) * qty_.step * mark_1e8 * rate_1e8;
    const Wide scale = static_cast<Wide>(market::kPowersOfTen[qty_.decimals]) *
                       static_cast<Wide>(market::kPowersOfTen[kMoneyDecimals]);
    const Wide magnitude = ((product < 0 ? -product : product) + scale / 2) / scale;
    const auto amount = static_cast<int64_t>(product < 0 ? magnitude : -magnitude);
    wallet_ += amount;
    funding_total_ += amount;
    funding_.push_back(
        {.time_ms = time_ms, .rate_1e8 = rate_1e8, .mark_1e8 = mark_1e8, .amount = amount});
    income_.push_back(
        {.type = "FUNDING_FEE", .amount = amount, .time_ms = time_ms, .tran_id = next_tran_id_++});
    // Binance's FUNDING_FEE update: only the balance for a crossed position, the balance and
    // that position for an isolated one. Times are the funding time in the replay's clock.
    events_.push_back(fmt::format(
        R"({{"e":"ACCOUNT_UPDATE","T":{},"E":{},"a":{{"m":"FUNDING_FEE","B":[{{"a":"USDT",)"
        R"("wb":"{}","cw":"{}","bc":"{}"}}],"P":[{}]}}}})",
        time_ms, time_ms, money(wallet_), money(wallet_), money(amount),
        isolated_ ? position_update() : ""));
}

void Exchange::execute(Order &o, Ticks price, Lots qty, bool maker, int64_t now_ms) {
    const int64_t notional = notional_money(price, qty);
    const int64_t fee = div_round(notional * (maker ? kMakerFee : kTakerFee), 10000);
    const Lots signed_qty = o.side == Side::buy ? qty : -qty;
    int64_t realized = 0;
    if (position_ == 0 || (position_ > 0) == (signed_qty > 0)) {
        position_ += signed_qty;
        position_cost_ += notional;
    } else {
        const Lots size = position_ > 0 ? position_ : -position_;
        const Lots closed = std::min(qty, size);
        const int64_t removed =
            closed == size ? position_cost_ : div_round(position_cost_ * closed, size);
        const int64_t exit_value = notional_money(price, closed);
        realized = position_ > 0 ? exit_value - removed : removed - exit_value;
        position_cost_ -= removed;
        position_ += o.side == Side::buy ? closed : -closed;
        if (qty > closed) {  // the fill flips the position: the rest opens at this price
            position_ = o.side == Side::buy ? qty - closed : closed - qty;
            position_cost_ = notional_money(price, qty - closed);
        }
    }
    wallet_ += realized - fee;
    realized_total_ += realized;
    if (realized != 0)
        income_.push_back({.type = "REALIZED_PNL",
                           .amount = realized,
                           .time_ms = now_ms,
                           .tran_id = next_tran_id_++,
                           .trade_id = next_trade_id_});
    income_.push_back({.type = "COMMISSION",
                       .amount = -fee,
                       .time_ms = now_ms,
                       .tran_id = next_tran_id_++,
                       .trade_id = next_trade_id_});
    o.filled += qty;
    o.quote += price * price_.step * qty * qty_.step;
    o.status = o.filled == o.qty ? Status::filled : Status::partially_filled;
    o.update_ms = now_ms;
    fills_.push_back({.id = next_trade_id_++,
                      .order_id = o.id,
                      .time_ms = now_ms,
                      .side = o.side,
                      .price = price,
                      .qty = qty,
                      .fee = fee,
                      .realized = realized,
                      .maker = maker});
    order_event(o, "TRADE", &fills_.back(), now_ms);
    account_event(now_ms);
}

Answer Exchange::place(const Params &params, int64_t now_ms, bool &placed) {
    placed = false;
    if (find(params, "symbol") != symbol_) return error(400, -1121, "Invalid symbol.");
    Order o;
    const auto side = find(params, "side");
    if (!side) return mandatory("side");
    if (*side != "BUY" && *side != "SELL") return error(400, -1117, "Invalid side.");
    o.side = *side == "BUY" ? Side::buy : Side::sell;
    const auto type = find(params, "type");
    if (!type) return mandatory("type");
    if (*type != "MARKET" && *type != "LIMIT") return error(400, -1116, "Invalid orderType.");
    o.market = *type == "MARKET";
    const auto reduce = find(params, "reduceOnly").value_or("false");
    if (reduce != "true" && reduce != "false")
        return error(400, -1102,
                     "Mandatory parameter 'reduceOnly' was not sent, was empty/null, "
                     "or malformed.");
    o.reduce_only = reduce == "true";

    std::optional<Answer> failure;
    const auto qty_text = find(params, "quantity");
    if (!qty_text) return mandatory("quantity");
    const auto qty = on_grid(*qty_text, qty_show_, "quantity", false, failure);
    if (!qty) return *failure;
    if (*qty <= 0) return error(400, -4003, "Quantity less than or equal to zero.");
    if (*qty < min_qty_) return error(400, -4004, "Quantity less than min quantity.");
    o.qty = *qty;

    if (o.market) {
        if (find(params, "price"))
            return error(400, -1106, "Parameter 'price' sent when not required.");
        o.tif = "GTC";
    } else {
        const auto tif = find(params, "timeInForce");
        if (!tif) return mandatory("timeInForce");
        if (*tif != "GTC" && *tif != "IOC" && *tif != "FOK" && *tif != "GTX")
            return error(400, -1115, "Invalid timeInForce.");
        o.tif = std::string(*tif);
        const auto price_text = find(params, "price");
        if (!price_text) return mandatory("price");
        const auto price = on_grid(*price_text, price_show_, "price", true, failure);
        if (!price) return *failure;
        if (*price <= 0) return error(400, -4013, "Price less than min price.");
        o.price = *price;
    }

    const auto best = o.side == Side::buy ? market_.book().best_ask() : market_.book().best_bid();
    if (!o.reduce_only && min_notional_ > 0) {
        const Ticks reference = o.market ? (best ? best->price : 0) : o.price;
        if (notional_money(reference, o.qty) < min_notional_)
            return error(400, -4164,
                         fmt::format("Order's notional must be no smaller than {} (unless you "
                                     "choose reduce only).",
                                     min_notional_text_));
    }
    if (o.reduce_only && (position_ == 0 || (position_ > 0) == (o.side == Side::buy)))
        return error(400, -2022, "ReduceOnly Order is rejected.");

    if (const auto cid = find(params, "newClientOrderId")) {
        if (cid->empty() || cid->size() > 36)
            return error(400, -4015, "Client order id is not valid.");
        for (const int64_t id : resting_)
            if (orders_.at(id).client_id == *cid)
                return error(400, -4116, "ClientOrderId is duplicated.");
        o.client_id = std::string(*cid);
    }

    o.id = next_order_id_++;
    if (o.client_id.empty()) o.client_id = fmt::format("keelvenue{}", o.id);
    o.time_ms = o.update_ms = now_ms;
    ++placed_per_client_id_[o.client_id];
    placed = true;
    Order &order = orders_.emplace(o.id, o).first->second;
    order_event(order, "NEW", nullptr, now_ms);

    Lots available = 0;
    const auto takes = takes_for(order, available);
    const auto finish = [&](Status s, std::string_view x) {
        order.status = s;
        order.update_ms = now_ms;
        order_event(order, x, nullptr, now_ms);
    };
    if (order.tif == "GTX" && !takes.empty()) {
        finish(Status::expired, "EXPIRED");  // post-only that would take
    } else if (order.tif == "FOK" && available < order.qty) {
        finish(Status::expired, "EXPIRED");
    } else {
        take(order, takes, now_ms);
        if (order.status != Status::filled) {
            if (order.market || order.tif == "IOC" || order.tif == "FOK" ||
                (order.reduce_only && position_ == 0))
                finish(Status::expired, "EXPIRED");
            else
                resting_.push_back(order.id);
        }
    }
    return Answer{200, order_json(order, false)};
}

std::vector<market::Level> Exchange::takes_for(const Order &order, Lots &available) const {
    // The replayed book is not depleted by our fills: the next diff says what the market really
    // left there.
    std::vector<market::Level> takes;
    available = 0;
    const Side opposite = order.side == Side::buy ? Side::sell : Side::buy;
    const Lots wanted = order.qty - order.filled;
    market_.book().visit(opposite, [&](const market::Level &l) {
        const bool reaches = order.market || (order.side == Side::buy ? l.price <= order.price
                                                                      : l.price >= order.price);
        if (!reaches || available >= wanted) return false;
        const Lots take = std::min(l.qty, wanted - available);
        takes.push_back({l.price, take});
        available += take;
        return true;
    });
    return takes;
}

void Exchange::take(Order &order, const std::vector<market::Level> &takes, int64_t now_ms) {
    for (const auto &t : takes) {
        Lots q = t.qty;
        if (order.reduce_only) {  // never beyond the position it reduces
            const Lots size = position_ > 0 ? position_ : -position_;
            const bool reduces = position_ != 0 && (position_ > 0) != (order.side == Side::buy);
            q = reduces ? std::min(q, size) : 0;
        }
        if (q == 0) break;
        execute(order, t.price, q, false, now_ms);
    }
}

Answer Exchange::amend(const Params &params, int64_t now_ms) {
    if (find(params, "symbol") != symbol_) return error(400, -1121, "Invalid symbol.");
    const auto side = find(params, "side");
    if (!side) return mandatory("side");
    const auto qty_text = find(params, "quantity");
    if (!qty_text) return mandatory("quantity");
    const auto price_text = find(params, "price");
    if (!price_text) return mandatory("price");
    std::optional<Answer> failure;
    const Order *found = lookup(params, failure);
    if (!found) return *failure;
    Order &o = orders_.at(found->id);
    if (std::find(resting_.begin(), resting_.end(), o.id) == resting_.end())
        return error(400, -2013, "Order does not exist.");
    if (*side != (o.side == Side::buy ? "BUY" : "SELL")) return error(400, -1117, "Invalid side.");
    const auto qty = on_grid(*qty_text, qty_show_, "quantity", false, failure);
    if (!qty) return *failure;
    if (*qty <= 0) return error(400, -4003, "Quantity less than or equal to zero.");
    if (*qty < min_qty_) return error(400, -4004, "Quantity less than min quantity.");
    const auto price = on_grid(*price_text, price_show_, "price", true, failure);
    if (!price) return *failure;
    if (*price <= 0) return error(400, -4013, "Price less than min price.");
    if (*qty == o.qty && *price == o.price)
        return error(400, -5027, "No need to modify the order.");
    if (!o.reduce_only && min_notional_ > 0 && notional_money(*price, *qty) < min_notional_)
        return error(400, -4164,
                     fmt::format("Order's notional must be no smaller than {} (unless you choose "
                                 "reduce only).",
                                 min_notional_text_));
    ++amendments_;
    o.update_ms = now_ms;
    const auto cancel = [&] {
        std::erase(resting_, o.id);
        o.status = Status::canceled;
        order_event(o, "CANCELED", nullptr, now_ms);
        return Answer{200, order_json(o, false)};
    };
    // Binance cancels rather than amends an order whose fills reached the new quantity, and a
    // post-only one the new price would make take.
    if (*qty <= o.filled) return cancel();
    const Ticks old_price = o.price;
    o.price = *price;
    Lots available = 0;
    const auto takes = takes_for(o, available);
    if (o.tif == "GTX" && !takes.empty()) {
        o.price = old_price;
        return cancel();
    }
    o.qty = *qty;
    // "Modified orders will be reordered in the match queue": to the back.
    std::erase(resting_, o.id);
    resting_.push_back(o.id);
    order_event(o, "AMENDMENT", nullptr, now_ms);
    take(o, takes, now_ms);
    if (o.status == Status::filled) std::erase(resting_, o.id);
    return Answer{200, order_json(o, false)};
}

void Exchange::on_trade(const binance::Trade &trade, int64_t now_ms) {
    if (resting_.empty()) return;
    // Better prices first, then arrival: who the print reached first.
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
        Lots q = std::min(left, o.qty - o.filled);
        if (o.reduce_only) {
            const bool reduces = position_ != 0 && (position_ > 0) != (o.side == Side::buy);
            q = reduces ? std::min(q, position_ > 0 ? position_ : -position_) : 0;
        }
        if (q == 0) continue;
        left -= q;
        execute(o, o.price, q, true, now_ms);
    }
    std::erase_if(resting_, [&](int64_t id) { return orders_.at(id).status == Status::filled; });
}

const Exchange::Order *Exchange::lookup(const Params &params,
                                        std::optional<Answer> &failure) const {
    if (find(params, "symbol") != symbol_) {
        failure = error(400, -1121, "Invalid symbol.");
        return nullptr;
    }
    const auto id = find(params, "orderId");
    const auto cid = find(params, "origClientOrderId");
    if (!id && !cid) {
        failure = error(400, -1102,
                        "Param 'orderId' or 'origClientOrderId' must be sent, but both were "
                        "empty/null!");
        return nullptr;
    }
    if (id) {
        const auto n = to_int(*id);
        const auto it = n ? orders_.find(*n) : orders_.end();
        if (it != orders_.end() && (!cid || it->second.client_id == *cid)) return &it->second;
    } else {
        // The latest order with that client id (an id is reusable once its order is closed).
        for (auto it = orders_.rbegin(); it != orders_.rend(); ++it)
            if (it->second.client_id == *cid) return &it->second;
    }
    failure = error(400, -2013, "Order does not exist.");
    return nullptr;
}

Answer Exchange::cancel(const Params &params, int64_t now_ms) {
    std::optional<Answer> failure;
    const Order *found = lookup(params, failure);
    if (!found)
        return failure->body.find("-2013") != std::string::npos
                   ? error(400, -2011, "Unknown order sent.")
                   : *failure;
    Order &o = orders_.at(found->id);
    if (std::find(resting_.begin(), resting_.end(), o.id) == resting_.end())
        return error(400, -2011, "Unknown order sent.");
    std::erase(resting_, o.id);
    o.status = Status::canceled;
    o.update_ms = now_ms;
    order_event(o, "CANCELED", nullptr, now_ms);
    return Answer{200, order_json(o, false)};
}

Answer Exchange::query(const Params &params) const {
    std::optional<Answer> failure;
    const Order *o = lookup(params, failure);
    return o ? Answer{200, order_json(*o, true)} : *failure;
}

Answer Exchange::open_orders(const Params &params) const {
    const auto symbol = find(params, "symbol");
    if (symbol && *symbol != symbol_) return error(400, -1121, "Invalid symbol.");
    std::string out = "[";
    for (const int64_t id : resting_) {
        if (out.size() > 1) out += ',';
        out += order_json(orders_.at(id), true);
    }
    return Answer{200, out + "]"};
}

Answer Exchange::cancel_all(const Params &params, int64_t now_ms) {
    if (find(params, "symbol") != symbol_) return error(400, -1121, "Invalid symbol.");
    for (const int64_t id : std::exchange(resting_, {})) {
        Order &o = orders_.at(id);
        o.status = Status::canceled;
        o.update_ms = now_ms;
        order_event(o, "CANCELED", nullptr, now_ms);
    }
    return Answer{200, R"({"code":200,"msg":"The operation of cancel all open order is done."})"};
}

Answer Exchange::account(int64_t now_ms) const {
    const int64_t up = unrealized();
    const auto bid = market_.book().best_bid(), ask = market_.book().best_ask();
    const Lots size = position_ > 0 ? position_ : -position_;
    const int64_t value =
        bid && ask ? div_round(notional_money(bid->price + ask->price, size), 2) : 0;
    const int64_t margin = div_round(value, leverage_);
    const int64_t available = wallet_ + up - margin;
    return Answer{
        200,
        fmt::format(
            R"({{"feeTier":0,"canTrade":true,"canDeposit":true,"canWithdraw":true,)"
            R"("updateTime":0,"multiAssetsMargin":false,"tradeGroupId":-1,)"
            R"("totalInitialMargin":"{m}","totalMaintMargin":"0.00000000",)"
            R"("totalWalletBalance":"{w}","totalUnrealizedProfit":"{up}",)"
            R"("totalMarginBalance":"{mb}","totalPositionInitialMargin":"{m}",)"
            R"("totalOpenOrderInitialMargin":"0.00000000","totalCrossWalletBalance":"{w}",)"
            R"("totalCrossUnPnl":"{up}","availableBalance":"{a}","maxWithdrawAmount":"{a}",)"
            R"("assets":[{{"asset":"USDT","walletBalance":"{w}","unrealizedProfit":"{up}",)"
            R"("marginBalance":"{mb}","maintMargin":"0.00000000","initialMargin":"{m}",)"
            R"("positionInitialMargin":"{m}","openOrderInitialMargin":"0.00000000",)"
            R"("crossWalletBalance":"{w}","crossUnPnl":"{up}","availableBalance":"{a}",)"
            R"("maxWithdrawAmount":"{a}","marginAvailable":true,"updateTime":{t}}}],)"
            R"("positions":[{{"symbol":"{s}","initialMargin":"{m}","maintMargin":"0",)"
            R"("unrealizedProfit":"{up}","positionInitialMargin":"{m}",)"
            R"("openOrderInitialMargin":"0","leverage":"{l}","isolated":{iso},)"
            R"("entryPrice":"{ep}","maxNotional":"{mn}","bidNotional":"0","askNotional":"0",)"
            R"("positionSide":"BOTH","positionAmt":"{pa}","updateTime":{t}}}]}})",
            fmt::arg("m", money(margin)), fmt::arg("w", money(wallet_)), fmt::arg("up", money(up)),
            fmt::arg("mb", money(wallet_ + up)), fmt::arg("a", money(available)),
            fmt::arg("t", now_ms), fmt::arg("s", symbol_), fmt::arg("l", leverage_),
            fmt::arg("iso", isolated_), fmt::arg("mn", max_notional(leverage_)),
            fmt::arg("ep", entry_price()), fmt::arg("pa", format_units(position_, qty_show_)))};
}

Answer Exchange::balance(int64_t now_ms) const {
    const int64_t up = unrealized();
    return Answer{200, fmt::format(R"([{{"accountAlias":"keel","asset":"USDT","balance":"{w}",)"
                                   R"("crossWalletBalance":"{w}","crossUnPnl":"{up}",)"
                                   R"("availableBalance":"{a}","maxWithdrawAmount":"{a}",)"
                                   R"("marginAvailable":true,"updateTime":{t}}}])",
                                   fmt::arg("w", money(wallet_)), fmt::arg("up", money(up)),
                                   fmt::arg("a", money(wallet_ + up)), fmt::arg("t", now_ms))};
}

Answer Exchange::user_trades(const Params &params) const {
    if (find(params, "symbol") != symbol_) return error(400, -1121, "Invalid symbol.");
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
                       R"({{"symbol":"{}","id":{},"orderId":{},"side":"{}","price":"{}",)"
                       R"("qty":"{}","realizedPnl":"{}","marginAsset":"USDT","quoteQty":"{}",)"
                       R"("commission":"{}","commissionAsset":"USDT","time":{},)"
                       R"("positionSide":"BOTH","buyer":{},"maker":{}}})",
                       symbol_, f.id, f.order_id, side_text(f.side),
                       format_units(f.price, price_show_), format_units(f.qty, qty_show_),
                       money(f.realized), quote_text(f.price * price_.step * f.qty * qty_.step),
                       money(f.fee), f.time_ms, f.side == Side::buy, f.maker);
    }
    return Answer{200, out + "]"};
}

Answer Exchange::listen_key(std::string_view method, int64_t now_ms, int64_t life_ms) {
    if (method == "POST") {
        // One key per account: Binance hands back the live one and extends it.
        if (!listen_key_valid(listen_key_, now_ms)) {
            static constexpr char kAlphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            uint64_t x = static_cast<uint64_t>(now_ms) * 6364136223846793005ULL + next_order_id_;
            listen_key_.clear();
            for (int i = 0; i < 64; ++i) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                listen_key_ += kAlphabet[(x >> 33) % 62];
            }
        }
        listen_key_expiry_ms_ = now_ms + life_ms;
        return Answer{200, fmt::format(R"({{"listenKey":"{}"}})", listen_key_)};
    }
    if (!listen_key_valid(listen_key_, now_ms))
        return error(400, -1125, "This listenKey does not exist.");
    if (method == "PUT") {
        listen_key_expiry_ms_ = now_ms + life_ms;
        return Answer{200, fmt::format(R"({{"listenKey":"{}"}})", listen_key_)};
    }
    listen_key_expiry_ms_ = 0;
    return Answer{200, "{}"};
}

Answer Exchange::set_leverage(const Params &params) {
    if (find(params, "symbol") != symbol_) return error(400, -1121, "Invalid symbol.");
    const auto text = find(params, "leverage");
    const auto leverage = to_int(text.value_or(""));
    if (!leverage) return mandatory("leverage");
    if (*leverage < 1 || *leverage > kMaxLeverage)
        return error(400, -4028, fmt::format("Leverage {} is not valid", *text));
    // A position larger than the new leverage allows stays where it is.
    const auto mid = market_.mid_1e8();
    const Lots size = position_ > 0 ? position_ : -position_;
    if (mid && size > 0) {
        __extension__ using Wide = __int128;
        const Wide value = Wide(size) * qty_.step * *mid;  // 10^-(qty decimals + 8) USDT
        const Wide cap = Wide(max_notional(*leverage)) *
                         static_cast<Wide>(market::kPowersOfTen[qty_.decimals]) *
                         static_cast<Wide>(market::kPowersOfTen[kMoneyDecimals]);
        if (value > cap)
            return error(400, -2027,
                         "Exceeded the maximum allowable position at current leverage.");
    }
    leverage_ = *leverage;
    return Answer{200, fmt::format(R"({{"leverage":{},"maxNotionalValue":"{}","symbol":"{}"}})",
                                   leverage_, max_notional(leverage_), symbol_)};
}

Answer Exchange::set_margin_type(const Params &params) {
    if (find(params, "symbol") != symbol_) return error(400, -1121, "Invalid symbol.");
    const auto type = find(params, "marginType");
    if (type != "ISOLATED" && type != "CROSSED") return mandatory("marginType");
    if ((*type == "ISOLATED") == isolated_)
        return error(400, -4046, "No need to change margin type.");
    if (position_ != 0)
        return error(400, -4048, "Margin type cannot be changed if there exists position.");
    if (!resting_.empty())
        return error(400, -4047, "Margin type cannot be changed if there exists open orders.");
    isolated_ = *type == "ISOLATED";
    return Answer{200, R"({"code":200,"msg":"success"})"};
}

Answer Exchange::income(const Params &params) const {
    const auto symbol = find(params, "symbol");
    if (symbol && *symbol != symbol_) return error(400, -1121, "Invalid symbol.");
    const auto type = find(params, "incomeType");
    const auto start = to_int(find(params, "startTime").value_or(""));
    const auto end = to_int(find(params, "endTime").value_or(""));
    const auto limit =
        std::clamp<int64_t>(to_int(find(params, "limit").value_or("")).value_or(100), 1, 1000);
    std::string out = "[";
    int64_t n = 0;
    for (const auto &i : income_) {
        if ((type && *type != i.type) || (start && i.time_ms < *start) || (end && i.time_ms > *end))
            continue;
        if (n++ == limit) break;
        if (out.size() > 1) out += ',';
        fmt::format_to(std::back_inserter(out),
                       R"({{"symbol":"{}","incomeType":"{}","income":"{}","asset":"USDT",)"
                       R"("info":"{}","time":{},"tranId":{},"tradeId":"{}"}})",
                       symbol_, i.type, money(i.amount), i.type, i.time_ms, i.tran_id,
                       i.trade_id ? std::to_string(i.trade_id) : "");
    }
    return Answer{200, out + "]"};
}

bool Exchange::listen_key_valid(std::string_view key, int64_t now_ms) const {
    return !key.empty() && key == listen_key_ && now_ms < listen_key_expiry_ms_;
}

std::string Exchange::state_json() const {
    std::string open = "[";
    for (const int64_t id : resting_) {
        if (open.size() > 1) open += ',';
        open += order_json(orders_.at(id), true);
    }
    open += ']';
    std::string placed = "{";
    for (const auto &[cid, n] : placed_per_client_id_) {
        if (placed.size() > 1) placed += ',';
        fmt::format_to(std::back_inserter(placed), R"("{}":{})", cid, n);
    }
    placed += '}';
    // Where each client order id's (last) order stands: status and executed quantity.
    std::string outcome = "{";
    for (const auto &[id, o] : orders_) {
        if (outcome.size() > 1) outcome += ',';
        fmt::format_to(std::back_inserter(outcome), R"("{}":["{}","{}"])", o.client_id,
                       status_text(o.status), format_units(o.filled, qty_show_));
    }
    outcome += '}';
    std::string funding = "[";
    for (const auto &f : funding_) {
        if (funding.size() > 1) funding += ',';
        fmt::format_to(std::back_inserter(funding),
                       R"({{"time":{},"rate":"{}","mark":"{}","amount":"{}"}})", f.time_ms,
                       format_fixed(f.rate_1e8, 8), format_fixed(f.mark_1e8, 8), money(f.amount));
    }
    funding += ']';
    return fmt::format(
        R"({{"walletBalance":"{}","realizedPnl":"{}","unrealizedProfit":"{}",)"
        R"("funding":"{}","fundingEvents":{},"leverage":{},"marginType":"{}",)"
        R"("positions":[{{"symbol":"{}","positionAmt":"{}","entryPrice":"{}"}}],)"
        R"("openOrders":{},"ordersPlacedPerClientOrderId":{},)"
        R"("ordersByClientOrderId":{},"fills":{},"amendments":{}}})",
        money(wallet_), money(realized_total_), money(unrealized()), money(funding_total_), funding,
        leverage_, isolated_ ? "ISOLATED" : "CROSSED", symbol_, format_units(position_, qty_show_),
        entry_price(), open, placed, outcome, fills_.size(), amendments_);
}

}  // namespace keel::venue
