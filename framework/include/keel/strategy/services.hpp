#pragma once
// What a strategy may ask of the engine. The engine implements it; the Lua binding is its only
// caller. Order submission goes through Services::submit, which runs the risk gate: there is no
// other door from a strategy to a venue.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/types.hpp"
#include "keel/exec/order.hpp"
#include "keel/exec/portfolio.hpp"
#include "keel/market/book.hpp"

namespace keel::strategy {

enum class NotifyLevel { info = 0, success = 1, warning = 2, error = 3 };

// What a strategy may read of the risk state (keel.risk.state()).
struct RiskView {
    const char *state = "ACTIVE";           // ACTIVE, REDUCING, HALTED
    const char *drawdown_level = "NORMAL";  // NORMAL, YELLOW, ORANGE, RED, CRITICAL
    double size_factor = 1;                 // drawdown multiplier x capital stage
    double equity = 0, peak_equity = 0, day_start_equity = 0;
    int orders_today = 0;
};

class Services {
  public:
    virtual ~Services() = default;
    virtual size_t instrument_count() const = 0;  // instruments are indices 0..count-1
    virtual std::optional<InstrumentIndex> find_instrument(std::string_view id) const = 0;
    virtual const InstrumentSpec &spec(InstrumentIndex i) const = 0;
    virtual const market::Book &book(InstrumentIndex i) const = 0;
    virtual const exec::Position &position(InstrumentIndex i) const = 0;
    virtual double unrealized_pnl(InstrumentIndex i) const = 0;
    virtual double balance() const = 0;
    virtual double equity() const = 0;
    virtual RiskView risk() const = 0;
    virtual TimeNs now() const = 0;

    // Runs the risk gate. Returns the order id; the outcome (accepted, fills, or a rejection with
    // the gate's reason) reaches the strategy's on_order after the current callback returns.
    virtual exec::OrderId submit(exec::OrderIntent intent) = 0;
    // Cancels an order the strategy owns; false with a reason if it cannot.
    virtual bool cancel(exec::StrategyIndex strategy, exec::OrderId id, std::string &why) = 0;
    virtual std::vector<exec::OrderId> open_orders(exec::StrategyIndex strategy) const = 0;

    virtual void notify(NotifyLevel level, const std::string &source, const std::string &title,
                        const std::string &body) = 0;
    // The strategy ran away (time budget) or out of memory and is stopped for good: the engine
    // cancels its orders and alerts.
    virtual void strategy_faulted(exec::StrategyIndex strategy, const std::string &why) = 0;
};

}  // namespace keel::strategy
