#pragma once
// Binance's public market answers that are not on the depth hot path, from raw text to keel's
// types: spot REST klines, trades, historical trades, aggTrades, bookTicker, avgPrice, ticker
// price and server time, and the kline, USD-M markPrice and forceOrder stream events (which
// binance::Codec leaves as `other`). Prices on the symbol's grid become ticks and sizes lots,
// exactly; prices that are not on any grid (average, mark, index) and funding rates become exact
// 1e-8 units. Nothing goes through double, and nothing is rounded: a value with more precision
// than its field allows is refused, naming the field.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "keel/core/money.hpp"
#include "keel/core/types.hpp"
#include "keel/market/book_side.hpp"
#include "keel/market/candles.hpp"
#include "keel/market/decimal.hpp"
#include "keel/plugin.h"

namespace keel::binance {

// One trade from GET /api/v3/trades or /api/v3/historicalTrades, or one aggregate trade from
// GET /api/v3/aggTrades.
struct MarketTrade {
    uint64_t id = 0;  // id, or the aggregate's a
    // An aggregate's first and last trade ids (f, l); both equal id for a plain trade.
    uint64_t first_id = 0, last_id = 0;
    TimeNs time_ns = 0;
    Ticks price = 0;
    Lots qty = 0;
    keel_side aggressor = KEEL_SIDE_BUY;  // isBuyerMaker / m true: the seller took
    Money quote;                          // quoteQty; zero for an aggregate, which has none
};

// GET /api/v3/ticker/bookTicker for one symbol.
struct RestBookTicker {
    std::string symbol;
    market::Level bid, ask;
};

// GET /api/v3/ticker/price for one symbol.
struct TickerPrice {
    std::string symbol;
    Ticks price = 0;
};

// GET /api/v3/avgPrice: the average over the last `minutes`, not on the tick grid.
struct AveragePrice {
    int64_t minutes = 0;
    Money price;
};

// USD-M <symbol>@markPrice: prices in exact 1e-8 units (Binance gives them to 8 decimals, off
// the tick grid), the funding rate as a Rate.
struct MarkPrice {
    std::string symbol;
    TimeNs event_ns = 0;            // E
    Money mark, index, settlement;  // p, i, P (the estimated settlement price)
    Rate funding_rate;              // r
    TimeNs next_funding_ns = 0;     // T
};

// USD-M <symbol>@forceOrder: a liquidation order and how far it filled.
struct ForceOrder {
    std::string symbol;
    keel_side side = KEEL_SIDE_BUY;
    std::string type, time_in_force, status;  // o, f, X as Binance writes them
    TimeNs event_ns = 0, trade_ns = 0;        // E, T
    Ticks price = 0;
    Money average_price;                        // ap: the fills' average, off the tick grid
    Lots qty = 0, last_filled = 0, filled = 0;  // q, l, z
};

class RestMarket {
  public:
    // The grids of the symbol the answers are about: REST bodies mostly do not name it.
    RestMarket(market::DecimalGrid price, market::DecimalGrid qty) : price_(price), qty_(qty) {}

    // Each returns false (error() names the field and says why) for a body it cannot read
    // exactly, and then holds nothing of it.
    // GET /api/v3/klines: candles marked `history` (the venue built them), and `flat` when the
    // interval had no trade (Binance then repeats the previous close). The last one may still be
    // open; CandleSet::seed refuses it until its end.
    bool parse_klines(std::string_view body);
    // GET /api/v3/trades and /api/v3/historicalTrades.
    bool parse_trades(std::string_view body);
    // GET /api/v3/aggTrades.
    bool parse_agg_trades(std::string_view body);
    bool parse_book_ticker(std::string_view body);
    bool parse_ticker_price(std::string_view body);
    bool parse_avg_price(std::string_view body);
    // GET /api/v3/time.
    bool parse_server_time(std::string_view body);
    // One stream event, bare or in a combined-stream envelope ({"stream":…,"data":…}).
    bool parse_mark_price(std::string_view frame);
    // <symbol>@kline_<interval>: the kline so far as candles()' one candle (marked `history`:
    // the venue built it); kline_closed() once its interval has ended (x).
    bool parse_kline(std::string_view frame);
    bool parse_force_order(std::string_view frame);

    const std::vector<market::Candle> &candles() const { return candles_; }
    bool kline_closed() const { return kline_closed_; }
    const std::vector<MarketTrade> &trades() const { return trades_; }
    const RestBookTicker &book_ticker() const { return book_ticker_; }
    const TickerPrice &ticker_price() const { return ticker_price_; }
    const AveragePrice &average_price() const { return average_price_; }
    TimeNs server_time_ns() const { return server_time_ns_; }
    const MarkPrice &mark_price() const { return mark_price_; }
    const ForceOrder &force_order() const { return force_order_; }
    const std::string &error() const { return error_; }

  private:
    bool load(std::string_view text, simdjson::dom::element &root);
    bool load_object(std::string_view text, simdjson::dom::object &out, bool stream);
    bool fail(std::string what);

    market::DecimalGrid price_, qty_;
    simdjson::dom::parser parser_;
    std::vector<market::Candle> candles_;
    bool kline_closed_ = false;
    std::vector<MarketTrade> trades_;
    RestBookTicker book_ticker_;
    TickerPrice ticker_price_;
    AveragePrice average_price_;
    TimeNs server_time_ns_ = 0;
    MarkPrice mark_price_;
    ForceOrder force_order_;
    std::string error_;
};

}  // namespace keel::binance
