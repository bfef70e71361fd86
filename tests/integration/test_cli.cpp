// The keel binary as a user runs it: exit codes, messages, summaries and signals.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <sstream>

#include "support/support.hpp"

using namespace keel::test;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

std::string paper_yaml() {
    return (source_dir() / "configs" / "paper.yaml").string();
}

}  // namespace

TEST_CASE("keel version and help", "[cli]") {
    auto v = run({keel_binary(), "version"});
    CHECK(v.code == 0);
    CHECK_THAT(v.out, Contains("keel 0.1.0 (plugin ABI 1.6)"));
    for (auto cmd : {"run", "check", "backtest", "plugin", "version"}) {
        auto h = run({keel_binary(), cmd, "--help"});
        CHECK(h.code == 0);
        CHECK_THAT(h.out, Contains(std::string("Usage: keel ") + cmd));
    }
    auto none = run({keel_binary()});
    CHECK(none.code == 2);
    CHECK_THAT(none.err, Contains("Usage:"));
    auto bad = run({keel_binary(), "fly"});
    CHECK(bad.code == 2);
    CHECK_THAT(bad.err, Contains("unknown command \"fly\""));
    auto dur = run({keel_binary(), "run", paper_yaml(), "--duration", "soon"});
    CHECK(dur.code == 2);
    CHECK_THAT(dur.err, Contains("--duration: expected a positive duration"));
}

TEST_CASE("keel backtest needs data that ends", "[cli]") {
    auto endless = run({keel_binary(), "backtest", paper_yaml()});
    CHECK(endless.code == 1);
    CHECK_THAT(endless.err, Contains("a venue makes its own market (no replay, no candle file), "
                                     "so the backtest needs --duration"));
}

TEST_CASE("a paper session and a backtest of the same candles make the same decisions", "[cli]") {
    // Three days of 1m candles, a sine-shaped walk, and a strategy that trades crossings of a
    // short and a long average.
    keel::test::TempDir dir;
    std::string candles = "timestamp,open,high,low,close,volume\n";
    double close = 100;
    for (int k = 0; k < 3 * 1440; ++k) {
        double open = close;
        close = 100 + 5 * std::sin(k / 90.0) + 2 * std::sin(k / 7.0);
        candles += std::to_string(1'620'000'000 + 60 * k) + "," + std::to_string(open) + "," +
                   std::to_string(std::max(open, close) + 0.05) + "," +
                   std::to_string(std::min(open, close) - 0.05) + "," + std::to_string(close) +
                   ",25\n";
    }
    dir.write("c.csv", candles);
    dir.write("cross.lua", R"(
local fast = keel.indicator.sma("XUSDT", "5m", 3)
local slow = keel.indicator.sma("XUSDT", "5m", 12)
function on_candle(tf, c)
  if not slow:ready() then return end
  local pos = keel.position("XUSDT").qty
  if fast:value() > slow:value() and pos <= 0 then
    keel.order{ instrument = "XUSDT", side = "buy", qty = 1 + math.abs(pos) }
  elseif fast:value() < slow:value() and pos >= 0 then
    keel.order{ instrument = "XUSDT", side = "sell", qty = 1 + math.abs(pos) }
  end
end
)");
    auto cfg = dir.write("c.yaml", R"(venues:
  c: { plugin: candles, settings: { file: c.csv, tick_size: "0.01", lot_size: "0.001" } }
instruments:
  - { symbol: XUSDT, venue: c }
strategies:
  - { name: cross, file: cross.lua, instruments: [XUSDT], timeframes: [5m] }
risk: { max_orders_per_day: off, no_duplicate_entry: false }
)");
    auto paper = run({keel_binary(), "run", cfg.string()});
    auto backtest =
        run({keel_binary(), "backtest", cfg.string(), "--report", (dir.path() / "r").string()});
    REQUIRE(paper.code == 0);
    REQUIRE(backtest.code == 0);
    // The summary, line for line, down to the P&L (the backtest adds its report lines after it).
    auto summary = [](const std::string &out) { return out.substr(0, out.find("backtest:")); };
    CHECK(summary(backtest.out) == summary(paper.out));
    CHECK_THAT(paper.out, Contains("orders    ") && !Contains("orders    0 "));
}

TEST_CASE("keel data check lists every problem; consolidate merges fragments", "[cli]") {
    keel::test::TempDir dir;
    const std::string header = "timestamp,open,high,low,close,volume\n";
    auto bad = dir.write("bad.csv", header +
                                        "1618951200000,1,2,0.5,1.5,10\n"    // 20:40
                                        "1618951260000,1,2,0.5,1.5,10\n"    // 20:41
                                        "1618951320000,1,2,0.5,oops,10\n"   // line 4
                                        "1618951200000,1,2,0.5,1.5,10\n"    // line 5
                                        "1618951380000,1,2,0.5,1.5,10\n"    // 20:43
                                        "1618951620000,1,2,0.5,1.5,10\n");  // 20:47
    auto check = run({keel_binary(), "data", "check", bad.string()});
    CHECK(check.code == 1);
    CHECK_THAT(check.out, Contains("bad.csv:4: bad close 'oops'") &&
                              Contains("bad.csv:5: time goes backwards") &&
                              Contains("4 good rows") &&
                              Contains("every 60 s: 2 bad rows, 2 gaps") &&
                              Contains("gap: 1 candles missing, 2021-04-20 20:42:00 .. "
                                       "2021-04-20 20:42:00") &&
                              Contains("gap: 3 candles missing, 2021-04-20 20:44:00 .. "
                                       "2021-04-20 20:46:00"));
    auto a = dir.write("a.csv", header +
                                    "1618951200000,1,2,0.5,1.5,10\n"
                                    "1618951260000,1,2,0.5,1.5,10\n");
    auto b = dir.write("b.csv", header +
                                    "1618951260000,1,2,0.5,1.5,10\n"
                                    "1618951380000,1.5,2,1,1.75,4\n");
    auto out = dir.path() / "m.csv";
    auto merged = run({keel_binary(), "data", "consolidate", "--out", out.string(), "--fill",
                       "flat", b.string(), a.string()});
    CHECK(merged.code == 0);
    CHECK_THAT(merged.out, Contains("4 candles from 2 files (1 duplicates dropped, 1 gaps, 1 "
                                    "candles filled flat)"));
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text == header +
                      "1618951200000,1,2,0.5,1.5,10\n"
                      "1618951260000,1,2,0.5,1.5,10\n"
                      "1618951320000,1.5,1.5,1.5,1.5,0\n"
                      "1618951380000,1.5,2,1,1.75,4\n");
    auto conflict = dir.write("c.csv", header + "1618951260000,1,2,0.5,1.25,10\n");
    auto refused = run({keel_binary(), "data", "consolidate", "--out", out.string(), a.string(),
                        conflict.string()});
    CHECK(refused.code == 1);
    CHECK_THAT(refused.err, Contains("the candle at 2021-04-20 20:41:00 differs between") &&
                                Contains("a.csv and ") && Contains("c.csv; not merged"));
}

TEST_CASE("keel backtest --data plays another file through the same config", "[cli]") {
    keel::test::TempDir dir;
    const std::string header = "timestamp,open,high,low,close,volume\n";
    dir.write("a.csv", header + "1618951200000,1,2,0.5,1.5,10\n1618951260000,1,2,0.5,1.5,10\n");
    auto b =
        dir.write("b.csv", header + "1700000040000,1,2,0.5,1.5,10\n1700000100000,1,2,0.5,1.5,10\n");
    auto cfg = dir.write("c.yaml", R"(venues:
  c: { plugin: candles, settings: { file: a.csv } }
instruments:
  - { symbol: XUSDT, venue: c }
)");
    auto report = dir.path() / "r";
    auto r = run({keel_binary(), "backtest", cfg.string(), "--data", b.string(), "--report",
                  report.string()});
    REQUIRE(r.code == 0);
    std::ifstream in(report / "report.json");
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK_THAT(json, Contains("\"end\":\"2023-11-14T22:15:45.000Z\""));  // b.csv's, not a.csv's
    auto wrong = run({keel_binary(), "backtest", cfg.string(), "--data", "x=" + b.string()});
    CHECK(wrong.code == 1);
    CHECK_THAT(wrong.err, Contains("no venue \"x\" with a recording or a candle file"));
}

TEST_CASE("keel check accepts the default deployment", "[cli]") {
    auto r = run({keel_binary(), "check", paper_yaml()});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Contains("paper.yaml: ok (1 venues, 3 instruments, 1 strategies"));
}

TEST_CASE("keel check reports a config error and exits non-zero", "[cli]") {
    TempDir dir;
    auto file = dir.write("bad.yaml", R"(mode: paper
venues:
  sim: { plugin: sim }
instruments:
  - { symbol: BTCUSDT, venue: sim }
risk:
  max_order_notionl: 100
)");
    auto r = run({keel_binary(), "check", file.string()});
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Contains("bad.yaml:7:3: risk.max_order_notionl: unknown key") &&
                          Contains("did you mean \"max_order_notional\""));
}

TEST_CASE("keel check reports bad input without crashing", "[cli]") {
    TempDir dir;
    SECTION("an empty file") {
        auto file = dir.write("empty.yaml", "");
        auto r = run({keel_binary(), "check", file.string()});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("empty.yaml: the file is empty"));
    }
    SECTION("a missing file") {
        auto r = run({keel_binary(), "check", (dir.path() / "nope.yaml").string()});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("nope.yaml: cannot read config file"));
    }
    SECTION("a plugin that is not a keel plugin") {
        dir.write("fake.so", "not a library");
        auto file = dir.write("fake.yaml", R"(venues:
  fake: { plugin: ./fake.so }
instruments:
  - { symbol: BTCUSDT, venue: fake }
)");
        auto r = run({keel_binary(), "check", file.string()});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("fake.so: cannot be loaded as a shared library"));
    }
    SECTION("a symbol the venue does not list") {
        auto file = dir.write("sym.yaml", R"(venues:
  sim: { plugin: sim }
instruments:
  - { symbol: DOGEUSDT, venue: sim }
)");
        auto r = run({keel_binary(), "check", file.string()});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("venues.sim: cannot subscribe DOGEUSDT"));
    }
    SECTION("a Lua syntax error") {
        dir.write("bad.lua", "function on_book(\n");
        auto file = dir.write("lua.yaml", R"(venues:
  sim: { plugin: sim }
instruments:
  - { symbol: BTCUSDT, venue: sim }
strategies:
  - { name: bad, file: bad.lua, instruments: [BTCUSDT] }
)");
        auto r = run({keel_binary(), "check", file.string()});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("error: strategy:") && Contains("bad.lua:2:"));
    }
}

TEST_CASE("keel run stops after --duration and prints the summary", "[cli][slow]") {
    auto r = run({keel_binary(), "run", paper_yaml(), "--duration", "2s"}, 60s);
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Contains("keel session summary") && Contains("events    book ") &&
                          Contains("orders ") && Contains("vetoes ") && Contains("P&L "));
    CHECK(r.out.find("events    book 0 ") == std::string::npos);
    CHECK_THAT(r.err, Contains("paper session started") && Contains("paper session stopped"));
}

TEST_CASE("keel run stops cleanly on SIGTERM and SIGINT", "[cli][slow]") {
    for (int sig : {SIGTERM, SIGINT}) {
        Child c({keel_binary(), "run", paper_yaml()});
        REQUIRE(c.wait_for_output("paper session started", 30s));
        c.signal(sig);
        int code = c.wait(30s);
        INFO(c.err());
        CHECK(code == 0);
        CHECK_THAT(c.err(), Contains("received, stopping"));
        CHECK_THAT(c.out(), Contains("keel session summary"));
    }
}

TEST_CASE("SIGUSR2 pulls the kill switch of a running session", "[cli][slow]") {
    Child c({keel_binary(), "run", paper_yaml()});
    REQUIRE(c.wait_for_output("paper session started", 30s));
    c.signal(SIGUSR2);
    REQUIRE(c.wait_for_output("kill switch done", 30s));
    c.signal(SIGTERM);
    int code = c.wait(30s);
    INFO(c.err());
    CHECK(code == 0);
    CHECK_THAT(c.err(), Contains("KILL SWITCH engaged: manual: SIGUSR2 from the operator"));
    CHECK_THAT(c.out(), Contains("state HALTED") && Contains("kill switch 1 engaged, 1 done"));
}

TEST_CASE("a strategy saved under a running session trades its new version within a second",
          "[cli][slow][reload]") {
    TempDir dir;
    auto version = [](int v) {
        return "local placed = false\n"
               "function on_book(inst, book)\n"
               "  if placed then return end\n"
               "  placed = true\n"
               "  local id = keel.order{ instrument = inst, side = 'buy', qty = 0.001 }\n"
               "  keel.log.info('version " +
               std::to_string(v) +
               " ordered ' .. id)\n"
               "end\n"
               "function on_reload(state) keel.log.info('version " +
               std::to_string(v) + " took over') end\n";
    };
    dir.write("live.lua", version(1));
    auto config = dir.write("deploy.yaml", R"(venues:
  sim: { plugin: sim, settings: { seed: 9, tick_ms: 50 } }
instruments:
  - { symbol: BTCUSDT, venue: sim }
strategies:
  - { name: live, file: live.lua, instruments: [BTCUSDT] }
)");
    Child c({keel_binary(), "run", config.string()});
    REQUIRE(c.wait_for_output("version 1 ordered", 30s));
    auto saved = std::chrono::steady_clock::now();
    dir.write("live.lua", version(2));  // as an editor saves it: truncate and write in place
    REQUIRE(c.wait_for_output("version 2 ordered", 5s));
    auto live_after = std::chrono::steady_clock::now() - saved;
    INFO(c.err());
    CHECK(live_after < 1s);
    CHECK_THAT(c.err(), Contains("[live] reloaded in") && Contains("version 2 took over"));

    // A save with a syntax error is reported with file:line, and version 2 goes on.
    dir.write("live.lua", "function on_book(inst, book)\n  x = = 1\nend\n");
    REQUIRE(c.wait_for_output("reload failed", 5s));
    CHECK_THAT(c.err(), Contains("live.lua:2:"));
    c.signal(SIGTERM);
    CHECK(c.wait(30s) == 0);
    CHECK_THAT(c.out(), Contains("reloads 1 (1 failed)"));
}

TEST_CASE("the watchdog alerts when a jit: true strategy cannot be stopped", "[cli][slow]") {
    // The documented limit of jit: true: compiled code has no time budget. keel cannot stop it,
    // but it must say so loudly rather than freeze in silence.
    TempDir dir;
    dir.write("spin.lua", "function on_book(inst, book) while true do end end\n");
    auto config = dir.write("deploy.yaml", R"(venues:
  sim: { plugin: sim }
instruments:
  - { symbol: BTCUSDT, venue: sim }
strategies:
  - { name: spin, file: spin.lua, instruments: [BTCUSDT], jit: true }
)");
    Child c({keel_binary(), "run", config.string()});
    bool alerted = c.wait_for_output("watchdog: spin has been inside one callback", 15s);
    INFO(c.err());
    CHECK(alerted);
    CHECK_THAT(c.err(), Contains("restart keel"));
    c.signal(SIGKILL);
    c.wait(10s);
}

TEST_CASE("keel run writes JSON log lines on request", "[cli][slow]") {
    auto r =
        run({keel_binary(), "run", paper_yaml(), "--duration", "1s", "--log-format", "json"}, 60s);
    REQUIRE(r.code == 0);
    // Every log line on stderr is a JSON object; notifier lines go to stderr too, so look at
    // the ones that carry a component.
    size_t json_lines = 0;
    std::istringstream lines(r.err);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("{\"ts\":\"", 0) != 0) continue;
        ++json_lines;
        CHECK_THAT(line, Contains("\"level\":\"") && Contains("\"component\":\"") &&
                             Contains("\"msg\":\""));
        CHECK(line.back() == '}');
    }
    CHECK(json_lines >= 3);
}

TEST_CASE("keel plugin prints a plugin's settings reference", "[cli]") {
    auto sim = run({keel_binary(), "plugin", "sim"});
    INFO(sim.err);
    REQUIRE(sim.code == 0);
    CHECK_THAT(sim.out, Contains("sim 0.1.0: exchange plugin") &&
                            Contains("capabilities: l2_book, trades, synthetic"));
    CHECK_THAT(sim.out, Contains("seed") && Contains("integer") && Contains("default 42"));
    auto console = run({keel_binary(), "plugin", "console"});
    REQUIRE(console.code == 0);
    CHECK_THAT(console.out, Contains("console 0.1.0: notifier plugin") && Contains("min_level"));
    auto secret =
        run({keel_binary(), "plugin", std::string(KEEL_TEST_PLUGIN_DIR) + "/with_secret.so"});
    REQUIRE(secret.code == 0);
    CHECK_THAT(secret.out, Contains("api_key") && Contains("secret") && Contains("required"));
    auto broken =
        run({keel_binary(), "plugin", std::string(KEEL_TEST_PLUGIN_DIR) + "/bad_magic.so"});
    CHECK(broken.code == 1);
    CHECK_THAT(broken.err, Contains("bad magic"));
    auto missing = run({keel_binary(), "plugin", "nope"});
    CHECK(missing.code == 1);
    CHECK_THAT(missing.err, Contains("no keel-exchange-nope.so or keel-notifier-nope.so found"));
}
