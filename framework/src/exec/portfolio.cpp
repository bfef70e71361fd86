#include "keel/exec/portfolio.hpp"

#include <cstdlib>

namespace keel::exec {

void Portfolio::on_fill(const InstrumentSpec &spec, InstrumentIndex i, Side side, Lots qty,
                        Ticks price, double fee) {
    Position &p = positions_.at(i);
    Lots signed_qty = sign(side) * qty;
    double px = spec.price(price);
    p.fees += fee;
    if (p.qty == 0 || (p.qty > 0) == (signed_qty > 0)) {
        // Opening or adding: new average entry weighted by quantity.
        Lots total = p.qty + signed_qty;
        p.avg_entry =
            (p.avg_entry * static_cast<double>(std::abs(p.qty)) + px * static_cast<double>(qty)) /
            static_cast<double>(std::abs(total));
        p.qty = total;
        return;
    }
    // Reducing, closing or flipping.
    Lots closing = std::min(std::abs(p.qty), qty);
    double direction = p.qty > 0 ? 1.0 : -1.0;
    p.realized_pnl += direction * (px - p.avg_entry) * spec.qty(closing);
    p.qty += signed_qty;
    if (p.qty == 0)
        p.avg_entry = 0;
    else if ((p.qty > 0) == (signed_qty > 0))
        p.avg_entry = px;  // flipped: the rest opened at px
}

double Portfolio::unrealized_pnl(const InstrumentSpec &spec, InstrumentIndex i, double mark) const {
    const Position &p = positions_.at(i);
    return (mark - p.avg_entry) * spec.qty(p.qty);
}

double Portfolio::realized_pnl() const {
    double total = 0;
    for (auto &p : positions_) total += p.realized_pnl;
    return total;
}

double Portfolio::fees() const {
    double total = 0;
    for (auto &p : positions_) total += p.fees;
    return total;
}

}  // namespace keel::exec
