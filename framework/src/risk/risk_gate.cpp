#include "keel/risk/risk_gate.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

namespace keel::risk {

const char *code(VetoReason reason) {
    switch (reason) {
        case VetoReason::halted:
            return "HALTED";
        case VetoReason::not_whitelisted:
            return "NOT_WHITELISTED";
        case VetoReason::invalid_quantity:
            return "INVALID_QUANTITY";
        case VetoReason::invalid_price:
            return "INVALID_PRICE";
        case VetoReason::no_market:
            return "NO_MARKET";
        case VetoReason::below_min_notional:
            return "BELOW_MIN_NOTIONAL";
        case VetoReason::max_order_notional:
            return "MAX_ORDER_NOTIONAL";
        case VetoReason::max_position_notional:
            return "MAX_POSITION_NOTIONAL";
        case VetoReason::max_open_orders:
            return "MAX_OPEN_ORDERS";
        case VetoReason::reduce_only_increases:
            return "REDUCE_ONLY_INCREASES";
    }
    return "UNKNOWN";
}

RiskGate::RiskGate(config::RiskLimits limits) : limits_(std::move(limits)) {
    if (limits_.halted) halt("configured to start halted (risk.halted)");
}

void RiskGate::halt(std::string why) {
    halted_ = true;
    halt_reason_ = std::move(why);
}

void RiskGate::resume() {
    halted_ = false;
    halt_reason_.clear();
}

std::variant<ApprovedOrder, Veto> RiskGate::check(exec::OrderIntent intent,
                                                  const RiskContext &ctx) {
    using exec::OrderType;
    const auto &spec = ctx.spec;
    auto veto = [](VetoReason r, std::string msg) { return Veto{r, std::move(msg)}; };

    Lots signed_qty = sign(intent.side) * intent.qty;
    // Resting orders on the same side will fill too: judge this order against the position they
    // leave, so several "reducing" orders cannot add up to a flip.
    Lots pending = intent.side == Side::buy ? ctx.open_buy_qty : -ctx.open_sell_qty;
    Lots committed = ctx.position + pending;
    Lots after = committed + signed_qty;
    bool reduces = committed != 0 && std::abs(after) < std::abs(committed) &&
                   (after == 0 || (after > 0) == (committed > 0));

    // A halt stops new risk; an order that only reduces the position still passes (the
    // REDUCING path a kill switch needs).
    if (halted_ && !(intent.reduce_only && reduces))
        return veto(VetoReason::halted, "trading is halted: " + halt_reason_);

    const auto &wl = limits_.whitelist;
    if (!wl.empty() && std::find(wl.begin(), wl.end(), spec.id) == wl.end())
        return veto(VetoReason::not_whitelisted,
                    fmt::format("{} is not in risk.whitelist", spec.id));

    if (intent.qty <= 0)
        return veto(VetoReason::invalid_quantity,
                    fmt::format("quantity {} lots is not positive", intent.qty));

    if (intent.type == OrderType::limit && intent.price <= 0)
        return veto(VetoReason::invalid_price,
                    fmt::format("limit price {} is not positive", spec.price(intent.price)));

    if (intent.reduce_only && !reduces)
        return veto(
            VetoReason::reduce_only_increases,
            fmt::format("reduce-only {} {} with position {} would not reduce it",
                        to_string(intent.side), spec.qty(intent.qty), spec.qty(ctx.position)));

    // Reference price: the limit, or the touch a market order would take.
    if (!ctx.book.valid())
        return veto(VetoReason::no_market, fmt::format("no valid book for {}", spec.id));
    auto touch = intent.side == Side::buy ? ctx.book.best_ask() : ctx.book.best_bid();
    Ticks ref = intent.type == OrderType::limit ? intent.price : touch->price;
    double notional = spec.notional(ref, intent.qty);

    if (spec.min_notional > 0 && notional < spec.min_notional)
        return veto(VetoReason::below_min_notional,
                    fmt::format("order notional {:.2f} is below the venue minimum {:.2f}", notional,
                                spec.min_notional));
    if (spec.min_qty_lots > 0 && intent.qty < spec.min_qty_lots)
        return veto(VetoReason::invalid_quantity,
                    fmt::format("quantity {} is below the venue minimum {}", spec.qty(intent.qty),
                                spec.qty(spec.min_qty_lots)));

    // Order size is fat-finger protection for new risk; an exit is never trapped by it.
    if (!reduces && notional > limits_.max_order_notional)
        return veto(VetoReason::max_order_notional,
                    fmt::format("order notional {:.2f} exceeds max_order_notional {:.2f}", notional,
                                limits_.max_order_notional));

    // Worst case exposure once this and every resting order on the same side fill.
    if (!reduces) {
        Lots worst = std::abs(after);
        double exposure = spec.notional(ref, worst);
        if (exposure > limits_.max_position_notional)
            return veto(VetoReason::max_position_notional,
                        fmt::format("position notional would reach {:.2f} (position {}, resting "
                                    "{}, order {}), above max_position_notional {:.2f}",
                                    exposure, spec.qty(ctx.position), spec.qty(pending),
                                    spec.qty(signed_qty), limits_.max_position_notional));
    }

    // Every new-risk order may rest or be in flight, so each counts; exits are never blocked here.
    if (!reduces && ctx.open_orders >= limits_.max_open_orders)
        return veto(VetoReason::max_open_orders,
                    fmt::format("{} orders open, max_open_orders is {}", ctx.open_orders,
                                limits_.max_open_orders));

    return ApprovedOrder(std::move(intent));
}

}  // namespace keel::risk
