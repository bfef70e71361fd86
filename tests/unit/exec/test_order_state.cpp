// Every transition of the order lifecycle, legal and illegal, against a table written out here.

#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "keel/exec/order_state.hpp"

using namespace keel;
using exec::OrderStatus;

namespace {

constexpr OrderStatus kAll[] = {OrderStatus::pending_new,      OrderStatus::accepted,
                                OrderStatus::partially_filled, OrderStatus::filled,
                                OrderStatus::cancelled,        OrderStatus::rejected,
                                OrderStatus::triggered,        OrderStatus::expired,
                                OrderStatus::pending_cancel,   OrderStatus::amended};

// "from>to" for every legal move; "new" is an order not seen yet.
const std::set<std::string> kLegal = {
    "new>pending_new",
    "new>accepted",
    "new>rejected",
    "new>expired",
    "pending_new>accepted",
    "pending_new>rejected",
    "pending_new>partially_filled",
    "pending_new>filled",
    "pending_new>cancelled",
    "pending_new>expired",
    "accepted>partially_filled",
    "accepted>filled",
    "accepted>pending_cancel",
    "accepted>cancelled",
    "accepted>expired",
    "accepted>triggered",
    "triggered>accepted",
    "triggered>rejected",
    "triggered>partially_filled",
    "triggered>filled",
    "triggered>cancelled",
    "triggered>expired",
    "partially_filled>partially_filled",
    "partially_filled>filled",
    "partially_filled>pending_cancel",
    "partially_filled>cancelled",
    "partially_filled>expired",
    "pending_cancel>cancelled",
    "pending_cancel>partially_filled",
    "pending_cancel>filled",
    "pending_cancel>expired",
    "pending_cancel>accepted",
    "pending_cancel>amended",
    "accepted>amended",
    "partially_filled>amended",
    "amended>partially_filled",
    "amended>filled",
    "amended>pending_cancel",
    "amended>cancelled",
    "amended>expired",
    "amended>amended",
};

}  // namespace

TEST_CASE("every legal transition is allowed and every other one refused", "[orders][state]") {
    size_t legal = 0, illegal = 0;
    for (int f = -1; f < static_cast<int>(std::size(kAll)); ++f) {
        std::optional<OrderStatus> from;
        if (f >= 0) from = kAll[f];
        for (auto to : kAll) {
            std::string name =
                std::string(from ? exec::to_string(*from) : "new") + ">" + exec::to_string(to);
            INFO(name);
            bool expected = kLegal.count(name) == 1;
            CHECK(exec::legal_transition(from, to) == expected);
            (expected ? legal : illegal)++;
        }
    }
    CHECK(legal == kLegal.size());
    CHECK(illegal == 11 * 10 - kLegal.size());
}

TEST_CASE("the tracker follows an order to its end and refuses what cannot happen",
          "[orders][state]") {
    exec::OrderTracker t;
    CHECK(t.apply(1, OrderStatus::accepted));
    CHECK(t.apply(1, OrderStatus::partially_filled));
    CHECK_FALSE(t.apply(1, OrderStatus::accepted));  // no way back
    CHECK(t.status(1) == OrderStatus::partially_filled);
    CHECK(t.apply(1, OrderStatus::filled));
    CHECK_FALSE(t.status(1));  // final: forgotten
    CHECK(t.live() == 0);
    CHECK_FALSE(t.apply(1, OrderStatus::filled));  // seen as new again: a fill cannot start one
    CHECK(t.apply(2, OrderStatus::rejected));
    CHECK_FALSE(t.apply(3, OrderStatus::cancelled));  // never acknowledged
    CHECK(t.apply(4, OrderStatus::accepted));
    CHECK(t.apply(4, OrderStatus::triggered));
    CHECK(t.apply(4, OrderStatus::rejected));  // its market order vetoed at the trigger
}
