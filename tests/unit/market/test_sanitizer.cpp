#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "keel/market/book_feed.hpp"
#include "keel/market/sanitizer.hpp"

using namespace keel;
using market::BookFeed;
using market::Level;
using market::Reject;
using market::SequenceRule;
using market::SyncStatus;

namespace {
constexpr TimeNs kSecond = 1'000'000'000;
}

TEST_CASE("latency quantiles are within one bucket of the exact ones, both signs", "[sanitizer]") {
    market::LatencyHistogram h;
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> dist(12.0, 1.5);  // around 160 us, long tail
    std::vector<TimeNs> all;
    for (int i = 0; i < 20000; ++i) {
        auto v = static_cast<TimeNs>(dist(rng));
        if (i % 10 == 0) v = -v;  // a local clock behind the venue's
        h.record(v);
        all.push_back(v);
    }
    std::sort(all.begin(), all.end());
    CHECK(h.count() == all.size());
    CHECK(h.min() == all.front());
    CHECK(h.max() == all.back());
    for (double q : {0.01, 0.05, 0.5, 0.9, 0.99, 0.999}) {
        auto exact = all[static_cast<size_t>(std::ceil(q * double(all.size()))) - 1];
        auto got = h.quantile(q);
        INFO("q=" << q << " exact=" << exact << " got=" << got);
        // Upper edge of the exact value's bucket: never below it, at most 1/8 above in magnitude.
        if (exact >= 0) {
            CHECK(got >= exact);
            CHECK(double(got) <= double(exact) * 1.125 + 1);
        } else {
            CHECK(got >= exact);
            CHECK(double(-got) >= double(-exact) / 1.125 - 1);
        }
    }
    CHECK(h.quantile(1.0) == all.back());

    market::LatencyHistogram merged, other;
    other.record(-5);
    merged += h;
    merged += other;
    CHECK(merged.count() == h.count() + 1);
    CHECK(merged.min() == std::min<TimeNs>(all.front(), -5));
}

TEST_CASE("small latencies land in exact buckets", "[sanitizer]") {
    market::LatencyHistogram h;
    for (TimeNs v : {0, 1, 2, 3, 15}) h.record(v);
    CHECK(h.quantile(0.2) == 0);
    CHECK(h.quantile(0.4) == 1);
    CHECK(h.quantile(0.8) == 3);
    CHECK(h.quantile(1.0) == 15);
    CHECK(market::LatencyHistogram{}.quantile(0.5) == 0);
}

TEST_CASE("a stream goes stale once per quiet episode", "[sanitizer]") {
    market::SanitizerConfig cfg;
    cfg.stale_after = 5 * kSecond;
    market::StreamHealth h(cfg);
    CHECK_FALSE(h.check_stale(100 * kSecond));  // never heard from: not stale, just unknown
    h.on_update(10 * kSecond, 0);
    CHECK_FALSE(h.check_stale(14 * kSecond));
    CHECK(h.check_stale(15 * kSecond));
    CHECK(h.stale());
    CHECK_FALSE(h.check_stale(30 * kSecond));  // same episode, not counted again
    CHECK(h.rejects()[Reject::stale] == 1);
    h.on_update(31 * kSecond, 0);
    CHECK_FALSE(h.stale());
    CHECK(h.check_stale(40 * kSecond));
    CHECK(h.rejects()[Reject::stale] == 2);
}

TEST_CASE("trades: bad values refused, outliers refused until confirmed", "[sanitizer]") {
    market::SanitizerConfig cfg;
    cfg.max_jump = 0.05;
    cfg.outlier_confirmations = 3;
    market::TradeFilter f(cfg);
    CHECK(f.check(0, 5, 1, 0) == Reject::bad_price);
    CHECK(f.check(-1, 5, 1, 0) == Reject::bad_price);
    CHECK(f.check(1000, 0, 1, 0) == Reject::bad_size);
    CHECK_FALSE(f.check(1000, 5, 2, 1));
    CHECK_FALSE(f.check(1049, 5, 3, 2));  // within 5 %
    CHECK(f.check(2000, 5, 4, 3) == Reject::outlier);
    CHECK_FALSE(f.check(1050, 5, 5, 4));  // a lone fat finger is forgotten
    CHECK(f.check(1200, 5, 6, 5) == Reject::outlier);
    CHECK(f.check(1210, 5, 7, 6) == Reject::outlier);
    CHECK_FALSE(f.check(1205, 5, 8, 7));  // third consecutive trade at the new level: believed
    CHECK_FALSE(f.check(1206, 5, 9, 8));
    const auto &r = f.health().rejects();
    CHECK(r[Reject::bad_price] == 2);
    CHECK(r[Reject::bad_size] == 1);
    CHECK(r[Reject::outlier] == 3);
    CHECK(r.total() == 6);
    CHECK(f.health().latency().count() == 5);
    CHECK(f.health().latency().max() == 1);
}

TEST_CASE("book feed: bad levels, outlier mids and stale streams make it unusable",
          "[sanitizer][book_feed]") {
    market::SanitizerConfig cfg;
    cfg.max_jump = 0.10;
    cfg.stale_after = 5 * kSecond;
    BookFeed feed(SequenceRule::contiguous, cfg);
    const std::vector<Level> bids{{1000, 5}, {990, 5}}, asks{{1010, 5}, {1020, 5}};
    REQUIRE(feed.on_snapshot(10, bids, asks, 1 * kSecond, 1 * kSecond - 300) ==
            SyncStatus::applied);
    REQUIRE(feed.usable());
    CHECK(feed.health().latency().max() == 300);

    SECTION("a zero price resyncs at once") {
        std::vector<Level> bad{{0, 5}};
        CHECK(feed.on_delta({11, 11, 0}, bad, {}) == SyncStatus::resync);
        CHECK_FALSE(feed.usable());
        CHECK(feed.rejects()[Reject::bad_price] == 1);
        CHECK(feed.needs_snapshot());
    }
    SECTION("a negative size resyncs at once") {
        std::vector<Level> bad{{1000, -1}};
        CHECK(feed.on_delta({11, 11, 0}, bad, {}) == SyncStatus::resync);
        CHECK(feed.rejects()[Reject::bad_size] == 1);
    }
    SECTION("a mid that jumps past the limit is an outlier; the next snapshot is believed") {
        // Everything near the top vanishes and the book reappears 20 % higher.
        std::vector<Level> b{{1000, 0}, {990, 0}, {1200, 1}}, a{{1010, 0}, {1020, 0}, {1210, 1}};
        CHECK(feed.on_delta({11, 11, 0}, b, a) == SyncStatus::resync);
        CHECK(feed.rejects()[Reject::outlier] == 1);
        CHECK_FALSE(feed.usable());
        std::vector<Level> b2{{1200, 1}}, a2{{1210, 1}};
        CHECK(feed.on_snapshot(20, b2, a2) == SyncStatus::applied);
        CHECK(feed.usable());
        std::vector<Level> b3{{1201, 2}};
        CHECK(feed.on_delta({21, 21, 0}, b3, {}) == SyncStatus::applied);
        CHECK(feed.rejects().total() == 1);
    }
    SECTION("a small move is no outlier") {
        std::vector<Level> b{{1000, 0}, {1040, 1}}, a{{1010, 0}, {1020, 0}, {1050, 1}};
        CHECK(feed.on_delta({11, 11, 0}, b, a) == SyncStatus::applied);
        CHECK(feed.usable());
    }
    SECTION("a quiet stream reads unusable until its next update") {
        CHECK_FALSE(feed.check_stale(5 * kSecond));
        CHECK(feed.check_stale(6 * kSecond));
        CHECK_FALSE(feed.usable());
        CHECK(feed.rejects()[Reject::stale] == 1);
        std::vector<Level> b{{1000, 6}};
        CHECK(feed.on_delta({11, 11, 0}, b, {}, 7 * kSecond, 0) == SyncStatus::applied);
        CHECK(feed.usable());
    }
    SECTION("a crossing delta is refused and counted") {
        std::vector<Level> b{{1015, 1}};
        CHECK(feed.on_delta({11, 11, 0}, b, {}) == SyncStatus::resync);
        CHECK(feed.rejects()[Reject::crossed] == 1);
    }
    SECTION("gaps and duplicates are counted by reason") {
        std::vector<Level> b{{1000, 6}};
        CHECK(feed.on_delta({12, 12, 0}, b, {}) == SyncStatus::resync);
        CHECK(feed.rejects()[Reject::gap] == 1);
        CHECK(feed.on_snapshot(12, bids, asks) == SyncStatus::applied);
        CHECK(feed.on_delta({13, 13, 0}, b, {}) == SyncStatus::applied);
        CHECK(feed.on_delta({13, 13, 0}, b, {}) == SyncStatus::resync);
        CHECK(feed.rejects()[Reject::out_of_order] == 1);
    }
}
