// Property test of the risk gate: a million random order intents go through a real RiskGate with a
// real Portfolio and real Books, in random episodes (limits, states, equity paths, clocks), and
// every decision is compared with an oracle written here from the specification of
// RiskGate::check (its checks in order, restated step by step in oracle()), not from its code:
//  (a) every approval is one the oracle approves, with the same final quantity;
//  (b) every veto carries the oracle's first failing check;
//  (c) an approved order breaks no limit, recomputed a second way: in long double from the
//      decimal prices and quantities, limit set by limit set, with a small tolerance.
// The seed is fixed and printed; KEEL_RISK_SEED overrides it to explore other runs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "keel/risk/risk_gate.hpp"

using namespace keel;
using exec::OrderIntent;
using exec::OrderType;
using risk::TradingState;
using risk::VetoReason;

namespace {

__extension__ using Wide = __int128;
using Real = long double;

constexpr uint64_t kSeed = 0x6b65656c5249534bULL;  // "keelRISK"
constexpr int kEpisodes = 400;
constexpr int kStepsPerEpisode = 2500;  // 1,000,000 intents, plus the kill switch's own orders

constexpr TimeNs kMs = 1'000'000;
constexpr TimeNs kSecond = 1000 * kMs;
constexpr TimeNs kMinute = 60 * kSecond;
constexpr TimeNs kHour = 60 * kMinute;
constexpr TimeNs kDay = 24 * kHour;
constexpr TimeNs kTimeframes[] = {0, kMinute, 5 * kMinute, 15 * kMinute, kHour};  // 1h: no cap
constexpr double kOff = config::OrderLimits::kOff;

// ---- instruments, with their grids as exact decimals -------------------------------------------

struct InstrumentDef {
    const char *id;
    bool spot;
    int64_t tick_m;  // tick = tick_m * 10^-tick_e
    int tick_e;
    int64_t lot_m;  // lot = lot_m * 10^-lot_e (lot_e <= 3: max_order_qty is drawn in 1e-3 steps)
    int lot_e;
    Lots min_qty;
    double min_notional;
    double leverage;
    double price;  // starting mid, quote currency
};

constexpr InstrumentDef kDefs[] = {
    {"BTCUSDT", false, 1, 1, 1, 3, 0, 5, 10, 60000},    // tick 0.1, lot 0.001
    {"ETHUSDT", true, 1, 2, 1, 2, 0, 10, 1, 3000},      // spot, tick 0.01, lot 0.01
    {"DOGEUSDT", false, 1, 4, 1, 0, 10, 1, 20, 0.15},   // tick 0.0001, lot 1, 10 lots minimum
    {"SOLUSDT", true, 1, 3, 1, 1, 2, 0, 1, 150},        // spot, tick 0.001, lot 0.1, 2 lots min
    {"PEPEUSDT", false, 1, 7, 1, 2, 100, 2, 3, 0.012},  // 1e-9 per tick-lot: notionals round
    {"XAUTUSDT", false, 5, 1, 1, 3, 0, 0, 2.5, 2400},   // tick 0.5, lot 0.001
};
constexpr size_t kInstruments = std::size(kDefs);
const char *const kStrategyNames[] = {"alpha", "beta", "gamma"};
constexpr int kStrategies = 3;

int64_t pow10(int e) {
    int64_t p = 1;
    while (e-- > 0) p *= 10;
    return p;
}

// tick * lot in Money units: mult / div (div > 1 only for grids finer than 1e-8 per tick-lot).
struct Grid {
    Wide mult = 1, div = 1;
    int64_t lot_m = 1;
    int lot_e = 0;
};

Grid grid_of(const InstrumentDef &d) {
    Grid g;
    int e = d.tick_e + d.lot_e;
    g.mult = static_cast<Wide>(d.tick_m) * d.lot_m;
    if (e <= 8)
        g.mult *= pow10(8 - e);
    else
        g.div = pow10(e - 8);
    g.lot_m = d.lot_m;
    g.lot_e = d.lot_e;
    return g;
}

Wide wabs(Wide v) {
    return v < 0 ? -v : v;
}

// price * lots * tick * lot in 1e-8 units, rounded half away from zero.
Wide exact_notional(const Grid &g, Wide price, Wide lots) {
    Wide v = price * lots * g.mult;
    if (g.div == 1) return v;
    Wide q = v / g.div, r = wabs(v % g.div);
    if (2 * r >= g.div) q += v < 0 ? -1 : 1;
    return q;
}

// A limit in quote currency (drawn with at most 8 decimals) as Money units.
Wide units(double quote) {
    return std::llround(quote * 1e8);
}

std::vector<InstrumentSpec> make_specs() {
    std::vector<InstrumentSpec> specs;
    for (auto &d : kDefs) {
        InstrumentSpec s;
        s.id = s.symbol = d.id;
        s.venue = "sim";
        s.tick_size = static_cast<double>(d.tick_m) / static_cast<double>(pow10(d.tick_e));
        s.lot_size = static_cast<double>(d.lot_m) / static_cast<double>(pow10(d.lot_e));
        s.min_qty_lots = d.min_qty;
        s.min_notional = d.min_notional;
        specs.push_back(s);
    }
    // BTCUSDT carries the venue's price limits as Binance USD-M's exchangeInfo gives them:
    // PRICE_FILTER from 402.0 to 1,246,396.6, PERCENT_PRICE 0.5454 to 1.1 x the reference.
    for (auto &s : specs) {
        if (s.id != "BTCUSDT") continue;
        s.min_price = 4020;
        s.max_price = 12463966;
        s.price_multiplier_up = 1.1;
        s.price_multiplier_down = 0.5454;
    }
    return specs;
}

// ---- random numbers ------------------------------------------------------------------------

class Rng {
  public:
    explicit Rng(uint64_t seed) : g_(seed) {}
    double uniform(double lo = 0, double hi = 1) {
        return std::uniform_real_distribution<double>(lo, hi)(g_);
    }
    int64_t between(int64_t lo, int64_t hi) {
        return std::uniform_int_distribution<int64_t>(lo, hi)(g_);
    }
    bool chance(double p) { return uniform() < p; }
    double log_uniform(double lo, double hi) {
        return std::exp(uniform(std::log(lo), std::log(hi)));
    }
    double normal(double sd) { return std::normal_distribution<double>(0, sd)(g_); }
    template <typename T, size_t N>
    const T &pick(const T (&a)[N]) {
        return a[between(0, N - 1)];
    }

  private:
    std::mt19937_64 g_;
};

double cents(double x) {
    return std::round(x * 100) / 100;
}

// ---- limits as the oracle resolves them ----------------------------------------------------

struct Limits {
    double order_notional = kOff, order_qty = kOff, position_notional = kOff;
    double position_pct = kOff, exposure_pct = kOff, risk_pct = kOff, leverage = kOff;
    double band_pct = kOff;
    std::map<int64_t, double> leverage_by_tf;
    bool require_stop = false, no_duplicate = false;

    void tighten(const config::OrderLimits &o) {
        order_notional = std::min(order_notional, o.max_order_notional);
        order_qty = std::min(order_qty, o.max_order_qty);
        position_notional = std::min(position_notional, o.max_position_notional);
        position_pct = std::min(position_pct, o.max_position_pct);
        exposure_pct = std::min(exposure_pct, o.max_instrument_exposure_pct);
        risk_pct = std::min(risk_pct, o.risk_per_trade_pct);
        leverage = std::min(leverage, o.max_leverage);
        band_pct = std::min(band_pct, o.price_band_pct);
        for (auto [tf, cap] : o.max_leverage_by_timeframe) {
            auto [it, fresh] = leverage_by_tf.emplace(tf, cap);
            if (!fresh) it->second = std::min(it->second, cap);
        }
        require_stop = require_stop || o.require_stop;
        no_duplicate = no_duplicate || o.no_duplicate_entry;
    }
    double leverage_cap(TimeNs tf) const {
        auto it = leverage_by_tf.find(tf);
        return it == leverage_by_tf.end() ? leverage : std::min(leverage, it->second);
    }
};

// ---- random configuration ------------------------------------------------------------------

double maybe(Rng &r, double p_on, double value) {
    return r.chance(p_on) ? value : kOff;
}

// Base-unit quantity limits are drawn in steps of 0.001, so that the oracle compares exactly.
double qty_limit(Rng &r, double equity, const InstrumentDef &d) {
    double base = equity * r.log_uniform(0.02, 2) / d.price;
    return static_cast<double>(std::max<int64_t>(1, std::llround(base * 1000))) / 1000;
}

config::OrderLimits random_order_limits(Rng &r, double equity, double p, int instrument) {
    config::OrderLimits o;
    o.max_order_notional = maybe(r, p, cents(equity * r.log_uniform(0.03, 1.5)));
    const auto &d = kDefs[instrument >= 0 ? instrument : r.between(0, kInstruments - 1)];
    o.max_order_qty = maybe(r, p * (instrument >= 0 ? 1 : 0.4), qty_limit(r, equity, d));
    o.max_position_notional = maybe(r, p, cents(equity * r.log_uniform(0.1, 4)));
    o.max_position_pct = maybe(r, p, r.uniform(5, 300));
    o.max_instrument_exposure_pct = maybe(r, p, r.uniform(10, 500));
    o.risk_per_trade_pct = maybe(r, p, r.log_uniform(0.05, 5));
    o.max_leverage = maybe(r, p, r.uniform(0.3, 8));
    if (r.chance(p))
        for (TimeNs tf : {kMinute, 5 * kMinute, 15 * kMinute})
            if (r.chance(0.6)) o.max_leverage_by_timeframe[tf] = r.uniform(0.3, 8);
    o.price_band_pct = maybe(r, p, r.log_uniform(0.05, 10));
    o.require_stop = r.chance(p * 0.2);
    o.no_duplicate_entry = r.chance(p * 0.3);
    return o;
}

config::RiskAction random_action(Rng &r) {
    double u = r.uniform();
    return u < 0.5   ? config::RiskAction::alert
           : u < 0.7 ? config::RiskAction::reduce
           : u < 0.9 ? config::RiskAction::halt
                     : config::RiskAction::flatten;
}

config::RiskLimits random_limits(Rng &r, double equity) {
    config::RiskLimits l;
    l.order = random_order_limits(r, equity, 0.5, -1);
    for (size_t i = 0; i < kInstruments; ++i)
        if (r.chance(0.4))
            l.instruments[kDefs[i].id] = random_order_limits(r, equity, 0.25, static_cast<int>(i));
    for (auto *name : kStrategyNames)
        if (r.chance(0.5)) l.strategies[name] = random_order_limits(r, equity, 0.25, -1);
    l.max_open_positions = r.chance(0.4) ? 0 : static_cast<int>(r.between(1, 5));
    l.max_open_orders = r.chance(0.4) ? 0 : static_cast<int>(r.between(1, 10));
    l.max_orders_per_day = r.chance(0.4) ? 0 : static_cast<int>(r.log_uniform(5, 1000));
    l.max_orders_per_second = r.chance(0.3) ? 0 : static_cast<int>(r.between(1, 6));
    l.daily_loss_pct = maybe(r, 0.6, r.uniform(1, 20));
    l.daily_loss = maybe(r, 0.3, cents(equity * r.uniform(0.01, 0.2)));
    l.max_drawdown_pct = maybe(r, 0.6, r.uniform(5, 40));
    l.max_drawdown = maybe(r, 0.3, cents(equity * r.uniform(0.05, 0.4)));
    l.on_daily_loss = random_action(r);
    l.on_max_drawdown = random_action(r);
    l.day_start_ns = r.chance(0.5) ? 0 : r.between(0, 23) * kHour;
    double u = r.uniform();
    l.capital_stage = u < 0.6   ? config::CapitalStage::full
                      : u < 0.8 ? config::CapitalStage::small
                                : config::CapitalStage::micro;
    l.drawdown_levels.clear();
    double at = 0;
    static const double kSizes[] = {1, 0.75, 0.5, 0.3, 0.25, 0.7, 0};
    for (int n = static_cast<int>(r.between(0, 4)), k = 0; k < n; ++k) {
        at += r.uniform(1, 10);
        l.drawdown_levels.push_back({"L" + std::to_string(k), at, r.pick(kSizes),
                                     r.chance(0.8) ? config::RiskAction::alert : random_action(r)});
    }
    l.drawdown_hysteresis_pct = r.uniform(0, 2);
    if (r.chance(0.25)) {
        for (auto &d : kDefs)
            if (r.chance(0.7)) l.whitelist.push_back(d.id);
        if (r.chance(0.3)) l.whitelist.push_back("ADAUSDT");
    }
    l.halted = r.chance(0.05);
    return l;
}

// ---- the oracle ----------------------------------------------------------------------------

struct Expected {
    bool approved = false;
    VetoReason reason = VetoReason::halted;
    Lots qty = 0;
};

// Everything one decision depends on, read before check().
struct Inputs {
    const OrderIntent &intent;
    const InstrumentSpec &spec;
    const Grid &grid;
    const market::Book &book;
    const exec::Portfolio &portfolio;
    const risk::OpenOrders &open;
    const config::RiskLimits &config;
    const Limits &limits;  // resolved for (strategy, instrument)
    TradingState state;
    double size_factor;
    int orders_today;
    int approved_last_second;  // strategy approvals at t > now - 1 s
    bool position_known;       // live: the venue has reported the position
};

// The price of the last level a sweep of `qty` on `side` touches (the deepest one if the side is
// thinner than qty).
Ticks deepest_touched(const market::Book &book, Side side, Lots qty) {
    Lots left = qty;
    Ticks worst = 0;
    for (size_t k = 0; left > 0; ++k) {
        auto l = book.level(side, k);
        if (!l) break;
        worst = l->price;
        left -= std::min(left, l->qty);
    }
    return worst;
}

bool above_share(Wide value, double pct, Money equity) {  // value > pct% of equity
    return static_cast<Real>(value) >
           static_cast<Real>(pct / 100) * static_cast<Real>(equity.units);
}

// How often the oracle met a value exactly at a limit (where > and >= differ), so that the
// boundary probes are known to reach the checks.
struct Boundaries {
    uint64_t order_qty = 0, order_notional = 0, position_notional = 0, min_notional = 0;
} g_boundaries;

Expected oracle(const Inputs &x) {
    auto veto = [](VetoReason r) { return Expected{false, r, 0}; };
    const OrderIntent &in = x.intent;
    const auto &pf = x.portfolio;
    const auto &cfg = x.config;
    const auto &lim = x.limits;
    const bool buy = in.side == Side::buy;
    const int dir = buy ? 1 : -1;
    const bool host = in.strategy == exec::kNoStrategy;
    const exec::Position &pos = pf.position(in.instrument);
    const Wide position = pos.qty;
    const Wide committed = position + (buy ? Wide(x.open.buy_qty) : -Wide(x.open.sell_qty));
    Lots qty = in.qty;
    Wide after = committed + dir * Wide(qty);
    const bool reduces = committed != 0 && wabs(after) < wabs(committed) &&
                         (after == 0 || (after > 0) == (committed > 0));
    const bool new_risk = !reduces;

    // 1. the intent itself
    if (qty <= 0) return veto(VetoReason::invalid_quantity);
    // Absurd sizes and prices (beyond 1e15 lots or ticks) are refused outright.
    constexpr Lots kAbsurd = 1'000'000'000'000'000;
    if (qty > kAbsurd || in.price > kAbsurd || in.stop_price > kAbsurd)
        return veto(VetoReason::invalid_quantity);
    if (in.type == OrderType::limit && in.price <= 0) return veto(VetoReason::invalid_price);
    if (in.stop_price < 0) return veto(VetoReason::invalid_price);
    if (!x.position_known) return veto(VetoReason::position_unknown);
    // 2. the trading state
    if (x.state == TradingState::halted && !(host && reduces)) return veto(VetoReason::halted);
    if (x.state == TradingState::reducing && new_risk) return veto(VetoReason::reducing);
    if (in.reduce_only && new_risk) return veto(VetoReason::reduce_only_increases);
    // 3. account-wide rules for new risk
    const Money equity = pf.equity();
    if (new_risk) {
        if (!cfg.whitelist.empty() &&
            std::find(cfg.whitelist.begin(), cfg.whitelist.end(), x.spec.id) == cfg.whitelist.end())
            return veto(VetoReason::not_whitelisted);
        auto breached = [](Money base, Money now, double absolute, double pct) {
            Wide loss = Wide(base.units) - now.units;
            if (loss <= 0) return false;
            if (std::isfinite(absolute) && loss >= units(absolute)) return true;
            return std::isfinite(pct) &&
                   static_cast<Real>(loss) >= static_cast<Real>(pct / 100) * base.units;
        };
        if (breached(pf.day_start_equity(), equity, cfg.daily_loss, cfg.daily_loss_pct))
            return veto(VetoReason::daily_loss_limit);
        if (breached(pf.peak_equity(), equity, cfg.max_drawdown, cfg.max_drawdown_pct))
            return veto(VetoReason::max_drawdown);
        if (x.size_factor <= 0) return veto(VetoReason::drawdown_level);
        if (x.size_factor < 1) {
            qty = static_cast<Lots>(std::floor(static_cast<double>(qty) * x.size_factor));
            if (qty <= 0 || qty < x.spec.min_qty_lots) return veto(VetoReason::size_too_small);
            after = committed + dir * Wide(qty);
        }
        if (!host && cfg.max_orders_per_day > 0 && x.orders_today >= cfg.max_orders_per_day)
            return veto(VetoReason::max_orders_per_day);
        if (position == 0 && cfg.max_open_positions > 0 &&
            pf.open_positions() >= cfg.max_open_positions)
            return veto(VetoReason::max_open_positions);
        if (cfg.max_open_orders > 0 && x.open.total >= cfg.max_open_orders)
            return veto(VetoReason::max_open_orders);
        if (lim.no_duplicate &&
            (buy ? position > 0 || x.open.entry_buy : position < 0 || x.open.entry_sell))
            return veto(VetoReason::duplicate_entry);
    }
    // 4. the order rate
    if (!host && cfg.max_orders_per_second > 0 &&
        x.approved_last_second >= cfg.max_orders_per_second)
        return veto(VetoReason::max_orders_per_second);
    // 5. the market
    auto bid_level = x.book.best_bid(), ask_level = x.book.best_ask();
    if (!x.book.has_snapshot() || !bid_level || !ask_level || bid_level->price >= ask_level->price)
        return veto(VetoReason::no_market);
    const Ticks bid = bid_level->price, ask = ask_level->price;
    Ticks ref, worst;
    if (in.type == OrderType::market) {
        worst = deepest_touched(x.book, buy ? Side::sell : Side::buy, qty);
        ref = buy ? worst : bid;
    } else {
        ref = worst = in.price;
    }
    // 6. venue filters
    if (x.spec.min_qty_lots > 0 && qty < x.spec.min_qty_lots)
        return veto(VetoReason::invalid_quantity);
    const Wide notional = exact_notional(x.grid, ref, qty);
    // No single order may be worth more than one billion of the quote currency.
    if (notional > Wide(1'000'000'000) * Money::kScale) return veto(VetoReason::invalid_quantity);
    if (x.spec.min_notional > 0 && notional == units(x.spec.min_notional))
        ++g_boundaries.min_notional;
    if (x.spec.min_notional > 0 && notional < units(x.spec.min_notional))
        return veto(VetoReason::below_min_notional);
    // A limit price inside the venue's bounds and its multipliers of the mid (2 x price against
    // the multiplier x (bid + ask), in double as the venue's own decimal check is not reproduced).
    if (in.type == OrderType::limit) {
        if ((x.spec.min_price > 0 && in.price < x.spec.min_price) ||
            (x.spec.max_price > 0 && in.price > x.spec.max_price))
            return veto(VetoReason::venue_price_limit);
        const double two_price = 2.0 * static_cast<double>(in.price);
        const double two_mid = static_cast<double>(bid + ask);
        if ((x.spec.price_multiplier_up > 0 && two_price > x.spec.price_multiplier_up * two_mid) ||
            (x.spec.price_multiplier_down > 0 &&
             two_price < x.spec.price_multiplier_down * two_mid))
            return veto(VetoReason::venue_price_limit);
    }
    // 7. fat finger
    if (!host && std::isfinite(lim.band_pct)) {
        Real touch = static_cast<Real>(bid) + static_cast<Real>(ask);
        Real deviation = std::fabs(2 * static_cast<Real>(worst) - touch) / touch;
        if (deviation > static_cast<Real>(lim.band_pct / 100)) return veto(VetoReason::price_band);
    }
    // 8. size, exposure and money, for new risk
    if (new_risk) {
        if (std::isfinite(lim.order_qty)) {  // qty * lot_m * 10^-lot_e vs limit, in 1e-3 units
            Wide size = Wide(qty) * x.grid.lot_m * pow10(3 - x.grid.lot_e);
            Wide limit = std::llround(lim.order_qty * 1000);
            if (size == limit) ++g_boundaries.order_qty;
            if (size > limit) return veto(VetoReason::max_order_qty);
        }
        if (std::isfinite(lim.order_notional)) {
            if (notional == units(lim.order_notional)) ++g_boundaries.order_notional;
            if (notional > units(lim.order_notional)) return veto(VetoReason::max_order_notional);
        }
        const Wide value = exact_notional(x.grid, ref, wabs(after));
        if (std::isfinite(lim.position_notional)) {
            if (value == units(lim.position_notional)) ++g_boundaries.position_notional;
            if (value > units(lim.position_notional))
                return veto(VetoReason::max_position_notional);
        }
        if (std::isfinite(lim.position_pct) &&
            (equity.units <= 0 ? value > 0 : above_share(value, lim.position_pct, equity)))
            return veto(VetoReason::max_position_pct);
        const Wide exposure = exact_notional(
            x.grid, ref, wabs(position) + x.open.buy_qty + x.open.sell_qty + Wide(qty));
        if (std::isfinite(lim.exposure_pct) && above_share(exposure, lim.exposure_pct, equity))
            return veto(VetoReason::max_instrument_exposure);
        const double cap = lim.leverage_cap(in.timeframe);
        const Wide gross = Wide(pf.gross_exposure().units) - pos.exposure.units + value;
        if (std::isfinite(cap) &&
            static_cast<Real>(gross) > static_cast<Real>(cap) * static_cast<Real>(equity.units))
            return veto(VetoReason::max_leverage);
        if (pf.kind(in.instrument) == exec::InstrumentKind::spot) {
            if (after < 0) return veto(VetoReason::insufficient_balance);
            if (buy && notional + x.open.buy_notional.units > pf.free_cash().units)
                return veto(VetoReason::insufficient_balance);
        } else {
            Real margin = static_cast<Real>(pf.margin_used().units - pos.margin.units) +
                          static_cast<Real>(value) / pf.leverage_setting(in.instrument);
            if (margin > static_cast<Real>(equity.units))
                return veto(VetoReason::insufficient_margin);
        }
        if (in.stop_price > 0) {
            if (buy ? in.stop_price >= ref : in.stop_price <= ref)
                return veto(VetoReason::invalid_price);
            Wide risk = exact_notional(x.grid, wabs(Wide(ref) - in.stop_price), qty);
            if (std::isfinite(lim.risk_pct) && above_share(risk, lim.risk_pct, equity))
                return veto(VetoReason::risk_per_trade);
        } else if (lim.require_stop) {
            return veto(VetoReason::no_stop);
        }
    }
    return Expected{true, VetoReason::halted, qty};
}

// ---- (c): an approved order breaks no limit, recomputed in decimals ------------------------

// Returns what an approved order breaks ("" if nothing). `mine_today` and `mine_last_second` are
// the test's own counts of approvals.
std::string broken_limits(const Inputs &x, Lots qty, int mine_today, int mine_last_second) {
    std::string out;
    auto fail = [&](const char *what) {
        if (!out.empty()) out += ", ";
        out += what;
    };
    const OrderIntent &in = x.intent;
    const auto &spec = x.spec;
    const auto &pf = x.portfolio;
    const auto &cfg = x.config;
    const bool buy = in.side == Side::buy, host = in.strategy == exec::kNoStrategy;
    const Real tol = 1e-9L;
    auto le = [&](Real a, Real b) {
        return a <= b + tol * std::max(std::fabs(a), std::fabs(b)) + 2e-8L;
    };

    const Real lot = spec.lot_size, tick = spec.tick_size;
    const Real position = static_cast<Real>(pf.position(in.instrument).qty) * lot;
    const Real pending =
        (buy ? static_cast<Real>(x.open.buy_qty) : -static_cast<Real>(x.open.sell_qty)) * lot;
    const Real committed = position + pending;
    const Real size = static_cast<Real>(qty) * lot;
    const Real after = committed + (buy ? size : -size);
    const Real asked_after = committed + (buy ? 1 : -1) * static_cast<Real>(in.qty) * lot;
    const bool reduces = committed != 0 && std::fabs(asked_after) < std::fabs(committed) &&
                         (asked_after == 0 || (asked_after > 0) == (committed > 0));

    if (qty <= 0 || qty > in.qty) fail("quantity not in (0, asked]");
    if (spec.min_qty_lots > 0 && qty < spec.min_qty_lots) fail("below min_qty");
    if (in.type == OrderType::limit && in.price <= 0) fail("limit price <= 0");
    if (in.stop_price < 0) fail("negative stop");
    if (x.state == TradingState::halted && !(host && reduces)) fail("approved while HALTED");
    if (x.state == TradingState::reducing && !reduces) fail("new risk while REDUCING");
    if (in.reduce_only && !reduces) fail("reduce-only order adds risk");

    auto bid = x.book.best_bid(), ask = x.book.best_ask();
    if (!bid || !ask || bid->price >= ask->price) {
        fail("no valid market");
        return out;
    }
    // The reference price: market buys at the last ask level the order reaches, sells at the bid.
    Real worst_px = 0;
    if (in.type == OrderType::limit) {
        worst_px = static_cast<Real>(in.price) * tick;
    } else {
        Real left = size;
        x.book.visit(buy ? Side::sell : Side::buy, [&](const market::Level &l) {
            worst_px = static_cast<Real>(l.price) * tick;
            left -= static_cast<Real>(l.qty) * lot;
            return left > 0;
        });
    }
    const Real ref_px =
        in.type == OrderType::market && !buy ? static_cast<Real>(bid->price) * tick : worst_px;
    const Real mid2 = static_cast<Real>(bid->price + ask->price) * tick;
    const Real order_value = ref_px * size;
    if (spec.min_notional > 0 && !le(spec.min_notional, order_value)) fail("below min_notional");
    if (in.type == OrderType::limit) {
        if (spec.min_price > 0 && in.price < spec.min_price) fail("below the venue's min price");
        if (spec.max_price > 0 && in.price > spec.max_price) fail("above the venue's max price");
        const Real price2 = 2 * static_cast<Real>(in.price) * tick;
        if (spec.price_multiplier_up > 0 &&
            !le(price2, static_cast<Real>(spec.price_multiplier_up) * mid2))
            fail("above the venue's price band");
        if (spec.price_multiplier_down > 0 &&
            !le(static_cast<Real>(spec.price_multiplier_down) * mid2, price2))
            fail("below the venue's price band");
    }

    const Real equity = pf.equity().to_double();
    std::vector<const config::OrderLimits *> sets{&cfg.order};
    if (auto it = cfg.instruments.find(spec.id); it != cfg.instruments.end())
        sets.push_back(&it->second);
    if (!host)
        if (auto it = cfg.strategies.find(kStrategyNames[in.strategy]); it != cfg.strategies.end())
            sets.push_back(&it->second);
    if (!host)
        for (auto *s : sets)
            if (std::isfinite(s->price_band_pct) &&
                !le(std::fabs(2 * worst_px - mid2) / mid2, s->price_band_pct / 100))
                fail("price band");
    if (reduces) return out;

    // New risk.
    if (!cfg.whitelist.empty() &&
        std::find(cfg.whitelist.begin(), cfg.whitelist.end(), spec.id) == cfg.whitelist.end())
        fail("not whitelisted");
    const Real day_loss = pf.day_start_equity().to_double() - equity;
    if (day_loss > 0 &&
        ((std::isfinite(cfg.daily_loss) && !(day_loss < cfg.daily_loss)) ||
         (std::isfinite(cfg.daily_loss_pct) &&
          !(day_loss < cfg.daily_loss_pct / 100 * pf.day_start_equity().to_double()))))
        fail("daily loss reached");
    const Real drawdown = pf.peak_equity().to_double() - equity;
    if (drawdown > 0 && ((std::isfinite(cfg.max_drawdown) && !(drawdown < cfg.max_drawdown)) ||
                         (std::isfinite(cfg.max_drawdown_pct) &&
                          !(drawdown < cfg.max_drawdown_pct / 100 * pf.peak_equity().to_double()))))
        fail("max drawdown reached");
    if (x.size_factor <= 0) fail("size factor 0");
    if (!le(static_cast<Real>(qty), static_cast<Real>(in.qty) * x.size_factor)) fail("not scaled");
    if (!host && cfg.max_orders_per_day > 0 && mine_today >= cfg.max_orders_per_day)
        fail("orders per day");
    if (!host && cfg.max_orders_per_second > 0 && mine_last_second >= cfg.max_orders_per_second)
        fail("orders per second");
    if (position == 0 && cfg.max_open_positions > 0 &&
        pf.open_positions() >= cfg.max_open_positions)
        fail("open positions");
    if (cfg.max_open_orders > 0 && x.open.total >= cfg.max_open_orders) fail("open orders");

    const Real value = ref_px * std::fabs(after);
    const Real exposure =
        ref_px *
        (std::fabs(position) + static_cast<Real>(x.open.buy_qty + x.open.sell_qty) * lot + size);
    const Real gross = static_cast<Real>(pf.gross_exposure().to_double()) -
                       pf.position(in.instrument).exposure.to_double() + value;
    const Real stop_px = static_cast<Real>(in.stop_price) * tick;
    for (auto *s : sets) {
        if (s->no_duplicate_entry &&
            (buy ? position > 0 || x.open.entry_buy : position < 0 || x.open.entry_sell))
            fail("duplicate entry");
        if (std::isfinite(s->max_order_qty) && !le(size, s->max_order_qty)) fail("max_order_qty");
        if (std::isfinite(s->max_order_notional) && !le(order_value, s->max_order_notional))
            fail("max_order_notional");
        if (std::isfinite(s->max_position_notional) && !le(value, s->max_position_notional))
            fail("max_position_notional");
        if (std::isfinite(s->max_position_pct) &&
            (equity <= 0 || !le(value, s->max_position_pct / 100 * equity)))
            fail("max_position_pct");
        if (std::isfinite(s->max_instrument_exposure_pct) &&
            !le(exposure, s->max_instrument_exposure_pct / 100 * equity))
            fail("max_instrument_exposure");
        double cap = s->max_leverage;
        if (auto it = s->max_leverage_by_timeframe.find(in.timeframe);
            it != s->max_leverage_by_timeframe.end())
            cap = std::min(cap, it->second);
        if (std::isfinite(cap) && !le(gross, cap * equity)) fail("max_leverage");
        if (std::isfinite(s->risk_per_trade_pct) && in.stop_price > 0 &&
            !le(std::fabs(ref_px - stop_px) * size, s->risk_per_trade_pct / 100 * equity))
            fail("risk_per_trade");
        if (s->require_stop && in.stop_price <= 0) fail("no stop");
    }
    if (in.stop_price > 0 && (buy ? stop_px >= ref_px : stop_px <= ref_px))
        fail("stop on the wrong side");
    if (pf.kind(in.instrument) == exec::InstrumentKind::spot) {
        if (after < -tol) fail("spot short");
        if (buy && !le(order_value + x.open.buy_notional.to_double(), pf.free_cash().to_double()))
            fail("spot buy beyond cash");
    } else if (!le(pf.margin_used().to_double() - pf.position(in.instrument).margin.to_double() +
                       value / pf.leverage_setting(in.instrument),
                   equity)) {
        fail("margin beyond equity");
    }
    return out;
}

// ---- the simulation ------------------------------------------------------------------------

struct Stats {
    uint64_t show = 12;  // mismatches and unsafe approvals printed (KEEL_RISK_SHOW)
    uint64_t intents = 0, approved = 0, approved_scaled = 0, approved_host = 0,
             approved_reducing = 0;
    std::array<uint64_t, risk::kVetoReasonCount> vetoes{};
    uint64_t mismatches = 0, unsafe = 0, counter_mismatches = 0, state_mismatches = 0;
    uint64_t huge_mismatches = 0;  // of which a notional the gate computes may pass 2^63 units
    std::map<std::pair<std::string, std::string>, uint64_t> disagreements;  // (oracle, gate)
};

// The gate may only scale the quantity: everything else reaches the venue as the strategy asked.
bool same_but_qty(const OrderIntent &a, const OrderIntent &b) {
    return a.strategy == b.strategy && a.instrument == b.instrument && a.side == b.side &&
           a.type == b.type && a.price == b.price && a.reduce_only == b.reduce_only &&
           a.stop_price == b.stop_price && a.timeframe == b.timeframe && a.tag == b.tag;
}

const char *veto_code(VetoReason r) {
    return risk::code(r);
}

std::string describe(const Inputs &x, const Expected &e,
                     const std::variant<risk::ApprovedOrder, risk::Veto> &got) {
    const OrderIntent &in = x.intent;
    const auto &pf = x.portfolio;
    const auto &pos = pf.position(in.instrument);
    char buf[2048];
    auto bid = x.book.best_bid(), ask = x.book.best_ask();
    std::string gotten;
    if (auto *a = std::get_if<risk::ApprovedOrder>(&got))
        gotten = "APPROVED qty " + std::to_string(a->intent().qty);
    else
        gotten = std::string(veto_code(std::get<risk::Veto>(got).reason)) + " (" +
                 std::get<risk::Veto>(got).message + ")";
    std::snprintf(
        buf, sizeof buf,
        "  intent: %s strategy %d %s %s qty %lld price %lld stop %lld reduce_only %d tf %lld\n"
        "  open: buy %lld sell %lld buy_notional %lld entry %d/%d total %d\n"
        "  position %lld cost %lld exposure %lld margin %lld; equity %lld day_start %lld peak %lld "
        "gross %lld margin_used %lld free_cash %lld open_positions %d\n"
        "  book: %lld / %lld (valid %d); state %s factor %g orders_today %d last_second %d\n"
        "  oracle: %s qty %lld\n  gate:   %s\n",
        kDefs[in.instrument].id,
        in.strategy == exec::kNoStrategy ? -1 : static_cast<int>(in.strategy), to_string(in.side),
        exec::to_string(in.type), static_cast<long long>(in.qty), static_cast<long long>(in.price),
        static_cast<long long>(in.stop_price), in.reduce_only, static_cast<long long>(in.timeframe),
        static_cast<long long>(x.open.buy_qty), static_cast<long long>(x.open.sell_qty),
        static_cast<long long>(x.open.buy_notional.units), x.open.entry_buy, x.open.entry_sell,
        x.open.total, static_cast<long long>(pos.qty), static_cast<long long>(pos.cost.units),
        static_cast<long long>(pos.exposure.units), static_cast<long long>(pos.margin.units),
        static_cast<long long>(pf.equity().units),
        static_cast<long long>(pf.day_start_equity().units),
        static_cast<long long>(pf.peak_equity().units),
        static_cast<long long>(pf.gross_exposure().units),
        static_cast<long long>(pf.margin_used().units),
        static_cast<long long>(pf.free_cash().units), pf.open_positions(),
        static_cast<long long>(bid ? bid->price : -1),
        static_cast<long long>(ask ? ask->price : -1), x.book.valid(), risk::to_string(x.state),
        x.size_factor, x.orders_today, x.approved_last_second,
        e.approved ? "APPROVED" : veto_code(e.reason), static_cast<long long>(e.qty),
        gotten.c_str());
    return buf;
}

class Episode {
  public:
    Episode(Rng &r, Stats &stats, int number)
        : r_(r),
          stats_(stats),
          number_(number),
          specs_(make_specs()),
          balance_(cents(r.log_uniform(1000, 200000))),
          config_(random_limits(r, balance_)),
          portfolio_(specs_, settings(balance_)),
          gate_(config_, specs_, {kStrategyNames, kStrategyNames + kStrategies}),
          books_(kInstruments) {
        for (auto &d : kDefs) grids_.push_back(grid_of(d));
        for (InstrumentIndex i = 0; i < kInstruments; ++i) {
            mids_.push_back(kDefs[i].price / specs_[i].tick_size);
            rebuild_book(i, false);
        }
        // Resolved limits per (strategy, instrument); the last row is for host orders.
        limits_.resize(kStrategies + 1, std::vector<Limits>(kInstruments));
        for (int s = 0; s <= kStrategies; ++s)
            for (size_t i = 0; i < kInstruments; ++i) {
                Limits &l = limits_[s][i];
                l.tighten(config_.order);
                if (auto it = config_.instruments.find(kDefs[i].id);
                    it != config_.instruments.end())
                    l.tighten(it->second);
                if (s < kStrategies)
                    if (auto it = config_.strategies.find(kStrategyNames[s]);
                        it != config_.strategies.end())
                        l.tighten(it->second);
            }
        now_ = 1'709'251'200 * kSecond + r.between(0, 300) * kDay + r.between(0, kDay);
        account();
    }

    void run(int steps) {
        for (int step = 0; step < steps; ++step) {
            advance_time();
            bool changed = false;
            double u = r_.uniform();
            TradingState before = gate_.state();
            if (u < 0.003) {
                gate_.halt("test");
                expect_state(TradingState::halted, before);
            } else if (u < 0.006) {
                gate_.reduce("test");
                // Not in the specification: REDUCE leaves a HALTED gate halted (it never loosens).
                expect_state(
                    before == TradingState::halted ? TradingState::halted : TradingState::reducing,
                    before);
            } else if (u < 0.014) {
                gate_.resume(portfolio_);
                expect_state(TradingState::active, before);
            }
            if (r_.chance(0.35)) {
                for (int n = static_cast<int>(r_.between(1, 3)); n > 0; --n)
                    rebuild_book(static_cast<InstrumentIndex>(r_.between(0, kInstruments - 1)),
                                 true);
                changed = true;
            }
            if (r_.chance(0.08)) changed = random_fill() || changed;
            if (changed || r_.chance(0.2)) account();
            intent();
        }
    }

  private:
    static exec::AccountSettings settings(double balance) {
        exec::AccountSettings s;
        s.starting_balance = Money::from_units(static_cast<int64_t>(units(balance)));
        for (auto &d : kDefs) {
            s.kinds.push_back(d.spot ? exec::InstrumentKind::spot : exec::InstrumentKind::linear);
            s.leverage.push_back(d.leverage);
        }
        return s;
    }

    void expect_state(TradingState s, TradingState before) {
        if (gate_.state() != s && ++stats_.state_mismatches <= stats_.show)
            std::printf("STATE: %s -> expected %s, got %s\n", risk::to_string(before),
                        risk::to_string(s), risk::to_string(gate_.state()));
    }

    double equity() const { return portfolio_.equity().to_double(); }
    double lot_value(size_t i) const {  // one lot at the mid, quote currency
        return mids_[i] * specs_[i].tick_size * specs_[i].lot_size;
    }
    Lots lots_for(size_t i, double quote) const {
        return std::max<Lots>(1, std::llround(quote / lot_value(i)));
    }

    void advance_time() {
        double u = r_.uniform();
        if (u < 0.45)
            now_ += r_.between(0, 200 * kMs);
        else if (u < 0.75)
            now_ += r_.between(200 * kMs, 5 * kSecond);
        else if (u < 0.9)
            now_ += r_.between(5 * kSecond, 10 * kMinute);
        else if (u < 0.98)
            now_ += r_.between(10 * kMinute, 6 * kHour);
        else  // just past the next trading day start
            now_ += kDay - (now_ - config_.day_start_ns) % kDay + r_.between(0, kMinute);
    }

    // A random walk of the mid, a new 20-level book around it, and the mark; now and then a book
    // that is not tradeable (crossed, one side empty, no snapshot), which is not marked.
    void rebuild_book(InstrumentIndex i, bool walk) {
        double base = kDefs[i].price / specs_[i].tick_size;
        if (walk) {
            mids_[i] *= std::exp(r_.normal(r_.chance(0.01) ? 0.05 : 0.003));
            mids_[i] = std::clamp(mids_[i], 0.3 * base, 3 * base);
        }
        Ticks spread = r_.between(1, 3);
        Ticks bid0 = static_cast<Ticks>(std::floor(mids_[i] - static_cast<double>(spread) / 2));
        Ticks ask0 = bid0 + spread;
        Ticks step = std::max<Ticks>(1, std::llround(mids_[i] * r_.uniform(0.00003, 0.0003)));
        std::array<market::Level, 20> bids, asks;
        for (size_t k = 0; k < bids.size(); ++k) {
            Ticks d = static_cast<Ticks>(k) * step;
            bids[k] = {bid0 - d, lots_for(i, balance_ * r_.log_uniform(0.005, 0.3))};
            asks[k] = {ask0 + d, lots_for(i, balance_ * r_.log_uniform(0.005, 0.3))};
        }
        market::Book &b = books_[i];
        if (walk && r_.chance(0.02)) {
            switch (r_.between(0, 3)) {
                case 0:
                    bids[0].price = ask0 + 1;  // crossed
                    b.apply_snapshot(bids, asks);
                    break;
                case 1:
                    b.apply_snapshot(bids, {});
                    break;
                case 2:
                    b.apply_snapshot({}, asks);
                    break;
                default:
                    b = market::Book{};
            }
            return;
        }
        b.apply_snapshot(bids, asks);
        portfolio_.mark(i, bid0, ask0);
    }

    Money fee(InstrumentIndex i, Ticks price, Lots qty) const {
        return Money::from_units(portfolio_.notional(i, price, qty).units * 4 / 10000);
    }

    // A fill the gate did not see (a resting order from earlier, a manual trade): moves the
    // account, sometimes toward a position, sometimes out of it.
    bool random_fill() {
        auto i = static_cast<InstrumentIndex>(r_.between(0, kInstruments - 1));
        if (!books_[i].valid()) return false;
        Lots pos = portfolio_.position(i).qty;
        Side side = r_.chance(0.5) ? Side::buy : Side::sell;
        if (pos != 0 && r_.chance(0.5)) side = pos > 0 ? Side::sell : Side::buy;
        Lots qty = lots_for(i, std::max(equity(), balance_ * 0.1) * r_.log_uniform(0.01, 0.8));
        if (kDefs[i].spot && side == Side::sell) qty = std::min(qty, pos);
        if (qty <= 0) return false;
        Ticks price = std::max<Ticks>(1, std::llround(mids_[i] * (1 + r_.normal(0.002))));
        portfolio_.on_fill(i, side, qty, price, fee(i, price, qty));
        return true;
    }

    void account() {
        events_.clear();
        gate_.on_account(portfolio_, now_, events_);
        if (portfolio_.day() != day_) {
            day_ = portfolio_.day();
            today_ = 0;
        }
        for (auto &e : events_)
            if (e.action == config::RiskAction::flatten) kill_switch();
    }

    // What the engine does on a flatten action: host reduce-only market orders for each position.
    void kill_switch() {
        if (flattening_) return;
        flattening_ = true;
        for (InstrumentIndex i = 0; i < kInstruments; ++i) {
            Lots pos = portfolio_.position(i).qty;
            if (pos == 0) continue;
            OrderIntent in;
            in.strategy = exec::kNoStrategy;
            in.instrument = i;
            in.side = pos > 0 ? Side::sell : Side::buy;
            in.qty = std::llabs(pos);
            in.reduce_only = true;
            decide(in, risk::OpenOrders{});
        }
        flattening_ = false;
    }

    risk::OpenOrders random_open(InstrumentIndex i) {
        risk::OpenOrders o;
        if (r_.chance(0.5)) return o;
        double eq = std::max(equity(), balance_ * 0.1);
        if (r_.chance(0.5)) {
            o.buy_qty = lots_for(i, eq * r_.log_uniform(0.005, 0.4));
            Ticks price = std::llround(mids_[i] * (1 - r_.uniform(0, 0.02)));
            o.buy_notional = portfolio_.notional(i, price, o.buy_qty);
            o.entry_buy = r_.chance(0.4);
        }
        if (r_.chance(0.5)) {
            o.sell_qty = lots_for(i, eq * r_.log_uniform(0.005, 0.4));
            o.entry_sell = r_.chance(0.4);
        }
        o.total = (o.buy_qty > 0) + (o.sell_qty > 0) + static_cast<int>(r_.between(0, 6));
        return o;
    }

    void intent() {
        OrderIntent in;
        auto i = static_cast<InstrumentIndex>(r_.between(0, kInstruments - 1));
        in.instrument = i;
        in.strategy = r_.chance(0.08) ? exec::kNoStrategy
                                      : static_cast<exec::StrategyIndex>(r_.between(0, 2));
        Lots pos = portfolio_.position(i).qty;
        in.side = r_.chance(0.5) ? Side::buy : Side::sell;
        in.reduce_only = r_.chance(in.strategy == exec::kNoStrategy ? 0.6 : 0.12);
        if (in.reduce_only && pos != 0 && r_.chance(0.8))
            in.side = pos > 0 ? Side::sell : Side::buy;
        in.type = r_.chance(0.6) ? OrderType::market : OrderType::limit;
        double eq = std::max(equity(), balance_ * 0.1);
        double u = r_.uniform();
        if (u < 0.03)
            in.qty = 0;
        else if (u < 0.05)
            in.qty = -r_.between(1, 1000);
        else if (u < 0.07)
            in.qty = static_cast<Lots>(r_.log_uniform(1e9, 1e15));
        else if (u < 0.14 && pos != 0)
            in.qty = std::llabs(pos) / (r_.chance(0.5) ? 1 : 2) + r_.between(-1, 1);
        else if (u < 0.16)
            in.qty = r_.between(1, 20);
        else
            in.qty = lots_for(i, eq * r_.log_uniform(1e-4, 2));
        const double mid = mids_[i];
        if (in.type == OrderType::limit) {
            double v = r_.uniform();
            auto bid = books_[i].best_bid(), ask = books_[i].best_ask();
            if (v < 0.8)
                in.price = std::llround(mid * (1 + r_.normal(0.01)));
            else if (v < 0.88)
                in.price = std::llround(mid * r_.log_uniform(0.2, 5));
            else if (v < 0.91)
                in.price = 0;
            else if (v < 0.93)
                in.price = -r_.between(1, 100);
            else if (bid && ask)
                in.price = in.side == Side::buy ? ask->price : bid->price;
            else
                in.price = std::llround(mid);
        }
        double s = r_.uniform();
        if (s < 0.45) {
            in.stop_price = 0;
        } else if (s < 0.9) {  // the protective side, near or far
            double distance = r_.log_uniform(0.0005, 0.1);
            double ref = in.price > 0 ? static_cast<double>(in.price) : mid;
            in.stop_price = std::max<Ticks>(
                1, std::llround(ref * (in.side == Side::buy ? 1 - distance : 1 + distance)));
        } else if (s < 0.97) {  // the wrong side
            double distance = r_.log_uniform(0.0005, 0.05);
            in.stop_price =
                std::llround(mid * (in.side == Side::buy ? 1 + distance : 1 - distance));
        } else {
            in.stop_price = -r_.between(1, 100);
        }
        in.timeframe = r_.pick(kTimeframes);
        if (r_.chance(0.1)) in.tag = "t" + std::to_string(r_.between(0, 99));
        risk::OpenOrders open = random_open(i);
        if (r_.chance(0.06)) boundary_probe(in, open);
        decide(in, open);
    }

    // An order exactly at a limit, or one lot past it, where > and >= differ: max_order_qty in
    // lots, or a limit order whose notional is exactly max_order_notional, max_position_notional
    // (from flat) or the venue's min_notional.
    void boundary_probe(OrderIntent &in, risk::OpenOrders &open) {
        const InstrumentIndex i = in.instrument;
        const Limits &lim =
            limits_[in.strategy == exec::kNoStrategy ? kStrategies : in.strategy][i];
        const Grid &g = grids_[i];
        const Lots extra = r_.chance(0.3) ? 1 : 0;
        int kind = static_cast<int>(r_.between(0, 3));
        if (kind == 0) {
            if (!std::isfinite(lim.order_qty)) return;
            Wide scaled = Wide(std::llround(lim.order_qty * 1000)) * pow10(g.lot_e);
            Wide per_lot = Wide(1000) * g.lot_m;
            if (scaled % per_lot != 0) return;
            in.qty = static_cast<Lots>(scaled / per_lot) + extra;
            return;
        }
        double limit = kind == 1   ? lim.order_notional
                       : kind == 2 ? lim.position_notional
                                   : specs_[i].min_notional;
        if (!std::isfinite(limit) || limit <= 0 || g.div != 1) return;
        if (kind == 2 && portfolio_.position(i).qty != 0) return;
        Wide target = units(limit);
        if (target % g.mult != 0) return;
        Wide k = target / g.mult;  // price * qty, in ticks * lots
        Wide q0 = std::max<Wide>(1, static_cast<Wide>(static_cast<double>(k) / mids_[i]));
        for (Wide q = q0; q <= 2 * q0 + 2; ++q) {
            if (k % q != 0) continue;
            in.type = OrderType::limit;
            in.price = static_cast<Ticks>(k / q);
            in.qty = static_cast<Lots>(q) + extra;
            if (in.stop_price > 0)  // keep a protective stop on its side of the new price
                in.stop_price = in.side == Side::buy ? in.price - 1 : in.price + 1;
            if (kind == 2) open = risk::OpenOrders{};
            return;
        }
    }

    // Whether a notional of this intent (order, position, exposure, at up to twice the touch)
    // could pass the int64 range of Money.
    bool beyond_money(const OrderIntent &in, const risk::OpenOrders &open) const {
        auto ask = books_[in.instrument].best_ask();
        Wide price = std::max<Wide>(in.price, 2 * (ask ? ask->price : 0));
        Wide lots = wabs(in.qty) + wabs(portfolio_.position(in.instrument).qty) + open.buy_qty +
                    open.sell_qty;
        return exact_notional(grids_[in.instrument], price, lots) >
               std::numeric_limits<int64_t>::max();
    }

    int approved_last_second() {
        while (!recent_.empty() && recent_.front() <= now_ - kSecond) recent_.pop_front();
        return static_cast<int>(recent_.size());
    }

    void decide(const OrderIntent &in, const risk::OpenOrders &open) {
        const InstrumentIndex i = in.instrument;
        const bool host = in.strategy == exec::kNoStrategy;
        const int last_second = approved_last_second();
        if (gate_.orders_today() != today_) ++stats_.counter_mismatches;
        Inputs x{in,
                 specs_[i],
                 grids_[i],
                 books_[i],
                 portfolio_,
                 open,
                 config_,
                 limits_[host ? kStrategies : in.strategy][i],
                 gate_.state(),
                 gate_.size_factor(),
                 gate_.orders_today(),
                 last_second,
                 !r_.chance(0.01)};
        Expected e = oracle(x);
        auto got = gate_.check(in, risk::RiskContext{specs_[i], books_[i], portfolio_, open, now_,
                                                     true, x.position_known});
        ++stats_.intents;
        auto *approved = std::get_if<risk::ApprovedOrder>(&got);
        bool agree = approved ? e.approved && approved->intent().qty == e.qty &&
                                    approved->requested_qty() == in.qty &&
                                    same_but_qty(approved->intent(), in)
                              : !e.approved && std::get<risk::Veto>(got).reason == e.reason;
        if (!agree) {
            ++stats_.disagreements[{
                e.approved ? "APPROVED" : veto_code(e.reason),
                approved ? "APPROVED" : veto_code(std::get<risk::Veto>(got).reason)}];
            if (beyond_money(in, open)) ++stats_.huge_mismatches;
        }
        if (!agree && ++stats_.mismatches <= stats_.show)
            std::printf("MISMATCH (episode %d, intent %llu):\n%s", number_,
                        static_cast<unsigned long long>(stats_.intents),
                        describe(x, e, got).c_str());
        if (!approved) {
            ++stats_.vetoes[static_cast<int>(std::get<risk::Veto>(got).reason)];
            return;
        }
        // (c), with the test's own counts of approvals.
        std::string broken = broken_limits(x, approved->intent().qty, today_, last_second);
        if (!broken.empty() && ++stats_.unsafe <= stats_.show)
            std::printf("UNSAFE APPROVAL (episode %d, intent %llu): %s\n%s", number_,
                        static_cast<unsigned long long>(stats_.intents), broken.c_str(),
                        describe(x, e, got).c_str());
        const OrderIntent &a = approved->intent();
        ++stats_.approved;
        if (a.qty != in.qty) ++stats_.approved_scaled;
        if (host) ++stats_.approved_host;
        Wide pos = portfolio_.position(i).qty;
        Wide committed = pos + (in.side == Side::buy ? Wide(open.buy_qty) : -Wide(open.sell_qty));
        Wide after = committed + (in.side == Side::buy ? 1 : -1) * Wide(in.qty);
        bool reduces = committed != 0 && wabs(after) < wabs(committed) &&
                       (after == 0 || (after > 0) == (committed > 0));
        if (reduces) ++stats_.approved_reducing;
        if (!host) {
            recent_.push_back(now_);
            if (!reduces) ++today_;
        }
        // Fill only what both sides approve: an order the oracle refuses (a gate bug) would
        // carry its damage into every later decision.
        if (agree) fill(a);
    }

    // Approved orders often fill: market orders at the last level they reach, limit orders near
    // the touch at their price. Spot sells never take the holding below zero.
    void fill(const OrderIntent &a) {
        const InstrumentIndex i = a.instrument;
        Ticks price = 0;
        Lots qty = a.qty;
        if (a.type == OrderType::market) {
            if (!r_.chance(0.6)) return;
            auto sweep = books_[i].vwap_to_size(opposite(a.side), qty);
            qty = sweep.filled;
            price = sweep.worst;
        } else {
            if (!r_.chance(0.3) || std::fabs(static_cast<double>(a.price) / mids_[i] - 1) > 0.01)
                return;
            price = a.price;
        }
        if (kDefs[i].spot && a.side == Side::sell) qty = std::min(qty, portfolio_.position(i).qty);
        if (qty <= 0) return;
        portfolio_.on_fill(i, a.side, qty, price, fee(i, price, qty));
        account();
    }

    Rng &r_;
    Stats &stats_;
    int number_;
    std::vector<InstrumentSpec> specs_;
    std::vector<Grid> grids_;
    double balance_;
    config::RiskLimits config_;
    exec::Portfolio portfolio_;
    risk::RiskGate gate_;
    std::vector<market::Book> books_;
    std::vector<double> mids_;
    std::vector<std::vector<Limits>> limits_;
    std::vector<risk::RiskEvent> events_;
    TimeNs now_ = 0;
    std::deque<TimeNs> recent_;  // the test's own record of strategy approvals
    int64_t day_ = INT64_MIN;
    bool flattening_ = false;
    int today_ = 0;  // the test's own count of new-risk strategy approvals this trading day
};

}  // namespace

TEST_CASE("the risk gate decides a million random intents as its specification does",
          "[risk][property]") {
    uint64_t seed = kSeed;
    if (const char *s = std::getenv("KEEL_RISK_SEED")) seed = std::strtoull(s, nullptr, 0);
    std::printf("risk property test: seed 0x%llx (KEEL_RISK_SEED overrides)\n",
                static_cast<unsigned long long>(seed));
    INFO("seed " << seed);
    Rng r(seed);
    Stats stats;
    if (const char *s = std::getenv("KEEL_RISK_SHOW")) stats.show = std::strtoull(s, nullptr, 0);
    auto start = std::chrono::steady_clock::now();
    for (int e = 0; e < kEpisodes; ++e) Episode(r, stats, e).run(kStepsPerEpisode);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    double rate = static_cast<double>(stats.approved) / static_cast<double>(stats.intents);
    std::printf(
        "%llu intents in %.1f s: %llu approved (%.1f %%; %llu scaled down, %llu host, "
        "%llu reducing)\n",
        static_cast<unsigned long long>(stats.intents), seconds,
        static_cast<unsigned long long>(stats.approved), 100 * rate,
        static_cast<unsigned long long>(stats.approved_scaled),
        static_cast<unsigned long long>(stats.approved_host),
        static_cast<unsigned long long>(stats.approved_reducing));
    for (int k = 0; k < risk::kVetoReasonCount; ++k)
        std::printf("  %-24s %8llu\n", veto_code(static_cast<VetoReason>(k)),
                    static_cast<unsigned long long>(stats.vetoes[k]));
    std::printf(
        "mismatches %llu, unsafe approvals %llu, orders_today differences %llu, "
        "state differences %llu\n",
        static_cast<unsigned long long>(stats.mismatches),
        static_cast<unsigned long long>(stats.unsafe),
        static_cast<unsigned long long>(stats.counter_mismatches),
        static_cast<unsigned long long>(stats.state_mismatches));

    if (stats.mismatches)
        std::printf(
            "disagreements (oracle -> gate), %llu of them where a notional may pass "
            "the int64 range of Money:\n",
            static_cast<unsigned long long>(stats.huge_mismatches));
    for (auto &[pair, n] : stats.disagreements)
        std::printf("  %-24s -> %-24s %8llu\n", pair.first.c_str(), pair.second.c_str(),
                    static_cast<unsigned long long>(n));

    std::printf(
        "values exactly at a limit: max_order_qty %llu, max_order_notional %llu, "
        "max_position_notional %llu, min_notional %llu\n",
        static_cast<unsigned long long>(g_boundaries.order_qty),
        static_cast<unsigned long long>(g_boundaries.order_notional),
        static_cast<unsigned long long>(g_boundaries.position_notional),
        static_cast<unsigned long long>(g_boundaries.min_notional));

    CHECK(stats.intents >= 1'000'000);
    CHECK(stats.mismatches == 0);
    CHECK(stats.unsafe == 0);
    CHECK(stats.counter_mismatches == 0);
    CHECK(stats.state_mismatches == 0);
    CHECK(rate >= 0.05);
    CHECK(stats.approved_scaled > 0);
    CHECK(stats.approved_host > 0);
    CHECK(stats.approved_reducing > 0);
    CHECK(g_boundaries.order_qty > 0);
    CHECK(g_boundaries.order_notional > 0);
    CHECK(g_boundaries.position_notional > 0);
    CHECK(g_boundaries.min_notional > 0);
    // Every code is reachable from some state: each must have been produced at least once.
    for (int k = 0; k < risk::kVetoReasonCount; ++k) {
        INFO(veto_code(static_cast<VetoReason>(k)));
        CHECK(stats.vetoes[k] > 0);
    }
}
