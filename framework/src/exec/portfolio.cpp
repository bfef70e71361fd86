#include "keel/exec/portfolio.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace keel::exec {

Portfolio::Portfolio(const std::vector<InstrumentSpec> &instruments, AccountSettings settings)
    : positions_(instruments.size()),
      mark_bid_(instruments.size(), 0),
      mark_ask_(instruments.size(), 0),
      taken_over_unmarked_(instruments.size(), 0),
      starting_(settings.starting_balance) {
    for (size_t i = 0; i < instruments.size(); ++i) {
        scales_.emplace_back(instruments[i].tick_size, instruments[i].lot_size);
        amount_scales_.emplace_back(1.0 / Money::kScale, instruments[i].lot_size);
        kinds_.push_back(i < settings.kinds.size() ? settings.kinds[i] : InstrumentKind::linear);
        double lev = i < settings.leverage.size() ? settings.leverage[i] : 1.0;
        leverage_.push_back(kinds_[i] == InstrumentKind::spot ? 1.0 : std::max(lev, 1.0));
    }
    peak_ = day_start_equity_ = equity();
}

void Portfolio::on_fill(InstrumentIndex i, Side side, Lots qty, Ticks price, Money fee) {
    Position &p = positions_.at(i);
    const NotionalScale &scale = scales_[i];
    bool was_open = p.qty != 0;
    Money cost_before = p.cost;
    Lots signed_qty = sign(side) * qty;
    p.fees += fee;
    fees_ += fee;
    if (p.qty == 0 || (p.qty > 0) == (signed_qty > 0)) {
        // Opening or adding.
        p.cost += Money::from_units(sign(side) * scale.notional(price, qty).units);
        p.qty += signed_qty;
    } else {
        // Reducing, closing or flipping: realize the closed share of the cost.
        Lots open = std::llabs(p.qty);
        Lots closing = std::min(open, qty);
        Money closed_cost = closing == open
                                ? p.cost
                                : Money::from_units(static_cast<int64_t>(div_round(
                                      static_cast<Int128>(p.cost.units) * closing, open)));
        int direction = p.qty > 0 ? 1 : -1;
        Money pnl =
            Money::from_units(direction * scale.notional(price, closing).units) - closed_cost;
        p.realized += pnl;
        realized_ += pnl;
        p.cost -= closed_cost;
        p.qty += signed_qty;
        if (p.qty != 0 && (p.qty > 0) == (signed_qty > 0))  // flipped: the rest opens at price
            p.cost = Money::from_units(sign(side) * scale.notional(price, std::llabs(p.qty)).units);
    }
    // Spot holdings tie up their cost in base currency; tracked for free_cash().
    if (kinds_[i] == InstrumentKind::spot) spot_cost_ += p.cost - cost_before;
    if (was_open != (p.qty != 0)) open_positions_ += p.qty != 0 ? 1 : -1;
    if (!p.marked) {
        mark_bid_[i] = mark_ask_[i] = price;
        p.marked = true;
    }
    revalue(i);
}

Money Portfolio::on_funding(InstrumentIndex i, Rate rate, Money mark_price) {
    Position &p = positions_.at(i);
    if (p.qty == 0 || kinds_[i] != InstrumentKind::linear) return Money{};
    Money value = amount_scales_[i].notional(mark_price.units, std::llabs(p.qty));
    Money paid = rate.of(value);
    Money received = p.qty > 0 ? -paid : paid;
    p.funding += received;
    funding_ += received;
    after_change();
    return received;
}

void Portfolio::on_venue_funding(Money amount) {
    funding_ += amount;
    after_change();
}

void Portfolio::mark(InstrumentIndex i, Ticks best_bid, Ticks best_ask) {
    auto change = [&] {
        mark_bid_.at(i) = best_bid;
        mark_ask_[i] = best_ask;
        positions_[i].marked = true;
        revalue(i);
    };
    if (!taken_over_unmarked_.at(i)) return change();
    // A position taken over at its entry price: its first mark shows what it made before.
    taken_over_unmarked_[i] = 0;
    outside_session(change);
}

void Portfolio::take_over(InstrumentIndex i, Lots qty, Ticks entry) {
    outside_session([&] {
        Position &p = positions_.at(i);
        const bool was_open = p.qty != 0;
        const Money cost_before = p.cost;
        p.qty = qty;
        p.cost = Money::from_units((qty < 0 ? -1 : 1) *
                                   scales_[i].notional(entry, std::llabs(qty)).units);
        if (kinds_[i] == InstrumentKind::spot) spot_cost_ += p.cost - cost_before;
        if (was_open != (qty != 0)) open_positions_ += qty != 0 ? 1 : -1;
        if (!p.marked) {
            mark_bid_[i] = mark_ask_[i] = entry;
            p.marked = true;
            taken_over_unmarked_[i] = qty != 0;
        }
        revalue(i);
    });
}

template <class F>
void Portfolio::outside_session(F change) {
    const Money before = equity(), peak = peak_;
    change();
    const Money moved = equity() - before;
    day_start_equity_ += moved;
    peak_ = std::max(peak + moved, equity());
}

void Portfolio::revalue(InstrumentIndex i) {
    Position &p = positions_[i];
    // Value at the mid, exactly: notional is linear in price, so value(bid + ask) / 2.
    Lots open = std::llabs(p.qty);
    Money at_both = scales_[i].notional(mark_bid_[i] + mark_ask_[i], open);
    Money value = Money::from_units(static_cast<int64_t>(div_round(at_both.units, 2)));
    Money unrealized = Money::from_units((p.qty > 0 ? 1 : -1) * value.units) - p.cost;
    if (p.qty == 0) unrealized = Money{};
    Money margin =
        kinds_[i] == InstrumentKind::spot
            ? p.cost
            : Money::from_units(std::llround(static_cast<double>(value.units) / leverage_[i]));
    unrealized_ += unrealized - p.unrealized;
    exposure_ += value - p.exposure;
    margin_ += margin - p.margin;
    p.unrealized = unrealized;
    p.exposure = value;
    p.margin = margin;
    after_change();
}

void Portfolio::after_change() {
    peak_ = std::max(peak_, equity());
}

}  // namespace keel::exec
