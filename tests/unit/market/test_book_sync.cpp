#include <catch2/catch.hpp>

#include "keel/market/book_sync.hpp"

using namespace keel;
using market::Book;
using market::BookSync;
using market::DeltaIds;
using market::Level;
using market::SequenceRule;
using market::SyncStatus;

namespace {

const std::vector<Level> kBids{{100, 5}, {99, 5}};
const std::vector<Level> kAsks{{101, 5}, {102, 5}};

// A futures-style delta U..u with pu, moving the best bid's size to `qty`.
SyncStatus futures(BookSync &s, Book &b, uint64_t U, uint64_t u, uint64_t pu, Lots qty = 7) {
    std::vector<Level> bids{{100, qty}};
    return s.on_delta(DeltaIds{U, u, pu}, bids, {}, b);
}

}  // namespace

SCENARIO("Binance USD-M sequence rules", "[book_sync]") {
    Book book;
    BookSync sync(SequenceRule::binance_futures);

    GIVEN("deltas that arrive before the snapshot") {
        CHECK(futures(sync, book, 90, 95, 89) == SyncStatus::buffered);
        CHECK(futures(sync, book, 96, 104, 95, 8) == SyncStatus::buffered);
        CHECK(futures(sync, book, 105, 110, 104, 9) == SyncStatus::buffered);
        CHECK(sync.needs_snapshot());
        CHECK_FALSE(book.valid());
        WHEN("the snapshot lands inside the buffered range") {
            auto s = sync.on_snapshot(100, kBids, kAsks, book);
            THEN("stale deltas are dropped and the bridging one and the rest are applied") {
                CHECK(s == SyncStatus::applied);
                CHECK(book.valid());
                CHECK(book.best_bid()->qty == 9);
                CHECK(sync.stats().stale == 1);
                CHECK(sync.stats().applied == 2);
                CHECK_FALSE(sync.needs_snapshot());
            }
            AND_WHEN("the stream continues with pu == previous u") {
                CHECK(futures(sync, book, 111, 115, 110, 11) == SyncStatus::applied);
                THEN("the book follows") {
                    CHECK(book.best_bid()->qty == 11);
                }
            }
            AND_WHEN("a delta is lost") {
                CHECK(futures(sync, book, 116, 120, 115, 12) == SyncStatus::resync);
                THEN("the book is discarded until a new snapshot, and the gap is counted") {
                    CHECK_FALSE(book.valid());
                    CHECK(sync.needs_snapshot());
                    CHECK(sync.stats().gaps == 1);
                }
                AND_WHEN("a new snapshot bridges the delta that revealed the gap") {
                    CHECK(sync.on_snapshot(118, kBids, kAsks, book) == SyncStatus::applied);
                    THEN("the book is whole again") {
                        CHECK(book.valid());
                        CHECK(book.best_bid()->qty == 12);
                    }
                }
            }
            AND_WHEN("a delta arrives twice") {
                CHECK(futures(sync, book, 105, 110, 104, 9) == SyncStatus::resync);
                THEN("the duplicate is counted as out of order and the book resyncs") {
                    CHECK(sync.stats().out_of_order == 1);
                    CHECK_FALSE(book.valid());
                }
            }
        }
        WHEN("the snapshot is newer than everything buffered") {
            auto s = sync.on_snapshot(200, kBids, kAsks, book);
            THEN("the book is whole and waits for a delta that bridges 200") {
                CHECK(s == SyncStatus::applied);
                CHECK(sync.stats().stale == 3);
                CHECK(futures(sync, book, 150, 199, 149) == SyncStatus::stale);
                CHECK(futures(sync, book, 195, 205, 194, 4) == SyncStatus::applied);
                CHECK(book.best_bid()->qty == 4);
            }
        }
    }

    GIVEN("a snapshot older than the first buffered delta") {
        futures(sync, book, 150, 160, 149);
        auto s = sync.on_snapshot(100, kBids, kAsks, book);
        THEN("events are missing between them: another snapshot is needed") {
            CHECK(s == SyncStatus::resync);
            CHECK_FALSE(book.valid());
            CHECK(sync.needs_snapshot());
        }
    }

    GIVEN("a live book and a reordered pair") {
        sync.on_snapshot(100, kBids, kAsks, book);
        futures(sync, book, 95, 105, 94);
        THEN("the later one first is a gap, the earlier one then is out of order") {
            CHECK(futures(sync, book, 111, 115, 110) == SyncStatus::resync);
            CHECK(futures(sync, book, 106, 110, 105) == SyncStatus::buffered);
            CHECK_FALSE(book.valid());
        }
    }
}

SCENARIO("Binance spot sequence rules", "[book_sync]") {
    Book book;
    BookSync sync(SequenceRule::binance_spot);
    std::vector<Level> bids{{100, 3}};
    sync.on_delta({95, 100, 0}, bids, {}, book);  // u <= lastUpdateId: stale
    sync.on_delta({101, 104, 0}, bids, {}, book);
    sync.on_snapshot(100, kBids, kAsks, book);
    CHECK(sync.stats().stale == 1);
    CHECK(book.valid());
    CHECK(book.best_bid()->qty == 3);
    CHECK(sync.on_delta({105, 107, 0}, bids, {}, book) == SyncStatus::applied);
    CHECK(sync.on_delta({109, 110, 0}, bids, {}, book) == SyncStatus::resync);  // 108 missing
    CHECK(sync.stats().gaps == 1);
}

SCENARIO("contiguous sequence numbers (Kraken Futures)", "[book_sync]") {
    Book book;
    BookSync sync(SequenceRule::contiguous);
    std::vector<Level> asks{{101, 1}};
    sync.on_snapshot(50, kBids, kAsks, book);
    CHECK(sync.on_delta({50, 50, 0}, {}, asks, book) == SyncStatus::stale);
    CHECK(sync.on_delta({51, 51, 0}, {}, asks, book) == SyncStatus::applied);
    CHECK(sync.on_delta({52, 52, 0}, {}, asks, book) == SyncStatus::applied);
    CHECK(book.best_ask()->qty == 1);
    CHECK(sync.on_delta({54, 54, 0}, {}, asks, book) == SyncStatus::resync);
    CHECK_FALSE(book.valid());
}

TEST_CASE("a USD-M snapshot taken between two events is continued by the next one's pu",
          "[book_sync]") {
    Book book;
    BookSync sync(SequenceRule::binance_futures);
    REQUIRE(sync.on_snapshot(100, kBids, kAsks, book) == SyncStatus::applied);
    // U = 101 > lastUpdateId, but pu = 100 says no update lies between: applied, not a gap.
    CHECK(futures(sync, book, 101, 104, 100, 7) == SyncStatus::applied);
    CHECK(book.best_bid()->qty == 7);
    CHECK(sync.stats().gaps == 0);
    // Starting past the snapshot is still a gap.
    BookSync late(SequenceRule::binance_futures);
    Book other;
    REQUIRE(late.on_snapshot(100, kBids, kAsks, other) == SyncStatus::applied);
    CHECK(futures(late, other, 102, 104, 101, 7) == SyncStatus::resync);
    CHECK(late.stats().gaps == 1);
}

TEST_CASE("a forced resync discards the book", "[book_sync]") {
    Book book;
    BookSync sync(SequenceRule::contiguous);
    sync.on_snapshot(1, kBids, kAsks, book);
    REQUIRE(book.valid());
    sync.force_resync(book);
    CHECK_FALSE(book.valid());
    CHECK(sync.needs_snapshot());
}
