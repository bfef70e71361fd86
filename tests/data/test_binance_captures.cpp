// Real Binance captures from ../shared/data replayed through the codec and BookSync: the same
// parsing and sync path the Binance plugin uses.

#include <catch2/catch.hpp>

#include <map>

#include "codec.hpp"
#include "keel/market/book_sync.hpp"
#include "keel/market/capture.hpp"
#include "ticker_check.hpp"

using namespace keel;
using binance::MessageKind;
using market::SequenceRule;
using market::SyncStatus;
using test::replay;
using test::ReplayResult;

namespace {

std::filesystem::path data_dir() {
    return KEEL_DATA_DIR;
}

void check_clean(const ReplayResult &r, uint64_t expected_matches) {
    INFO("first mismatch: " << r.first_mismatch);
    CHECK(r.invalid == 0);
    CHECK(r.sync.snapshots == 1);
    CHECK(r.sync.gaps == 0);
    CHECK(r.sync.out_of_order == 0);
    CHECK(r.crossed == 0);
    CHECK(r.ticker_mismatches == 0);
    // The counts the data README lists for each capture.
    CHECK(r.ticker_matches == expected_matches);
}

}  // namespace

TEST_CASE("Binance USD-M BTCUSDT capture rebuilds an exact book", "[data][binance]") {
    auto r = replay(data_dir() / "binance/usdm/ws_capture/btcusdt_20240808.gz",
                    SequenceRule::binance_futures);
    CHECK(r.depth == 6551);
    check_clean(r, 629);
}

TEST_CASE("Binance USD-M ETHUSDT capture rebuilds an exact book", "[data][binance]") {
    auto r = replay(data_dir() / "binance/usdm/ws_capture/ethusdt_20240808.gz",
                    SequenceRule::binance_futures);
    check_clean(r, 551);
}

TEST_CASE("Binance spot BTCUSDT capture rebuilds an exact book", "[data][binance]") {
    auto r = replay(data_dir() / "binance/spot/ws_capture/btcusdt_20240808.gz",
                    SequenceRule::binance_spot);
    check_clean(r, 564);
}

TEST_CASE("Binance spot ETHUSDT capture rebuilds an exact book", "[data][binance]") {
    auto r = replay(data_dir() / "binance/spot/ws_capture/ethusdt_20240808.gz",
                    SequenceRule::binance_spot);
    check_clean(r, 577);
}
