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

void ConditionalBook::on_price(InstrumentIndex instrument, TriggerPrice source, Ticks floor2,
                               Ticks ceil2, std::vector<ConditionalOrder> &triggered) {
    for (auto it = orders_.begin(); it != orders_.end();) {
        ConditionalOrder &o = it->second;
        if (o.intent.instrument != instrument || o.intent.trigger != source) {
            ++it;
            continue;
        }
        const bool sell = o.intent.side == Side::sell;
        if (o.intent.type == OrderType::trailing_stop) {
            // A sell trails below the highest price, a buy above the lowest, by `trail` ticks;
            // the trigger only ever tightens. Kept in half ticks like the price.
            Ticks candidate = sell ? floor2 - 2 * o.intent.trail : ceil2 + 2 * o.intent.trail;
            if (o.trigger2 == 0 || (sell ? candidate > o.trigger2 : candidate < o.trigger2))
                o.trigger2 = candidate;
        }
        // price >= trigger exactly when floor(2 x price) >= 2 x trigger, and <= when the ceiling
        // is: the trigger is a whole number of half ticks.
        const bool at_or_above = floor2 >= o.trigger2, at_or_below = ceil2 <= o.trigger2;
        bool hit = false;
        if (o.intent.type == OrderType::take_profit)
            hit = sell ? at_or_above : at_or_below;
        else  // stop, trailing stop
            hit = sell ? at_or_below : at_or_above;
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
