#pragma once
// Binance's GET /fapi/v1/exchangeInfo (USD-M) and GET /api/v3/exchangeInfo (spot): each symbol's
// assets and filters, as the decimal text Binance sends, so grids stay exact. The risk gate's
// venue filters (tick, lot, minimum quantity and notional, price limits) come from here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::binance {

struct SymbolInfo {
    std::string symbol, base, quote, status;
    std::string tick_size;     // PRICE_FILTER tickSize, e.g. "0.10"
    std::string step_size;     // LOT_SIZE stepSize, e.g. "0.001"
    std::string min_qty;       // LOT_SIZE minQty
    std::string min_notional;  // MIN_NOTIONAL notional (USD-M) or minNotional (spot); "" if none
    std::string min_price, max_price;  // PRICE_FILTER minPrice, maxPrice ("0": none)
    // PERCENT_PRICE multiplierUp / multiplierDown (spot's PERCENT_PRICE_BY_SIDE: the wider of
    // its bid and ask sides); "" if none.
    std::string multiplier_up, multiplier_down;
    int base_precision = 0;  // spot: baseAssetPrecision, the decimals of sizes in its books
};

// One of rateLimits: REQUEST_WEIGHT (per address), ORDERS (per account) or RAW_REQUESTS.
struct RateLimit {
    std::string type;
    int64_t interval_ns = 0;  // interval x intervalNum
    int64_t limit = 0;
};

struct ExchangeInfo {
    std::vector<SymbolInfo> symbols;
    std::vector<RateLimit> rate_limits;
    const SymbolInfo *find(std::string_view symbol) const;
};

// Parses the body of an exchangeInfo answer. On failure returns nullopt and says why in `error`.
std::optional<ExchangeInfo> parse_exchange_info(std::string_view body, std::string &error);

}  // namespace keel::binance
