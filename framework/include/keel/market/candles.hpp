#pragma once
// Candles built from trades, several timeframes per instrument, aligned to UTC.
//
// Time: a candle covers [start, start + length) of the time the caller passes with each trade.
// The engine passes the venue's trade time (Binance `T`), never the local receive time, so a
// candle holds the trades the venue stamped in its interval. Intervals are multiples of the
// length since the Unix epoch; for a length that divides a day (every timeframe the config
// accepts) that is UTC-aligned and restarts at 00:00 UTC each day.
//
// Closing: a candle closes when a trade at or after its end arrives, or when the clock given to
// close_until() reaches its end, so a quiet market still closes candles on time. A trade older
// than an interval already closed (or older than the open candle) is late: it is dropped and
// counted, never applied to a candle that was already handed out.
//
// Empty intervals (no trade) follow EmptyIntervals: `skip` emits nothing; `flat` emits a candle
// at the previous close (open = high = low = close), volume 0, trades 0, marked `flat`. Flat
// candles need a previous close, so none come before the first candle (live or history), and none
// fill a gap inside history (a gap there is missing data, not a quiet market).
//
// Order (CandleSet): every closed candle of an instrument is emitted once, ascending by end time;
// candles that end at the same time go shortest timeframe first (1m before 5m before 1h), so a
// strategy confirming 1m with 5m sees the 1m candle of the same minute first.
//
// Warm-up (seed): closed candles from history are emitted as if built here, marked `history`,
// and the builder continues from the last one (its close starts the next flat candle). History
// never overrides what the live feed has started: see CandleSet::seed for the rules.

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "keel/core/types.hpp"

namespace keel::market {

struct Candle {
    TimeNs start = 0;  // inclusive, UTC-aligned
    TimeNs length = 0;
    Ticks open = 0, high = 0, low = 0, close = 0;
    Lots volume = 0;
    uint32_t trades = 0;
    bool flat = false;     // an interval without trades, at the previous close (policy `flat`)
    bool history = false;  // came from seed(), not from trades seen here

    TimeNs end() const { return start + length; }
    bool operator==(const Candle &) const = default;
};

enum class EmptyIntervals : uint8_t { skip, flat };

// "1s", "15m", "4h", "1d" -> nanoseconds; nullopt for anything else.
std::optional<TimeNs> parse_timeframe(const std::string &text);
// The shortest spelling of a length: 60 s -> "1m", 90 s -> "90s", 1 day -> "1d".
std::string format_timeframe(TimeNs length);
// True for the lengths CandleSet accepts: 1 s to 1 day, whole seconds, dividing a day evenly.
bool divides_day(TimeNs length);

// One timeframe. Prefer CandleSet, which orders several timeframes; the builder's pending-candle
// interface is what CandleSet merges.
class CandleBuilder {
  public:
    explicit CandleBuilder(TimeNs length, EmptyIntervals empty = EmptyIntervals::skip)
        : length_(length), empty_(empty) {}
    TimeNs length() const { return length_; }
    EmptyIntervals empty_intervals() const { return empty_; }

    // The hot path: true if `ts` falls in the open candle (one compare pair, no division).
    bool contains(TimeNs ts) const { return ts >= open_.start && ts < open_end_; }
    void add(Ticks price, Lots qty) {
        open_.high = price > open_.high ? price : open_.high;
        open_.low = price < open_.low ? price : open_.low;
        open_.close = price;
        open_.volume += qty;
        open_.trades += 1;
    }
    // A trade before this time is late (its interval was closed, or is older than the open one).
    bool is_late(TimeNs ts) const {
        return ts < closed_until_ || (open_end_ != kNever && ts < open_.start);
    }
    // Opens the candle containing ts with this trade. Only once nothing is pending up to ts.
    void open(TimeNs ts, Ticks price, Lots qty);

    // The end of the next candle that is complete once time has reached `due` (its end <= due),
    // or nullopt. Candles come out in time order: queued history, flat fillers, the open candle.
    std::optional<TimeNs> next_end(TimeNs due) const;
    // Takes that candle. Only after next_end(due) returned a value.
    Candle pop(TimeNs due);

    // Queues one history candle if it is on this grid, after everything emitted or queued,
    // before the open candle and ended by `now`; pop() hands it out. See CandleSet::seed.
    enum class SeedResult : uint8_t { accepted, invalid, overlap, unfinished };
    SeedResult seed(const Candle &c, TimeNs now);

    // The feed stops (an unsubscribed instrument): the open candle is dropped, as it misses
    // trades, and no flat candle bridges the gap; history (seed) may fill it.
    void interrupt() {
        open_.start = kNone;
        open_end_ = kNever;
        has_close_ = false;
    }

    std::optional<Candle> open_candle() const {
        if (open_end_ == kNever) return std::nullopt;
        return open_;
    }

  private:
    static constexpr TimeNs kNever = std::numeric_limits<TimeNs>::min();
    static constexpr TimeNs kNone = std::numeric_limits<TimeNs>::max();
    bool flat_due(TimeNs due) const;
    TimeNs history_end() const;

    TimeNs length_;
    EmptyIntervals empty_;
    // The open candle; with none, start = kNone and open_end_ = kNever so contains() is false.
    Candle open_{kNone, 0, 0, 0, 0, 0, 0, 0, false, false};
    TimeNs open_end_ = kNever;
    TimeNs closed_until_ = kNever;  // every interval ending at or before this is done
    Ticks last_close_ = 0;
    bool has_close_ = false;
    std::vector<Candle> history_;  // accepted by seed(), not yet popped (empty outside seed)
    size_t history_next_ = 0;
};

struct CandleStats {
    uint64_t trades = 0, late = 0, candles = 0, flat = 0;
    // seed(): accepted, and dropped for each reason.
    uint64_t seeded = 0, seed_invalid = 0, seed_overlap = 0, seed_unfinished = 0;
};

// Every timeframe of one instrument. Emits closed candles through `emit(const Candle &)` in the
// documented order (end time, then shorter timeframe first).
class CandleSet {
  public:
    CandleSet() = default;
    // Throws std::invalid_argument for a length divides_day() refuses or a length given twice.
    explicit CandleSet(std::span<const TimeNs> lengths,
                       EmptyIntervals empty = EmptyIntervals::flat);
    bool empty() const { return builders_.empty(); }
    std::span<const CandleBuilder> builders() const { return builders_; }
    const CandleStats &stats() const { return stats_; }

    // A trade at venue time ts. Candles it closes are emitted before it joins the new ones. In the
    // common case (ts inside every open candle) this is one compare pair and one update per
    // timeframe, with no division and no allocation.
    template <typename Emit>
    void on_trade(TimeNs ts, Ticks price, Lots qty, Emit &&emit) {
        bool inside = true;
        for (auto &b : builders_) inside &= b.contains(ts);
        if (inside) [[likely]] {
            for (auto &b : builders_) b.add(price, qty);
            ++stats_.trades;
            return;
        }
        slow_trade(ts, price, qty, emit);
    }

    // Emits every candle that ended at or before `now` (open candles and, under `flat`, empty
    // intervals). Call it as the clock moves.
    template <typename Emit>
    void close_until(TimeNs now, Emit &&emit) {
        drain(now, emit);
    }

    // The trades stop for a while (CandleBuilder::interrupt on every timeframe).
    void interrupt() {
        for (auto &b : builders_) b.interrupt();
    }

    // Warm-up: history candles of any of this set's timeframes, in any order. Each is accepted
    // if it is aligned to its timeframe's grid, has that length, has low <= open, close <= high
    // and volume >= 0, ends at or before `now` (a venue's still-open kline is refused as
    // `unfinished`), and lies entirely after every candle already emitted for its timeframe and
    // before that timeframe's open live candle (otherwise `overlap`: the live feed owns every
    // interval from its first trade on, and no interval is emitted twice). Of two history candles
    // for the same interval the first given wins; the other is an overlap. Accepted candles are
    // emitted, marked `history`, merged with live and flat candles in the one order (end time,
    // then shorter timeframe first), together with everything else due by `now`; each timeframe
    // continues from its last one. Not for the hot path: it sorts a copy of `history`.
    template <typename Emit>
    void seed(std::span<const Candle> history, TimeNs now, Emit &&emit) {
        for (const Candle &c : sorted_history(history)) {
            CandleBuilder *b = find(c.length);
            count(b ? b->seed(c, now) : CandleBuilder::SeedResult::invalid);
        }
        // Everything accepted ended by `now`: this hands out all of it, merged with the flat
        // candles after it and any live candle that ended by then.
        drain(now, emit);
    }

  private:
    template <typename Emit>
    void slow_trade(TimeNs ts, Ticks price, Lots qty, Emit &emit) {
        // A trade late for any timeframe is dropped from all, so every timeframe holds the same
        // trades and a 5m candle always equals its five 1m candles.
        for (auto &b : builders_) {
            if (b.is_late(ts)) {
                ++stats_.late;
                return;
            }
        }
        drain(ts, emit);
        for (auto &b : builders_) {
            if (b.contains(ts))
                b.add(price, qty);
            else
                b.open(ts, price, qty);
        }
        ++stats_.trades;
    }

    template <typename Emit>
    void drain(TimeNs due, Emit &emit) {
        // Merge of the builders' pending candles: smallest end first, then shortest timeframe
        // (builders_ is sorted by length, and only a strictly smaller end displaces the first).
        for (;;) {
            CandleBuilder *best = nullptr;
            TimeNs best_end = 0;
            for (auto &b : builders_) {
                auto end = b.next_end(due);
                if (end && (!best || *end < best_end)) {
                    best = &b;
                    best_end = *end;
                }
            }
            if (!best) return;
            Candle c = best->pop(due);
            if (!c.history) ++stats_.candles;
            if (c.flat) ++stats_.flat;
            emit(static_cast<const Candle &>(c));
        }
    }

    CandleBuilder *find(TimeNs length);
    std::vector<Candle> sorted_history(std::span<const Candle> history) const;
    void count(CandleBuilder::SeedResult r);

    std::vector<CandleBuilder> builders_;  // ascending length
    CandleStats stats_;
};

}  // namespace keel::market
