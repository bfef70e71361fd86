// Hand-computed small cases for the Pine-defined indicators (the arithmetic is in the comments).
#include <catch2/catch.hpp>

#include <cmath>

#include "keel/indicators/momentum.hpp"
#include "keel/indicators/volatility.hpp"

using namespace keel::indicators;

TEST_CASE("Chandelier Exit by hand: the long stop ratchets, the direction flips", "[indicators]") {
    ChandelierExit ce(3, 1.0, true);
    // Pine ATR(3): TR = 2, 2, 2 (the first bar's TR is high - low) -> ATR 2 at bar 2;
    // TR 3 -> 3/3 + 2 * 2/3 = 7/3; TR 2 -> 2/3 + (7/3) * 2/3 = 20/9.
    const Bar bars[] = {{9, 10, 8, 9, 1},
                        {10, 11, 9, 10, 1},
                        {11, 12, 10, 11, 1},
                        {11, 12, 9, 9, 1},
                        {9, 9, 7, 7, 1}};
    ce.update(bars[0]);
    ce.update(bars[1]);
    CHECK(!ce.ready());
    ce.update(bars[2]);
    // highest close 11 - 2 = 9; lowest close 9 + 2 = 11; close 11 is not above 11: direction 1.
    CHECK(ce.long_stop() == Approx(9.0));
    CHECK(ce.short_stop() == Approx(11.0));
    CHECK(ce.direction() == 1);
    ce.update(bars[3]);
    // 11 - 7/3 = 8.667, but the previous close 11 > 9 keeps the higher 9; short 9 + 7/3 = 11.333
    // (previous close 11 is not below 11, so no ratchet down).
    CHECK(ce.long_stop() == Approx(9.0));
    CHECK(ce.short_stop() == Approx(9 + 7.0 / 3));
    CHECK(ce.direction() == 1);
    ce.update(bars[4]);
    // long 11 - 20/9 = 8.778 (previous close 9 is not above 9: no ratchet); short 7 + 20/9 =
    // 9.222 < 11.333; close 7 < previous long stop 9: direction -1.
    CHECK(ce.long_stop() == Approx(11 - 20.0 / 9));
    CHECK(ce.short_stop() == Approx(7 + 20.0 / 9));
    CHECK(ce.direction() == -1);
}

TEST_CASE("WaveTrend by hand with short lengths", "[indicators]") {
    // channel 2 (alpha 2/3), average 1, signal 2; prices 1, 3, 2, 4 (high = low = close).
    WaveTrend wt(2, 1, 2);
    auto bar = [](double p) { return Bar{p, p, p, p, 1}; };
    wt.update(bar(1));
    wt.update(bar(3));  // esa = (1 + 3) / 2 = 2; |3 - 2| = 1 starts d
    wt.update(bar(2));  // esa = 2/3 * 2 + 1/3 * 2 = 2; d = (1 + 0) / 2 = 0.5; ci = 0
    CHECK(wt.wt1() == Approx(0.0));
    CHECK(!wt.ready());
    wt.update(bar(4));  // esa = 2/3 * 4 + 1/3 * 2 = 10/3; d = 2/3 * 2/3 + 1/3 * 0.5 = 11/18
    // ci = (4 - 10/3) / (0.015 * 11/18) = 12 / 0.165 = 72.7272...; wt2 = (0 + 72.73) / 2
    CHECK(wt.ready());
    CHECK(wt.wt1() == Approx(12 / 0.165));
    CHECK(wt.wt2() == Approx(6 / 0.165));
}
