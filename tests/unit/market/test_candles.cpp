#include <catch2/catch.hpp>

#include <vector>

#include "keel/market/candles.hpp"

using namespace keel;
using market::Candle;
using market::CandleSet;
using market::EmptyIntervals;

namespace {

constexpr TimeNs s = 1'000'000'000;
constexpr TimeNs m = 60 * s;
constexpr TimeNs t0 = 1'767'225'600 * s;  // 2026-01-01 00:00:00 UTC: a day boundary

struct Collect {
    std::vector<Candle> out;
    void operator()(const Candle &c) { out.push_back(c); }
};

CandleSet set_of(std::vector<TimeNs> lengths, EmptyIntervals empty) {
    return CandleSet(lengths, empty);
}

}  // namespace

TEST_CASE("timeframes parse, print and must divide a day", "[candles]") {
    CHECK(*market::parse_timeframe("1m") == 60 * s);
    CHECK(*market::parse_timeframe("4h") == 4 * 3600 * s);
    CHECK(*market::parse_timeframe("1d") == 86400 * s);
    CHECK_FALSE(market::parse_timeframe("0m"));
    CHECK_FALSE(market::parse_timeframe("5x"));
    CHECK_FALSE(market::parse_timeframe("m"));
    CHECK_FALSE(market::parse_timeframe("99999999999999d"));  // would overflow

    CHECK(market::format_timeframe(60 * s) == "1m");
    CHECK(market::format_timeframe(90 * s) == "90s");
    CHECK(market::format_timeframe(4 * 3600 * s) == "4h");
    CHECK(market::format_timeframe(86400 * s) == "1d");

    for (const char *ok : {"1s", "5s", "1m", "3m", "5m", "15m", "1h", "4h", "12h", "1d"}) {
        CAPTURE(ok);
        CHECK(market::divides_day(*market::parse_timeframe(ok)));
    }
    for (const char *bad : {"7s", "7m", "5h", "2d"}) {
        CAPTURE(bad);
        CHECK_FALSE(market::divides_day(*market::parse_timeframe(bad)));
    }
    CHECK_FALSE(market::divides_day(s / 2));
    CHECK_THROWS_WITH(set_of({7 * m}, EmptyIntervals::skip), Catch::Contains("7m"));
    CHECK_THROWS_WITH(set_of({m, 60 * s}, EmptyIntervals::skip), Catch::Contains("twice"));
}

TEST_CASE("a candle holds its interval's trades and closes on a later trade or the clock",
          "[candles]") {
    auto set = set_of({m}, EmptyIntervals::skip);
    Collect c;
    set.on_trade(t0 + 1 * s, 100, 1, c);
    set.on_trade(t0 + 20 * s, 105, 2, c);
    set.on_trade(t0 + 59 * s, 98, 3, c);
    CHECK(c.out.empty());
    set.on_trade(t0 + 61 * s, 101, 1, c);
    REQUIRE(c.out.size() == 1);
    CHECK(c.out[0] == Candle{t0, m, 100, 105, 98, 98, 6, 3, false, false});

    set.close_until(t0 + 119 * s, c);
    CHECK(c.out.size() == 1);
    set.close_until(t0 + 120 * s, c);  // the end is exclusive: closes exactly at it
    REQUIRE(c.out.size() == 2);
    CHECK(c.out[1] == Candle{t0 + m, m, 101, 101, 101, 101, 1, 1, false, false});

    // A trade exactly on a boundary belongs to the interval it starts.
    set.on_trade(t0 + 3 * m, 90, 4, c);
    set.on_trade(t0 + 4 * m, 91, 1, c);
    REQUIRE(c.out.size() == 3);
    CHECK(c.out[2].start == t0 + 3 * m);
    CHECK(c.out[2].volume == 4);
    CHECK(set.stats().candles == 3);
}

TEST_CASE("intervals are UTC multiples, also for days and before 1970", "[candles]") {
    auto set = set_of({4 * 3600 * s, 86400 * s}, EmptyIntervals::skip);
    Collect c;
    set.on_trade(1'723'161'240 * s, 100, 1, c);  // 2024-08-08 23:54:00 UTC
    auto day = set.builders()[1].open_candle();
    auto four = set.builders()[0].open_candle();
    REQUIRE(day);
    REQUIRE(four);
    CHECK(day->start == 1'723'075'200 * s);                 // 2024-08-08 00:00 UTC
    CHECK(four->start == (1'723'075'200 + 20 * 3600) * s);  // 20:00 UTC

    auto old = set_of({m}, EmptyIntervals::skip);
    old.on_trade(-1, 5, 1, c);  // 1969-12-31 23:59:59.999999999
    CHECK(old.builders()[0].open_candle()->start == -m);
}

TEST_CASE("empty intervals: skip emits nothing, flat emits candles at the previous close",
          "[candles]") {
    SECTION("skip") {
        auto set = set_of({m}, EmptyIntervals::skip);
        Collect c;
        set.on_trade(t0 + 10 * s, 100, 1, c);
        set.on_trade(t0 + 3 * m + 5 * s, 103, 2, c);
        REQUIRE(c.out.size() == 1);
        CHECK(c.out[0].start == t0);
        set.close_until(t0 + 10 * m, c);
        REQUIRE(c.out.size() == 2);
        CHECK(c.out[1].start == t0 + 3 * m);
    }
    SECTION("flat") {
        auto set = set_of({m}, EmptyIntervals::flat);
        Collect c;
        set.close_until(t0 + 5 * m, c);  // nothing before the first trade: no previous close
        CHECK(c.out.empty());
        set.on_trade(t0 + 10 * s, 100, 1, c);
        set.on_trade(t0 + 3 * m + 5 * s, 103, 2, c);
        REQUIRE(c.out.size() == 3);
        CHECK(c.out[0] == Candle{t0, m, 100, 100, 100, 100, 1, 1, false, false});
        CHECK(c.out[1] == Candle{t0 + m, m, 100, 100, 100, 100, 0, 0, true, false});
        CHECK(c.out[2] == Candle{t0 + 2 * m, m, 100, 100, 100, 100, 0, 0, true, false});
        // The clock alone closes the open candle and then one flat candle per quiet minute.
        set.close_until(t0 + 6 * m - 1, c);
        REQUIRE(c.out.size() == 5);
        CHECK(c.out[3] == Candle{t0 + 3 * m, m, 103, 103, 103, 103, 2, 1, false, false});
        CHECK(c.out[4] == Candle{t0 + 4 * m, m, 103, 103, 103, 103, 0, 0, true, false});
        set.close_until(t0 + 6 * m, c);
        REQUIRE(c.out.size() == 6);
        CHECK(c.out[5].start == t0 + 5 * m);
        CHECK(c.out[5].flat);
        CHECK(set.stats().flat == 4);
    }
}

TEST_CASE("several timeframes come out by end time, shorter timeframe first", "[candles]") {
    auto set = set_of({5 * m, m}, EmptyIntervals::flat);  // given out of order on purpose
    Collect c;
    set.on_trade(t0 + 30 * s, 100, 1, c);
    set.on_trade(t0 + 4 * m + 30 * s, 110, 2, c);
    CHECK(c.out.size() == 4);  // 1m t0, then flats at 1m and 2m, 3m (the trade opened 4m)
    set.on_trade(t0 + 5 * m + 1 * s, 120, 1, c);
    REQUIRE(c.out.size() == 6);
    std::vector<std::pair<TimeNs, TimeNs>> order;  // (start offset, length)
    for (auto &k : c.out) order.emplace_back(k.start - t0, k.length);
    CHECK(order == std::vector<std::pair<TimeNs, TimeNs>>{
                       {0, m}, {m, m}, {2 * m, m}, {3 * m, m}, {4 * m, m}, {0, 5 * m}});
    CHECK(c.out[5] == Candle{t0, 5 * m, 100, 110, 100, 110, 3, 2, false, false});
    Lots minutes = 0;
    for (size_t k = 0; k < 5; ++k) minutes += c.out[k].volume;
    CHECK(minutes == c.out[5].volume);

    // Closed by the clock: the same order.
    c.out.clear();
    set.close_until(t0 + 10 * m, c);
    REQUIRE(c.out.size() == 6);
    CHECK(c.out[4].length == m);
    CHECK(c.out[4].start == t0 + 9 * m);
    CHECK(c.out[5].length == 5 * m);
    CHECK(c.out[5].start == t0 + 5 * m);
    for (size_t k = 1; k < c.out.size(); ++k) CHECK(c.out[k - 1].end() <= c.out[k].end());
}

TEST_CASE("a late trade is dropped from every timeframe and never reopens a closed interval",
          "[candles]") {
    auto set = set_of({s, m}, EmptyIntervals::skip);
    Collect c;
    set.on_trade(t0 + 10 * s + s / 2, 100, 1, c);
    set.on_trade(t0 + 11 * s + s / 5, 101, 1, c);      // closes the 1s candle of second 10
    set.on_trade(t0 + 10 * s + 9 * s / 10, 99, 5, c);  // late for 1s, would fit 1m: dropped
    CHECK(set.stats().late == 1);
    set.close_until(t0 + m, c);
    REQUIRE(c.out.size() == 3);
    CHECK(c.out[2].length == m);
    CHECK(c.out[2].volume == 2);
    CHECK(c.out[2].low == 100);

    set.on_trade(t0 + 30 * s, 50, 1, c);  // after close_until: the minute is done
    CHECK(set.stats().late == 2);
    set.close_until(t0 + 3 * m, c);
    CHECK(c.out.size() == 3);  // no second candle for the same minute
}

TEST_CASE("warm-up from history, then live candles continue from it", "[candles]") {
    auto hist = [](TimeNs start, TimeNs len, Ticks o, Ticks h, Ticks l, Ticks cl) {
        return Candle{start, len, o, h, l, cl, 10, 3, false, false};
    };
    SECTION("history first, flats from its last close, then live") {
        auto set = set_of({m}, EmptyIntervals::flat);
        Collect c;
        std::vector<Candle> h{hist(t0 - 3 * m, m, 90, 95, 89, 94),
                              hist(t0 - 2 * m, m, 94, 97, 93, 96), hist(t0 - m, m, 96, 96, 91, 92)};
        set.seed(h, t0 + 30 * s, c);
        REQUIRE(c.out.size() == 3);
        for (auto &k : c.out) CHECK(k.history);
        CHECK(c.out[2].close == 92);
        CHECK(set.stats().seeded == 3);
        set.on_trade(t0 + 2 * m + 10 * s, 100, 1, c);
        REQUIRE(c.out.size() == 5);  // flats for t0 and t0+1m at 92
        CHECK(c.out[3] == Candle{t0, m, 92, 92, 92, 92, 0, 0, true, false});
        CHECK(c.out[4].start == t0 + m);
        CHECK(set.stats().candles == 2);  // history is counted as seeded, not built
    }
    SECTION("overlap with the live candle, duplicates, unfinished and invalid candles") {
        auto set = set_of({m}, EmptyIntervals::skip);
        Collect c;
        set.on_trade(t0 + 10 * s, 100, 1, c);  // the live feed owns [t0, t0+1m) from now on
        std::vector<Candle> h{
            hist(t0 - 2 * m, m, 90, 95, 89, 94),
            hist(t0 - 2 * m, m, 1, 1, 1, 1),       // same interval again: the first given wins
            hist(t0 - m, m, 96, 96, 91, 92),       // ends where the live candle starts: kept
            hist(t0, m, 98, 99, 97, 98),           // the live candle's interval: overlap
            hist(t0 + m, m, 98, 99, 97, 98),       // not finished at `now`
            hist(t0 - 5 * m + s, m, 1, 2, 1, 2),   // off the grid
            hist(t0 - 10 * m, 5 * m, 1, 2, 1, 2),  // a timeframe this set does not build
            hist(t0 - 6 * m, m, 5, 4, 3, 5),       // high below open
        };
        set.seed(h, t0 + 90 * s, c);
        CHECK(set.stats().seeded == 2);
        CHECK(set.stats().seed_overlap == 2);
        CHECK(set.stats().seed_unfinished == 1);
        CHECK(set.stats().seed_invalid == 3);
        // The history, then the live candle, which also ended by `now`.
        REQUIRE(c.out.size() == 3);
        CHECK(c.out[0].start == t0 - 2 * m);
        CHECK(c.out[0].close == 94);
        CHECK(c.out[1].start == t0 - m);
        CHECK(c.out[1].history);
        CHECK(c.out[2] == Candle{t0, m, 100, 100, 100, 100, 1, 1, false, false});

        // History older than candles already handed out would break the order: refused.
        std::vector<Candle> older{hist(t0 - 4 * m, m, 90, 95, 89, 94)};
        set.seed(older, t0 + 2 * m, c);
        CHECK(c.out.size() == 3);
        CHECK(set.stats().seed_overlap == 3);
    }
    SECTION("history of several timeframes is merged in the live order") {
        auto set = set_of({m, 5 * m}, EmptyIntervals::skip);
        Collect c;
        std::vector<Candle> h{hist(t0, 5 * m, 1, 9, 1, 5)};
        for (int k = 4; k >= 0; --k) h.push_back(hist(t0 + k * m, m, 1, 9, 1, 5));
        set.seed(h, t0 + 5 * m, c);
        REQUIRE(c.out.size() == 6);
        for (size_t k = 0; k < 5; ++k) {
            CHECK(c.out[k].length == m);
            CHECK(c.out[k].start == t0 + static_cast<TimeNs>(k) * m);
        }
        CHECK(c.out[5].length == 5 * m);
    }
}

TEST_CASE("an interrupted feed drops its open candle, bridges nothing and takes the gap's history",
          "[candles]") {
    auto set = set_of({m}, EmptyIntervals::flat);
    Collect c;
    set.on_trade(t0 + 10 * s, 100, 1, c);
    set.on_trade(t0 + m + 10 * s, 101, 1, c);  // closes [t0, t0+1m)
    REQUIRE(c.out.size() == 1);
    set.interrupt();  // unsubscribed at t0+1m+30s: [t0+1m, t0+2m) misses trades
    set.close_until(t0 + 5 * m, c);
    CHECK(c.out.size() == 1);  // no flat candles across a gap nobody watched
    // The first trade after: its candle opens, nothing in between is made up.
    set.on_trade(t0 + 5 * m + 10 * s, 110, 2, c);
    CHECK(c.out.size() == 1);
    // The venue's history of the gap fills it, the dropped interval included; what came before
    // is not emitted twice.
    auto hist = [](TimeNs start, Ticks close) {
        return Candle{start, m, close, close, close, close, 10, 3, false, false};
    };
    std::vector<Candle> h{hist(t0, 1), hist(t0 + m, 102), hist(t0 + 2 * m, 103),
                          hist(t0 + 3 * m, 104), hist(t0 + 4 * m, 105)};
    set.seed(h, t0 + 5 * m + 20 * s, c);
    REQUIRE(c.out.size() == 5);
    CHECK(set.stats().seed_overlap == 1);
    for (int k = 1; k < 5; ++k) {
        CHECK(c.out[k].history);
        CHECK(c.out[k].start == t0 + k * m);
    }
    // Live again: the candle opened after the gap closes as usual, flats resume after it.
    set.close_until(t0 + 7 * m, c);
    REQUIRE(c.out.size() == 7);
    CHECK(c.out[5] == Candle{t0 + 5 * m, m, 110, 110, 110, 110, 2, 1, false, false});
    CHECK(c.out[6].flat);
    CHECK(c.out[6].close == 110);
}
