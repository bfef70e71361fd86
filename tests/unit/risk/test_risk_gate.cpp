#include <catch2/catch.hpp>

#include "keel/risk/risk_gate.hpp"

using namespace keel;
using exec::OrderIntent;
using exec::OrderType;
using risk::RiskContext;
using risk::RiskGate;
using risk::VetoReason;

namespace {

InstrumentSpec btc() {
    InstrumentSpec s;
    s.id = "BTCUSDT";
    s.symbol = "BTCUSDT";
    s.venue = "sim";
    s.tick_size = 0.1;
    s.lot_size = 0.001;
    s.min_notional = 5;
    return s;
}

// A book around 60,000.0 / 60,000.1 with 1 BTC on each of 5 levels.
market::Book book_at_60k() {
    std::vector<market::Level> bids, asks;
    for (int k = 0; k < 5; ++k) {
        bids.push_back({600000 - k, 1000});
        asks.push_back({600001 + k, 1000});
    }
    market::Book b;
    b.apply_snapshot(bids, asks);
    return b;
}

config::RiskLimits limits() {
    config::RiskLimits l;
    l.max_order_notional = 1000;
    l.max_position_notional = 2500;
    l.max_open_orders = 2;
    return l;
}

OrderIntent buy(Lots lots, OrderType type = OrderType::market, Ticks price = 0) {
    OrderIntent i;
    i.strategy = 0;
    i.instrument = 0;
    i.side = Side::buy;
    i.type = type;
    i.qty = lots;
    i.price = price;
    return i;
}

std::optional<VetoReason> decide(RiskGate &gate, OrderIntent intent, const RiskContext &ctx) {
    auto r = gate.check(std::move(intent), ctx);
    if (auto *v = std::get_if<risk::Veto>(&r)) return v->reason;
    return std::nullopt;
}

}  // namespace

SCENARIO("the risk gate enforces its first limits", "[risk]") {
    auto spec = btc();
    auto book = book_at_60k();
    RiskGate gate(limits());
    RiskContext flat{spec, book};

    GIVEN("a flat account") {
        WHEN("an order within every limit arrives") {
            THEN("it is approved") {
                CHECK_FALSE(decide(gate, buy(10), flat));
            }  // ~600 USD
        }
        WHEN("an order above max_order_notional arrives") {
            auto r = gate.check(buy(20), flat);  // 0.02 BTC at 60,000.1 = 1200.002
            THEN("it is vetoed with the reason code and the numbers") {
                auto *v = std::get_if<risk::Veto>(&r);
                REQUIRE(v);
                CHECK(v->reason == VetoReason::max_order_notional);
                CHECK(std::string(risk::code(v->reason)) == "MAX_ORDER_NOTIONAL");
                CHECK(v->message == "order notional 1200.00 exceeds max_order_notional 1000.00");
            }
        }
        WHEN("a limit order's notional is computed from its own price, not the touch") {
            THEN("a far-away high limit is measured at its price") {
                CHECK(decide(gate, buy(10, OrderType::limit, 1'100'000), flat) ==
                      VetoReason::max_order_notional);  // 0.01 * 110,000
            }
        }
        WHEN("quantity or price is not positive") {
            THEN("the gate refuses them") {
                CHECK(decide(gate, buy(0), flat) == VetoReason::invalid_quantity);
                CHECK(decide(gate, buy(-5), flat) == VetoReason::invalid_quantity);
                CHECK(decide(gate, buy(10, OrderType::limit, 0), flat) ==
                      VetoReason::invalid_price);
            }
        }
        WHEN("the order is below the venue's minimum notional") {
            auto strict = spec;
            strict.min_notional = 100;  // one lot is ~60 USD
            THEN("it is vetoed") {
                CHECK(decide(gate, buy(1), RiskContext{strict, book}) ==
                      VetoReason::below_min_notional);
            }
        }
    }

    GIVEN("a long position near the limit") {
        RiskContext ctx{spec, book, 30};  // 0.03 BTC ~ 1800 USD
        WHEN("adding would take it past max_position_notional") {
            THEN("it is vetoed") {
                CHECK(decide(gate, buy(15), ctx) == VetoReason::max_position_notional);
            }
        }
        WHEN("resting buys already use the room") {
            RiskContext resting{spec, book, 30, 10, 0, 1};
            THEN("a small add is vetoed because resting orders count") {
                CHECK(decide(gate, buy(5), resting) == VetoReason::max_position_notional);
            }
        }
        WHEN("a sell closes it, even above max_order_notional (exits are never trapped)") {
            auto sell = buy(30);  // ~1800 USD > 1000
            sell.side = Side::sell;
            sell.reduce_only = true;
            THEN("it is approved") {
                CHECK_FALSE(decide(gate, sell, ctx));
            }
        }
        WHEN("a sell flips it to a short above max_order_notional") {
            auto sell = buy(60);
            sell.side = Side::sell;
            THEN("it is vetoed: the flip is new risk") {
                CHECK(decide(gate, sell, ctx) == VetoReason::max_order_notional);
            }
        }
        WHEN("a resting reduce-only sell already closes it") {
            RiskContext closing{spec, book, 30, 0, 30, 1};
            auto sell = buy(30);
            sell.side = Side::sell;
            sell.reduce_only = true;
            THEN("a second one would flip the position and is vetoed") {
                CHECK(decide(gate, sell, closing) == VetoReason::reduce_only_increases);
            }
            AND_WHEN("trading is halted") {
                gate.halt("test");
                THEN("the second one is refused as new risk") {
                    CHECK(decide(gate, sell, closing) == VetoReason::halted);
                }
            }
        }
        WHEN("a reduce-only order would increase it") {
            auto more = buy(5);
            more.reduce_only = true;
            THEN("it is vetoed") {
                CHECK(decide(gate, more, ctx) == VetoReason::reduce_only_increases);
            }
        }
    }

    GIVEN("the maximum number of open orders") {
        RiskContext ctx{spec, book, 0, 0, 0, 2};
        THEN("a new order is vetoed") {
            CHECK(decide(gate, buy(5), ctx) == VetoReason::max_open_orders);
        }
    }

    GIVEN("a halted gate") {
        gate.halt("manual halt");
        THEN("new risk is vetoed, with the halt's reason") {
            auto r = gate.check(buy(5), flat);
            auto *v = std::get_if<risk::Veto>(&r);
            REQUIRE(v);
            CHECK(v->reason == VetoReason::halted);
            CHECK(v->message == "trading is halted: manual halt");
        }
        THEN("a reduce-only exit still passes") {
            auto sell = buy(30);
            sell.side = Side::sell;
            sell.reduce_only = true;
            CHECK_FALSE(decide(gate, sell, RiskContext{spec, book, 30}));
        }
        THEN("a plain sell that flips the position is vetoed") {
            auto sell = buy(60);
            sell.side = Side::sell;
            sell.reduce_only = true;
            CHECK(decide(gate, sell, RiskContext{spec, book, 30}) == VetoReason::halted);
        }
        WHEN("trading resumes") {
            gate.resume();
            THEN("orders pass again") {
                CHECK_FALSE(decide(gate, buy(5), flat));
            }
        }
    }

    GIVEN("a whitelist without the instrument") {
        auto l = limits();
        l.whitelist = {"ETHUSDT"};
        RiskGate wl(l);
        THEN("the order is vetoed") {
            CHECK(decide(wl, buy(5), flat) == VetoReason::not_whitelisted);
        }
    }

    GIVEN("a book that is crossed") {
        market::Book crossed;
        std::vector<market::Level> bids{{600010, 1000}}, asks{{600000, 1000}};
        crossed.apply_snapshot(bids, asks);
        THEN("nothing trades on it") {
            CHECK(decide(gate, buy(5), RiskContext{spec, crossed}) == VetoReason::no_market);
        }
    }

    GIVEN("a config that starts halted") {
        auto l = limits();
        l.halted = true;
        RiskGate halted(l);
        THEN("the first order is vetoed") {
            CHECK(decide(halted, buy(5), flat) == VetoReason::halted);
        }
    }
}
