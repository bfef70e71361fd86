#include "keel/exec/order_state.hpp"

namespace keel::exec {

const char *to_string(OrderType t) {
    switch (t) {
        case OrderType::market:
            return "market";
        case OrderType::limit:
            return "limit";
        case OrderType::stop:
            return "stop";
        case OrderType::take_profit:
            return "take_profit";
        case OrderType::trailing_stop:
            return "trailing_stop";
    }
    return "unknown";
}

const char *to_string(TriggerPrice p) {
    switch (p) {
        case TriggerPrice::mid:
            return "mid";
        case TriggerPrice::last:
            return "last";
        case TriggerPrice::mark:
            return "mark";
    }
    return "?";
}

const char *to_string(OrderStatus s) {
    switch (s) {
        case OrderStatus::pending_new:
            return "pending_new";
        case OrderStatus::accepted:
            return "accepted";
        case OrderStatus::partially_filled:
            return "partially_filled";
        case OrderStatus::filled:
            return "filled";
        case OrderStatus::cancelled:
            return "cancelled";
        case OrderStatus::rejected:
            return "rejected";
        case OrderStatus::triggered:
            return "triggered";
        case OrderStatus::expired:
            return "expired";
        case OrderStatus::pending_cancel:
            return "pending_cancel";
        case OrderStatus::amended:
            return "amended";
    }
    return "unknown";
}

bool legal_transition(std::optional<OrderStatus> from, OrderStatus to) {
    using S = OrderStatus;
    if (!from)  // a new order: acknowledged, refused, or (FOK) expired at once
        return to == S::pending_new || to == S::accepted || to == S::rejected || to == S::expired;
    switch (*from) {
        case S::pending_new:
            return to == S::accepted || to == S::rejected || to == S::partially_filled ||
                   to == S::filled || to == S::cancelled || to == S::expired;
        case S::accepted:
            return to == S::partially_filled || to == S::filled || to == S::pending_cancel ||
                   to == S::cancelled || to == S::expired || to == S::triggered || to == S::amended;
        case S::amended:  // working, as accepted or partially filled; amended again
            return to == S::partially_filled || to == S::filled || to == S::pending_cancel ||
                   to == S::cancelled || to == S::expired || to == S::amended;
        case S::triggered:  // its market order: acknowledged or vetoed, then fills
            return to == S::accepted || to == S::rejected || to == S::partially_filled ||
                   to == S::filled || to == S::cancelled || to == S::expired;
        case S::partially_filled:
            return to == S::partially_filled || to == S::filled || to == S::pending_cancel ||
                   to == S::cancelled || to == S::expired || to == S::amended;
        case S::pending_cancel:  // fills and an amendment sent before may race the cancel; a
                                 // refused cancel leaves it working
            return to == S::cancelled || to == S::partially_filled || to == S::filled ||
                   to == S::expired || to == S::accepted || to == S::amended;
        case S::filled:
        case S::cancelled:
        case S::rejected:
        case S::expired:
            return false;
    }
    return false;
}

bool OrderTracker::apply(OrderId id, OrderStatus to) {
    auto it = status_.find(id);
    std::optional<OrderStatus> from;
    if (it != status_.end()) from = it->second;
    if (!legal_transition(from, to)) return false;
    if (is_final(to)) {
        if (it != status_.end()) status_.erase(it);
    } else {
        status_[id] = to;
    }
    return true;
}

std::optional<OrderStatus> OrderTracker::status(OrderId id) const {
    auto it = status_.find(id);
    if (it == status_.end()) return std::nullopt;
    return it->second;
}

}  // namespace keel::exec
