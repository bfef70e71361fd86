#pragma once
// Candles built from trades, aligned to UTC multiples of the timeframe. A candle closes when the
// first trade of a later interval arrives or when the clock passes its end (close_until), so a
// quiet market still closes candles. Intervals without trades produce no candle (the
// market-data issue settles the empty-interval policy).

#include <cstdint>
#include <optional>
#include <string>

#include "keel/core/types.hpp"

namespace keel::market {

struct Candle {
    TimeNs start = 0;  // inclusive, UTC-aligned
    TimeNs length = 0;
    Ticks open = 0, high = 0, low = 0, close = 0;
    Lots volume = 0;
    uint32_t trades = 0;
};

// "1s", "15m", "4h", "1d" -> nanoseconds; nullopt for anything else.
std::optional<TimeNs> parse_timeframe(const std::string &text);

class CandleBuilder {
  public:
    explicit CandleBuilder(TimeNs length) : length_(length) {}
    TimeNs length() const { return length_; }

    // Adds a trade; returns the candle it closed, if the trade starts a later interval.
    std::optional<Candle> on_trade(TimeNs ts, Ticks price, Lots qty);
    // Closes the open candle if `now` is at or past its end.
    std::optional<Candle> close_until(TimeNs now);

  private:
    TimeNs length_;
    std::optional<Candle> open_;
};

}  // namespace keel::market
