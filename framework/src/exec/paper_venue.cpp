#include "keel/exec/paper_venue.hpp"

#include <algorithm>

namespace keel::exec {

PaperVenue::PaperVenue(const config::Account &account,
                       const std::vector<InstrumentSpec> &instruments)
    : instruments_(instruments),
      maker_fee_(Rate::from_double(account.maker_fee)),
      taker_fee_(Rate::from_double(account.taker_fee)) {
    for (const auto &spec : instruments) scales_.emplace_back(spec.tick_size, spec.lot_size);
}

OrderEvent PaperVenue::event(const Order &o, TimeNs now) const {
    return order_event(o, o.status, instruments_[o.intent.instrument], now);
}

void PaperVenue::fill(Order &o, Lots qty, Ticks price, bool maker, TimeNs now,
                      std::vector<OrderEvent> &out) {
    Money notional = scales_[o.intent.instrument].notional(price, qty);
    Money fee = (maker ? maker_fee_ : taker_fee_).of(notional);
    o.filled += qty;
    o.fill_value += notional;
    o.fees += fee;
    o.status = o.filled == o.intent.qty ? OrderStatus::filled : OrderStatus::partially_filled;
    OrderEvent e = event(o, now);
    e.last_qty = qty;
    e.last_price = price;
    e.last_fee = fee;
    e.maker = maker;
    out.push_back(std::move(e));
}

void PaperVenue::take(Order &o, const market::Book &book, Ticks limit, TimeNs now,
                      std::vector<OrderEvent> &out) {
    Side opposite_side = opposite(o.intent.side);
    for (size_t i = 0; o.remaining() > 0; ++i) {
        auto lv = book.level(opposite_side, i);
        if (!lv) break;
        bool reachable =
            limit == 0 || (o.intent.side == Side::buy ? lv->price <= limit : lv->price >= limit);
        if (!reachable) break;
        fill(o, std::min(o.remaining(), lv->qty), lv->price, false, now, out);
    }
}

void PaperVenue::submit(risk::ApprovedOrder approved, OrderId id, const market::Book &book,
                        TimeNs now, std::vector<OrderEvent> &out) {
    Order o;
    o.id = id;
    o.intent = approved.intent();
    o.created = now;
    auto finish = [&](OrderStatus status, const char *reason, const char *message) {
        o.status = status;
        OrderEvent e = event(o, now);
        e.reason = reason;
        e.message = message;
        out.push_back(std::move(e));
    };
    const Side opp = opposite(o.intent.side);
    if (o.intent.type == OrderType::limit) {
        // Refused before they are accepted, as a venue does.
        if (o.intent.post_only && book.volume_to_price(opp, o.intent.price) > 0)
            return finish(OrderStatus::rejected, "POST_ONLY_WOULD_TAKE",
                          "a post-only limit at this price would take liquidity");
        if (o.intent.tif == TimeInForce::fok &&
            book.volume_to_price(opp, o.intent.price) < o.intent.qty)
            return finish(OrderStatus::expired, "FOK",
                          "fill-or-kill: the book cannot fill the whole order at this price");
    }
    out.push_back(event(o, now));  // accepted
    if (o.intent.type == OrderType::market) {
        take(o, book, 0, now, out);
        if (o.remaining() > 0)
            finish(OrderStatus::cancelled, "INSUFFICIENT_LIQUIDITY",
                   "the book ran out before the market order filled; the rest is cancelled");
        return;
    }
    take(o, book, o.intent.price, now, out);
    if (o.remaining() == 0) return;
    if (o.intent.tif == TimeInForce::ioc)
        return finish(OrderStatus::expired, "IOC",
                      "immediate-or-cancel: the rest of the order expired unfilled");
    o.ahead = level_qty(book, o.intent.side, o.intent.price);  // we join the back of the queue
    resting_.emplace(o.id, std::move(o));
}

bool PaperVenue::cancel(OrderId id, TimeNs now, std::vector<OrderEvent> &out) {
    auto it = resting_.find(id);
    if (it == resting_.end()) return false;
    it->second.status = OrderStatus::cancelled;
    OrderEvent e = event(it->second, now);
    e.reason = "CANCELLED";
    out.push_back(std::move(e));
    resting_.erase(it);
    return true;
}

Lots PaperVenue::level_qty(const market::Book &book, Side side, Ticks price) {
    // Volume at exactly `price`: what is at or better, minus what is strictly better.
    Ticks better = side == Side::buy ? price + 1 : price - 1;
    return book.volume_to_price(side, price) - book.volume_to_price(side, better);
}

void PaperVenue::on_book(InstrumentIndex instrument, const market::Book &book, TimeNs now,
                         std::vector<OrderEvent> &out) {
    if (!book.valid()) return;  // never fill against a broken book
    for (auto it = resting_.begin(); it != resting_.end();) {
        Order &o = it->second;
        if (o.intent.instrument != instrument) {
            ++it;
            continue;
        }
        // The opposite side at or through our price: it would have traded with us.
        Lots available = book.volume_to_price(opposite(o.intent.side), o.intent.price);
        if (available > 0)
            fill(o, std::min(o.remaining(), available), o.intent.price, true, now, out);
        // Our level shrank below the volume ahead: whatever left was ahead of us.
        o.ahead = std::min(o.ahead, level_qty(book, o.intent.side, o.intent.price));
        if (o.remaining() == 0)
            it = resting_.erase(it);
        else
            ++it;
    }
}

void PaperVenue::on_trade(InstrumentIndex instrument, Ticks price, Lots qty, Side aggressor,
                          TimeNs now, std::vector<OrderEvent> &out) {
    for (auto it = resting_.begin(); it != resting_.end() && qty > 0;) {
        Order &o = it->second;
        // Only an aggressor from the other side trades with a resting order.
        if (o.intent.instrument != instrument || aggressor == o.intent.side) {
            ++it;
            continue;
        }
        bool buy = o.intent.side == Side::buy;
        bool through = buy ? price < o.intent.price : price > o.intent.price;
        bool at = price == o.intent.price;
        Lots fills = 0;
        if (through) {
            fills = std::min(o.remaining(), qty);
        } else if (at) {
            Lots eaten = std::min(o.ahead, qty);
            o.ahead -= eaten;
            fills = std::min(o.remaining(), qty - eaten);
        }
        if (fills > 0) {
            fill(o, fills, o.intent.price, true, now, out);
            qty -= fills;  // what filled us is not left for the next order
        }
        if (o.remaining() == 0)
            it = resting_.erase(it);
        else
            ++it;
    }
}

risk::OpenOrders PaperVenue::open_orders(InstrumentIndex instrument, StrategyIndex strategy) const {
    risk::OpenOrders r;
    r.total = static_cast<int>(resting_.size());
    for (auto &[id, o] : resting_)
        if (o.intent.instrument == instrument) r.add(o, strategy, scales_[instrument]);
    return r;
}

std::vector<OrderId> PaperVenue::all_resting_ids() const {
    std::vector<OrderId> ids;
    for (auto &[id, o] : resting_) ids.push_back(id);
    return ids;
}

const Order *PaperVenue::find_resting(OrderId id) const {
    auto it = resting_.find(id);
    return it == resting_.end() ? nullptr : &it->second;
}

std::vector<OrderId> PaperVenue::resting_ids(StrategyIndex strategy) const {
    std::vector<OrderId> ids;
    for (auto &[id, o] : resting_)
        if (o.intent.strategy == strategy) ids.push_back(id);
    return ids;
}

}  // namespace keel::exec
