#include "keel/exec/paper_venue.hpp"

#include <algorithm>

namespace keel::exec {

PaperVenue::PaperVenue(const config::Account &account,
                       const std::vector<InstrumentSpec> &instruments)
    : instruments_(instruments),
      maker_fee_(Rate::from_double(account.maker_fee)),
      taker_fee_(Rate::from_double(account.taker_fee)),
      order_latency_(account.order_latency, account.latency_seed, 0),
      cancel_latency_(account.cancel_latency, account.latency_seed, 1),
      waiting_(instruments.size(), 0) {
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
    if (o.status == OrderStatus::filled && cancelling_.count(o.id)) {
        // Its cancel is still on its way: it arrives to find nothing.
        e.reason = "CANCEL_TOO_LATE";
        e.message = "filled before the cancel reached the venue";
    }
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
    if (order_latency_.zero()) return execute(std::move(o), book, now, out);
    o.status = OrderStatus::pending_new;
    out.push_back(event(o, now));
    const TimeNs arrives = now + order_latency_.sample();
    schedule(arrives, Arrival{Arrival::Kind::order, id, o.intent.instrument});
    flying_.emplace(id, Flight{std::move(o), arrives});
}

void PaperVenue::execute(Order o, const market::Book &book, TimeNs now,
                         std::vector<OrderEvent> &out) {
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
    o.status = OrderStatus::accepted;
    out.push_back(event(o, now));
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
    // A cancel asked while the order was on its way: now that it rests, the cancel is pending.
    if (cancelling_.count(o.id))
        out.push_back(
            order_event(o, OrderStatus::pending_cancel, instruments_[o.intent.instrument], now));
    resting_.emplace(o.id, std::move(o));
}

bool PaperVenue::cancel(OrderId id, TimeNs now, std::vector<OrderEvent> &out) {
    auto rest = resting_.find(id);
    auto flight = flying_.find(id);
    if (rest == resting_.end() && flight == flying_.end()) return false;
    if (cancelling_.count(id)) return false;  // already on its way
    if (rest != resting_.end() && cancel_latency_.zero()) {
        cancel_resting(rest, now, out);
        return true;
    }
    TimeNs arrives = now + cancel_latency_.sample();
    // Never before its order: keel's live order manager also holds a cancel until the venue
    // has the order, so a cancel cannot overtake it and find nothing.
    if (flight != flying_.end()) arrives = std::max(arrives, flight->second.arrives);
    InstrumentIndex instrument = rest != resting_.end() ? rest->second.intent.instrument
                                                        : flight->second.order.intent.instrument;
    schedule(arrives, Arrival{Arrival::Kind::cancel, id, instrument});
    cancelling_[id] = arrives;
    // pending_new cannot become pending_cancel: an order on its way announces it on arrival.
    if (rest != resting_.end())
        out.push_back(
            order_event(rest->second, OrderStatus::pending_cancel, instruments_[instrument], now));
    return true;
}

bool PaperVenue::amend(risk::ApprovedOrder change, OrderId id, const market::Book &book, TimeNs now,
                       std::vector<OrderEvent> &out, std::string &why) {
    auto rest = resting_.find(id);
    if (rest == resting_.end()) {
        why = flying_.count(id) ? "it has not reached the venue yet" : "it is not open";
        return false;
    }
    if (cancelling_.count(id) || amending_.count(id)) {
        why = cancelling_.count(id) ? "a cancel of it is on its way"
                                    : "an amendment of it is on its way";
        return false;
    }
    const Amendment a{rest->second.filled + change.intent().qty, change.intent().price};
    if (order_latency_.zero()) {
        apply_amendment(id, a, book, now, out);
        return true;
    }
    amending_[id] = a;
    schedule(now + order_latency_.sample(),
             Arrival{Arrival::Kind::amend, id, rest->second.intent.instrument});
    return true;
}

void PaperVenue::apply_amendment(OrderId id, Amendment a, const market::Book &book, TimeNs now,
                                 std::vector<OrderEvent> &out) {
    auto it = resting_.find(id);
    if (it == resting_.end()) return;  // filled or cancelled first: its last event said so
    Order &o = it->second;
    auto end = [&](const char *reason, const char *message) {
        o.status = OrderStatus::cancelled;
        OrderEvent e = event(o, now);
        e.reason = reason;
        e.message = message;
        out.push_back(std::move(e));
        resting_.erase(it);
    };
    if (a.qty <= o.filled)
        return end("AMENDED_BELOW_FILLED",
                   "fills before the amendment arrived reached its new quantity");
    if (o.intent.post_only && book.volume_to_price(opposite(o.intent.side), a.price) > 0)
        return end("POST_ONLY_WOULD_TAKE", "the amended post-only price would take liquidity");
    o.intent.qty = a.qty;
    o.intent.price = a.price;
    o.status = OrderStatus::amended;
    out.push_back(event(o, now));
    take(o, book, a.price, now, out);
    if (o.remaining() == 0) {
        resting_.erase(it);
        return;
    }
    o.ahead = level_qty(book, o.intent.side, a.price);  // the back of the new queue
}

void PaperVenue::cancel_resting(std::map<OrderId, Order>::iterator it, TimeNs now,
                                std::vector<OrderEvent> &out) {
    it->second.status = OrderStatus::cancelled;
    OrderEvent e = event(it->second, now);
    e.reason = "CANCELLED";
    out.push_back(std::move(e));
    resting_.erase(it);
}

void PaperVenue::advance(TimeNs now, bool inclusive, const Books &books,
                         std::vector<OrderEvent> &out) {
    if (arrivals_.empty()) return;
    std::fill(waiting_.begin(), waiting_.end(), 0);
    for (auto it = arrivals_.begin(); it != arrivals_.end();) {
        const TimeNs at = it->first.first;
        if (inclusive ? at > now : at >= now) break;
        Arrival &a = it->second;
        // Behind an order that waits for its book: everything on that instrument keeps its turn.
        if (waiting_[a.instrument]) {
            a.waited = true;
            ++it;
            continue;
        }
        if (a.kind != Arrival::Kind::cancel) {
            const market::Book *book = books(a.instrument);
            if (!book || !book->valid()) {
                waiting_[a.instrument] = 1;
                a.waited = true;
                ++it;
                continue;
            }
            if (a.kind == Arrival::Kind::order) {
                auto node = flying_.extract(a.id);
                execute(std::move(node.mapped().order), *book, a.waited ? now : at, out);
            } else {
                auto node = amending_.extract(a.id);
                apply_amendment(a.id, node.mapped(), *book, a.waited ? now : at, out);
            }
        } else {
            cancelling_.erase(a.id);
            // Not resting any more: it filled or ended before the cancel arrived, and its last
            // event said so (a fill: CANCEL_TOO_LATE).
            if (auto rest = resting_.find(a.id); rest != resting_.end())
                cancel_resting(rest, a.waited ? now : at, out);
        }
        it = arrivals_.erase(it);
    }
}

std::optional<TimeNs> PaperVenue::next_arrival() const {
    for (const auto &[key, a] : arrivals_)
        if (!waiting_[a.instrument]) return key.first;
    return std::nullopt;
}

void PaperVenue::flush(TimeNs now, const Books &books, std::vector<OrderEvent> &out) {
    // No book will come for an order whose book is unusable: it ends here.
    for (auto &[key, a] : arrivals_) {
        if (a.kind == Arrival::Kind::amend) {  // not to be carried out without a book
            const market::Book *book = books(a.instrument);
            if (book && book->valid()) continue;
            amending_.erase(a.id);
            a.kind = Arrival::Kind::cancel;
            a.id = 0;  // a cancel of nothing
            continue;
        }
        if (a.kind != Arrival::Kind::order) continue;
        const market::Book *book = books(a.instrument);
        if (book && book->valid()) continue;
        auto node = flying_.extract(a.id);
        Order &o = node.mapped().order;
        o.status = OrderStatus::cancelled;
        OrderEvent e = event(o, now);
        e.reason = "NO_MARKET";
        e.message = "the session ended while the order waited for a usable book";
        out.push_back(std::move(e));
        a.kind = Arrival::Kind::cancel;  // now a cancel of nothing
    }
    TimeNs last = arrivals_.empty() ? now : std::max(now, arrivals_.rbegin()->first.first);
    advance(last, true, books, out);
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

risk::OpenOrders PaperVenue::open_orders(InstrumentIndex instrument, StrategyIndex strategy,
                                         OrderId except) const {
    risk::OpenOrders r;
    r.total = open_orders() - (resting_.count(except) ? 1 : 0);
    for (auto &[id, o] : resting_)
        if (o.intent.instrument == instrument && id != except)
            r.add(o, strategy, scales_[instrument]);
    for (auto &[id, f] : flying_)
        if (f.order.intent.instrument == instrument) r.add(f.order, strategy, scales_[instrument]);
    return r;
}

std::vector<OrderId> PaperVenue::all_resting_ids() const {
    std::vector<OrderId> ids;
    for (auto &[id, o] : resting_) ids.push_back(id);
    for (auto &[id, f] : flying_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    return ids;
}

const Order *PaperVenue::find_resting(OrderId id) const {
    if (auto it = resting_.find(id); it != resting_.end()) return &it->second;
    if (auto it = flying_.find(id); it != flying_.end()) return &it->second.order;
    return nullptr;
}

std::vector<OrderId> PaperVenue::resting_ids(StrategyIndex strategy) const {
    std::vector<OrderId> ids;
    for (auto &[id, o] : resting_)
        if (o.intent.strategy == strategy) ids.push_back(id);
    for (auto &[id, f] : flying_)
        if (f.order.intent.strategy == strategy) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace keel::exec
