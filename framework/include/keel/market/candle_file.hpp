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
#include <string>
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

// Several files of one instrument (monthly downloads, fragments) read as one series in time
// order: a candle that several files hold is kept once if they agree, and one they disagree on
// is a CandleFileError naming the time and both files. `duplicates` (if given) counts the
// repeats dropped.
std::vector<CandleRow> read_candle_files(const std::vector<std::filesystem::path> &paths,
                                         size_t *duplicates = nullptr);

// `keel data check`: every problem of a file, not just the first. A row that cannot be read, or
// repeats or goes back in time, or whose prices are not positive or whose open or close lie
// outside its low..high, is an issue and is left out; the rest are returned. A file that cannot
// be read at all (missing, not JSON, a CSV header without a needed column) still throws.
struct CandleFileIssue {
    size_t line = 0;  // CSV line; 0 for JSON, whose issues say "row N"
    std::string what;
};
std::vector<CandleRow> scan_candle_file(const std::filesystem::path &path,
                                        std::vector<CandleFileIssue> &issues);

// The interval of rows in time order: their most common step (0 for fewer than two rows).
TimeNs candle_interval(const std::vector<CandleRow> &rows);

// Intervals missing from rows in time order, against candle_interval (returned in `interval`);
// `off_grid` when a step is not a whole number of intervals (Binance's 2018 block of 1h candles
// at HH:28:14.8), which is listed whatever its length.
struct CandleGap {
    TimeNs from = 0, to = 0;  // the first missing open time; the next row's open time
    uint64_t missing = 0;     // whole intervals missing (for an off-grid step: that fit in it)
    bool off_grid = false;
};
std::vector<CandleGap> find_gaps(const std::vector<CandleRow> &rows, TimeNs &interval);

}  // namespace keel::market
