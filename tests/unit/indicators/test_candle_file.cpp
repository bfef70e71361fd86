#include <catch2/catch.hpp>

#include "keel/market/candle_file.hpp"
#include "support/support.hpp"

using namespace keel;
using Catch::Matchers::Contains;

namespace {
std::string error_of(const std::filesystem::path &p) {
    try {
        market::read_candle_file(p);
    } catch (const market::CandleFileError &e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST_CASE("candle files in every supported layout read to the same rows", "[market][candles]") {
    test::TempDir dir;
    auto json = market::read_candle_file(
        dir.write("a.json",
                  "[[1618951320000,56738.76,56840.3,56733.23,56813.98,50.9752],"
                  "[1618951380000,\"56813.98\",\"56813.98\",\"56755.41\",\"56777.0\",\"42.1\"]]"));
    REQUIRE(json.size() == 2);
    CHECK(json[0].open_time == 1618951320000LL * 1'000'000);
    CHECK(json[1].close == 56777.0);
    auto csv = market::read_candle_file(
        dir.write("b.csv",
                  "timestamp,open,high,low,close,volume\n"
                  "2021-04-20 20:42:00+00:00,56738.76,56840.3,56733.23,56813.98,50.9752\n"
                  "2021-04-20 20:43:00.000000,56813.98,56813.98,56755.41,56777.0,42.1\n"));
    REQUIRE(csv.size() == 2);
    CHECK(csv[0].open_time == json[0].open_time);
    CHECK(csv[1].open_time == json[1].open_time);
    auto vision = market::read_candle_file(dir.write(
        "c.csv", "1618951320000000,56738.76,56840.3,56733.23,56813.98,50.9752,0,0,0,0,0,0\n"));
    CHECK(vision.at(0).open_time == json[0].open_time);  // microseconds since 2025
    auto kraken = market::read_candle_file(dir.write(
        "d.json", R"({"error":[],"result":{"XBTUSDT":[[1618951320,"56738.7","56840.3","56733.2",)"
                  R"("56813.9","56790.0","50.97",12]],"last":1618951320}})"));
    CHECK(kraken.at(0).open_time == json[0].open_time);
    CHECK(kraken.at(0).volume == 50.97);  // volume is the 7th field, after vwap
}

TEST_CASE("a bad candle file names the file, the line and what is wrong", "[market][candles]") {
    test::TempDir dir;
    CHECK_THAT(error_of(dir.write("h.csv", "time,open,high,low,close\n1,2,3,1,2\n")),
               Contains("h.csv:1: header has no volume column"));
    CHECK_THAT(error_of(dir.write("n.csv",
                                  "time,open,high,low,close,volume\n"
                                  "1618951320000,1,2,0.5,1.5,10\n"
                                  "1618951380000,1,2,0.5,abc,10\n")),
               Contains("n.csv:3: bad close 'abc'"));
    CHECK_THAT(error_of(dir.write("o.csv",
                                  "time,open,high,low,close,volume\n"
                                  "1618951380000,1,2,0.5,1.5,10\n"
                                  "1618951320000,1,2,0.5,1.5,10\n")),
               Contains("o.csv:3: time does not increase"));
    CHECK_THAT(error_of(dir.write("l.csv", "1618951320000,1,0.5,2,1.5,10\n")),
               Contains("l.csv:1: low 2 above high 0.5"));
    CHECK_THAT(error_of(dir.write("j.json", "[[1618951320000,1,2]]")),
               Contains("j.json: row 1: expected at least 6 fields, found 3"));
    CHECK_THAT(error_of(dir.path() / "missing.csv"), Contains("missing.csv: cannot open"));
}
