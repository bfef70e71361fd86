#pragma once
// Candle files as users and other tools have them, read into one shape. Formats, told apart by
// their first bytes:
// - JSON array of arrays `[[open_time_ms, open, high, low, close, volume, ...], ...]`, numbers or
//   numeric strings (Binance klines REST, freqtrade and other tools' dumps);
// - JSON object whose `result` holds one such array with time in seconds (Kraken OHLC REST:
//   `[time, open, high, low, close, vwap, volume, count]`);
// - CSV without a header: data.binance.vision klines (open time in ms or, since 2025, µs);
// - CSV with a header naming the columns: a time column (`timestamp`, `open_time`, `time`, `date`
//   or `datetime`: epoch s/ms/µs/ns or `YYYY-MM-DD HH:MM:SS[.frac][+00:00]`, UTC unless an offset
//   says otherwise) and `open`, `high`, `low`, `close`, `volume`.
// Anything else, a row that does not parse, or time that does not increase is an error naming the
// file and line. Files are read as they are; nothing is rounded, filled or reordered.

#include <filesystem>
#include <stdexcept>
#include <vector>

#include "keel/core/types.hpp"

namespace keel::market {

struct CandleRow {
    TimeNs open_time = 0;
    double open = 0, high = 0, low = 0, close = 0, volume = 0;
};

class CandleFileError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

std::vector<CandleRow> read_candle_file(const std::filesystem::path &path);

}  // namespace keel::market
