// The fill simulator with latency: orders reach the venue later and meet the book of that time,
// cancels land later and let fills happen in between, orders in flight count as working, and
// every event sequence is legal in the order lifecycle.

#include <catch2/catch.hpp>

#include "approve.hpp"
#include "keel/exec/order_state.hpp"
#include "keel/exec/paper_venue.hpp"

using namespace keel;
using exec::OrderEvent;
using exec::OrderStatus;
using test::approve;

namespace {

constexpr TimeNs kMs = 1'000'000;

std::vector<InstrumentSpec> instruments() {
    InstrumentSpec s;
    s.id = s.symbol = "BTCUSDT";
    s.tick_size = 0.1;
    s.lot_size = 0.001;
    return {s};
}

market::Book make_book(std::vector<market::Level> bids, std::vector<market::Level> asks) {
    market::Book b;
    b.apply_snapshot(bids, asks);
    return b;
}

// bids 100.0 x 1, 99.9 x 2; asks 100.1 x 1, 100.2 x 2 (ticks of 0.1, lots of 0.001)
market::Book book0() {
    return make_book({{1000, 1000}, {999, 2000}}, {{1001, 1000}, {1002, 2000}});
}
// 30 ms later the asks have moved up: 100.3 x 1, 100.4 x 5
market::Book book1() {
    return make_book({{1002, 1000}, {1001, 2000}}, {{1003, 1000}, {1004, 5000}});
}

config::Account with_latency(double order_ms, double cancel_ms) {
    config::Account a;
    a.taker_fee = 0.0005;
    a.maker_fee = 0.0002;
    a.order_latency.ms = order_ms;
    a.cancel_latency.ms = cancel_ms;
    return a;
}

exec::OrderIntent market_buy(Lots qty) {
    exec::OrderIntent i;
    i.strategy = 0;
    i.side = Side::buy;
    i.qty = qty;
    return i;
}

exec::OrderIntent limit(Side side, Ticks price, Lots qty) {
    exec::OrderIntent i;
    i.strategy = 0;
    i.side = side;
    i.type = exec::OrderType::limit;
    i.price = price;
    i.qty = qty;
    return i;
}

// Every event must be a legal step of its order's lifecycle.
void check_lifecycle(const std::vector<OrderEvent> &events) {
    exec::OrderTracker t;
    for (const auto &e : events) {
        INFO("order " << e.id << " -> " << exec::to_string(e.status));
        CHECK(t.apply(e.id, e.status));
    }
}

exec::PaperVenue::Books only(const market::Book &b) {
    return [&b](InstrumentIndex) { return &b; };
}

}  // namespace

TEST_CASE("with order latency a market order fills against the book at its arrival",
          "[paper][latency]") {
    auto specs = instruments();
    auto b0 = book0(), b1 = book1();
    for (double latency : {0.0, 50.0}) {
        CAPTURE(latency);
        exec::PaperVenue venue(with_latency(latency, 0), specs);
        std::vector<OrderEvent> out;
        venue.submit(approve(market_buy(1500), specs[0], b0), 1, b0, 0, out);
        // The book moves at 30 ms; the next market event comes at 60 ms, and before it is
        // applied the venue catches up with what arrived before it.
        venue.advance(30 * kMs, false, only(b0), out);
        venue.advance(60 * kMs, false, only(b1), out);
        check_lifecycle(out);
        REQUIRE(out.size() == (latency > 0 ? 4 : 3));
        size_t k = 0;
        if (latency > 0) {
            CHECK(out[k].status == OrderStatus::pending_new);
            CHECK(out[k++].ts == 0);
        }
        CHECK(out[k].status == OrderStatus::accepted);
        const TimeNs arrival = latency > 0 ? 50 * kMs : 0;
        CHECK(out[k++].ts == arrival);
        // Each fill at a level of the book the order met: the asks of 30 ms with latency,
        // the asks of 0 ms without.
        const auto &met = latency > 0 ? b1 : b0;
        CHECK(out[k].last_price == met.level(Side::sell, 0)->price);
        CHECK(out[k].last_qty == 1000);
        CHECK(out[k].ts == arrival);
        CHECK(out[k + 1].last_price == met.level(Side::sell, 1)->price);
        CHECK(out[k + 1].last_qty == 500);
        CHECK(out[k + 1].status == OrderStatus::filled);
        CHECK(out[k + 1].last_fee ==
              Rate::from_double(0.0005).of(
                  NotionalScale(0.1, 0.001).notional(met.level(Side::sell, 1)->price, 500)));
        CHECK(venue.open_orders() == 0);
        CHECK_FALSE(venue.in_flight());
    }
    CHECK(b0.level(Side::sell, 0)->price != b1.level(Side::sell, 0)->price);
}

TEST_CASE("an order in flight is pending, counted as working, and refused or kept on arrival",
          "[paper][latency]") {
    auto specs = instruments();
    auto b0 = book0(), b1 = book1();
    exec::PaperVenue venue(with_latency(50, 0), specs);
    std::vector<OrderEvent> out;
    // A post-only buy at 100.2: passive when sent (asks from 100.1... no: 100.1 < 100.2 would
    // take), so use 100.0, which the book at arrival does not cross either way.
    venue.submit(approve(limit(Side::buy, 1000, 700), specs[0], b0), 1, b0, 0, out);
    auto po = limit(Side::buy, 1002, 300);
    po.post_only = true;  // passive against b1's asks (100.3), would take from b0's (100.1)
    venue.submit(approve(po, specs[0], b0), 2, b0, 5 * kMs, out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].status == OrderStatus::pending_new);
    CHECK(out[1].status == OrderStatus::pending_new);

    // The gate's view: both count, with their quantities, as working orders.
    CHECK(venue.open_orders() == 2);
    auto open = venue.open_orders(0, 0);
    CHECK(open.total == 2);
    CHECK(open.buy_qty == 1000);
    CHECK(open.entry_buy);
    CHECK(venue.find_resting(2) != nullptr);
    CHECK(venue.resting_ids(0) == std::vector<exec::OrderId>{1, 2});
    CHECK(venue.next_arrival() == 50 * kMs);

    // Exactly at 50 ms a market event comes first (not inclusive), then the order arrives.
    venue.advance(50 * kMs, false, only(b1), out);
    CHECK(out.size() == 2);
    venue.advance(50 * kMs, true, only(b1), out);
    REQUIRE(out.size() == 3);
    CHECK(out[2].id == 1);
    CHECK(out[2].status == OrderStatus::accepted);
    CHECK(venue.find_resting(1)->ahead == 0);  // b1 has no bid at 100.0: at the front
    CHECK(venue.next_arrival() == 55 * kMs);

    venue.advance(56 * kMs, true, only(b1), out);
    REQUIRE(out.size() == 4);
    CHECK(out[3].id == 2);
    CHECK(out[3].status == OrderStatus::accepted);  // b1's asks start at 100.3
    CHECK(out[3].ts == 55 * kMs);
    CHECK(venue.find_resting(2)->ahead == 1000);  // behind b1's 100.2 bid
    check_lifecycle(out);

    // Against the book of its sending it would have been refused.
    exec::PaperVenue at_once(with_latency(0, 0), specs);
    std::vector<OrderEvent> now;
    at_once.submit(approve(po, specs[0], b0), 2, b0, 5 * kMs, now);
    REQUIRE(now.size() == 1);
    CHECK(now[0].reason == "POST_ONLY_WOULD_TAKE");
}

TEST_CASE("cancel latency lets a fill in between happen", "[paper][latency]") {
    auto specs = instruments();
    auto b0 = book0();
    for (double latency : {0.0, 30.0}) {
        CAPTURE(latency);
        exec::PaperVenue venue(with_latency(0, latency), specs);
        std::vector<OrderEvent> out;
        // Joins the best bid (100.0) behind 1000 lots.
        venue.submit(approve(limit(Side::buy, 1000, 500), specs[0], b0), 1, b0, 0, out);
        REQUIRE(out.size() == 1);
        CHECK(venue.cancel(1, 10 * kMs, out));
        CHECK_FALSE(venue.cancel(1, 11 * kMs, out));  // one cancel at a time
        // A seller hits 100.0 for 1500 at 20 ms: 1000 ahead, then us.
        venue.on_trade(0, 1000, 1500, Side::sell, 20 * kMs, out);
        venue.advance(45 * kMs, true, only(b0), out);
        check_lifecycle(out);
        if (latency == 0) {
            REQUIRE(out.size() == 2);
            CHECK(out[1].status == OrderStatus::cancelled);
            CHECK(out[1].filled == 0);
        } else {
            REQUIRE(out.size() == 3);
            CHECK(out[1].status == OrderStatus::pending_cancel);
            CHECK(out[1].ts == 10 * kMs);
            CHECK(out[2].status == OrderStatus::filled);
            CHECK(out[2].last_qty == 500);
            CHECK(out[2].maker);
            CHECK(out[2].ts == 20 * kMs);
            CHECK(out[2].reason == "CANCEL_TOO_LATE");  // the cancel then finds nothing
        }
        CHECK(venue.open_orders() == 0);
        CHECK_FALSE(venue.in_flight());
    }
}

TEST_CASE("a cancel that lands after a partial fill cancels the rest at its arrival",
          "[paper][latency]") {
    auto specs = instruments();
    auto b0 = book0();
    exec::PaperVenue venue(with_latency(0, 30), specs);
    std::vector<OrderEvent> out;
    venue.submit(approve(limit(Side::buy, 1000, 800), specs[0], b0), 1, b0, 0, out);
    CHECK(venue.cancel(1, 10 * kMs, out));
    CHECK(venue.open_orders() == 1);  // still working until the cancel lands
    CHECK(venue.next_arrival() == 40 * kMs);
    venue.advance(39 * kMs, true, only(b0), out);
    venue.on_trade(0, 1000, 1500, Side::sell, 39 * kMs, out);  // 1000 ahead, 500 to us
    venue.advance(40 * kMs, false, only(b0), out);
    CHECK(venue.open_orders() == 1);
    venue.advance(40 * kMs, true, only(b0), out);
    check_lifecycle(out);
    REQUIRE(out.size() == 4);  // accepted, pending_cancel, partially filled, cancelled
    CHECK(out[2].status == OrderStatus::partially_filled);
    CHECK(out[2].last_qty == 500);
    CHECK(out[3].status == OrderStatus::cancelled);
    CHECK(out[3].filled == 500);
    CHECK(out[3].ts == 40 * kMs);
    CHECK(venue.open_orders() == 0);
}

TEST_CASE("a cancel never overtakes its order", "[paper][latency]") {
    auto specs = instruments();
    auto b0 = book0();
    exec::PaperVenue venue(with_latency(50, 10), specs);
    std::vector<OrderEvent> out;
    venue.submit(approve(limit(Side::buy, 999, 500), specs[0], b0), 1, b0, 0, out);
    venue.submit(approve(market_buy(500), specs[0], b0), 2, b0, 0, out);
    CHECK(venue.cancel(1, 5 * kMs, out));  // would land at 15 ms, before the order
    CHECK(venue.cancel(2, 5 * kMs, out));
    CHECK(out.size() == 2);  // pending_new cannot turn pending_cancel: nothing yet
    venue.advance(49 * kMs, true, only(b0), out);
    CHECK(out.size() == 2);
    venue.advance(50 * kMs, true, only(b0), out);
    check_lifecycle(out);
    REQUIRE(out.size() == 7);
    // The limit arrives, rests, learns of its cancel and is cancelled, all at 50 ms.
    CHECK(out[2].id == 1);
    CHECK(out[2].status == OrderStatus::accepted);
    CHECK(out[3].status == OrderStatus::pending_cancel);
    // The market order fills at once: its cancel is too late.
    CHECK(out[4].id == 2);
    CHECK(out[4].status == OrderStatus::accepted);
    CHECK(out[5].status == OrderStatus::filled);
    CHECK(out[5].reason == "CANCEL_TOO_LATE");
    CHECK(out[6].id == 1);
    CHECK(out[6].status == OrderStatus::cancelled);
    for (auto &e : out) CHECK(e.ts == (e.status == OrderStatus::pending_new ? 0 : 50 * kMs));
    CHECK(venue.open_orders() == 0);
}

TEST_CASE("orders arrive in time order, deterministically, whatever order they were sent in",
          "[paper][latency]") {
    auto specs = instruments();
    auto b0 = book0();
    config::Account a;
    a.order_latency.dist = config::Latency::Dist::uniform;
    a.order_latency.min_ms = 1;
    a.order_latency.max_ms = 100;
    a.latency_seed = 9;
    auto run = [&] {
        exec::PaperVenue venue(a, specs);
        std::vector<OrderEvent> out;
        for (exec::OrderId id = 1; id <= 20; ++id)
            venue.submit(approve(limit(Side::buy, 990, 100), specs[0], b0), id, b0,
                         static_cast<TimeNs>(id) * kMs, out);
        while (auto t = venue.next_arrival()) venue.advance(*t, true, only(b0), out);
        return out;
    };
    auto out = run();
    check_lifecycle(out);
    // Arrival times: the same draws as a sampler with the same seed (orders' stream).
    exec::LatencySampler draws(a.order_latency, a.latency_seed, 0);
    std::map<exec::OrderId, TimeNs> expected;
    for (exec::OrderId id = 1; id <= 20; ++id)
        expected[id] = static_cast<TimeNs>(id) * kMs + draws.sample();
    std::vector<exec::OrderId> order;
    TimeNs last = 0;
    for (auto &e : out) {
        if (e.status != OrderStatus::accepted) continue;
        CHECK(e.ts == expected[e.id]);
        CHECK(e.ts >= last);
        last = e.ts;
        order.push_back(e.id);
    }
    REQUIRE(order.size() == 20);
    CHECK_FALSE(std::is_sorted(order.begin(), order.end()));  // latencies reordered them
    auto again = run();
    REQUIRE(again.size() == out.size());
    for (size_t k = 0; k < out.size(); ++k) {
        CHECK(again[k].id == out[k].id);
        CHECK(again[k].ts == out[k].ts);
    }
}

TEST_CASE("an order arriving while its book is unusable waits for the next usable book",
          "[paper][latency]") {
    auto specs = instruments();
    auto b0 = book0(), b1 = book1();
    exec::PaperVenue venue(with_latency(50, 0), specs);
    std::vector<OrderEvent> out;
    venue.submit(approve(market_buy(500), specs[0], b0), 1, b0, 0, out);
    exec::PaperVenue::Books none = [](InstrumentIndex) -> const market::Book * { return nullptr; };
    venue.advance(60 * kMs, true, none, out);
    CHECK(out.size() == 1);
    CHECK_FALSE(venue.next_arrival());  // nothing to wake for until a book comes
    CHECK(venue.in_flight());
    venue.advance(80 * kMs, true, only(b1), out);
    check_lifecycle(out);
    REQUIRE(out.size() == 3);
    CHECK(out[1].ts == 80 * kMs);  // matched when a book was there to match against
    CHECK(out[2].last_price == 1003);
}

TEST_CASE("at the session's end what is in flight arrives against the last books",
          "[paper][latency]") {
    auto specs = instruments();
    auto b1 = book1();
    exec::PaperVenue venue(with_latency(50, 20), specs);
    std::vector<OrderEvent> out;
    venue.submit(approve(market_buy(500), specs[0], b1), 1, b1, 0, out);
    venue.submit(approve(limit(Side::buy, 990, 100), specs[0], b1), 2, b1, 0, out);
    venue.flush(10 * kMs, only(b1), out);
    REQUIRE(out.size() == 5);
    CHECK(out[3].status == OrderStatus::filled);
    CHECK(out[3].last_price == 1003);
    CHECK(out[4].status == OrderStatus::accepted);  // order 2 rests
    CHECK(venue.cancel(2, 10 * kMs, out));
    venue.flush(10 * kMs, only(b1), out);
    check_lifecycle(out);
    CHECK(out.back().status == OrderStatus::cancelled);
    CHECK(venue.open_orders() == 0);

    // No usable book: ended, not left in flight.
    exec::PaperVenue dark(with_latency(50, 0), specs);
    std::vector<OrderEvent> d;
    dark.submit(approve(market_buy(500), specs[0], b1), 1, b1, 0, d);
    dark.flush(
        10 * kMs, [](InstrumentIndex) -> const market::Book * { return nullptr; }, d);
    check_lifecycle(d);
    REQUIRE(d.size() == 2);
    CHECK(d[1].status == OrderStatus::cancelled);
    CHECK(d[1].reason == "NO_MARKET");
    CHECK_FALSE(dark.in_flight());
    CHECK(dark.open_orders() == 0);
}

TEST_CASE("an amendment puts the order at the back of its new level, and takes if it crosses",
          "[paper][amend]") {
    auto specs = instruments();
    exec::PaperVenue venue(with_latency(0, 0), specs);
    auto b = book0();  // bids 100.0 x 1, 99.9 x 2; asks 100.1 x 1, 100.2 x 2
    std::vector<OrderEvent> out;
    venue.submit(test::approve(limit(Side::buy, 999, 500), specs[0], b), 1, b, 0, out);
    CHECK(venue.find_resting(1)->ahead == 2000);
    venue.on_trade(0, 999, 1500, Side::sell, 1, out);  // 500 ahead left
    CHECK(venue.find_resting(1)->ahead == 500);
    std::string why;

    SECTION("a smaller quantity at the same price loses the place too (Binance re-queues)") {
        CHECK(
            venue.amend(test::approve(limit(Side::buy, 999, 400), specs[0], b), 1, b, 2, out, why));
        CHECK(out.back().status == OrderStatus::amended);
        CHECK(out.back().qty == 400);
        CHECK(out.back().price == 999);
        CHECK(venue.find_resting(1)->ahead == 2000);  // the level as the book shows it
    }
    SECTION("a price up to the best bid joins that level's back") {
        CHECK(venue.amend(test::approve(limit(Side::buy, 1000, 500), specs[0], b), 1, b, 2, out,
                          why));
        CHECK(out.back().status == OrderStatus::amended);
        CHECK(out.back().price == 1000);
        CHECK(venue.find_resting(1)->ahead == 1000);
    }
    SECTION("a price through the ask takes what it reaches as taker, the rest rests") {
        CHECK(venue.amend(test::approve(limit(Side::buy, 1001, 1500), specs[0], b), 1, b, 2, out,
                          why));
        REQUIRE(out.size() >= 3);
        const auto &amended = out[out.size() - 2];
        CHECK(amended.status == OrderStatus::amended);
        CHECK(amended.qty == 1500);
        CHECK(out.back().last_qty == 1000);  // all of 100.1
        CHECK(out.back().last_price == 1001);
        CHECK_FALSE(out.back().maker);
        CHECK(out.back().status == OrderStatus::partially_filled);
        CHECK(venue.find_resting(1)->remaining() == 500);
        CHECK(venue.find_resting(1)->ahead == 0);  // nobody else bids 100.1
    }
    check_lifecycle(out);
}

TEST_CASE("an amendment travels with the order latency; fills before it can cancel the rest",
          "[paper][amend][latency]") {
    auto specs = instruments();
    exec::PaperVenue venue(with_latency(30, 30), specs);
    auto b = book0();
    std::vector<OrderEvent> out;
    const TimeNs ms = 1'000'000;
    venue.submit(test::approve(limit(Side::buy, 999, 500), specs[0], b), 1, b, 0, out);
    std::string why;
    // Not at the venue yet: nothing to amend.
    CHECK_FALSE(
        venue.amend(test::approve(limit(Side::buy, 999, 400), specs[0], b), 1, b, ms, out, why));
    CHECK(why == "it has not reached the venue yet");
    venue.advance(30 * ms, true, only(b), out);
    REQUIRE(venue.find_resting(1));

    SECTION("it lands at its arrival; a second one waits for it") {
        CHECK(venue.amend(test::approve(limit(Side::buy, 998, 300), specs[0], b), 1, b, 40 * ms,
                          out, why));
        CHECK_FALSE(venue.amend(test::approve(limit(Side::buy, 997, 300), specs[0], b), 1, b,
                                41 * ms, out, why));
        CHECK(why == "an amendment of it is on its way");
        CHECK(venue.find_resting(1)->intent.price == 999);
        CHECK(venue.next_arrival() == 70 * ms);
        venue.advance(70 * ms, true, only(b), out);
        CHECK(out.back().status == OrderStatus::amended);
        CHECK(out.back().ts == 70 * ms);
        CHECK(venue.find_resting(1)->intent.price == 998);
        CHECK(venue.find_resting(1)->intent.qty == 300);
    }
    SECTION("fills that reach the new quantity first: the amendment cancels the rest") {
        CHECK(venue.amend(test::approve(limit(Side::buy, 999, 300), specs[0], b), 1, b, 40 * ms,
                          out, why));
        venue.on_trade(0, 998, 400, Side::sell, 50 * ms, out);  // through our price: 400 fill
        venue.advance(70 * ms, true, only(b), out);
        CHECK(out.back().status == OrderStatus::cancelled);
        CHECK(out.back().reason == "AMENDED_BELOW_FILLED");
        CHECK(out.back().filled == 400);
        CHECK(venue.open_orders() == 0);
    }
    SECTION("a cancel on its way: no amendment") {
        CHECK(venue.cancel(1, 40 * ms, out));
        CHECK_FALSE(venue.amend(test::approve(limit(Side::buy, 999, 300), specs[0], b), 1, b,
                                41 * ms, out, why));
        CHECK(why == "a cancel of it is on its way");
    }
    check_lifecycle(out);
}

TEST_CASE("a post-only order amended to a price that would take is cancelled", "[paper][amend]") {
    auto specs = instruments();
    exec::PaperVenue venue(with_latency(0, 0), specs);
    auto b = book0();
    std::vector<OrderEvent> out;
    auto i = limit(Side::sell, 1002, 500);
    i.post_only = true;
    venue.submit(test::approve(i, specs[0], b), 1, b, 0, out);
    i.price = 1000;  // the best bid
    std::string why;
    CHECK(venue.amend(test::approve(i, specs[0], b), 1, b, 1, out, why));
    CHECK(out.back().status == OrderStatus::cancelled);
    CHECK(out.back().reason == "POST_ONLY_WOULD_TAKE");
    CHECK(out.back().filled == 0);
    CHECK(venue.open_orders() == 0);
    check_lifecycle(out);
}
