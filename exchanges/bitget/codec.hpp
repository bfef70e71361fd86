#pragma once
// Bitget API v1 market-data codec (wss://ws.bitget.com/spot/v1/stream and mix/v1/stream):
// `books` snapshots and updates with their checksum, and trades, from raw text to integer ticks
// and lots. Book levels also keep the text they came in, which the checksum is computed over
// (see BookKeeper). No allocation per message once the vectors have grown.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "keel/market/book.hpp"
#include "keel/market/decimal.hpp"
#include "keel/market/text_book.hpp"

namespace keel::bitget {

enum class MessageKind : uint8_t {
    books_snapshot,  // channel books, action snapshot: the whole book (on subscribing)
    books_update,    // channel books, action update: absolute sizes, "0" deletes
    trade,           // channel trade, action update: new trades
    trade_snapshot,  // channel trade, action snapshot: recent trades on subscribing (history)
    other,           // well-formed, not used here: candle1m, ticker, subscribe/error events
    invalid,         // malformed: see error()
};

struct Books {
    std::vector<market::Level> bids, asks;
    // The same levels as sent ("0.00003614", "600000"); views into the parser, valid until the
    // next parse.
    std::vector<market::TextBook::Entry> bid_text, ask_text;
    int32_t checksum = 0;
    int64_t ts_ms = 0;
};

struct Trade {
    int64_t ts_ms = 0;
    Ticks price = 0;
    Lots qty = 0;
    Side taker_side = Side::buy;
};

class Codec {
  public:
    Codec(market::DecimalGrid price, market::DecimalGrid qty) : price_(price), qty_(qty) {}

    // Parses one frame. `capacity` is how many bytes are readable from frame.data(): at least
    // frame.size() + simdjson::SIMDJSON_PADDING.
    MessageKind parse(std::string_view frame, size_t capacity);

    // "instType" ("sp", "mc") and "instId" ("BTCUSDT") of the last data frame; valid until the
    // next parse.
    std::string_view inst_type() const { return inst_type_; }
    std::string_view inst_id() const { return inst_id_; }
    // What the last frame was: the channel of a data frame ("books", "ticker"), or the event
    // ("subscribe", "error"). Valid until the next parse.
    std::string_view channel() const { return channel_; }
    const Books &books() const { return books_; }
    const std::vector<Trade> &trades() const { return trades_; }
    const std::string &error() const { return error_; }

  private:
    MessageKind fail(std::string what);
    bool levels(simdjson::ondemand::value v, std::vector<market::Level> &out,
                std::vector<market::TextBook::Entry> &text, const char *side);
    MessageKind parse_books(simdjson::ondemand::value data, bool snapshot);
    MessageKind parse_trades(simdjson::ondemand::value data, bool snapshot);

    market::DecimalGrid price_, qty_;
    simdjson::ondemand::parser parser_;
    std::string_view inst_type_, inst_id_, channel_;
    Books books_;
    std::vector<Trade> trades_;
    std::string error_;
};

}  // namespace keel::bitget
