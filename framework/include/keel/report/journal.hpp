#pragma once
// Round trips from fills, for backtest reports: per instrument, a trade opens when the position
// leaves zero and closes when it returns to zero (a fill that flips the position closes one and
// opens the next with the rest). Money is exact (core/money.hpp); the trade belongs to the
// strategy and signal (order tag) of its first fill, and its R multiple comes from that order's
// stop when it had one.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keel/core/money.hpp"
#include "keel/core/types.hpp"
#include "keel/exec/order.hpp"

namespace keel::report {

struct Trade {
    exec::StrategyIndex strategy = exec::kNoStrategy;
    InstrumentIndex instrument = 0;
    std::string signal;  // the opening order's tag ("" if none)
    bool long_side = true;
    TimeNs opened = 0, closed = 0;
    Lots max_qty = 0;                  // the largest position it reached
    Ticks stop = 0;                    // the opening order's stop, 0 if none
    Money entry_value, exit_value;     // sum of price x qty over opening / closing fills
    Lots entry_qty = 0, exit_qty = 0;  // equal once closed
    Money pnl;                         // exit_value - entry_value for a long, the reverse short
    Money fees;                        // every fill's fee, opening and closing
    Money net() const { return pnl - fees; }
};

class TradeJournal {
  public:
    explicit TradeJournal(std::vector<InstrumentSpec> specs);

    // The stop price an order was placed with (for R multiples); remembered until it fills.
    void note_stop(exec::OrderId id, Ticks stop);
    void on_fill(const exec::OrderEvent &fill);

    const std::vector<Trade> &closed() const { return closed_; }
    // Trades still open, in instrument order.
    std::vector<Trade> open() const;
    // The trade's R multiple: its P&L per unit of risk taken at the stop.
    std::optional<double> r_multiple(const Trade &t) const;
    const InstrumentSpec &spec(InstrumentIndex i) const { return specs_.at(i); }

  private:
    struct Open {
        Lots position = 0;  // signed
        std::optional<Trade> trade;
    };
    void add(Open &o, const exec::OrderEvent &f, Lots qty, Money fee);

    std::vector<InstrumentSpec> specs_;
    std::vector<NotionalScale> scales_;
    std::vector<Open> open_;
    std::map<exec::OrderId, Ticks> stops_;
    std::vector<Trade> closed_;
};

}  // namespace keel::report
