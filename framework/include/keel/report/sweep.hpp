#pragma once
// Parameter sweeps: one backtest per combination of strategy parameter values (a grid), run on
// every core, each in an engine of its own, and ranked. docs/backtest.md.

#include <functional>
#include <string>
#include <vector>

#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/report/metrics.hpp"

namespace keel::report {

// One axis of the grid: `strategy`'s parameter `param` takes each of `values` (YAML scalars).
struct SweepAxis {
    std::string strategy, param;
    std::vector<std::string> values;
};

// "rsi_reversal.oversold=25,30,35", or "oversold=25,30" when the config has one strategy.
// Throws config::ConfigError naming what is wrong.
SweepAxis parse_axis(const std::string &text, const config::Config &config);

struct SweepRun {
    size_t index = 0;                 // in the grid: the first axis varies slowest
    std::vector<std::string> values;  // one per axis
    Metrics metrics;
    std::string error;  // the run failed: why (metrics empty)
};

struct SweepOptions {
    engine::EngineOptions engine;  // the clock must be simulated
    TimeNs duration = 0;           // market time per run
    unsigned jobs = 0;             // threads; 0: every core
    // Random search: this many combinations drawn from the grid without repeats (0: all of
    // it), by `seed`; the same seed draws the same ones.
    size_t random = 0;
    uint64_t seed = 1;
    // Called after each run (from the thread that ran it, under a lock): done, total.
    std::function<void(size_t, size_t)> progress;
};

// Runs every combination (or the random draw). Results in grid order; the same inputs give the
// same results whatever
// the number of jobs.
std::vector<SweepRun> run_sweep(const config::Config &config, const std::vector<SweepAxis> &axes,
                                const SweepOptions &options);

// A run's score for ranking, higher is better: net (default), return, sharpe, profit_factor,
// win_rate, max_drawdown (smaller is better, so it counts negative).
double rank_score(const Metrics &m, const std::string &by);
// Grid order of `runs` sorted best first (failed runs last; ties keep grid order).
std::vector<const SweepRun *> ranked(const std::vector<SweepRun> &runs, const std::string &by);

// Walk-forward: from `from`, windows of `in_sample` then `out_of_sample`, stepping by
// `out_of_sample` until `to`. In each, the sweep picks the best values on the in-sample window
// and one backtest measures them on the out-of-sample window that follows, unseen.
struct WalkForwardWindow {
    TimeNs in_from = 0, in_to = 0, out_from = 0, out_to = 0;
    std::vector<std::string> best;  // one per axis
    Metrics in_sample, out_of_sample;
    std::string error;
};
std::vector<WalkForwardWindow> run_walk_forward(const config::Config &config,
                                                const std::vector<SweepAxis> &axes,
                                                const SweepOptions &options, TimeNs from, TimeNs to,
                                                TimeNs in_sample, TimeNs out_of_sample,
                                                const std::string &rank_by);

}  // namespace keel::report
