// The strategy API beyond books and orders: timers, candle history, declared params, signals,
// and deactivating a strategy at run time.

#include <catch2/catch.hpp>

#include <fmt/format.h>

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
constexpr TimeNs kStart = 1'767'225'600 * kSecond;

config::Config one(const test::TempDir &dir, const std::string &source,
                   const std::string &extra = "") {
    dir.write("s.lua", source);
    auto cfg = config::load_file(dir.write("deploy.yaml", R"(venues:
  sim: { plugin: sim, settings: { seed: 4, tick_ms: 100 } }
instruments:
  - { symbol: BTCUSDT, venue: sim }
strategies:
  - { name: s, file: s.lua, instruments: [BTCUSDT], timeframes: [1s, 1m])" +
                                                              extra + R"( }
)"));
    cfg.notifiers.clear();
    return cfg;
}

std::string global(const Engine &e, const char *name) {
    return e.strategy("s")->global_as_string(name).value_or("nil");
}

}  // namespace

TEST_CASE("timers fire on the engine clock, once or every period, until cancelled",
          "[engine][lua]") {
    test::TempDir dir;
    auto cfg = one(dir, R"(
every_fired, after_fired, cancelled_fired, times = 0, 0, 0, {}
function on_start()
  every = keel.every(2)
  after = keel.after(3.5)
  doomed = keel.every(1)
  keel.cancel_timer(doomed)
  cancel_again = tostring(keel.cancel_timer(doomed))
end
function on_timer(id)
  if id == every then every_fired = every_fired + 1; times[#times + 1] = keel.now() end
  if id == after then after_fired = after_fired + 1 end
  if id == doomed then cancelled_fired = cancelled_fired + 1 end
end
first_gap = function() return times[2] - times[1] end
)");
    Engine e(cfg, simulated());
    e.run(11 * kSecond);
    CHECK(global(e, "every_fired") == "5");  // 2, 4, 6, 8, 10
    CHECK(global(e, "after_fired") == "1");
    CHECK(global(e, "cancelled_fired") == "0");
    CHECK(global(e, "cancel_again") == "false");
    CHECK(std::stod(global(e, "times.1")) == Approx(static_cast<double>(kStart) / 1e9 + 2));
    CHECK(std::stod(global(e, "times.5")) == Approx(static_cast<double>(kStart) / 1e9 + 10));
}

TEST_CASE("keel.candles returns the last closed candles, oldest first", "[engine][lua]") {
    test::TempDir dir;
    auto cfg = one(dir, R"(
function on_candle(tf, c)
  if tf ~= "1s" then return end
  local last = keel.candles(c.instrument, "1s", 3)
  n = #last
  newest_is_this = tostring(last[#last].time == c.time and last[#last].close == c.close)
  ordered = tostring(n < 2 or last[1].time < last[2].time)
  minutes = #keel.candles(c.instrument, "1m", 10)
end
)");
    Engine e(cfg, simulated());
    e.run(150 * kSecond);
    CHECK(global(e, "n") == "3");
    CHECK(global(e, "newest_is_this") == "true");
    CHECK(global(e, "ordered") == "true");
    CHECK(global(e, "minutes") == "2");
}

TEST_CASE("declared params are typed, checked against their bounds, and required",
          "[engine][lua][config]") {
    const std::string declaring = R"(
ratio = keel.param("buy_ratio", { type = "number", default = 3, min = 1, max = 10 })
levels = keel.param("levels", { type = "integer", default = 5, min = 1 })
mode = keel.param("mode", { type = "string", default = "fast", choices = { "fast", "slow" } })
on = keel.param("enabled", { type = "boolean", default = true })
)";
    test::TempDir dir;
    {
        Engine e(one(dir, declaring, ", params: { buy_ratio: 2.5, mode: slow }"), simulated());
        e.prepare();
        CHECK(global(e, "ratio") == "2.5");
        CHECK(global(e, "levels") == "5");
        CHECK(global(e, "mode") == "slow");
        CHECK(global(e, "on") == "true");
    }
    auto error_of = [&](const std::string &params) -> std::string {
        Engine e(one(dir, declaring, ", params: { " + params + " }"), simulated());
        try {
            e.prepare();
        } catch (const strategy::StrategyError &err) {
            return err.what();
        }
        return "no error";
    };
    CHECK_THAT(error_of("buy_ratio: 20"),
               Contains("deploy.yaml:6:") &&
                   Contains("strategies[0].params.buy_ratio: expected a number from 1 to 10, "
                            "found \"20\""));
    CHECK_THAT(error_of("levels: 2.5"), Contains("params.levels: expected an integer >= 1"));
    CHECK_THAT(error_of("mode: turbo"), Contains("params.mode: expected one of fast, slow"));
    CHECK_THAT(error_of("enabled: yes"), Contains("params.enabled: expected true or false"));
    CHECK_THAT(error_of("buy_ratoi: 2"),
               Contains("params.buy_ratoi: unknown param (did you mean \"buy_ratio\"?)"));
    Engine req(one(dir, "x = keel.param('needed', { type = 'number' })"), simulated());
    CHECK_THROWS_WITH(req.prepare(), Contains("params.needed: required by the strategy"));
}

TEST_CASE("signals are exported and counted", "[engine][lua]") {
    test::TempDir dir;
    auto cfg = one(dir, R"(
local sent = false
function on_book(inst, book)
  if sent then return end
  sent = true
  local bid = book:best_bid()
  keel.signal{ name = "RSI_Oversold_5m_Reversal", instrument = inst, direction = "long",
               entry = bid, stop = bid - 500, target = bid + 1000, confidence = 0.7 }
  local ok, e = pcall(keel.signal, { instrument = inst, direction = "long", entry = 0 / 0 })
  nan_error = e
end
)");
    Engine e(cfg, simulated());
    auto summary = e.run(2 * kSecond);
    CHECK(summary.signals == 1);
    CHECK(summary.orders == 0);
    CHECK_THAT(global(e, "nan_error"), Contains("entry must be a finite number"));
}

TEST_CASE("a deactivated strategy gets no market callbacks until activated", "[engine][lua]") {
    test::TempDir dir;
    auto cfg = one(dir, R"(
books, ticks = 0, 0
keel.every(1)
function on_book(inst, book) books = books + 1 end
function on_timer(id) ticks = ticks + 1 end
)",
                   ", active: false");
    Engine e(cfg, simulated());
    e.schedule(Command::activate, kStart + 5 * kSecond, "test", "s");
    e.schedule(Command::deactivate, kStart + 8 * kSecond, "test", "s");
    e.run(10 * kSecond);
    CHECK(std::stod(global(e, "books")) == Approx(30).margin(2));  // 5 s .. 8 s at 10 a second
    CHECK(global(e, "ticks") == "3");  // 5, 6, 7 s: a command runs before timers due with it
}

TEST_CASE("with jit: true the FFI fast path answers exactly like the C API", "[engine][lua]") {
    test::TempDir dir;
    const char *source = R"(
trace, events = {}, 0
function on_book(inst, book)
  events = events + 1
  if events > 200 then return end
  local b, bq = book:best_bid()
  local a, aq = book:best_ask()
  trace[#trace + 1] = string.format("%.10g %.10g %.10g %.10g %.10g %.10g %.10g %s", b, bq, a, aq,
    book:mid(), book:spread(), book:microprice(), tostring(book:imbalance(5)))
  joined = table.concat(trace, "|")
end
local ok, e = pcall(function() return keel.book("BTCUSDT").mid({}) end)
misuse = e
sandbox = tostring(ffi) .. " " .. tostring(jit)
)";
    dir.write("classic.lua", source);
    dir.write("fast.lua", source);
    auto cfg = config::load_file(dir.write("deploy.yaml", R"(venues:
  sim: { plugin: sim, settings: { seed: 4, tick_ms: 100 } }
instruments:
  - { symbol: BTCUSDT, venue: sim }
strategies:
  - { name: classic, file: classic.lua, instruments: [BTCUSDT] }
  - { name: fast, file: fast.lua, instruments: [BTCUSDT], jit: true }
)"));
    cfg.notifiers.clear();
    Engine e(cfg, simulated());
    e.run(30 * kSecond);
    auto classic = e.strategy("classic")->global_as_string("joined");
    auto fast = e.strategy("fast")->global_as_string("joined");
    REQUIRE(classic);
    CHECK(std::count(classic->begin(), classic->end(), '|') == 199);
    CHECK(fast == classic);
    CHECK_THAT(*e.strategy("fast")->global_as_string("misuse"), Contains("not a book"));
    CHECK(e.strategy("fast")->global_as_string("sandbox") == "nil nil");
}

TEST_CASE("with jit: true orders go through the FFI with exactly the C API's outcomes",
          "[engine][lua]") {
    // Every kind of order, good and bad, from one strategy file run once in each mode (each in a
    // session of its own, so neither sees the other's positions).
    const char *source = R"(
trace = {}
local function try(t)
  local ok, r = pcall(keel.order, t)
  trace[#trace + 1] = ok and ("id " .. tostring(r)) or ("error " .. tostring(r))
end
function on_book(inst, book)
  if sent then return end
  sent = true
  local bid = book:best_bid()
  try{ instrument = inst, side = "buy", qty = 0.001, tag = "plain" }
  try{ instrument = inst, side = "sell", qty = 0.001, type = "limit", price = bid + 50,
       post_only = true, tif = "GTC" }
  try{ instrument = inst, side = "buy", qty = 0.001, type = "limit", price = bid - 50,
       stop_loss = bid - 100, take_profit = bid + 100, timeframe = "5m" }
  try{ instrument = inst, side = "sell", qty = 0.001, type = "trailing_stop", trail = 20 }
  try{ instrument = inst, side = "buy", qty = 0.0015 }                        -- off the grid
  try{ instrument = inst, side = "buy", qty = 0/0 }
  try{ instrument = inst, side = "buy", qty = 0.001, type = "limit", price = 0/0 }
  try{ instrument = inst, side = "buy", qty = 0.001, type = "limit" }         -- no price
  try{ instrument = inst, side = "buy", qty = 0.001, type = "trailing_stop" } -- no trail
  try{ instrument = inst, side = "up", qty = 0.001 }
  try{ instrument = inst, side = "buy", qty = 0.001, tif = "DAY" }
  try{ instrument = inst, side = "buy", qty = 0.001, type = "iceberg" }
  try{ instrument = inst, side = "buy", qty = 0.001, timeframe = "soon" }
  try{ instrument = "DOGEUSDT", side = "buy", qty = 1 }
  try{ instrument = inst, side = "buy", qty = "lots" }
  try{ instrument = inst, side = "buy", qty = 0.001, price = "cheap", type = "limit" }
  try{ instrument = inst, side = "buy", qty = "0.001", tag = 7 }    -- number text, text number
  try{ instrument = 5, side = "buy", qty = 0.001, price = "cheap" } -- the first refusal first
  try{ instrument = inst, side = "buy", qty = 0.001, type = "trailing_stop", stop = "s",
       trail = "t" }
  try("not a table")
end
function on_order(o)
  trace[#trace + 1] = string.format("%s %s %s %s", tostring(o.id), o.status, o.reason or "",
                                    o.tag or "")
end
function on_stop() joined = table.concat(trace, "\n") end
)";
    std::string traces[2];
    for (int jit = 0; jit < 2; ++jit) {
        test::TempDir dir;
        dir.write("orders.lua", source);
        auto cfg = config::load_file(dir.write("deploy.yaml", fmt::format(R"(venues:
  sim: {{ plugin: sim, settings: {{ seed: 8, tick_ms: 100 }} }}
instruments:
  - {{ symbol: BTCUSDT, venue: sim }}
strategies:
  - {{ name: s, file: orders.lua, instruments: [BTCUSDT], jit: {} }}
risk: {{ max_open_orders: 10, max_orders_per_second: 100 }}
)",
                                                                          jit ? "true" : "false")));
        cfg.notifiers.clear();
        Engine e(cfg, simulated());
        e.run(5 * kSecond);
        traces[jit] = *e.strategy("s")->global_as_string("joined");
    }
    INFO(traces[0]);
    CHECK(traces[1] == traces[0]);
    // The trace covers what it should: orders accepted and filled, vetoes, and misuse errors.
    CHECK_THAT(traces[0], Contains("id 1") && Contains("filled") && Contains("INVALID_QUANTITY") &&
                              Contains("INVALID_PRICE") &&
                              Contains("error keel.order: a limit order needs a price") &&
                              Contains("error keel.order: tif must be GTC, IOC or FOK") &&
                              Contains("unknown instrument \"DOGEUSDT\"") &&
                              Contains("qty must be a number") &&
                              Contains("price must be a price") && Contains("DUPLICATE_ENTRY 7") &&
                              Contains("instrument must be an instrument id string") &&
                              Contains("trail must be a price"));
}
