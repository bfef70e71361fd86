#pragma once
// Conditional orders emulated in the host: stops, take-profits and trailing stops wait here,
// after the risk gate approved them, and become market orders when the mid reaches their
// trigger; those market orders pass the gate again (docs/lua-api.md, "Orders"). Orders of one
// OCO group (a bracket's stop and take-profit) cancel each other: when one triggers, the engine
// cancels the rest of its group.

#include <map>
#include <vector>

#include "keel/exec/order.hpp"

namespace keel::exec {

struct ConditionalOrder {
    OrderId id = 0;
    OrderIntent intent;  // type stop, take_profit or trailing_stop
    // The trigger in half ticks (2 x price: a mid can fall between ticks). add() sets it from
    // the intent's price; a trailing stop's moves with the market.
    Ticks trigger2 = 0;
    OrderId oco = 0;  // group: orders with the same non-zero value cancel each other
};

class ConditionalBook {
  public:
    void add(ConditionalOrder order);
    // Removes and returns the order; false if unknown.
    bool remove(OrderId id, ConditionalOrder *out = nullptr);
    const ConditionalOrder *find(OrderId id) const;

    // Moves trailing stops with the new touch and appends, in id order, the orders whose
    // trigger the mid reached; they are removed from the book.
    void on_touch(InstrumentIndex instrument, Ticks bid, Ticks ask,
                  std::vector<ConditionalOrder> &triggered);

    std::vector<OrderId> ids(StrategyIndex strategy) const;
    std::vector<OrderId> ids_in_group(OrderId oco) const;
    std::vector<OrderId> all_ids() const;
    size_t size() const { return orders_.size(); }

  private:
    std::map<OrderId, ConditionalOrder> orders_;  // ordered by id: triggers in time priority
};

}  // namespace keel::exec
