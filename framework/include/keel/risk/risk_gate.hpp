#pragma once
// The risk gate: the only place where an OrderIntent becomes an ApprovedOrder. Venues accept only
// ApprovedOrder, whose constructor is private to the gate, so no code path can send an order that
// the gate has not seen (docs/architecture.md, "Money safety"). The gate also owns the trading
// state (ACTIVE / REDUCING / HALTED), the drawdown manager and the order-rate counters, and
// watches the account after every fill and mark (on_account). Every check and code: docs/risk.md.

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "keel/config/config.hpp"
#include "keel/core/money.hpp"
#include "keel/exec/order.hpp"
#include "keel/exec/portfolio.hpp"
#include "keel/market/book.hpp"
#include "keel/risk/drawdown.hpp"

namespace keel::risk {

enum class TradingState : uint8_t {
    active,    // every check applies
    reducing,  // only orders that reduce a position
    halted     // no strategy orders; host orders that reduce (kill switch) still pass
};
const char *to_string(TradingState s);

// Stable reason codes: strategies, logs and notifiers match on these strings (docs/risk.md).
enum class VetoReason : uint8_t {
    halted,                   // HALTED
    reducing,                 // REDUCING: new risk while only reductions are allowed
    not_whitelisted,          // NOT_WHITELISTED
    invalid_quantity,         // INVALID_QUANTITY: zero, negative, or below the venue minimum
    invalid_price,            // INVALID_PRICE: limit or stop price missing, negative, wrong side
    no_market,                // NO_MARKET: book missing, crossed or empty on the side needed
    below_min_notional,       // BELOW_MIN_NOTIONAL: venue filter
    price_band,               // PRICE_BAND: fat finger, too far from the mid
    max_order_qty,            // MAX_ORDER_QTY
    max_order_notional,       // MAX_ORDER_NOTIONAL
    max_position_notional,    // MAX_POSITION_NOTIONAL
    max_position_pct,         // MAX_POSITION_PCT: position as % of equity
    max_instrument_exposure,  // MAX_INSTRUMENT_EXPOSURE: position + resting orders, % of equity
    max_leverage,             // MAX_LEVERAGE
    insufficient_margin,      // INSUFFICIENT_MARGIN: linear, initial margin beyond free equity
    insufficient_balance,     // INSUFFICIENT_BALANCE: spot buy beyond cash, sell beyond holding
    max_open_positions,       // MAX_OPEN_POSITIONS
    max_open_orders,          // MAX_OPEN_ORDERS
    max_orders_per_day,       // MAX_ORDERS_PER_DAY
    max_orders_per_second,    // MAX_ORDERS_PER_SECOND
    daily_loss_limit,         // DAILY_LOSS_LIMIT
    max_drawdown,             // MAX_DRAWDOWN
    drawdown_level,           // DRAWDOWN_LEVEL: the level's size multiplier is 0 (RED, CRITICAL)
    size_too_small,           // SIZE_TOO_SMALL: scaled by stage/drawdown to below the minimum
    risk_per_trade,           // RISK_PER_TRADE: qty * stop distance above the % of equity
    no_stop,                  // NO_STOP: require_stop and the order carries none
    duplicate_entry,          // DUPLICATE_ENTRY
    reduce_only_increases,    // REDUCE_ONLY_INCREASES
    venue_price_limit,        // VENUE_PRICE_LIMIT: outside the venue's price filters
    position_unknown,         // POSITION_UNKNOWN: live, the venue has not reported the position
};
inline constexpr int kVetoReasonCount = static_cast<int>(VetoReason::position_unknown) + 1;
const char *code(VetoReason reason);

struct Veto {
    VetoReason reason;
    std::string message;  // the numbers that caused it
};

// An intent that passed every check. Move-only; only RiskGate can make one.
class ApprovedOrder {
  public:
    ApprovedOrder(ApprovedOrder &&) = default;
    ApprovedOrder &operator=(ApprovedOrder &&) = default;
    ApprovedOrder(const ApprovedOrder &) = delete;
    ApprovedOrder &operator=(const ApprovedOrder &) = delete;
    const exec::OrderIntent &intent() const { return intent_; }
    // The quantity asked for, when the gate scaled it down (capital stage, drawdown level).
    Lots requested_qty() const { return requested_; }

  private:
    friend class RiskGate;
    ApprovedOrder(exec::OrderIntent intent, Lots requested)
        : intent_(std::move(intent)), requested_(requested) {}
    exec::OrderIntent intent_;
    Lots requested_;
};

// Resting orders as one decision needs them.
struct OpenOrders {
    Lots buy_qty = 0, sell_qty = 0;  // on this instrument
    Money buy_notional;              // this instrument's resting buys at their limits (spot cash)
    bool entry_buy = false;          // this strategy has a resting non-reduce buy here
    bool entry_sell = false;
    int total = 0;  // across the deployment

    // Counts one working order on this instrument, for a decision about an order of `strategy`.
    void add(const exec::Order &o, exec::StrategyIndex strategy, const NotionalScale &scale) {
        const bool entry = o.intent.strategy == strategy && !o.intent.reduce_only;
        if (o.intent.side == Side::buy) {
            buy_qty += o.remaining();
            buy_notional += scale.notional(o.intent.price, o.remaining());
            entry_buy = entry_buy || entry;
        } else {
            sell_qty += o.remaining();
            entry_sell = entry_sell || entry;
        }
    }
};

struct RiskContext {
    const InstrumentSpec &spec;
    const market::Book &book;
    const exec::Portfolio &portfolio;
    OpenOrders open;
    TimeNs now = 0;
    // False while the book's stream is stale or resyncing (market::BookFeed::usable): the gate
    // then decides nothing on it, whatever the last levels say.
    bool book_usable = true;
    // False while a live venue has not yet said what position it holds on the instrument (at
    // the start, until its account answer): every order would be judged against a guess.
    bool position_known = true;
};

// What on_account or a manual command changed; the engine logs it, notifies, and carries out
// `action` (flatten = the kill switch).
struct RiskEvent {
    config::RiskAction action = config::RiskAction::alert;
    bool critical = false;  // notify at error level
    std::string title;
    std::string message;
};

// No order may be worth more than this, whatever the limits say: beyond it Money sums could
// overflow (a strategy can ask for 9e15 lots). One billion in the quote currency.
inline constexpr Money kMaxOrderValue = Money::from_units(1'000'000'000 * Money::kScale);
inline constexpr Lots kMaxOrderLots = 1'000'000'000'000'000;  // 1e15

class RiskGate {
  public:
    RiskGate(config::RiskLimits limits, const std::vector<InstrumentSpec> &instruments,
             const std::vector<std::string> &strategy_names);

    std::variant<ApprovedOrder, Veto> check(exec::OrderIntent intent, const RiskContext &ctx);

    // After fills and marks: starts trading days, tracks the drawdown level and the daily and
    // drawdown limits, and changes state when they trip. Appends what changed to `out`.
    void on_account(exec::Portfolio &portfolio, TimeNs now, std::vector<RiskEvent> &out);

    void halt(std::string why);
    void reduce(std::string why);
    // Back to ACTIVE. A drawdown-triggered stop starts its drawdown anew from today's equity,
    // or the same limit would trip again at once.
    void resume(exec::Portfolio &portfolio);

    TradingState state() const { return state_; }
    const std::string &state_reason() const { return state_reason_; }
    const DrawdownManager &drawdown() const { return drawdown_; }
    const config::RiskLimits &limits() const { return config_; }
    int orders_today() const { return orders_today_; }
    // The drawdown multiplier times the capital stage: the share of asked size new risk gets.
    double size_factor() const { return drawdown_.size_multiplier() * stage_factor_; }

  private:
    // Order limits with money in Money and percentages as fractions, resolved per
    // (strategy, instrument) as the tightest of global, instrument and strategy limits.
    struct Resolved {
        Money max_order_notional = Money::max();
        double max_order_qty = config::OrderLimits::kOff;  // base units, as configured
        Lots max_order_lots = INT64_MAX;                   // the same on the lot grid
        Money max_position_notional = Money::max();
        double max_position = config::OrderLimits::kOff;  // fractions of equity
        double max_exposure = config::OrderLimits::kOff;
        double risk_per_trade = config::OrderLimits::kOff;
        double max_leverage = config::OrderLimits::kOff;
        std::vector<std::pair<TimeNs, double>> leverage_by_timeframe;
        double price_band = config::OrderLimits::kOff;
        bool require_stop = false;
        bool no_duplicate_entry = false;
        void tighten(const config::OrderLimits &o);
        double leverage_cap(TimeNs timeframe) const;
    };
    const Resolved &resolved(exec::StrategyIndex strategy, InstrumentIndex instrument) const;
    bool rate_limited(TimeNs now) const;
    void record(const exec::OrderIntent &intent, bool new_risk, TimeNs now);
    // Why the state is not ACTIVE, for automatic lifting: a daily-loss stop ends with the day.
    enum class Cause : uint8_t { none, manual, daily_loss, max_drawdown, drawdown_level };
    void set_state(TradingState s, std::string why, Cause cause);
    // Carries out an automatic action (never loosening the state) and reports it in `out`.
    void trip(config::RiskAction action, Cause cause, std::string title, std::string message,
              std::vector<RiskEvent> &out);

    config::RiskLimits config_;
    size_t instrument_count_;
    size_t strategy_count_;
    std::vector<Resolved> table_;  // (strategy_count_ + 1) x instruments; last row: host orders
    std::vector<bool> whitelisted_;
    double stage_factor_ = 1;
    DrawdownManager drawdown_;

    TradingState state_ = TradingState::active;
    std::string state_reason_;
    Cause cause_ = Cause::none;
    bool daily_tripped_ = false;     // until the next trading day
    bool drawdown_tripped_ = false;  // until a manual resume

    std::vector<TimeNs> recent_;  // ring of the last max_orders_per_second order times
    size_t recent_next_ = 0;
    int orders_today_ = 0;
    int64_t day_ = INT64_MIN;
};

}  // namespace keel::risk
