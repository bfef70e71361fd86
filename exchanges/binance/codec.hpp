#pragma once
// Binance market-data codec: combined-stream frames ({"stream":…,"data":…}) and REST depth
// snapshots, from raw text to integer ticks and lots. Shared by the Binance plugin and by replay
// of recorded captures, so both go through the same parsing path. No allocation per message once
// the level vectors have grown to the largest message seen.

#include <cstdint>
#include <optional>
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
    // A grid as the level scanner reads it: the powers of ten taken out of the step into the
    // decimals ("0.10" given as 2 decimals, step 10 reads as 1 decimal, step 1), with the bound
    // that keeps the result identical to DecimalGrid::to_units on the grid as given.
    struct FastGrid {
        bool usable = false;  // false: every level goes through the on-demand path
        int decimals = 0;
        uint64_t step = 1;
        uint64_t max_digits[19] = {};  // the largest digit value that scales by 10^i in range
        // The form Binance writes, read a word at a time: up to 7 digits, the point, every
        // decimal of the grid as given ("61800.30" on "0.10"), the closing quote and `follow`,
        // the text that comes next in a level.
        struct Fixed {
            unsigned length = 0;      // bytes after the point: decimals, quote, follow
            unsigned kept = 0;        // decimals kept: those before the zeros beyond the grid
            unsigned kept_bits = 0;   // 8 x kept
            unsigned kept_shift = 0;  // 64 - 8 x kept
            uint64_t kept_power = 1;  // 10^decimals kept
            uint64_t kept_flags = 0;  // the top bit of each byte of the kept decimals
            // The zeros beyond the grid, quote and follow; never matched while unusable.
            uint64_t tail_mask = 0, tail = 1;
        } fixed;
        static FastGrid of(market::DecimalGrid g, std::string_view follow);
    };

    MessageKind fail(std::string what);
    bool levels(simdjson::simdjson_result<simdjson::ondemand::value> v,
                std::vector<market::Level> &out, const char *side);
    // levels() for an array whose text starts at `p` (its '['), read byte by byte without the
    // on-demand iterator. True with `p` just past the closing ']' if the text is exactly what
    // Binance sends; false for anything else, and the caller asks levels() for the verdict.
    bool scan_levels(const char *&p, std::vector<market::Level> &out) const;
    static bool scan_units(const char *&p, const FastGrid &g, int64_t &out);
    // scan_units for the grid's fixed form, with what follows the number: `p` ends past it.
    // False if the text is not in that form; nothing is decided then.
    static bool scan_fixed(const char *&p, const FastGrid::Fixed &f, uint64_t step, int64_t &out);
    // One side ("b", "bids", …) of a depth message: the scan if it can, levels() if not.
    // `after` is where the scanned array ends, null when levels() read it.
    bool side(simdjson::simdjson_result<simdjson::ondemand::value> v,
              std::vector<market::Level> &out, const char *name, const char *&after);
    bool price(std::string_view text, Ticks &out);
    bool qty(std::string_view text, Lots &out);
    // parse() of a depth diff, bookTicker or trade in exactly the layout Binance sends, read as
    // text without simdjson: its kind if it was one (the message and symbol() are set), nullopt
    // if not (nothing decided: the on-demand path reads the frame again and has the last word).
    std::optional<MessageKind> parse_text(std::string_view frame, size_t capacity);
    // The body of each, from just inside "data":{ to `last`, the frame's final '}'.
    bool depth_text(const char *&p, const char *last);
    bool ticker_text(const char *&p, const char *last);
    bool trade_text(const char *&p, const char *last);
    // `,"s":"<symbol>"`, copied into symbol_text_ (the frame's buffer may change before symbol()
    // is read; simdjson's copy would survive that).
    bool text_symbol(const char *&p);
    // `,"<k>":"<decimal>"` through price() or qty(), as the on-demand path reads it.
    bool text_decimal(const char *&p, char k, bool is_price, int64_t &out);
    MessageKind parse_depth(simdjson::ondemand::object data);
    MessageKind parse_ticker(simdjson::ondemand::object data);
    MessageKind parse_trade(simdjson::ondemand::object data, bool aggregate);
    MessageKind parse_snapshot(simdjson::ondemand::object doc);

    market::DecimalGrid price_, qty_;
    // A level is ["<price>","<qty>"], followed by another (,[") or the end of the array.
    FastGrid fast_price_ = FastGrid::of(price_, R"(,")"), fast_qty_ = FastGrid::of(qty_, R"(],[")");
    simdjson::ondemand::parser parser_;
    DepthUpdate depth_;
    BookTicker ticker_;
    Trade trade_;
    DepthSnapshot snapshot_;
    std::string_view symbol_;
    const char *end_ = nullptr;  // end of the frame being parsed (its padding follows)
    simdjson::ondemand::document *doc_ = nullptr;  // the document being parsed, during parse
    char symbol_text_[32] = {};                    // symbol() of a frame read by parse_text
    std::string error_;
};

}  // namespace keel::binance
