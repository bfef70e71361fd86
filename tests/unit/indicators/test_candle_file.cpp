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
               Contains("o.csv:3: time goes backwards (an out-of-order row)"));
    CHECK_THAT(error_of(dir.write("l.csv", "1618951320000,1,0.5,2,1.5,10\n")),
               Contains("l.csv:1: low 2 above high 0.5"));
    CHECK_THAT(error_of(dir.write("j.json", "[[1618951320000,1,2]]")),
               Contains("j.json: row 1: expected at least 6 fields, found 3"));
    CHECK_THAT(error_of(dir.path() / "missing.csv"), Contains("missing.csv: cannot open"));
}

TEST_CASE("checking a candle file lists every problem, with its line, and the gaps",
          "[market][candles]") {
    test::TempDir dir;
    auto file = dir.write("bad.csv",
                          "timestamp,open,high,low,close,volume\n"
                          "1618951200000,1,2,0.5,1.5,10\n"    // 2 (00:00)
                          "1618951260000,1,2,0.5,1.5,10\n"    // 3 (00:01)
                          "1618951260000,1,2,0.5,1.5,10\n"    // 4: duplicate
                          "1618951320000,1,2,0.5,x,10\n"      // 5: text in a number column
                          "1618951380000,1,2,0.5,1.5,10\n"    // 6 (00:03; 00:02 missing)
                          "1618951300000,1,2,0.5,1.5,10\n"    // 7: goes back
                          "1618951440000,3,2,0.5,1.5,10\n"    // 8: open above high
                          "1618951620000,1,2,0.5,1.5,10\n");  // 9 (00:07; 00:04..06 missing)
    std::vector<market::CandleFileIssue> issues;
    auto rows = market::scan_candle_file(file, issues);
    REQUIRE(issues.size() == 4);
    CHECK(issues[0].line == 4);
    CHECK(issues[0].what == "duplicate time (the row before has it too)");
    CHECK(issues[1].line == 5);
    CHECK(issues[1].what == "bad close 'x'");
    CHECK(issues[2].line == 7);
    CHECK(issues[2].what == "time goes backwards (an out-of-order row)");
    CHECK(issues[3].line == 8);
    CHECK(issues[3].what == "open 3 or close 1.5 outside low 0.5 .. high 2");
    REQUIRE(rows.size() == 4);  // the good ones, in order
    TimeNs interval = 0;
    auto gaps = market::find_gaps(rows, interval);
    CHECK(interval == 60'000'000'000);
    REQUIRE(gaps.size() == 2);
    CHECK(gaps[0].missing == 1);
    CHECK(gaps[0].from == TimeNs{1618951320} * 1'000'000'000);
    CHECK(gaps[1].missing == 3);
    CHECK_FALSE(gaps[1].off_grid);
    // Strict reading still stops at the first problem.
    CHECK_THAT(error_of(file), Contains("bad.csv:4: duplicate time"));
}
