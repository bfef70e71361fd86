#include <catch2/catch.hpp>

#include <array>
#include <map>
#include <random>
#include <vector>

#include "keel/market/book.hpp"

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

TEST_CASE("book spread, mid and microprice on hand-checked numbers", "[book]") {
    Book b;
    CHECK_FALSE(b.spread());
    CHECK_FALSE(b.mid());
    CHECK_FALSE(b.microprice());
    std::vector<Level> bids{{100, 10}, {99, 20}, {98, 30}}, asks{{101, 5}, {102, 5}, {103, 50}};
    b.apply_snapshot(bids, asks);
    CHECK(*b.spread() == 1);
    CHECK(*b.mid() == 100.5);
    // (100 * 5 + 101 * 10) / (10 + 5) = 1510 / 15: twice the size on the bid pulls it to the ask.
    CHECK(*b.microprice() == Approx(1510.0 / 15.0).epsilon(1e-15));
    b.apply_delta(Side::sell, {101, 10});  // equal sizes: microprice is the mid
    CHECK(*b.microprice() == 100.5);

    // One empty side: none of them has a value.
    Book one;
    std::vector<Level> none;
    one.apply_snapshot(bids, none);
    CHECK_FALSE(one.spread());
    CHECK_FALSE(one.mid());
    CHECK_FALSE(one.microprice());

    // A crossed book reads as it is: a negative spread (valid() says not to trade on it).
    Book crossed;
    std::vector<Level> cb{{105, 1}}, ca{{103, 3}};
    crossed.apply_snapshot(cb, ca);
    CHECK(*crossed.spread() == -2);
    CHECK(*crossed.mid() == 104.0);
}

TEST_CASE("book top levels copy best first into the caller's buffer", "[book]") {
    Book b;
    std::vector<Level> bids{{98, 30}, {100, 10}, {99, 20}}, asks{{103, 50}, {101, 5}, {102, 5}};
    b.apply_snapshot(bids, asks);
    std::array<Level, 2> two{};
    REQUIRE(b.top(Side::buy, two) == 2);
    CHECK(two[0] == Level{100, 10});
    CHECK(two[1] == Level{99, 20});
    std::array<Level, 5> five{};
    REQUIRE(b.top(Side::sell, five) == 3);  // the side has only 3
    CHECK(five[0] == Level{101, 5});
    CHECK(five[1] == Level{102, 5});
    CHECK(five[2] == Level{103, 50});
    CHECK(five[3] == Level{});  // untouched
    CHECK(b.top(Side::sell, std::span<Level>{}) == 0);
    Book empty;
    CHECK(empty.top(Side::buy, five) == 0);
}

TEST_CASE("book volume to a price includes the limit level", "[book]") {
    Book b;
    std::vector<Level> bids{{100, 10}, {99, 20}, {98, 30}}, asks{{101, 5}, {102, 5}, {103, 50}};
    b.apply_snapshot(bids, asks);
    CHECK(b.volume_to_price(Side::sell, 100) == 0);  // better than the best ask: nothing
    CHECK(b.volume_to_price(Side::sell, 101) == 5);
    CHECK(b.volume_to_price(Side::sell, 102) == 10);  // exactly on a level: included
    CHECK(b.volume_to_price(Side::sell, 1000) == 60);
    CHECK(b.volume_to_price(Side::buy, 101) == 0);
    CHECK(b.volume_to_price(Side::buy, 99) == 30);
    CHECK(b.volume_to_price(Side::buy, 98) == 60);
    CHECK(b.volume_to_price(Side::buy, 1) == 60);
    b.apply_delta(Side::sell, {102, 0});  // a hole: the limit between levels
    CHECK(b.volume_to_price(Side::sell, 102) == 5);
    Book empty;
    CHECK(empty.volume_to_price(Side::buy, 1) == 0);
}

TEST_CASE("book VWAP to a size walks levels and reports a thin book as a partial fill", "[book]") {
    Book b;
    std::vector<Level> bids{{100, 10}, {99, 20}, {98, 30}}, asks{{101, 5}, {102, 5}, {103, 50}};
    b.apply_snapshot(bids, asks);

    auto s = b.vwap_to_size(Side::sell, 5);  // exactly the best level
    CHECK(s.filled == 5);
    CHECK(s.vwap == 101.0);
    CHECK(s.worst == 101);
    CHECK(s.complete(5));

    s = b.vwap_to_size(Side::sell, 8);  // (5 * 101 + 3 * 102) / 8 = 811 / 8
    CHECK(s.filled == 8);
    CHECK(s.vwap == 101.375);
    CHECK(s.worst == 102);

    s = b.vwap_to_size(Side::sell, 10);  // two whole levels: (505 + 510) / 10
    CHECK(s.vwap == 101.5);
    CHECK(s.worst == 102);

    s = b.vwap_to_size(Side::buy, 15);  // selling into bids: (10 * 100 + 5 * 99) / 15
    CHECK(s.filled == 15);
    CHECK(s.vwap == Approx(1495.0 / 15.0).epsilon(1e-15));
    CHECK(s.worst == 99);

    s = b.vwap_to_size(Side::sell, 100);  // thin: all 60 lots, (505 + 510 + 5150) / 60
    CHECK(s.filled == 60);
    CHECK_FALSE(s.complete(100));
    CHECK(s.vwap == 102.75);
    CHECK(s.worst == 103);

    CHECK(b.vwap_to_size(Side::sell, 0).filled == 0);
    CHECK_FALSE(b.vwap_to_size(Side::sell, 0).complete(0));
    Book empty;
    auto e = empty.vwap_to_size(Side::buy, 3);
    CHECK(e.filled == 0);
    CHECK(e.vwap == 0);
    CHECK(e.worst == 0);
}

TEST_CASE("book VWAP stays exact where price times size overflows 64 bits", "[book]") {
    // 8-decimal grid: BTC at 60000 is 6e12 ticks; 30 BTC is 3e9 lots; the notional is 1.8e22.
    Book b;
    std::vector<Level> bids{{5'999'999'999'999, 1'000'000'000}},
        asks{{6'000'000'000'000, 3'000'000'000}, {6'000'000'000'001, 1'000'000'000}};
    b.apply_snapshot(bids, asks);
    auto s = b.vwap_to_size(Side::sell, 4'000'000'000);
    CHECK(s.filled == 4'000'000'000);
    CHECK(s.vwap == 6'000'000'000'000.25);  // representable exactly in a double
    // Microprice: bid + spread * 1e9 / (1e9 + 3e9); the products bid * ask_qty overflow int64.
    CHECK(*b.microprice() == 5'999'999'999'999.25);
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
            for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{70}, ref.size() + 1}) {
                Lots want = 0;
                for (size_t i = 0; i < n && i < expect.size(); ++i) want += expect[i].qty;
                REQUIRE(book_side.top_volume(n) == want);
            }
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
        // clear() wipes only the bitmap words it knows hold levels: a refill must find none of
        // the old levels, near the top or deep.
        REQUIRE(book_side.size() > 200);
        book_side.clear();
        ref.clear();
        check();
        for (int round = 0; round < 3'000; ++round) {
            Ticks price = std::uniform_int_distribution<Ticks>(top - 20'000, top + 20'000)(rng);
            Lots qty = std::uniform_int_distribution<Lots>(1, 1000)(rng);
            book_side.set({price, qty});
            ref[price] = qty;
            if (round == 3) check();
        }
        check();
    }
}

TEST_CASE("a side's batch apply equals set() of each level in order", "[book]") {
    // apply() keeps the window's state in registers: batches that delete the best, empty the
    // window, move it and reach deep levels must leave the same side as set() one by one.
    std::mt19937_64 rng(7);
    for (Side side : {Side::buy, Side::sell}) {
        market::BookSide batched(side), single(side);
        auto levels_of = [](const market::BookSide &s) {
            std::vector<market::Level> out;
            s.visit([&](const market::Level &l) {
                out.push_back(l);
                return true;
            });
            return out;
        };
        std::uniform_int_distribution<int> op(0, 99);
        Ticks top = 100'000;
        std::vector<market::Level> batch;
        for (int round = 0; round < 3'000; ++round) {
            batch.clear();
            const int n = std::uniform_int_distribution<int>(1, 60)(rng);
            for (int k = 0; k < n; ++k) {
                int o = op(rng);
                Ticks price;
                if (o < 70)
                    price = top + (side == Side::buy ? -1 : 1) *
                                      std::uniform_int_distribution<Ticks>(0, 40)(rng);
                else if (o < 95)
                    price = std::uniform_int_distribution<Ticks>(1, 200'000)(rng);
                else  // the top moves further than the window is wide
                    price = top = std::uniform_int_distribution<Ticks>(20'000, 180'000)(rng);
                Lots qty = op(rng) < 40 ? 0 : std::uniform_int_distribution<Lots>(1, 1000)(rng);
                batch.push_back({price, qty});
            }
            if (round % 500 == 250)  // delete everything, best first, in one batch
                for (const auto &l : levels_of(single)) batch.push_back({l.price, 0});
            batched.apply(batch);
            for (const auto &l : batch) single.set(l);
            REQUIRE(batched.size() == single.size());
            REQUIRE(batched.best() == single.best());
            if (round % 50 == 0) REQUIRE(levels_of(batched) == levels_of(single));
        }
        REQUIRE(levels_of(batched) == levels_of(single));
    }
}
