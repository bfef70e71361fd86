#pragma once
// The backtest report: what a run did (summary, round trips, equity curve, metrics) as JSON for
// machines and as one self-contained HTML page for people (charts by TradingView's
// lightweight-charts, inlined, so the page needs no network). Both are deterministic: the same
// run gives the same bytes. docs/backtest.md.

#include <filesystem>
#include <string>
#include <vector>

#include "keel/engine/engine.hpp"
#include "keel/report/metrics.hpp"

namespace keel::report {

struct TradeRow {
    std::string strategy, instrument, signal;
    bool long_side = true;
    TimeNs opened = 0, closed = 0;
    double qty = 0, entry = 0, exit = 0;  // average prices
    double pnl = 0, fees = 0, net = 0;
    std::optional<double> r;
};

struct BacktestReport {
    std::string name;         // the config file's stem
    std::string config_text;  // the config file as run
    engine::Summary summary;
    std::vector<TradeRow> trades;  // closed round trips, in closing order
    std::vector<EquityPoint> equity;
    Metrics metrics;
};

// Everything the report needs from a finished run.
BacktestReport collect(const engine::Engine &engine, const engine::Summary &summary,
                       const config::Config &config, const WinRateRule &rule = kSeed001Rule);

// "2:38,3:30" (reward:risk, then the win rate in %) -> the rule; nullopt if it is not that.
std::optional<WinRateRule> parse_win_rate_rule(const std::string &text);

std::string to_json(const BacktestReport &r);
// `chart_library` is the text of lightweight-charts' standalone production build.
std::string to_html(const BacktestReport &r, const std::string &chart_library);

// The vendored chart library next to the keel executable (build/share/keel/), or "" if absent.
std::filesystem::path chart_library_path();

}  // namespace keel::report
