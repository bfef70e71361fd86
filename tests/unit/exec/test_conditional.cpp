#include <catch2/catch.hpp>

#include "keel/exec/conditional.hpp"

using namespace keel;
using exec::ConditionalBook;
using exec::ConditionalOrder;
using exec::OrderType;

namespace {

ConditionalOrder make(exec::OrderId id, Side side, OrderType type, Ticks price, Ticks trail = 0,
                      exec::OrderId oco = 0) {
    ConditionalOrder o;
    o.id = id;
    o.intent.side = side;
    o.intent.type = type;
    o.intent.price = price;
    o.intent.trail = trail;
    o.intent.qty = 1;
    o.oco = oco;
    return o;
}

// Feeds a touch of bid/ask and returns the ids that triggered.
std::vector<exec::OrderId> touch(ConditionalBook &b, Ticks bid, Ticks ask) {
    std::vector<ConditionalOrder> fired;
    b.on_price(0, exec::TriggerPrice::mid, bid + ask, bid + ask, fired);
    std::vector<exec::OrderId> ids;
    for (auto &o : fired) ids.push_back(o.id);
    return ids;
}

}  // namespace

TEST_CASE("a sell stop triggers when the mid falls to it, a take-profit when it rises",
          "[conditional]") {
    ConditionalBook b;
    b.add(make(1, Side::sell, OrderType::stop, 995));
    b.add(make(2, Side::sell, OrderType::take_profit, 1010));
    b.add(make(3, Side::buy, OrderType::stop, 1010));            // a breakout entry / short cover
    CHECK(touch(b, 999, 1001).empty());                          // mid 1000
    CHECK(touch(b, 995, 996).empty());                           // mid 995.5: above the stop
    CHECK(touch(b, 994, 996) == std::vector<exec::OrderId>{1});  // mid 995
    CHECK(touch(b, 1009, 1011) == (std::vector<exec::OrderId>{2, 3}));
    CHECK(b.size() == 0);
}

TEST_CASE("a trailing stop follows the best mid and only ever tightens", "[conditional]") {
    ConditionalBook b;
    b.add(make(1, Side::sell, OrderType::trailing_stop, 0, 10));
    CHECK(touch(b, 999, 1001).empty());   // mid 1000: trigger 990
    CHECK(touch(b, 1019, 1021).empty());  // mid 1020: trigger 1010
    CHECK(touch(b, 1011, 1013).empty());  // mid 1012: the trigger stays 1010
    CHECK(b.find(1)->trigger2 == 2020);
    CHECK(touch(b, 1009, 1011) == std::vector<exec::OrderId>{1});  // mid 1010
    ConditionalBook buy;
    buy.add(make(7, Side::buy, OrderType::trailing_stop, 0, 5));
    CHECK(touch(buy, 999, 1001).empty());  // trigger 1005
    CHECK(touch(buy, 979, 981).empty());   // trigger 985
    CHECK(touch(buy, 984, 986) == std::vector<exec::OrderId>{7});
}

TEST_CASE("orders are kept by id, per instrument, per strategy and per OCO group",
          "[conditional]") {
    ConditionalBook b;
    auto o = make(5, Side::sell, OrderType::stop, 900, 0, 4);
    o.intent.strategy = 2;
    b.add(o);
    b.add(make(6, Side::sell, OrderType::take_profit, 1100, 0, 4));
    auto other = make(8, Side::sell, OrderType::stop, 2000);
    other.intent.instrument = 1;
    b.add(other);
    CHECK(b.ids(2) == std::vector<exec::OrderId>{5});
    CHECK(b.ids_in_group(4) == (std::vector<exec::OrderId>{5, 6}));
    CHECK(b.ids_in_group(0).empty());
    CHECK(touch(b, 999, 1001).empty());  // instrument 1's stop at 2000 is not instrument 0's
    ConditionalOrder removed;
    CHECK(b.remove(6, &removed));
    CHECK(removed.intent.type == OrderType::take_profit);
    CHECK_FALSE(b.remove(6));
    CHECK(b.all_ids() == (std::vector<exec::OrderId>{5, 8}));
}

TEST_CASE("an order watches only its own trigger price: mid, last trade or mark", "[conditional]") {
    auto ids = [](ConditionalBook &b, exec::TriggerPrice source, Ticks floor2, Ticks ceil2) {
        std::vector<ConditionalOrder> fired;
        b.on_price(0, source, floor2, ceil2, fired);
        std::vector<exec::OrderId> out;
        for (auto &o : fired) out.push_back(o.id);
        return out;
    };
    ConditionalBook b;
    auto on_last = make(1, Side::sell, OrderType::stop, 995);
    on_last.intent.trigger = exec::TriggerPrice::last;
    auto on_mark = make(2, Side::sell, OrderType::stop, 995);
    on_mark.intent.trigger = exec::TriggerPrice::mark;
    b.add(on_last);
    b.add(on_mark);
    b.add(make(3, Side::sell, OrderType::stop, 995));            // mid
    CHECK(touch(b, 990, 992) == std::vector<exec::OrderId>{3});  // the mid's order alone
    CHECK(b.size() == 2);
    CHECK(ids(b, exec::TriggerPrice::mark, 2 * 996, 2 * 996).empty());
    CHECK(ids(b, exec::TriggerPrice::last, 2 * 995, 2 * 995) == std::vector<exec::OrderId>{1});
    // A mark of 995.2 ticks lies between half ticks (1990 < 1990.4 < 1991): not at or below 995.
    CHECK(ids(b, exec::TriggerPrice::mark, 1990, 1991).empty());
    CHECK(ids(b, exec::TriggerPrice::mark, 1989, 1990) == std::vector<exec::OrderId>{2});
    CHECK(b.size() == 0);
}

TEST_CASE("a mark between half ticks triggers a buy stop only once it is at or above the trigger",
          "[conditional]") {
    ConditionalBook b;
    auto o = make(1, Side::buy, OrderType::stop, 1000);
    o.intent.trigger = exec::TriggerPrice::mark;
    b.add(o);
    std::vector<ConditionalOrder> fired;
    b.on_price(0, exec::TriggerPrice::mark, 1999, 2000, fired);  // 999.9: below
    CHECK(fired.empty());
    b.on_price(0, exec::TriggerPrice::mark, 2000, 2001, fired);  // 1000.1: above
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].id == 1);
}
