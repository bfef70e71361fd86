#include "keel/exec/live_venue.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "keel/log/log.hpp"

namespace keel::exec {
namespace {

constexpr TimeNs kSecond = 1'000'000'000;
constexpr int kMaxAttempts = 8;            // resends of one order before it is given up
constexpr TimeNs kSilence = 10 * kSecond;  // no word about an order for this long: ask

const char *reason_code(uint32_t reason) {
    switch (reason) {
        case KEEL_VENUE_INSUFFICIENT_FUNDS:
            return "VENUE_INSUFFICIENT_FUNDS";
        case KEEL_VENUE_FILTER:
            return "VENUE_FILTER";
        case KEEL_VENUE_WOULD_TAKE:
            return "VENUE_WOULD_TAKE";
        case KEEL_VENUE_REDUCE_ONLY:
            return "VENUE_REDUCE_ONLY";
        case KEEL_VENUE_BAD_TIMESTAMP:
            return "VENUE_BAD_TIMESTAMP";
        case KEEL_VENUE_BAD_SIGNATURE:
            return "VENUE_BAD_SIGNATURE";
        case KEEL_VENUE_UNAUTHORIZED:
            return "VENUE_UNAUTHORIZED";
        default:
            return "VENUE_REJECTED";
    }
}

}  // namespace

LiveVenue::LiveVenue(Session session, const std::vector<InstrumentSpec> &instruments,
                     std::vector<Link> links)
    : session_(std::move(session)), instruments_(instruments), links_(std::move(links)) {
    // Binance allows 36 characters of [.A-Z:/a-z0-9_-]: "k" + 8 + 6 + "-" + 20 digits fits.
    const auto alnum = [](std::string text, size_t most) {
        std::erase_if(text, [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); });
        return text.substr(0, most);
    };
    session_.deployment = alnum(session_.deployment, 8);
    session_.run = alnum(session_.run, 6);
    for (const auto &spec : instruments_) scales_.emplace_back(spec.tick_size, spec.lot_size);
    size_t venues = 0;
    for (const auto &link : links_) venues = std::max(venues, link.venue + 1);
    pacers_.resize(venues);
    waiting_.resize(venues);
}

void LiveVenue::reconcile(size_t venue, TimeNs now) {
    for (auto &[id, w] : orders_)
        if (links_.at(w.order.intent.instrument).venue == venue && w.acked &&
            w.next == Next::none && !w.querying)
            ask(w, now);
}

bool LiveVenue::settled(InstrumentIndex instrument) const {
    for (const auto &[id, w] : orders_)
        if (w.order.intent.instrument == instrument &&
            (!w.acked || w.querying || w.next != Next::none || w.venue_final))
            return false;
    return true;
}

void LiveVenue::declare_order_limit(size_t venue, OrderLimit limit) {
    if (venue < pacers_.size()) pacers_[venue].declare(limit);
}

bool LiveVenue::pace(Working &w, TimeNs now) {
    const size_t venue = links_.at(w.order.intent.instrument).venue;
    const TimeNs slot = pacers_[venue].next_slot(now);
    // Orders already waiting go first: a new one queues behind them even if a slot is free.
    if (slot <= now && (w.waiting || waiting_[venue] == 0)) {
        stop_waiting(w);
        pacers_[venue].sent(now);
        return false;
    }
    if (!w.waiting) {
        w.waiting = true;
        ++waiting_[venue];
        ++stats_.paced;
    }
    w.next = Next::resend;
    w.due = slot;
    return true;
}

void LiveVenue::stop_waiting(Working &w) {
    if (!std::exchange(w.waiting, false)) return;
    --waiting_[links_.at(w.order.intent.instrument).venue];
}

std::string LiveVenue::client_id(OrderId id) const {
    return "k" + session_.deployment + session_.run + "-" + std::to_string(id);
}

bool LiveVenue::made_by_earlier_run(std::string_view client_id) const {
    const std::string_view deployment = session_.deployment;
    const size_t run_at = 1 + deployment.size(), id_at = run_at + 7;
    if (client_id.size() <= id_at || client_id[0] != 'k' ||
        client_id.substr(1, deployment.size()) != deployment || client_id[id_at - 1] != '-')
        return false;
    // The run's width is fixed, so a deployment whose name extends this one's is not taken
    // for it ("kabc1" + run is not "kabc" + run).
    const std::string_view run = client_id.substr(run_at, 6), id = client_id.substr(id_at);
    const auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    return run != session_.run && std::all_of(run.begin(), run.end(), hex) &&
           std::all_of(id.begin(), id.end(), digit);
}

void LiveVenue::on_stranger(const VenueOrderUpdate &u, TimeNs now, std::vector<OrderEvent> &out) {
    const std::string &cid = u.client_order_id;
    if (finished_.count(cid)) {
        ++stats_.late_updates;
        return;
    }
    auto &log = keel::log::get("exec");
    const bool ours = cid.starts_with("k" + session_.deployment + session_.run + "-");
    if (made_by_earlier_run(cid)) {
        if (u.state == KEEL_ORDER_STATE_NEW || u.state == KEEL_ORDER_STATE_PARTIALLY_FILLED) {
            adopt(u, now, out);
            return;
        }
    } else if (!ours && !cid.empty()) {
        // By hand or another program: not keel's to cancel or to count.
        if (foreign_.insert(cid).second) {
            ++stats_.foreign_orders;
            log.warn("the venue reports order {}, which keel did not place: left alone", cid);
        }
        return;
    }
    ++stats_.unknown_updates;
    if (!cid.empty()) log.warn("the venue reports order {} that this session did not place", cid);
}

void LiveVenue::adopt(const VenueOrderUpdate &u, TimeNs now, std::vector<OrderEvent> &out) {
    const std::string &cid = u.client_order_id;
    auto &log = keel::log::get("exec");
    // Filled before this report's own fill: the earlier run's, already in the venue's position.
    const Lots before = u.filled - u.last_qty;
    if (u.instrument >= instruments_.size() || u.qty <= 0 || u.price <= 0 || u.last_qty < 0 ||
        before < 0 || u.filled >= u.qty || (u.side != KEEL_SIDE_BUY && u.side != KEEL_SIDE_SELL)) {
        ++stats_.unknown_updates;
        log.error(
            "order {} of an earlier run cannot be adopted: the venue's report of it is not "
            "a working limit order (side, quantity, price, filled)",
            cid);
        return;
    }
    const bool keep = session_.earlier_orders == config::EarlierOrders::keep;
    const OrderId id = session_.new_id();
    Working w;
    Order &o = w.order;
    o.id = id;
    o.intent.instrument = u.instrument;  // owned by no strategy: kNoStrategy
    o.intent.side = u.side == KEEL_SIDE_SELL ? Side::sell : Side::buy;
    o.intent.type = OrderType::limit;  // only limit orders rest
    o.intent.qty = u.qty;
    o.intent.price = u.price;
    o.intent.tag = "adopted";
    o.created = now;
    // Counted as filled so only the rest works on, never booked here; valued at the limit
    // price, which is what a resting order's fills pay.
    o.filled = before;
    o.fill_value = scales_[u.instrument].notional(u.price, before);
    w.client_id = cid;
    w.acked = true;
    w.last_heard = now;
    w.venue_filled = before;
    // Fills the venue stamped up to here are in `before`; this report's own fill is not.
    w.adopted_through = u.last_qty > 0 ? u.ts - 1 : u.ts;
    by_client_[cid] = id;
    Working &kept = orders_.emplace(id, std::move(w)).first->second;
    ++stats_.adopted;
    const auto &spec = instruments_[u.instrument];
    OrderEvent e = event(kept, OrderStatus::accepted, now);
    e.reason = kAdopted;
    e.message = fmt::format("{} {} {} @ {} ({} filled), left working by an earlier run as {}: {}",
                            to_string(kept.order.intent.side), spec.qty_text(u.qty), spec.id,
                            spec.price_text(u.price), spec.qty_text(before), cid,
                            keep ? "kept (earlier_orders: keep)" : "cancelled");
    log.warn("order {} adopted: {}", id, e.message);
    out.push_back(std::move(e));
    if (u.last_qty > 0) fill(kept, u, now, out);
    kept.venue_filled = std::max(kept.venue_filled, u.filled);
    if (!keep) cancel(id, now, out);
}

OrderEvent LiveVenue::event(const Working &w, OrderStatus status, TimeNs now) const {
    return order_event(w.order, status, instruments_[w.order.intent.instrument], now);
}

void LiveVenue::submit(risk::ApprovedOrder approved, OrderId id, TimeNs now,
                       std::vector<OrderEvent> &out) {
    Working w;
    w.order.id = id;
    w.order.intent = approved.intent();
    w.order.status = OrderStatus::pending_new;
    w.order.created = now;
    w.client_id = client_id(id);
    w.last_heard = now;
    by_client_[w.client_id] = id;
    auto &kept = orders_.emplace(id, std::move(w)).first->second;
    out.push_back(event(kept, OrderStatus::pending_new, now));
    if (!links_.at(kept.order.intent.instrument).place_batch) {
        send(kept, now, out);
        return;
    }
    kept.next = Next::place;  // with the others of this event, at flush()
    unsent_.push_back(id);
}

void LiveVenue::flush(TimeNs now, std::vector<OrderEvent> &out) {
    if (unsent_.empty()) return;  // every pass of the engine's loop: nothing to build then
    std::map<size_t, std::vector<Working *>> by_venue;  // in submission order
    for (OrderId id : std::exchange(unsent_, {})) {
        auto it = orders_.find(id);
        if (it == orders_.end() || it->second.next != Next::place) continue;  // cancelled
        Working &w = it->second;
        if (pace(w, now)) continue;  // sent alone when its venue's limits let it
        by_venue[links_.at(w.order.intent.instrument).venue].push_back(&w);
    }
    for (const auto &[venue, orders] : by_venue) hand_over(orders, now, out);
}

void LiveVenue::send(Working &w, TimeNs now, std::vector<OrderEvent> &out) {
    if (pace(w, now)) return;
    Working *const one[] = {&w};
    hand_over(one, now, out);
}

void LiveVenue::hand_over(std::span<Working *const> orders, TimeNs now,
                          std::vector<OrderEvent> &out) {
    const Link &link = links_.at(orders.front()->order.intent.instrument);
    std::vector<keel_order_request> requests;
    for (Working *w : orders) {
        requests.push_back(request(*w));
        ++w->attempts;
        w->next = Next::none;
    }
    const auto handed = [&](Working &w, bool ok, const std::string &why) {
        if (ok)
            ++(w.attempts == 1 ? stats_.sent : stats_.resent);
        else
            finish(w.order.id, OrderStatus::rejected, now, "VENUE_UNREACHABLE", why, out);
    };
    std::string why;
    if (orders.size() > 1 && link.place_batch) {
        ++stats_.batches;
        const bool ok = link.place_batch(requests, why);
        for (Working *w : orders) handed(*w, ok, why);
        return;
    }
    for (size_t k = 0; k < orders.size(); ++k) {
        why.clear();
        handed(*orders[k], link.place(requests[k], why), why);
    }
}

keel_order_request LiveVenue::request(const Working &w) const {
    const auto &in = w.order.intent;
    const Link &link = links_.at(in.instrument);
    keel_order_request r{};
    r.struct_size = sizeof r;
    r.instrument = link.venue_id;
    r.client_order_id = w.client_id.c_str();
    r.side = in.side == Side::buy ? KEEL_SIDE_BUY : KEEL_SIDE_SELL;
    r.type = in.type == OrderType::limit ? KEEL_ORDER_LIMIT : KEEL_ORDER_MARKET;
    r.time_in_force = in.post_only                 ? KEEL_TIF_POST_ONLY
                      : in.tif == TimeInForce::ioc ? KEEL_TIF_IOC
                      : in.tif == TimeInForce::fok ? KEEL_TIF_FOK
                                                   : KEEL_TIF_GTC;
    r.flags = in.reduce_only ? KEEL_ORDER_REDUCE_ONLY : 0u;
    r.price_ticks = in.type == OrderType::limit ? in.price : 0;
    r.qty_lots = in.qty;
    return r;
}

void LiveVenue::ask(Working &w, TimeNs now) {
    const Link &link = links_.at(w.order.intent.instrument);
    std::string why;
    w.next = Next::none;
    w.last_heard = now;  // the answer is awaited from here
    w.querying = true;
    ++stats_.queries;
    if (!link.query(link.venue_id, w.client_id, why))
        keel::log::get("exec").warn("order {}: cannot ask the venue: {}", w.order.id, why);
}

void LiveVenue::later(Working &w, Next next, TimeNs now, TimeNs retry_at) {
    w.next = next;
    if (retry_at > now) {
        // Up to 100 ms of jitter: the orders held for the same instant do not all go at once.
        std::uniform_int_distribution<TimeNs> spread(0, kSecond / 10);
        w.due = retry_at + spread(jitter_);
        return;
    }
    // Exponential backoff from 1 s with up to half again of jitter, capped at a minute.
    const TimeNs base = std::min<TimeNs>(kSecond << std::min(w.attempts, 6), 60 * kSecond);
    std::uniform_int_distribution<TimeNs> spread(0, base / 2);
    w.due = now + base + spread(jitter_);
}

bool LiveVenue::cancel(OrderId id, TimeNs now, std::vector<OrderEvent> &out) {
    auto it = orders_.find(id);
    if (it == orders_.end() || it->second.cancel_wanted) return false;
    Working &w = it->second;
    w.cancel_wanted = true;
    if (!w.acked && (w.next == Next::place || w.next == Next::resend)) {
        // Never reached the venue and not sent (again) yet: nothing to cancel there.
        finish(id, OrderStatus::cancelled, now, "CANCELLED", "", out);
        return true;
    }
    // On its way: a cancel sent now could overtake it (another connection) and find nothing,
    // and the order would then rest unseen. It is cancelled once the venue acknowledges it.
    if (w.acked) request_cancel(w, now, out);
    return true;
}

bool LiveVenue::amend(risk::ApprovedOrder change, OrderId id, TimeNs now, std::string &why) {
    auto it = orders_.find(id);
    if (it == orders_.end()) {
        why = "it is not open";
        return false;
    }
    Working &w = it->second;
    const Link &link = links_.at(w.order.intent.instrument);
    const size_t venue = link.venue;
    const char *refused = !link.amend
                              ? "its venue cannot amend orders (cancel it and place a new one)"
                          : !w.acked        ? "the venue has not acknowledged it yet"
                          : w.cancel_wanted ? "it is being cancelled"
                          : w.amending      ? "an amendment of it is on its way"
                          : pacers_[venue].next_slot(now) > now || waiting_[venue] > 0
                              ? "the venue's order limit is spent this instant (amendments count "
                                "as orders)"
                              : nullptr;
    if (refused) {
        why = refused;
        return false;
    }
    keel_order_request r = request(w);
    r.qty_lots = w.order.filled + change.intent().qty;
    r.price_ticks = change.intent().price;
    if (!link.amend(r, why)) return false;
    pacers_[venue].sent(now);
    w.amending = true;
    ++stats_.amends;
    return true;
}

void LiveVenue::request_cancel(Working &w, TimeNs now, std::vector<OrderEvent> &out) {
    if (!std::exchange(w.cancel_announced, true))
        out.push_back(event(w, OrderStatus::pending_cancel, now));
    const Link &link = links_.at(w.order.intent.instrument);
    std::string why;
    if (!link.cancel(link.venue_id, w.client_id, why)) later(w, Next::cancel, now);
}

void LiveVenue::fill(Working &w, const VenueOrderUpdate &u, TimeNs now,
                     std::vector<OrderEvent> &out) {
    if (u.trade_id != 0 && !w.trade_ids.insert(u.trade_id).second) {
        ++stats_.duplicate_fills;
        return;
    }
    if (w.adopted_through && u.ts <= *w.adopted_through) return;  // the earlier run's fill
    Order &o = w.order;
    const Lots qty = std::min(u.last_qty, o.intent.qty - o.filled);
    if (qty <= 0) return;
    const auto &spec = instruments_[o.intent.instrument];
    Money notional = scales_[o.intent.instrument].notional(u.last_price, qty);
    Money fee;
    Lots fee_qty = 0;
    if (u.fee_asset.empty() || u.fee_asset == spec.quote) {
        fee = Money::from_units(u.fee_amount);
    } else if (u.fee_asset == spec.base) {
        // Taken from what the fill delivers: booked as lots not received, worth their price.
        const auto units_per_lot = std::llround(spec.lot_size * KEEL_AMOUNT_SCALE);
        fee_qty = units_per_lot > 0 ? static_cast<Lots>(div_round(u.fee_amount, units_per_lot)) : 0;
        fee = scales_[o.intent.instrument].notional(u.last_price, fee_qty);
    } else {
        keel::log::get("exec").warn("order {}: fee of {} in {} not booked (only {} fees are)", o.id,
                                    static_cast<double>(u.fee_amount) / KEEL_AMOUNT_SCALE,
                                    u.fee_asset, spec.quote);
    }
    o.filled += qty;
    o.fill_value += notional;
    o.fees += fee;
    o.status = o.filled == o.intent.qty ? OrderStatus::filled : OrderStatus::partially_filled;
    OrderEvent e = event(w, o.status, now);
    e.last_qty = qty;
    e.last_price = u.last_price;
    e.last_fee = fee;
    e.last_fee_qty = fee_qty;
    e.maker = u.maker;
    out.push_back(std::move(e));
}

void LiveVenue::on_update(const VenueOrderUpdate &u, TimeNs now, std::vector<OrderEvent> &out) {
    auto found = by_client_.find(u.client_order_id);
    if (found == by_client_.end()) {
        on_stranger(u, now, out);
        return;
    }
    Working &w = orders_.at(found->second);
    w.last_heard = now;
    const bool answers_query = std::exchange(w.querying, false);
    if (u.state == KEEL_ORDER_STATE_REJECTED && w.amending && !answers_query) {
        w.amending = false;
        if (u.reason == KEEL_VENUE_UNKNOWN_OUTCOME || u.reason == KEEL_VENUE_UNKNOWN_ORDER) {
            // It may have happened (or the order ended): the venue's answer to a question says.
            w.amending = u.reason == KEEL_VENUE_UNKNOWN_OUTCOME;
            ask(w, now);
            return;
        }
        // Refused: the order stands as it was.
        OrderEvent e = event(w, OrderStatus::amended, now);
        e.reason = reason_code(u.reason);
        e.message = u.message.empty() ? "the venue refused the amendment" : u.message;
        out.push_back(std::move(e));
        return;
    }
    if (u.state == KEEL_ORDER_STATE_REJECTED && answers_query &&
        u.reason != KEEL_VENUE_UNKNOWN_ORDER) {
        // The question failed (rate limit, clock, network): the order is as unknown as before.
        later(w, Next::query, now);
        return;
    }
    if (u.state == KEEL_ORDER_STATE_REJECTED) {
        switch (u.reason) {
            case KEEL_VENUE_RATE_LIMITED:
            case KEEL_VENUE_BANNED:
            case KEEL_VENUE_TRANSIENT:
                // Not done: again later. The venue has an acknowledged order, so what failed was
                // a cancel or a question about it (its fills), never the order itself.
                if (w.acked) {
                    later(w, w.cancel_wanted ? Next::cancel : Next::query, now, u.retry_at);
                } else if (w.cancel_wanted) {
                    finish(w.order.id, OrderStatus::cancelled, now, "CANCELLED", "", out);
                } else if (u.retry_at > now) {
                    // The venue's limit is spent and it said until when: the order waits for
                    // it, like one beyond the declared order limits, and is not given up.
                    ++stats_.held;
                    later(w, Next::resend, now, u.retry_at);
                } else if (w.attempts >= kMaxAttempts) {
                    finish(w.order.id, OrderStatus::rejected, now, "VENUE_UNAVAILABLE", u.message,
                           out);
                } else {
                    later(w, Next::resend, now);
                }
                return;
            case KEEL_VENUE_UNKNOWN_OUTCOME:
            case KEEL_VENUE_DUPLICATE_ORDER:
                w.next = Next::query;
                w.due = now + kSecond;
                return;
            case KEEL_VENUE_UNKNOWN_ORDER:
                if (w.acked || w.order.filled > 0) {
                    ask(w, now);  // a cancel that came too late: what became of it?
                } else if (w.cancel_wanted) {
                    finish(w.order.id, OrderStatus::cancelled, now, "CANCELLED", "", out);
                } else if (w.attempts >= kMaxAttempts) {
                    finish(w.order.id, OrderStatus::rejected, now, "VENUE_UNAVAILABLE", u.message,
                           out);
                } else {
                    send(w, now, out);  // it never arrived: the same id again
                }
                return;
            default:
                if (w.acked) {  // a refused cancel or question: the order itself stands
                    if (w.cancel_wanted)
                        keel::log::get("exec").warn("order {}: cancel refused: {}", w.order.id,
                                                    u.message);
                    later(w, w.cancel_wanted ? Next::cancel : Next::query, now);
                    return;
                }
                finish(w.order.id, OrderStatus::rejected, now, reason_code(u.reason),
                       u.message.empty() ? "refused by the venue" : u.message, out);
                return;
        }
    }
    const bool open =
        u.state == KEEL_ORDER_STATE_NEW || u.state == KEEL_ORDER_STATE_PARTIALLY_FILLED;
    if (u.state != 0 && !w.acked) {
        w.acked = true;
        w.next = Next::none;
        if (w.order.status == OrderStatus::pending_new) {
            w.order.status = OrderStatus::accepted;
            out.push_back(event(w, OrderStatus::accepted, now));
        }
        if (w.cancel_wanted && open) request_cancel(w, now, out);  // asked for while on its way
    } else if (answers_query && w.cancel_wanted && open) {
        request_cancel(w, now, out);  // the venue still has it: the cancel did not happen
    }
    const auto &in = w.order.intent;
    if (open && in.type == OrderType::limit && u.qty > 0 && u.price > 0 &&
        (u.qty != in.qty || u.price != in.price)) {
        // The venue changed the order: an amendment took effect.
        w.order.intent.qty = u.qty;
        w.order.intent.price = u.price;
        w.amending = false;
        out.push_back(event(w, OrderStatus::amended, now));
    } else if (answers_query && std::exchange(w.amending, false) && open) {
        // Asked after an amendment of unknown outcome: the venue shows the order unchanged.
        OrderEvent e = event(w, OrderStatus::amended, now);
        e.reason = "VENUE_UNKNOWN_OUTCOME";
        e.message = "the venue shows the order unchanged";
        out.push_back(std::move(e));
    }
    if (u.last_qty > 0) fill(w, u, now, out);
    w.venue_filled = std::max(w.venue_filled, u.filled);
    if (u.state == KEEL_ORDER_STATE_FILLED) w.venue_final = OrderStatus::filled;
    if (u.state == KEEL_ORDER_STATE_CANCELED) w.venue_final = OrderStatus::cancelled;
    if (u.state == KEEL_ORDER_STATE_EXPIRED) w.venue_final = OrderStatus::expired;
    settle(w, now, out);
}

void LiveVenue::settle(Working &w, TimeNs now, std::vector<OrderEvent> &out) {
    if (!w.venue_final) return;
    if (w.order.filled < std::max(w.venue_filled, *w.venue_final == OrderStatus::filled
                                                      ? w.order.intent.qty
                                                      : Lots{0})) {
        // Final at the venue, but fills are missing here: they follow, or a query brings them.
        if (w.next == Next::none) {
            w.next = Next::query;
            w.due = now + 2 * kSecond;
        }
        return;
    }
    if (*w.venue_final == OrderStatus::filled) {
        // The last fill event already said filled.
        finish(w.order.id, OrderStatus::filled, now, "", "", out);
    } else {
        finish(w.order.id, *w.venue_final, now,
               *w.venue_final == OrderStatus::expired ? "EXPIRED" : "CANCELLED", "", out);
    }
}

void LiveVenue::finish(OrderId id, OrderStatus status, TimeNs now, std::string reason,
                       std::string message, std::vector<OrderEvent> &out) {
    auto it = orders_.find(id);
    if (it == orders_.end()) return;
    Working &w = it->second;
    stop_waiting(w);
    // A filled order's final event was its last fill.
    if (status != OrderStatus::filled || w.order.status != OrderStatus::filled) {
        OrderEvent e = event(w, status, now);
        e.reason = std::move(reason);
        e.message = std::move(message);
        out.push_back(std::move(e));
    }
    finished_.insert(w.client_id);
    by_client_.erase(w.client_id);
    orders_.erase(it);
}

void LiveVenue::on_timer(TimeNs now, std::vector<OrderEvent> &out) {
    flush(now, out);
    std::vector<OrderId> due;
    for (auto &[id, w] : orders_)
        if ((w.next != Next::none && w.due <= now) ||
            (w.next == Next::none && (!w.acked || w.querying) && now - w.last_heard >= kSilence))
            due.push_back(id);
    for (OrderId id : due) {
        auto it = orders_.find(id);
        if (it == orders_.end()) continue;
        Working &w = it->second;
        switch (w.next) {
            case Next::place:
            case Next::resend:
                send(w, now, out);
                break;
            case Next::cancel: {
                const Link &link = links_.at(w.order.intent.instrument);
                std::string why;
                w.next = Next::none;
                if (!link.cancel(link.venue_id, w.client_id, why)) later(w, Next::cancel, now);
                break;
            }
            case Next::query:
            case Next::none:  // silence: the answer (or the question) may have been lost
                ask(w, now);
                break;
        }
    }
}

risk::OpenOrders LiveVenue::open_orders(InstrumentIndex instrument, StrategyIndex strategy,
                                        OrderId except) const {
    risk::OpenOrders r;
    r.total = static_cast<int>(orders_.size() - orders_.count(except));
    for (const auto &[id, w] : orders_)
        if (w.order.intent.instrument == instrument && id != except)
            r.add(w.order, strategy, scales_[instrument]);
    return r;
}

std::vector<OrderId> LiveVenue::all_resting_ids() const {
    std::vector<OrderId> ids;
    for (const auto &[id, w] : orders_) ids.push_back(id);
    return ids;
}

const Order *LiveVenue::find_resting(OrderId id) const {
    auto it = orders_.find(id);
    return it == orders_.end() ? nullptr : &it->second.order;
}

std::vector<OrderId> LiveVenue::resting_ids(StrategyIndex strategy) const {
    std::vector<OrderId> ids;
    for (const auto &[id, w] : orders_)
        if (w.order.intent.strategy == strategy) ids.push_back(id);
    return ids;
}

}  // namespace keel::exec
