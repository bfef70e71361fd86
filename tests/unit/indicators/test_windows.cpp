#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "keel/indicators/volume.hpp"
#include "keel/indicators/window.hpp"

using namespace keel;
using namespace keel::indicators;

TEST_CASE("rolling highest and lowest equal a brute-force scan of the window", "[indicators]") {
    std::mt19937_64 rng(7);
    for (size_t length : {1u, 2u, 3u, 7u, 64u}) {
        RollingMax hi(length);
        RollingMin lo(length);
        std::vector<double> xs;
        // Small integers, so ties and runs are frequent.
        std::uniform_int_distribution<int> d(0, 9);
        for (int t = 0; t < 5000; ++t) {
            double x = d(rng);
            xs.push_back(x);
            hi.push(x);
            lo.push(x);
            size_t from = xs.size() > length ? xs.size() - length : 0;
            auto first = xs.begin() + static_cast<long>(from);
            INFO("length " << length << " t " << t);
            REQUIRE(hi.value() == *std::max_element(first, xs.end()));
            REQUIRE(lo.value() == *std::min_element(first, xs.end()));
            REQUIRE(hi.ready() == (xs.size() >= length));
        }
    }
}

TEST_CASE("RingWindow keeps the last values in time order", "[indicators]") {
    RingWindow w(3);
    CHECK(w.push(1) == 0);
    w.push(2);
    w.push(3);
    CHECK(w.full());
    CHECK(w.push(4) == 1);  // what fell out
    CHECK(w[0] == 2);
    CHECK(w.back() == 4);
    CHECK(w.back(2) == 2);
}

TEST_CASE("VWAP restarts at each UTC day and on reset", "[indicators]") {
    constexpr TimeNs day = Vwap::kDay, hour = day / 24;
    Vwap v;
    CHECK(!v.ready());
    // Typical prices 10 and 20 with volumes 1 and 3: (10 + 60) / 4 = 17.5.
    v.update(Bar{10, 10, 10, 10, 1}, 5 * day + hour);
    v.update(Bar{20, 20, 20, 20, 3}, 5 * day + 2 * hour);
    CHECK(v.value() == Approx(17.5));
    // A bar of the next day starts a new session.
    v.update(Bar{30, 33, 27, 30, 2}, 6 * day);
    CHECK(v.value() == Approx(30.0));
    // A bar without volume changes nothing.
    v.update(Bar{99, 99, 99, 99, 0}, 6 * day + hour);
    CHECK(v.value() == Approx(30.0));
    v.reset();
    CHECK(!v.ready());
    CHECK(std::isnan(v.value()));
    // session 0: one session for ever.
    Vwap forever(0);
    forever.update(Bar{10, 10, 10, 10, 1}, 0);
    forever.update(Bar{20, 20, 20, 20, 1}, 100 * day);
    CHECK(forever.value() == Approx(15.0));
}
