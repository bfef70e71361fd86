// Hot reload: a strategy replaced from its file while the session runs keeps its state, its
// orders and its indicators' warmth, sees every event exactly once across the swap, and a broken
// new version leaves the old one running. The simulated clock places each reload at an exact
// engine time; test_cli.cpp saves a file under a running `keel run` for the inotify path.

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
constexpr TimeNs kStart = 1'767'225'600 * kSecond;

// Counts every book event; the reference for what `live` must have seen.
constexpr const char *kReference = R"(
count = 0
function on_book(inst, book) count = count + 1 end
)";

// Version `v` of the live strategy: counts events, carries the count and its reload history
// across a reload, keeps a resting order, and records whether its SMA was warm on arrival.
std::string live_version(int v) {
    return R"(
version = )" +
           std::to_string(v) +
           R"(
count, reloads, warm_on_arrival, order_id = 0, 0, "n/a", nil
sma = keel.indicator.sma("BTCUSDT", "1s", 5)
function on_book(inst, book)
  count = count + 1
  if not order_id then
    order_id = keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit",
                           price = math.floor(book:best_bid() * 0.98) }
  end
end
function on_order(o)
  if o.id == order_id then seen_by_version, seen_status = version, o.status end
end
function on_save() return { count = count, reloads = reloads, order_id = order_id } end
function on_reload(state)
  count, reloads, order_id = state.count, state.reloads + 1, state.order_id
  warm_on_arrival = tostring(sma:ready())
end
)";
}

config::Config deployment(const test::TempDir &dir, const std::string &live_source) {
    dir.write("reference.lua", kReference);
    dir.write("live.lua", live_source);
    auto cfg = config::load_file(dir.write("deploy.yaml", R"(mode: paper
venues:
  sim:
    plugin: sim
    settings: { seed: 5, tick_ms: 100 }
instruments:
  - { symbol: BTCUSDT, venue: sim }
strategies:
  - { name: reference, file: reference.lua, instruments: [BTCUSDT] }
  - { name: live, file: live.lua, instruments: [BTCUSDT], timeframes: [1s] }
risk:
  price_band_pct: 5
)"));
    cfg.notifiers.clear();
    return cfg;
}

double number(const Engine &e, const char *strategy, const char *global) {
    return std::stod(*e.strategy(strategy)->global_as_string(global));
}

}  // namespace

TEST_CASE("reloads carry state, orders and warm indicators and lose no event", "[engine][reload]") {
    test::TempDir dir;
    auto cfg = deployment(dir, live_version(1));
    Engine e(cfg, simulated());
    e.prepare();
    dir.write("live.lua", live_version(2));  // the file as saved after the session started
    for (int k = 1; k <= 9; ++k)
        e.schedule(Command::reload, kStart + k * kSecond + k * 7'000'000, "test", "live");
    auto summary = e.run(10 * kSecond);

    CHECK(summary.reloads == 9);
    CHECK(summary.failed_reloads == 0);
    CHECK(number(e, "live", "version") == 2);
    CHECK(number(e, "live", "reloads") == 9);
    // Every book event reached the live strategy exactly once, across nine swaps.
    CHECK(number(e, "reference", "count") > 50);
    CHECK(number(e, "live", "count") == number(e, "reference", "count"));
    CHECK(e.strategy("live")->global_as_string("warm_on_arrival") == "true");
    // The resting order placed by version 1 stayed the strategy's: its cancellation at the end
    // of the session reached version 2.
    CHECK(e.strategy("live")->global_as_string("seen_by_version") == "2");
    CHECK(e.strategy("live")->global_as_string("seen_status") == "cancelled");
    CHECK(summary.cancels == 1);
}

TEST_CASE("a broken new version leaves the running one in place", "[engine][reload]") {
    const std::pair<const char *, const char *> broken[] = {
        {"function on_book(inst, book)\n  count = count +\nend\n", "live.lua:3:"},
        {"error('main chunk refuses')\n", "live.lua:1: main chunk refuses"},
        {"function on_reload(state) error('cannot take over') end\n",
         "live.lua:1: cannot take over"},
        {"function on_reload(state) while true do end end\n", "on_reload ran past its time"},
    };
    for (auto [source, expected] : broken) {
        INFO(source);
        test::TempDir dir;
        auto cfg = deployment(dir, live_version(1));
        Engine e(cfg, simulated());
        e.prepare();
        dir.write("live.lua", source);
        e.schedule(Command::reload, kStart + 2 * kSecond, "test", "live");
        auto summary = e.run(4 * kSecond);
        CHECK(summary.reloads == 0);
        CHECK(summary.failed_reloads == 1);
        CHECK(number(e, "live", "version") == 1);
        CHECK(number(e, "live", "count") == number(e, "reference", "count"));
        CHECK_THAT(summary.last_reload_error, Contains(expected));
    }
}

TEST_CASE("on_save may return plain data only", "[engine][reload]") {
    test::TempDir dir;
    auto cfg = deployment(dir, R"(
count = 0
function on_book(inst, book) count = count + 1 end
function on_save() return { count = count, f = function() end } end
)");
    Engine e(cfg, simulated());
    e.prepare();
    e.schedule(Command::reload, kStart + 2 * kSecond, "test", "live");
    auto summary = e.run(3 * kSecond);
    CHECK(summary.failed_reloads == 1);
    CHECK(number(e, "live", "count") == number(e, "reference", "count"));
}

TEST_CASE("a faulted strategy comes back with a fixed file", "[engine][reload]") {
    test::TempDir dir;
    auto cfg = deployment(dir, R"(
function on_book(inst, book) while true do end end
)");
    Engine e(cfg, simulated());
    e.prepare();
    dir.write("live.lua", "fixed = true\ncount = 0\nfunction on_book() count = count + 1 end\n");
    e.schedule(Command::reload, kStart + 2 * kSecond, "fix", "live");
    auto summary = e.run(4 * kSecond);
    CHECK(summary.reloads == 1);
    CHECK_FALSE(e.strategy("live")->faulted());
    CHECK(e.strategy("live")->global_as_string("fixed") == "true");
    CHECK(number(e, "live", "count") > 10);
}
