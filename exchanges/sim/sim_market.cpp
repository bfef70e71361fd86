// The synthetic market behind the `sim` venue.
//
// Model (per instrument, stepped by a fixed dt = tick_ms of market time; every rate below is per
// second of market time, so tick_ms changes the resolution, not the character, of the market):
//
//  * Regimes. A Markov chain over quiet / trend up / trend down / turbulent. Each step the market
//    leaves its regime with probability 1 - exp(-dt / mean stay) (quiet ~90 s, trends ~25 s,
//    turbulent ~20 s) and picks the next one from a fixed table; over a long run the market is
//    quiet ~70 % of the time, trending ~25 %, turbulent ~5 %. A trend draws its drift when it
//    starts (0.15-0.6 bp/s, signed). Turbulence raises the diffusion 5x, the spread 2.5x and the
//    taker flow 2.5x.
//  * Fair price. log(fair) follows a random walk: regime drift + a response to the book's own
//    imbalance (the price drifts toward the thin side: 0.3 bp/s per unit of ln(bid5/ask5)) + a
//    very weak pull back to the start price (half-life ~1.4 days, so a simulated week never
//    drifts to 0 or infinity) + Gaussian noise (0.2 bp/sqrt(s) quiet, 0.3 trending, 1.0
//    turbulent). Daily log returns come out around 3.5 % rms. `volatility` scales every one of
//    these price terms. The fair price never leaves [start/20, start*20].
//  * Pressure episodes. Bursts of one-sided interest (mean 2 s, 0.5-8 s) during which the
//    pressured side's makers add 3x as often and 1.8x as large on the top five levels while the
//    other side cancels 2.5x as often and adds half as often, and takers lean the same way. They
//    start a few times a minute: mostly with the trend in trending regimes (6/min with, 0.6/min
//    against), 1.2/min each way when quiet, 3/min each way when turbulent. This is what makes
//    the top-5 imbalance cross 3.0 (buy pressure) or 0.33 (sell pressure) several times per
//    minute, for a few percent of the time each, while it stays between them most of the time.
//    In a trend, liquidity piles up on the bid side under a rising price and on the ask side over
//    a falling one (makers on the trend's side also add 1.1x and the other side cancels 1.1x),
//    and through the response above the imbalance leads the price by seconds.
//  * Spread. A target spread in ticks follows an Ornstein-Uhlenbeck process (mean per instrument,
//    e.g. 1.5 ticks for BTCUSDT, reverting within ~0.5 s), clamped to at least one tick.
//  * Book shift. Asks priced below the fair price are lifted and bids above it are hit: each such
//    level trades 25-100 % of its size (buyer or seller aggressor) and the rest is pulled.
//  * Order flow. Marketable orders (Poisson, a few per second, log-normal size around a quarter
//    of a level) walk the book from the top, one trade per level touched, always leaving at least
//    three levels. Limit adds and cancels (Poisson, tens per second per side) pick a level with a
//    geometric law (most activity at the top); 30 % of adds open a new price level, in the spread
//    (never through the fair price) or in a gap between levels; cancels take 10-50 % of a level,
//    or all of it 10 % of the time. Level sizes are log-normal; adds and proportional cancels
//    keep them stationary.
//  * Re-quoting. Makers re-quote a touch that lags the target (fair -/+ spread/2) with
//    probability 1 - exp(-50 dt) per step, laying fresh levels from the target back to the old
//    touch; so a touch taken out by a market order usually stays out for a step or two.
//  * Depth. After each step each side is cut or extended at the far end to exactly `depth`
//    levels; the gap between adjacent levels is 1 + a geometric number of empty ticks.
//
// The figures above are calibrated for tick_ms around 50 (anything up to a few hundred behaves
// the same); the model stays valid, but coarser, for steps of seconds.
//
// Invariants of every state handed out: best bid < best ask, every price > 0, every quantity > 0,
// exactly `depth` levels per side (bids stop at price 1 in the degenerate case of a tiny price),
// best bid <= fair price <= best ask.
//
// Determinism: all randomness comes from one xoshiro256** stream per instrument, seeded from
// (seed, symbol); no std:: distributions, no clock, no environment. The same seed and the same
// number of steps give the same book and trades, bit for bit, whatever the timer timestamps are.
//
// Cost: no allocation after construction (all buffers are reserved for 2 x depth + 64 levels);
// a step is a few dozen random draws and O(depth) bookkeeping.

#include "sim_market.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace keel::sim {

namespace {

constexpr instrument_spec k_catalogue[] = {
    {.symbol = "BTCUSDT",
     .base = "BTC",
     .quote = "USDT",
     .start_price = 60000.0,
     .tick_size = 0.1,
     .lot_size = 0.001,
     .min_qty_lots = 1,
     .min_notional = 5.0,
     .spread_ticks = 1.5,
     .gap_ticks = 1.0,
     .level_qty = 0.5,
     .taker_rate = 6.0,
     .flow_rate = 40.0},
    {.symbol = "ETHUSDT",
     .base = "ETH",
     .quote = "USDT",
     .start_price = 3000.0,
     .tick_size = 0.01,
     .lot_size = 0.001,
     .min_qty_lots = 1,
     .min_notional = 5.0,
     .spread_ticks = 2.0,
     .gap_ticks = 0.6,
     .level_qty = 8.0,
     .taker_rate = 4.0,
     .flow_rate = 30.0},
    {.symbol = "SOLUSDT",
     .base = "SOL",
     .quote = "USDT",
     .start_price = 150.0,
     .tick_size = 0.01,
     .lot_size = 0.01,
     .min_qty_lots = 1,
     .min_notional = 5.0,
     .spread_ticks = 1.3,
     .gap_ticks = 0.2,
     .level_qty = 60.0,
     .taker_rate = 4.0,
     .flow_rate = 30.0},
};

struct regime_spec {
    double mean_stay_s;
    double sigma_bps;  // diffusion of log(fair), bp per sqrt(second)
    double spread_mult;
    double taker_mult;
    double buy_pressure_rate;  // episodes per minute
    double sell_pressure_rate;
};

constexpr regime_spec k_regimes[4] = {
    /* quiet */ {.mean_stay_s = 90.0,
                 .sigma_bps = 0.2,
                 .spread_mult = 1.0,
                 .taker_mult = 1.0,
                 .buy_pressure_rate = 1.2,
                 .sell_pressure_rate = 1.2},
    /* trend up */
    {.mean_stay_s = 25.0,
     .sigma_bps = 0.3,
     .spread_mult = 1.0,
     .taker_mult = 1.3,
     .buy_pressure_rate = 6.0,
     .sell_pressure_rate = 0.6},
    /* trend down */
    {.mean_stay_s = 25.0,
     .sigma_bps = 0.3,
     .spread_mult = 1.0,
     .taker_mult = 1.3,
     .buy_pressure_rate = 0.6,
     .sell_pressure_rate = 6.0},
    /* turbulent */
    {.mean_stay_s = 20.0,
     .sigma_bps = 1.0,
     .spread_mult = 2.5,
     .taker_mult = 2.5,
     .buy_pressure_rate = 3.0,
     .sell_pressure_rate = 3.0},
};

// Where the market goes when it leaves a regime (rows: from, columns: to).
constexpr double k_next_regime[4][4] = {
    {0.0, 0.4, 0.4, 0.2},
    {0.7, 0.0, 0.15, 0.15},
    {0.7, 0.15, 0.0, 0.15},
    {0.6, 0.2, 0.2, 0.0},
};

constexpr double k_bp = 1e-4;
constexpr double k_trend_drift_min_bps = 0.15;  // per second
constexpr double k_trend_drift_max_bps = 0.6;
constexpr double k_imbalance_response_bps = 0.3;       // per second per unit of ln(imbalance)
constexpr double k_anchor_reversion = 5.7e-6;          // per second (half-life ~1.4 days)
constexpr double k_max_excursion = 2.995732273553991;  // ln(20)
constexpr double k_spread_reversion = 2.0;             // per second
constexpr double k_spread_noise = 0.8;                 // x mean spread, per sqrt(second)
constexpr double k_refill_rate = 50.0;                 // per second
constexpr double k_pressure_mean_s = 2.0;
constexpr double k_level_pick_p = 0.25;  // geometric law over level index
constexpr double k_new_level_share = 0.3;
constexpr double k_full_cancel_share = 0.1;
constexpr size_t k_min_levels = 3;                // flow never leaves fewer on a side
constexpr int64_t k_max_qty = 1'000'000'000'000;  // lots

bool better(bool bid, int64_t a, int64_t b) {
    return bid ? a > b : a < b;
}

int64_t to_lots(double x) {
    if (!(x >= 1.0)) return 1;
    if (x >= static_cast<double>(k_max_qty)) return k_max_qty;
    return std::llround(x);
}

}  // namespace

const instrument_spec *find_instrument(std::string_view symbol) {
    for (const auto &spec : k_catalogue)
        if (symbol == spec.symbol) return &spec;
    return nullptr;
}

const char *catalogue_symbols() {
    return "BTCUSDT, ETHUSDT, SOLUSDT";
}

market::market(const instrument_spec &spec, const market_config &config)
    : spec_(spec),
      config_(config),
      rng_(config.seed ^ (fnv1a(spec.symbol) * 0x9E3779B97F4A7C15ull)),
      dt_(static_cast<double>(config.tick_ms) / 1000.0),
      sqrt_dt_(std::sqrt(dt_)),
      log_anchor_(std::log(spec.start_price / spec.tick_size)),
      log_fair_(log_anchor_),
      fair_ticks_(std::exp(log_fair_)),
      spread_(spec.spread_ticks),
      gap_p_(1.0 / (1.0 + spec.gap_ticks)),
      level_lots_(spec.level_qty / spec.lot_size),
      p_refill_(1.0 - std::exp(-k_refill_rate * dt_)),
      capacity_(2 * static_cast<int64_t>(config.depth) + 64) {
    for (side *s : {&bids_, &asks_}) {
        s->levels.reserve(static_cast<size_t>(capacity_));
        s->published.reserve(static_cast<size_t>(capacity_));
    }
    scratch_.reserve(static_cast<size_t>(capacity_));

    refill(bids_, asks_);
    refill(asks_, bids_);
    normalize(bids_);
    normalize(asks_);
    // Thirty seconds of silent market time so the first snapshot shows a market in motion.
    const int64_t warm_up = std::max<int64_t>(20, 30000 / config.tick_ms);
    for (int64_t i = 0; i < warm_up; ++i) run(nullptr, nullptr);
    mark_published();
}

void market::step(trade_fn on_trade, void *user) {
    run(on_trade, user);
}

void market::run(trade_fn on_trade, void *user) {
    on_trade_ = on_trade;
    trade_user_ = user;

    advance_regime();
    advance_pressure();
    advance_fair();
    advance_spread();
    set_flow_bias();

    sweep(bids_);
    sweep(asks_);
    taker_flow();
    maker_flow(bids_, asks_);
    maker_flow(asks_, bids_);
    if (bids_.levels.empty() || rng_.chance(p_refill_)) refill(bids_, asks_);
    if (asks_.levels.empty() || rng_.chance(p_refill_)) refill(asks_, bids_);

    normalize(bids_);
    normalize(asks_);
    imbalance_ = static_cast<double>(top_qty(bids_)) / static_cast<double>(top_qty(asks_));

    on_trade_ = nullptr;
    trade_user_ = nullptr;
}

void market::advance_regime() {
    const auto from = static_cast<size_t>(regime_);
    if (!rng_.chance(1.0 - std::exp(-dt_ / k_regimes[from].mean_stay_s))) return;
    double u = rng_.uniform();
    size_t to = from;
    for (size_t i = 0; i < 4; ++i) {
        if (u < k_next_regime[from][i]) {
            to = i;
            break;
        }
        u -= k_next_regime[from][i];
    }
    regime_ = static_cast<regime>(to);
    const double drift = rng_.uniform(k_trend_drift_min_bps, k_trend_drift_max_bps);
    trend_drift_ = regime_ == regime::trend_up ? drift : regime_ == regime::trend_down ? -drift : 0;
}

void market::advance_pressure() {
    if (pressure_ != 0) {
        pressure_left_ -= dt_;
        if (pressure_left_ <= 0.0) pressure_ = 0;
        return;
    }
    const auto &r = k_regimes[static_cast<size_t>(regime_)];
    const double p_buy = 1.0 - std::exp(-dt_ * r.buy_pressure_rate / 60.0);
    const double p_sell = 1.0 - std::exp(-dt_ * r.sell_pressure_rate / 60.0);
    const double u = rng_.uniform();
    if (u < p_buy)
        pressure_ = 1;
    else if (u < p_buy + p_sell)
        pressure_ = -1;
    else
        return;
    pressure_left_ = std::clamp(rng_.exponential(k_pressure_mean_s), 0.5, 8.0);
}

void market::advance_fair() {
    const auto &r = k_regimes[static_cast<size_t>(regime_)];
    const double vol = config_.volatility;
    const double response = k_imbalance_response_bps * std::clamp(std::log(imbalance_), -2.0, 2.0);
    const double drift =
        (trend_drift_ + response) * k_bp * vol - k_anchor_reversion * (log_fair_ - log_anchor_);
    log_fair_ += drift * dt_ + r.sigma_bps * k_bp * vol * sqrt_dt_ * rng_.normal();
    log_fair_ = std::clamp(log_fair_, log_anchor_ - k_max_excursion, log_anchor_ + k_max_excursion);
    fair_ticks_ = std::exp(log_fair_);
}

void market::advance_spread() {
    // Exact OU transition, stable for any dt.
    const auto &r = k_regimes[static_cast<size_t>(regime_)];
    const double mean = spec_.spread_ticks * r.spread_mult;
    const double a = std::exp(-k_spread_reversion * dt_);
    const double sd =
        k_spread_noise * spec_.spread_ticks * std::sqrt((1.0 - a * a) / (2.0 * k_spread_reversion));
    spread_ = mean + (spread_ - mean) * a + sd * rng_.normal();
    spread_ = std::clamp(spread_, 1.0, 20.0 * spec_.spread_ticks);
}

void market::set_flow_bias() {
    for (side *s : {&bids_, &asks_}) s->add_rate = s->add_size = s->cancel_rate = 1.0;
    const int trend = regime_ == regime::trend_up ? 1 : regime_ == regime::trend_down ? -1 : 0;
    if (trend != 0) {
        side &with = trend > 0 ? bids_ : asks_;
        side &against = trend > 0 ? asks_ : bids_;
        with.add_rate *= 1.1;
        against.cancel_rate *= 1.1;
    }
    if (pressure_ != 0) {
        side &pressed = pressure_ > 0 ? bids_ : asks_;
        side &other = pressure_ > 0 ? asks_ : bids_;
        pressed.add_rate *= 3.0;
        pressed.add_size *= 1.8;
        other.cancel_rate *= 2.5;
        other.add_rate *= 0.5;
    }
}

void market::trade(int64_t price, int64_t qty, uint32_t aggressor) {
    if (on_trade_) on_trade_(trade_user_, price, qty, aggressor);
}

void market::sweep(side &s) {
    size_t n = 0;
    while (n < s.levels.size()) {
        const auto price = static_cast<double>(s.levels[n].price_ticks);
        if (s.bid ? price <= fair_ticks_ : price >= fair_ticks_) break;
        const int64_t qty = s.levels[n].qty_lots;
        const int64_t traded =
            std::min(qty, to_lots(static_cast<double>(qty) * rng_.uniform(0.25, 1.0)));
        trade(s.levels[n].price_ticks, traded, s.bid ? KEEL_SIDE_SELL : KEEL_SIDE_BUY);
        ++n;
    }
    s.levels.erase(s.levels.begin(), s.levels.begin() + static_cast<ptrdiff_t>(n));
}

void market::refill(side &s, const side &other) {
    const double half = spread_ / 2.0;
    int64_t target = std::llround(s.bid ? fair_ticks_ - half : fair_ticks_ + half);
    if (!other.levels.empty()) {
        const int64_t facing = other.levels.front().price_ticks;
        target = s.bid ? std::min(target, facing - 1) : std::max(target, facing + 1);
    }
    if (target < 1) return;  // no room below the asks for a positive bid
    if (!s.levels.empty() && !better(s.bid, target, s.levels.front().price_ticks)) return;

    scratch_.clear();
    const size_t depth = config_.depth;
    int64_t price = target;
    while (scratch_.size() < depth && price >= 1) {
        if (s.levels.empty() ? !scratch_.empty()
                             : !better(s.bid, price, s.levels.front().price_ticks))
            break;
        scratch_.push_back({.price_ticks = price, .qty_lots = fresh_qty(s.add_size)});
        price = inward(s, price, level_gap());
    }
    // Stay within the reserved capacity. What this cuts lies beyond `depth` after the insert and
    // normalize() would cut it anyway.
    const auto room = static_cast<size_t>(capacity_) - scratch_.size();
    if (s.levels.size() > room) s.levels.resize(room);
    s.levels.insert(s.levels.begin(), scratch_.begin(), scratch_.end());
}

void market::taker_flow() {
    const auto &r = k_regimes[static_cast<size_t>(regime_)];
    const int trend = regime_ == regime::trend_up ? 1 : regime_ == regime::trend_down ? -1 : 0;
    const double p_buy = std::clamp(0.5 + 0.1 * trend + 0.2 * pressure_, 0.1, 0.9);
    const int64_t orders = rng_.poisson(spec_.taker_rate * r.taker_mult * dt_);
    for (int64_t i = 0; i < orders; ++i) {
        const bool buy = rng_.chance(p_buy);
        take(buy ? asks_ : bids_, to_lots(rng_.lognormal(0.25 * level_lots_, 1.0)));
    }
}

void market::take(side &s, int64_t qty) {
    size_t n = 0;
    while (qty > 0 && s.levels.size() - n > k_min_levels) {
        keel_level &level = s.levels[n];
        const int64_t q = std::min(qty, level.qty_lots);
        trade(level.price_ticks, q, s.bid ? KEEL_SIDE_SELL : KEEL_SIDE_BUY);
        level.qty_lots -= q;
        qty -= q;
        if (level.qty_lots > 0) break;
        ++n;
    }
    s.levels.erase(s.levels.begin(), s.levels.begin() + static_cast<ptrdiff_t>(n));
}

void market::maker_flow(side &s, const side &other) {
    const int64_t adds = rng_.poisson(spec_.flow_rate * s.add_rate * dt_);
    for (int64_t i = 0; i < adds && !s.levels.empty(); ++i) {
        if (static_cast<int64_t>(s.levels.size()) >= capacity_ - 1) s.levels.pop_back();
        const auto count = static_cast<int64_t>(s.levels.size());
        const int64_t k = std::min(rng_.geometric(k_level_pick_p), count - 1);
        const auto at = s.levels.begin() + static_cast<ptrdiff_t>(k);
        if (rng_.chance(k_new_level_share)) {
            if (k == 0) {
                // Improve the touch, never through the fair price nor onto the other side.
                int64_t limit = s.bid ? static_cast<int64_t>(std::floor(fair_ticks_))
                                      : static_cast<int64_t>(std::ceil(fair_ticks_));
                if (!other.levels.empty()) {
                    const int64_t facing = other.levels.front().price_ticks;
                    limit = s.bid ? std::min(limit, facing - 1) : std::max(limit, facing + 1);
                }
                const int64_t best = s.levels.front().price_ticks;
                const int64_t room = s.bid ? limit - best : best - limit;
                if (room >= 1) {
                    const int64_t price =
                        inward(s, best, -(1 + rng_.below(std::min<int64_t>(room, 2))));
                    s.levels.insert(at, {.price_ticks = price, .qty_lots = fresh_qty(s.add_size)});
                    continue;
                }
            } else {
                const int64_t outer = s.levels[static_cast<size_t>(k)].price_ticks;
                const int64_t inner = s.levels[static_cast<size_t>(k - 1)].price_ticks;
                const int64_t free = (s.bid ? inner - outer : outer - inner) - 1;
                if (free >= 1) {
                    const int64_t price = inward(s, outer, -(1 + rng_.below(free)));
                    const double size = k < 5 ? s.add_size : 1.0;
                    s.levels.insert(at, {.price_ticks = price, .qty_lots = fresh_qty(size)});
                    continue;
                }
            }
        }
        const double size = k < 5 ? s.add_size : 1.0;
        at->qty_lots = std::min(
            k_max_qty, at->qty_lots + to_lots(rng_.lognormal(0.35 * level_lots_ * size, 0.6)));
    }

    const int64_t cancels = rng_.poisson(spec_.flow_rate * s.cancel_rate * dt_);
    for (int64_t i = 0; i < cancels && s.levels.size() > k_min_levels; ++i) {
        const auto count = static_cast<int64_t>(s.levels.size());
        const int64_t k = std::min(rng_.geometric(k_level_pick_p), count - 1);
        const auto at = s.levels.begin() + static_cast<ptrdiff_t>(k);
        if (rng_.chance(k_full_cancel_share)) {
            s.levels.erase(at);
            continue;
        }
        at->qty_lots -= std::llround(static_cast<double>(at->qty_lots) * rng_.uniform(0.1, 0.5));
        if (at->qty_lots <= 0) s.levels.erase(at);
    }
}

void market::normalize(side &s) {
    const size_t depth = config_.depth;
    if (s.levels.size() > depth) s.levels.resize(depth);
    if (s.levels.empty()) refill(s, s.bid ? asks_ : bids_);
    while (!s.levels.empty() && s.levels.size() < depth) {
        const int64_t price = inward(s, s.levels.back().price_ticks, level_gap());
        if (price < 1) break;
        s.levels.push_back({.price_ticks = price, .qty_lots = fresh_qty(1.0)});
    }
}

int64_t market::fresh_qty(double multiplier) {
    return to_lots(rng_.lognormal(level_lots_ * multiplier, 0.5));
}

int64_t market::top_qty(const side &s) const {
    int64_t sum = 0;
    const size_t n = std::min<size_t>(5, s.levels.size());
    for (size_t i = 0; i < n; ++i) sum += s.levels[i].qty_lots;
    return sum > 0 ? sum : 1;
}

void market::diff(const side &s, std::vector<keel_level> &out) const {
    out.clear();
    const auto &was = s.published;
    const auto &now = s.levels;
    size_t i = 0;
    size_t j = 0;
    while (i < was.size() || j < now.size()) {
        if (j == now.size() ||
            (i < was.size() && better(s.bid, was[i].price_ticks, now[j].price_ticks))) {
            out.push_back({.price_ticks = was[i].price_ticks, .qty_lots = 0});
            ++i;
        } else if (i == was.size() || better(s.bid, now[j].price_ticks, was[i].price_ticks)) {
            out.push_back(now[j]);
            ++j;
        } else {
            if (now[j].qty_lots != was[i].qty_lots) out.push_back(now[j]);
            ++i;
            ++j;
        }
    }
}

bool market::take_delta(std::vector<keel_level> &bid_delta, std::vector<keel_level> &ask_delta) {
    diff(bids_, bid_delta);
    diff(asks_, ask_delta);
    mark_published();
    return !bid_delta.empty() || !ask_delta.empty();
}

void market::mark_published() {
    bids_.published.assign(bids_.levels.begin(), bids_.levels.end());
    asks_.published.assign(asks_.levels.begin(), asks_.levels.end());
}

}  // namespace keel::sim
