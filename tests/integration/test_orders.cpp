// Order types beyond market and limit, end to end on the sim market: stops, take-profits and
// trailing stops emulated in the host (each passing the gate again when it triggers), brackets
// whose legs cancel each other, and the limit order's post-only, IOC and FOK.

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "keel/engine/engine.hpp"
#include "support/engine.hpp"
#include "support/support.hpp"

using namespace keel;
using Catch::Matchers::Contains;
using engine::Engine;
using test::simulated;

namespace {

constexpr TimeNs kSecond = 1'000'000'000;

// Runs `body` as a strategy on BTCUSDT and returns its `log` global: every order event as
// "tag:status[:reason]" joined by spaces. px() rounds to the tick.
struct Run {
    engine::Summary summary;
    std::string log;
    std::string slippage, expected;  // the strategy's globals of those names, if set
    double position = 0;
};

// Strategy s.lua on BTCUSDT of the sim market, with `extra_risk` lines under risk:.
config::Config sim_config(const test::TempDir &dir, const std::string &extra_risk = "") {
    auto cfg = config::load_file(dir.write("deploy.yaml", R"(venues:
  sim: { plugin: sim, settings: { seed: 12, tick_ms: 100 } }
instruments:
  - { symbol: BTCUSDT, venue: sim }
strategies:
  - { name: s, file: s.lua, instruments: [BTCUSDT] }
risk:
  max_orders_per_day: off
  no_duplicate_entry: false
)" + extra_risk));
    cfg.notifiers.clear();
    return cfg;
}

Run run(const std::string &body, TimeNs duration = 60 * kSecond) {
    test::TempDir dir;
    dir.write("s.lua", R"(
local tick = keel.instrument("BTCUSDT").tick_size
function px(x) return math.floor(x / tick + 0.5) * tick end
local lines = {}
function on_order(o)
  lines[#lines + 1] = (o.tag or "?") .. ":" .. o.status .. (o.reason and (":" .. o.reason) or "")
  log = table.concat(lines, " ")
end
)" + body);
    Engine e(sim_config(dir), simulated());
    Run r;
    r.summary = e.run(duration);
    CHECK(r.summary.illegal_transitions == 0);
    r.log = e.strategy("s")->global_as_string("log").value_or("");
    r.slippage = e.strategy("s")->global_as_string("slippage").value_or("");
    r.expected = e.strategy("s")->global_as_string("expected").value_or("");
    r.position = static_cast<double>(e.portfolio().position(0).qty);
    return r;
}

size_t count(const std::string &text, const std::string &needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++n;
    return n;
}

}  // namespace

TEST_CASE("a stop and a take-profit trigger into market orders that pass the gate again",
          "[engine][orders]") {
    auto r = run(R"(
local step = 0
function on_book(inst, book)
  step = step + 1
  if step == 1 then keel.order{ instrument = inst, side = "buy", qty = 0.01, tag = "entry" } end
  if step == 2 then
    local mid = book:mid()
    keel.order{ instrument = inst, side = "sell", qty = 0.01, type = "stop", price = px(mid - 3),
                reduce_only = true, tag = "sl" }
    keel.order{ instrument = inst, side = "sell", qty = 0.01, type = "take_profit",
                price = px(mid + 3), reduce_only = true, tag = "tp" }
  end
end
)");
    INFO(r.log);
    // Both wait, accepted; the first to trigger sells the long, the other then finds nothing to
    // reduce and its market order is vetoed: a stale exit can never open a short.
    CHECK(count(r.log, "sl:accepted") >= 1);
    CHECK(count(r.log, "tp:accepted") >= 1);
    CHECK(count(r.log, ":triggered") == 2);
    CHECK(count(r.log, ":filled") == 2);  // the entry and one exit
    CHECK(count(r.log, ":rejected:REDUCE_ONLY_INCREASES") == 1);
    CHECK(r.position == 0);
}

TEST_CASE("a bracket protects what fills, and its legs cancel each other", "[engine][orders]") {
    auto r = run(R"(
local sent = false
function on_book(inst, book)
  if sent then return end
  sent = true
  local mid = book:mid()
  keel.order{ instrument = inst, side = "buy", qty = 0.01, tag = "entry",
              stop_loss = px(mid - 4), take_profit = px(mid + 4) }
end
)");
    INFO(r.log);
    CHECK_THAT(r.log, Contains("entry:filled"));
    // Both legs accepted, then the triggered one's market order accepted under the same id.
    CHECK(count(r.log, "stop_loss:accepted") + count(r.log, "take_profit:accepted") == 3);
    CHECK(count(r.log, ":triggered") == 1);
    CHECK(count(r.log, ":cancelled:OCO") == 1);
    CHECK(count(r.log, "REDUCE_ONLY") == 0);
    CHECK(r.position == 0);
}

TEST_CASE("a bracket on the wrong side of the entry is refused", "[engine][orders]") {
    auto r = run(R"(
local sent = false
function on_book(inst, book)
  if sent then return end
  sent = true
  local mid = book:mid()
  keel.order{ instrument = inst, side = "buy", qty = 0.01, tag = "entry",
              stop_loss = px(mid + 50), take_profit = px(mid + 100) }
end
)",
                 5 * kSecond);
    CHECK_THAT(r.log, Contains("entry:rejected:INVALID_PRICE"));
    CHECK(r.summary.fills == 0);
}

TEST_CASE("a trailing stop follows the market and exits", "[engine][orders]") {
    auto r = run(R"(
local step = 0
function on_book(inst, book)
  step = step + 1
  if step == 1 then keel.order{ instrument = inst, side = "buy", qty = 0.01, tag = "entry" } end
  if step == 2 then
    keel.order{ instrument = inst, side = "sell", qty = 0.01, type = "trailing_stop", trail = 2,
                reduce_only = true, tag = "trail" }
  end
end
)");
    INFO(r.log);
    CHECK_THAT(r.log, Contains("trail:accepted") && Contains("trail:triggered") &&
                          Contains("trail:filled"));
    CHECK(r.position == 0);
}

TEST_CASE("post-only, IOC and FOK limits", "[engine][orders]") {
    auto r = run(R"(
local sent = false
function on_book(inst, book)
  if sent then return end
  sent = true
  local bid = book:best_bid()
  local ask = book:best_ask()
  keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit", price = ask,
              post_only = true, tag = "post_taking" }
  keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit", price = px(bid - 5),
              post_only = true, tag = "post_resting" }
  keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit", price = px(bid - 5),
              tif = "IOC", tag = "ioc" }
  keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit", price = bid,
              tif = "FOK", tag = "fok" }  -- nothing to take at the bid: nothing fills
end
)",
                 2 * kSecond);
    INFO(r.log);
    CHECK_THAT(r.log, Contains("post_taking:rejected:POST_ONLY_WOULD_TAKE"));
    CHECK_THAT(r.log, Contains("post_resting:accepted"));
    CHECK_THAT(r.log, Contains("ioc:accepted") && Contains("ioc:expired:IOC"));
    CHECK_THAT(r.log, Contains("fok:expired:FOK"));
    CHECK(r.summary.fills == 0);
}

TEST_CASE("execution quality: slippage against the arrival mid, time to fill, fill ratio",
          "[engine][orders]") {
    auto r = run(R"(
local sent = false
function on_book(inst, book)
  if sent then return end
  sent = true
  arrival_mid = book:mid()
  keel.order{ instrument = inst, side = "buy", qty = 0.01, tag = "taker" }
  keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit",
              price = px(book:best_bid() - 50), tif = "IOC", tag = "ioc" }  -- fills nothing
end
local prev = on_order
function on_order(o)
  prev(o)
  if o.fill_qty and o.tag == "taker" then
    expected = (o.fill_price - arrival_mid) / arrival_mid * 1e4
    slippage = o.slippage_bps
  end
end
)",
                 2 * kSecond);
    INFO(r.log);
    auto &x = r.summary.execution;
    CHECK(x.fills >= 1);
    CHECK(x.slippage_bps_weighted > 0);  // a market buy pays at least half the spread
    CHECK(x.worst_slippage_bps >= x.slippage_bps_weighted);
    CHECK(x.finished_orders == 2);
    CHECK(x.fill_ratio == Approx(0.5));  // one filled whole, one expired empty
    CHECK(x.mean_ms_to_fill == 0);       // paper fills at once (no latency model yet)
    CHECK_THAT(engine::format_summary(r.summary), Contains("execution slippage +"));
    REQUIRE_FALSE(r.slippage.empty());
    CHECK(std::stod(r.slippage) == Approx(std::stod(r.expected)).epsilon(1e-9));
}

TEST_CASE("linear positions pay or receive funding every 8 hours in paper", "[engine][orders]") {
    // The session starts at 00:00 UTC: funding falls at 08:00 and 16:00. A long of 0.01 BTC at
    // about 60,000 pays 0.01 % of 600 = 0.06 each time.
    auto r = run(R"(
local sent = false
function on_book(inst, book)
  if sent then return end
  sent = true
  keel.order{ instrument = inst, side = "buy", qty = 0.01, tag = "entry" }
end
function on_stop() funding = keel.position("BTCUSDT").funding end
)",
                 17 * 3600 * kSecond);
    CHECK(r.summary.funding < 0);
    CHECK(r.summary.funding == Approx(-2 * 0.0001 * 0.01 * 60000).epsilon(0.2));
}

TEST_CASE("keel.amend moves a resting limit through the gate; what cannot change says why",
          "[engine][orders][amend]") {
    test::TempDir dir;
    dir.write("s.lua", R"(
local tick = keel.instrument("BTCUSDT").tick_size
function px(x) return math.floor(x / tick + 0.5) * tick end
local step, id, stop = 0, nil, nil
events = ""
function on_book(inst, book)
  step = step + 1
  local bid, ask = book:best_bid(), book:best_ask()
  if step == 1 then
    id = keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit",
                     price = px(bid * 0.99) }
    stop = keel.order{ instrument = inst, side = "sell", qty = 0.001, type = "stop",
                       price = px(bid * 0.9) }
  elseif step == 2 then
    target = px(bid * 0.98)
    moved = tostring(keel.amend(id, { price = target, qty = 0.002 }))
    local _, why = keel.amend(id, { qty = 100 }); big = why
    _, why = keel.amend(stop, { price = px(bid * 0.8) }); conditional = why
    _, why = keel.amend(id, { qty = 0.0015 }); offgrid = why
    _, why = keel.amend(id, { price = target, qty = 0.002 }); same = why
    _, why = keel.amend(12345, { price = target }); unknown = why
  elseif step == 3 then
    crossed = tostring(keel.amend(id, { price = px(ask * 1.001) }))
  end
end
function on_order(o)
  if o.id ~= id then return end
  events = events .. " " .. o.status
  if o.status == "amended" then
    amended = (amended or "") .. string.format(" %.1f/%.3f", o.price, o.qty)
  end
end
)");
    Engine e(sim_config(dir, "  max_order_notional: 5000\n"), simulated());
    auto summary = e.run(5 * kSecond);
    CHECK(summary.illegal_transitions == 0);
    auto global = [&](const char *name) {
        return e.strategy("s")->global_as_string(name).value_or("");
    };
    INFO("events:" << global("events") << " amended:" << global("amended"));
    CHECK(global("moved") == "true");
    CHECK_THAT(global("big"), Contains("MAX_ORDER_NOTIONAL"));
    CHECK(summary.vetoes_by_reason["MAX_ORDER_NOTIONAL"] == 1);
    CHECK_THAT(global("conditional"), Contains("conditional order waits in keel"));
    CHECK_THAT(global("offgrid"), Contains("not a positive multiple of the lot size"));
    CHECK_THAT(global("same"), Contains("already stands at that quantity and price"));
    CHECK_THAT(global("unknown"), Contains("is not open"));
    CHECK(global("crossed") == "true");
    // Moved to 98 % of the bid with twice the quantity, then through the ask: it took liquidity.
    const std::string target = global("target");
    REQUIRE(!target.empty());
    CHECK_THAT(global("amended"), Contains(fmt::format(" {:.1f}/0.002", std::stod(target))));
    CHECK_THAT(global("events"), Contains("accepted amended amended filled"));
    CHECK(e.portfolio().position(0).qty == 2);
    // Filled in full at its amended size: the fill ratio is measured against that, not the 0.001
    // it was placed with.
    CHECK(summary.execution.finished_orders == 1);
    CHECK(summary.execution.fill_ratio == Approx(1.0));
}
