// The risk gate inside the whole host: a Lua strategy that tries every way around it, the kill
// switch on a multi-instrument paper portfolio, and the drawdown manager's automatic flatten.
// The sim venue and a simulated clock, so each run is deterministic and fast.

#include <catch2/catch.hpp>

#include "keel/engine/engine.hpp"
#include "support/engine.hpp"
#include "support/support.hpp"

using namespace keel;
using Catch::Matchers::Contains;
using engine::Command;
using engine::Engine;
using test::simulated;

namespace {

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kStart = 1'767'225'600 * kSecond;  // EngineOptions' simulated start

config::Config deployment(const test::TempDir &dir, const std::string &name,
                          const std::string &source, const std::string &risk) {
    dir.write(name + ".lua", source);
    return config::load_file(
        dir.write("deploy.yaml", R"(mode: paper
venues:
  sim:
    plugin: sim
    settings: { seed: 11, tick_ms: 100 }
instruments:
  - { symbol: BTCUSDT, venue: sim }
  - { symbol: ETHUSDT, venue: sim }
  - { symbol: SOLUSDT, venue: sim, kind: spot }
strategies:
  - { name: )" + name + ", file: " + name +
                                     R"(.lua, instruments: [BTCUSDT, ETHUSDT, SOLUSDT] }
risk:
)" + risk));
}

}  // namespace

TEST_CASE("a strategy that tries every way around the gate gets nothing past it",
          "[engine][risk]") {
    test::TempDir dir;
    auto cfg = deployment(dir, "breaker", R"(
-- Each market event, one more attempt of each kind. The strategy records what it saw: the test
-- then checks that nothing over a limit ever filled.
attempts, accepted_while_halted, max_btc, max_btc_value = 0, 0, 0, 0
submitted_halted = {}
codes = {}
local function try(t)
  local halted = keel.risk.state().state ~= "ACTIVE"
  t.instrument = t.instrument or "BTCUSDT"
  t.strategy = 99999   -- not a field: a strategy cannot pass as the host
  local id = keel.order(t)
  attempts = attempts + 1
  if halted then submitted_halted[id] = true end
  return id
end
function on_order(o)
  if o.reason then codes[o.reason] = (codes[o.reason] or 0) + 1 end
  if submitted_halted[o.id] and o.status ~= "rejected" then
    accepted_while_halted = accepted_while_halted + 1
  end
end
local tick = keel.instrument("BTCUSDT").tick_size
local function px(x) return math.floor(x / tick + 0.5) * tick end
function on_book(inst, book)
  if inst ~= "BTCUSDT" then return end
  local p = keel.position("BTCUSDT").qty
  local mid = book:mid()
  if math.abs(p) > max_btc then max_btc = math.abs(p) end
  if math.abs(p) * mid > max_btc_value then max_btc_value = math.abs(p) * mid end
  -- 1. far over max_order_notional
  try{ side = "buy", qty = 0.1 }
  -- 2. scale in under the order limit until the position limit
  try{ side = "buy", qty = 0.015 }
  -- 3. a reduce-only "exit" that would flip the position
  if p > 0 then try{ side = "sell", qty = p * 3, reduce_only = true } end
  -- 4. bracket legs: a take-profit and a stop leg, each for the whole position, both resting
  if p > 0 then
    try{ side = "sell", qty = p, type = "limit", price = px(mid * 1.01), reduce_only = true }
    try{ side = "sell", qty = p, type = "limit", price = px(mid * 1.02), reduce_only = true }
  end
  -- 5. a fat-fingered limit
  try{ side = "buy", qty = 0.001, type = "limit", price = px(mid * 1.5) }
  -- 6. a short on spot
  try{ instrument = "SOLUSDT", side = "sell", qty = 1 }
  -- 7. a burst
  for k = 1, 60 do try{ side = "sell", qty = 0.001 } end
end
)",
                          R"(  max_order_notional: 1000
  max_position_notional: 3000
  max_position_pct: 50
  max_open_orders: 3
  max_orders_per_second: 50
  max_orders_per_day: off
  no_duplicate_entry: false
  price_band_pct: 2
  max_instrument_exposure_pct: off
)");
    Engine e(cfg, simulated());
    e.schedule(Command::halt, kStart + 20 * kSecond, "test: halted phase");
    e.schedule(Command::resume, kStart + 30 * kSecond, "test: resume");
    auto summary = e.run(40 * kSecond);
    auto *s = e.strategy("breaker");
    REQUIRE(s);
    auto number = [&](const char *name) { return std::stod(*s->global_as_string(name)); };
    std::string vetoes;
    for (auto &[code, n] : summary.vetoes_by_reason) vetoes += code + "=" + std::to_string(n) + " ";
    INFO("vetoes " << vetoes << " orders " << summary.orders);
    CHECK(number("attempts") > 1000);
    CHECK(number("accepted_while_halted") == 0);
    // 3,000 at ~60,000 is 0.05 BTC; no order can have taken the position past it.
    CHECK(number("max_btc") <= 0.051);
    CHECK(number("max_btc") >= 0.04);  // the scale-in did reach the limit
    for (const char *code :
         {"MAX_ORDER_NOTIONAL", "MAX_POSITION_NOTIONAL", "REDUCE_ONLY_INCREASES",
          "MAX_ORDERS_PER_SECOND", "PRICE_BAND", "INSUFFICIENT_BALANCE", "HALTED"}) {
        INFO(code);
        CHECK(summary.vetoes_by_reason.count(code) == 1);
    }
    CHECK(summary.trading_state == "ACTIVE");
    CHECK(summary.strategy_errors == 0);
}

TEST_CASE("the kill switch flattens a multi-instrument paper portfolio and reports done",
          "[engine][risk]") {
    test::TempDir dir;
    auto cfg = deployment(dir, "builder", R"(
-- Opens a long, a short and a spot holding, keeps a resting order, and keeps trying after the
-- kill switch.
after_kill_accepted = 0
local opened = false
function on_book(inst, book)
  local state = keel.risk.state().state
  if not opened and inst == "SOLUSDT" then
    opened = true
    keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.02 }
    keel.order{ instrument = "ETHUSDT", side = "sell", qty = 0.3 }
    keel.order{ instrument = "SOLUSDT", side = "buy", qty = 5 }
    keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.001, type = "limit",
                price = math.floor(keel.book("BTCUSDT"):best_bid() * 0.9) }  -- rests
  elseif opened and state ~= "ACTIVE" then
    keel.order{ instrument = inst, side = "buy", qty = 0.001, tag = "after" }
  end
end
function on_order(o)
  if o.tag == "after" and o.status ~= "rejected" then after_kill_accepted = after_kill_accepted + 1 end
end
)",
                          R"(  max_order_notional: 2000
  max_position_notional: 3000
  max_position_pct: 30
  no_duplicate_entry: false
  price_band_pct: 20
  max_orders_per_second: off
  max_orders_per_day: off
)");
    Engine e(cfg, simulated());
    e.schedule(Command::kill_switch, kStart + 10 * kSecond, "test: flatten everything");
    auto summary = e.run(20 * kSecond);
    CHECK(summary.kill_switches == 1);
    CHECK(summary.kill_switches_done == 1);
    CHECK(summary.trading_state == "HALTED");
    CHECK_THAT(summary.trading_state_reason,
               Contains("kill switch done: manual: test: flatten everything"));
    for (auto &p : summary.positions) {
        INFO(p.instrument);
        CHECK(p.qty == 0);
    }
    CHECK(summary.positions.size() == 3);  // all three had been opened
    CHECK(summary.cancels >= 1);           // the resting limit
    CHECK(std::stod(*e.strategy("builder")->global_as_string("after_kill_accepted")) == 0);
    CHECK(e.portfolio().open_positions() == 0);
}

TEST_CASE("the CRITICAL drawdown level flattens and halts by itself", "[engine][risk]") {
    test::TempDir dir;
    // Fees and the spread alone put a fresh position a hair under water: a CRITICAL level at
    // 0.001 % trips on the first fill.
    auto cfg = deployment(dir, "unlucky", R"(
local done = false
function on_book(inst, book)
  if done or inst ~= "BTCUSDT" then return end
  done = true
  keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.02 }
end
)",
                          R"(  max_order_notional: 2000
  max_position_notional: 3000
  max_position_pct: 30
  drawdown_levels:
    - { name: CRITICAL, at_pct: 0.001, size: 0, action: flatten }
)");
    Engine e(cfg, simulated());
    auto summary = e.run(10 * kSecond);
    CHECK(summary.drawdown_level == "CRITICAL");
    CHECK(summary.kill_switches == 1);
    CHECK(summary.kill_switches_done == 1);
    CHECK(summary.trading_state == "HALTED");
    for (auto &p : summary.positions) CHECK(p.qty == 0);
    CHECK(summary.fills == 2);  // the entry and the kill switch's exit
}

TEST_CASE("sizing helpers and the risk state reach Lua", "[engine][risk]") {
    test::TempDir dir;
    auto cfg = deployment(dir, "sizer", R"(
size = keel.risk.size("BTCUSDT", { risk_pct = 2, entry = 45000, stop = 44500, equity = 10000 })
kelly = keel.risk.kelly(0.55, 2, 1, 0.5)
stop = keel.risk.atr_stop("BTCUSDT", "buy", 60000.05, 66.87, 2)
short_stop = keel.risk.atr_stop("BTCUSDT", "sell", 60000.05, 66.87, 2)
bad, why = keel.risk.size("BTCUSDT", { risk_pct = 2, entry = 100, stop = 100 })
local r = keel.risk.state()
state, level, factor = r.state, r.drawdown_level, r.size_factor
)",
                          "  capital_stage: small\n");
    Engine e(cfg, simulated());
    e.run(1 * kSecond);
    auto *s = e.strategy("sizer");
    CHECK(s->global_as_string("size") == "0.4");  // seed 001: 200 / 500
    CHECK(std::stod(*s->global_as_string("kelly")) == Approx((0.55 - 0.45 / 2) * 0.5));
    CHECK(s->global_as_string("stop") == "59866.3");        // 60000.05 - 133.74, down to tick
    CHECK(s->global_as_string("short_stop") == "60133.8");  // up to tick
    CHECK_FALSE(s->global_as_string("bad"));
    CHECK_THAT(*s->global_as_string("why"), Contains("stop distance"));
    CHECK(s->global_as_string("state") == "ACTIVE");
    CHECK(s->global_as_string("level") == "NORMAL");
    CHECK(s->global_as_string("factor") == "0.5");
}
