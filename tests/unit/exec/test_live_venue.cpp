// The live order manager against a scripted venue: what it sends, and what it makes of every
// kind of answer (duplicates, fills before or after the final state, refusals by reason,
// silence, cancels), on a clock the test moves.

#include <catch2/catch.hpp>

#include "approve.hpp"
#include "keel/exec/live_venue.hpp"
#include "keel/exec/order_state.hpp"

using namespace keel;
using exec::OrderEvent;
using exec::OrderStatus;
using exec::VenueOrderUpdate;

namespace {

constexpr TimeNs kSecond = 1'000'000'000;

struct Script {
    std::vector<keel_order_request> placed;
    std::vector<std::string> placed_ids, cancels, queries;
    std::vector<std::vector<std::string>> batches;  // client ids of each place_batch call
    std::vector<keel_order_request> amends;
    bool refuse_handover = false;
};

struct Fixture {
    std::vector<InstrumentSpec> specs;
    Script script;
    std::unique_ptr<exec::LiveVenue> venue;
    std::vector<OrderEvent> out;
    market::Book book;
    exec::OrderId next_id = 100;  // the engine's ids, for adopted orders

    // `batches`: the link has place_batch (the plugin's place_orders); `amends`: amend_order.
    // `run` and `earlier`: this run's tag and what becomes of an earlier run's open orders.
    explicit Fixture(bool batches = false, bool amends = true, std::string run = "",
                     config::EarlierOrders earlier = config::EarlierOrders::cancel) {
        InstrumentSpec s;
        s.id = s.symbol = "BTCUSDT";
        s.quote = "USDT";
        s.tick_size = 0.1;
        s.lot_size = 0.001;
        specs = {s};
        std::vector<market::Level> bids{{1000, 1000}}, asks{{1001, 1000}};
        book.apply_snapshot(bids, asks);
        exec::LiveVenue::Link link;
        link.venue_id = 7;
        link.place = [this](const keel_order_request &r, std::string &why) {
            if (script.refuse_handover) {
                why = "not connected";
                return false;
            }
            script.placed.push_back(r);
            script.placed_ids.push_back(r.client_order_id);
            return true;
        };
        if (batches)
            link.place_batch = [this](std::span<const keel_order_request> orders,
                                      std::string &why) {
                if (script.refuse_handover) {
                    why = "not connected";
                    return false;
                }
                auto &ids = script.batches.emplace_back();
                for (const auto &r : orders) {
                    CHECK(r.instrument == 7);
                    ids.push_back(r.client_order_id);
                }
                return true;
            };
        link.cancel = [this](keel_instrument_id id, const std::string &cid, std::string &) {
            CHECK(id == 7);
            script.cancels.push_back(cid);
            return true;
        };
        link.query = [this](keel_instrument_id id, const std::string &cid, std::string &) {
            CHECK(id == 7);
            script.queries.push_back(cid);
            return true;
        };
        if (amends)
            link.amend = [this](const keel_order_request &r, std::string &) {
                CHECK(r.instrument == 7);
                script.amends.push_back(r);
                return true;
            };
        venue = std::make_unique<exec::LiveVenue>(
            exec::LiveVenue::Session{.deployment = "t est!",
                                     .run = std::move(run),
                                     .earlier_orders = earlier,
                                     .new_id = [this] { return next_id++; }},
            specs, std::vector<exec::LiveVenue::Link>{link});
    }

    void buy(exec::OrderId id, Lots qty, TimeNs now = 0,
             exec::OrderType type = exec::OrderType::market, Ticks price = 0) {
        exec::OrderIntent i;
        i.side = Side::buy;
        i.type = type;
        i.qty = qty;
        i.price = price;
        venue->submit(test::approve(i, specs[0], book), id, now, out);
    }
    exec::OrderIntent limit_intent(Lots qty, Ticks price) const {
        exec::OrderIntent i;
        i.side = Side::buy;
        i.type = exec::OrderType::limit;
        i.qty = qty;
        i.price = price;
        return i;
    }
    VenueOrderUpdate update(const std::string &cid, uint32_t state) {
        VenueOrderUpdate u;
        u.client_order_id = cid;
        u.state = state;
        u.qty = 2;
        return u;
    }
    VenueOrderUpdate fill(const std::string &cid, uint32_t state, Lots qty, Ticks price,
                          uint64_t trade, Lots cumulative) {
        auto u = update(cid, state);
        u.last_qty = qty;
        u.last_price = price;
        u.trade_id = trade;
        u.filled = cumulative;
        u.fee_amount = 5000;  // 0.00005 USDT
        u.fee_asset = "USDT";
        return u;
    }
    VenueOrderUpdate refusal(const std::string &cid, uint32_t reason) {
        auto u = update(cid, KEEL_ORDER_STATE_REJECTED);
        u.reason = reason;
        u.message = "the venue says no";
        return u;
    }
    std::vector<OrderStatus> statuses() {
        std::vector<OrderStatus> s;
        for (auto &e : out) s.push_back(e.status);
        out.clear();
        return s;
    }
};

}  // namespace

TEST_CASE("live orders: one client id, fills booked once, final after the last fill", "[live]") {
    Fixture f;
    f.buy(1, 2);
    REQUIRE(f.script.placed.size() == 1);
    const auto &r = f.script.placed[0];
    const std::string cid = f.script.placed_ids[0];
    CHECK(cid == "ktest-1");  // only [A-Za-z0-9] of the deployment name
    CHECK(r.instrument == 7);
    CHECK(r.side == KEEL_SIDE_BUY);
    CHECK(r.type == KEEL_ORDER_MARKET);
    CHECK(r.qty_lots == 2);
    CHECK(f.statuses() == std::vector{OrderStatus::pending_new});
    CHECK(f.venue->open_orders(0, exec::kNoStrategy).buy_qty == 2);

    f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_NEW), 1, f.out);
    CHECK(f.statuses() == std::vector{OrderStatus::accepted});
    auto first = f.fill(cid, KEEL_ORDER_STATE_PARTIALLY_FILLED, 1, 1001, 11, 1);
    f.venue->on_update(first, 2, f.out);
    REQUIRE(f.out.size() == 1);
    CHECK(f.out[0].last_qty == 1);
    CHECK(f.out[0].last_price == 1001);
    CHECK(f.out[0].last_fee == Money::from_units(5000));
    CHECK(f.statuses() == std::vector{OrderStatus::partially_filled});
    f.venue->on_update(first, 3, f.out);  // the same fill again (the stream and the answer)
    CHECK(f.out.empty());
    CHECK(f.venue->stats().duplicate_fills == 1);
    f.venue->on_update(f.fill(cid, KEEL_ORDER_STATE_FILLED, 1, 1002, 12, 2), 4, f.out);
    CHECK(f.statuses() == std::vector{OrderStatus::filled});
    CHECK(f.venue->open_orders() == 0);
    f.venue->on_update(f.fill(cid, KEEL_ORDER_STATE_FILLED, 1, 1002, 12, 2), 5, f.out);
    CHECK(f.out.empty());
    CHECK(f.venue->stats().late_updates == 1);
    CHECK(f.venue->stats().sent == 1);
}

TEST_CASE("live orders: a final state without its fills waits for them, then asks", "[live]") {
    Fixture f;
    f.buy(1, 2);
    const std::string cid = f.script.placed_ids[0];
    f.statuses();
    auto done = f.update(cid, KEEL_ORDER_STATE_FILLED);
    done.filled = 2;  // an answer that says filled, without prices
    f.venue->on_update(done, 0, f.out);
    CHECK(f.statuses() == std::vector{OrderStatus::accepted});
    CHECK(f.venue->open_orders() == 1);
    f.venue->on_timer(kSecond, f.out);
    CHECK(f.script.queries.empty());
    f.venue->on_timer(3 * kSecond, f.out);
    REQUIRE(f.script.queries == std::vector<std::string>{cid});
    // The trade history brings the fills (no status of their own).
    f.venue->on_update(f.fill(cid, 0, 1, 1001, 21, 0), 4 * kSecond, f.out);
    f.venue->on_update(f.fill(cid, 0, 1, 1001, 22, 0), 4 * kSecond, f.out);
    CHECK(f.statuses() == std::vector{OrderStatus::partially_filled, OrderStatus::filled});
    CHECK(f.venue->open_orders() == 0);
}

TEST_CASE("live orders: refusals are read by their reason", "[live]") {
    Fixture f;
    SECTION("rate limited: sent again later with the same id") {
        f.buy(1, 2);
        const std::string cid = f.script.placed_ids[0];
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_RATE_LIMITED), 0, f.out);
        CHECK(f.statuses() == std::vector{OrderStatus::pending_new});
        f.venue->on_timer(kSecond, f.out);
        CHECK(f.script.placed.size() == 1);  // backoff: 2 s at least
        f.venue->on_timer(4 * kSecond, f.out);
        REQUIRE(f.script.placed_ids == std::vector<std::string>{cid, cid});
        CHECK(f.venue->stats().resent == 1);
        CHECK(f.venue->stats().held == 0);
    }
    SECTION("rate limited until a named time: held until then, however often, never given up") {
        f.buy(1, 2);
        const std::string cid = f.script.placed_ids[0];
        // Twelve refusals (more than the 8 sends after which a backoff gives an order up), each
        // naming the next minute as a spent weight budget would.
        for (int k = 1; k <= 12; ++k) {
            const TimeNs at = (k - 1) * 60 * kSecond;
            auto refused = f.refusal(cid, KEEL_VENUE_RATE_LIMITED);
            refused.retry_at = k * 60 * kSecond;
            f.venue->on_update(refused, at + kSecond, f.out);
            f.venue->on_timer(k * 60 * kSecond - 1, f.out);  // not a moment before
            CHECK(f.script.placed.size() == static_cast<size_t>(k));
            f.venue->on_timer(k * 60 * kSecond + kSecond / 10, f.out);  // jitter: 100 ms at most
            REQUIRE(f.script.placed.size() == static_cast<size_t>(k + 1));
        }
        CHECK(f.venue->stats().held == 12);
        CHECK(f.statuses() == std::vector{OrderStatus::pending_new});
        CHECK(f.venue->open_orders() == 1);
        // A cancel while held: nothing reached the venue, nothing is asked of it.
        auto refused = f.refusal(cid, KEEL_VENUE_BANNED);
        refused.retry_at = 20 * 60 * kSecond;
        f.venue->on_update(refused, 13 * 60 * kSecond, f.out);
        CHECK(f.venue->cancel(1, 13 * 60 * kSecond, f.out));
        CHECK(f.statuses() == std::vector{OrderStatus::cancelled});
        f.venue->on_timer(21 * 60 * kSecond, f.out);
        CHECK(f.script.placed.size() == 13);
        CHECK(f.script.cancels.empty());
    }
    SECTION("unknown outcome: asked, never sent blindly; 'no such order' means send it again") {
        f.buy(1, 2);
        const std::string cid = f.script.placed_ids[0];
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_UNKNOWN_OUTCOME), 0, f.out);
        f.venue->on_timer(2 * kSecond, f.out);
        CHECK(f.script.placed.size() == 1);
        REQUIRE(f.script.queries == std::vector<std::string>{cid});
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_UNKNOWN_ORDER), 3 * kSecond, f.out);
        CHECK(f.script.placed_ids == std::vector<std::string>{cid, cid});
    }
    SECTION("unknown outcome: the venue has it, so it is not sent again") {
        f.buy(1, 2);
        const std::string cid = f.script.placed_ids[0];
        f.statuses();
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_UNKNOWN_OUTCOME), 0, f.out);
        f.venue->on_timer(2 * kSecond, f.out);
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_NEW), 3 * kSecond, f.out);
        CHECK(f.statuses() == std::vector{OrderStatus::accepted});
        f.venue->on_timer(60 * kSecond, f.out);
        CHECK(f.script.placed.size() == 1);
    }
    SECTION("a question that fails is asked again, not taken for a refusal of the order") {
        f.buy(1, 2);
        const std::string cid = f.script.placed_ids[0];
        f.statuses();
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_UNKNOWN_OUTCOME), 0, f.out);
        f.venue->on_timer(2 * kSecond, f.out);
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_BAD_TIMESTAMP), 3 * kSecond, f.out);
        CHECK(f.out.empty());
        CHECK(f.venue->open_orders() == 1);
        f.venue->on_timer(10 * kSecond, f.out);
        CHECK(f.script.queries.size() == 2);
        CHECK(f.script.placed.size() == 1);
    }
    SECTION("a plain refusal rejects, with the venue's reason and text") {
        f.buy(1, 2);
        const std::string cid = f.script.placed_ids[0];
        f.statuses();
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_INSUFFICIENT_FUNDS), 0, f.out);
        REQUIRE(f.out.size() == 1);
        CHECK(f.out[0].status == OrderStatus::rejected);
        CHECK(f.out[0].reason == "VENUE_INSUFFICIENT_FUNDS");
        CHECK(f.out[0].message == "the venue says no");
        CHECK(f.venue->open_orders() == 0);
    }
    SECTION("given up after eight attempts") {
        f.buy(1, 2);
        const std::string cid = f.script.placed_ids[0];
        f.statuses();
        TimeNs now = 0;
        for (int k = 0; k < 8; ++k) {
            f.venue->on_update(f.refusal(cid, KEEL_VENUE_TRANSIENT), now, f.out);
            now += 120 * kSecond;
            f.venue->on_timer(now, f.out);
        }
        CHECK(f.script.placed.size() == 8);
        REQUIRE(f.out.size() == 1);
        CHECK(f.out[0].status == OrderStatus::rejected);
        CHECK(f.out[0].reason == "VENUE_UNAVAILABLE");
    }
    SECTION("an order the plugin cannot even hand over is rejected at once") {
        f.script.refuse_handover = true;
        f.buy(1, 2);
        CHECK(f.statuses() == std::vector{OrderStatus::pending_new, OrderStatus::rejected});
    }
    SECTION("silence about an unacknowledged order: asked after 10 s") {
        f.buy(1, 2);
        f.venue->on_timer(9 * kSecond, f.out);
        CHECK(f.script.queries.empty());
        f.venue->on_timer(11 * kSecond, f.out);
        CHECK(f.script.queries.size() == 1);
    }
    SECTION("a report about an order this session did not place is counted, not booked") {
        f.venue->on_update(f.fill("ktest-99", KEEL_ORDER_STATE_FILLED, 1, 1001, 99, 1), 0, f.out);
        f.venue->on_update(f.fill("someone-else", KEEL_ORDER_STATE_FILLED, 1, 1001, 98, 1), 0,
                           f.out);
        CHECK(f.out.empty());
        CHECK(f.venue->stats().unknown_updates == 1);  // this run's id, yet not an order of it
        CHECK(f.venue->stats().foreign_orders == 1);   // not keel's
    }
}

TEST_CASE("live orders: cancels are confirmed by the venue", "[live]") {
    Fixture f;
    SECTION("a working order: pending_cancel, then cancelled on the venue's word") {
        f.buy(1, 2, 0, exec::OrderType::limit, 990);
        const std::string cid = f.script.placed_ids[0];
        CHECK(f.script.placed[0].price_ticks == 990);
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_NEW), 0, f.out);
        f.statuses();
        CHECK(f.venue->cancel(1, 1, f.out));
        CHECK_FALSE(f.venue->cancel(1, 1, f.out));  // already asked
        CHECK(f.statuses() == std::vector{OrderStatus::pending_cancel});
        CHECK(f.script.cancels == std::vector<std::string>{cid});
        CHECK(f.venue->open_orders() == 1);  // still counts until the venue confirms
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_CANCELED), 2, f.out);
        CHECK(f.statuses() == std::vector{OrderStatus::cancelled});
        CHECK(f.venue->open_orders() == 0);
    }
    SECTION("an order waiting to be sent again is cancelled here, nothing sent") {
        f.buy(1, 2);
        const std::string cid = f.script.placed_ids[0];
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_RATE_LIMITED), 0, f.out);
        f.statuses();
        CHECK(f.venue->cancel(1, 1, f.out));
        CHECK(f.statuses() == std::vector{OrderStatus::cancelled});
        CHECK(f.script.cancels.empty());
        f.venue->on_timer(100 * kSecond, f.out);
        CHECK(f.script.placed.size() == 1);
    }
    SECTION("an order still on its way is cancelled once the venue has it, never before") {
        f.buy(1, 2, 0, exec::OrderType::limit, 990);
        const std::string cid = f.script.placed_ids[0];
        f.statuses();
        CHECK(f.venue->cancel(1, 1, f.out));
        // A cancel now could overtake the order and find nothing: none is sent yet.
        CHECK(f.script.cancels.empty());
        CHECK(f.out.empty());
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_NEW), 2, f.out);
        CHECK(f.statuses() == std::vector{OrderStatus::accepted, OrderStatus::pending_cancel});
        CHECK(f.script.cancels == std::vector<std::string>{cid});
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_CANCELED), 3, f.out);
        CHECK(f.statuses() == std::vector{OrderStatus::cancelled});
        // One that fills on arrival needs no cancel.
        f.buy(2, 2);
        const std::string second = f.script.placed_ids[1];
        CHECK(f.venue->cancel(2, 4, f.out));
        f.venue->on_update(f.fill(second, KEEL_ORDER_STATE_FILLED, 2, 1001, 9, 2), 5, f.out);
        CHECK(f.script.cancels.size() == 1);
        CHECK(f.venue->open_orders() == 0);
    }
    SECTION("a cancel whose fate is unknown is sent again if the order is still there") {
        f.buy(1, 2, 0, exec::OrderType::limit, 990);
        const std::string cid = f.script.placed_ids[0];
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_NEW), 0, f.out);
        CHECK(f.venue->cancel(1, 1, f.out));
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_UNKNOWN_OUTCOME), 2, f.out);
        f.venue->on_timer(4 * kSecond, f.out);
        CHECK(f.script.queries == std::vector<std::string>{cid});
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_NEW), 5 * kSecond, f.out);
        CHECK(f.script.cancels == std::vector<std::string>{cid, cid});
        CHECK(f.statuses() == std::vector{OrderStatus::pending_new, OrderStatus::accepted,
                                          OrderStatus::pending_cancel});  // announced once
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_CANCELED), 6 * kSecond, f.out);
        CHECK(f.statuses() == std::vector{OrderStatus::cancelled});
    }
    SECTION("a failed question about an acknowledged order is asked again, never resent") {
        f.buy(1, 2, 0, exec::OrderType::limit, 990);
        const std::string cid = f.script.placed_ids[0];
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_NEW), 0, f.out);
        // Its fills' history could not be fetched (no answer): ask again, send nothing.
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_TRANSIENT), kSecond, f.out);
        f.venue->on_timer(100 * kSecond, f.out);
        CHECK(f.script.placed.size() == 1);
        CHECK(f.script.queries == std::vector<std::string>{cid});
        // That question gets no answer at all: after 10 s it is asked again.
        f.venue->on_timer(109 * kSecond, f.out);
        CHECK(f.script.queries.size() == 1);
        f.venue->on_timer(111 * kSecond, f.out);
        CHECK(f.script.queries.size() == 2);
        CHECK(f.script.placed.size() == 1);
    }
    SECTION("after the account stream comes back, every acknowledged order is asked about") {
        f.buy(1, 2, 0, exec::OrderType::limit, 990);
        f.buy(2, 2, 0, exec::OrderType::limit, 991);
        const std::string cid = f.script.placed_ids[0];
        CHECK_FALSE(f.venue->settled(0));  // neither acknowledged
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_NEW), 0, f.out);
        f.venue->on_update(f.update(f.script.placed_ids[1], KEEL_ORDER_STATE_NEW), 0, f.out);
        CHECK(f.venue->settled(0));
        f.venue->reconcile(0, kSecond);
        CHECK(f.script.queries == f.script.placed_ids);
        CHECK_FALSE(f.venue->settled(0));  // until the answers come
        f.venue->on_update(f.fill(cid, KEEL_ORDER_STATE_FILLED, 2, 990, 3, 2), 2 * kSecond, f.out);
        f.venue->on_update(f.update(f.script.placed_ids[1], KEEL_ORDER_STATE_NEW), 2 * kSecond,
                           f.out);
        CHECK(f.venue->settled(0));
        CHECK(f.venue->open_orders() == 1);
    }
    SECTION("a cancel the venue does not know: asked what became of the order") {
        f.buy(1, 2, 0, exec::OrderType::limit, 990);
        const std::string cid = f.script.placed_ids[0];
        f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_NEW), 0, f.out);
        CHECK(f.venue->cancel(1, 1, f.out));
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_UNKNOWN_ORDER), 2, f.out);
        CHECK(f.script.queries == std::vector<std::string>{cid});
        f.venue->on_update(f.fill(cid, KEEL_ORDER_STATE_FILLED, 2, 990, 5, 2), 3, f.out);
        f.statuses();
        CHECK(f.venue->open_orders() == 0);
    }
}

TEST_CASE("order pacer: never more than a limit's orders in any window a guard second longer",
          "[live][pacer]") {
    exec::OrderPacer p;
    CHECK(p.next_slot(5) == 5);  // no limits: always now
    p.declare({3, 10 * kSecond});
    p.declare({5, 60 * kSecond});
    p.declare({0, kSecond});  // empty: ignored
    REQUIRE(p.limits().size() == 2);
    const TimeNs window10 = 11 * kSecond, window60 = 61 * kSecond;
    // Sends as soon as each slot opens, for three minutes; then every window of either length
    // must hold no more than its limit.
    std::vector<TimeNs> sent;
    for (TimeNs now = p.next_slot(0); now < 180 * kSecond; now = p.next_slot(now)) {
        p.sent(now);
        sent.push_back(now);
    }
    for (size_t i = 0; i < sent.size(); ++i) {
        size_t in10 = 0, in60 = 0;
        for (size_t j = i; j < sent.size(); ++j) {
            in10 += sent[j] < sent[i] + window10;
            in60 += sent[j] < sent[i] + window60;
        }
        INFO(i);
        CHECK(in10 <= 3);
        CHECK(in60 <= 5);
    }
    // And the pace is the limits', not slower: 3 at 0 s, 2 at 11 s (the minute's 5), then the
    // same at 61 and 72 s, and at 122 and 133 s.
    CHECK(sent.size() == 5 * 3);
    CHECK(sent[3] == 11 * kSecond);
    CHECK(sent[5] == 61 * kSecond);
    // A later declaration of the same interval replaces it.
    p.declare({100, 10 * kSecond});
    CHECK(p.limits().size() == 2);
    CHECK(p.limits()[0].max_orders == 100);
}

TEST_CASE("live orders wait for the venue's order limit in time priority, never refused",
          "[live][pacer]") {
    Fixture f;
    f.venue->declare_order_limit(0, {2, 10 * kSecond});
    for (exec::OrderId id = 1; id <= 5; ++id) f.buy(id, 1, 0);
    // Two go out; the others wait (pending_new, counted against the gate), nobody is refused.
    CHECK(f.script.placed_ids == std::vector<std::string>{"ktest-1", "ktest-2"});
    CHECK(f.venue->open_orders() == 5);
    CHECK(f.venue->stats().paced == 3);
    for (const auto &e : f.out) CHECK(e.status == OrderStatus::pending_new);
    f.out.clear();
    // A cancel of a waiting order ends it here: it never reached the venue.
    REQUIRE(f.venue->cancel(4, kSecond, f.out));
    CHECK(f.statuses() == std::vector{OrderStatus::cancelled});
    CHECK(f.script.cancels.empty());
    f.venue->on_timer(10 * kSecond, f.out);
    CHECK(f.script.placed.size() == 2);  // the window (plus its guard second) is not over
    f.venue->on_timer(11 * kSecond, f.out);
    // Then the oldest first; a new order queues behind the one still waiting.
    CHECK(f.script.placed_ids ==
          std::vector<std::string>{"ktest-1", "ktest-2", "ktest-3", "ktest-5"});
    f.buy(6, 1, 11 * kSecond);
    CHECK(f.script.placed.size() == 4);
    f.venue->on_timer(22 * kSecond, f.out);
    CHECK(f.script.placed_ids.back() == "ktest-6");
    CHECK(f.venue->stats().sent == 5);
    CHECK(f.venue->stats().resent == 0);
}

TEST_CASE("live orders of one step go to the venue in one batch, in order", "[live][batch]") {
    Fixture f(true);
    for (exec::OrderId id = 1; id <= 3; ++id) f.buy(id, 1, 0);
    // Nothing leaves before the step ends; the gate already counts them.
    CHECK(f.script.batches.empty());
    CHECK(f.script.placed.empty());
    CHECK(f.venue->open_orders() == 3);
    CHECK(f.statuses() == std::vector(3, OrderStatus::pending_new));
    f.venue->flush(0, f.out);
    REQUIRE(f.script.batches.size() == 1);
    CHECK(f.script.batches[0] == std::vector<std::string>{"ktest-1", "ktest-2", "ktest-3"});
    CHECK(f.script.placed.empty());
    CHECK(f.venue->stats().sent == 3);
    CHECK(f.venue->stats().batches == 1);
    f.venue->flush(0, f.out);  // nothing new: nothing sent again
    CHECK(f.script.batches.size() == 1);
    // Each order lives on by its own client id.
    f.venue->on_update(f.update("ktest-2", KEEL_ORDER_STATE_NEW), 1, f.out);
    CHECK(f.statuses() == std::vector{OrderStatus::accepted});
    f.venue->on_update(f.refusal("ktest-3", KEEL_VENUE_FILTER), 1, f.out);
    REQUIRE(f.out.size() == 1);
    CHECK(f.out[0].id == 3);
    CHECK(f.out[0].status == OrderStatus::rejected);
    CHECK(f.out[0].reason == "VENUE_FILTER");
    f.out.clear();
    // A resend goes alone through place, with the same id.
    f.venue->on_update(f.refusal("ktest-1", KEEL_VENUE_RATE_LIMITED), 1, f.out);
    f.venue->on_timer(5 * kSecond, f.out);
    CHECK(f.script.placed_ids == std::vector<std::string>{"ktest-1"});
    CHECK(f.script.batches.size() == 1);
    CHECK(f.venue->stats().resent == 1);
}

TEST_CASE("live orders: a lone order goes through place, a cancelled one not at all",
          "[live][batch]") {
    Fixture f(true);
    f.buy(1, 1, 0);
    f.buy(2, 1, 0);
    REQUIRE(f.venue->cancel(2, 0, f.out));  // before the step ended: it never leaves
    CHECK(f.out.back().status == OrderStatus::cancelled);
    f.venue->flush(0, f.out);
    CHECK(f.script.batches.empty());
    CHECK(f.script.placed_ids == std::vector<std::string>{"ktest-1"});
    CHECK(f.script.cancels.empty());
    CHECK(f.venue->open_orders() == 1);
}

TEST_CASE("live orders without place_batch go one by one as they come", "[live][batch]") {
    Fixture f;
    f.buy(1, 1, 0);
    f.buy(2, 1, 0);
    CHECK(f.script.placed_ids == std::vector<std::string>{"ktest-1", "ktest-2"});
    f.venue->flush(0, f.out);
    CHECK(f.script.placed.size() == 2);
    CHECK(f.script.batches.empty());
    CHECK(f.venue->stats().batches == 0);
}

TEST_CASE("live orders: a batch the plugin could not send is each order rejected",
          "[live][batch]") {
    Fixture f(true);
    f.buy(1, 1, 0);
    f.buy(2, 1, 0);
    f.out.clear();
    f.script.refuse_handover = true;
    f.venue->flush(0, f.out);
    REQUIRE(f.out.size() == 2);
    for (const auto &e : f.out) {
        CHECK(e.status == OrderStatus::rejected);
        CHECK(e.reason == "VENUE_UNREACHABLE");
        CHECK(e.message == "not connected");
    }
    CHECK(f.venue->open_orders() == 0);
    CHECK(f.venue->stats().sent == 0);
}

TEST_CASE("live orders in a batch are paced one by one", "[live][batch][pacer]") {
    Fixture f(true);
    f.venue->declare_order_limit(0, {3, 10 * kSecond});
    for (exec::OrderId id = 1; id <= 5; ++id) f.buy(id, 1, 0);
    f.venue->flush(0, f.out);
    // Three fit the limit and go together; the others wait, and then go alone, oldest first.
    REQUIRE(f.script.batches.size() == 1);
    CHECK(f.script.batches[0] == std::vector<std::string>{"ktest-1", "ktest-2", "ktest-3"});
    CHECK(f.venue->stats().paced == 2);
    f.venue->on_timer(10 * kSecond, f.out);
    CHECK(f.script.placed.empty());  // the window (plus its guard second) is not over
    f.venue->on_timer(11 * kSecond, f.out);
    CHECK(f.script.placed_ids == std::vector<std::string>{"ktest-4", "ktest-5"});
    CHECK(f.script.batches.size() == 1);
    CHECK(f.venue->stats().sent == 5);
}

TEST_CASE("live orders: an amendment is the venue's to confirm or refuse", "[live][amend]") {
    Fixture f;
    f.buy(1, 2, 0, exec::OrderType::limit, 990);
    const std::string cid = f.script.placed_ids[0];
    std::string why;
    // Not acknowledged yet: nothing to amend at the venue.
    CHECK_FALSE(
        f.venue->amend(test::approve(f.limit_intent(3, 985), f.specs[0], f.book), 1, 0, why));
    CHECK(why == "the venue has not acknowledged it yet");
    f.venue->on_update(f.update(cid, KEEL_ORDER_STATE_NEW), 0, f.out);
    f.statuses();
    auto confirm = [&](Lots qty, Ticks price) {
        auto u = f.update(cid, KEEL_ORDER_STATE_NEW);
        u.qty = qty;
        u.price = price;
        return u;
    };
    SECTION("confirmed: amended, with the new quantity and price; a repeat changes nothing") {
        CHECK(f.venue->amend(test::approve(f.limit_intent(3, 985), f.specs[0], f.book), 1, kSecond,
                             why));
        REQUIRE(f.script.amends.size() == 1);
        CHECK(f.script.amends[0].client_order_id == cid);
        CHECK(f.script.amends[0].qty_lots == 3);
        CHECK(f.script.amends[0].price_ticks == 985);
        CHECK_FALSE(f.venue->amend(test::approve(f.limit_intent(4, 985), f.specs[0], f.book), 1,
                                   kSecond, why));
        CHECK(why == "an amendment of it is on its way");
        f.venue->on_update(confirm(3, 985), kSecond, f.out);  // the REST answer
        f.venue->on_update(confirm(3, 985), kSecond, f.out);  // the stream's AMENDMENT
        REQUIRE(f.out.size() == 1);
        CHECK(f.out[0].status == OrderStatus::amended);
        CHECK(f.out[0].qty == 3);
        CHECK(f.out[0].price == 985);
        CHECK(f.out[0].reason.empty());
        CHECK(f.venue->find_resting(1)->intent.price == 985);
        CHECK(f.venue->stats().amends == 1);
    }
    SECTION("refused: amended with the venue's reason, the order as it was") {
        CHECK(f.venue->amend(test::approve(f.limit_intent(3, 985), f.specs[0], f.book), 1, kSecond,
                             why));
        f.venue->on_update(f.refusal(cid, KEEL_VENUE_FILTER), kSecond, f.out);
        REQUIRE(f.out.size() == 1);
        CHECK(f.out[0].status == OrderStatus::amended);
        CHECK(f.out[0].reason == "VENUE_FILTER");
        CHECK(f.out[0].qty == 2);
        CHECK(f.out[0].price == 990);
        CHECK(f.venue->open_orders() == 1);
        CHECK(f.script.queries.empty());
    }
    for (const bool happened : {true, false}) {
        DYNAMIC_SECTION("unknown outcome: asked; the answer shows it "
                        << (happened ? "happened" : "did not")) {
            CHECK(f.venue->amend(test::approve(f.limit_intent(3, 985), f.specs[0], f.book), 1,
                                 kSecond, why));
            f.venue->on_update(f.refusal(cid, KEEL_VENUE_UNKNOWN_OUTCOME), kSecond, f.out);
            CHECK(f.out.empty());
            REQUIRE(f.script.queries == std::vector<std::string>{cid});
            f.venue->on_update(happened ? confirm(3, 985) : confirm(2, 990), 2 * kSecond, f.out);
            REQUIRE(f.out.size() == 1);
            CHECK(f.out[0].status == OrderStatus::amended);
            CHECK(f.out[0].price == (happened ? 985 : 990));
            CHECK(f.out[0].reason == (happened ? "" : "VENUE_UNKNOWN_OUTCOME"));
        }
    }
    SECTION("being cancelled: no amendment") {
        CHECK(f.venue->cancel(1, kSecond, f.out));
        CHECK_FALSE(f.venue->amend(test::approve(f.limit_intent(3, 985), f.specs[0], f.book), 1,
                                   kSecond, why));
        CHECK(why == "it is being cancelled");
        CHECK(f.script.amends.empty());
    }
    exec::OrderTracker t;
    CHECK(t.apply(1, OrderStatus::accepted));
    for (const auto &e : f.out) CHECK(t.apply(e.id, e.status));
}

TEST_CASE("live orders: a venue without amend_order refuses an amendment here", "[live][amend]") {
    Fixture f(false, false);
    f.buy(1, 2, 0, exec::OrderType::limit, 990);
    f.venue->on_update(f.update(f.script.placed_ids[0], KEEL_ORDER_STATE_NEW), 0, f.out);
    std::string why;
    CHECK_FALSE(
        f.venue->amend(test::approve(f.limit_intent(3, 985), f.specs[0], f.book), 1, 0, why));
    CHECK(why.find("cannot amend") != std::string::npos);
}

// ---- orders an earlier run left at the venue ---------------------------------------------------

namespace {

constexpr const char *kEarlier = "ktest0a1b2c-7";  // deployment "test", run 0a1b2c, order 7

// What the venue reports about an order resting there (its open orders, or the stream).
VenueOrderUpdate resting(const std::string &cid, uint32_t side, Lots qty, Ticks price, Lots filled,
                         TimeNs venue_ts) {
    VenueOrderUpdate u;
    u.client_order_id = cid;
    u.state = filled ? KEEL_ORDER_STATE_PARTIALLY_FILLED : KEEL_ORDER_STATE_NEW;
    u.side = side;
    u.qty = qty;
    u.price = price;
    u.filled = filled;
    u.ts = venue_ts;
    return u;
}

}  // namespace

TEST_CASE("client ids: this run's, an earlier run's of this deployment, or not keel's",
          "[live][adopt]") {
    Fixture f(false, true, "00c0de");
    f.buy(1, 2);
    CHECK(f.script.placed_ids[0] == "ktest00c0de-1");
    CHECK(f.venue->made_by_earlier_run(kEarlier));
    CHECK(f.venue->made_by_earlier_run("ktestffffff-123456"));
    CHECK_FALSE(f.venue->made_by_earlier_run("ktest00c0de-7"));  // this run's
    // Deployment "test1" or "tes": another config's, even where the rest looks like a run.
    CHECK_FALSE(f.venue->made_by_earlier_run("ktest10a1b2c-7"));
    CHECK_FALSE(f.venue->made_by_earlier_run("ktes0a1b2c-7"));
    CHECK_FALSE(f.venue->made_by_earlier_run("ktest0A1B2C-7"));  // keel writes lowercase hex
    CHECK_FALSE(f.venue->made_by_earlier_run("ktest0a1b2c-"));
    CHECK_FALSE(f.venue->made_by_earlier_run("ktest0a1b2c-7x"));
    CHECK_FALSE(f.venue->made_by_earlier_run("ktest0a1b2c_7"));
    CHECK_FALSE(f.venue->made_by_earlier_run("ktest0a1b-7"));
    CHECK_FALSE(f.venue->made_by_earlier_run("xtest0a1b2c-7"));
    CHECK_FALSE(f.venue->made_by_earlier_run("manual-1"));
    CHECK_FALSE(f.venue->made_by_earlier_run(""));
}

TEST_CASE(
    "live orders: an earlier run's open order is adopted and cancelled, a foreign one is "
    "left alone",
    "[live][adopt]") {
    Fixture f(false, true, "00c0de");
    const auto earlier = resting(kEarlier, KEEL_SIDE_SELL, 3, 1010, 0, 5 * kSecond);
    f.venue->on_update(earlier, 1, f.out);
    REQUIRE(f.out.size() == 2);
    const OrderEvent adopted = f.out[0];
    CHECK(adopted.status == OrderStatus::accepted);
    CHECK(adopted.reason == exec::kAdopted);
    CHECK(adopted.id == 100);  // the engine's next id
    CHECK(adopted.strategy == exec::kNoStrategy);
    CHECK(adopted.side == Side::sell);
    CHECK(adopted.type == exec::OrderType::limit);
    CHECK(adopted.qty == 3);
    CHECK(adopted.price == 1010);
    CHECK(adopted.filled == 0);
    CHECK(f.out[1].status == OrderStatus::pending_cancel);
    f.out.clear();
    CHECK(f.script.cancels == std::vector<std::string>{kEarlier});
    CHECK(f.script.placed.empty());  // nothing is ever placed for it
    CHECK(f.venue->stats().adopted == 1);
    // The gate counts it until the venue confirms the cancel.
    CHECK(f.venue->open_orders(0, 0).sell_qty == 3);
    CHECK(f.venue->resting_ids(exec::kNoStrategy) == std::vector<exec::OrderId>{100});

    // Reported again (the open orders and the stream): the same order, adopted once.
    f.venue->on_update(earlier, 2, f.out);
    CHECK(f.out.empty());
    CHECK(f.venue->stats().adopted == 1);
    CHECK(f.venue->open_orders() == 1);
    CHECK(f.script.cancels.size() == 1);
    auto gone = earlier;
    gone.state = KEEL_ORDER_STATE_CANCELED;
    f.venue->on_update(gone, 3, f.out);
    CHECK(f.statuses() == std::vector{OrderStatus::cancelled});
    CHECK(f.venue->open_orders() == 0);
    f.venue->on_update(earlier, 4, f.out);  // a late report of it: not adopted again
    CHECK(f.out.empty());
    CHECK(f.venue->stats().adopted == 1);
    CHECK(f.venue->stats().late_updates == 1);

    // Placed by hand, or by another deployment: reported once, never touched.
    for (const char *cid : {"manual-1", "kother0a1b2c-3"}) {
        const auto manual = resting(cid, KEEL_SIDE_BUY, 2, 990, 0, 6 * kSecond);
        f.venue->on_update(manual, 5, f.out);
        f.venue->on_update(manual, 6, f.out);
        auto done = manual;
        done.state = KEEL_ORDER_STATE_CANCELED;
        f.venue->on_update(done, 7, f.out);
    }
    CHECK(f.out.empty());
    CHECK(f.venue->stats().foreign_orders == 2);
    CHECK(f.venue->stats().unknown_updates == 0);
    CHECK(f.venue->stats().adopted == 1);
    CHECK(f.script.cancels.size() == 1);
    CHECK(f.venue->open_orders() == 0);
}

TEST_CASE(
    "live orders: with earlier_orders keep, an adopted order works on and only its new "
    "fills are booked",
    "[live][adopt]") {
    Fixture f(false, true, "00c0de", config::EarlierOrders::keep);
    SECTION("adopted from the open orders, partly filled by the earlier run") {
        f.venue->on_update(resting(kEarlier, KEEL_SIDE_BUY, 5, 990, 2, 10 * kSecond), 1, f.out);
        REQUIRE(f.out.size() == 1);
        CHECK(f.out[0].status == OrderStatus::accepted);
        CHECK(f.out[0].reason == exec::kAdopted);
        CHECK(f.out[0].filled == 2);
        CHECK(f.out[0].qty == 5);
        f.out.clear();
        CHECK(f.script.cancels.empty());
        CHECK(f.venue->open_orders(0, 0).buy_qty == 3);  // what is left to fill
        // The trade history repeats the earlier run's fills: already in the venue's position.
        auto before = f.fill(kEarlier, 0, 1, 990, 31, 0);
        before.ts = 9 * kSecond;
        f.venue->on_update(before, 2, f.out);
        CHECK(f.out.empty());
        // A fill after the adoption is booked.
        auto next = f.fill(kEarlier, KEEL_ORDER_STATE_PARTIALLY_FILLED, 2, 990, 32, 4);
        next.qty = 5;
        next.ts = 11 * kSecond;
        f.venue->on_update(next, 3, f.out);
        REQUIRE(f.out.size() == 1);
        CHECK(f.out[0].status == OrderStatus::partially_filled);
        CHECK(f.out[0].last_qty == 2);
        CHECK(f.out[0].filled == 4);
        f.out.clear();
        f.venue->on_update(next, 4, f.out);  // its copy from another channel
        CHECK(f.out.empty());
        // The session's end cancels it like any working order.
        CHECK(f.venue->cancel(100, 5, f.out));
        CHECK(f.statuses() == std::vector{OrderStatus::pending_cancel});
        CHECK(f.script.cancels == std::vector<std::string>{kEarlier});
        auto gone = next;
        gone.state = KEEL_ORDER_STATE_CANCELED;
        gone.last_qty = 0;
        f.venue->on_update(gone, 6, f.out);
        CHECK(f.statuses() == std::vector{OrderStatus::cancelled});
        CHECK(f.venue->open_orders() == 0);
    }
    SECTION("adopted from the stream's fill: that fill is booked, the earlier ones are not") {
        auto report = f.fill(kEarlier, KEEL_ORDER_STATE_PARTIALLY_FILLED, 1, 990, 41, 3);
        report.side = KEEL_SIDE_SELL;
        report.qty = 5;
        report.price = 990;
        report.ts = 20 * kSecond;
        f.venue->on_update(report, 1, f.out);
        REQUIRE(f.out.size() == 2);
        CHECK(f.out[0].reason == exec::kAdopted);
        CHECK(f.out[0].filled == 2);
        CHECK(f.out[1].status == OrderStatus::partially_filled);
        CHECK(f.out[1].last_qty == 1);
        CHECK(f.out[1].filled == 3);
        CHECK(f.venue->open_orders(0, 0).sell_qty == 2);
    }
    SECTION("an earlier run's order the venue reports ended, or without a side, is not adopted") {
        auto done = resting(kEarlier, KEEL_SIDE_BUY, 5, 990, 5, 10 * kSecond);
        done.state = KEEL_ORDER_STATE_FILLED;
        f.venue->on_update(done, 1, f.out);
        f.venue->on_update(resting("ktest0a1b2c-8", 0, 5, 990, 0, 10 * kSecond), 2, f.out);
        CHECK(f.out.empty());
        CHECK(f.venue->stats().adopted == 0);
        CHECK(f.venue->stats().unknown_updates == 2);
        CHECK(f.venue->open_orders() == 0);
    }
    CHECK(f.script.placed.empty());
}
