#pragma once
// Vocabulary shared by every part of the host. Prices and quantities are integers (ticks and
// lots of their instrument) everywhere inside the engine; they become decimals only at the edges
// (Lua, logs, reports) through InstrumentSpec.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace keel {

using Ticks = int64_t;             // price in ticks of the instrument
using Lots = int64_t;              // quantity in lots of the instrument
using TimeNs = int64_t;            // nanoseconds since the Unix epoch (engine clock)
using InstrumentIndex = uint32_t;  // dense index into the engine's instrument table

enum class Side : uint8_t { buy = 1, sell = 2 };

inline const char *to_string(Side s) {
    return s == Side::buy ? "buy" : "sell";
}
inline int sign(Side s) {
    return s == Side::buy ? 1 : -1;
}
inline Side opposite(Side s) {
    return s == Side::buy ? Side::sell : Side::buy;
}

struct InstrumentSpec {
    std::string id;      // deployment-wide name, what strategies and risk limits use
    std::string symbol;  // venue symbol
    std::string venue;
    std::string base, quote;
    double tick_size = 0;
    double lot_size = 0;
    Lots min_qty_lots = 0;
    Lots qty_step_lots = 1;  // orders: a multiple of this many lots (books may be finer)
    double min_notional = 0;
    // A limit price within [min_price, max_price] and within [down, up] x the mid (0: none).
    Ticks min_price = 0, max_price = 0;
    double price_multiplier_up = 0, price_multiplier_down = 0;

    double price(Ticks t) const { return static_cast<double>(t) * tick_size; }
    double qty(Lots l) const { return static_cast<double>(l) * lot_size; }
    double notional(Ticks t, Lots l) const { return price(t) * qty(l); }
    // Decimal to integer, rounding to the nearest tick/lot. The caller checks exactness where it
    // matters (an order price off the tick grid is a veto, not a silent rounding).
    Ticks to_ticks(double price) const { return std::llround(price / tick_size); }
    Lots to_lots(double qty) const { return std::llround(qty / lot_size); }
    bool on_tick_grid(double price) const { return on_grid(price / tick_size); }
    bool on_lot_grid(double qty) const { return on_grid(qty / lot_size); }

    // Exact decimal text for logs and messages: "59996.7", never "59996.700000000004".
    std::string price_text(Ticks t) const { return decimal_text(t, tick_size); }
    std::string qty_text(Lots l) const { return decimal_text(l, lot_size); }
    std::string mid_text(Ticks bid, Ticks ask) const {
        return decimal_text(bid + ask, tick_size / 2);
    }

    // `units` steps of `step`, with as many decimals as the step has (at most 12).
    static std::string decimal_text(int64_t units, double step) {
        int decimals = 0;
        for (double scaled = step; decimals < 12; scaled *= 10, ++decimals)
            if (std::fabs(scaled - std::round(scaled)) <= 1e-9 * std::max(1.0, scaled)) break;
        char text[64];
        std::snprintf(text, sizeof text, "%.*f", decimals, static_cast<double>(units) * step);
        return text;
    }

  private:
    // A whole number of ticks/lots that an int64 holds exactly (NaN and infinities are not).
    static bool on_grid(double units) {
        return std::isfinite(units) && std::fabs(units) < 9.0e15 &&
               std::fabs(units - std::round(units)) < 1e-6;
    }
};

}  // namespace keel
