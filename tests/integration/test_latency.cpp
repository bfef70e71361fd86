// The fill simulator's latency inside the whole host, on the sim market (a book every 100 ms):
// orders reach the simulated venue later and meet the book of that moment, the engine wakes for
// an arrival between market events, cancels land later, the risk gate counts orders in flight,
// and sampled latencies are the same for a seed.

#include <catch2/catch.hpp>

#include <functional>

#include "keel/engine/engine.hpp"
#include "support/engine.hpp"
#include "support/support.hpp"

using namespace keel;
using engine::Engine;
using test::simulated;

namespace {

constexpr TimeNs kSecond = 1'000'000'000;

// Every order event as "tag:status[:reason]@<ms after the strategy's t0>", and the strategy's
// other globals.
const std::string kPrelude = R"(
local lines = {}
t0 = nil
function ms() return string.format("%.3f", (keel.now() - t0) * 1000) end
function on_order(o)
  lines[#lines + 1] = (o.tag or "?") .. ":" .. o.status .. (o.reason and (":" .. o.reason) or "")
                      .. "@" .. ms()
  log = table.concat(lines, " ")
  if o.fill_price and not fill_price then fill_price = o.fill_price end
end
)";

struct Session {
    engine::Summary summary;
    std::unique_ptr<Engine> engine;
    std::string global(const std::string &name) const {
        return engine->strategy("s")->global_as_string(name).value_or("");
    }
};

Session run(const std::string &body, const std::string &account, const std::string &risk = "",
            const std::function<void(Engine &)> &before = {}) {
    test::TempDir dir;
    dir.write("s.lua", kPrelude + body);
    auto cfg = config::load_file(dir.write("deploy.yaml", R"(venues:
  sim: { plugin: sim, settings: { seed: 12, tick_ms: 100 } }
instruments:
  - { symbol: BTCUSDT, venue: sim }
strategies:
  - { name: s, file: s.lua, instruments: [BTCUSDT] }
risk:
  max_orders_per_day: off
  no_duplicate_entry: false
)" + risk + "account:\n" + account));
    cfg.notifiers.clear();
    Session s;
    s.engine = std::make_unique<Engine>(cfg, simulated());
    if (before) before(*s.engine);
    s.summary = s.engine->run(20 * kSecond);
    CHECK(s.summary.illegal_transitions == 0);
    return s;
}

// A market buy on the 20th book; the best asks of the 20th and 21st books.
const std::string kMarketBuy = R"(
local n = 0
function on_book(inst, book)
  n = n + 1
  if n == 20 then
    t0 = keel.now()
    ask_sent = book:best_ask()
    keel.order{ instrument = inst, side = "buy", qty = 0.001, tag = "m" }
    open_after_order = #keel.open_orders()
  elseif n == 21 then
    ask_next = book:best_ask()
    next_book_ms = ms()
  end
end
)";

}  // namespace

TEST_CASE(
    "a market order with latency fills against the book when it arrives, between market "
    "events",
    "[engine][latency]") {
    auto at_once = run(kMarketBuy, "  taker_fee: 0.0004\n");
    auto late = run(kMarketBuy, "  order_latency_ms: 150\n");
    INFO(at_once.global("log") << " | " << late.global("log"));
    REQUIRE(late.global("ask_sent") == at_once.global("ask_sent"));  // the same market
    REQUIRE(late.global("ask_sent") != late.global("ask_next"));     // which moved in between
    CHECK(late.global("next_book_ms") == "100.000");

    CHECK(at_once.global("log") == "m:accepted@0.000 m:filled@0.000");
    CHECK(at_once.global("fill_price") == at_once.global("ask_sent"));
    // Sent at 0, pending until it reaches the venue 150 ms later, after the book of 100 ms and
    // before the next one at 200 ms: the engine wakes for it, and it takes that book's ask.
    CHECK(late.global("log") == "m:pending_new@0.000 m:accepted@150.000 m:filled@150.000");
    CHECK(late.global("fill_price") == late.global("ask_next"));
    CHECK(std::stoi(late.global("open_after_order")) == 1);  // working while in flight
    CHECK(std::stoi(at_once.global("open_after_order")) == 0);
}

TEST_CASE("a cancel with latency lands later and never before its order", "[engine][latency]") {
    const std::string body = R"(
local n = 0
function on_book(inst, book)
  n = n + 1
  if n ~= 20 then return end
  t0 = keel.now()
  local bid = book:best_bid()
  local id = keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit",
                         price = bid - 50, tag = "l" }
  assert(keel.cancel(id))
  open_after_cancel = #keel.open_orders()
end
)";
    auto s = run(body, "  order_latency_ms: 30\n  cancel_latency_ms: 80\n");
    CHECK(s.global("log") ==
          "l:pending_new@0.000 l:accepted@30.000 l:pending_cancel@30.000 "
          "l:cancelled:CANCELLED@80.000");
    CHECK(std::stoi(s.global("open_after_cancel")) == 1);
    auto quick = run(body, "  order_latency_ms: 30\n  cancel_latency_ms: 10\n");
    CHECK(quick.global("log") ==
          "l:pending_new@0.000 l:accepted@30.000 l:pending_cancel@30.000 "
          "l:cancelled:CANCELLED@30.000");
    auto none = run(body, "  taker_fee: 0.0004\n");
    CHECK(none.global("log") == "l:accepted@0.000 l:cancelled:CANCELLED@0.000");
    CHECK(std::stoi(none.global("open_after_cancel")) == 0);
}

TEST_CASE("the risk gate counts orders in flight", "[engine][latency]") {
    // Two market buys in one callback under max_open_orders 1, then two reduce-only sells of the
    // whole position: in flight, the first of each pair is a working order.
    const std::string body = R"(
local n = 0
function on_book(inst, book)
  n = n + 1
  if n == 20 then
    t0 = keel.now()
    keel.order{ instrument = inst, side = "buy", qty = 0.001, tag = "b1" }
    keel.order{ instrument = inst, side = "buy", qty = 0.001, tag = "b2" }
  elseif n == 25 then
    local qty = keel.position(inst).qty
    keel.order{ instrument = inst, side = "sell", qty = qty, reduce_only = true, tag = "s1" }
    keel.order{ instrument = inst, side = "sell", qty = qty, reduce_only = true, tag = "s2" }
  end
end
)";
    auto late = run(body, "  order_latency_ms: 40\n", "  max_open_orders: 1\n");
    auto at_once = run(body, "  taker_fee: 0.0004\n", "  max_open_orders: 1\n");
    INFO(late.global("log") << " | " << at_once.global("log"));
    CHECK_THAT(late.global("log"), Catch::Contains("b2:rejected:MAX_OPEN_ORDERS"));
    CHECK_THAT(late.global("log"), Catch::Contains("s2:rejected:REDUCE_ONLY_INCREASES"));
    CHECK(late.engine->portfolio().position(0).qty == 0);  // never flipped short
    // At once, the first has filled before the second is asked: both buys pass.
    CHECK_THAT(at_once.global("log"), !Catch::Contains("MAX_OPEN_ORDERS"));
    CHECK_THAT(at_once.global("log"), Catch::Contains("s2:rejected:REDUCE_ONLY_INCREASES"));
}

TEST_CASE("sampled latencies give the same session for the same seed", "[engine][latency]") {
    const std::string body = R"(
local n = 0
function on_book(inst, book)
  n = n + 1
  if n == 20 then t0 = keel.now() end
  if n >= 20 and n < 60 and n % 4 == 0 then
    local bid = book:best_bid()
    local id = keel.order{ instrument = inst, side = n % 8 == 0 and "buy" or "sell",
                           qty = 0.001, tag = tostring(n) }
    local l = keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit",
                          price = bid, tag = "q" .. n }
    if n % 8 == 4 then keel.cancel(l) end
  end
end
)";
    const std::string account = R"(  order_latency: { dist: lognormal, median_ms: 20, p99_ms: 120 }
  cancel_latency: { dist: uniform, min_ms: 5, max_ms: 300 }
  latency_seed: )";
    auto a = run(body, account + "1\n");
    auto b = run(body, account + "1\n");
    auto c = run(body, account + "2\n");
    INFO(a.global("log"));
    CHECK(a.global("log").size() > 200);
    CHECK(a.global("log") == b.global("log"));
    CHECK(a.summary.fills == b.summary.fills);
    CHECK(a.summary.equity == b.summary.equity);
    CHECK(a.global("log") != c.global("log"));  // the seed draws other latencies
}

TEST_CASE("the kill switch flattens with latency, sending each exit once", "[engine][latency]") {
    // A long and a resting bid; the kill switch at 10 s. Its exit takes 300 ms to arrive, three
    // book updates during which the kill switch keeps advancing: it waits for its exit instead
    // of sending more (which the gate would refuse as not reducing).
    const std::string body = R"(
local n = 0
function on_book(inst, book)
  n = n + 1
  if n == 20 then
    t0 = keel.now()
    keel.order{ instrument = inst, side = "buy", qty = 0.002, tag = "entry" }
    keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit",
                price = book:best_bid() - 50, tag = "bid" }
  end
end
)";
    auto kill = [](Engine &e) {
        e.schedule(engine::Command::kill_switch, simulated().simulated_start + 10 * kSecond,
                   "test");
    };
    auto s = run(body, "  order_latency_ms: 300\n  cancel_latency_ms: 150\n", "", kill);
    INFO(s.global("log"));
    CHECK(s.summary.kill_switches_done == 1);
    CHECK(s.summary.trading_state == "HALTED");
    CHECK(s.engine->portfolio().position(0).qty == 0);
    CHECK(s.summary.vetoes == 0);
    CHECK(s.summary.fills == 2);  // the entry and one exit
    CHECK_THAT(s.global("log"),
               Catch::Contains("bid:pending_cancel") && Catch::Contains("bid:cancelled:CANCELLED"));
}

TEST_CASE("on the wall clock the engine wakes for an arrival between market events",
          "[engine][latency]") {
    // A book every second; a market order 300 ms after one. Without a wake-up for the arrival
    // the order would wait for the next book, about 1,000 ms after it was sent.
    test::TempDir dir;
    dir.write("s.lua", kPrelude + R"(
local n = 0
function on_book(inst, book)
  n = n + 1
  if n == 2 then
    t0 = keel.now()
    keel.order{ instrument = inst, side = "buy", qty = 0.001, tag = "m" }
  elseif t0 and not next_book_ms then
    next_book_ms = ms()
  end
end
)");
    auto cfg = config::load_file(dir.write("deploy.yaml", R"(venues:
  sim: { plugin: sim, settings: { seed: 12, tick_ms: 1000 } }
instruments:
  - { symbol: BTCUSDT, venue: sim }
strategies:
  - { name: s, file: s.lua, instruments: [BTCUSDT] }
account:
  order_latency_ms: 300
)"));
    cfg.notifiers.clear();
    auto options = simulated();
    options.clock = engine::ClockKind::wall;
    options.watch_strategy_files = false;
    Engine e(cfg, options);
    auto summary = e.run(TimeNs{3500} * 1'000'000);
    CHECK(summary.illegal_transitions == 0);
    std::string log = e.strategy("s")->global_as_string("log").value_or("");
    INFO(log);
    auto at = log.find("m:accepted@");
    REQUIRE(at != std::string::npos);
    double accepted_ms = std::stod(log.substr(at + 11));
    CHECK(accepted_ms >= 300);
    CHECK(accepted_ms < 800);  // a loaded machine's lateness, far from the next book
    double next_book = std::stod(e.strategy("s")->global_as_string("next_book_ms").value_or("0"));
    CHECK(next_book > 800);
}
