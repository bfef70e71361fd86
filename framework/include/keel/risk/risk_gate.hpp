#pragma once
// The risk gate: the only place where an OrderIntent becomes an ApprovedOrder. Venues accept only
// ApprovedOrder, whose constructor is private to the gate, so no code path can send an order that
// the gate has not seen (docs/architecture.md, "Money safety").

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "keel/config/config.hpp"
#include "keel/exec/order.hpp"
#include "keel/market/book.hpp"

namespace keel::risk {

// Stable reason codes: strategies, logs and notifiers match on these strings.
enum class VetoReason {
    halted,                 // HALTED: trading halted, no new orders
    not_whitelisted,        // NOT_WHITELISTED: instrument not allowed
    invalid_quantity,       // INVALID_QUANTITY: zero, negative or off the lot grid
    invalid_price,          // INVALID_PRICE: missing, non-positive or off the tick grid
    no_market,              // NO_MARKET: book missing, crossed or empty on the side needed
    below_min_notional,     // BELOW_MIN_NOTIONAL: venue filter
    max_order_notional,     // MAX_ORDER_NOTIONAL
    max_position_notional,  // MAX_POSITION_NOTIONAL: would exceed after fill
    max_open_orders,        // MAX_OPEN_ORDERS
    reduce_only_increases,  // REDUCE_ONLY_INCREASES: a reduce-only order that would add risk
};
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

  private:
    friend class RiskGate;
    explicit ApprovedOrder(exec::OrderIntent intent) : intent_(std::move(intent)) {}
    exec::OrderIntent intent_;
};

// What the gate needs to know about the account and market when it decides.
struct RiskContext {
    const InstrumentSpec &spec;
    const market::Book &book;
    Lots position = 0;       // signed, current
    Lots open_buy_qty = 0;   // resting buy orders on this instrument
    Lots open_sell_qty = 0;  // resting sell orders on this instrument
    int open_orders = 0;     // resting orders across the deployment
};

class RiskGate {
  public:
    explicit RiskGate(config::RiskLimits limits);

    std::variant<ApprovedOrder, Veto> check(exec::OrderIntent intent, const RiskContext &ctx);

    void halt(std::string why);
    void resume();
    bool halted() const { return halted_; }
    const config::RiskLimits &limits() const { return limits_; }

  private:
    config::RiskLimits limits_;
    bool halted_ = false;
    std::string halt_reason_;
};

}  // namespace keel::risk
