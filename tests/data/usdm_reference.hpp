#pragma once
// The real Binance USD-M BTCUSDT capture as the engine must see it: a reference rebuild (codec +
// BookFeed, no engine, no plugin) of every usable book event, and a Lua strategy that sums what
// every on_book shows, so a session (a replay, or a shadow session against the loopback venue)
// can be compared with the reference event for event.

#include <filesystem>

#include <fmt/format.h>

#include "codec.hpp"
#include "keel/engine/engine.hpp"
#include "keel/market/book_feed.hpp"
#include "keel/market/capture.hpp"

namespace keel::test::usdm {

inline const std::filesystem::path kData = KEEL_DATA_DIR;
inline const auto kCapture = kData / "binance/usdm/ws_capture/btcusdt_20240808.gz";
inline const auto kExchangeInfo =
    kData / "binance/usdm/rest/http_futures_market_exchange_info.json";

// Sums what every on_book saw, in ticks and lots (BTCUSDT: tick 0.1, lot 0.001), so one wrong
// level at any event changes a total.
inline constexpr const char *kWatcher = R"(
n, bid_ticks, ask_ticks, top_lots, crossed = 0, 0, 0, 0, 0
function on_book(inst, book)
  local b, bq = book:best_bid()
  local a, aq = book:best_ask()
  n = n + 1
  bid_ticks = bid_ticks + math.floor(b / 0.1 + 0.5)
  ask_ticks = ask_ticks + math.floor(a / 0.1 + 0.5)
  top_lots = top_lots + math.floor(bq / 0.001 + 0.5) + math.floor(aq / 0.001 + 0.5)
  if b >= a then crossed = crossed + 1 end
end
-- Between events too, a book that is not whole shows nothing.
invalid_ticks, leaked = 0, 0
function on_start() keel.every(0.25) end
function on_timer(id)
  local b = keel.book("BTCUSDT")
  if not b:valid() then
    invalid_ticks = invalid_ticks + 1
    if b:best_bid() or b:best_ask() or b:mid() then leaked = leaked + 1 end
  end
end
)";

struct Tops {
    uint64_t n = 0;
    int64_t bid_ticks = 0, ask_ticks = 0, top_lots = 0;
    void add(const market::Book &b) {
        ++n;
        bid_ticks += b.best_bid()->price;
        ask_ticks += b.best_ask()->price;
        top_lots += b.best_bid()->qty + b.best_ask()->qty;
    }
    void add_event(const Tops &o) {
        n += o.n;
        bid_ticks += o.bid_ticks;
        ask_ticks += o.ask_ticks;
        top_lots += o.top_lots;
    }
    void remove(const Tops &o) {
        n -= o.n;
        bid_ticks -= o.bid_ticks;
        ask_ticks -= o.ask_ticks;
        top_lots -= o.top_lots;
    }
};

// One applied book event of the reference rebuild: what a strategy sees after it.
struct Event {
    Tops tops;             // just this event's top of book
    uint64_t last_id = 0;  // u of the delta (or the snapshot id)
};

// The reference: codec + BookFeed on the capture, no engine, no plugin.
struct Reference {
    std::vector<Event> events;  // every usable, applied event in order
    Tops total;
    market::Book final_book;
    std::string snapshot;  // the book after event `snapshot_at` as a bare snapshot line

    explicit Reference(const std::filesystem::path &file, size_t snapshot_at) {
        binance::Codec codec(*market::DecimalGrid::parse("0.10"),
                             *market::DecimalGrid::parse("0.001"));
        market::BookFeed feed(market::SequenceRule::binance_futures);
        market::CaptureReader reader(file);
        TimeNs ts;
        std::string_view frame;
        while (reader.next(ts, frame)) {
            auto kind = codec.parse(frame, reader.capacity());
            market::SyncStatus s;
            uint64_t id = 0;
            if (kind == binance::MessageKind::snapshot) {
                const auto &snap = codec.snapshot();
                s = feed.on_snapshot(snap.last_update_id, snap.bids, snap.asks, ts);
                id = snap.last_update_id;
            } else if (kind == binance::MessageKind::depth) {
                const auto &d = codec.depth();
                s = feed.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks, ts);
                id = d.last;
            } else {
                continue;
            }
            if (s != market::SyncStatus::applied || !feed.usable()) continue;
            Event e;
            e.tops.add(feed.book());
            e.last_id = id;
            total.add(feed.book());
            events.push_back(e);
            if (events.size() - 1 == snapshot_at) snapshot = snapshot_line(feed.book(), id);
        }
        final_book = feed.book();
    }

    static std::string snapshot_line(const market::Book &b, uint64_t id) {
        auto side = [&](Side sd) {
            std::string out;
            b.visit(sd, [&](const market::Level &l) {
                out += fmt::format("{}[\"{}.{}\",\"{}.{:03}\"]", out.empty() ? "" : ",",
                                   l.price / 10, l.price % 10, l.qty / 1000, l.qty % 1000);
                return true;
            });
            return out;
        };
        return fmt::format(R"({{"lastUpdateId":{},"E":0,"T":0,"bids":[{}],"asks":[{}]}})", id,
                           side(Side::buy), side(Side::sell));
    }
};

// What the watcher strategy of a finished session summed.
inline Tops watched_tops(const engine::Engine &e) {
    auto num = [&](const char *g) {
        return std::stod(*e.strategy("watcher")->global_as_string(g));
    };
    Tops t;
    t.n = static_cast<uint64_t>(num("n"));
    t.bid_ticks = static_cast<int64_t>(num("bid_ticks"));
    t.ask_ticks = static_cast<int64_t>(num("ask_ticks"));
    t.top_lots = static_cast<int64_t>(num("top_lots"));
    return t;
}

}  // namespace keel::test::usdm
