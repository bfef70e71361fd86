// Candle backtests: a real month of Binance BTCUSDT 1m candles played back as a market by the
// `candles` plugin. The candles a strategy receives must be the file's (the engine builds them
// from the plugin's trades), the session must end with the file, and the report must be the
// same bytes on every run.

#include <catch2/catch.hpp>

#include <cmath>

#include <fmt/format.h>

#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/market/candle_file.hpp"
#include "keel/report/report.hpp"
#include "keel/report/sweep.hpp"
#include "support/engine.hpp"
#include "support/shipped_config.hpp"
#include "support/support.hpp"

using namespace keel;

namespace {

const std::filesystem::path kCandles =
    std::filesystem::path(KEEL_DATA_DIR) / "candles/binance_BTCUSDT_1m_20210420_20210520.json";

// Sums what on_candle saw of the real (not flat) 1m candles, in cents and 1e-5 BTC.
constexpr const char *kCounter = R"(
n, flat, opens, highs, lows, closes, volume = 0, 0, 0, 0, 0, 0, 0
function on_candle(tf, c)
  if c.flat then flat = flat + 1 return end
  n = n + 1
  opens = opens + math.floor(c.open * 100 + 0.5)
  highs = highs + math.floor(c.high * 100 + 0.5)
  lows = lows + math.floor(c.low * 100 + 0.5)
  closes = closes + math.floor(c.close * 100 + 0.5)
  volume = volume + math.floor(c.volume * 1e5 + 0.5)
  if n == 1 then first_time = c.time end
end
)";

config::Config deployment(const test::TempDir &dir, const std::string &strategy_file,
                          const std::string &timeframes, const std::string &file = kCandles) {
    return config::load_file(dir.write("bt.yaml", fmt::format(R"(mode: paper
venues:
  candles:
    plugin: candles
    settings: {{ file: {}, tick_size: "0.01", lot_size: "0.00001" }}
instruments:
  - {{ symbol: BTCUSDT, venue: candles, kind: spot }}
strategies:
  - {{ name: s, file: {}, instruments: [BTCUSDT], timeframes: [{}] }}
)",
                                                              file, strategy_file, timeframes)));
}

}  // namespace

TEST_CASE("a candle file played back gives strategies the file's candles", "[data][backtest]") {
    auto rows = market::read_candle_file(kCandles);
    REQUIRE(rows.size() == 42915);
    int64_t opens = 0, highs = 0, lows = 0, closes = 0, volume = 0;
    for (const auto &r : rows) {
        opens += std::llround(r.open * 100);
        highs += std::llround(r.high * 100);
        lows += std::llround(r.low * 100);
        closes += std::llround(r.close * 100);
        // Rounded onto the 0.00001 lot; at least one lot trades at each of the four points.
        volume += std::max<int64_t>(std::llround(r.volume / 0.00001), 4);
    }
    test::TempDir dir;
    dir.write("count.lua", kCounter);
    auto cfg = deployment(dir, (dir.path() / "count.lua").string(), "1m");
    cfg.notifiers.clear();
    engine::Engine e(cfg, test::simulated());
    auto summary = e.run(TimeNs{100} * 86400 * 1'000'000'000);  // ends with the file
    auto get = [&](const char *g) { return std::stoll(*e.strategy("s")->global_as_string(g)); };
    // Every candle but the last, which closes when the next would open: the file ends first.
    CHECK(get("n") == 42914);
    CHECK(get("flat") == 284);  // the file's one outage, 284 minutes, filled flat
    CHECK(std::stod(*e.strategy("s")->global_as_string("first_time")) ==
          static_cast<double>(rows.front().open_time) / 1e9);
    const auto &last = rows.back();
    CHECK(get("opens") == opens - std::llround(last.open * 100));
    CHECK(get("highs") == highs - std::llround(last.high * 100));
    CHECK(get("lows") == lows - std::llround(last.low * 100));
    CHECK(get("closes") == closes - std::llround(last.close * 100));
    CHECK(get("volume") == volume - std::max<int64_t>(std::llround(last.volume / 0.00001), 4));
    CHECK(summary.market.at(0).rejects.total() == 0);
    // The session ended with the file: the last candle's close is three quarters in.
    CHECK(summary.seconds ==
          Approx(static_cast<double>(last.open_time - rows.front().open_time) / 1e9 + 60));
}

TEST_CASE("configs/backtest-rsi.yaml: seed 001's strategy on candles, the same bytes every run",
          "[data][backtest]") {
    const std::string text = test::shipped_config("backtest-rsi.yaml");
    std::string reports[2];
    for (auto &json : reports) {
        test::TempDir dir;
        auto cfg = config::load_file(dir.write("backtest-rsi.yaml", text));
        cfg.notifiers.clear();
        engine::Engine e(cfg, test::simulated());
        auto summary = e.run(TimeNs{100} * 86400 * 1'000'000'000);
        CHECK(summary.orders > 10);
        auto report = report::collect(e, summary, cfg);
        CHECK(report.trades.size() > 5);
        CHECK(report.metrics.all.trades == report.trades.size());
        // The report's net equals the account's: every round trip closed at the session's end.
        CHECK(report.metrics.all.net == Approx(summary.equity - summary.starting_balance));
        json = report::to_json(report);
    }
    CHECK(reports[0] == reports[1]);
}

TEST_CASE("a sweep on two threads gives each combination's own backtest, in grid order",
          "[data][backtest][sweep]") {
    test::TempDir dir;
    auto cfg = config::load_file(
        dir.write("backtest-rsi.yaml", test::shipped_config("backtest-rsi.yaml")));
    cfg.notifiers.clear();
    cfg.logging.level = "warn";
    std::vector<report::SweepAxis> axes = {report::parse_axis("oversold=25,35", cfg),
                                           report::parse_axis("rsi_reversal.reward_risk=2,3", cfg)};
    report::SweepOptions options;
    options.engine = test::simulated();
    options.duration = TimeNs{100} * 86400 * 1'000'000'000;
    size_t progress = 0;
    options.progress = [&](size_t done, size_t total) {
        CHECK(total == (options.random ? options.random : 4));
        progress = done;
    };
    auto results = [&](unsigned jobs) {
        options.jobs = jobs;
        return report::run_sweep(cfg, axes, options);
    };
    auto two = results(2);
    CHECK(progress == 4);
    auto one = results(1);
    REQUIRE(two.size() == 4);
    const char *expected[4][2] = {{"25", "2"}, {"25", "3"}, {"35", "2"}, {"35", "3"}};
    for (size_t k = 0; k < 4; ++k) {
        INFO("run " << k);
        CHECK(two[k].error.empty());
        CHECK(two[k].values == std::vector<std::string>{expected[k][0], expected[k][1]});
        CHECK(two[k].metrics.all.trades == one[k].metrics.all.trades);
        CHECK(two[k].metrics.all.net == one[k].metrics.all.net);
        CHECK(two[k].metrics.max_drawdown == one[k].metrics.max_drawdown);
    }
    // The parameters reached the strategy: the runs differ.
    CHECK(two[0].metrics.all.net != two[3].metrics.all.net);
    // A random search runs a seeded draw of the grid: distinct combinations, each the same run
    // as in the full grid, and the same draw for the same seed.
    options.random = 2;
    options.seed = 5;
    auto drawn = results(2);
    REQUIRE(drawn.size() == 2);
    CHECK(drawn[0].index < drawn[1].index);
    for (const auto &d : drawn) {
        CHECK(d.values == two[d.index].values);
        CHECK(d.metrics.all.net == two[d.index].metrics.all.net);
    }
    auto again = results(1);
    CHECK(again[0].index == drawn[0].index);
    CHECK(again[1].index == drawn[1].index);
    options.random = 0;
    // And a combination equals a plain backtest with those params in the config.
    auto single = cfg;
    single.strategies[0].params["oversold"].value = "35";
    single.strategies[0].params["reward_risk"].value = "3";
    engine::Engine e(single, test::simulated());
    auto summary = e.run(options.duration);
    CHECK(report::collect(e, summary, single).metrics.all.net == two[3].metrics.all.net);

    CHECK_THROWS_WITH(report::parse_axis("oversold", cfg),
                      Catch::Contains("expected strategy.param=v1,v2"));
    CHECK_THROWS_WITH(report::parse_axis("momentum.n=1,2", cfg),
                      Catch::Contains("no strategy \"momentum\""));
    CHECK_THROWS_WITH(report::parse_axis("oversold=1,,2", cfg), Catch::Contains("an empty value"));
}

TEST_CASE("a backtest window trades and measures only between --from and --to",
          "[data][backtest]") {
    test::TempDir dir;
    auto cfg = config::load_file(
        dir.write("backtest-rsi.yaml", test::shipped_config("backtest-rsi.yaml")));
    cfg.notifiers.clear();
    constexpr TimeNs kDay = TimeNs{86400} * 1'000'000'000;
    const TimeNs from = TimeNs{1'619'827'200} * 1'000'000'000;  // 2021-05-01 00:00 UTC
    const TimeNs to = from + 9 * kDay + kDay / 2;
    auto options = test::simulated();
    options.trade_from = from;
    options.trade_until = to;
    engine::Engine e(cfg, options);
    auto summary = e.run(100 * kDay);
    auto r = report::collect(e, summary, cfg);
    CHECK(r.metrics.start == from);
    CHECK(r.metrics.end == to);
    CHECK(r.metrics.start_equity == 10000);  // nothing traded before the window
    REQUIRE_FALSE(r.trades.empty());
    for (const auto &t : r.trades) {
        CHECK(t.opened >= from);
        CHECK(t.closed <= to);
    }
    // The strategy's indicators warmed up on the eleven days before: it could trade at once.
    CHECK(r.trades.front().opened < from + kDay);
}

TEST_CASE("walk-forward picks each window's best in-sample values and measures them unseen",
          "[data][backtest][sweep]") {
    test::TempDir dir;
    auto cfg = config::load_file(
        dir.write("backtest-rsi.yaml", test::shipped_config("backtest-rsi.yaml")));
    cfg.notifiers.clear();
    cfg.logging.level = "warn";
    constexpr TimeNs kDay = TimeNs{86400} * 1'000'000'000;
    const TimeNs from = TimeNs{1'619'827'200} * 1'000'000'000;  // 2021-05-01
    std::vector<report::SweepAxis> axes = {report::parse_axis("oversold=25,35", cfg)};
    report::SweepOptions options;
    options.engine = test::simulated();
    options.duration = 100 * kDay;
    options.jobs = 2;
    // 10 days: windows of 4 in, 2 out, stepping by 2: starts at days 0, 2, 4.
    auto windows = report::run_walk_forward(cfg, axes, options, from, from + 10 * kDay, 4 * kDay,
                                            2 * kDay, "net");
    REQUIRE(windows.size() == 3);
    for (size_t k = 0; k < windows.size(); ++k) {
        const auto &w = windows[k];
        INFO("window " << k);
        CHECK(w.error.empty());
        CHECK(w.in_from == from + static_cast<TimeNs>(2 * k) * kDay);
        CHECK(w.out_from == w.in_to);
        CHECK(w.out_to == w.out_from + 2 * kDay);
        // The best in-sample run, found again by a sweep of that window alone.
        auto in = options;
        in.engine.trade_from = w.in_from;
        in.engine.trade_until = w.in_to;
        auto runs = report::run_sweep(cfg, axes, in);
        const auto *best = report::ranked(runs, "net").front();
        CHECK(w.best == best->values);
        CHECK(w.in_sample.all.net == best->metrics.all.net);
        // Out of sample: a plain backtest of that window with those values.
        auto chosen = cfg;
        chosen.strategies[0].params["oversold"].value = w.best[0];
        auto out = test::simulated();
        out.trade_from = w.out_from;
        out.trade_until = w.out_to;
        engine::Engine e(chosen, out);
        auto summary = e.run(100 * kDay);
        auto metrics = report::collect(e, summary, chosen).metrics;
        CHECK(w.out_of_sample.all.trades == metrics.all.trades);
        CHECK(w.out_of_sample.all.net == metrics.all.net);
        CHECK(w.out_of_sample.start == w.out_from);
    }
}

TEST_CASE("every shipped backtest config runs on the real candles and trades", "[data][backtest]") {
    for (const char *name :
         {"backtest-rsi.yaml", "backtest-seed-004.yaml", "backtest-lorentzian.yaml"}) {
        DYNAMIC_SECTION(name) {
            test::TempDir dir;
            auto cfg = config::load_file(dir.write(name, test::shipped_config(name)));
            cfg.notifiers.clear();
            cfg.logging.level = "warn";
            engine::Engine e(cfg, test::simulated());
            auto summary = e.run(TimeNs{100} * 86400 * 1'000'000'000);
            auto r = report::collect(e, summary, cfg);
            CHECK(summary.strategy_errors == 0);
            CHECK(summary.faulted_strategies.empty());
            CHECK(r.trades.size() >= 10);
            // Every strategy of the config traded.
            CHECK(r.metrics.by_strategy.size() == cfg.strategies.size());
            // The trades add up to the account: their net plus funding (which is the
            // account's, not a trade's) is the change in equity, every position being closed.
            for (const auto &p : summary.positions) CHECK(p.qty == 0);
            CHECK(r.metrics.all.net + summary.funding ==
                  Approx(summary.equity - summary.starting_balance).margin(1e-6));
        }
    }
}

TEST_CASE("several candle files of one instrument play as one series", "[data][backtest]") {
    // The real month cut into three CSV files whose edges overlap by ten candles.
    const auto rows = market::read_candle_file(kCandles);
    test::TempDir dir;
    auto write_part = [&](const char *name, size_t from, size_t to, double nudge = 0) {
        std::string csv = "timestamp,open,high,low,close,volume\n";
        for (size_t k = from; k < to; ++k) {
            const auto &r = rows[k];
            csv += fmt::format("{},{},{},{},{},{}\n", r.open_time / 1'000'000, r.open, r.high,
                               r.low, r.close + (k == from ? nudge : 0), r.volume);
        }
        return dir.write(name, csv);
    };
    write_part("part-1.csv", 0, 15000);
    write_part("part-2.csv", 14990, 30000);
    write_part("part-3.csv", 29990, rows.size());
    dir.write("count.lua", kCounter);
    const std::string script = (dir.path() / "count.lua").string();
    auto globals = [&](const std::string &file) {
        auto cfg = deployment(dir, script, "1m", file);
        cfg.notifiers.clear();
        engine::Engine e(cfg, test::simulated());
        e.run(TimeNs{100} * 86400 * 1'000'000'000);
        std::string all;
        for (const char *g : {"n", "flat", "opens", "highs", "lows", "closes", "volume"})
            all += std::string(g) + "=" + *e.strategy("s")->global_as_string(g) + " ";
        return all;
    };
    const std::string whole = globals(kCandles.string());
    CHECK_THAT(whole, Catch::Matchers::StartsWith("n=42914 flat=284 "));
    SECTION("a pattern") {
        CHECK(globals((dir.path() / "part-*.csv").string()) == whole);
    }
    SECTION("a list, in any order") {
        CHECK(globals("\"part-3.csv, part-1.csv, part-2.csv\"") == whole);
    }
    SECTION("files that disagree on a candle they share are refused, naming both") {
        write_part("part-2.csv", 14990, 30000, 0.01);  // its first candle's close differs
        try {
            globals("part-*.csv");
            FAIL("two files disagreeing on a candle were merged");
        } catch (const std::exception &e) {
            CHECK_THAT(e.what(), Catch::Matchers::Contains("differs between") &&
                                     Catch::Matchers::Contains("part-1.csv and ") &&
                                     Catch::Matchers::Contains("part-2.csv"));
        }
    }
    SECTION("a pattern that matches nothing") {
        CHECK_THROWS_WITH(globals("month-*.csv"),
                          Catch::Matchers::Contains("settings.file: pattern ") &&
                              Catch::Matchers::Contains("month-*.csv matches no file"));
    }
}
