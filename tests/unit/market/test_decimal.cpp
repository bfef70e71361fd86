#include <catch2/catch.hpp>

#include <limits>
#include <random>
#include <string>

#include "keel/market/decimal.hpp"

using keel::market::DecimalGrid;

TEST_CASE("grid sizes parse to decimals and step", "[decimal]") {
    auto tick = DecimalGrid::parse("0.10");
    REQUIRE(tick);
    CHECK(tick->decimals == 1);
    CHECK(tick->step == 1);
    auto lot = DecimalGrid::parse("0.00100000");
    REQUIRE(lot);
    CHECK(lot->decimals == 3);
    CHECK(lot->step == 1);
    auto five = DecimalGrid::parse("0.05");
    REQUIRE(five);
    CHECK(five->decimals == 2);
    CHECK(five->step == 5);
    CHECK(DecimalGrid::parse("5")->step == 5);
    CHECK_FALSE(DecimalGrid::parse("0"));
    CHECK_FALSE(DecimalGrid::parse("0.000"));
    CHECK_FALSE(DecimalGrid::parse("-0.1"));
    CHECK_FALSE(DecimalGrid::parse("abc"));
}

TEST_CASE("decimal text becomes exact units of the grid", "[decimal]") {
    DecimalGrid tick{1, 1};  // 0.1
    CHECK(tick.to_units("61800.30") == 618003);
    CHECK(tick.to_units("61800.3") == 618003);
    CHECK(tick.to_units("61800") == 618000);
    CHECK(tick.to_units("0.1") == 1);
    CHECK(tick.to_units(".5") == 5);
    CHECK(tick.to_units("7.") == 70);
    CHECK_FALSE(tick.to_units("61800.35"));  // off the grid: refused, not rounded
    CHECK_FALSE(tick.to_units(""));
    CHECK_FALSE(tick.to_units("."));
    CHECK_FALSE(tick.to_units("-1.0"));
    CHECK_FALSE(tick.to_units("1e5"));
    CHECK_FALSE(tick.to_units("NaN"));
    CHECK_FALSE(tick.to_units("1.2.3"));
    CHECK_FALSE(tick.to_units("99999999999999999999"));  // overflow

    DecimalGrid nickel{2, 5};  // 0.05
    CHECK(nickel.to_units("1.05") == 21);
    CHECK_FALSE(nickel.to_units("1.01"));

    DecimalGrid sat{8, 1};
    CHECK(sat.to_units("61837.63000000") == 6183763000000);
    CHECK(sat.to_units("0.00000001") == 1);
    CHECK_FALSE(sat.to_units("0.000000001"));
    CHECK(sat.to_units("0.0000000010") == std::nullopt);
    CHECK(sat.to_units("0.000000010") == 1);
}

namespace {

__extension__ typedef __int128 int128;  // GCC's, not ISO: only for this reference

// An independent reading of the same rules in 128-bit arithmetic.
std::optional<int64_t> reference_units(const std::string &text, int decimals, int64_t step) {
    auto dot = text.find('.');
    std::string whole = text.substr(0, dot);
    std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
    if (whole.empty() && frac.empty()) return std::nullopt;
    for (char c : whole + frac)
        if (c < '0' || c > '9') return std::nullopt;
    for (size_t i = static_cast<size_t>(decimals); i < frac.size(); ++i)
        if (frac[i] != '0') return std::nullopt;
    frac.resize(static_cast<size_t>(decimals), '0');
    int128 v = 0;
    for (char c : whole + frac) {
        v = v * 10 + (c - '0');
        if (v > std::numeric_limits<int64_t>::max()) return std::nullopt;
    }
    if (v % step != 0) return std::nullopt;
    return static_cast<int64_t>(v / step);
}

}  // namespace

TEST_CASE("decimal parsing agrees with a 128-bit reference on random text", "[decimal]") {
    std::mt19937_64 rng(1234);
    const std::string alphabet = "0123456789000000.e-x";
    std::uniform_int_distribution<size_t> len(0, 24), pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<int> dec(0, 10), coin(0, 3);
    uint64_t accepted = 0;
    for (int n = 0; n < 200'000; ++n) {
        std::string text;
        size_t l = len(rng);
        for (size_t i = 0; i < l; ++i) {
            char c = alphabet[pick(rng)];
            if (coin(rng) != 0 && (c == 'e' || c == '-' || c == 'x')) c = '7';  // mostly valid
            text += c;
        }
        DecimalGrid grid{dec(rng), coin(rng) == 0 ? 5 : 1};
        auto got = grid.to_units(text);
        auto want = reference_units(text, grid.decimals, grid.step);
        INFO("text \"" << text << "\" decimals " << grid.decimals << " step " << grid.step);
        REQUIRE(got == want);
        accepted += got.has_value();
    }
    CHECK(accepted > 10'000);  // the generator reaches the accepting paths, not only refusals
}

TEST_CASE("JSON number text, exponent forms included, becomes exact units", "[decimal]") {
    DecimalGrid half{1, 5};  // 0.5
    CHECK(half.number_to_units("34892.5") == 69785);
    CHECK(half.number_to_units("3.48925E4") == 69785);
    CHECK(half.number_to_units("3.48925e+4") == 69785);
    CHECK(half.number_to_units("348925e-1") == 69785);
    CHECK(half.number_to_units("34892.50") == 69785);
    CHECK(half.number_to_units("0") == 0);
    CHECK(half.number_to_units("0e10") == 0);
    CHECK_FALSE(half.number_to_units("3.48926E4"));  // off the 0.5 grid
    CHECK_FALSE(half.number_to_units("1e"));
    CHECK_FALSE(half.number_to_units("1e+"));
    CHECK_FALSE(half.number_to_units("1e+-1"));
    CHECK_FALSE(half.number_to_units("1e5x"));
    CHECK_FALSE(half.number_to_units("-1e1"));
    CHECK_FALSE(half.number_to_units("1e400"));
    CHECK_FALSE(half.number_to_units("9e30"));  // does not fit in int64

    DecimalGrid sat{8, 1};
    CHECK(sat.number_to_units("6.2e-5") == 6200);
    CHECK(sat.number_to_units("1E-8") == 1);
    CHECK(sat.number_to_units("10E-9") == 1);
    CHECK_FALSE(sat.number_to_units("1e-9"));  // finer than the grid: refused, not rounded
    CHECK_FALSE(sat.number_to_units("1.5e-8"));
    CHECK_FALSE(sat.number_to_units("6.2604214e-11"));
}
