#include "exchange_info.hpp"

#include <cstdlib>

#include <simdjson.h>

namespace keel::binance {

const SymbolInfo *ExchangeInfo::find(std::string_view symbol) const {
    for (const auto &s : symbols)
        if (s.symbol == symbol) return &s;
    return nullptr;
}

namespace {

// A string field, or "" when absent or not a string.
std::string text(simdjson::dom::element e, std::string_view key) {
    std::string_view v;
    if (e[key].get_string().get(v)) return {};
    return std::string(v);
}

}  // namespace

std::optional<ExchangeInfo> parse_exchange_info(std::string_view body, std::string &error) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (auto ec = parser.parse(body.data(), body.size()).get(doc)) {
        error = std::string("exchangeInfo is not JSON: ") + simdjson::error_message(ec);
        return std::nullopt;
    }
    simdjson::dom::array symbols;
    if (doc["symbols"].get_array().get(symbols)) {
        error = "exchangeInfo has no \"symbols\" array";
        return std::nullopt;
    }
    ExchangeInfo out;
    simdjson::dom::array limits;
    if (!doc["rateLimits"].get_array().get(limits)) {
        for (auto entry : limits) {
            RateLimit r;
            r.type = text(entry, "rateLimitType");
            const std::string interval = text(entry, "interval");
            int64_t count = 0;
            const int64_t unit = interval == "SECOND"   ? 1'000'000'000
                                 : interval == "MINUTE" ? 60'000'000'000
                                 : interval == "DAY"    ? 86'400'000'000'000
                                                        : 0;
            if (r.type.empty() || unit == 0 || entry["intervalNum"].get_int64().get(count) ||
                entry["limit"].get_int64().get(r.limit) || count <= 0 || r.limit <= 0) {
                error = "exchangeInfo rateLimits entry \"" + r.type +
                        "\" needs rateLimitType, interval (SECOND, MINUTE or DAY), a positive "
                        "intervalNum and limit";
                return std::nullopt;
            }
            r.interval_ns = unit * count;
            out.rate_limits.push_back(std::move(r));
        }
    }
    for (auto entry : symbols) {
        SymbolInfo s;
        s.symbol = text(entry, "symbol");
        s.base = text(entry, "baseAsset");
        s.quote = text(entry, "quoteAsset");
        s.status = text(entry, "status");
        if (int64_t p = 0; !entry["baseAssetPrecision"].get_int64().get(p) && p >= 0 && p <= 18)
            s.base_precision = static_cast<int>(p);
        simdjson::dom::array filters;
        if (!entry["filters"].get_array().get(filters)) {
            for (auto f : filters) {
                std::string type = text(f, "filterType");
                if (type == "PRICE_FILTER") {
                    s.tick_size = text(f, "tickSize");
                    s.min_price = text(f, "minPrice");
                    s.max_price = text(f, "maxPrice");
                } else if (type == "PERCENT_PRICE") {
                    s.multiplier_up = text(f, "multiplierUp");
                    s.multiplier_down = text(f, "multiplierDown");
                } else if (type == "PERCENT_PRICE_BY_SIDE") {
                    // One band for both sides: the wider, so the gate never refuses what the
                    // venue would take.
                    auto wider = [&](const char *bid, const char *ask, bool up) {
                        std::string x = text(f, bid), y = text(f, ask);
                        const double dx = std::strtod(x.c_str(), nullptr),
                                     dy = std::strtod(y.c_str(), nullptr);
                        return (up ? dx >= dy : dx <= dy) ? x : y;
                    };
                    s.multiplier_up = wider("bidMultiplierUp", "askMultiplierUp", true);
                    s.multiplier_down = wider("bidMultiplierDown", "askMultiplierDown", false);
                } else if (type == "LOT_SIZE") {
                    s.step_size = text(f, "stepSize");
                    s.min_qty = text(f, "minQty");
                } else if (type == "MIN_NOTIONAL" || type == "NOTIONAL") {
                    auto n = text(f, "notional");
                    if (n.empty()) n = text(f, "minNotional");
                    if (!n.empty()) s.min_notional = n;
                }
            }
        }
        if (s.symbol.empty() || s.tick_size.empty() || s.step_size.empty()) {
            error = "exchangeInfo symbol " + (s.symbol.empty() ? "(unnamed)" : s.symbol) +
                    " lacks a symbol, PRICE_FILTER tickSize or LOT_SIZE stepSize";
            return std::nullopt;
        }
        out.symbols.push_back(std::move(s));
    }
    return out;
}

}  // namespace keel::binance
