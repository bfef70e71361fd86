// Backtest, paper replay and shadow agree (issue 7): a shadow session trades the real USD-M
// BTCUSDT capture as the loopback Binance venue (tests/venue) streams it over real TLS
// WebSockets, with fills from keel's simulator, and records what it received. That recording is
// then run through `keel backtest` (the CLI, as a user runs it) and as a paper session with
// `replay:` (the engine in this process). The strategy orders only in reaction to market events,
// market and limit orders, so the simulator walks the book and keeps queue positions; all three
// runs must place the same orders (id, side, type, quantity, price) and get the same events and
// fills (price, quantity, fee, maker or taker), in the same order.
//
// What can legitimately differ, and is kept out of the strategy: anything on a clock. A shadow
// session decides on the wall clock when it processes a frame, a replay on the frame's recorded
// receive time (docs/execution.md, "Shadow, paper replay and backtest agree").

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <simdjson.h>

#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/net/transport.hpp"
#include "loopback_venue.hpp"
#include "support/engine.hpp"
#include "support/support.hpp"
#include "usdm_reference.hpp"

using namespace keel;
using namespace std::chrono_literals;

namespace {

// Trades on the top-5 imbalance, only in reaction to the market (no timers, no clock). When the
// signal turns (bid side over 3 times the ask side, or the reverse) at least GAP book events
// after its last action, it withdraws its resting orders and sends:
//  - a market order for the whole best level plus one lot of the next, capped, so the fill
//    walks the book (unless the position is at its cap);
//  - a limit at the touch on its own side, which joins the back of the queue: it fills as
//    maker once trades have eaten the volume ahead of it, or when the market comes through;
//  - a limit a few ticks beyond the touch on the other side, which fills when the market
//    reaches it.
// Every order it sends and every event it receives goes on `tape`; with param echo, also to the
// log (how a `keel backtest` child shows it).
constexpr const char *kStrategy = R"(
local INST, LOT, TICK = "BTCUSDT", 0.001, 0.1
local GAP, MAX_POS, MAX_TAKE = 50, 0.03, 0.025
local ECHO = keel.param("echo", { type = "boolean", default = false })

tape = ""
orders, fills, maker_fills, taker_fills, walks = 0, 0, 0, 0, 0
local events, last, signal = 0, -GAP, 0
local market_fills = {}  -- market order id -> fills so far

local function note(line)
  tape = tape .. line .. "\n"
  if ECHO then keel.log.info("tape " .. line) end
end

local function lots(q) return math.floor(q / LOT + 0.5) * LOT end

local function order(t)
  local id = keel.order(t)
  orders = orders + 1
  if t.type == "market" then market_fills[id] = 0 end
  note(string.format("order %d %s %s %s %.3f %s", id, t.instrument, t.side, t.type, t.qty,
                     t.price and string.format("%.1f", t.price) or "-"))
end

function on_book(inst, book)
  events = events + 1
  local r = book:imbalance(5)
  if not r then return end
  local s = 0
  if r > 3 then s = 1 elseif r < 1 / 3 then s = -1 end
  local turned = s ~= signal
  signal = s
  if not turned or s == 0 or events - last < GAP then return end
  last = events
  for _, id in ipairs(keel.open_orders()) do
    local ok, why = keel.cancel(id)
    note(string.format("cancel %d %s", id, ok and "ok" or tostring(why)))
  end
  local bid, bid_qty = book:best_bid()
  local ask, ask_qty = book:best_ask()
  local pos = keel.position(inst).qty
  if s > 0 then
    if pos < MAX_POS then
      order{ instrument = inst, side = "buy", type = "market",
             qty = math.min(lots(ask_qty + LOT), MAX_TAKE) }
    end
    order{ instrument = inst, side = "buy", type = "limit", price = bid, qty = 2 * LOT }
    order{ instrument = inst, side = "sell", type = "limit", price = ask + 5 * TICK, qty = 2 * LOT }
  else
    if pos > -MAX_POS then
      order{ instrument = inst, side = "sell", type = "market",
             qty = math.min(lots(bid_qty + LOT), MAX_TAKE) }
    end
    order{ instrument = inst, side = "sell", type = "limit", price = ask, qty = 2 * LOT }
    order{ instrument = inst, side = "buy", type = "limit", price = bid - 5 * TICK, qty = 2 * LOT }
  end
end

function on_order(o)
  local line = string.format("event %d %s %s %s", o.id, o.side, o.status, o.reason or "")
  if o.fill_qty then
    fills = fills + 1
    local maker = o.fee < 0.0003 * o.fill_price * o.fill_qty
    if maker then maker_fills = maker_fills + 1 else taker_fills = taker_fills + 1 end
    if market_fills[o.id] then
      market_fills[o.id] = market_fills[o.id] + 1
      if market_fills[o.id] == 2 then walks = walks + 1 end
    end
    line = line .. string.format(" fill %.3f @ %.1f fee %.8f %s", o.fill_qty, o.fill_price, o.fee,
                                 maker and "maker" or "taker")
  end
  note(line)
end
)";

// The deployment, with `venue` (how the binance venue gets its data) in the middle and
// `account` (more account keys) at the end.
std::string deployment(const std::string &mode, const std::string &venue, bool echo,
                       const std::string &account = "") {
    return fmt::format(R"(mode: {}
venues:
  binance:
    plugin: binance
{}
instruments:
  - {{ symbol: BTCUSDT, venue: binance }}
strategies:
  - name: agree
    file: agree.lua
    instruments: [BTCUSDT]
    params: {{ echo: {} }}
risk:
  max_order_notional: 2000
  max_position_notional: 3000
  max_position_pct: 30
  max_instrument_exposure_pct: 30
  max_open_orders: 10
  no_duplicate_entry: false
  max_orders_per_day: 100000
  # The venue streams 6 minutes of capture in a few seconds: at that pace a per-second limit
  # would veto by the processing clock, which a replay cannot know (docs/execution.md).
  max_orders_per_second: 100000
account:
  starting_balance: 10000
  maker_fee: 0.0002
  taker_fee: 0.0004
  funding_interval_h: 0  # funding is due on a clock too
{})",
                       mode, venue, echo, account);
}

struct Run {
    std::string tape;
    uint64_t orders = 0, fills = 0, cancels = 0, vetoes = 0;
};

Run from_engine(engine::Engine &e, const engine::Summary &s) {
    Run r;
    r.tape = *e.strategy("agree")->global_as_string("tape");
    r.orders = s.orders;
    r.fills = s.fills;
    r.cancels = s.cancels;
    r.vetoes = s.vetoes;
    return r;
}

double global(const engine::Engine &e, const char *name) {
    return std::stod(*e.strategy("agree")->global_as_string(name));
}

// The venue's progress through the capture (GET /keel-test/state): frames sent and in all.
std::pair<uint64_t, uint64_t> venue_progress(net::Transport &t, const test::LoopbackVenue &venue) {
    std::mutex m;
    std::condition_variable cv;
    std::optional<net::HttpAnswer> answer;
    if (!t.http("GET", venue.https() + "/keel-test/state", "", "", 5s, [&](net::HttpAnswer a) {
            std::lock_guard lock(m);
            answer = std::move(a);
            cv.notify_all();
        }))
        return {0, 0};
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, 10s, [&] { return answer.has_value(); }) || answer->status != 200)
        return {0, 0};
    simdjson::dom::parser parser;
    simdjson::dom::element market;
    if (parser.parse(answer->body)["market"].get(market)) return {0, 0};
    uint64_t sent = 0, total = 0;
    if (market["sent"].get(sent) || market["total"].get(total)) return {0, 0};
    return {sent, total};
}

// The tape lines that `keel backtest` logged, in order.
std::string tape_from_log(const std::string &log) {
    std::string tape, line;
    std::istringstream in(log);
    while (std::getline(in, line)) {
        auto at = line.find("] tape ");
        if (at != std::string::npos) tape += line.substr(at + 7) + "\n";
    }
    return tape;
}

size_t count(const std::string &tape, const std::string &what) {
    size_t n = 0;
    for (size_t p = 0; (p = tape.find(what, p)) != std::string::npos; p += what.size()) ++n;
    return n;
}

// The first line where two tapes differ, for the failure message.
std::string first_difference(const std::string &a, const std::string &b) {
    std::istringstream x(a), y(b);
    std::string lx, ly;
    for (size_t n = 1;; ++n) {
        bool gx = static_cast<bool>(std::getline(x, lx)),
             gy = static_cast<bool>(std::getline(y, ly));
        if (!gx && !gy) return "none";
        if (!gx || !gy || lx != ly)
            return fmt::format("line {}: \"{}\" vs \"{}\"", n, gx ? lx : "<end>",
                               gy ? ly : "<end>");
    }
}

}  // namespace

TEST_CASE("backtest, paper replay and shadow of the same capture give the same orders and fills",
          "[data][shadow][network][modes]") {
    test::TempDir dir;
    dir.write("agree.lua", kStrategy);
    const auto info = test::usdm::kExchangeInfo.string();

    // 1. Shadow: the venue's streams over TLS, the simulator's fills, a recording of the frames.
    Run shadow;
    double maker = 0, taker = 0, walks = 0;
    {
        test::LoopbackVenue venue(dir);
        auto cfg = config::load_file(
            dir.write("shadow.yaml",
                      deployment("shadow",
                                 fmt::format(R"(    ca_file: {0}/venue.crt
    record: {0}/recorded
    settings:
      market: usdm
      exchange_info: {1}
      rest_url: {2}
      ws_url: {3}
      streams: depth,trade)",
                                             dir.path().string(), info, venue.https(), venue.wss()),
                                 false)));
        cfg.notifiers.clear();
        engine::EngineOptions options;  // the wall clock
        options.plugin_search = {KEEL_PLUGIN_DIR};
        options.watch_strategy_files = false;
        engine::Engine e(cfg, options);
        e.prepare();
        // Stop once the venue has sent the whole capture and the session has had time to take
        // it in. (Where it stops does not matter for the comparison: the recording holds exactly
        // the frames the session processed.)
        std::atomic<bool> done{false};
        std::thread watcher([&] {
            net::Transport t(venue.cert().string());
            while (!done.load()) {
                auto [sent, total] = venue_progress(t, venue);
                if (total > 0 && sent == total) {
                    std::this_thread::sleep_for(1s);
                    break;
                }
                std::this_thread::sleep_for(200ms);
            }
            e.request_stop();
        });
        auto summary = e.run(TimeNs{30} * 1'000'000'000);
        done = true;
        watcher.join();
        INFO("venue stderr: " << venue.process().err());
        REQUIRE(summary.market.size() == 1);
        CHECK(summary.market[0].sync.gaps == 0);
        CHECK(summary.market[0].resyncs == 0);  // one connection throughout: nothing unrecorded
        CHECK(summary.malformed_frames == 0);
        CHECK(summary.strategy_errors == 0);
        shadow = from_engine(e, summary);
        maker = global(e, "maker_fills");
        taker = global(e, "taker_fills");
        walks = global(e, "walks");
    }
    std::filesystem::path recording;
    for (const auto &f : std::filesystem::directory_iterator(dir.path() / "recorded"))
        recording = f.path();
    REQUIRE(!recording.empty());

    // The comparison means something: many orders, fills of both kinds, market orders that
    // walked the book, resting orders cancelled.
    INFO("shadow: " << shadow.orders << " orders, " << shadow.fills << " fills (" << maker
                    << " maker, " << taker << " taker), " << walks << " walks, " << shadow.cancels
                    << " cancels, " << shadow.vetoes << " vetoes");
    CHECK(shadow.orders >= 100);
    CHECK(shadow.fills >= 100);
    CHECK(maker >= 20);
    CHECK(taker >= 20);
    CHECK(walks >= 3);
    CHECK(shadow.cancels >= 20);

    const std::string replayed = fmt::format(R"(    replay: {}
    settings:
      market: usdm
      exchange_info: {})",
                                             recording.string(), info);

    // 2. `keel backtest` of the recording, as a user runs it.
    Run backtest;
    {
        auto file = dir.write("backtest.yaml", deployment("paper", replayed, true));
        auto r = test::run({test::keel_binary(), "backtest", file.string(), "--report",
                            (dir.path() / "report").string()},
                           60s);
        INFO(r.err.substr(0, 4000));
        REQUIRE(r.code == 0);
        backtest.tape = tape_from_log(r.err);
        simdjson::dom::parser parser;
        simdjson::dom::element s =
            parser.load((dir.path() / "report/report.json").string())["summary"];
        backtest.orders = uint64_t(s["orders"]);
        backtest.fills = uint64_t(s["fills"]);
        backtest.cancels = uint64_t(s["cancels"]);
        backtest.vetoes = uint64_t(s["vetoes"]);
    }

    // 3. A paper session replaying the recording in this process.
    Run paper;
    {
        auto cfg = config::load_file(dir.write("paper.yaml", deployment("paper", replayed, false)));
        cfg.notifiers.clear();
        auto options = test::simulated();
        options.watch_strategy_files = false;
        engine::Engine e(cfg, options);
        auto summary = e.run(TimeNs{3600} * 1'000'000'000);  // the recording ends first
        paper = from_engine(e, summary);
    }

    INFO("backtest vs shadow: " << first_difference(backtest.tape, shadow.tape));
    INFO("paper vs shadow: " << first_difference(paper.tape, shadow.tape));
    CHECK(count(shadow.tape, "\n") > 300);
    CHECK(backtest.tape == shadow.tape);
    CHECK(paper.tape == shadow.tape);
    for (const Run *r : {&backtest, &paper}) {
        CHECK(r->orders == shadow.orders);
        CHECK(r->fills == shadow.fills);
        CHECK(r->cancels == shadow.cancels);
        CHECK(r->vetoes == shadow.vetoes);
    }
}

TEST_CASE("with sampled latency, backtest and paper replay of the capture still agree",
          "[data][modes][latency]") {
    // The fill simulator's latency runs on the replay's clock, so a backtest and a paper replay
    // of one recording draw the same latencies and make the same orders and fills; with another
    // seed, or none, they differ.
    test::TempDir dir;
    dir.write("agree.lua", kStrategy);
    const std::string replayed =
        fmt::format(R"(    replay: {}
    settings:
      market: usdm
      exchange_info: {})",
                    test::usdm::kCapture.string(), test::usdm::kExchangeInfo.string());
    const std::string latency = R"(  order_latency: { dist: lognormal, median_ms: 20, p99_ms: 120 }
  cancel_latency: { dist: uniform, min_ms: 5, max_ms: 60 }
  latency_seed: )";
    auto paper = [&](const std::string &account) {
        auto cfg = config::load_file(
            dir.write("paper.yaml", deployment("paper", replayed, false, account)));
        cfg.notifiers.clear();
        auto options = test::simulated();
        options.watch_strategy_files = false;
        engine::Engine e(cfg, options);
        auto summary = e.run(TimeNs{3600} * 1'000'000'000);  // the recording ends first
        CHECK(summary.illegal_transitions == 0);
        return from_engine(e, summary);
    };
    Run late = paper(latency + "3\n");
    Run backtest;
    {
        auto file =
            dir.write("backtest.yaml", deployment("paper", replayed, true, latency + "3\n"));
        auto r = test::run({test::keel_binary(), "backtest", file.string(), "--report",
                            (dir.path() / "report").string()},
                           60s);
        INFO(r.err.substr(0, 4000));
        REQUIRE(r.code == 0);
        backtest.tape = tape_from_log(r.err);
    }
    Run other_seed = paper(latency + "4\n");
    Run at_once = paper("");
    INFO(late.orders << " orders, " << late.fills << " fills, " << late.cancels << " cancels");
    INFO("backtest vs paper: " << first_difference(backtest.tape, late.tape));
    CHECK(late.orders >= 100);
    CHECK(late.fills >= 100);
    CHECK(count(late.tape, "pending_new") >= 100);
    CHECK(count(late.tape, "pending_cancel") >= 10);
    CHECK(backtest.tape == late.tape);
    CHECK(other_seed.tape != late.tape);
    CHECK(at_once.tape != late.tape);
    CHECK(count(at_once.tape, "pending_new") == 0);
}
