// Specs for every check of the risk gate and every trading-state transition, with the exact
// reason codes (docs/risk.md). The random search for a way around the gate is
// tests/risk_property; a Lua strategy trying every door is in tests/integration.

#include <set>

#include <catch2/catch.hpp>

#include "keel/risk/risk_gate.hpp"

using namespace keel;
using config::RiskAction;
using exec::OrderIntent;
using exec::OrderType;
using risk::OpenOrders;
using risk::RiskContext;
using risk::RiskGate;
using risk::TradingState;
using risk::VetoReason;

namespace {

constexpr TimeNs kSec = 1'000'000'000;
constexpr TimeNs kDay = 86'400 * kSec;
constexpr TimeNs kT0 = 1'767'225'600 * kSec;  // 2026-01-01T00:00:00Z

InstrumentSpec make_spec(const char *id, double tick, double lot) {
    InstrumentSpec s;
    s.id = s.symbol = id;
    s.venue = "sim";
    s.tick_size = tick;
    s.lot_size = lot;
    return s;
}

// Five levels each side around `mid_ticks`, `lots` on each level.
market::Book book_around(Ticks bid, Lots lots) {
    std::vector<market::Level> bids, asks;
    for (int k = 0; k < 5; ++k) {
        bids.push_back({bid - k, lots});
        asks.push_back({bid + 1 + k, lots});
    }
    market::Book b;
    b.apply_snapshot(bids, asks);
    return b;
}

// Every limit off: each scenario switches on the one it specifies.
config::RiskLimits no_limits() {
    config::RiskLimits l;
    l.order = config::OrderLimits{};
    l.max_open_positions = l.max_open_orders = l.max_orders_per_day = l.max_orders_per_second = 0;
    l.daily_loss_pct = l.max_drawdown_pct = config::OrderLimits::kOff;
    l.drawdown_levels.clear();
    return l;
}

// BTCUSDT (linear, 10x, 60,000.0 / 60,000.1) and ETHUSDT (spot, 3,000.00 / 3,000.01), one
// strategy "s", 10,000 USDT.
struct Desk {
    std::vector<InstrumentSpec> specs{make_spec("BTCUSDT", 0.1, 0.001),
                                      make_spec("ETHUSDT", 0.01, 0.001)};
    std::vector<market::Book> books{book_around(600000, 1000), book_around(300000, 10000)};
    exec::Portfolio pf;
    RiskGate gate;
    OpenOrders open;
    TimeNs now = kT0 + 10 * kSec;
    bool book_usable = true;
    bool position_known = true;
    std::vector<risk::RiskEvent> events;

    explicit Desk(config::RiskLimits limits)
        : pf(specs, account()), gate(std::move(limits), specs, {"s"}) {
        pf.mark(0, 600000, 600001);
        pf.mark(1, 300000, 300001);
        watch();
    }
    static exec::AccountSettings account() {
        exec::AccountSettings a;
        a.kinds = {exec::InstrumentKind::linear, exec::InstrumentKind::spot};
        a.leverage = {10, 1};
        return a;
    }
    void watch() { gate.on_account(pf, now, events); }
    std::variant<risk::ApprovedOrder, risk::Veto> check(const OrderIntent &i) {
        return gate.check(i, RiskContext{specs[i.instrument], books[i.instrument], pf, open, now,
                                         book_usable, position_known});
    }
    std::optional<VetoReason> decide(const OrderIntent &i) {
        auto r = check(i);
        if (auto *v = std::get_if<risk::Veto>(&r)) return v->reason;
        return std::nullopt;
    }
    std::string message(const OrderIntent &i) {
        auto r = check(i);
        auto *v = std::get_if<risk::Veto>(&r);
        return v ? std::string(risk::code(v->reason)) + ": " + v->message : "approved";
    }
    // Fills at the touch and re-marks, as the engine does.
    void fill(InstrumentIndex i, Side side, Lots lots, Ticks price) {
        pf.on_fill(i, side, lots, price, Money{});
        watch();
    }
    void mark(InstrumentIndex i, Ticks bid) {
        books[i] = book_around(bid, 1000);
        pf.mark(i, bid, bid + 1);
        watch();
    }
};

OrderIntent order(Side side, Lots lots, InstrumentIndex inst = 0) {
    OrderIntent i;
    i.strategy = 0;
    i.instrument = inst;
    i.side = side;
    i.qty = lots;
    return i;
}
OrderIntent limit(Side side, Lots lots, Ticks price, InstrumentIndex inst = 0) {
    OrderIntent i = order(side, lots, inst);
    i.type = OrderType::limit;
    i.price = price;
    return i;
}
OrderIntent host(OrderIntent i) {
    i.strategy = exec::kNoStrategy;
    return i;
}
OrderIntent reduce_only(OrderIntent i) {
    i.reduce_only = true;
    return i;
}

}  // namespace

SCENARIO("every reason code has a stable name", "[risk]") {
    std::set<std::string> names;
    for (int k = 0; k < risk::kVetoReasonCount; ++k) {
        std::string name = risk::code(static_cast<VetoReason>(k));
        CHECK(name != "UNKNOWN");
        names.insert(name);
    }
    CHECK(names.size() == static_cast<size_t>(risk::kVetoReasonCount));
    CHECK(std::string(risk::code(VetoReason::max_order_notional)) == "MAX_ORDER_NOTIONAL");
    CHECK(std::string(risk::code(VetoReason::reduce_only_increases)) == "REDUCE_ONLY_INCREASES");
}

SCENARIO("malformed orders are refused before anything else", "[risk]") {
    GIVEN("a gate with no limits") {
        Desk d(no_limits());
        THEN("quantities and prices must be positive, stops not negative") {
            CHECK(d.decide(order(Side::buy, 0)) == VetoReason::invalid_quantity);
            CHECK(d.decide(order(Side::buy, -5)) == VetoReason::invalid_quantity);
            CHECK(d.decide(limit(Side::buy, 5, 0)) == VetoReason::invalid_price);
            auto bad_stop = order(Side::buy, 5);
            bad_stop.stop_price = -1;  // the binding's mark for a stop off the tick grid
            CHECK(d.decide(bad_stop) == VetoReason::invalid_price);
            CHECK_FALSE(d.decide(order(Side::buy, 5)));
        }
        WHEN("the venue has minimums") {
            d.specs[0].min_qty_lots = 10;
            d.specs[0].min_notional = 100;
            THEN("INVALID_QUANTITY below the minimum size, BELOW_MIN_NOTIONAL below the value") {
                CHECK(d.decide(order(Side::buy, 5)) == VetoReason::invalid_quantity);
                d.specs[0].min_qty_lots = 1;
                CHECK(d.message(order(Side::buy, 1)) ==
                      "BELOW_MIN_NOTIONAL: order notional 60.00 is below the venue minimum "
                      "100.00");
            }
        }
        WHEN("the venue limits limit prices (Binance PRICE_FILTER and PERCENT_PRICE)") {
            d.specs[0].min_price = 4020;     // 402.0
            d.specs[0].max_price = 1000000;  // 100,000.0
            d.specs[0].price_multiplier_up = 1.1;
            d.specs[0].price_multiplier_down = 0.9;
            THEN("VENUE_PRICE_LIMIT outside them, against the mid 60,000.05; market orders pass") {
                CHECK(d.decide(limit(Side::buy, 5, 660100)) == VetoReason::venue_price_limit);
                CHECK_FALSE(d.decide(limit(Side::buy, 5, 660000)));
                CHECK(d.decide(limit(Side::sell, 5, 539990)) == VetoReason::venue_price_limit);
                CHECK_FALSE(d.decide(limit(Side::sell, 5, 540010)));
                d.specs[0].price_multiplier_up = d.specs[0].price_multiplier_down = 0;
                CHECK(d.message(limit(Side::buy, 5, 1000001)) ==
                      "VENUE_PRICE_LIMIT: price 100000.1 is above the venue's maximum 100000.0");
                CHECK(d.message(limit(Side::buy, 5, 4019)) ==
                      "VENUE_PRICE_LIMIT: price 401.9 is below the venue's minimum 402.0");
                CHECK_FALSE(d.decide(order(Side::buy, 5)));
            }
        }
        WHEN("the book is crossed or empty") {
            d.books[0] = market::Book{};
            THEN("NO_MARKET") {
                CHECK(d.decide(order(Side::buy, 5)) == VetoReason::no_market);
            }
        }
        WHEN("a live venue has not yet reported the position") {
            d.position_known = false;
            THEN("POSITION_UNKNOWN, for reductions and the host's orders too") {
                CHECK(d.message(order(Side::buy, 5)) ==
                      "POSITION_UNKNOWN: the venue has not yet reported its position in BTCUSDT");
                auto host = order(Side::sell, 5);
                host.strategy = exec::kNoStrategy;
                host.reduce_only = true;
                CHECK(d.decide(host) == VetoReason::position_unknown);
                d.position_known = true;
                CHECK_FALSE(d.decide(order(Side::buy, 5)));
            }
        }
        WHEN("the book's stream is stale or resyncing, its last levels intact") {
            d.book_usable = false;
            THEN("NO_MARKET, for reductions too") {
                CHECK(d.message(order(Side::buy, 5)) ==
                      "NO_MARKET: the book for BTCUSDT is stale or resyncing");
                d.fill(0, Side::buy, 5, 600001);
                CHECK(d.decide(order(Side::sell, 5)) == VetoReason::no_market);
            }
        }
    }
}

SCENARIO("order size limits", "[risk]") {
    auto l = no_limits();
    l.order.max_order_notional = 1000;
    l.order.max_order_qty = 0.02;
    Desk d(l);
    WHEN("a market buy is worth more than max_order_notional at the price it would pay") {
        THEN("MAX_ORDER_NOTIONAL with the numbers") {
            CHECK(d.message(order(Side::buy, 17)) ==
                  "MAX_ORDER_NOTIONAL: order notional 1020.00 exceeds max_order_notional 1000.00");
        }
    }
    WHEN("a limit is measured at its own price") {
        THEN("a far-away limit counts at that price") {
            CHECK(d.decide(limit(Side::buy, 10, 1'100'000)) == VetoReason::max_order_notional);
        }
    }
    WHEN("the quantity is above max_order_qty") {
        THEN("MAX_ORDER_QTY") {
            CHECK(d.decide(order(Side::buy, 21)) == VetoReason::max_order_qty);
        }
    }
    WHEN("an exit is larger than the order limits") {
        d.fill(0, Side::buy, 30, 600001);  // assume it was allowed earlier
        THEN("it passes: exits are never trapped by size limits") {
            CHECK_FALSE(d.decide(order(Side::sell, 30)));
        }
    }
}

SCENARIO("position and exposure limits", "[risk]") {
    auto l = no_limits();
    l.order.max_position_notional = 2500;
    Desk d(l);
    GIVEN("a long of 0.03 BTC (1,800 USDT)") {
        d.fill(0, Side::buy, 30, 600001);
        THEN("adding past max_position_notional is vetoed") {
            CHECK(d.decide(order(Side::buy, 15)) == VetoReason::max_position_notional);
            CHECK_FALSE(d.decide(order(Side::buy, 10)));
        }
        THEN("resting buys count: several small adds cannot sum past the limit") {
            d.open.buy_qty = 10;
            d.open.total = 1;
            CHECK(d.decide(order(Side::buy, 5)) == VetoReason::max_position_notional);
        }
        THEN("a sell that flips to a short beyond the limit is new risk and vetoed") {
            CHECK(d.decide(order(Side::sell, 80)) == VetoReason::max_position_notional);
        }
    }
    GIVEN("max_position_pct 10 % of equity") {
        auto l2 = no_limits();
        l2.order.max_position_pct = 10;
        Desk d2(l2);
        THEN("a position above 1,000 USDT is MAX_POSITION_PCT") {
            CHECK(d2.decide(order(Side::buy, 17)) == VetoReason::max_position_pct);
            CHECK_FALSE(d2.decide(order(Side::buy, 16)));
        }
    }
    GIVEN("max_instrument_exposure_pct 25 % with resting orders on both sides") {
        auto l3 = no_limits();
        l3.order.max_instrument_exposure_pct = 25;
        Desk d3(l3);
        d3.open.buy_qty = 20;
        d3.open.sell_qty = 20;
        d3.open.total = 2;
        THEN("the position plus every resting order counts") {
            CHECK(d3.decide(order(Side::buy, 2)) == VetoReason::max_instrument_exposure);
            CHECK_FALSE(d3.decide(order(Side::buy, 1)));
        }
    }
}

SCENARIO("leverage and margin", "[risk]") {
    GIVEN("a 2x account leverage cap, 5x on the 15m timeframe and 1x on 1m") {
        auto l = no_limits();
        l.order.max_leverage = 2;
        l.order.max_leverage_by_timeframe[15 * 60 * kSec] = 5;
        l.order.max_leverage_by_timeframe[60 * kSec] = 1;
        Desk d(l);
        THEN("exposure above 2x equity is MAX_LEVERAGE") {
            CHECK_FALSE(d.decide(order(Side::buy, 333)));  // 19,980
            CHECK(d.message(order(Side::buy, 340)) ==
                  "MAX_LEVERAGE: account exposure would reach 20400.03, 2.04x equity 10000.00, "
                  "above the leverage cap 2.00x");
        }
        THEN("the cap of the order's timeframe applies, never above the account cap") {
            auto o = order(Side::buy, 340);
            o.timeframe = 15 * 60 * kSec;
            CHECK(d.decide(o) == VetoReason::max_leverage);  // min(2, 5)
            o.qty = 200;                                     // 12,000
            CHECK_FALSE(d.decide(o));
            o.timeframe = 60 * kSec;
            CHECK(d.decide(o) == VetoReason::max_leverage);  // 1x
        }
        THEN("exposure on every instrument counts") {
            d.fill(1, Side::buy, 2000, 300000);                                  // 6,000 of ETH
            CHECK(d.decide(order(Side::buy, 240)) == VetoReason::max_leverage);  // + 14,400
            CHECK_FALSE(d.decide(order(Side::buy, 230)));                        // + 13,800
        }
    }
    GIVEN("a linear instrument at 10x") {
        Desk d(no_limits());
        THEN("initial margin beyond equity is INSUFFICIENT_MARGIN") {
            CHECK_FALSE(d.decide(order(Side::buy, 1600)));  // 96,000 / 10 = 9,600
            CHECK(d.decide(order(Side::buy, 1700)) == VetoReason::insufficient_margin);
        }
    }
    GIVEN("a spot instrument") {
        Desk d(no_limits());
        THEN("a sell beyond the holding would go short: INSUFFICIENT_BALANCE") {
            CHECK(d.decide(order(Side::sell, 1, 1)) == VetoReason::insufficient_balance);
        }
        THEN("a buy beyond free cash, resting buys included: INSUFFICIENT_BALANCE") {
            CHECK_FALSE(d.decide(order(Side::buy, 3000, 1)));  // 9,000
            d.open.buy_notional = Money::from_double(1500);
            CHECK(d.decide(order(Side::buy, 3000, 1)) == VetoReason::insufficient_balance);
        }
    }
}

SCENARIO("risk per trade from the stop distance", "[risk]") {
    auto l = no_limits();
    l.order.risk_per_trade_pct = 2;  // 200 USDT of 10,000
    Desk d(l);
    WHEN("a buy of 0.4 BTC carries a stop 500 below the price it pays") {
        auto o = order(Side::buy, 400);
        o.stop_price = 595001;  // 60,000.1 - 500.0
        THEN("it risks exactly 200: allowed (seed 001's example)") {
            CHECK_FALSE(d.decide(o));
        }
        o.qty = 401;
        THEN("one lot more risks more than 2 %: RISK_PER_TRADE") {
            CHECK(d.decide(o) == VetoReason::risk_per_trade);
        }
    }
    WHEN("the stop is on the wrong side") {
        auto o = order(Side::sell, 10);
        o.stop_price = 590000;
        THEN("INVALID_PRICE") {
            CHECK(d.decide(o) == VetoReason::invalid_price);
        }
    }
    WHEN("require_stop is set") {
        auto l2 = l;
        l2.order.require_stop = true;
        Desk d2(l2);
        THEN("new risk without a stop is NO_STOP, an exit needs none") {
            CHECK(d2.decide(order(Side::buy, 10)) == VetoReason::no_stop);
            d2.fill(0, Side::buy, 10, 600001);
            CHECK_FALSE(d2.decide(order(Side::sell, 10)));
        }
    }
}

SCENARIO("the fat-finger band around the mid", "[risk]") {
    auto l = no_limits();
    l.order.price_band_pct = 1;
    Desk d(l);
    THEN("a limit more than 1 % from the mid is PRICE_BAND, on either side") {
        CHECK(d.decide(limit(Side::buy, 1, 606500)) == VetoReason::price_band);
        CHECK(d.decide(limit(Side::sell, 1, 593500)) == VetoReason::price_band);
        CHECK_FALSE(d.decide(limit(Side::buy, 1, 605000)));
    }
    THEN("a market order that would sweep the book past the band is PRICE_BAND") {
        d.books[0] = market::Book{};
        std::vector<market::Level> bids{{600000, 1000}}, asks{{600001, 1}, {700000, 1000}};
        d.books[0].apply_snapshot(bids, asks);
        CHECK_FALSE(d.decide(order(Side::buy, 1)));
        CHECK(d.decide(order(Side::buy, 2)) == VetoReason::price_band);
    }
    THEN("the kill switch's own orders are not held by the band") {
        d.fill(0, Side::buy, 10, 600001);
        d.books[0] = market::Book{};
        std::vector<market::Level> bids{{600000, 1}, {500000, 1000}}, asks{{600001, 1000}};
        d.books[0].apply_snapshot(bids, asks);
        CHECK(d.decide(order(Side::sell, 10)) == VetoReason::price_band);
        CHECK_FALSE(d.decide(host(reduce_only(order(Side::sell, 10)))));
    }
}

SCENARIO("counts: open positions, open orders, orders per day and per second", "[risk]") {
    GIVEN("max_open_positions 1") {
        auto l = no_limits();
        l.max_open_positions = 1;
        Desk d(l);
        d.fill(0, Side::buy, 10, 600001);
        THEN("a second instrument is MAX_OPEN_POSITIONS; adding to the open one is not") {
            CHECK(d.decide(order(Side::buy, 10, 1)) == VetoReason::max_open_positions);
            CHECK_FALSE(d.decide(order(Side::buy, 10, 0)));
        }
    }
    GIVEN("max_open_orders 2 with 2 resting") {
        auto l = no_limits();
        l.max_open_orders = 2;
        Desk d(l);
        d.fill(0, Side::buy, 10, 600001);
        d.open.total = 2;
        THEN("new risk is MAX_OPEN_ORDERS, an exit is not") {
            CHECK(d.decide(order(Side::buy, 1)) == VetoReason::max_open_orders);
            CHECK_FALSE(d.decide(order(Side::sell, 10)));
        }
    }
    GIVEN("max_orders_per_day 2") {
        auto l = no_limits();
        l.max_orders_per_day = 2;
        Desk d(l);
        WHEN("two entries were approved today") {
            CHECK_FALSE(d.decide(order(Side::buy, 1)));
            d.now += 10 * kSec;
            CHECK_FALSE(d.decide(order(Side::buy, 1)));
            d.now += 10 * kSec;
            THEN("the third is MAX_ORDERS_PER_DAY; vetoed orders did not count") {
                CHECK(d.gate.orders_today() == 2);
                CHECK(d.decide(order(Side::buy, 1)) == VetoReason::max_orders_per_day);
            }
            THEN("the count starts again with the next trading day") {
                d.now = kT0 + kDay + kSec;
                d.watch();
                CHECK(d.gate.orders_today() == 0);
                CHECK_FALSE(d.decide(order(Side::buy, 1)));
            }
        }
    }
    GIVEN("max_orders_per_second 3") {
        auto l = no_limits();
        l.max_orders_per_second = 3;
        Desk d(l);
        WHEN("a burst of orders arrives within one second") {
            for (int k = 0; k < 3; ++k) {
                CHECK_FALSE(d.decide(order(Side::buy, 1)));
                d.now += 100'000'000;
            }
            THEN("the fourth is MAX_ORDERS_PER_SECOND, the host's kill switch is not") {
                CHECK(d.decide(order(Side::buy, 1)) == VetoReason::max_orders_per_second);
                d.fill(0, Side::buy, 1, 600001);
                CHECK_FALSE(d.decide(host(reduce_only(order(Side::sell, 1)))));
            }
            THEN("a second after the first, one more is allowed") {
                d.now += 750'000'000;
                CHECK_FALSE(d.decide(order(Side::buy, 1)));
                CHECK(d.decide(order(Side::buy, 1)) == VetoReason::max_orders_per_second);
            }
        }
    }
}

SCENARIO("no duplicate entries and the whitelist", "[risk]") {
    auto l = no_limits();
    l.order.no_duplicate_entry = true;
    l.whitelist = {"BTCUSDT"};
    Desk d(l);
    THEN("an instrument outside the whitelist is NOT_WHITELISTED") {
        CHECK(d.decide(order(Side::buy, 10, 1)) == VetoReason::not_whitelisted);
    }
    WHEN("a long is open") {
        d.fill(0, Side::buy, 10, 600001);
        THEN("another buy is DUPLICATE_ENTRY; an exit or a short entry is not a duplicate") {
            CHECK(d.decide(order(Side::buy, 10)) == VetoReason::duplicate_entry);
            CHECK_FALSE(d.decide(order(Side::sell, 10)));
        }
    }
    WHEN("the strategy already has a resting entry on that side") {
        d.open.entry_sell = true;
        THEN("DUPLICATE_ENTRY") {
            CHECK(d.decide(order(Side::sell, 10)) == VetoReason::duplicate_entry);
        }
    }
}

SCENARIO("reduce-only orders and the committed position", "[risk]") {
    Desk d(no_limits());
    d.fill(0, Side::buy, 30, 600001);
    THEN("a reduce-only that would flip the position is REDUCE_ONLY_INCREASES") {
        CHECK(d.decide(reduce_only(order(Side::sell, 40))) == VetoReason::reduce_only_increases);
        CHECK(d.decide(reduce_only(order(Side::buy, 1))) == VetoReason::reduce_only_increases);
        CHECK_FALSE(d.decide(reduce_only(order(Side::sell, 30))));
    }
    THEN("resting reduce-only sells already close it: one more would open a short") {
        d.open.sell_qty = 30;
        CHECK(d.decide(reduce_only(order(Side::sell, 1))) == VetoReason::reduce_only_increases);
    }
}

SCENARIO("trading states: ACTIVE, REDUCING, HALTED", "[risk]") {
    Desk d(no_limits());
    d.fill(0, Side::buy, 30, 600001);
    WHEN("the operator sets REDUCING") {
        d.gate.reduce("end of session");
        THEN("new risk is REDUCING, reductions pass (flagged or not)") {
            CHECK(d.gate.state() == TradingState::reducing);
            CHECK(d.decide(order(Side::buy, 1)) == VetoReason::reducing);
            CHECK(d.decide(order(Side::sell, 40)) == VetoReason::reducing);  // a flip
            CHECK_FALSE(d.decide(order(Side::sell, 10)));
        }
    }
    WHEN("the operator halts") {
        d.gate.halt("going to lunch");
        THEN("every strategy order is HALTED, exits included; the host may still reduce") {
            CHECK(d.message(order(Side::buy, 1)) == "HALTED: trading is halted: going to lunch");
            CHECK(d.decide(reduce_only(order(Side::sell, 30))) == VetoReason::halted);
            CHECK(d.decide(host(order(Side::buy, 1))) == VetoReason::halted);
            CHECK_FALSE(d.decide(host(reduce_only(order(Side::sell, 30)))));
        }
        THEN("a reduce request does not loosen the halt") {
            d.gate.reduce("x");
            CHECK(d.gate.state() == TradingState::halted);
        }
        THEN("resume makes it ACTIVE again") {
            d.gate.resume(d.pf);
            CHECK(d.gate.state() == TradingState::active);
            CHECK_FALSE(d.decide(order(Side::buy, 1)));
        }
    }
    WHEN("the config says to start halted") {
        auto l = no_limits();
        l.halted = true;
        Desk h(l);
        THEN("the gate starts HALTED") {
            CHECK(h.gate.state() == TradingState::halted);
        }
    }
}

SCENARIO("the daily loss limit halts until the next trading day", "[risk]") {
    auto l = no_limits();
    l.daily_loss_pct = 3;
    l.daily_loss = 500;
    l.on_daily_loss = RiskAction::halt;
    Desk d(l);
    d.fill(0, Side::buy, 1000, 600001);  // 1 BTC
    WHEN("the loss reaches 3 % of the day's starting equity") {
        d.mark(0, 597002);  // -299.85: not yet
        CHECK(d.gate.state() == TradingState::active);
        d.mark(0, 596999);  // -300.15 >= 300
        THEN("trading halts with an event, and new risk is DAILY_LOSS_LIMIT after resume") {
            CHECK(d.gate.state() == TradingState::halted);
            REQUIRE_FALSE(d.events.empty());
            CHECK(d.events.back().title == "daily loss limit reached");
            CHECK(d.events.back().action == RiskAction::halt);
        }
        THEN("the next trading day lifts the stop by itself") {
            d.now = kT0 + kDay;
            d.watch();
            CHECK(d.gate.state() == TradingState::active);
            CHECK(d.pf.day_start_equity() == d.pf.equity());
            CHECK_FALSE(d.decide(order(Side::buy, 1)));
        }
    }
    WHEN("the action is the default, reduce") {
        auto l2 = l;
        l2.on_daily_loss = config::RiskLimits{}.on_daily_loss;
        Desk r(l2);
        r.fill(0, Side::buy, 1000, 600001);
        r.mark(0, 590000);
        THEN("exits still pass, new risk is REDUCING") {
            CHECK(r.gate.state() == TradingState::reducing);
            CHECK(r.decide(order(Side::buy, 1)) == VetoReason::reducing);
            CHECK_FALSE(r.decide(order(Side::sell, 1000)));
        }
    }
    WHEN("the absolute limit is reached first, before the action applies") {
        auto l3 = no_limits();
        l3.daily_loss = 100;
        l3.on_daily_loss = RiskAction::alert;
        Desk a(l3);
        a.fill(0, Side::buy, 1000, 600001);
        a.mark(0, 598999);  // -100.15
        THEN("an alert only, and new risk is DAILY_LOSS_LIMIT with the numbers") {
            CHECK(a.gate.state() == TradingState::active);
            CHECK(a.message(order(Side::buy, 1)) ==
                  "DAILY_LOSS_LIMIT: today's loss 100.15 (1.00 % of 10000.00) reached the daily "
                  "loss limit");
            CHECK_FALSE(a.decide(order(Side::sell, 1)));
        }
    }
}

SCENARIO("the maximum drawdown halts until a manual resume", "[risk]") {
    auto l = no_limits();
    l.max_drawdown = 1000;
    l.on_max_drawdown = RiskAction::halt;
    Desk d(l);
    d.fill(0, Side::buy, 1000, 600001);
    d.mark(0, 610000);  // peak 10,999.90
    d.mark(0, 599999);  // drawdown 1,000.10
    THEN("HALTED with an event; the next day does not lift it") {
        CHECK(d.gate.state() == TradingState::halted);
        d.now = kT0 + kDay;
        d.watch();
        CHECK(d.gate.state() == TradingState::halted);
    }
    THEN("a manual resume starts the drawdown anew from the current equity") {
        d.gate.resume(d.pf);
        CHECK(d.gate.state() == TradingState::active);
        CHECK(d.pf.peak_equity() == d.pf.equity());
        d.watch();
        CHECK(d.gate.state() == TradingState::active);
    }
}

SCENARIO("drawdown levels size new risk down and then stop it", "[risk]") {
    auto l = no_limits();  // seed 000's levels
    l.drawdown_levels = config::RiskLimits{}.drawdown_levels;
    Desk d(l);
    d.fill(0, Side::buy, 1000, 600001);
    auto level_at = [&](Ticks bid) {
        d.mark(0, bid);
        return std::string(d.gate.drawdown().name());
    };
    THEN("NORMAL, YELLOW at 5 %, ORANGE at 10 % with half size, RED at 15 % with none") {
        CHECK(level_at(599000) == "NORMAL");
        CHECK(level_at(594999) == "YELLOW");  // -500.1
        CHECK(d.gate.size_factor() == 1.0);
        CHECK(level_at(589999) == "ORANGE");
        CHECK(d.gate.size_factor() == 0.5);
        auto r = d.check(order(Side::buy, 11, 0));
        REQUIRE(std::holds_alternative<risk::ApprovedOrder>(r));
        CHECK(std::get<risk::ApprovedOrder>(r).intent().qty == 5);  // floor(11 x 0.5)
        CHECK(std::get<risk::ApprovedOrder>(r).requested_qty() == 11);
        CHECK(d.decide(order(Side::buy, 1)) == VetoReason::size_too_small);
        CHECK_FALSE(d.decide(order(Side::sell, 1)));  // exits are not scaled or refused
        CHECK(level_at(584999) == "RED");
        CHECK(d.decide(order(Side::buy, 10)) == VetoReason::drawdown_level);
        CHECK(d.gate.state() == TradingState::active);
    }
    THEN("hysteresis: a level is left only 1 point below its threshold") {
        CHECK(level_at(589999) == "ORANGE");  // 10.0 %
        CHECK(level_at(590500) == "ORANGE");  // 9.5 %
        CHECK(level_at(591001) == "YELLOW");  // 8.99 %
        CHECK(level_at(600000) == "NORMAL");
    }
    THEN("CRITICAL at 20 % asks for the kill switch and puts the gate in REDUCING") {
        d.events.clear();
        CHECK(level_at(579999) == "CRITICAL");
        REQUIRE_FALSE(d.events.empty());
        CHECK(d.events.back().action == RiskAction::flatten);
        CHECK(d.events.back().critical);
        CHECK(d.gate.state() == TradingState::reducing);
    }
}

SCENARIO("the capital stage scales every new-risk order", "[risk]") {
    auto l = no_limits();
    l.capital_stage = config::CapitalStage::micro;
    Desk d(l);
    auto r = d.check(order(Side::buy, 100));
    REQUIRE(std::holds_alternative<risk::ApprovedOrder>(r));
    CHECK(std::get<risk::ApprovedOrder>(r).intent().qty == 10);
    CHECK(d.decide(order(Side::buy, 9)) == VetoReason::size_too_small);
    auto l2 = no_limits();
    l2.capital_stage = config::CapitalStage::small;
    Desk s(l2);
    auto r2 = s.check(order(Side::buy, 100));
    CHECK(std::get<risk::ApprovedOrder>(r2).intent().qty == 50);
}

SCENARIO("per-instrument and per-strategy limits only tighten", "[risk]") {
    auto l = no_limits();
    l.order.max_order_notional = 1000;
    config::OrderLimits btc;
    btc.max_order_notional = 500;
    l.instruments["BTCUSDT"] = btc;
    config::OrderLimits strat;
    strat.max_order_notional = 5000;  // looser than global: no effect
    strat.require_stop = true;
    l.strategies["s"] = strat;
    Desk d(l);
    THEN("the strategy's order meets the tightest notional and its own require_stop") {
        auto o = order(Side::buy, 9, 0);  // 540
        o.stop_price = 590000;
        CHECK(d.decide(o) == VetoReason::max_order_notional);
        o.qty = 8;
        CHECK_FALSE(d.decide(o));
        o.stop_price = 0;
        CHECK(d.decide(o) == VetoReason::no_stop);
    }
    THEN("the host row has the global and instrument limits but not the strategy's") {
        CHECK(d.decide(host(order(Side::buy, 8, 0))) == std::nullopt);
    }
}

SCENARIO("by default the maximum drawdown flattens rather than leave positions halted", "[risk]") {
    auto l = no_limits();
    l.max_drawdown_pct = 5;  // on_max_drawdown left at its default
    Desk d(l);
    d.fill(0, Side::buy, 1000, 600001);
    d.events.clear();
    d.mark(0, 569999);  // -3,000.15 on 10,000
    REQUIRE_FALSE(d.events.empty());
    CHECK(d.events.back().title == "maximum drawdown reached");
    CHECK(d.events.back().action == RiskAction::flatten);  // the engine pulls the kill switch
    CHECK(d.gate.state() == TradingState::reducing);       // exits pass while it flattens
    CHECK_FALSE(d.decide(order(Side::sell, 1000)));
}

SCENARIO("absurd orders are refused, never wrapped into small ones", "[risk]") {
    // Found by the property test: 3.07M BTC at 60,000 is worth 1.8e11, beyond int64 in 1e-8
    // units; wrapped, it looked like -853,293 and passed every limit.
    Desk d(config::RiskLimits{});
    CHECK(d.decide(limit(Side::buy, 3'074'438'000, 600001)) == VetoReason::invalid_quantity);
    CHECK(d.decide(order(Side::buy, INT64_MAX)) == VetoReason::invalid_quantity);
    CHECK(d.decide(limit(Side::buy, 1, INT64_MAX)) == VetoReason::invalid_quantity);
    CHECK(NotionalScale(0.1, 0.001).notional(600001, 3'074'438'000'000) == Money::max());
}

SCENARIO("an order of exactly max_order_qty passes", "[risk]") {
    auto l = no_limits();
    l.order.max_order_qty = 0.479;  // 479 * 0.001 is 0.47900000000000004 in doubles
    Desk d(l);
    CHECK_FALSE(d.decide(order(Side::buy, 479)));
    CHECK(d.decide(order(Side::buy, 480)) == VetoReason::max_order_qty);
}

SCENARIO("while a loss limit stands, new risk is vetoed with its own code", "[risk]") {
    GIVEN("limits whose action is only an alert") {
        auto l = no_limits();
        l.max_drawdown_pct = 5;
        l.on_max_drawdown = RiskAction::alert;
        Desk d(l);
        d.fill(0, Side::buy, 1000, 600001);
        d.mark(0, 569999);  // 30 % below the 10,000 peak: past the 5 % limit
        THEN("the state stays ACTIVE, new risk is MAX_DRAWDOWN, exits pass") {
            CHECK(d.gate.state() == TradingState::active);
            CHECK(d.decide(order(Side::buy, 1)) == VetoReason::max_drawdown);
            CHECK_FALSE(d.decide(order(Side::sell, 1000)));
        }
        auto l2 = no_limits();
        l2.daily_loss_pct = 2;
        l2.on_daily_loss = RiskAction::alert;
        Desk d2(l2);
        d2.fill(0, Side::buy, 1000, 600001);
        d2.mark(0, 579999);
        THEN("new risk is DAILY_LOSS_LIMIT") {
            CHECK(d2.decide(order(Side::buy, 1)) == VetoReason::daily_loss_limit);
        }
    }
    GIVEN("a venue minimum order value") {
        Desk d(no_limits());
        d.specs[0].min_notional = 100;
        THEN("BELOW_MIN_NOTIONAL") {
            CHECK(d.decide(order(Side::buy, 1)) == VetoReason::below_min_notional);
        }
    }
}

SCENARIO("messages print prices and quantities as exact decimals", "[risk]") {
    auto l = no_limits();
    l.order.max_order_qty = 0.479;
    Desk d(l);
    CHECK(d.message(order(Side::buy, 480)) ==
          "MAX_ORDER_QTY: order quantity 0.480 exceeds max_order_qty 0.479");
    CHECK(InstrumentSpec::decimal_text(599967, 0.1) == "59996.7");
    CHECK(InstrumentSpec::decimal_text(1200001, 0.05) == "60000.05");
    CHECK(InstrumentSpec::decimal_text(-3, 0.00000001) == "-0.00000003");
}
