// Candles built by market::CandleSet from the trades of a real Binance capture, compared with
// candles computed here by a different, deliberately plain method: every trade collected first,
// then grouped by floor(T / length) in a std::map. Candles use the exchange trade time T.

#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "codec.hpp"
#include "keel/market/candles.hpp"
#include "keel/market/capture.hpp"

using namespace keel;
using market::Candle;

namespace {

constexpr TimeNs kMs = 1'000'000;
constexpr TimeNs kSec = 1'000'000'000;

struct Trade {
    int64_t ms;
    Ticks price;
    Lots qty;
};

std::vector<Trade> read_trades(const std::filesystem::path &file) {
    binance::Codec codec(market::DecimalGrid{8, 1}, market::DecimalGrid{8, 1});
    market::CaptureReader reader(file);
    std::vector<Trade> out;
    TimeNs receive = 0;
    std::string_view frame;
    while (reader.next(receive, frame)) {
        if (codec.parse(frame, reader.capacity()) != binance::MessageKind::trade) continue;
        const auto &t = codec.trade();
        out.push_back({t.trade_ms, t.price, t.qty});
    }
    return out;
}

// The reference: one map entry per interval, in arrival order within it.
std::vector<Candle> reference(const std::vector<Trade> &trades, TimeNs length) {
    const int64_t len_ms = length / kMs;
    std::map<int64_t, Candle> by_interval;
    for (const auto &t : trades) {
        int64_t k = t.ms / len_ms;  // all times are after 1970: plain division is the floor
        auto [it, fresh] = by_interval.try_emplace(k);
        Candle &c = it->second;
        if (fresh) {
            c.start = k * len_ms * kMs;
            c.length = length;
            c.open = c.high = c.low = t.price;
        }
        c.high = std::max(c.high, t.price);
        c.low = std::min(c.low, t.price);
        c.close = t.price;
        c.volume += t.qty;
        c.trades += 1;
    }
    std::vector<Candle> out;
    for (auto &[k, c] : by_interval) out.push_back(c);
    return out;
}

}  // namespace

TEST_CASE("candles from a real Binance trade stream equal candles computed independently",
          "[data][binance][candles]") {
    auto trades = read_trades(std::filesystem::path(KEEL_DATA_DIR) /
                              "binance/usdm/ws_capture/btcusdt_20240808.gz");
    // 2024-08-08 23:54 to 24:00 UTC: thousands of trades, a few minutes.
    REQUIRE(trades.size() > 1000);
    size_t backwards = 0;
    for (size_t k = 1; k < trades.size(); ++k) backwards += trades[k].ms < trades[k - 1].ms;
    CHECK(backwards == 0);  // T never goes back in this stream, so no trade is late

    const std::vector<TimeNs> lengths{kSec, 5 * kSec, 60 * kSec};
    for (auto empty : {market::EmptyIntervals::skip, market::EmptyIntervals::flat}) {
        CAPTURE(empty == market::EmptyIntervals::flat ? "flat" : "skip");
        market::CandleSet set(lengths, empty);
        std::vector<Candle> emitted;
        auto collect = [&](const Candle &c) { emitted.push_back(c); };
        for (const auto &t : trades) {
            set.on_trade(t.ms * kMs, t.price, t.qty, collect);
            // The engine's loop closes candles by the clock too; here, the clock is the trade.
            set.close_until(t.ms * kMs, collect);
        }
        const TimeNs until = trades.back().ms * kMs + 60 * kSec;
        set.close_until(until, collect);
        CHECK(set.stats().late == 0);
        CHECK(set.stats().trades == trades.size());

        // One order across timeframes: by end time, then shorter timeframe first.
        for (size_t k = 1; k < emitted.size(); ++k) {
            const Candle &a = emitted[k - 1], &b = emitted[k];
            INFO("candle " << k);
            CHECK((a.end() < b.end() || (a.end() == b.end() && a.length < b.length)));
        }

        for (TimeNs length : lengths) {
            CAPTURE(market::format_timeframe(length));
            auto want = reference(trades, length);
            std::vector<Candle> built, flats;
            for (const auto &c : emitted) {
                if (c.length != length) continue;
                (c.flat ? flats : built).push_back(c);
            }
            REQUIRE(built.size() == want.size());
            for (size_t k = 0; k < want.size(); ++k) {
                INFO("candle " << k << " at " << want[k].start / kMs << " ms");
                CHECK(built[k] == want[k]);
            }
            // Under `flat`, flat candles fill exactly the intervals without trades up to the final
            // clock, each at the close of the candle before it.
            TimeNs first = want.front().start, clock_end = until - until % length;
            size_t intervals = static_cast<size_t>((clock_end - first) / length);
            if (empty == market::EmptyIntervals::skip) {
                CHECK(flats.empty());
                continue;
            }
            CHECK(flats.size() == intervals - want.size());
            std::vector<Candle> all;
            for (const auto &c : emitted)
                if (c.length == length) all.push_back(c);
            REQUIRE(all.size() == intervals);
            for (size_t k = 1; k < all.size(); ++k) {
                CHECK(all[k].start == all[k - 1].start + length);
                if (all[k].flat) {
                    CHECK(all[k].open == all[k - 1].close);
                    CHECK(all[k].close == all[k - 1].close);
                    CHECK(all[k].volume == 0);
                }
            }
        }
    }
}
