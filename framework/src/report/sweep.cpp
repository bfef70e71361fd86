#include "keel/report/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "keel/report/report.hpp"

namespace keel::report {

SweepAxis parse_axis(const std::string &text, const config::Config &config) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
        throw config::ConfigError("--sweep " + text +
                                  ": expected strategy.param=v1,v2,... (or param=v1,v2,...)");
    std::string name = text.substr(0, eq);
    SweepAxis axis;
    auto dot = name.find('.');
    if (dot == std::string::npos) {
        if (config.strategies.size() != 1)
            throw config::ConfigError("--sweep " + text + ": the config has " +
                                      std::to_string(config.strategies.size()) +
                                      " strategies; name one as strategy.param");
        axis.strategy = config.strategies[0].name;
        axis.param = name;
    } else {
        axis.strategy = name.substr(0, dot);
        axis.param = name.substr(dot + 1);
    }
    bool known = false;
    for (const auto &s : config.strategies) known = known || s.name == axis.strategy;
    if (!known)
        throw config::ConfigError("--sweep " + text + ": no strategy \"" + axis.strategy + "\"");
    std::string values = text.substr(eq + 1);
    for (size_t b = 0; b <= values.size();) {
        auto e = values.find(',', b);
        if (e == std::string::npos) e = values.size();
        if (e == b) throw config::ConfigError("--sweep " + text + ": an empty value");
        axis.values.push_back(values.substr(b, e - b));
        b = e + 1;
    }
    return axis;
}

namespace {

// `config` with run `index`'s values of the grid in its strategies' params; the values go to
// `values`.
config::Config with_values(const config::Config &config, const std::vector<SweepAxis> &axes,
                           size_t index, std::vector<std::string> &values) {
    config::Config cfg = config;
    // Grid order: the last axis varies fastest.
    size_t rest = index;
    values.resize(axes.size());
    for (size_t a = axes.size(); a-- > 0;) {
        const auto &axis = axes[a];
        values[a] = axis.values[rest % axis.values.size()];
        rest /= axis.values.size();
        for (auto &s : cfg.strategies) {
            if (s.name != axis.strategy) continue;
            config::RawSetting value;
            value.value = values[a];
            value.where = "--sweep";
            value.key_path = "strategies." + s.name + ".params." + axis.param;
            s.params[axis.param] = value;
        }
    }
    return cfg;
}

Metrics backtest(const config::Config &cfg, const engine::EngineOptions &options, TimeNs duration) {
    engine::Engine e(cfg, options);
    auto summary = e.run(duration);
    return collect(e, summary, cfg).metrics;
}

}  // namespace

double rank_score(const Metrics &m, const std::string &by) {
    if (by == "return") return m.return_pct;
    if (by == "sharpe") return m.sharpe.value_or(-1e300);
    if (by == "profit_factor") return m.all.profit_factor.value_or(m.all.losses ? 0 : 1e300);
    if (by == "win_rate") return m.all.win_rate;
    if (by == "max_drawdown") return -m.max_drawdown_pct;
    return m.all.net;
}

std::vector<const SweepRun *> ranked(const std::vector<SweepRun> &runs, const std::string &by) {
    std::vector<const SweepRun *> out;
    for (const auto &r : runs) out.push_back(&r);
    std::stable_sort(out.begin(), out.end(), [&](auto *a, auto *b) {
        if (a->error.empty() != b->error.empty()) return a->error.empty();
        return rank_score(a->metrics, by) > rank_score(b->metrics, by);
    });
    return out;
}

std::vector<WalkForwardWindow> run_walk_forward(const config::Config &config,
                                                const std::vector<SweepAxis> &axes,
                                                const SweepOptions &options, TimeNs from, TimeNs to,
                                                TimeNs in_sample, TimeNs out_of_sample,
                                                const std::string &rank_by) {
    std::vector<WalkForwardWindow> windows;
    for (TimeNs start = from; start + in_sample + out_of_sample <= to; start += out_of_sample) {
        WalkForwardWindow w;
        w.in_from = start;
        w.in_to = w.out_from = start + in_sample;
        w.out_to = w.out_from + out_of_sample;
        SweepOptions in = options;
        in.engine.trade_from = w.in_from;
        in.engine.trade_until = w.in_to;
        auto runs = run_sweep(config, axes, in);
        const SweepRun *best = ranked(runs, rank_by).front();
        if (!best->error.empty()) {
            w.error = best->error;
        } else {
            w.in_sample = best->metrics;
            std::vector<std::string> values;
            auto cfg = with_values(config, axes, best->index, values);
            w.best = values;
            auto out = options.engine;
            out.trade_from = w.out_from;
            out.trade_until = w.out_to;
            try {
                w.out_of_sample = backtest(cfg, out, options.duration);
            } catch (const std::exception &e) {
                w.error = e.what();
            }
        }
        windows.push_back(std::move(w));
    }
    return windows;
}

std::vector<SweepRun> run_sweep(const config::Config &config, const std::vector<SweepAxis> &axes,
                                const SweepOptions &options) {
    size_t grid = 1;
    for (const auto &a : axes) grid *= a.values.size();
    // Which grid indices run: all, or a seeded draw (Fisher-Yates on a splitmix64 stream, so
    // the draw is the same on every machine), kept in grid order.
    std::vector<size_t> chosen(grid);
    for (size_t k = 0; k < grid; ++k) chosen[k] = k;
    if (options.random > 0 && options.random < grid) {
        uint64_t state = options.seed;
        auto next_random = [&] {
            uint64_t z = (state += 0x9E3779B97F4A7C15ull);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            return z ^ (z >> 31);
        };
        for (size_t k = 0; k < options.random; ++k)
            std::swap(chosen[k], chosen[k + next_random() % (grid - k)]);
        chosen.resize(options.random);
        std::sort(chosen.begin(), chosen.end());
    }
    const size_t total = chosen.size();
    std::vector<SweepRun> runs(total);
    std::atomic<size_t> next{0};
    std::mutex progress_lock;
    size_t done = 0;
    auto work = [&] {
        for (size_t k; (k = next++) < total;) {
            SweepRun &run = runs[k];
            run.index = chosen[k];
            try {
                run.metrics = backtest(with_values(config, axes, run.index, run.values),
                                       options.engine, options.duration);
            } catch (const std::exception &err) {
                run.error = err.what();
            }
            if (options.progress) {
                std::lock_guard lock(progress_lock);
                options.progress(++done, total);
            }
        }
    };
    unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < std::min<size_t>(jobs, total); ++t) threads.emplace_back(work);
    work();
    for (auto &t : threads) t.join();
    return runs;
}

}  // namespace keel::report
