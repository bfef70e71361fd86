#pragma once
// Conditional orders emulated in the host: stops, take-profits and trailing stops wait here,
// after the risk gate approved them, and become market orders when the price each watches (the
// mid, the last trade or the venue's mark: OrderIntent::trigger) reaches their trigger; those
// market orders pass the gate again (docs/lua-api.md, "Orders"). Orders of one OCO group (a
// bracket's stop and take-profit) cancel each other: when one triggers, the engine cancels the rest
// of its group.

#include <map>
#include <vector>

#include "keel/exec/order.hpp"

namespace keel::exec {

struct ConditionalOrder {
    OrderId id = 0;
    OrderIntent intent;  // type stop, take_profit or trailing_stop
    // The trigger in half ticks (2 x price: a mid or a mark can fall between ticks). add() sets it
    // from the intent's price; a trailing stop's moves with the market.
    Ticks trigger2 = 0;
    OrderId oco = 0;  // group: orders with the same non-zero value cancel each other
};

class ConditionalBook {
  public:
    void add(ConditionalOrder order);
    // Removes and returns the order; false if unknown.
    bool remove(OrderId id, ConditionalOrder *out = nullptr);
    const ConditionalOrder *find(OrderId id) const;

    // A new value of the price `source` on `instrument`, as half ticks rounded down (`floor2`)
    // and up (`ceil2`): equal for a mid or a trade, apart for a mark between half ticks, so
    // "at or above" and "at or below" stay exact. Moves the trailing stops that watch it and
    // appends, in id order, the orders whose trigger it reached; they leave the book.
    void on_price(InstrumentIndex instrument, TriggerPrice source, Ticks floor2, Ticks ceil2,
                  std::vector<ConditionalOrder> &triggered);

    std::vector<OrderId> ids(StrategyIndex strategy) const;
    std::vector<OrderId> ids_in_group(OrderId oco) const;
    std::vector<OrderId> all_ids() const;
    size_t size() const { return orders_.size(); }

  private:
    std::map<OrderId, ConditionalOrder> orders_;  // ordered by id: triggers in time priority
};

}  // namespace keel::exec
