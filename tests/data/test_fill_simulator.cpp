// The paper fill simulator against a real market: the Binance USD-M BTCUSDT capture in
// ../shared/data replayed through the codec and BookSync, with a market order walking the real
// book and resting limits queueing behind the real volume at their price.

#include <catch2/catch.hpp>

#include <map>

#include "codec.hpp"
#include "keel/exec/order_state.hpp"
#include "keel/exec/paper_venue.hpp"
#include "keel/exec/portfolio.hpp"
#include "keel/market/book_sync.hpp"
#include "keel/market/capture.hpp"
#include "keel/risk/risk_gate.hpp"

using namespace keel;
using binance::MessageKind;
using exec::OrderEvent;

namespace {

InstrumentSpec btcusdt() {
    InstrumentSpec s;
    s.id = s.symbol = "BTCUSDT";
    s.tick_size = 0.1;
    s.lot_size = 0.001;
    return s;
}

// The venue only takes approved orders: approve through a gate with every limit off.
risk::ApprovedOrder approve(const exec::OrderIntent &intent,
                            const std::vector<InstrumentSpec> &specs, const market::Book &book) {
    config::RiskLimits l;
    l.order = config::OrderLimits{};
    l.daily_loss_pct = l.max_drawdown_pct = config::OrderLimits::kOff;
    l.max_open_orders = l.max_open_positions = l.max_orders_per_day = 0;
    l.max_orders_per_second = 0;
    exec::AccountSettings big;  // a deep account: the venue, not the account, is under test
    big.starting_balance = Money::from_double(1e8);
    big.leverage = {100};
    exec::Portfolio pf(specs, big);
    risk::RiskGate gate(l, specs, {});
    auto r = gate.check(intent, risk::RiskContext{specs[0], book, pf, {}, 0});
    if (auto *v = std::get_if<risk::Veto>(&r)) FAIL(risk::code(v->reason) << ": " << v->message);
    return std::move(std::get<risk::ApprovedOrder>(r));
}

Lots level_qty(const market::Book &b, Side side, Ticks price) {
    return b.volume_to_price(side, price) -
           b.volume_to_price(side, side == Side::buy ? price + 1 : price - 1);
}

// One resting order and, independently of the simulator, what the market did at its price.
struct Watch {
    exec::OrderId id = 0;
    Side side = Side::buy;
    Ticks price = 0;
    Lots ahead0 = 0, min_level = 0, traded_at = 0;
    bool through = false;
    Lots filled = 0;
    uint64_t checked_fills = 0;
};

}  // namespace

TEST_CASE("paper fills on the real BTCUSDT book: levels walked, queues respected, fees exact",
          "[data][fills]") {
    std::vector<InstrumentSpec> specs{btcusdt()};
    config::Account account;
    account.maker_fee = 0.0002;
    account.taker_fee = 0.0005;
    exec::PaperVenue venue(account, specs);
    auto tick = *market::DecimalGrid::parse("0.10");
    auto lot = *market::DecimalGrid::parse("0.001");
    binance::Codec codec(tick, lot);
    market::Book book;
    market::BookSync sync(market::SequenceRule::binance_futures);
    market::CaptureReader reader(std::filesystem::path(KEEL_DATA_DIR) /
                                 "binance/usdm/ws_capture/btcusdt_20240808.gz");
    NotionalScale scale(0.1, 0.001);
    Rate maker = Rate::from_double(account.maker_fee), taker = Rate::from_double(account.taker_fee);

    uint64_t applied = 0;
    bool placed = false;
    Watch watches[2];
    std::vector<OrderEvent> out;
    TimeNs ts = 0;
    std::string_view frame;

    // Each fill of a resting order: the market must have traded through its price, or traded
    // at its price at least the volume that was ahead (less what left the level).
    auto check_events = [&] {
        for (auto &e : out) {
            for (auto &w : watches) {
                if (e.id != w.id || e.last_qty == 0) continue;
                INFO("order " << w.id << " fill " << e.last_qty << " traded at price "
                              << w.traded_at << " ahead " << w.ahead0 << " level low "
                              << w.min_level);
                CHECK(e.last_price == w.price);
                CHECK(e.maker);
                CHECK(e.last_fee == maker.of(scale.notional(e.last_price, e.last_qty)));
                bool queue_done = w.traded_at + (w.ahead0 - w.min_level) >= w.ahead0;
                CHECK((w.through || queue_done));
                w.filled += e.last_qty;
                ++w.checked_fills;
            }
        }
        out.clear();
    };

    while (reader.next(ts, frame)) {
        auto kind = codec.parse(frame, reader.capacity());
        if (kind == MessageKind::snapshot) {
            const auto &s = codec.snapshot();
            sync.on_snapshot(s.last_update_id, s.bids, s.asks, book);
        } else if (kind == MessageKind::depth) {
            const auto &d = codec.depth();
            if (sync.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks, book) !=
                    market::SyncStatus::applied ||
                !book.valid())
                continue;
            ++applied;
            if (!placed && applied == 200) {
                placed = true;
                // A market buy of the first two ask levels and half the third.
                Lots want = book.level(Side::sell, 0)->qty + book.level(Side::sell, 1)->qty +
                            book.level(Side::sell, 2)->qty / 2;
                REQUIRE(want > 0);
                exec::OrderIntent m;
                m.strategy = 0;
                m.side = Side::buy;
                m.qty = want;
                venue.submit(approve(m, specs, book), 1, book, ts, out);
                REQUIRE(out.size() == 4);  // accepted, three fills
                for (int k = 0; k < 3; ++k) {
                    auto lv = *book.level(Side::sell, static_cast<size_t>(k));
                    CHECK(out[1 + k].last_price == lv.price);
                    CHECK(out[1 + k].last_qty == (k < 2 ? lv.qty : lv.qty / 2));
                    CHECK(out[1 + k].last_fee ==
                          taker.of(scale.notional(out[1 + k].last_price, out[1 + k].last_qty)));
                }
                CHECK(out.back().status == exec::OrderStatus::filled);
                out.clear();
                // Resting orders at both touches, joining the back of their queues.
                const std::pair<Side, Ticks> sides[] = {{Side::buy, book.best_bid()->price},
                                                        {Side::sell, book.best_ask()->price}};
                for (int k = 0; k < 2; ++k) {
                    auto &w = watches[k];
                    w.id = 10 + static_cast<exec::OrderId>(k);
                    w.side = sides[k].first;
                    w.price = sides[k].second;
                    w.ahead0 = w.min_level = level_qty(book, w.side, w.price);
                    exec::OrderIntent l;
                    l.strategy = 0;
                    l.side = w.side;
                    l.type = exec::OrderType::limit;
                    l.price = w.price;
                    l.qty = 50;  // 0.05 BTC
                    venue.submit(approve(l, specs, book), w.id, book, ts, out);
                    CHECK(venue.find_resting(w.id)->ahead == w.ahead0);
                }
                out.clear();
            } else if (placed) {
                for (auto &w : watches) {
                    w.min_level = std::min(w.min_level, level_qty(book, w.side, w.price));
                    auto touch = w.side == Side::buy ? book.best_ask() : book.best_bid();
                    if (w.side == Side::buy ? touch->price <= w.price : touch->price >= w.price)
                        w.through = true;
                }
                venue.on_book(0, book, ts, out);
                check_events();
            }
        } else if (kind == MessageKind::trade && placed) {
            const auto &t = codec.trade();
            Side aggressor = t.buyer_is_maker ? Side::sell : Side::buy;
            for (auto &w : watches) {
                if (aggressor == w.side) continue;
                if (t.price == w.price) w.traded_at += t.qty;
                if (w.side == Side::buy ? t.price < w.price : t.price > w.price) w.through = true;
            }
            venue.on_trade(0, t.price, t.qty, aggressor, ts, out);
            check_events();
        }
    }
    INFO("buy filled " << watches[0].filled << ", sell filled " << watches[1].filled);
    CHECK(placed);
    // The capture is long enough for at least one side to trade through its queue.
    CHECK(watches[0].checked_fills + watches[1].checked_fills > 0);
}

// ---- latency -----------------------------------------------------------------------------------

namespace {

constexpr TimeNs kMs = 1'000'000;

// Replays the capture through codec and sync: `before(ts, book)` ahead of every depth diff and
// trade (the book still as it was), then `on_book(ts, book, n)` after each applied diff (n counts
// them) or `on_trade(ts, trade)`.
template <typename Before, typename OnBook, typename OnTrade>
void replay_capture(Before before, OnBook on_book, OnTrade on_trade) {
    auto tick = *market::DecimalGrid::parse("0.10");
    auto lot = *market::DecimalGrid::parse("0.001");
    binance::Codec codec(tick, lot);
    market::Book book;
    market::BookSync sync(market::SequenceRule::binance_futures);
    market::CaptureReader reader(std::filesystem::path(KEEL_DATA_DIR) /
                                 "binance/usdm/ws_capture/btcusdt_20240808.gz");
    TimeNs ts = 0;
    std::string_view frame;
    uint64_t applied = 0;
    while (reader.next(ts, frame)) {
        auto kind = codec.parse(frame, reader.capacity());
        if (kind == MessageKind::snapshot) {
            const auto &s = codec.snapshot();
            sync.on_snapshot(s.last_update_id, s.bids, s.asks, book);
        } else if (kind == MessageKind::depth) {
            before(ts, book);
            const auto &d = codec.depth();
            if (sync.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks, book) ==
                    market::SyncStatus::applied &&
                book.valid())
                on_book(ts, book, ++applied);
        } else if (kind == MessageKind::trade) {
            before(ts, book);
            on_trade(ts, codec.trade());
        }
    }
}

exec::PaperVenue::Books books_of(const market::Book &b) {
    return [&b](InstrumentIndex) -> const market::Book * { return b.valid() ? &b : nullptr; };
}

// What a market buy of `qty` takes from `asks`, level by level.
std::vector<std::pair<Ticks, Lots>> walk(const std::vector<market::Level> &asks, Lots qty) {
    std::vector<std::pair<Ticks, Lots>> out;
    for (const auto &lv : asks) {
        if (qty == 0) break;
        Lots take = std::min(qty, lv.qty);
        out.emplace_back(lv.price, take);
        qty -= take;
    }
    return out;
}

std::vector<market::Level> top_asks(const market::Book &b, size_t n) {
    std::vector<market::Level> out;
    for (size_t i = 0; i < n; ++i)
        if (auto lv = b.level(Side::sell, i)) out.push_back(*lv);
    return out;
}

}  // namespace

TEST_CASE("with 50 ms of order latency market orders walk the real book of their arrival",
          "[data][fills][latency]") {
    std::vector<InstrumentSpec> specs{btcusdt()};
    config::Account account;
    account.taker_fee = 0.0005;
    account.order_latency.ms = 50;
    exec::PaperVenue venue(account, specs);
    // A market buy on every 50th diff: the first two ask levels and half the third as the book
    // stands when it is sent; the asks when it is sent and when it arrives.
    struct Sent {
        TimeNs ts = 0;
        Lots want = 0;
        std::vector<market::Level> asks_sent, asks_met;
    };
    std::map<exec::OrderId, Sent> sent;
    std::vector<OrderEvent> out;
    replay_capture(
        [&](TimeNs ts, const market::Book &book) {
            // The first event after an arrival: the book is still the one the order arrived at.
            for (auto &[id, s] : sent)
                if (s.asks_met.empty() && ts > s.ts + 50 * kMs) s.asks_met = top_asks(book, 500);
            venue.advance(ts, false, books_of(book), out);
        },
        [&](TimeNs ts, const market::Book &book, uint64_t n) {
            if (n % 50 != 0) return;
            Sent s;
            s.ts = ts;
            s.asks_sent = top_asks(book, 500);
            s.want = s.asks_sent[0].qty + s.asks_sent[1].qty + s.asks_sent[2].qty / 2;
            exec::OrderIntent m;
            m.strategy = 0;
            m.side = Side::buy;
            m.qty = s.want;
            const auto id = static_cast<exec::OrderId>(n / 50);
            venue.submit(approve(m, specs, book), id, book, ts, out);
            sent.emplace(id, std::move(s));
        },
        [&](TimeNs, const binance::Trade &) {});
    REQUIRE(sent.size() >= 100);
    CHECK_FALSE(venue.in_flight());
    exec::OrderTracker tracker;
    for (const auto &e : out) CHECK(tracker.apply(e.id, e.status));
    NotionalScale scale(0.1, 0.001);
    Rate taker = Rate::from_double(account.taker_fee);
    size_t moved = 0;
    for (auto &[id, s] : sent) {
        INFO("order " << id << " sent at " << s.ts);
        REQUIRE_FALSE(s.asks_met.empty());
        auto expected = walk(s.asks_met, s.want);
        if (expected != walk(s.asks_sent, s.want)) ++moved;
        std::vector<OrderEvent> events;
        for (const auto &e : out)
            if (e.id == id) events.push_back(e);
        REQUIRE(events.size() == 2 + expected.size());
        CHECK(events[0].status == exec::OrderStatus::pending_new);
        CHECK(events[0].ts == s.ts);
        CHECK(events[1].status == exec::OrderStatus::accepted);
        CHECK(events[1].ts == s.ts + 50 * kMs);
        for (size_t k = 0; k < expected.size(); ++k) {
            const auto &e = events[2 + k];
            CHECK(e.last_price == expected[k].first);
            CHECK(e.last_qty == expected[k].second);
            CHECK(e.last_fee == taker.of(scale.notional(e.last_price, e.last_qty)));
            CHECK_FALSE(e.maker);
            CHECK(e.ts == s.ts + 50 * kMs);
        }
        CHECK(events.back().status == exec::OrderStatus::filled);
    }
    // For some of them (6 of the 130 on this capture) the levels they walk moved within those
    // 50 ms, so filling on the book of the sending would have given other fills.
    INFO(moved << " of " << sent.size() << " met a book that had moved");
    CHECK(moved >= 5);
}

TEST_CASE("with cancel latency a resting order on the real book fills before its cancel lands",
          "[data][fills][latency]") {
    std::vector<InstrumentSpec> specs{btcusdt()};
    // Resting orders at both touches on the 200th diff; `cancel_at` cancels one of them at the
    // first event at or after that time. Returns every event.
    auto session = [&](double cancel_ms, exec::OrderId cancel_id, TimeNs cancel_at, TimeNs *asked) {
        config::Account account;
        account.cancel_latency.ms = cancel_ms;
        exec::PaperVenue venue(account, specs);
        std::vector<OrderEvent> all, out;
        bool cancelled = false;
        replay_capture(
            [&](TimeNs ts, const market::Book &book) {
                venue.advance(ts, false, books_of(book), out);
                if (cancel_id && !cancelled && ts >= cancel_at) {
                    cancelled = true;
                    *asked = ts;
                    CHECK(venue.cancel(cancel_id, ts, out));
                }
                all.insert(all.end(), out.begin(), out.end());
                out.clear();
            },
            [&](TimeNs ts, const market::Book &book, uint64_t n) {
                if (n == 200) {
                    const std::pair<Side, Ticks> sides[] = {{Side::buy, book.best_bid()->price},
                                                            {Side::sell, book.best_ask()->price}};
                    for (exec::OrderId id = 1; id <= 2; ++id) {
                        exec::OrderIntent l;
                        l.strategy = 0;
                        l.side = sides[id - 1].first;
                        l.type = exec::OrderType::limit;
                        l.price = sides[id - 1].second;
                        l.qty = 50;
                        venue.submit(approve(l, specs, book), id, book, ts, out);
                    }
                } else if (n > 200) {
                    venue.on_book(0, book, ts, out);
                }
                all.insert(all.end(), out.begin(), out.end());
                out.clear();
            },
            [&](TimeNs ts, const binance::Trade &t) {
                venue.on_trade(0, t.price, t.qty, t.buyer_is_maker ? Side::sell : Side::buy, ts,
                               out);
                all.insert(all.end(), out.begin(), out.end());
                out.clear();
            });
        venue.advance(INT64_MAX, true, books_of(market::Book{}), all);
        return all;
    };
    TimeNs unused = 0;
    // Without a cancel: the first fill of either order.
    auto free_run = session(0, 0, 0, &unused);
    const OrderEvent *first = nullptr;
    for (auto &e : free_run)
        if (e.last_qty > 0) {
            first = &e;
            break;
        }
    REQUIRE(first != nullptr);
    const exec::OrderId id = first->id;
    const TimeNs fill_at = first->ts;
    INFO("order " << id << " first filled " << first->last_qty << " at " << fill_at);

    // Cancelled 100 ms before that fill with 200 ms of cancel latency: the fill still happens.
    TimeNs asked = 0;
    auto late = session(200, id, fill_at - 100 * kMs, &asked);
    REQUIRE(asked < fill_at);
    REQUIRE(asked + 200 * kMs > fill_at);
    exec::OrderTracker tracker;
    Lots filled = 0;
    bool pending_cancel = false, ended = false;
    for (auto &e : late) {
        CHECK(tracker.apply(e.id, e.status));
        if (e.id != id) continue;
        if (e.status == exec::OrderStatus::pending_cancel) {
            pending_cancel = true;
            CHECK(e.ts == asked);
        }
        if (e.last_qty > 0) {
            CHECK(e.ts <= asked + 200 * kMs);
            CHECK(pending_cancel);
            filled += e.last_qty;
        }
        if (e.status == exec::OrderStatus::filled) {
            ended = true;
            CHECK(e.reason == "CANCEL_TOO_LATE");
        }
        if (e.status == exec::OrderStatus::cancelled) {
            ended = true;
            CHECK(e.ts == asked + 200 * kMs);
            CHECK(e.filled == filled);
        }
    }
    CHECK(ended);
    CHECK(filled >= first->last_qty);

    // The same cancel without latency: cancelled at once, nothing filled.
    auto quick = session(0, id, fill_at - 100 * kMs, &asked);
    Lots quick_filled = 0;
    for (auto &e : quick)
        if (e.id == id) {
            quick_filled += e.last_qty;
            if (e.status == exec::OrderStatus::cancelled) CHECK(e.ts == asked);
        }
    CHECK(quick_filled == 0);
}
