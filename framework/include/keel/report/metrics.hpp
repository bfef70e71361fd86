#pragma once
// Backtest metrics from closed trades and the equity curve. Definitions (docs/backtest.md):
// a win is a trade with net P&L > 0, a loss one with net < 0 (a net of exactly 0 is neither);
// Sharpe and Sortino use daily returns (UTC days) annualised by sqrt(365) and need two full
// days; CAGR and Calmar need a session of at least a day; drawdowns are measured on the equity
// curve, which the engine samples every minute and after every fill.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keel/core/types.hpp"

namespace keel::report {

struct EquityPoint {
    TimeNs t = 0;
    double equity = 0;
    bool in_market = false;  // any position open at t
};

// One trade as the metrics need it.
struct TradeResult {
    std::string strategy, signal;
    double net = 0;  // P&L after fees, quote currency
    double fees = 0;
    std::optional<double> r;  // R multiple, if the trade had a stop
};

struct TradeStats {
    uint64_t trades = 0, wins = 0, losses = 0;
    double win_rate = 0;  // wins / trades
    double net = 0, gross_profit = 0, gross_loss = 0, fees = 0;
    std::optional<double> profit_factor;  // gross profit / gross loss; none without a loss
    double expectancy = 0;                // mean net per trade
    double avg_win = 0, avg_loss = 0;     // avg_loss <= 0
    std::optional<double> reward_risk;    // avg win / |avg loss|
    std::optional<double> avg_r;          // mean R of the trades that had a stop
    // Seed 001's acceptance rule: the win rate this reward:risk needs, and whether it has it.
    std::optional<double> required_win_rate;
    bool accepted = false;
};

// Seed 001: 38 % at 2:1 and 30 % at 3:1. A reward:risk uses the entry with the largest ratio not
// above it; below every entry it needs break-even plus 5 points, 1 / (1 + rr) + 0.05.
using WinRateRule = std::vector<std::pair<double, double>>;  // (reward:risk, win rate), ascending
inline const WinRateRule kSeed001Rule = {{2.0, 0.38}, {3.0, 0.30}};
double required_win_rate(double reward_risk, const WinRateRule &rule = kSeed001Rule);

TradeStats trade_stats(const std::vector<const TradeResult *> &trades,
                       const WinRateRule &rule = kSeed001Rule);

struct Metrics {
    TradeStats all;
    std::map<std::string, TradeStats> by_strategy, by_signal;
    double start_equity = 0, end_equity = 0, return_pct = 0;
    TimeNs start = 0, end = 0;
    std::optional<double> cagr_pct, sharpe, sortino, calmar;
    double max_drawdown_pct = 0, max_drawdown = 0;  // from a peak, in % of it and in quote
    TimeNs max_drawdown_duration = 0;               // longest time below a previous peak
    double exposure_pct = 0;                        // share of the time with a position open
    double turnover = 0;                            // traded value / starting equity
    double fees = 0, funding = 0;
};

// `curve` in time order, its first point the start; `traded_value` is the sum of every fill's
// value. `fees` and `funding` are the account's totals.
Metrics compute_metrics(const std::vector<TradeResult> &trades,
                        const std::vector<EquityPoint> &curve, double traded_value, double fees,
                        double funding, const WinRateRule &rule = kSeed001Rule);

}  // namespace keel::report
