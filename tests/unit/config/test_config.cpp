// Tests of the configuration loader (framework/src/config/config.cpp, docs/config.md).
//
// Every bad-YAML test checks the whole location prefix "<file>:<line>:<col>: <key.path>: " and
// the words of the message that tell the operator what to fix.

#include "keel/config/config.hpp"
#include "support/support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using keel::config::closest;
using keel::config::Config;
using keel::config::ConfigError;
using keel::config::EnvLookup;
using keel::config::load_file;
using keel::config::load_string;
using keel::test::TempDir;

namespace {

// An environment with exactly these variables.
EnvLookup env_of(std::map<std::string, std::string> vars = {}) {
    return [vars = std::move(vars)](const std::string &name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

// The message of the ConfigError that loading `yaml` throws.
std::string error_of(const std::string &yaml, EnvLookup env = env_of(),
                     const fs::path &file = "test.yaml") {
    try {
        load_string(yaml, file, std::move(env));
    } catch (const ConfigError &e) {
        return e.what();
    }
    FAIL("expected a ConfigError for:\n" << yaml);
    return {};
}

// Lines 1-8 of most test files; sections added by a test start at line 9.
const std::string base = R"(mode: paper
venues:
  sim:
    plugin: sim
    settings: { seed: 42, tick_ms: 50 }
instruments:
  - { symbol: BTCUSDT, venue: sim }
  - { symbol: ETHUSDT, venue: sim, id: eth }
)";

const std::string top_keys =
    "mode, venues, instruments, strategies, risk, account, market, notifiers, logging, "
    "confirm_mainnet, earlier_orders";

}  // namespace

// ------------------------------------------------------------------------------------------------
// Bad files
// ------------------------------------------------------------------------------------------------

TEST_CASE("a YAML syntax error names the file, line and column", "[config]") {
    const std::string msg = error_of("mode: paper\n venues: {}\n");
    CHECK(msg == "test.yaml:2:8: YAML syntax error: illegal map value");

    const std::string unclosed = error_of("instruments: [ { symbol: BTCUSDT, venue: sim }\n");
    CHECK_THAT(unclosed, StartsWith("test.yaml:2:1: YAML syntax error: ") &&
                             Contains("end of sequence flow not found"));
}

TEST_CASE("an empty file is reported with the expected top-level keys", "[config]") {
    CHECK(error_of("") == "test.yaml: the file is empty; expected a mapping with keys " + top_keys);
}

TEST_CASE("a file of only comments counts as empty", "[config]") {
    CHECK(error_of("# a deployment\n\n   # nothing yet\n") ==
          "test.yaml: the file is empty; expected a mapping with keys " + top_keys);
    CHECK(error_of("---\n") ==
          "test.yaml: the file is empty; expected a mapping with keys " + top_keys);
}

TEST_CASE("the top level must be a mapping", "[config]") {
    CHECK(error_of("- mode: paper\n- venues: {}\n") ==
          "test.yaml:1:1: expected a mapping with keys " + top_keys + ", found a sequence");
    CHECK(error_of("paper\n") ==
          "test.yaml:1:1: expected a mapping with keys " + top_keys + ", found \"paper\"");
}

TEST_CASE("more than one YAML document is an error", "[config]") {
    CHECK(error_of(base + "---\nmode: paper\n") ==
          "test.yaml:10:1: expected one YAML document, found 2 (remove the extra \"---\")");
}

TEST_CASE("an unknown top-level key suggests the closest one", "[config]") {
    CHECK(error_of(base + "instrumnts: []\n") ==
          "test.yaml:9:1: instrumnts: unknown key (did you mean \"instruments\"?)");
}

TEST_CASE("an unknown key without a close match lists the allowed keys", "[config]") {
    CHECK(error_of(base + "database: sqlite\n") ==
          "test.yaml:9:1: database: unknown key (allowed keys: " + top_keys + ")");
}

TEST_CASE("an unknown nested key names its full path", "[config]") {
    CHECK(error_of(base + "risk:\n  max_open_orders: 3\n  max_ordr_notional: 100\n") ==
          "test.yaml:11:3: risk.max_ordr_notional: unknown key (did you mean "
          "\"max_order_notional\"?)");
    CHECK(error_of("venues:\n  sim:\n    plugn: sim\n") ==
          "test.yaml:3:5: venues.sim.plugn: unknown key (did you mean \"plugin\"?)");
    CHECK(error_of(base + "account:\n  balance: 5\n") ==
          "test.yaml:10:3: account.balance: unknown key (allowed keys: starting_balance, "
          "maker_fee, taker_fee, funding_rate, funding_interval_h, order_latency_ms, "
          "order_latency, cancel_latency_ms, cancel_latency, latency_seed)");
}

TEST_CASE("a string where a number is expected", "[config]") {
    CHECK(error_of(base + "risk:\n  max_open_orders: 3\n  max_order_notional: abc\n") ==
          "test.yaml:11:23: risk.max_order_notional: expected a number >= 0 or off, found "
          "\"abc\"");
}

TEST_CASE("limits must be positive", "[config]") {
    CHECK(error_of(base + "risk:\n  max_position_notional: -1\n") ==
          "test.yaml:10:26: risk.max_position_notional: expected a number >= 0 or off, found "
          "\"-1\"");
    CHECK(error_of(base + "account:\n  starting_balance: -100\n") ==
          "test.yaml:10:21: account.starting_balance: expected a number > 0, found \"-100\"");
    CHECK(error_of(base + "risk:\n  max_open_orders: 0\n") ==
          "test.yaml:10:20: risk.max_open_orders: expected an integer >= 1 or off, found \"0\"");
}

TEST_CASE("an integer setting refuses a fraction", "[config]") {
    CHECK(error_of(base + "risk: { max_open_orders: 2.5 }\n") ==
          "test.yaml:9:26: risk.max_open_orders: expected an integer >= 1 or off, found \"2.5\"");
}

TEST_CASE("fees are fractions within +-1%", "[config]") {
    const std::string msg = error_of(base + "account:\n  maker_fee: -0.0001\n  taker_fee: 0.1\n");
    CHECK_THAT(msg, StartsWith("test.yaml:11:14: account.taker_fee: expected a number between "
                               "-0.01 and 0.01") &&
                        Contains("found \"0.1\""));
}

TEST_CASE("a boolean must be true or false", "[config]") {
    CHECK(error_of(base + "risk:\n  halted: maybe\n") ==
          "test.yaml:10:11: risk.halted: expected true or false, found \"maybe\"");
}

TEST_CASE("a missing required key is reported at its parent mapping", "[config]") {
    CHECK(error_of("venues:\n  sim:\n    settings: { seed: 1 }\n"
                   "instruments:\n  - { symbol: BTCUSDT, venue: sim }\n") ==
          "test.yaml:3:5: venues.sim: missing required key \"plugin\"");
    CHECK(error_of("mode: paper\ninstruments: []\n") ==
          "test.yaml:1:1: missing required key \"venues\"");
    CHECK(error_of("venues: { sim: { plugin: sim } }\ninstruments:\n  - { symbol: BTCUSDT }\n") ==
          "test.yaml:3:5: instruments[0]: missing required key \"venue\"");
}

TEST_CASE("an empty value where a string is required", "[config]") {
    CHECK(error_of("venues:\n  sim:\n    plugin:\n") ==
          "test.yaml:3:5: venues.sim.plugin: expected a string, found an empty value");
}

TEST_CASE("an unknown mode lists the allowed values", "[config]") {
    const std::string yaml = base;
    const std::string msg = error_of("mode: backtest\n" + yaml.substr(yaml.find('\n') + 1));
    CHECK_THAT(msg,
               StartsWith("test.yaml:1:7: mode: expected one of paper, shadow, live, found "
                          "\"backtest\" (a backtest is `keel backtest <config>`, in any mode)"));
}

TEST_CASE("a live config names its network, and mainnet needs a written yes", "[config]") {
    const std::string yaml = base;
    const std::string rest = yaml.substr(yaml.find('\n') + 1);
    CHECK(error_of("mode: live\n" + rest) ==
          "test.yaml:4:5: venues.sim.settings.network: a live config must name the network: "
          "testnet or mainnet");
    auto with_network = [&](const std::string &net, const std::string &extra) {
        std::string text = "mode: live\n" + extra + rest;
        auto at = text.find("tick_ms: 50 }");
        REQUIRE(at != std::string::npos);
        text.insert(at + 11, ", network: " + net);
        return text;
    };
    CHECK_THAT(
        error_of(with_network("prod", "")),
        Contains("venues.sim.settings.network: expected testnet or mainnet, found \"prod\""));
    CHECK_THAT(error_of(with_network("mainnet", "")),
               StartsWith("test.yaml:1:7: mode: live on mainnet trades real money: add "
                          "`confirm_mainnet: true`"));
    auto cfg =
        load_string(with_network("mainnet", "confirm_mainnet: true\n"), "test.yaml", env_of());
    CHECK(cfg.mode == keel::config::Mode::live);
    CHECK(cfg.confirm_mainnet);
    CHECK(load_string(with_network("testnet", ""), "test.yaml", env_of()).mode ==
          keel::config::Mode::live);
}

TEST_CASE("earlier_orders is cancel by default, or keep; anything else is refused", "[config]") {
    CHECK(load_string(base, "test.yaml", env_of()).earlier_orders ==
          keel::config::EarlierOrders::cancel);
    CHECK(load_string("earlier_orders: keep\n" + base, "test.yaml", env_of()).earlier_orders ==
          keel::config::EarlierOrders::keep);
    CHECK(load_string("earlier_orders: cancel\n" + base, "test.yaml", env_of()).earlier_orders ==
          keel::config::EarlierOrders::cancel);
    CHECK(error_of("earlier_orders: adopt\n" + base) ==
          "test.yaml:1:17: earlier_orders: expected one of cancel, keep, found \"adopt\"");
    CHECK(error_of("earlier_orders: kep\n" + base) ==
          "test.yaml:1:17: earlier_orders: expected one of cancel, keep, found \"kep\" (did you "
          "mean \"keep\"?)");
}

TEST_CASE("an enum value with a typo gets a suggestion", "[config]") {
    CHECK(error_of(base + "logging:\n  components: { engine: wran }\n") ==
          "test.yaml:10:25: logging.components.engine: expected one of trace, debug, info, warn, "
          "error, off, found \"wran\" (did you mean \"warn\"?)");
    CHECK(error_of(base + "logging: { format: xml }\n") ==
          "test.yaml:9:20: logging.format: expected one of text, json, found \"xml\"");
}

TEST_CASE("a mapping where a sequence is expected", "[config]") {
    CHECK(error_of("venues: { sim: { plugin: sim } }\ninstruments:\n  BTCUSDT: sim\n") ==
          "test.yaml:3:3: instruments: expected a non-empty sequence of instruments, found a "
          "mapping");
    CHECK(error_of("venues: { sim: { plugin: sim } }\ninstruments: []\n") ==
          "test.yaml:2:14: instruments: expected a non-empty sequence of instruments, found an "
          "empty sequence");
}

TEST_CASE("a venue block must be a mapping", "[config]") {
    CHECK(error_of("venues:\n  sim: sim\n") ==
          "test.yaml:2:8: venues.sim: expected a mapping with keys plugin, settings, replay, "
          "record, ca_file, found \"sim\"");
}

TEST_CASE("an unset environment variable is named, never a value", "[config]") {
    const std::string yaml =
        "venues:\n  sim:\n    plugin: sim\n    settings:\n"
        "      url: wss://${KEEL_HOST}/ws\n"
        "      api_key: ${KEEL_API_KEY}\n";
    const std::string msg = error_of(yaml, env_of({{"KEEL_HOST", "internal.example.org"}}));
    CHECK(msg ==
          "test.yaml:6:16: venues.sim.settings.api_key: environment variable KEEL_API_KEY is not "
          "set");
    CHECK_THAT(msg, !Contains("internal.example.org"));
}

TEST_CASE("a bad value from the environment is not shown in the message", "[config]") {
    const std::string msg = error_of(base + "risk:\n  max_order_notional: ${KEEL_LIMIT}\n",
                                     env_of({{"KEEL_LIMIT", "hunter2-secret"}}));
    CHECK(msg ==
          "test.yaml:10:23: risk.max_order_notional: expected a number >= 0 or off, found "
          "\"${KEEL_LIMIT}\" (value from the environment, not shown)");
    CHECK_THAT(msg, !Contains("hunter2"));
}

TEST_CASE("instrument ids from the environment are never suggested", "[config]") {
    const std::string yaml =
        "venues: { sim: { plugin: sim } }\n"
        "instruments:\n  - { symbol: \"${KEEL_SYMBOL}\", venue: sim }\n"
        "risk:\n  whitelist: [TOPSECRETUSD]\n";
    const std::string msg = error_of(yaml, env_of({{"KEEL_SYMBOL", "TOPSECRETUSDT"}}));
    CHECK(msg == "test.yaml:5:15: risk.whitelist[0]: unknown instrument \"TOPSECRETUSD\"");
    CHECK_THAT(msg, !Contains("TOPSECRETUSDT"));
}

TEST_CASE("a malformed ${ reference is an error", "[config]") {
    const std::string head = "venues:\n  sim:\n    plugin: sim\n    settings:\n      key: ";
    CHECK(error_of(head + "\"${KEEL_KEY\"\n") ==
          "test.yaml:5:12: venues.sim.settings.key: unterminated \"${\" in \"${KEEL_KEY\" "
          "(expected ${NAME}, NAME made of letters, digits and _)");
    CHECK_THAT(error_of(head + "\"${1KEY}\"\n"),
               StartsWith("test.yaml:5:12: venues.sim.settings.key: invalid environment variable "
                          "reference \"${1KEY}\""));
    CHECK_THAT(error_of(head + "\"${}\"\n"),
               StartsWith("test.yaml:5:12: venues.sim.settings.key: invalid environment variable "
                          "reference \"${}\""));
}

TEST_CASE("a duplicate key is an error even though YAML parsers accept it", "[config]") {
    CHECK(error_of(base + "risk:\n  max_open_orders: 3\n  halted: false\n  max_open_orders: 5\n") ==
          "test.yaml:12:3: risk.max_open_orders: duplicate key \"max_open_orders\" (first at line "
          "10)");
    CHECK(error_of(base + "mode: paper\n") ==
          "test.yaml:9:1: mode: duplicate key \"mode\" (first at line 1)");
}

TEST_CASE("a duplicate instrument id names both places", "[config]") {
    CHECK(error_of(base + "  - { symbol: SOLUSDT, venue: sim, id: eth }\n") ==
          "test.yaml:9:40: instruments[2].id: duplicate instrument id \"eth\" (first at "
          "test.yaml:8:40, instruments[1].id)");
    CHECK(error_of(base + "  - { symbol: BTCUSDT, venue: sim }\n") ==
          "test.yaml:9:15: instruments[2].symbol: duplicate instrument id \"BTCUSDT\" (first at "
          "test.yaml:7:15, instruments[0].symbol); the id defaults to the symbol: set \"id\" to "
          "tell them apart");
}

TEST_CASE("an instrument on an unknown venue", "[config]") {
    CHECK(error_of(base + "  - { symbol: SOLUSDT, venue: simm }\n") ==
          "test.yaml:9:31: instruments[2].venue: unknown venue \"simm\" (did you mean \"sim\"?)");
    CHECK(error_of(base + "  - { symbol: SOLUSDT, venue: kraken }\n") ==
          "test.yaml:9:31: instruments[2].venue: unknown venue \"kraken\" (configured venues: "
          "sim)");
}

TEST_CASE("a strategy on an unknown instrument gets a suggestion", "[config]") {
    TempDir dir;
    dir.write("s.lua", "-- strategy\n");
    const fs::path file = dir.path() / "test.yaml";
    const std::string msg = error_of(
        base + "strategies:\n  - name: s\n    file: s.lua\n    instruments: [eth, BTCUSD]\n",
        env_of(), file);
    CHECK(msg == file.string() +
                     ":12:24: strategies[0].instruments[1]: unknown instrument \"BTCUSD\" (did "
                     "you mean \"BTCUSDT\"?)");

    const std::string listed =
        error_of(base + "strategies:\n  - name: s\n    file: s.lua\n    instruments: [DOGEUSDT]\n",
                 env_of(), file);
    CHECK(listed == file.string() +
                        ":12:19: strategies[0].instruments[0]: unknown instrument \"DOGEUSDT\" "
                        "(configured: BTCUSDT, eth)");
}

TEST_CASE("a missing strategy file names the resolved path", "[config]") {
    TempDir dir;
    const fs::path file = dir.path() / "test.yaml";
    const std::string msg = error_of(
        base + "strategies:\n  - name: s\n    file: lua/missing.lua\n    instruments: [eth]\n",
        env_of(), file);
    const std::string resolved = (dir.path() / "lua" / "missing.lua").string();
    CHECK(msg == file.string() + ":11:11: strategies[0].file: strategy file \"" + resolved +
                     "\" does not exist (relative paths are resolved against the config file's "
                     "directory)");
}

TEST_CASE("strategy names are unique and instruments required", "[config]") {
    TempDir dir;
    dir.write("s.lua", "");
    const fs::path file = dir.path() / "test.yaml";
    const std::string dup = error_of(base +
                                         "strategies:\n"
                                         "  - { name: s, file: s.lua, instruments: [eth] }\n"
                                         "  - { name: s, file: s.lua, instruments: [eth] }\n",
                                     env_of(), file);
    CHECK(dup == file.string() +
                     ":11:13: strategies[1].name: duplicate strategy name \"s\" (first "
                     "at " +
                     file.string() + ":10:13, strategies[0].name)");

    const std::string none = error_of(
        base + "strategies:\n  - { name: s, file: s.lua, instruments: [] }\n", env_of(), file);
    CHECK(none == file.string() +
                      ":10:42: strategies[0].instruments: expected a non-empty sequence of "
                      "instrument ids, found an empty sequence");
}

TEST_CASE("a bad timeframe is refused", "[config]") {
    TempDir dir;
    dir.write("s.lua", "");
    const fs::path file = dir.path() / "test.yaml";
    const std::string msg = error_of(base +
                                         "strategies:\n  - name: s\n    file: s.lua\n"
                                         "    instruments: [eth]\n    timeframes: [1m, 5min]\n",
                                     env_of(), file);
    CHECK_THAT(msg, StartsWith(file.string() + ":13:22: strategies[0].timeframes[1]: expected a "
                                               "timeframe like 1s, 5s, 1m") &&
                        Contains("found \"5min\""));
    for (const char *bad : {"0m", "1w", "m", "01h", "1.5h", "1 m"}) {
        CAPTURE(bad);
        const std::string m = error_of(base +
                                           "strategies:\n  - name: s\n    file: s.lua\n"
                                           "    instruments: [eth]\n    timeframes: [\"" +
                                           bad + "\"]\n",
                                       env_of(), file);
        CHECK_THAT(m, Contains("strategies[0].timeframes[0]: expected a timeframe"));
    }
}

TEST_CASE("settings and params must be flat", "[config]") {
    CHECK(error_of("venues:\n  sim:\n    plugin: sim\n    settings:\n      feed: { depth: 5 }\n") ==
          "test.yaml:5:13: venues.sim.settings.feed: expected a scalar value (string, number or "
          "boolean), found a mapping; settings are flat key: value pairs");

    TempDir dir;
    dir.write("s.lua", "");
    const fs::path file = dir.path() / "test.yaml";
    CHECK(error_of(base + "strategies:\n  - name: s\n    file: s.lua\n    instruments: [eth]\n"
                          "    params:\n      levels: [1, 2]\n",
                   env_of(), file) ==
          file.string() +
              ":14:15: strategies[0].params.levels: expected a scalar value (string, "
              "number or boolean), found a sequence; settings are flat key: value "
              "pairs");
}

TEST_CASE("a whitelist names configured instruments", "[config]") {
    CHECK(error_of(base + "risk:\n  whitelist: [BTCUSDT, ETHUSDT]\n") ==
          "test.yaml:10:24: risk.whitelist[1]: unknown instrument \"ETHUSDT\" (did you mean "
          "\"eth\"? instruments are named by id, and \"eth\" is the id of symbol ETHUSDT)");
    CHECK(error_of(base + "risk:\n  whitelist: [SOLUSDT]\n") ==
          "test.yaml:10:15: risk.whitelist[0]: unknown instrument \"SOLUSDT\" (configured: "
          "BTCUSDT, eth)");
    CHECK(error_of(base + "risk:\n  whitelist: [BTCUSDT, btcusdt]\n") ==
          "test.yaml:10:24: risk.whitelist[1]: unknown instrument \"btcusdt\" (did you mean "
          "\"BTCUSDT\"?)");
}

TEST_CASE("load_file reports a file it cannot read", "[config]") {
    TempDir dir;
    const fs::path missing = dir.path() / "nope.yaml";
    try {
        load_file(missing, env_of());
        FAIL("expected a ConfigError");
    } catch (const ConfigError &e) {
        CHECK(std::string(e.what()) ==
              missing.string() + ": cannot read config file: No such file or directory");
    }
    try {
        load_file(dir.path(), env_of());
        FAIL("expected a ConfigError");
    } catch (const ConfigError &e) {
        CHECK(std::string(e.what()) ==
              dir.path().string() + ": cannot read config file: Is a directory");
    }
}

TEST_CASE("load_file errors carry the path as given", "[config]") {
    TempDir dir;
    const fs::path file = dir.write("deploy.yaml", base + "risk: { max_open_orders: many }\n");
    try {
        load_file(file, env_of());
        FAIL("expected a ConfigError");
    } catch (const ConfigError &e) {
        CHECK(std::string(e.what()) == file.string() +
                                           ":9:26: risk.max_open_orders: expected an integer >= "
                                           "1 or off, found \"many\"");
    }
}

// ------------------------------------------------------------------------------------------------
// Good files
// ------------------------------------------------------------------------------------------------

TEST_CASE("a full configuration parses with every field", "[config]") {
    TempDir dir;
    dir.write("strategies/imbalance.lua", "-- imbalance\n");
    const fs::path file = dir.write("paper.yaml", R"(mode: paper
venues:
  sim:
    plugin: sim
    settings: { seed: 42, tick_ms: 50 }
  binance:
    plugin: /opt/keel/plugins/keel-exchange-binance.so
    settings:
      api_key: ${BINANCE_KEY}
      testnet: true
instruments:
  - { symbol: BTCUSDT, venue: sim }
  - { symbol: ETHUSDT, venue: binance, id: eth-binance }
strategies:
  - name: imbalance
    file: strategies/imbalance.lua
    instruments: [BTCUSDT, eth-binance]
    timeframes: [1s, 1m, 15m, 4h, 1d]
    params: { buy_ratio: 3.0, levels: 5, enabled: true, tag: scalp }
risk:
  max_order_notional: 500
  max_position_notional: 2500.5
  max_open_orders: 3
  whitelist: [BTCUSDT]
  halted: true
account:
  starting_balance: 25000
  maker_fee: -0.0001
  taker_fee: 0.0005
notifiers:
  console:
    plugin: console
    settings: { color: false }
logging:
  level: debug
  format: json
  components: { engine: trace, risk: warn }
)");
    const Config cfg = load_file(file, env_of({{"BINANCE_KEY", "abc123"}}));

    CHECK(cfg.file == file);
    CHECK(cfg.mode == keel::config::Mode::paper);

    REQUIRE(cfg.venues.size() == 2);
    const auto &sim = cfg.venues.at("sim");
    CHECK(sim.plugin == "sim");
    CHECK(sim.key_path == "venues.sim");
    CHECK(sim.where == file.string() + ":4:5");
    REQUIRE(sim.settings.size() == 2);
    CHECK(sim.settings.at("seed").value == "42");
    CHECK(sim.settings.at("seed").key_path == "venues.sim.settings.seed");
    CHECK(sim.settings.at("seed").where == file.string() + ":5:23");
    CHECK(sim.settings.at("tick_ms").value == "50");
    const auto &binance = cfg.venues.at("binance");
    CHECK(binance.plugin == "/opt/keel/plugins/keel-exchange-binance.so");
    CHECK(binance.settings.at("api_key").value == "abc123");
    CHECK(binance.settings.at("api_key").from_env);
    CHECK(binance.settings.at("testnet").value == "true");
    CHECK_FALSE(binance.settings.at("testnet").from_env);

    REQUIRE(cfg.instruments.size() == 2);
    CHECK(cfg.instruments[0].id == "BTCUSDT");
    CHECK(cfg.instruments[0].symbol == "BTCUSDT");
    CHECK(cfg.instruments[0].venue == "sim");
    CHECK(cfg.instruments[1].id == "eth-binance");
    CHECK(cfg.instruments[1].symbol == "ETHUSDT");
    CHECK(cfg.instruments[1].venue == "binance");

    REQUIRE(cfg.strategies.size() == 1);
    const auto &s = cfg.strategies[0];
    CHECK(s.name == "imbalance");
    CHECK(s.file == dir.path() / "strategies" / "imbalance.lua");
    CHECK(s.instruments == std::vector<std::string>{"BTCUSDT", "eth-binance"});
    CHECK(s.timeframes == std::vector<std::string>{"1s", "1m", "15m", "4h", "1d"});
    REQUIRE(s.params.size() == 4);
    CHECK(s.params.at("buy_ratio").value == "3.0");
    CHECK(s.params.at("levels").value == "5");
    CHECK(s.params.at("enabled").value == "true");
    CHECK(s.params.at("tag").value == "scalp");
    CHECK(s.params.at("tag").key_path == "strategies[0].params.tag");
    CHECK(s.where == file.string() + ":15:5");

    CHECK(cfg.risk.order.max_order_notional == 500.0);
    CHECK(cfg.risk.order.max_position_notional == 2500.5);
    CHECK(cfg.risk.max_open_orders == 3);
    CHECK(cfg.risk.whitelist == std::vector<std::string>{"BTCUSDT"});
    CHECK(cfg.risk.halted);

    CHECK(cfg.account.starting_balance == 25000.0);
    CHECK(cfg.account.maker_fee == -0.0001);
    CHECK(cfg.account.taker_fee == 0.0005);

    REQUIRE(cfg.notifiers.size() == 1);
    CHECK(cfg.notifiers.at("console").plugin == "console");
    CHECK(cfg.notifiers.at("console").settings.at("color").value == "false");
    CHECK(cfg.notifiers.at("console").key_path == "notifiers.console");

    CHECK(cfg.logging.level == "debug");
    CHECK(cfg.logging.format == "json");
    CHECK(cfg.logging.components ==
          std::map<std::string, std::string>{{"engine", "trace"}, {"risk", "warn"}});
}

TEST_CASE("defaults apply to everything left out", "[config]") {
    const Config cfg = load_string(
        "venues:\n  sim: { plugin: sim }\n"
        "instruments:\n  - { symbol: BTCUSDT, venue: sim }\n",
        "test.yaml", env_of());
    const keel::config::RiskLimits risk;
    const keel::config::Account account;
    CHECK(cfg.mode == keel::config::Mode::paper);
    CHECK(cfg.venues.at("sim").settings.empty());
    CHECK(cfg.instruments[0].id == "BTCUSDT");
    CHECK(cfg.strategies.empty());
    CHECK(cfg.notifiers.empty());
    CHECK(cfg.risk.order.max_order_notional == risk.order.max_order_notional);
    CHECK(cfg.risk.order.max_position_notional == risk.order.max_position_notional);
    CHECK(cfg.risk.max_open_orders == risk.max_open_orders);
    CHECK(cfg.risk.whitelist.empty());
    CHECK_FALSE(cfg.risk.halted);
    CHECK(cfg.account.starting_balance == account.starting_balance);
    CHECK(cfg.account.maker_fee == account.maker_fee);
    CHECK(cfg.account.taker_fee == account.taker_fee);
    CHECK(cfg.logging.level == "info");
    CHECK(cfg.logging.format == "text");
    CHECK(cfg.logging.components.empty());
}

TEST_CASE("empty optional sections mean their defaults", "[config]") {
    const Config cfg = load_string(base + "strategies:\nrisk:\naccount:\nnotifiers:\nlogging:\n",
                                   "test.yaml", env_of());
    CHECK(cfg.strategies.empty());
    CHECK(cfg.risk.max_open_orders == 4);
    CHECK(cfg.notifiers.empty());
    CHECK(cfg.logging.level == "info");
}

TEST_CASE("${VAR} is substituted in every scalar and marks the setting", "[config]") {
    const std::string full =
        "venues:\n  sim:\n    plugin: ${KEEL_PLUGIN}\n    settings:\n"
        "      api_key: ${KEEL_API_KEY}\n"
        "      quoted: \"${KEEL_API_KEY}\"\n"
        "      url: wss://${KEEL_HOST}:${KEEL_PORT}/ws\n"
        "      seed: 42\n"
        "instruments:\n  - { symbol: BTCUSDT, venue: sim }\n"
        "risk: { max_order_notional: \"${KEEL_LIMIT}\", halted: \"${KEEL_HALT}\" }\n";
    const Config cfg = load_string(full, "test.yaml",
                                   env_of({{"KEEL_PLUGIN", "sim"},
                                           {"KEEL_API_KEY", "key-123"},
                                           {"KEEL_HOST", "example.org"},
                                           {"KEEL_PORT", "443"},
                                           {"KEEL_LIMIT", "250.5"},
                                           {"KEEL_HALT", "true"}}));
    const auto &sim = cfg.venues.at("sim");
    CHECK(sim.plugin == "sim");

    const auto &key = sim.settings.at("api_key");
    CHECK(key.value == "key-123");
    CHECK(key.from_env);
    CHECK(key.uses_env);
    CHECK(key.where == "test.yaml:5:16");
    CHECK(key.key_path == "venues.sim.settings.api_key");

    CHECK(sim.settings.at("quoted").value == "key-123");
    CHECK(sim.settings.at("quoted").uses_env);

    const auto &url = sim.settings.at("url");
    CHECK(url.value == "wss://example.org:443/ws");
    CHECK(url.from_env);
    CHECK_FALSE(url.uses_env);

    const auto &seed = sim.settings.at("seed");
    CHECK(seed.value == "42");
    CHECK_FALSE(seed.from_env);
    CHECK_FALSE(seed.uses_env);
    CHECK(seed.where == "test.yaml:8:13");

    CHECK(cfg.risk.order.max_order_notional == 250.5);
    CHECK(cfg.risk.halted);

    // A lone '$' is literal; only "${" starts a reference.
    const Config dollars = load_string(
        "venues: { sim: { plugin: sim, settings: { note: \"costs $5 ${KEEL_PORT}$\" } } }\n"
        "instruments: [ { symbol: BTCUSDT, venue: sim } ]\n",
        "test.yaml", env_of({{"KEEL_PORT", "443"}}));
    CHECK(dollars.venues.at("sim").settings.at("note").value == "costs $5 443$");
}

TEST_CASE("the process environment is used when no lookup is given", "[config]") {
    ::setenv("KEEL_CONFIG_TEST_SEED", "7", 1);
    const Config cfg = load_string(
        "venues: { sim: { plugin: sim, settings: { seed: \"${KEEL_CONFIG_TEST_SEED}\" } } }\n"
        "instruments: [ { symbol: BTCUSDT, venue: sim } ]\n",
        "test.yaml");
    ::unsetenv("KEEL_CONFIG_TEST_SEED");
    CHECK(cfg.venues.at("sim").settings.at("seed").value == "7");
}

TEST_CASE("strategy files resolve against the config file's directory", "[config]") {
    TempDir dir;
    dir.write("deploy/strategies/a.lua", "");
    dir.write("shared/b.lua", "");
    const fs::path file =
        dir.write("deploy/paper.yaml", base +
                                           "strategies:\n"
                                           "  - name: a\n"
                                           "    file: strategies/a.lua\n"
                                           "    instruments: [BTCUSDT]\n"
                                           "  - name: b\n"
                                           "    file: ../shared/b.lua\n"
                                           "    instruments: [eth]\n"
                                           "  - name: c\n"
                                           "    file: " +
                                           (dir.path() / "shared/b.lua").string() +
                                           "\n"
                                           "    instruments: [eth]\n");
    const Config cfg = load_file(file, env_of());
    REQUIRE(cfg.strategies.size() == 3);
    CHECK(cfg.strategies[0].file == dir.path() / "deploy" / "strategies" / "a.lua");
    CHECK(cfg.strategies[1].file == dir.path() / "shared" / "b.lua");
    CHECK(cfg.strategies[2].file == dir.path() / "shared" / "b.lua");
    CHECK(fs::exists(cfg.strategies[0].file));
}

TEST_CASE("closest suggests near misses only", "[config]") {
    const std::vector<std::string> keys = {"max_order_notional", "max_position_notional",
                                           "max_open_orders", "whitelist", "halted"};
    CHECK(closest("max_ordr_notional", keys) == std::optional<std::string>("max_order_notional"));
    CHECK(closest("whitelsit", keys) == std::optional<std::string>("whitelist"));  // transposition
    CHECK(closest("HALTED", keys) == std::optional<std::string>("halted"));
    CHECK(closest("database", keys) == std::nullopt);
    CHECK(closest("x", {"id"}) == std::nullopt);
    CHECK(closest("anything", {}) == std::nullopt);
}

TEST_CASE("a timeframe must divide a day and appear once by length", "[config]") {
    TempDir dir;
    dir.write("s.lua", "");
    const fs::path file = dir.path() / "test.yaml";
    auto with = [&](const std::string &tfs) {
        return error_of(base +
                            "strategies:\n  - name: s\n    file: s.lua\n"
                            "    instruments: [eth]\n    timeframes: [" +
                            tfs + "]\n",
                        env_of(), file);
    };
    CHECK_THAT(with("1m, 7m"),
               StartsWith(file.string() + ":13:22: strategies[0].timeframes[1]: timeframe \"7m\" "
                                          "must be from 1s to 1d and divide a day evenly"));
    CHECK_THAT(with("2d"), StartsWith(file.string() + ":13:18: strategies[0].timeframes[0]: "
                                                      "timeframe \"2d\" must be from 1s to 1d"));
    CHECK(with("1m, 60s") == file.string() +
                                 ":13:22: strategies[0].timeframes[1]: timeframe \"60s\" is the "
                                 "same length as \"1m\", listed before");
}

TEST_CASE("empty_candles is flat by default, or skip", "[config]") {
    TempDir dir;
    dir.write("s.lua", "");
    const fs::path file = dir.path() / "test.yaml";
    auto strategy = [&](const std::string &extra) {
        return base + "strategies:\n  - name: s\n    file: s.lua\n    instruments: [eth]\n" + extra;
    };
    dir.write("test.yaml", strategy(""));
    CHECK(load_file(file, env_of()).strategies[0].empty_candles ==
          keel::config::EmptyCandles::flat);
    dir.write("test.yaml", strategy("    empty_candles: skip\n"));
    CHECK(load_file(file, env_of()).strategies[0].empty_candles ==
          keel::config::EmptyCandles::skip);
    CHECK(error_of(strategy("    empty_candles: none\n"), env_of(), file) ==
          file.string() +
              ":13:20: strategies[0].empty_candles: expected one of flat, skip, found \"none\"");
}

TEST_CASE("every risk setting parses, and off disables a limit", "[config][risk]") {
    TempDir dir;
    dir.write("s.lua", "");
    dir.write("deploy.yaml", base + R"(strategies:
  - { name: s, file: s.lua, instruments: [BTCUSDT] }
risk:
  max_order_notional: 2000
  max_order_qty: off
  max_position_notional: 0
  max_position_pct: 25
  max_instrument_exposure_pct: 30
  risk_per_trade_pct: 1.5
  max_leverage: 3
  max_leverage_by_timeframe: { 1m: 5, 15m: 25 }
  price_band_pct: 2
  require_stop: true
  no_duplicate_entry: false
  max_open_positions: off
  max_open_orders: 7
  max_orders_per_day: 100
  max_orders_per_second: off
  daily_loss_pct: 3
  daily_loss: 500
  max_drawdown_pct: off
  max_drawdown: 1000
  on_daily_loss: reduce
  on_max_drawdown: flatten
  day_start: "08:30"
  capital_stage: small
  drawdown_hysteresis_pct: 0.5
  drawdown_levels:
    - { name: ORANGE, at_pct: 8, size: 0.5 }
    - { name: STOP, at_pct: 12, size: 0, action: halt }
  instruments:
    eth: { max_order_notional: 300 }
  strategies:
    s: { risk_per_trade_pct: 0.5, require_stop: true }
)");
    const Config cfg = load_file(dir.path() / "deploy.yaml", env_of());
    const auto &r = cfg.risk;
    CHECK(r.order.max_order_notional == 2000);
    CHECK(std::isinf(r.order.max_order_qty));
    CHECK(r.order.max_position_notional == 0);
    CHECK(r.order.max_position_pct == 25);
    CHECK(r.order.max_instrument_exposure_pct == 30);
    CHECK(r.order.risk_per_trade_pct == 1.5);
    CHECK(r.order.max_leverage == 3);
    CHECK(r.order.max_leverage_by_timeframe.at(60'000'000'000LL) == 5);
    CHECK(r.order.max_leverage_by_timeframe.at(900'000'000'000LL) == 25);
    CHECK(r.order.price_band_pct == 2);
    CHECK(r.order.require_stop);
    CHECK_FALSE(r.order.no_duplicate_entry);
    CHECK(r.max_open_positions == 0);
    CHECK(r.max_open_orders == 7);
    CHECK(r.max_orders_per_day == 100);
    CHECK(r.max_orders_per_second == 0);
    CHECK(r.daily_loss_pct == 3);
    CHECK(r.daily_loss == 500);
    CHECK(std::isinf(r.max_drawdown_pct));
    CHECK(r.max_drawdown == 1000);
    CHECK(r.on_daily_loss == keel::config::RiskAction::reduce);
    CHECK(r.on_max_drawdown == keel::config::RiskAction::flatten);
    CHECK(r.day_start_ns == (8 * 60 + 30) * 60'000'000'000LL);
    CHECK(r.capital_stage == keel::config::CapitalStage::small);
    CHECK(r.drawdown_hysteresis_pct == 0.5);
    REQUIRE(r.drawdown_levels.size() == 2);
    CHECK(r.drawdown_levels[1].name == "STOP");
    CHECK(r.drawdown_levels[1].action == keel::config::RiskAction::halt);
    CHECK(r.instruments.at("eth").max_order_notional == 300);
    CHECK(std::isinf(r.instruments.at("eth").max_position_notional));  // overrides: off unless set
    CHECK(r.strategies.at("s").risk_per_trade_pct == 0.5);
}

TEST_CASE("bad risk settings name the key and what was expected", "[config][risk]") {
    CHECK(error_of(base + "risk:\n  max_leverage_by_timeframe: { 7x: 5 }\n") ==
          "test.yaml:10:32: risk.max_leverage_by_timeframe.7x: expected a timeframe key like 1m, "
          "5m, 15m, found \"7x\"");
    CHECK(error_of(base + "risk:\n  instruments:\n    SOLUSDT: { max_order_notional: 5 }\n") ==
          "test.yaml:11:14: risk.instruments.SOLUSDT: unknown instrument \"SOLUSDT\" (configured: "
          "BTCUSDT, eth)");
    CHECK(error_of(base + "risk:\n  instruments:\n    eth: { max_ordr_qty: 5 }\n") ==
          "test.yaml:11:12: risk.instruments.eth.max_ordr_qty: unknown key (did you mean "
          "\"max_order_qty\"?)");
    CHECK(error_of(base + "risk:\n  day_start: \"25:00\"\n") ==
          "test.yaml:10:14: risk.day_start: expected a UTC time of day HH:MM such as \"00:00\", "
          "found \"25:00\"");
    CHECK(error_of(base + "risk:\n  on_daily_loss: panic\n") ==
          "test.yaml:10:18: risk.on_daily_loss: expected one of alert, reduce, halt, flatten, "
          "found \"panic\"");
    CHECK(error_of(base + "risk:\n  drawdown_levels:\n    - { name: A, at_pct: 10 }\n"
                          "    - { name: B, at_pct: 5 }\n") ==
          "test.yaml:12:26: risk.drawdown_levels[1].at_pct: drawdown levels must be listed from "
          "the smallest drawdown up");
    CHECK(error_of(base + "risk:\n  risk_per_trade_pct: 150\n") ==
          "test.yaml:10:23: risk.risk_per_trade_pct: expected a percentage from 0 to 100 or off, "
          "found \"150\"");
}

TEST_CASE("a risk preset is read from its file and keys beside it override it", "[config][risk]") {
    TempDir dir;
    dir.write("risk/p.yaml", "max_open_positions: 2\ndaily_loss_pct: 3\n");
    dir.write("deploy.yaml", base + "risk:\n  preset: risk/p.yaml\n  daily_loss_pct: 2\n");
    const Config cfg = load_file(dir.path() / "deploy.yaml", env_of());
    CHECK(cfg.risk.max_open_positions == 2);
    CHECK(cfg.risk.daily_loss_pct == 2);

    dir.write("risk/bad.yaml", "max_open_positions: 2\nmax_open_ordrs: 3\n");
    dir.write("bad.yaml", base + "risk:\n  preset: risk/bad.yaml\n");
    try {
        load_file(dir.path() / "bad.yaml", env_of());
        FAIL("expected a ConfigError");
    } catch (const ConfigError &e) {
        CHECK(std::string(e.what()) == (dir.path() / "risk" / "bad.yaml").string() +
                                           ":2:1: risk.max_open_ordrs: unknown key (did you mean "
                                           "\"max_open_orders\"?)");
    }
    CHECK_THAT(error_of(base + "risk:\n  preset: nowhere.yaml\n"),
               Contains("test.yaml:10:11: risk.preset: cannot read risk preset"));
}

TEST_CASE("the shipped risk presets load", "[config][risk]") {
    for (const char *preset :
         {"seed-000-drb-guard.yaml", "seed-001-fixed-risk.yaml", "seed-002-leverage.yaml"}) {
        INFO(preset);
        TempDir dir;
        auto path = keel::test::source_dir() / "configs" / "risk" / preset;
        dir.write("deploy.yaml", base + "risk: { preset: " + path.string() + " }\n");
        const Config cfg = load_file(dir.path() / "deploy.yaml", env_of());
        CHECK(cfg.risk.daily_loss_pct <= 5);
    }
}

TEST_CASE("a funding interval must divide a day", "[config]") {
    CHECK(error_of(base + "account:\n  funding_interval_h: 5\n") ==
          "test.yaml:10:23: account.funding_interval_h: expected 0 (no funding) or hours that "
          "divide a day (1, 2, 3, 4, 6, 8, 12, 24), found 5");
}

TEST_CASE("the fill simulator's latency: a constant or a distribution, and a seed",
          "[config][latency]") {
    using keel::config::Latency;
    auto cfg = load_string(base + R"(account:
  order_latency_ms: 25
  cancel_latency: { dist: lognormal, median_ms: 20, p99_ms: 120 }
  latency_seed: 7
)",
                           "test.yaml", env_of());
    CHECK(cfg.account.order_latency.dist == Latency::Dist::constant);
    CHECK(cfg.account.order_latency.ms == 25);
    CHECK_FALSE(cfg.account.order_latency.zero());
    CHECK(cfg.account.cancel_latency.dist == Latency::Dist::lognormal);
    CHECK(cfg.account.cancel_latency.median_ms == 20);
    CHECK(cfg.account.cancel_latency.p99_ms == 120);
    CHECK(cfg.account.latency_seed == 7);

    cfg = load_string(base + R"(account:
  order_latency: { dist: uniform, min_ms: 5, max_ms: 40 }
  cancel_latency:
    dist: empirical
    samples_ms: [12, 15.5, 40]
)",
                      "test.yaml", env_of());
    CHECK(cfg.account.order_latency.dist == Latency::Dist::uniform);
    CHECK(cfg.account.order_latency.min_ms == 5);
    CHECK(cfg.account.order_latency.max_ms == 40);
    CHECK(cfg.account.cancel_latency.dist == Latency::Dist::empirical);
    CHECK(cfg.account.cancel_latency.samples_ms == std::vector<double>{12, 15.5, 40});
    CHECK(cfg.account.latency_seed == 0);

    // None given: no latency, as before the model existed.
    cfg = load_string(base, "test.yaml", env_of());
    CHECK(cfg.account.order_latency.zero());
    CHECK(cfg.account.cancel_latency.zero());
}

TEST_CASE("bad latency settings name the file, line, key and what was expected",
          "[config][latency]") {
    CHECK(error_of(base + "account:\n  order_latency_ms: -5\n") ==
          "test.yaml:10:21: account.order_latency_ms: expected a number of milliseconds from 0 "
          "to 60000, found \"-5\"");
    CHECK(error_of(base + "account:\n  cancel_latency_ms: 90000\n") ==
          "test.yaml:10:22: account.cancel_latency_ms: expected a number of milliseconds from 0 "
          "to 60000, found \"90000\"");
    CHECK(error_of(base + "account:\n  order_latency: 25\n") ==
          "test.yaml:10:18: account.order_latency: expected a mapping such as {dist: lognormal, "
          "median_ms: 20, p99_ms: 120} (a constant latency is written order_latency_ms: <ms>), "
          "found \"25\"");
    CHECK_THAT(error_of(base + "account:\n  order_latency: { dist: normal, median_ms: 20 }\n"),
               StartsWith("test.yaml:10:26: account.order_latency.dist: expected one of "
                          "lognormal, uniform, empirical, found \"normal\""));
    CHECK(error_of(base + "account:\n  cancel_latency: { dist: uniform, median_ms: 20 }\n") ==
          "test.yaml:10:36: account.cancel_latency.median_ms: not a key of dist uniform (its "
          "keys: min_ms, max_ms)");
    CHECK(error_of(base + "account:\n  order_latency: { median_ms: 20 }\n") ==
          "test.yaml:10:18: account.order_latency: missing required key \"dist\"");
    CHECK(error_of(base + "account:\n  order_latency: { dist: lognormal, median_ms: 20 }\n") ==
          "test.yaml:10:18: account.order_latency: missing required key \"p99_ms\"");
    CHECK(error_of(base +
                   "account:\n  order_latency: { dist: lognormal, median_ms: 20, p99_ms: 10 }\n") ==
          "test.yaml:10:60: account.order_latency.p99_ms: expected a number of milliseconds "
          "greater than median_ms (20), found \"10\"");
    CHECK(error_of(base + "account:\n  order_latency: { dist: uniform, min_ms: 9, max_ms: 3 }\n") ==
          "test.yaml:10:54: account.order_latency.max_ms: expected a number of milliseconds at "
          "least min_ms (9), found \"3\"");
    CHECK(error_of(base + "account:\n  cancel_latency: { dist: empirical, samples_ms: [] }\n") ==
          "test.yaml:10:50: account.cancel_latency.samples_ms: expected at least one latency in "
          "milliseconds, found an empty sequence");
    CHECK(error_of(base +
                   "account:\n  cancel_latency: { dist: empirical, samples_ms: [12, abc] }\n") ==
          "test.yaml:10:55: account.cancel_latency.samples_ms[1]: expected a number of "
          "milliseconds from 0 to 60000, found \"abc\"");
    CHECK(error_of(base + "account:\n  order_latency_ms: 25\n  order_latency: { dist: uniform, "
                          "min_ms: 1, max_ms: 2 }\n") ==
          "test.yaml:11:3: account.order_latency: give either order_latency_ms (a constant) or "
          "order_latency (a distribution), not both (order_latency_ms is at line 10)");
    CHECK(error_of(base + "account:\n  latency_seed: -1\n") ==
          "test.yaml:10:17: account.latency_seed: expected an integer >= 0, found \"-1\"");
    CHECK(error_of(base + "account:\n  cancel_latncy: 3\n") ==
          "test.yaml:10:3: account.cancel_latncy: unknown key (did you mean \"cancel_latency\"?)");
    // In a file of its own, the message names that file.
    CHECK_THAT(error_of(base + "account:\n  order_latency: { dist: uniform }\n", env_of(),
                        "configs/backtest.yaml"),
               StartsWith("configs/backtest.yaml:10:18: account.order_latency: missing required "
                          "key \"min_ms\""));
}

TEST_CASE("replay, record, market and history settings", "[config]") {
    const auto data = fs::path(KEEL_SOURCE_DIR) / "configs";  // any existing file will do
    const std::string file = (data / "paper.yaml").string();
    auto cfg = load_string("mode: paper\nvenues:\n  sim:\n    plugin: sim\n    replay: " + file +
                               "\n    record: rec\ninstruments:\n  - { symbol: BTCUSDT, venue: "
                               "sim, history: { 1m: " +
                               file + " } }\nmarket: { stale_after_s: 3, max_jump_pct: 2.5 }\n",
                           "/tmp/x/test.yaml", env_of());
    CHECK(cfg.venues.at("sim").replay == fs::path(file));
    CHECK(cfg.venues.at("sim").record == fs::path("/tmp/x/rec"));
    CHECK(cfg.instruments[0].history.at(60'000'000'000) == fs::path(file));
    CHECK(cfg.market.stale_after_s == 3);
    CHECK(cfg.market.max_jump_pct == 2.5);
    CHECK(cfg.market.outlier_confirmations == 3);

    CHECK(error_of(base + "market: { stale_after_s: 0 }\n") ==
          "test.yaml:9:26: market.stale_after_s: expected a number > 0, found \"0\"");
    CHECK(error_of(base + "market: { stale: 1 }\n") ==
          "test.yaml:9:11: market.stale: unknown key (allowed keys: stale_after_s, max_jump_pct, "
          "outlier_confirmations)");
    const std::string replay_missing = error_of(
        "venues:\n  sim: { plugin: sim, replay: no-such.gz }\ninstruments:\n  - { symbol: X, "
        "venue: sim }\n");
    CHECK_THAT(replay_missing, Contains("test.yaml:2:31: venues.sim.replay: recording file") &&
                                   Contains("no-such.gz\" does not exist"));
    CHECK_THAT(error_of("venues:\n  sim: { plugin: sim }\ninstruments:\n  - { symbol: X, "
                        "venue: sim, history: { 7q: a.json } }\n"),
               Contains("instruments[0].history.7q: expected a timeframe like 1m, 5m, 1h as the "
                        "key, found \"7q\""));
}
