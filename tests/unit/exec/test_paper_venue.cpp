#include <catch2/catch.hpp>

#include "approve.hpp"
#include "keel/exec/paper_venue.hpp"
#include "keel/exec/portfolio.hpp"

using namespace keel;
using exec::OrderEvent;
using exec::OrderStatus;
using test::approve;

namespace {

std::vector<InstrumentSpec> instruments() {
    InstrumentSpec s;
    s.id = s.symbol = "BTCUSDT";
    s.tick_size = 0.1;
    s.lot_size = 0.001;
    return {s};
}

market::Book book() {
    // bids 100.0 x 1, 99.9 x 2; asks 100.1 x 1, 100.2 x 2 (in ticks of 0.1 and lots of 0.001)
    std::vector<market::Level> bids{{1000, 1000}, {999, 2000}}, asks{{1001, 1000}, {1002, 2000}};
    market::Book b;
    b.apply_snapshot(bids, asks);
    return b;
}

}  // namespace

TEST_CASE("a market order walks the book level by level, paying taker fees", "[paper]") {
    auto specs = instruments();
    config::Account account;
    account.taker_fee = 0.001;
    exec::PaperVenue venue(account, specs);
    auto b = book();
    exec::OrderIntent i;
    i.side = Side::buy;
    i.qty = 2500;  // 2.5: 1 @ 100.1, 1.5 @ 100.2
    std::vector<OrderEvent> out;
    venue.submit(approve(i, specs[0], b), 1, b, 0, out);
    REQUIRE(out.size() == 3);
    CHECK(out[0].status == OrderStatus::accepted);
    CHECK(out[1].last_price == 1001);
    CHECK(out[1].last_qty == 1000);
    CHECK(out[2].last_price == 1002);
    CHECK(out[2].last_qty == 1500);
    CHECK(out[2].status == OrderStatus::filled);
    CHECK(out[2].avg_price == Approx((100.1 * 1 + 100.2 * 1.5) / 2.5));
    CHECK(out[2].last_fee == Money::from_units(15'030'000));  // 150.30 x 0.001 = 0.1503
    CHECK_FALSE(out[2].maker);

    exec::Portfolio pf(specs, {});
    for (auto &e : out)
        if (e.last_qty) pf.on_fill(0, e.side, e.last_qty, e.last_price, e.last_fee);
    CHECK(pf.position(0).qty == 2500);
    CHECK(pf.position(0).avg_entry(specs[0]) == Approx((100.1 + 150.3) / 2.5));
    CHECK(pf.fees() == Money::from_units(10'010'000 + 15'030'000));
}

TEST_CASE("a market order larger than the book fills what there is", "[paper]") {
    auto specs = instruments();
    exec::PaperVenue venue({}, specs);
    auto b = book();
    exec::OrderIntent i;
    i.side = Side::sell;
    i.qty = 5000;
    std::vector<OrderEvent> out;
    venue.submit(approve(i, specs[0], b), 7, b, 0, out);
    REQUIRE(out.back().status == OrderStatus::cancelled);
    CHECK(out.back().reason == "INSUFFICIENT_LIQUIDITY");
    CHECK(out.back().filled == 3000);
}

TEST_CASE("a resting limit fills at its price when the market reaches it", "[paper]") {
    auto specs = instruments();
    config::Account account;
    account.maker_fee = 0.0002;
    exec::PaperVenue venue(account, specs);
    auto b = book();
    exec::OrderIntent i;
    i.strategy = 0;
    i.side = Side::buy;
    i.type = exec::OrderType::limit;
    i.price = 999;
    i.qty = 500;
    std::vector<OrderEvent> out;
    venue.submit(approve(i, specs[0], b), 3, b, 0, out);
    REQUIRE(out.size() == 1);
    CHECK(venue.open_orders() == 1);
    CHECK(venue.open_orders(0, 0).buy_qty == 500);
    CHECK(venue.open_orders(0, 0).buy_notional == Money::from_double(49.95));
    CHECK(venue.open_orders(0, 0).entry_buy);
    CHECK_FALSE(venue.open_orders(0, 1).entry_buy);  // another strategy's entry

    venue.on_book(0, b, 1, out);  // nothing reaches 99.9 yet
    CHECK(out.size() == 1);

    b.apply_delta(Side::sell, {999, 300});  // an ask at our price would cross the bids...
    b.apply_delta(Side::buy, {1000, 0});    // ...so the bid side moves down
    b.apply_delta(Side::buy, {999, 0});
    b.apply_delta(Side::buy, {998, 1000});
    venue.on_book(0, b, 2, out);
    REQUIRE(out.size() == 2);
    CHECK(out[1].last_qty == 300);
    CHECK(out[1].last_price == 999);
    CHECK(out[1].maker);
    CHECK(out[1].status == OrderStatus::partially_filled);
    CHECK(out[1].last_fee == Money::from_units(599'400));  // 29.97 x 0.0002

    CHECK(venue.cancel(3, 3, out));
    CHECK(out.back().status == OrderStatus::cancelled);
    CHECK(venue.open_orders() == 0);
    CHECK_FALSE(venue.cancel(3, 4, out));
}

TEST_CASE("a resting limit waits behind the volume already at its price", "[paper][queue]") {
    auto specs = instruments();
    config::Account account;
    account.maker_fee = 0.0002;
    exec::PaperVenue venue(account, specs);
    auto b = book();  // bids 100.0 x 1 (1000 lots), 99.9 x 2
    exec::OrderIntent i;
    i.strategy = 0;
    i.side = Side::buy;
    i.type = exec::OrderType::limit;
    i.price = 1000;  // joins the best bid behind 1000 lots
    i.qty = 500;
    std::vector<OrderEvent> out;
    venue.submit(approve(i, specs[0], b), 9, b, 0, out);
    REQUIRE(out.size() == 1);
    CHECK(venue.find_resting(9)->ahead == 1000);

    venue.on_trade(0, 1000, 600, Side::sell, 1, out);  // eats 600 of the 1000 ahead
    CHECK(out.size() == 1);
    CHECK(venue.find_resting(9)->ahead == 400);
    venue.on_trade(0, 1000, 300, Side::buy, 2, out);  // a buyer lifts the ask: not our queue
    CHECK(venue.find_resting(9)->ahead == 400);

    b.apply_delta(Side::buy, {1000, 250});  // the level shrinks: cancels ahead of us
    venue.on_book(0, b, 3, out);
    CHECK(venue.find_resting(9)->ahead == 250);

    venue.on_trade(0, 1000, 400, Side::sell, 4, out);  // 250 ahead, then 150 fills us
    REQUIRE(out.size() == 2);
    CHECK(out[1].last_qty == 150);
    CHECK(out[1].last_price == 1000);
    CHECK(out[1].maker);
    CHECK(out[1].last_fee == Money::from_units(300'000));  // 15.00 x 0.0002

    venue.on_trade(0, 999, 1000, Side::sell, 5, out);  // a trade through our price fills the rest
    REQUIRE(out.size() == 3);
    CHECK(out[2].last_qty == 350);
    CHECK(out[2].status == OrderStatus::filled);
    CHECK(venue.open_orders() == 0);
}
