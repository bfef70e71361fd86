#pragma once
// The deployment configuration: one YAML file per deployment, validated completely before
// anything starts. The schema is documented in docs/config.md.

#include <cstdint>
#include <filesystem>
#include <functional>
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

enum class Mode { paper };  // backtest, shadow and live arrive with the execution issue

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
};

struct Instrument {
    std::string id;      // name used by strategies and risk; defaults to symbol
    std::string symbol;  // venue symbol
    std::string venue;   // key in venues
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
    std::string where;
};

struct RiskLimits {
    double max_order_notional = 1000.0;      // quote currency per order
    double max_position_notional = 10000.0;  // |position| * mark, per instrument (seed 003)
    int max_open_orders = 4;                 // resting orders across the deployment
    std::vector<std::string> whitelist;      // instrument ids; empty = every configured instrument
    bool halted = false;                     // start halted (no new orders)
};

struct Account {
    double starting_balance = 10000.0;  // quote currency (seed 003: $10K)
    double maker_fee = 0.0002;          // fraction of notional
    double taker_fee = 0.0004;
};

struct Logging {
    std::string level = "info";                     // trace|debug|info|warn|error|off
    std::string format = "text";                    // text|json
    std::map<std::string, std::string> components;  // component -> level
};

struct Config {
    std::filesystem::path file;  // as given
    Mode mode = Mode::paper;
    std::map<std::string, PluginRef> venues;  // venue name -> plugin
    std::vector<Instrument> instruments;
    std::vector<Strategy> strategies;
    RiskLimits risk;
    Account account;
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
