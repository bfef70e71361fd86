// Fault isolation: a strategy that loops forever, recurses without end, builds a gigabyte string
// or fails in every callback is handled as docs/lua-api.md ("Faults") says, while a second
// strategy in the same engine keeps trading.

#include <catch2/catch.hpp>

#include "keel/engine/engine.hpp"
#include "support/engine.hpp"
#include "support/support.hpp"

using namespace keel;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using engine::Engine;
using test::simulated;

namespace {

constexpr TimeNs kSecond = 1'000'000'000;

// Trades a round trip of 0.001 BTC on every other book event and counts its fills.
constexpr const char *kSteady = R"(
fills, events = 0, 0
function on_book(inst, book)
  events = events + 1
  if events % 2 == 1 then
    local p = keel.position(inst).qty
    keel.order{ instrument = inst, side = p > 0 and "sell" or "buy", qty = 0.001 }
  end
end
function on_order(o) if o.fill_qty then fills = fills + 1 end end
)";

// `bad` (written from `source`) and `steady`, both on BTCUSDT; bad comes first in every event.
config::Config two_strategies(const test::TempDir &dir, const std::string &source,
                              const std::string &bad_extra = "") {
    dir.write("bad.lua", source);
    dir.write("steady.lua", kSteady);
    return config::load_file(dir.write("deploy.yaml", R"(mode: paper
venues:
  sim:
    plugin: sim
    settings: { seed: 3, tick_ms: 100 }
instruments:
  - { symbol: BTCUSDT, venue: sim }
strategies:
  - { name: bad, file: bad.lua, instruments: [BTCUSDT])" + bad_extra +
                                                          R"( }
  - { name: steady, file: steady.lua, instruments: [BTCUSDT] }
risk:
  max_orders_per_day: off
  max_orders_per_second: off
  no_duplicate_entry: false
  max_open_orders: 10
)"));
}

struct Outcome {
    engine::Summary summary;
    bool bad_faulted;
    std::string bad_fault;
    uint64_t bad_errors;
    double steady_fills;
    size_t bad_open_orders;
};

Outcome run_pair(const std::string &source, TimeNs duration = 5 * kSecond,
                 const std::string &bad_extra = "") {
    test::TempDir dir;
    auto cfg = two_strategies(dir, source, bad_extra);
    cfg.notifiers.clear();
    Engine e(cfg, simulated());
    Outcome out;
    out.summary = e.run(duration);
    auto *bad = e.strategy("bad");
    out.bad_faulted = bad->faulted();
    out.bad_fault = bad->fault();
    out.bad_errors = bad->error_count();
    out.steady_fills = std::stod(*e.strategy("steady")->global_as_string("fills"));
    out.bad_open_orders = e.open_orders(bad->index()).size();
    return out;
}

// On the first book event, a resting buy below the market (a faulted strategy's orders are
// cancelled); true from then on.
constexpr const char *kRestingOrder = R"(
local placed = false
local function rested()
  if placed then return true end
  placed = true
  keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.001, type = "limit", price = 58000 }
  return false
end
)";

}  // namespace

TEST_CASE("while true do end is stopped, the strategy faulted, the other keeps trading",
          "[engine][faults]") {
    auto o = run_pair(std::string(kRestingOrder) + R"(
function on_book(inst, book) if rested() then while true do end end end
)");
    CHECK(o.bad_faulted);
    CHECK_THAT(o.bad_fault, Contains("on_book ran past its time budget of 100 ms"));
    CHECK(o.bad_open_orders == 0);
    CHECK(o.summary.cancels >= 1);
    CHECK(o.steady_fills > 10);  // many events after the fault
    REQUIRE(o.summary.faulted_strategies.size() == 1);
    CHECK_THAT(o.summary.faulted_strategies[0], StartsWith("bad: on_book ran past"));
    CHECK_THAT(engine::format_summary(o.summary), Contains("FAULTED   bad: on_book"));
}

TEST_CASE("a runaway cannot catch its own timeout with pcall, xpcall or a coroutine",
          "[engine][faults]") {
    for (const char *body : {
             "while true do pcall(function() while true do end end) end",
             "while true do xpcall(function() while true do end end, function(e) return e end) "
             "end",
             "while true do coroutine.resume(coroutine.create(function() while true do end end)) "
             "end",
             "local f; f = function() return f() end; f()",  // a tail call loops, not recurses
         }) {
        INFO(body);
        auto o =
            run_pair(std::string("function on_book(inst, book) ") + body + " end", 2 * kSecond);
        CHECK(o.bad_faulted);
        CHECK_THAT(o.bad_fault, Contains("time budget"));
        CHECK(o.steady_fills > 3);
    }
}

TEST_CASE("deep recursion is an ordinary error: reported, and the strategy goes on",
          "[engine][faults]") {
    auto o = run_pair(R"(
calls = 0
local function deeper(n) return 1 + deeper(n + 1) end
function on_book(inst, book) calls = calls + 1; deeper(1) end
)");
    CHECK_FALSE(o.bad_faulted);
    CHECK(o.bad_errors > 10);  // one per event: it kept being called
    CHECK(o.steady_fills > 10);
}

TEST_CASE("a gigabyte string build hits the memory cap and faults the strategy",
          "[engine][faults]") {
    auto o = run_pair(std::string(kRestingOrder) + R"(
function on_book(inst, book)
  if not rested() then return end
  local s = "x"
  while #s < 1e9 do s = s .. s end   -- 1 GiB, doubling
end
)");
    CHECK(o.bad_faulted);
    CHECK_THAT(o.bad_fault, Contains("went over its memory cap of 64 MiB"));
    CHECK(o.bad_open_orders == 0);
    CHECK(o.steady_fills > 10);

    auto g = run_pair("function on_book(inst, book) local s = string.rep('x', 1e9) end",
                      2 * kSecond, ", memory_mb: 16");
    CHECK(g.bad_faulted);
    CHECK_THAT(g.bad_fault, Contains("memory cap of 16 MiB"));
    auto p = run_pair(
        "function on_book(inst, book) pcall(string.rep, 'x', 1e9); keel.log.info('caught') end",
        2 * kSecond);
    CHECK(p.bad_faulted);  // catching the memory error does not save it
}

TEST_CASE("an error in every callback is reported each time and nothing stops",
          "[engine][faults]") {
    test::TempDir dir;
    auto cfg = two_strategies(dir, R"(
function on_start() error("start broke") end
function on_book(inst, book)
  keel.order{ instrument = inst, side = "buy", qty = 0.001 }  -- so on_order runs
  error("book broke")
end
function on_trade(inst, t) error("trade broke") end
function on_candle(tf, c) error("candle broke") end
function on_order(o) error("order broke") end
function on_stop() error("stop broke") end
)",
                              ", timeframes: [1s]");
    cfg.notifiers.clear();
    Engine e(cfg, simulated());
    auto summary = e.run(5 * kSecond);
    auto *bad = e.strategy("bad");
    CHECK_FALSE(bad->faulted());
    CHECK(bad->error_count() > 40);
    CHECK_THAT(bad->last_error(), Contains("on_stop: ") && Contains("bad.lua:10: stop broke"));
    CHECK(std::stod(*e.strategy("steady")->global_as_string("fills")) > 10);
    CHECK(summary.faulted_strategies.empty());
}

TEST_CASE("a main chunk that never ends fails the load with a clear message", "[engine][faults]") {
    test::TempDir dir;
    auto cfg = two_strategies(dir, "while true do end");
    Engine e(cfg, simulated());
    try {
        e.prepare();
        FAIL("expected a StrategyError");
    } catch (const strategy::StrategyError &err) {
        CHECK_THAT(std::string(err.what()),
                   Contains("bad.lua: the main chunk ran past its time budget of 1000 ms"));
    }
}
