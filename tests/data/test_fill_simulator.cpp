// The paper fill simulator against a real market: the Binance USD-M BTCUSDT capture in
// ../shared/data replayed through the codec and BookSync, with a market order walking the real
// book and resting limits queueing behind the real volume at their price.

#include <catch2/catch.hpp>

#include "codec.hpp"
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
