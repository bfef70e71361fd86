#include "keel/report/journal.hpp"

#include <cmath>
#include <cstdlib>

namespace keel::report {

TradeJournal::TradeJournal(std::vector<InstrumentSpec> specs)
    : specs_(std::move(specs)), open_(specs_.size()) {
    for (const auto &s : specs_) scales_.emplace_back(s.tick_size, s.lot_size);
}

void TradeJournal::note_stop(exec::OrderId id, Ticks stop) {
    if (stop > 0) stops_[id] = stop;
}

void TradeJournal::add(Open &o, const exec::OrderEvent &f, Lots qty, Money fee) {
    const Lots signed_qty = f.side == Side::buy ? qty : -qty;
    const Money value = scales_[f.instrument].notional(f.last_price, qty);
    if (o.position == 0) {
        Trade t;
        t.strategy = f.strategy;
        t.instrument = f.instrument;
        t.signal = f.tag;
        t.long_side = f.side == Side::buy;
        t.opened = f.ts;
        if (auto s = stops_.find(f.id); s != stops_.end()) t.stop = s->second;
        o.trade = std::move(t);
    }
    Trade &t = *o.trade;
    t.fees += fee;
    if ((o.position >= 0) == (signed_qty > 0) || o.position == 0) {
        t.entry_value += value;
        t.entry_qty += qty;
    } else {
        t.exit_value += value;
        t.exit_qty += qty;
    }
    o.position += signed_qty;
    t.max_qty = std::max(t.max_qty, std::abs(o.position));
    if (o.position == 0) {
        t.closed = f.ts;
        t.pnl = t.long_side ? t.exit_value - t.entry_value : t.entry_value - t.exit_value;
        closed_.push_back(std::move(t));
        o.trade.reset();
    }
}

void TradeJournal::on_fill(const exec::OrderEvent &f) {
    if (f.last_qty > 0 && f.instrument < open_.size()) {
        Open &o = open_[f.instrument];
        const Lots qty = exec::held_qty(f);
        const Lots signed_qty = f.side == Side::buy ? qty : -qty;
        // A fill that takes the position through zero closes one trade and opens the next; the
        // fee is shared in proportion.
        if (o.position != 0 && (o.position > 0) != (signed_qty > 0) && qty > std::abs(o.position)) {
            const Lots closing = std::abs(o.position);
            const Money closing_fee = Money::from_units(
                static_cast<int64_t>(static_cast<Int128>(f.last_fee.units) * closing / qty));
            add(o, f, closing, closing_fee);
            add(o, f, qty - closing, f.last_fee - closing_fee);
        } else if (qty > 0) {
            add(o, f, qty, f.last_fee);
        }
    }
    if (exec::is_final(f.status)) stops_.erase(f.id);
}

std::vector<Trade> TradeJournal::open() const {
    std::vector<Trade> out;
    for (const auto &o : open_)
        if (o.trade) out.push_back(*o.trade);
    return out;
}

std::optional<double> TradeJournal::r_multiple(const Trade &t) const {
    if (t.stop <= 0 || t.entry_qty <= 0) return std::nullopt;
    const auto &spec = specs_.at(t.instrument);
    double entry = t.entry_value.to_double() / spec.qty(t.entry_qty);
    double risk = std::fabs(entry - spec.price(t.stop)) * spec.qty(t.max_qty);
    if (!(risk > 0)) return std::nullopt;
    return t.pnl.to_double() / risk;
}

}  // namespace keel::report
