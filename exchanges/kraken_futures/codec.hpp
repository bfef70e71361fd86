#pragma once
// Kraken Futures market-data codec (wss://futures.kraken.com/ws/v1): book_snapshot, book deltas
// and trades, from raw text to integer ticks and lots. Kraken sends prices and sizes as JSON
// numbers, so they are read from the number's own text, exactly, never through a double. No
// allocation per message once the vectors have grown to the largest message seen.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "keel/market/book.hpp"
#include "keel/market/decimal.hpp"

namespace keel::kraken_futures {

enum class MessageKind : uint8_t {
    book_snapshot,   // feed "book_snapshot": the whole book at `seq`
    book_delta,      // feed "book": one level's new absolute size (0 deletes), seq + 1 each
    trade,           // feed "trade": one trade as it happens
    trade_snapshot,  // feed "trade_snapshot": recent trades on subscribing (history, not news)
    other,           // well-formed, not used here: info, subscribed, ticker_lite, heartbeat, ...
    invalid,         // malformed: see error()
};

struct BookSnapshot {
    uint64_t seq = 0;
    int64_t timestamp_ms = 0;
    std::vector<market::Level> bids, asks;
};

struct BookDelta {
    uint64_t seq = 0;
    int64_t timestamp_ms = 0;
    Side side = Side::buy;
    market::Level level;  // qty 0 deletes the level
};

struct Trade {
    uint64_t seq = 0;
    int64_t time_ms = 0;
    Side taker_side = Side::buy;  // "side": the aggressor
    Ticks price = 0;
    Lots qty = 0;
};

class Codec {
  public:
    Codec(market::DecimalGrid price, market::DecimalGrid qty) : price_(price), qty_(qty) {}

    // Parses one frame. `capacity` is how many bytes are readable from frame.data(): at least
    // frame.size() + simdjson::SIMDJSON_PADDING.
    MessageKind parse(std::string_view frame, size_t capacity);

    // "product_id" of the last book or trade message ("PI_XBTUSD"); points into the parser:
    // valid until the next parse.
    std::string_view product_id() const { return product_id_; }
    // What the last frame was: its "event" if it has one ("subscribed", "info", "error"), else
    // its "feed" ("ticker_lite", "heartbeat"). Valid until the next parse.
    std::string_view feed() const { return feed_; }
    const BookSnapshot &snapshot() const { return snapshot_; }
    const BookDelta &delta() const { return delta_; }
    // One entry for `trade`, the snapshot's trades (newest first, as sent) for `trade_snapshot`.
    const std::vector<Trade> &trades() const { return trades_; }
    const std::string &error() const { return error_; }

  private:
    MessageKind fail(std::string what);
    bool number_units(simdjson::ondemand::value v, const market::DecimalGrid &grid, int64_t &out);
    bool side(simdjson::ondemand::object obj, Side &out);
    bool levels(simdjson::ondemand::value v, std::vector<market::Level> &out, const char *name);
    bool trade(simdjson::ondemand::object obj, Trade &out);
    MessageKind parse_snapshot(simdjson::ondemand::object root);
    MessageKind parse_delta(simdjson::ondemand::object root);
    MessageKind parse_trade_snapshot(simdjson::ondemand::object root);

    market::DecimalGrid price_, qty_;
    simdjson::ondemand::parser parser_;
    std::string_view product_id_, feed_;
    BookSnapshot snapshot_;
    BookDelta delta_;
    std::vector<Trade> trades_;
    std::string error_;
};

}  // namespace keel::kraken_futures
