#pragma once
// Orders as the engine sees them. A strategy produces an OrderIntent; only the risk gate turns an
// intent into an ApprovedOrder (risk/risk_gate.hpp), and only an ApprovedOrder reaches a venue.

#include <cstdint>
#include <string>

#include "keel/core/money.hpp"
#include "keel/core/types.hpp"

namespace keel::exec {

using OrderId = uint64_t;  // unique per engine run; the client order id is derived from it
using StrategyIndex = uint32_t;
inline constexpr StrategyIndex kNoStrategy = UINT32_MAX;  // host-initiated (kill switch, API)

enum class OrderType : uint8_t {
    market,
    limit,
    stop,          // market once the trigger price reaches `price` against the position (sell:
                   // at or below)
    take_profit,   // market once the trigger price reaches `price` in its favour (sell: at or
                   // above)
    trailing_stop  // a stop `trail` ticks behind the best trigger price seen since it was placed
};
// The price a conditional order watches.
enum class TriggerPrice : uint8_t {
    mid,   // the book's mid (the default)
    last,  // the last public trade (Binance CONTRACT_PRICE)
    mark   // the venue's mark price (Binance MARK_PRICE); the mid until the venue sends a mark
};
const char *to_string(TriggerPrice p);
// Conditional orders wait in the engine (exec/conditional.hpp) and become market orders, through
// the risk gate again, when they trigger.
inline bool is_conditional(OrderType t) {
    return t == OrderType::stop || t == OrderType::take_profit || t == OrderType::trailing_stop;
}

enum class TimeInForce : uint8_t {
    gtc,  // rests until filled or cancelled
    ioc,  // takes what it can at once; the rest expires
    fok   // fills completely at once or not at all
};

enum class OrderStatus : uint8_t {
    pending_new,       // passed the gate, sent, not acknowledged yet (live; paper latency)
    accepted,          // passed the gate and acknowledged by the venue, resting or about to fill
    partially_filled,  // some quantity filled, the rest still working
    filled,
    cancelled,       // by the strategy, or the unfilled rest of a market order
    rejected,        // by the risk gate (reason code set) or by the venue
    triggered,       // a conditional order's trigger was reached; its market order follows
    expired,         // time in force ran out (IOC/FOK remainder)
    pending_cancel,  // a cancel was sent, not confirmed yet (live; paper cancel latency)
    amended,  // an amendment's outcome: the order as it now stands (qty, price), still working;
              // with a reason, the venue refused the change and the order is as it was
};
const char *to_string(OrderType t);
const char *to_string(OrderStatus s);
inline bool is_final(OrderStatus s) {
    return s == OrderStatus::filled || s == OrderStatus::cancelled || s == OrderStatus::rejected ||
           s == OrderStatus::expired;
}

struct OrderIntent {
    StrategyIndex strategy = kNoStrategy;
    InstrumentIndex instrument = 0;
    Side side = Side::buy;
    OrderType type = OrderType::market;
    Lots qty = 0;
    Ticks price = 0;  // limit price, or the trigger of a stop / take-profit; 0 for market orders
    Ticks trail = 0;  // trailing stop distance
    TriggerPrice trigger = TriggerPrice::mid;  // what a conditional order (or bracket leg) watches
    TimeInForce tif = TimeInForce::gtc;
    bool post_only = false;  // a limit that would take liquidity is rejected instead
    bool reduce_only = false;
    // A bracket: once this entry fills, a stop and a take-profit (one cancels the other) protect
    // what filled, resized as it fills. 0: none.
    Ticks bracket_stop = 0, bracket_target = 0;
    Ticks stop_price = 0;  // the trade's protective stop, for risk per trade; 0 if none given
    TimeNs timeframe = 0;  // the signal's timeframe, for per-timeframe leverage caps; 0 if none
    std::string tag;       // free text from the strategy, echoed in its events
};

struct Order {
    OrderId id = 0;
    OrderIntent intent;
    OrderStatus status = OrderStatus::accepted;
    Lots filled = 0;
    Money fill_value;  // sum of price * qty, for the average price
    Money fees;
    TimeNs created = 0;
    // Resting limit orders: the venue's volume ahead of ours at our price (the paper venue's
    // queue estimate; exec/paper_venue.hpp).
    Lots ahead = 0;
    Lots remaining() const { return intent.qty - filled; }
};

// What happened to an order; delivered to the owning strategy's on_order and logged.
struct OrderEvent {
    OrderId id = 0;
    StrategyIndex strategy = kNoStrategy;
    InstrumentIndex instrument = 0;
    Side side = Side::buy;
    OrderType type = OrderType::market;
    OrderStatus status = OrderStatus::accepted;
    Lots qty = 0;
    Ticks price = 0;       // the limit price (trigger of a conditional order); 0 for market
    Lots filled = 0;       // cumulative
    double avg_price = 0;  // average fill price so far
    Lots last_qty = 0;     // this fill, if the event is a fill
    Ticks last_price = 0;
    Money last_fee;         // the whole fee of this fill, valued in the quote currency
    Lots last_fee_qty = 0;  // the part of it paid in the base asset, in lots (see held_qty)
    bool maker = false;
    double slippage_bps = 0;  // of this fill against the mid when the order arrived
    std::string reason;       // stable code for rejections/cancels, e.g. "MAX_ORDER_NOTIONAL"
    std::string message;      // human explanation with the numbers
    std::string tag;
    TimeNs ts = 0;
};

// The lots a fill moves the holding by, unsigned: the fill less a fee paid in the base asset (a
// Binance spot buy receives its quantity less the commission; a sale would part with both).
inline Lots held_qty(const OrderEvent &e) {
    return e.side == Side::buy ? e.last_qty - e.last_fee_qty : e.last_qty + e.last_fee_qty;
}

// An event about `o` in its current state, before the venue adds what the event is about.
inline OrderEvent order_event(const Order &o, OrderStatus status, const InstrumentSpec &spec,
                              TimeNs now) {
    OrderEvent e;
    e.id = o.id;
    e.strategy = o.intent.strategy;
    e.instrument = o.intent.instrument;
    e.side = o.intent.side;
    e.type = o.intent.type;
    e.status = status;
    e.qty = o.intent.qty;
    e.price = o.intent.price;
    e.filled = o.filled;
    e.avg_price = o.filled ? o.fill_value.to_double() / spec.qty(o.filled) : 0;
    e.tag = o.intent.tag;
    e.ts = now;
    return e;
}

}  // namespace keel::exec
