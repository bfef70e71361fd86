#pragma once
// Exact decimal text to integer ticks/lots, never through double. A venue's "61800.30" with a
// tick of "0.10" becomes 618003 ticks; "61800.35" is off the grid and refused, not rounded.

#include <cstdint>
#include <optional>
#include <string_view>

namespace keel::market {

// 10^0 .. 10^18: every power of ten an int64 holds.
inline constexpr uint64_t kPowersOfTen[19] = {1,
                                              10,
                                              100,
                                              1000,
                                              10000,
                                              100000,
                                              1000000,
                                              10000000,
                                              100000000,
                                              1000000000,
                                              10000000000,
                                              100000000000,
                                              1000000000000,
                                              10000000000000,
                                              100000000000000,
                                              1000000000000000,
                                              10000000000000000,
                                              100000000000000000,
                                              1000000000000000000};

// A price or size grid: one unit is `step` in the last of `decimals` decimal places
// (tick "0.10" -> decimals 2, step 10; lot "0.001" -> decimals 3, step 1; "5" -> 0, 5).
struct DecimalGrid {
    int decimals = 0;
    int64_t step = 1;

    // Parses a positive grid size such as "0.10"; nullopt if it is not one.
    static std::optional<DecimalGrid> parse(std::string_view text);

    // Whole units of the grid in `text` ("61800.30" -> 618003). nullopt for anything that is not
    // a plain non-negative decimal, has more precision than the grid, is off the grid, or does
    // not fit in int64. Extra trailing zeros are fine ("0.00100000" on a 0.001 grid).
    std::optional<int64_t> to_units(std::string_view text) const;
    // The same for the text of a JSON number, which may carry an exponent ("3.48925E4",
    // "6.2e-5"): venues that send numbers (Kraken Futures) are read from the raw token, exactly.
    std::optional<int64_t> number_to_units(std::string_view text) const;
};

}  // namespace keel::market
