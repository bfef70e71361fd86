#pragma once
// The loopback venue's market: a recorded Binance capture held in memory, replayed frame by frame
// from its REST depth snapshot on, with the venue's own book kept current with every depth diff
// it has sent. No networking here (binance_venue.cpp owns the sockets).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec.hpp"
#include "keel/core/types.hpp"
#include "keel/market/book.hpp"
#include "keel/market/decimal.hpp"

namespace keel::venue {

// One recorded stream frame, as it will go out.
struct Frame {
    TimeNs receive_ns = 0;
    std::string_view stream;  // the combined-stream name: "btcusdt@depth@0ms"
    std::string_view text;    // the frame byte for byte: {"stream":…,"data":{…}}
    std::string_view data;    // its "data" object: what a raw /ws/<stream> connection gets
    int64_t event_ms = 0;     // its event time E: the exchange's clock when it was sent
    bool depth = false, trade = false;
};

// A trade the replay has printed, kept for klines.
struct PrintedTrade {
    int64_t time_ms = 0;  // T
    Ticks price = 0;
    Lots qty = 0;
    bool buyer_maker = false;  // m
};

// A kline interval as Binance USD-M names it ("1m" … "1M"); nullopt for any other text.
struct KlineInterval {
    enum class Kind : uint8_t { fixed, week, month } kind = Kind::fixed;
    int64_t ms = 0;  // the length of a fixed interval
    static std::optional<KlineInterval> parse(std::string_view text);
    int64_t open_of(int64_t time_ms) const;  // the open time of the kline holding `time_ms`
    int64_t next(int64_t open_ms) const;     // the open time of the kline after
};

// A grid with the number of decimals Binance writes on it: DecimalGrid reads "0.10" as one
// decimal, while Binance prints prices on that grid with two ("61800.30").
struct ShownGrid {
    market::DecimalGrid grid;
    int shown = 0;  // >= grid.decimals
    // The decimals of a grid's text: "0.10" -> 2.
    static ShownGrid parse(std::string_view text);
};
// Units of a grid as Binance writes them: 618003 ticks of "0.10" -> "61800.30".
std::string format_units(int64_t units, ShownGrid grid);
// A count of 10^-decimals as text with exactly `decimals` places: (-1234, 3) -> "-1.234".
std::string format_fixed(int64_t value, int decimals);
// A quote amount, price units x quantity units (10^-(price + qty grid decimals)), as Binance writes
// it: with the decimals both grids are shown with ("0.00000" on BTCUSDT).
std::string format_quote(int64_t value, ShownGrid price, ShownGrid qty);

class Market {
  public:
    // Loads every frame of `capture` (keel's "<receive_ns> <json>" lines, gzip or plain) and
    // starts the market at its first bare REST depth snapshot. The replay begins with the first
    // depth diff recorded before the snapshot that the snapshot's lastUpdateId falls in (what a
    // client connected at that moment would have bridged with), or right after the snapshot.
    // Throws std::runtime_error if there is no snapshot or a frame does not parse.
    Market(const std::filesystem::path &capture, std::string symbol, ShownGrid price,
           ShownGrid qty);

    bool done() const { return pos_ == frames_.size(); }
    // The frame to send next; only when !done().
    const Frame &next() const { return frames_[pos_]; }
    // Takes the next frame as sent: a depth diff goes into the book, a trade into the history,
    // its E moves the exchange clock. Returns the trade it printed, or nullptr.
    const binance::Trade *advance();

    // The replay's exchange clock: the largest E of the frames taken, the first frame's E before
    // any. Every trade in trades() is at or before it.
    int64_t exchange_ms() const { return exchange_ms_; }
    // The book's mid in 1e-8 of the quote (exact: half a tick has at most one more decimal than
    // the tick), nullopt while a side is empty.
    std::optional<int64_t> mid_1e8() const;
    const std::vector<PrintedTrade> &trades() const { return trades_; }
    // GET /fapi/v1/klines: Binance's 12-field arrays from the printed trades, the kline holding
    // the exchange clock included (unfinished); opens in [start, end], at most `limit` of them
    // (the first ones if `start` is given, else the last ones).
    std::string klines_json(const KlineInterval &interval, std::optional<int64_t> start_ms,
                            std::optional<int64_t> end_ms, size_t limit) const;
    // The <symbol>@kline_<name> event of the kline opening at `open_ms`, from the trades printed
    // so far; `closed` is its x.
    std::string kline_event(const KlineInterval &interval, std::string_view name, int64_t open_ms,
                            bool closed, int64_t event_ms) const;

    // GET /fapi/v1/depth: the top `limit` levels per side of the current book, lastUpdateId the
    // u of the last diff sent (the snapshot's id before any). `spot`: /api/v3/depth's layout,
    // without E and T.
    std::string depth_json(size_t limit, bool spot = false) const;

  private:
    // One kline of the printed trades; quote amounts in price x quantity units.
    struct KlineRow {
        int64_t open_ms = 0, next_ms = 0;
        Ticks open = 0, high = 0, low = 0, close = 0;
        Lots volume = 0, taker_volume = 0;
        int64_t quote = 0, taker_quote = 0, count = 0;
    };
    // The klines opening at `opens` (ascending); one without a trade at the close before it.
    std::vector<KlineRow> kline_rows(const KlineInterval &interval,
                                     const std::vector<int64_t> &opens) const;

  public:
    const market::Book &book() const { return book_; }
    const std::string &symbol() const { return symbol_; }
    ShownGrid price_grid() const { return price_; }
    ShownGrid qty_grid() const { return qty_; }
    uint64_t last_update_id() const { return last_id_; }
    size_t sent() const { return pos_; }
    size_t total() const { return frames_.size(); }
    // Depth diffs and trades of the symbol that did not parse (left out of the book and the
    // trades): 0 on a capture that fits its exchangeInfo's grids.
    size_t unparsed() const { return unparsed_; }

  private:
    std::string symbol_;
    ShownGrid price_, qty_;
    binance::Codec codec_;
    std::string text_;  // every frame, each followed by simdjson's padding
    std::vector<Frame> frames_;
    size_t pos_ = 0, unparsed_ = 0;
    market::Book book_;
    uint64_t last_id_ = 0;
    int64_t event_ms_ = 0, transaction_ms_ = 0;  // E and T of the last diff (or the snapshot)
    int64_t exchange_ms_ = 0;
    std::vector<PrintedTrade> trades_;
};

}  // namespace keel::venue
