#include <catch2/catch.hpp>

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
