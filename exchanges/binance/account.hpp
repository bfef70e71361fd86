#pragma once
// Binance's account side, from raw text to keel's order, position and balance events: the user
// data stream (USD-M ORDER_TRADE_UPDATE / ACCOUNT_UPDATE / TRADE_LITE / ALGO_UPDATE, spot
// executionReport / outboundAccountPosition) and the REST answers that carry orders, fills,
// positions and balances, plus the error body and what its code means for keel.
// Prices and quantities become ticks and lots of the symbol's grid exactly (text never goes
// through double); amounts of money become KEEL_AMOUNT_SCALE units.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "keel/market/decimal.hpp"
#include "keel/plugin.h"

namespace keel::binance {

// The grids of one subscribed symbol, and the host's id for it.
struct SymbolGrid {
    keel_instrument_id id = 0;
    market::DecimalGrid price, qty;
};
// Finds a subscribed symbol; nullptr for any other (its events are counted and skipped).
using SymbolLookup = std::function<const SymbolGrid *(std::string_view symbol)>;

// Exact decimal text to KEEL_AMOUNT_SCALE units ("0.00492621" -> 492621). Digits past the eighth
// decimal are rounded half away from zero. nullopt for anything that is not a plain decimal.
std::optional<int64_t> parse_amount(std::string_view text);
// A price that may lie off the grid (an average entry price) to the nearest tick, half away
// from zero.
std::optional<int64_t> nearest_ticks(std::string_view text, market::DecimalGrid grid);

// One order event: keel_order_update with owned strings. `state` 0 means the answer did not say
// (a fill from the trade history).
struct OrderUpdate {
    keel_instrument_id instrument = 0;
    std::string symbol;
    std::string client_order_id;
    std::string venue_order_id;
    keel_order_state state = {};
    keel_side side = KEEL_SIDE_BUY;
    keel_venue_reason reason = KEEL_VENUE_OK;
    int32_t venue_code = 0;
    std::string message;  // the venue's reject reason or error text
    std::string type;     // Binance's order type ("LIMIT", "MARKET", "STOP_MARKET", …)
    int64_t exchange_ts_ns = 0;
    int64_t qty_lots = 0, price_ticks = 0, filled_lots = 0;
    int64_t last_qty_lots = 0, last_price_ticks = 0;
    uint64_t trade_id = 0;
    bool maker = false;
    int64_t fee_amount = 0;
    std::string fee_asset;
    int64_t realized_pnl_amount = 0;
    int64_t retry_at_ns = 0;  // a refusal because of the venue's limits: when it takes requests

    // The ABI view; its strings point into this object.
    keel_order_update abi() const;
};

struct PositionUpdate {
    keel_instrument_id instrument = 0;
    std::string symbol;
    std::string position_side;  // "BOTH" in one-way mode; "LONG"/"SHORT" in hedge mode
    int64_t exchange_ts_ns = 0;
    int64_t qty_lots = 0;  // signed
    int64_t entry_price_ticks = 0;
    int64_t unrealized_pnl_amount = 0;
    keel_position_update abi() const;
};

struct BalanceUpdate {
    std::string asset;
    int64_t exchange_ts_ns = 0;
    int64_t total_amount = 0;
    int64_t free_amount = 0;
    bool has_free = true;  // false when the event does not say what is available (ACCOUNT_UPDATE)
    keel_balance_reason reason = KEEL_BALANCE_UNSAID;  // ACCOUNT_UPDATE's m
    int64_t change_amount = 0;                         // ACCOUNT_UPDATE's bc
    keel_balance_update abi() const;
};

// A conditional (algo) order's update. keel keeps its stops in the host and never places algo
// orders, so one of these is somebody else's order on the account: the plugin reports it.
struct AlgoUpdate {
    std::string symbol, client_algo_id, status, type, reason;
    uint64_t algo_id = 0;
    keel_side side = KEEL_SIDE_BUY;
    int64_t exchange_ts_ns = 0;
    int64_t qty_lots = 0, trigger_price_ticks = 0, price_ticks = 0, filled_lots = 0;
    std::string venue_order_id;  // the order it became, once triggered ("" before)
};

// An error answer ({"code":-1021,"msg":"…"}) or an HTTP failure, as keel understands it.
struct VenueError {
    int http_status = 0;
    int32_t code = 0;
    std::string message;
    keel_venue_reason reason = KEEL_VENUE_REJECTED;
};
// What an HTTP status and Binance error code mean for the order manager. 429 and -1003 are rate
// limits, 418 a ban; 503 with "Unknown error" and -1007 leave the outcome unknown; other 5xx are
// transient; the rest map through Binance's code list (docs/exchanges/binance.md).
keel_venue_reason reason_for(int http_status, int32_t code, std::string_view message);

enum class AccountEvent : uint8_t {
    orders,       // orders() holds the updates
    account,      // positions() and balances() hold the changes
    algo,         // algo() holds it
    fill_notice,  // USD-M TRADE_LITE: orders() holds the fill without its fee; the
                  // ORDER_TRADE_UPDATE that follows carries all of it, so it is not forwarded
    listen_key_expired,
    other,    // well-formed, nothing keel uses
    invalid,  // malformed: error() says why
};

class AccountCodec {
  public:
    explicit AccountCodec(SymbolLookup lookup) : lookup_(std::move(lookup)) {}

    // One user-data stream message, bare or in a combined-stream envelope.
    AccountEvent parse_event(std::string_view frame);

    // REST answers. Each returns false (error() says why) for a body it cannot read; an error
    // body ({"code","msg"}) returns false with last_error() set.
    // One order: place, cancel, query (USD-M or spot; spot FULL answers carry their fills).
    bool parse_order(std::string_view body);
    // A list of orders (open orders, batch answers: an element may be an error of its own,
    // which becomes a REJECTED update).
    bool parse_orders(std::string_view body);
    // USD-M GET /fapi/v1/userTrades or spot GET /api/v3/myTrades: fills with fees.
    bool parse_trades(std::string_view body);
    // USD-M GET /fapi/v2/account or /fapi/v2/balance, spot GET /api/v3/account.
    bool parse_account(std::string_view body);
    // An error body (any 4xx/5xx): fills last_error(); false if the body is not one.
    bool parse_error(int http_status, std::string_view body);

    const std::vector<OrderUpdate> &orders() const { return orders_; }
    const std::vector<PositionUpdate> &positions() const { return positions_; }
    const std::vector<BalanceUpdate> &balances() const { return balances_; }
    const AlgoUpdate &algo() const { return algo_; }
    const VenueError &last_error() const { return last_error_; }
    const std::string &error() const { return error_; }
    // Events about symbols nobody subscribed (skipped), since construction.
    uint64_t foreign_symbols() const { return foreign_; }

  private:
    using Object = simdjson::dom::object;
    bool load(std::string_view text, simdjson::dom::element &root);
    void clear();
    bool fail(std::string what);
    bool futures_order_event(Object data);
    bool spot_execution_report(Object data);
    bool futures_account_update(Object data);
    bool spot_account_position(Object data);
    bool algo_update(Object data);
    bool trade_lite(Object data);
    bool rest_order(Object order);
    bool rest_trade(Object trade);
    const SymbolGrid *grid(std::string_view symbol);

    SymbolLookup lookup_;
    simdjson::dom::parser parser_;
    std::vector<OrderUpdate> orders_;
    std::vector<PositionUpdate> positions_;
    std::vector<BalanceUpdate> balances_;
    AlgoUpdate algo_;
    VenueError last_error_;
    std::string error_;
    uint64_t foreign_ = 0;
};

}  // namespace keel::binance
