#pragma once
// The deployment configuration: one YAML file per deployment, validated completely before
// anything starts. The schema is documented in docs/config.md.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace keel::config {

// A configuration mistake. what() is the complete, user-facing message:
//   "<file>:<line>:<col>: <key.path>: <what was expected>, found <what was found>"
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Where market data comes from and where orders go (docs/config.md): paper = a simulated or
// replayed market with simulated fills; shadow = a venue's live market data with simulated
// fills; live = the venue's data and the venue's own fills. Backtests are `keel backtest`.
enum class Mode { paper, shadow, live };
const char *to_string(Mode m);

// Live: what becomes of an order an earlier run of this deployment left working at the venue,
// once this run has adopted it (docs/execution.md, Reconciliation). `cancel`: cancelled at once,
// since no strategy remembers it; `keep`: it works on, its fills are booked, and this session's
// shutdown cancels it like any working order.
enum class EarlierOrders { cancel, keep };

// A plugin setting exactly as written in YAML (after ${ENV} substitution), with where it was
// written. Typed validation against the plugin's declared keys happens when the plugin is loaded
// (plugin::resolve_settings), because only then is the schema known.
struct RawSetting {
    std::string value;      // scalar text
    bool from_env = false;  // the value came (wholly or partly) from ${VAR}: treat as secret
    bool uses_env = false;  // the YAML text was exactly one ${VAR} reference
    std::string where;      // "<file>:<line>:<col>"
    std::string key_path;   // "venues.sim.settings.seed"
};

struct PluginRef {
    std::string plugin;  // short name ("sim") or a path to a .so
    std::map<std::string, RawSetting> settings;
    std::string where;     // location of the block, for later errors
    std::string key_path;  // "venues.sim"
    // Venues only. `replay`: a recording whose frames the plugin parses instead of a live
    // connection ("<receive_ns> <frame>" lines, gzip or plain: keel's and hftbacktest's format);
    // the session runs on the recording's clock. `record`: a directory where every raw frame the
    // venue receives is written in that format (docs/market-data.md). Both resolved against the
    // config file's directory; empty when not set.
    std::filesystem::path replay, record;
    // Venues only: the certificates (PEM) to trust for the venue's TLS connections instead of
    // the system's (a test venue's self-signed certificate). Verification is never turned off.
    std::filesystem::path ca_file;
};

struct Instrument {
    std::string id;        // name used by strategies and risk; defaults to symbol
    std::string symbol;    // venue symbol
    std::string venue;     // key in venues
    bool spot = false;     // kind: spot (long only, paid in full) or linear (default)
    double leverage = 10;  // linear: the venue's margin leverage setting (margin = value / this)
    // Warm-up: closed candles of a timeframe (ns) from a file (market/candle_file.hpp formats),
    // loaded before the session starts so indicators and keel.candles have history.
    std::map<int64_t, std::filesystem::path> history;
    std::string where;
};

// The L0 sanitizer's limits (market/sanitizer.hpp), for every stream.
struct MarketData {
    double stale_after_s = 10;  // no update for this long: the stream is stale, books unusable
    double max_jump_pct = 10;   // a trade or mid this far from the last accepted one is an outlier
    int outlier_confirmations = 3;  // consecutive trades that make an outlier the new price
};

// What a strategy receives for a candle interval without trades (docs/config.md).
enum class EmptyCandles {
    flat,  // a candle at the previous close, volume 0, trades 0, marked flat (the default)
    skip,  // no candle
};

struct Strategy {
    std::string name;
    std::filesystem::path file;            // resolved relative to the config file's directory
    std::vector<std::string> instruments;  // instrument ids
    std::vector<std::string> timeframes;   // "1s" .. "1d", each dividing a day; distinct lengths
    EmptyCandles empty_candles = EmptyCandles::flat;
    std::map<std::string, RawSetting> params;  // passed to Lua as numbers/bools/strings
    // Runaway protection (docs/lua-api.md, "Faults"): wall time one callback may take, and the
    // memory its Lua state may hold. Over either, the strategy is faulted.
    double max_callback_ms = 100;
    double memory_mb = 64;
    bool active = true;  // false: loaded, but no market callbacks until activated
    // Run the strategy with LuaJIT's compiler and the FFI fast path for book queries. Faster,
    // but a loop inside compiled code cannot be interrupted (docs/lua-api.md, "Faults").
    bool jit = false;
    std::string where;
};

// Order and position limits. They apply globally, and again per instrument and per strategy
// (risk.instruments.<id>, risk.strategies.<name>): an order must pass all three sets, so an
// override can only tighten. "off" in YAML (infinity here) disables a limit. docs/risk.md.
struct OrderLimits {
    static constexpr double kOff = std::numeric_limits<double>::infinity();
    double max_order_notional = kOff;           // quote currency per order
    double max_order_qty = kOff;                // base currency per order
    double max_position_notional = kOff;        // |position| after fill, quote currency
    double max_position_pct = kOff;             // |position| after fill, % of equity
    double max_instrument_exposure_pct = kOff;  // position + every resting order, % of equity
    double risk_per_trade_pct = kOff;           // qty * |price - stop|, % of equity
    double max_leverage = kOff;                 // account exposure after fill / equity
    std::map<int64_t, double> max_leverage_by_timeframe;  // timeframe (ns) -> cap (seed 002)
    double price_band_pct = kOff;     // limit or expected fill price vs mid (fat finger)
    bool require_stop = false;        // new risk must carry a stop price
    bool no_duplicate_entry = false;  // no entry while a same-side position/entry exists
};

enum class RiskAction {
    alert,   // notify only
    reduce,  // REDUCING: only orders that reduce a position
    halt,    // HALTED: no strategy orders
    flatten  // kill switch: cancel everything, flatten, then HALTED
};

struct DrawdownLevel {
    std::string name;   // YELLOW, ORANGE, RED, CRITICAL
    double at_pct = 0;  // drawdown from peak equity that enters the level
    double size = 1;    // multiplier on new-risk order size; 0 = no new risk
    RiskAction action = RiskAction::alert;
};

enum class CapitalStage { micro, small, full };  // 10 %, 50 %, 100 % of normal size (seed 000)

struct RiskLimits {
    // Seed defaults (docs/risk.md says which seed each comes from).
    OrderLimits order = [] {
        OrderLimits o;
        o.max_order_notional = 1000;
        o.max_position_notional = 10000;     // seed 003
        o.max_position_pct = 10;             // seed 000
        o.max_instrument_exposure_pct = 25;  // seed 003
        o.risk_per_trade_pct = 2;            // seeds 001, 004
        o.max_leverage = 5;                  // seed 002, 1m
        o.price_band_pct = 5;
        o.no_duplicate_entry = true;  // seed 004
        return o;
    }();
    std::map<std::string, OrderLimits> instruments;  // instrument id -> extra limits
    std::map<std::string, OrderLimits> strategies;   // strategy name -> extra limits

    int max_open_positions = 3;               // seed 000
    int max_open_orders = 4;                  // resting orders across the deployment
    int max_orders_per_day = 10;              // new-risk orders (seed 000); 0 = off
    int max_orders_per_second = 5;            // all strategy orders; 0 = off
    double daily_loss_pct = 5;                // seeds 000, 004
    double daily_loss = OrderLimits::kOff;    // absolute, quote currency (seed 003: 500)
    double max_drawdown_pct = 20;             // seed 004
    double max_drawdown = OrderLimits::kOff;  // absolute (seed 003: 1000)
    // Defaults keep strategies able to exit: their stops are their own exit orders, which a
    // HALTED state would refuse (docs/risk.md, "Trading states").
    RiskAction on_daily_loss = RiskAction::reduce;     // lifted at the next trading day
    RiskAction on_max_drawdown = RiskAction::flatten;  // lifted by a manual resume
    int64_t day_start_ns = 0;                          // trading day starts at this UTC offset
    CapitalStage capital_stage = CapitalStage::full;
    std::vector<DrawdownLevel> drawdown_levels = {
        {"YELLOW", 5, 1.0, RiskAction::alert},
        {"ORANGE", 10, 0.5, RiskAction::alert},
        {"RED", 15, 0.0, RiskAction::alert},
        {"CRITICAL", 20, 0.0, RiskAction::flatten},
    };
    double drawdown_hysteresis_pct = 1;  // a level is left only this far below its threshold
    std::vector<std::string> whitelist;  // instrument ids; empty = every configured instrument
    bool halted = false;                 // start halted (no new orders)
};

// How long an order or a cancel takes to reach the fill simulator's venue (paper, shadow and
// backtests; docs/execution.md, "Latency"): a constant, or drawn from a distribution. Zero (the
// default): the simulator acts at once, as it did before latency was modelled.
struct Latency {
    enum class Dist : uint8_t { constant, lognormal, uniform, empirical };
    Dist dist = Dist::constant;
    double ms = 0;                     // constant
    double median_ms = 0, p99_ms = 0;  // lognormal, by two of its quantiles
    double min_ms = 0, max_ms = 0;     // uniform
    std::vector<double> samples_ms;    // empirical: drawn uniformly, with replacement
    bool zero() const { return dist == Dist::constant && ms == 0; }
};

struct Account {
    double starting_balance = 10000.0;  // quote currency (seed 003: $10K)
    double maker_fee = 0.0002;          // fraction of notional
    double taker_fee = 0.0004;
    // Paper funding of linear perpetuals: this rate of each position's value at the mid, every
    // interval from 00:00 UTC (Binance's default: 0.01 % every 8 h). Longs pay a positive rate.
    double funding_rate = 0.0001;
    int funding_interval_h = 8;  // 0: no funding
    // The fill simulator's latency; ignored in mode live, where the venue has its own.
    Latency order_latency, cancel_latency;
    uint64_t latency_seed = 0;  // the same seed draws the same latencies
};

struct Logging {
    std::string level = "info";                     // trace|debug|info|warn|error|off
    std::string format = "text";                    // text|json
    std::map<std::string, std::string> components;  // component -> level
};

struct Config {
    std::filesystem::path file;  // as given
    Mode mode = Mode::paper;
    // Live on mainnet needs `confirm_mainnet: true` written in the config.
    bool confirm_mainnet = false;
    EarlierOrders earlier_orders = EarlierOrders::cancel;
    std::map<std::string, PluginRef> venues;  // venue name -> plugin
    std::vector<Instrument> instruments;
    std::vector<Strategy> strategies;
    RiskLimits risk;
    Account account;
    MarketData market;
    std::map<std::string, PluginRef> notifiers;  // notifier name -> plugin
    Logging logging;
};

// Parses and validates a configuration file. Throws ConfigError with a complete message.
// `env` looks up ${VAR}; by default the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string &name)>;
Config load_file(const std::filesystem::path &file, EnvLookup env = {});
Config load_string(const std::string &yaml, const std::filesystem::path &file_name,
                   EnvLookup env = {});

// The closest candidate within a small edit distance, for "did you mean" hints.
std::optional<std::string> closest(const std::string &word,
                                   const std::vector<std::string> &candidates);

}  // namespace keel::config
