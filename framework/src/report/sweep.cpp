#include "keel/report/sweep.hpp"

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

std::vector<SweepRun> run_sweep(const config::Config &config, const std::vector<SweepAxis> &axes,
                                const SweepOptions &options) {
    size_t total = 1;
    for (const auto &a : axes) total *= a.values.size();
    std::vector<SweepRun> runs(total);
    std::atomic<size_t> next{0};
    std::mutex progress_lock;
    size_t done = 0;
    auto work = [&] {
        for (size_t k; (k = next++) < total;) {
            SweepRun &run = runs[k];
            run.index = k;
            config::Config cfg = config;
            // Grid order: the last axis varies fastest.
            size_t rest = k;
            run.values.resize(axes.size());
            for (size_t a = axes.size(); a-- > 0;) {
                const auto &axis = axes[a];
                run.values[a] = axis.values[rest % axis.values.size()];
                rest /= axis.values.size();
                for (auto &s : cfg.strategies) {
                    if (s.name != axis.strategy) continue;
                    config::RawSetting value;
                    value.value = run.values[a];
                    value.where = "--sweep";
                    value.key_path = "strategies." + s.name + ".params." + axis.param;
                    s.params[axis.param] = value;
                }
            }
            try {
                engine::Engine e(cfg, options.engine);
                auto summary = e.run(options.duration);
                run.metrics = collect(e, summary, cfg).metrics;
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
