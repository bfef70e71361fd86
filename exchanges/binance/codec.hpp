#pragma once
// Binance market-data codec: combined-stream frames ({"stream":…,"data":…}) and REST depth
// snapshots, from raw text to integer ticks and lots. Shared by the Binance plugin and by replay
// of recorded captures, so both go through the same parsing path. No allocation per message once
// the level vectors have grown to the largest message seen.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "keel/market/book.hpp"
#include "keel/market/decimal.hpp"

namespace keel::binance {

enum class MessageKind : uint8_t {
    depth,        // <symbol>@depth… diff (futures carry pu, spot does not)
    book_ticker,  // <symbol>@bookTicker
    trade,        // <symbol>@trade or @aggTrade
    snapshot,     // REST /depth answer: {"lastUpdateId":…,"bids":…,"asks":…}
    other,        // a well-formed frame keel does not use (kline, markPrice, …)
    invalid,      // malformed: see error()
};

struct DepthUpdate {
    uint64_t first = 0, last = 0, prev_last = 0;  // U, u, pu (pu 0 on spot)
    int64_t event_ms = 0;                         // E
    std::vector<market::Level> bids, asks;
};

struct BookTicker {
    uint64_t update_id = 0;  // u
    market::Level bid, ask;
};

struct Trade {
    int64_t trade_ms = 0;  // T
    uint64_t id = 0;       // t (trade) or a (aggTrade)
    Ticks price = 0;
    Lots qty = 0;
    bool buyer_is_maker = false;  // m: true means the seller was the aggressor
};

struct DepthSnapshot {
    uint64_t last_update_id = 0;
    std::vector<market::Level> bids, asks;
};

class Codec {
  public:
    Codec(market::DecimalGrid price, market::DecimalGrid qty) : price_(price), qty_(qty) {}

    // Parses one frame. `capacity` is how many bytes are readable from frame.data(): at least
    // frame.size() + simdjson::SIMDJSON_PADDING (the reader keeps that much spare).
    MessageKind parse(std::string_view frame, size_t capacity);
    // Parses the body of a REST GET /depth (spot /api/v3, USD-M /fapi/v1). The body does not
    // name its symbol; the request does, so symbol() is the `symbol=` of `request_url`.
    MessageKind parse_depth_response(std::string_view request_url, std::string_view body,
                                     size_t capacity);

    const DepthUpdate &depth() const { return depth_; }
    const BookTicker &book_ticker() const { return ticker_; }
    const Trade &trade() const { return trade_; }
    const DepthSnapshot &snapshot() const { return snapshot_; }
    const std::string &error() const { return error_; }
    // Symbol of the last depth, bookTicker, trade or depth response ("s", as Binance writes it:
    // "BTCUSDT"). Points into the parser or the request URL: valid until the next parse.
    std::string_view symbol() const { return symbol_; }

  private:
    MessageKind fail(std::string what);
    bool levels(simdjson::ondemand::value v, std::vector<market::Level> &out, const char *side);
    bool price(std::string_view text, Ticks &out);
    bool qty(std::string_view text, Lots &out);
    MessageKind parse_depth(simdjson::ondemand::object data);
    MessageKind parse_ticker(simdjson::ondemand::object data);
    MessageKind parse_trade(simdjson::ondemand::object data, bool aggregate);
    MessageKind parse_snapshot(simdjson::ondemand::object doc);

    market::DecimalGrid price_, qty_;
    simdjson::ondemand::parser parser_;
    DepthUpdate depth_;
    BookTicker ticker_;
    Trade trade_;
    DepthSnapshot snapshot_;
    std::string_view symbol_;
    std::string error_;
};

}  // namespace keel::binance
