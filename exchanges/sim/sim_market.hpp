#pragma once
// The synthetic market of one instrument: a fair price process and an L2 book around it, stepped
// by a fixed amount of market time. Knows nothing about the plugin ABI beyond keel_level; the
// plugin glue (sim_plugin.cpp) turns its output into host events. The model is described at the
// top of sim_market.cpp.

#include <keel/plugin.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "sim_random.hpp"

namespace keel::sim {

// One entry of the built-in catalogue.
struct instrument_spec {
    const char *symbol;
    const char *base;
    const char *quote;
    double start_price;  // quote currency
    double tick_size;    // quote currency
    double lot_size;     // base currency
    int64_t min_qty_lots;
    double min_notional;  // quote currency
    double spread_ticks;  // mean quoted spread in quiet markets, ticks
    double gap_ticks;     // mean number of empty ticks between adjacent levels
    double level_qty;     // median resting size of one level, base currency
    double taker_rate;    // marketable orders per second in quiet markets
    double flow_rate;     // limit adds (and about as many cancels) per second per side
};

// The catalogue, and its symbols for messages: "BTCUSDT, ETHUSDT, SOLUSDT".
const instrument_spec *find_instrument(std::string_view symbol);
const char *catalogue_symbols();

struct market_config {
    uint64_t seed = 42;
    int64_t tick_ms = 50;
    uint32_t depth = 50;
    double volatility = 1.0;
};

enum class regime : uint8_t { quiet = 0, trend_up = 1, trend_down = 2, turbulent = 3 };

// Receives every trade during a step, in the order they happen. aggressor is a keel_side.
using trade_fn = void (*)(void *user, int64_t price_ticks, int64_t qty_lots, uint32_t aggressor);

class market {
  public:
    // Builds the initial book and lets the market run silently for a while so that the first
    // snapshot already looks like a steady state. Allocates every buffer it will ever need.
    market(const instrument_spec &spec, const market_config &config);

    // Advances the market by tick_ms of market time. Trades go to on_trade as they happen.
    void step(trade_fn on_trade, void *user);

    // The book as it stands, best level first on both sides.
    const std::vector<keel_level> &bids() const { return bids_.levels; }
    const std::vector<keel_level> &asks() const { return asks_.levels; }

    // Levels that changed since the last call (or since construction), best first: the absolute
    // quantity, or 0 for a level that is gone. Returns false when nothing changed. The current
    // book becomes the new baseline.
    bool take_delta(std::vector<keel_level> &bid_delta, std::vector<keel_level> &ask_delta);

    // Makes the current book the baseline without producing a delta (after a snapshot).
    void mark_published();

    const instrument_spec &spec() const { return spec_; }
    double fair_ticks() const { return fair_ticks_; }
    regime current_regime() const { return regime_; }
    int pressure() const { return pressure_; }
    // Sum of bid over sum of ask quantity on the top five levels, as of the end of the last step.
    double imbalance() const { return imbalance_; }

  private:
    struct side {
        bool bid = false;
        std::vector<keel_level> levels{};     // current, best first
        std::vector<keel_level> published{};  // as last handed out
        // Order-flow multipliers for this step (1 in a neutral market).
        double add_rate = 1.0;
        double add_size = 1.0;
        double cancel_rate = 1.0;
    };

    void run(trade_fn on_trade, void *user);
    void advance_regime();
    void advance_pressure();
    void advance_fair();
    void advance_spread();
    void set_flow_bias();
    void sweep(side &s);
    void refill(side &s, const side &other);
    void taker_flow();
    void take(side &s, int64_t qty);
    void maker_flow(side &s, const side &other);
    void normalize(side &s);
    void trade(int64_t price, int64_t qty, uint32_t aggressor);

    int64_t inward(const side &s, int64_t price, int64_t ticks) const {
        return s.bid ? price - ticks : price + ticks;
    }
    int64_t level_gap() { return 1 + rng_.geometric(gap_p_); }
    int64_t fresh_qty(double multiplier);
    int64_t top_qty(const side &s) const;
    void diff(const side &s, std::vector<keel_level> &out) const;

    const instrument_spec &spec_;
    market_config config_;
    rng rng_;

    double dt_;  // seconds per step
    double sqrt_dt_;
    double log_anchor_;  // log of the start price in ticks
    double log_fair_;    // log of the fair price in ticks
    double fair_ticks_;
    double spread_;  // target spread, ticks (an OU process)
    regime regime_ = regime::quiet;
    double trend_drift_ = 0.0;    // bps per second, signed, drawn when a trend starts
    int pressure_ = 0;            // -1 sell pressure, 0 none, +1 buy pressure
    double pressure_left_ = 0.0;  // seconds
    double imbalance_ = 1.0;

    double gap_p_;       // success probability of the level-gap geometric
    double level_lots_;  // median level size, lots
    double p_refill_;    // chance per step that makers re-quote an empty touch
    int64_t capacity_;   // reserved levels per side; never exceeded

    side bids_{.bid = true};
    side asks_{.bid = false};
    std::vector<keel_level> scratch_;  // refill() builds new touch levels here

    trade_fn on_trade_ = nullptr;
    void *trade_user_ = nullptr;
};

}  // namespace keel::sim
