#pragma once
// What a strategy may ask of the engine. The engine implements it; the Lua binding is its only
// caller. Order submission goes through Services::submit, which runs the risk gate: there is no
// other door from a strategy to a venue.

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/types.hpp"
#include "keel/exec/order.hpp"
#include "keel/exec/portfolio.hpp"
#include "keel/market/book.hpp"
#include "keel/market/candles.hpp"

namespace keel::strategy {

enum class NotifyLevel { info = 0, success = 1, warning = 2, error = 3 };

// A trade idea a strategy publishes without (or before) trading it (keel.signal): seed 001's
// signal record, exported to the log (component "signal", one line each) and the notifiers.
struct Signal {
    std::string name;  // e.g. "RSI_Oversold_5m_Reversal"
    InstrumentIndex instrument = 0;
    Side side = Side::buy;                                   // long = buy, short = sell
    double entry = 0, stop = 0, target = 0, confidence = 0;  // 0: not given
};

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
    // The book as strategies may read it: empty (not valid, no levels) while the venue's stream is
    // resyncing or stale, so nothing built across a fault can be read.
    virtual const market::Book &book(InstrumentIndex i) const = 0;
    virtual const exec::Position &position(InstrumentIndex i) const = 0;
    virtual double balance() const = 0;
    virtual double equity() const = 0;
    virtual RiskView risk() const = 0;
    virtual TimeNs now() const = 0;

    // Runs the risk gate. Returns the order id; the outcome (accepted, fills, or a rejection with
    // the gate's reason) reaches the strategy's on_order after the current callback returns.
    virtual exec::OrderId submit(exec::OrderIntent intent) = 0;
    // Cancels an order the strategy owns; false with a reason if it cannot.
    virtual bool cancel(exec::StrategyIndex strategy, exec::OrderId id, std::string &why) = 0;
    // Amends a resting limit order the strategy owns to `qty` in all (filled part included) and
    // `price` (either unchanged when not given), through the risk gate as the order it would
    // become. False with a reason if it cannot; otherwise the outcome reaches on_order as
    // status "amended".
    virtual bool amend(exec::StrategyIndex strategy, exec::OrderId id, std::optional<double> qty,
                       std::optional<double> price, std::string &why) = 0;
    virtual std::vector<exec::OrderId> open_orders(exec::StrategyIndex strategy) const = 0;

    virtual void notify(NotifyLevel level, const std::string &source, const std::string &title,
                        const std::string &body) = 0;
    // Strategy timers (keel.every / keel.after): fire on_timer(id) on the engine clock. period is
    // at least 10 ms; a one-shot timer is removed once it fired. Returns the timer's id.
    virtual uint64_t add_timer(exec::StrategyIndex strategy, TimeNs period, bool repeat) = 0;
    virtual bool cancel_timer(exec::StrategyIndex strategy, uint64_t id) = 0;
    // Recent closed candles of an instrument and timeframe length, oldest first (at most the
    // engine's history depth); nullptr if none were kept.
    virtual const std::deque<market::Candle> *candles(InstrumentIndex i, TimeNs length) const = 0;
    virtual void signal(exec::StrategyIndex strategy, const Signal &s) = 0;

    // The strategy ran away (time budget) or out of memory and is stopped for good: the engine
    // cancels its orders and alerts.
    virtual void strategy_faulted(exec::StrategyIndex strategy, const std::string &why) = 0;
};

}  // namespace keel::strategy
