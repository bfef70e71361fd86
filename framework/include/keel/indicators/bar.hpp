#pragma once
// What every indicator reads, and the vocabulary they share. See docs/indicators.md.

#include <cmath>
#include <limits>

namespace keel::indicators {

// One closed candle in prices (not ticks): indicators are floating-point maths, like the
// reference libraries they are checked against.
struct Bar {
    double open = 0, high = 0, low = 0, close = 0, volume = 0;
    double hlc3() const { return (high + low + close) / 3; }
    double ohlc4() const { return (open + high + low + close) / 4; }
};

// Where TA-Lib and TradingView's Pine disagree (how a Wilder average or an EMA is seeded, and the
// arithmetic of the recursion), an indicator that has both takes one of these. `talib` is the
// default everywhere and is what tests compare with TA-Lib; `tradingview` is what the Pine-based
// indicators (WaveTrend, Chandelier Exit, the Lorentzian model) are defined with.
enum class Convention { talib, tradingview };

// Every indicator's value() is NaN until ready(); the Lua API turns that into nil.
inline constexpr double kNotReady = std::numeric_limits<double>::quiet_NaN();

// TA-Lib's tests for "zero" and "zero or negative" (1e-8), kept so results match it exactly.
inline bool near_zero(double v) {
    return -0.00000001 < v && v < 0.00000001;
}
inline bool near_zero_or_negative(double v) {
    return v < 0.00000001;
}

}  // namespace keel::indicators
