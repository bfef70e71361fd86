#pragma once
// Position sizing helpers (docs/risk.md, "Sizing"): pure functions a strategy calls before it
// orders. They suggest; the risk gate still decides.

#include <algorithm>
#include <cmath>
#include <optional>

#include "keel/core/types.hpp"

namespace keel::risk {

// Seed 001: risk amount = equity x risk fraction; size = risk amount / |entry - stop|, in base
// units, rounded down to the lot grid. nullopt when the inputs cannot size a trade (no stop
// distance, non-positive equity or prices, non-finite values).
inline std::optional<double> fixed_fractional_size(const InstrumentSpec &spec, double equity,
                                                   double risk_fraction, double entry,
                                                   double stop) {
    double distance = std::fabs(entry - stop);
    if (!(equity > 0 && risk_fraction > 0 && entry > 0 && stop > 0 && distance > 0) ||
        !std::isfinite(equity * risk_fraction / distance))
        return std::nullopt;
    double qty = equity * risk_fraction / distance;
    // Floor to whole lots, with a hair of tolerance so 0.4 / 0.001 is 400 lots, not 399.
    double lots = std::floor(qty / spec.lot_size * (1 + 1e-12));
    return lots * spec.lot_size;
}

// Kelly fraction f* = W - (1 - W) / R with R = average win / average loss, scaled by `fraction`
// (0.5 = half Kelly, seed 001) and clamped to [0, 1]: the share of equity to risk. 0 when the
// edge is not positive; nullopt for nonsense inputs.
inline std::optional<double> kelly_fraction(double win_rate, double avg_win, double avg_loss,
                                            double fraction) {
    if (!(win_rate >= 0 && win_rate <= 1 && avg_win > 0 && avg_loss > 0 && fraction > 0 &&
          fraction <= 1))
        return std::nullopt;
    double f = win_rate - (1 - win_rate) / (avg_win / avg_loss);
    return std::clamp(f * fraction, 0.0, 1.0);
}

// Seed 002: a stop `multiple` x ATR away from the entry, below it for a buy and above it for a
// sell, rounded to the tick grid away from the entry (never tighter than asked).
inline std::optional<double> atr_stop(const InstrumentSpec &spec, Side side, double entry,
                                      double atr, double multiple) {
    if (!(entry > 0 && atr > 0 && multiple > 0) || !std::isfinite(entry + atr * multiple))
        return std::nullopt;
    double raw = side == Side::buy ? entry - multiple * atr : entry + multiple * atr;
    double ticks = raw / spec.tick_size;
    double rounded =
        side == Side::buy ? std::floor(ticks * (1 + 1e-12)) : std::ceil(ticks * (1 - 1e-12));
    if (rounded <= 0) return std::nullopt;
    return rounded * spec.tick_size;
}

}  // namespace keel::risk
