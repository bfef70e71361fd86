#pragma once
// Venues only take approved orders: tests approve through a gate with every limit off.

#include <catch2/catch.hpp>

#include "keel/exec/portfolio.hpp"
#include "keel/risk/risk_gate.hpp"

namespace keel::test {

inline risk::ApprovedOrder approve(exec::OrderIntent intent, const InstrumentSpec &spec,
                                   const market::Book &b) {
    config::RiskLimits l;
    l.order = config::OrderLimits{};
    l.daily_loss_pct = l.max_drawdown_pct = config::OrderLimits::kOff;
    std::vector<InstrumentSpec> specs{spec};
    exec::Portfolio pf(specs, {});
    risk::RiskGate gate(l, specs, {});
    auto r = gate.check(std::move(intent), risk::RiskContext{spec, b, pf, {}, 0});
    REQUIRE(std::holds_alternative<risk::ApprovedOrder>(r));
    return std::move(std::get<risk::ApprovedOrder>(r));
}

}  // namespace keel::test
