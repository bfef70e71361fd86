// Warm-up history: candle files named per instrument and timeframe are loaded before the session
// starts, so indicators are ready and keel.candles has history in on_start; history that stops
// too long before the start is refused with a clear error.

#include <catch2/catch.hpp>

#include <cmath>

#include <fmt/format.h>

#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "support/engine.hpp"
#include "support/support.hpp"

using namespace keel;
using Catch::Matchers::Contains;

namespace {

constexpr TimeNs kMinute = 60'000'000'000;

// A strategy that reports, in on_start, what warm-up gave it.
constexpr const char *kStrategy = R"(
sma = keel.indicator.sma("BTCUSDT", "1m", 20)
function on_start()
  ready_at_start = tostring(sma:ready())
  sma_at_start = sma:value()
  local last = keel.candles("BTCUSDT", "1m", 5000)
  candles_at_start = #last
  last_close = last[#last].close
  last_time = last[#last].time
end
)";

// `n` one-minute candles as a Binance-style JSON array, the last ending `gap` before `end`;
// closes walk up by 0.3 from 60000.
std::string history_json(int n, TimeNs end, TimeNs gap) {
    std::string out = "[";
    TimeNs first = end - gap - n * kMinute;
    for (int k = 0; k < n; ++k) {
        double close = 60000 + 0.3 * k;
        out += fmt::format("{}[{},\"{:.1f}\",\"{:.1f}\",\"{:.1f}\",\"{:.1f}\",\"1.5\"]",
                           k ? "," : "", (first + k * kMinute) / 1'000'000, close - 0.1,
                           close + 0.5, close - 0.5, close);
    }
    return out + "]";
}

config::Config deployment(const test::TempDir &dir, const std::string &history) {
    dir.write("warm.lua", kStrategy);
    dir.write("btc-1m.json", history);
    auto cfg = config::load_file(dir.write("deploy.yaml", R"(mode: paper
venues:
  sim: { plugin: sim, settings: { seed: 3 } }
instruments:
  - { symbol: BTCUSDT, venue: sim, history: { 1m: btc-1m.json } }
strategies:
  - { name: warm, file: warm.lua, instruments: [BTCUSDT], timeframes: [1m] }
)"));
    cfg.notifiers.clear();
    return cfg;
}

}  // namespace

TEST_CASE("warm-up history readies indicators and keel.candles before on_start",
          "[engine][history]") {
    const TimeNs start = test::simulated().simulated_start;
    test::TempDir dir;
    engine::Engine e(deployment(dir, history_json(300, start, 0)), test::simulated());
    e.run(kMinute / 2);
    const auto *s = e.strategy("warm");
    CHECK(s->global_as_string("ready_at_start") == "true");
    // SMA(20) of the last 20 closes: 60000 + 0.3 * (280..299).
    double expected = 0;
    for (int k = 280; k < 300; ++k) expected += 60000 + 0.3 * k;
    CHECK(std::stod(*s->global_as_string("sma_at_start")) == Approx(expected / 20).epsilon(1e-12));
    CHECK(s->global_as_string("candles_at_start") == "300");
    CHECK(std::stod(*s->global_as_string("last_close")) == Approx(60000 + 0.3 * 299));
    CHECK(std::stod(*s->global_as_string("last_time")) ==
          Approx(static_cast<double>(start - kMinute) / 1e9));
}

TEST_CASE("a short gap before the start is filled; a long one is refused", "[engine][history]") {
    const TimeNs start = test::simulated().simulated_start;
    {
        test::TempDir dir;
        engine::Engine e(deployment(dir, history_json(100, start, 10 * kMinute)),
                         test::simulated());
        e.run(kMinute / 2);
        // 100 from the file and 10 flat candles at the last close up to the start.
        CHECK(e.strategy("warm")->global_as_string("candles_at_start") == "110");
        CHECK(std::stod(*e.strategy("warm")->global_as_string("last_close")) ==
              Approx(60000 + 0.3 * 99));
    }
    {
        test::TempDir dir;
        engine::Engine e(deployment(dir, history_json(100, start, 3 * 1440 * kMinute)),
                         test::simulated());
        try {
            e.prepare();
            FAIL("expected a ConfigError");
        } catch (const config::ConfigError &err) {
            CHECK_THAT(err.what(), Contains("instruments.BTCUSDT.history") &&
                                       Contains("btc-1m.json ends 3.0 days before the session "
                                                "starts; warm-up history must reach within a "
                                                "day of the start"));
        }
    }
}
