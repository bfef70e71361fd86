#pragma once
// Positions, cash and P&L of the deployment's account, updated by fills. Quantities are exact
// integers (lots); money is in quote currency as double in this first version (the risk issue
// makes it decimal-exact).

#include <vector>

#include "keel/core/types.hpp"

namespace keel::exec {

struct Position {
    Lots qty = 0;             // signed: > 0 long, < 0 short
    double avg_entry = 0;     // quote price of the open quantity
    double realized_pnl = 0;  // closed P&L before fees
    double fees = 0;
};

class Portfolio {
  public:
    Portfolio(double starting_balance, size_t instrument_count)
        : starting_balance_(starting_balance), positions_(instrument_count) {}

    void on_fill(const InstrumentSpec &spec, InstrumentIndex i, Side side, Lots qty, Ticks price,
                 double fee);

    const Position &position(InstrumentIndex i) const { return positions_.at(i); }
    double unrealized_pnl(const InstrumentSpec &spec, InstrumentIndex i, double mark) const;
    double realized_pnl() const;
    double fees() const;
    // Starting balance + realized - fees.
    double balance() const { return starting_balance_ + realized_pnl() - fees(); }
    double starting_balance() const { return starting_balance_; }

  private:
    double starting_balance_;
    std::vector<Position> positions_;
};

}  // namespace keel::exec
