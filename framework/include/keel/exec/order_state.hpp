#pragma once
// The order lifecycle as a state machine: which status may follow which. The engine checks every
// order event against it before a strategy sees it; an impossible one (a fill after a cancel, a
// second rejection) is logged, counted and dropped, never passed on.
//
//   (new) ──> pending_new ──> accepted ──> partially_filled ──> filled
//     │            │             │  │            │
//     │            └─> rejected  │  └─> triggered (conditional) ──> accepted / rejected / fills
//     └─> accepted, rejected,    └─> pending_cancel ──> cancelled (or the fills that raced it)
//         expired (FOK)          any working state ──> cancelled, expired
//   accepted, partially_filled, amended, pending_cancel ──> amended (an amendment's outcome)
//   amended ──> what accepted may become, except triggered
// filled, cancelled, rejected and expired are final.

#include <map>
#include <optional>

#include "keel/exec/order.hpp"

namespace keel::exec {

// Whether an order in `from` (nullopt: not seen yet) may move to `to`.
bool legal_transition(std::optional<OrderStatus> from, OrderStatus to);

// The status of every live order, by id; forgets orders once they are final.
class OrderTracker {
  public:
    // Applies the event's status; false (and no change) if the transition is illegal.
    bool apply(OrderId id, OrderStatus to);
    std::optional<OrderStatus> status(OrderId id) const;
    size_t live() const { return status_.size(); }

  private:
    std::map<OrderId, OrderStatus> status_;
};

}  // namespace keel::exec
