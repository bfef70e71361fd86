#include "keel/exec/conditional.hpp"

namespace keel::exec {

void ConditionalBook::add(ConditionalOrder order) {
    OrderId id = order.id;
    if (order.intent.type != OrderType::trailing_stop) order.trigger2 = 2 * order.intent.price;
    orders_.insert_or_assign(id, std::move(order));
}

bool ConditionalBook::remove(OrderId id, ConditionalOrder *out) {
    auto it = orders_.find(id);
    if (it == orders_.end()) return false;
    if (out) *out = std::move(it->second);
    orders_.erase(it);
    return true;
}

const ConditionalOrder *ConditionalBook::find(OrderId id) const {
    auto it = orders_.find(id);
    return it == orders_.end() ? nullptr : &it->second;
}

void ConditionalBook::on_touch(InstrumentIndex instrument, Ticks bid, Ticks ask,
                               std::vector<ConditionalOrder> &triggered) {
    // Compared as two mids (bid + ask against 2 x trigger), so a half-tick mid stays exact.
    const Ticks two_mid = bid + ask;
    for (auto it = orders_.begin(); it != orders_.end();) {
        ConditionalOrder &o = it->second;
        if (o.intent.instrument != instrument) {
            ++it;
            continue;
        }
        const bool sell = o.intent.side == Side::sell;
        if (o.intent.type == OrderType::trailing_stop) {
            // A sell trails below the highest mid, a buy above the lowest, by `trail` ticks; the
            // trigger only ever tightens. Kept in two-mid units like the mid.
            Ticks candidate = sell ? two_mid - 2 * o.intent.trail : two_mid + 2 * o.intent.trail;
            if (o.trigger2 == 0 || (sell ? candidate > o.trigger2 : candidate < o.trigger2))
                o.trigger2 = candidate;
        }
        bool hit = false;
        if (o.intent.type == OrderType::take_profit)
            hit = sell ? two_mid >= o.trigger2 : two_mid <= o.trigger2;
        else  // stop, trailing stop
            hit = sell ? two_mid <= o.trigger2 : two_mid >= o.trigger2;
        if (!hit) {
            ++it;
            continue;
        }
        triggered.push_back(std::move(o));
        it = orders_.erase(it);
    }
}

std::vector<OrderId> ConditionalBook::ids(StrategyIndex strategy) const {
    std::vector<OrderId> out;
    for (const auto &[id, o] : orders_)
        if (o.intent.strategy == strategy) out.push_back(id);
    return out;
}

std::vector<OrderId> ConditionalBook::ids_in_group(OrderId oco) const {
    std::vector<OrderId> out;
    if (oco == 0) return out;
    for (const auto &[id, o] : orders_)
        if (o.oco == oco) out.push_back(id);
    return out;
}

std::vector<OrderId> ConditionalBook::all_ids() const {
    std::vector<OrderId> out;
    for (const auto &[id, o] : orders_) out.push_back(id);
    return out;
}

}  // namespace keel::exec
