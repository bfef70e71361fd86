#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <vector>

#include "keel/market/book.hpp"
#include "keel/market/candles.hpp"

using namespace keel;
using market::Book;
using market::Level;

TEST_CASE("book applies snapshots and absolute deltas", "[book]") {
    Book b;
    CHECK_FALSE(b.valid());
    std::vector<Level> bids{{99, 5}, {100, 2}, {98, 1}}, asks{{102, 4}, {101, 3}};
    b.apply_snapshot(bids, asks);
    REQUIRE(b.valid());
    CHECK(b.best_bid()->price == 100);
    CHECK(b.best_ask()->price == 101);
    CHECK(b.level(Side::buy, 2)->price == 98);
    CHECK_FALSE(b.level(Side::sell, 2));

    b.apply_delta(Side::buy, {100, 7});  // replace
    CHECK(b.best_bid()->qty == 7);
    b.apply_delta(Side::sell, {101, 0});  // delete
    CHECK(b.best_ask()->price == 102);
    b.apply_delta(Side::sell, {150, 0});  // deleting an unknown level is normal
    CHECK(b.depth(Side::sell) == 1);
    b.apply_delta(Side::buy, {100, 0});
    b.apply_delta(Side::buy, {99, 0});
    b.apply_delta(Side::buy, {98, 0});
    CHECK_FALSE(b.valid());  // an empty side is not a market
}

TEST_CASE("book imbalance is bid volume over ask volume on the top levels", "[book]") {
    Book b;
    std::vector<Level> bids{{100, 10}, {99, 20}, {98, 30}}, asks{{101, 5}, {102, 5}, {103, 50}};
    b.apply_snapshot(bids, asks);
    CHECK(*b.imbalance(1) == Approx(2.0));
    CHECK(*b.imbalance(2) == Approx(3.0));
    CHECK(*b.imbalance(3) == Approx(1.0));
    CHECK(b.volume(Side::buy, 10) == 60);
}

TEST_CASE("a crossed book is not valid", "[book]") {
    Book b;
    std::vector<Level> bids{{101, 1}}, asks{{101, 1}};
    b.apply_snapshot(bids, asks);
    CHECK_FALSE(b.valid());  // locked
    b.apply_delta(Side::sell, {102, 1});
    b.apply_delta(Side::sell, {101, 0});
    CHECK(b.valid());
}

TEST_CASE("candles are aligned to UTC and close on the next interval", "[candles]") {
    using market::CandleBuilder;
    constexpr TimeNs s = 1'000'000'000;
    CHECK(*market::parse_timeframe("1m") == 60 * s);
    CHECK(*market::parse_timeframe("4h") == 4 * 3600 * s);
    CHECK_FALSE(market::parse_timeframe("0m"));
    CHECK_FALSE(market::parse_timeframe("5x"));
    CHECK_FALSE(market::parse_timeframe("m"));

    CandleBuilder b(60 * s);
    TimeNs t0 = 1'767'225'600 * s;  // a minute boundary
    CHECK_FALSE(b.on_trade(t0 + 1 * s, 100, 1));
    CHECK_FALSE(b.on_trade(t0 + 20 * s, 105, 2));
    CHECK_FALSE(b.on_trade(t0 + 59 * s, 98, 3));
    auto c = b.on_trade(t0 + 61 * s, 101, 1);
    REQUIRE(c);
    CHECK(c->start == t0);
    CHECK(c->open == 100);
    CHECK(c->high == 105);
    CHECK(c->low == 98);
    CHECK(c->close == 98);
    CHECK(c->volume == 6);
    CHECK(c->trades == 3);
    CHECK_FALSE(b.close_until(t0 + 119 * s));
    auto quiet = b.close_until(t0 + 120 * s);
    REQUIRE(quiet);
    CHECK(quiet->open == 101);
}

TEST_CASE("book sides match a sorted map under random traffic, deep and near the top", "[book]") {
    // Thousands of levels, splits, merges and emptied blocks: every query agrees with std::map.
    std::mt19937_64 rng(42);
    for (Side side : {Side::buy, Side::sell}) {
        market::BookSide book_side(side);
        std::map<Ticks, Lots> ref;
        auto check = [&] {
            REQUIRE(book_side.size() == ref.size());
            std::vector<market::Level> expect;
            if (side == Side::buy)
                for (auto it = ref.rbegin(); it != ref.rend(); ++it)
                    expect.push_back({it->first, it->second});
            else
                for (auto &[p, q] : ref) expect.push_back({p, q});
            std::vector<market::Level> got;
            book_side.visit([&](const market::Level &l) {
                got.push_back(l);
                return true;
            });
            REQUIRE(got == expect);
            for (size_t i :
                 {size_t{0}, size_t{1}, size_t{63}, size_t{64}, ref.size() / 2, ref.size()}) {
                auto at = book_side.at(i);
                REQUIRE(at.has_value() == (i < expect.size()));
                if (at) REQUIRE(*at == expect[i]);
            }
            if (!expect.empty()) REQUIRE(*book_side.best() == expect.front());
        };
        std::uniform_int_distribution<int> op(0, 99);
        Ticks top = 100'000;
        for (int round = 0; round < 20'000; ++round) {
            int o = op(rng);
            Ticks price;
            if (o < 60)  // near the top
                price = top + (side == Side::buy ? -1 : 1) *
                                  std::uniform_int_distribution<Ticks>(0, 40)(rng);
            else  // anywhere, far out included
                price = std::uniform_int_distribution<Ticks>(1, 200'000)(rng);
            Lots qty = op(rng) < 40 ? 0 : std::uniform_int_distribution<Lots>(1, 1000)(rng);
            book_side.set({price, qty});
            if (qty == 0)
                ref.erase(price);
            else
                ref[price] = qty;
            if (round % 997 == 0) check();
            if (round == 10'000) {  // empty it level by level, then refill
                for (auto [p, q] : std::map<Ticks, Lots>(ref)) {
                    book_side.set({p, 0});
                    ref.erase(p);
                }
                check();
                REQUIRE(book_side.empty());
            }
        }
        check();
        book_side.clear();
        ref.clear();
        check();
    }
}
