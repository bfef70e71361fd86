#pragma once
// Money: an exact integer count of 1e-8 of the quote currency, the precision venues settle in.
// Accounting and the risk gate add and compare Money, never doubles, so a million fills leave no
// float drift; doubles appear only at the edges (config limits in, reports and Lua out).

#include <cmath>
#include <compare>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <utility>

#include "keel/core/types.hpp"

namespace keel {

// 128-bit intermediates for products of prices, quantities and grids (a GCC/Clang extension).
__extension__ using Int128 = __int128;

struct Money {
    static constexpr int64_t kScale = 100'000'000;  // units per 1 quote currency
    int64_t units = 0;

    static constexpr Money from_units(int64_t u) { return Money{u}; }
    // Rounds to the nearest 1e-8; for config limits and venue amounts given as decimals.
    static Money from_double(double quote) {
        return Money{std::llround(quote * static_cast<double>(kScale))};
    }
    static constexpr Money max() { return Money{std::numeric_limits<int64_t>::max()}; }

    double to_double() const { return static_cast<double>(units) / static_cast<double>(kScale); }

    constexpr Money operator+(Money o) const { return Money{units + o.units}; }
    constexpr Money operator-(Money o) const { return Money{units - o.units}; }
    constexpr Money operator-() const { return Money{-units}; }
    constexpr Money &operator+=(Money o) {
        units += o.units;
        return *this;
    }
    constexpr Money &operator-=(Money o) {
        units -= o.units;
        return *this;
    }
    constexpr auto operator<=>(const Money &) const = default;
};

inline Money abs(Money m) {
    return Money{std::llabs(m.units)};
}

// Divides rounding half away from zero, the rule venues use for fees and funding.
inline Int128 div_round(Int128 num, Int128 den) {
    Int128 q = num / den, r = num % den;
    if (r < 0) r = -r;
    if (2 * r >= (den < 0 ? -den : den)) q += ((num < 0) != (den < 0)) ? -1 : 1;
    return q;
}

// A rate (fee, funding) as an exact count of 1e-8: 0.0004 -> 40000. Rates are published with at
// most 8 decimals, so this is exact for every real one.
struct Rate {
    int64_t units = 0;
    static Rate from_double(double r) {
        return Rate{std::llround(r * static_cast<double>(Money::kScale))};
    }
    double to_double() const {
        return static_cast<double>(units) / static_cast<double>(Money::kScale);
    }
    // amount * rate, rounded half away from zero to 1e-8.
    Money of(Money amount) const {
        return Money::from_units(static_cast<int64_t>(
            div_round(static_cast<Int128>(amount.units) * units, Money::kScale)));
    }
};

// The value of one tick times one lot, exactly: tick 0.1 and lot 0.001 make 1e-4 quote, which is
// 10,000 Money units. Grids finer than 1e-8 per tick-lot (a 1e-8 tick with a 0.1 lot) keep a
// power-of-ten divisor and round once per conversion, half away from zero.
class NotionalScale {
  public:
    NotionalScale() = default;
    NotionalScale(double tick_size, double lot_size) {
        auto [tm, te] = decimal(tick_size);
        auto [lm, le] = decimal(lot_size);
        multiplier_ = tm * lm;
        int exponent = te + le;  // tick-lot = multiplier * 10^-exponent
        int shift = 8 - exponent;
        divisor_ = 1;
        for (; shift > 0; --shift) multiplier_ *= 10;
        for (; shift < 0; ++shift) divisor_ *= 10;
    }
    bool valid() const { return multiplier_ > 0; }

    // Saturates at the ends of Money's range instead of wrapping: an absurd order must look
    // absurd to the risk gate, not small or negative.
    Money notional(Ticks price, Lots qty) const {
        Int128 v = static_cast<Int128>(price) * qty * multiplier_;
        if (divisor_ != 1) v = div_round(v, divisor_);
        constexpr Int128 hi = std::numeric_limits<int64_t>::max();
        constexpr Int128 lo = std::numeric_limits<int64_t>::min();
        return Money::from_units(static_cast<int64_t>(v > hi ? hi : v < lo ? lo : v));
    }

  private:
    // x = mantissa * 10^-exponent with the fewest decimals up to 12 (grids are decimal numbers).
    static std::pair<int64_t, int> decimal(double x) {
        for (int e = 0; e <= 12; ++e) {
            double scaled = x * std::pow(10.0, e);
            double r = std::round(scaled);
            if (r >= 1 && std::fabs(scaled - r) <= 1e-9 * r) return {static_cast<int64_t>(r), e};
        }
        return {static_cast<int64_t>(std::llround(x * 1e12)), 12};
    }

    int64_t multiplier_ = 0;
    int64_t divisor_ = 1;
};

}  // namespace keel
