// keel command line: run, check, version.

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "keel/config/config.hpp"
#include "keel/core/time_text.hpp"
#include "keel/engine/engine.hpp"
#include "keel/log/log.hpp"
#include "keel/market/candle_file.hpp"
#include "keel/plugin/loader.hpp"
#include "keel/report/report.hpp"
#include "keel/report/sweep.hpp"
#include "keel/strategy/lua_strategy.hpp"

namespace {

constexpr const char *kUsage = R"(keel — trading host with Lua strategies behind a native risk gate

Usage:
  keel run <config.yaml> [--duration 30s] [--log-format text|json] [--log-level LEVEL]
  keel check <config.yaml> [--log-format text|json] [--log-level LEVEL]
  keel backtest <config.yaml> [--from T] [--to T] [--report DIR] [--sweep S.P=V1,V2 ...]
  keel data check <candle files...>
  keel data consolidate --out FILE [--fill none|flat] <candle files...>
  keel plugin <name|file.so>
  keel version
  keel <command> --help

Commands:
  run      Start a session as configured; stops after --duration or on SIGINT/SIGTERM and
           prints a summary (events, orders, fills, vetoes, P&L).
  check    Validate the config, load every plugin, compile every strategy; change nothing.
  backtest Run the config on the simulated clock (a recording, or the synthetic market for
           --duration) and write report.json and report.html: metrics, trades, equity.
  data     Check candle files (bad rows, duplicates, time going back, gaps), or merge fragments
           into one file.
  plugin   Describe a plugin: kind, version, capabilities and every setting it accepts.
  version  Print keel's version and the plugin ABI version.
)";

constexpr const char *kPluginHelp = R"(Usage: keel plugin <name|file.so>

Loads a plugin, checks it against this keel's ABI and prints what it is and the settings it
accepts (type, default, description): the option reference for its `settings:` block in YAML.
A name ("sim", "console") is looked up as keel-exchange-<name>.so and keel-notifier-<name>.so in
$KEEL_PLUGIN_PATH and <dir of keel>/plugins; a value with a '/' or ending in .so is a file.
)";

constexpr const char *kRunHelp = R"(Usage: keel run <config.yaml> [options]

Starts a session as configured (mode: paper runs on the venue's market with simulated fills).
Stops cleanly after --duration or on SIGINT/SIGTERM, then prints a summary to stdout. A venue
that replays a recording (venues.<name>.replay) or plays candles back (plugin candles) runs the
session on the data's clock, as fast as the machine allows, until the data ends.
SIGUSR2 pulls the kill switch: every order is cancelled, every position flattened through the
risk gate, and trading stays HALTED for the rest of the session (docs/risk.md).
A strategy file saved while the session runs is reloaded at once, keeping the strategy's state
and orders (docs/lua-api.md, "Reload"); SIGHUP reloads every strategy.

Options:
  --duration D        how long to run: 500ms, 30s, 5m, 2h (default: until a signal)
  --log-format F      text (default) or json: one JSON object per line on stderr
  --log-level L       trace, debug, info, warn, error, off (overrides logging.level)
  -h, --help          this help
)";

constexpr const char *kBacktestHelp = R"(Usage: keel backtest <config.yaml> [options]

Runs the deployment on the simulated clock, as fast as the machine allows, through the same
engine, strategies, risk gate and fill simulator as a paper session: a venue with `replay:`
replays its recording to the end; without one, the synthetic market runs for --duration. Then
writes DIR/report.json (for machines) and DIR/report.html (one self-contained page: metrics,
equity and drawdown charts, signals with seed 001's acceptance rule, trades, the config) and
prints the summary. The same inputs give the same bytes. docs/backtest.md.

A sweep (--sweep, repeatable) runs one backtest per combination of the values given, on every
core (--jobs), and writes DIR/sweep.csv and DIR/sweep.json ranked by --rank-by, with the best
runs printed; each run is the same as a backtest with those params in the config.

Options:
  --report DIR        where the report goes (default: reports/<config name>)
  --from T, --to T    the window traded and measured, UTC: 2021-05-01 or 2021-05-01T12:00:00Z;
                      data before --from still warms indicators up, and the run ends at --to
  --sweep S.P=V,...   strategy S's param P over these values (P alone with one strategy)
  --jobs N            sweep threads (default: every core)
  --random N          random search: N combinations drawn from the grid (--seed S, default 1)
  --rank-by M         net (default), return, sharpe, profit_factor, win_rate, max_drawdown
  --win-rate-rule R   the win rate each reward:risk needs, ascending "rr:pct,..." (default
                      seed 001's "2:38,3:30"; below the first, break-even plus 5 points)
  --data [VENUE=]FILE the recording or candle file of a venue, instead of the config's (VENUE
                      may be left out when one venue has data); repeatable
  --walk-forward I,O  with --sweep, --from and --to: windows of I in-sample (the sweep picks
                      the best values) then O out-of-sample (measured with them), stepping by O;
                      writes walk_forward.csv and .json
  --duration D        how much market time to run: 30s, 5m, 2h (required without a replay)
  --log-format F      text (default) or json
  --log-level L       trace, debug, info, warn, error, off
  -h, --help          this help
)";

constexpr const char *kDataHelp = R"(Usage: keel data check <candle files...>
       keel data consolidate --out FILE [--fill none|flat] <candle files...>

check        Reads each file to the end and lists every problem with its line: rows that do not
             parse (text in a number column, missing fields), duplicate times, time going back,
             prices that are not positive, open or close outside low..high; then the gaps (the
             interval is the smallest step between rows). Exit 1 if any row is bad; gaps alone
             are reported but are not errors (exchanges have outages).
consolidate  Merges fragments of one series (overlapping downloads, seed 002) into one CSV file
             (timestamp in ms, open, high, low, close, volume). A candle that two files both have
             is kept once if they agree and is an error naming both if they do not. --fill flat
             fills each gap with flat candles at the previous close and volume 0 (the engine's
             `empty_candles: flat`); --fill none (default) leaves gaps as they are.
Formats: Binance/freqtrade JSON arrays, Kraken OHLC JSON, data.binance.vision kline CSV and
OHLCV CSV with a header (docs/backtest.md).
)";

constexpr const char *kCheckHelp = R"(Usage: keel check <config.yaml> [options]

Validates the config, loads and checks every plugin, validates plugin settings, subscribes the
configured instruments and compiles every strategy. Starts nothing and changes nothing.
Exits 0 when everything is valid, 1 with the error otherwise.

Options:
  --log-format F      text (default) or json
  --log-level L       trace, debug, info, warn, error, off
  -h, --help          this help
)";

struct Options {
    std::string command;
    std::string config;
    std::optional<keel::TimeNs> duration;
    std::optional<std::string> log_format;
    std::optional<std::string> log_level;
    std::optional<std::string> report_dir;
    std::vector<std::string> sweeps;
    keel::TimeNs from = 0, to = 0;
    std::optional<std::pair<keel::TimeNs, keel::TimeNs>> walk_forward;  // in-sample, out
    unsigned jobs = 0;
    size_t random = 0;
    uint64_t seed = 1;
    std::string rank_by = "net";
    keel::report::WinRateRule win_rate_rule = keel::report::kSeed001Rule;
    std::vector<std::string> data;   // --data [venue=]file
    std::vector<std::string> files;  // keel data
    std::optional<std::string> out, fill;
    bool help = false;
};

std::optional<keel::TimeNs> parse_duration(const std::string &text) {
    double value = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (r.ec != std::errc() || value <= 0) return std::nullopt;
    std::string unit(r.ptr, text.data() + text.size());
    double scale = unit == "ms"                  ? 1e6
                   : unit == "s" || unit.empty() ? 1e9
                   : unit == "m"                 ? 60e9
                   : unit == "h"                 ? 3600e9
                   : unit == "d"                 ? 86400e9
                                                 : 0;
    if (scale == 0) return std::nullopt;
    return static_cast<keel::TimeNs>(value * scale);
}

[[noreturn]] void usage_error(const std::string &msg) {
    std::fprintf(stderr, "keel: %s\nRun 'keel --help' for usage.\n", msg.c_str());
    std::exit(2);
}

Options parse(int argc, char **argv) {
    Options o;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto value = [&](const char *flag) {
            if (i + 1 >= args.size()) usage_error(std::string(flag) + " needs a value");
            return args[++i];
        };
        if (a == "-h" || a == "--help")
            o.help = true;
        else if (a == "--duration") {
            auto text = value("--duration");
            o.duration = parse_duration(text);
            if (!o.duration)
                usage_error(
                    "--duration: expected a positive duration like 30s, 5m or 500ms, "
                    "found \"" +
                    text + "\"");
        } else if (a == "--log-format") {
            o.log_format = value("--log-format");
            if (*o.log_format != "text" && *o.log_format != "json")
                usage_error("--log-format: expected text or json, found \"" + *o.log_format + "\"");
        } else if (a == "--log-level") {
            o.log_level = value("--log-level");
        } else if (a == "--report") {
            o.report_dir = value("--report");
        } else if (a == "--from" || a == "--to") {
            auto text = value(a.c_str());
            auto t = keel::parse_utc(text);
            if (!t)
                usage_error(a +
                            ": expected a UTC date like 2021-05-01 or 2021-05-01T12:00:00Z, "
                            "found \"" +
                            text + "\"");
            (a == "--from" ? o.from : o.to) = *t;
        } else if (a == "--walk-forward") {
            auto text = value("--walk-forward");
            auto comma = text.find(',');
            auto in = parse_duration(text.substr(0, comma));
            auto out =
                comma == std::string::npos ? std::nullopt : parse_duration(text.substr(comma + 1));
            if (!in || !out)
                usage_error(
                    "--walk-forward: expected in-sample,out-of-sample durations like "
                    "14d,7d, found \"" +
                    text + "\"");
            o.walk_forward = std::pair{*in, *out};
        } else if (a == "--win-rate-rule") {
            auto text = value("--win-rate-rule");
            auto rule = keel::report::parse_win_rate_rule(text);
            if (!rule)
                usage_error(
                    "--win-rate-rule: expected ascending reward:risk:win-rate-% pairs "
                    "like 2:38,3:30, found \"" +
                    text + "\"");
            o.win_rate_rule = *rule;
        } else if (a == "--data") {
            o.data.push_back(value("--data"));
        } else if (a == "--out") {
            o.out = value("--out");
        } else if (a == "--fill") {
            o.fill = value("--fill");
            if (*o.fill != "none" && *o.fill != "flat")
                usage_error("--fill: expected none or flat, found \"" + *o.fill + "\"");
        } else if (a == "--sweep") {
            o.sweeps.push_back(value("--sweep"));
        } else if (a == "--jobs") {
            auto text = value("--jobs");
            unsigned n = 0;
            auto r = std::from_chars(text.data(), text.data() + text.size(), n);
            if (r.ec != std::errc() || r.ptr != text.data() + text.size() || n == 0 || n > 256)
                usage_error("--jobs: expected a number of threads from 1 to 256, found \"" + text +
                            "\"");
            o.jobs = n;
        } else if (a == "--random" || a == "--seed") {
            auto text = value(a.c_str());
            uint64_t n = 0;
            auto r = std::from_chars(text.data(), text.data() + text.size(), n);
            if (r.ec != std::errc() || r.ptr != text.data() + text.size() ||
                (a == "--random" && n == 0))
                usage_error(a + ": expected a positive whole number, found \"" + text + "\"");
            (a == "--random" ? o.random : o.seed) = n;
        } else if (a == "--rank-by") {
            o.rank_by = value("--rank-by");
            static const char *kRanks[] = {"net",           "return",   "sharpe",
                                           "profit_factor", "win_rate", "max_drawdown"};
            if (std::find(std::begin(kRanks), std::end(kRanks), o.rank_by) == std::end(kRanks))
                usage_error(
                    "--rank-by: expected net, return, sharpe, profit_factor, win_rate or "
                    "max_drawdown, found \"" +
                    o.rank_by + "\"");
        } else if (a.starts_with("-")) {
            usage_error("unknown option " + a);
        } else if (o.command.empty()) {
            o.command = a;
        } else if (o.config.empty()) {
            o.config = a;
        } else if (o.command == "data") {
            o.files.push_back(a);
        } else {
            usage_error("unexpected argument \"" + a + "\"");
        }
    }
    return o;
}

void configure_logging(const Options &o, const keel::config::Logging *cfg) {
    keel::log::Settings s;
    if (cfg) {
        s.level = cfg->level;
        s.format = cfg->format == "json" ? keel::log::Format::json : keel::log::Format::text;
        s.components = cfg->components;
    }
    if (o.log_format)
        s.format = *o.log_format == "json" ? keel::log::Format::json : keel::log::Format::text;
    if (o.log_level) s.level = *o.log_level;
    keel::log::configure(s);
}

// Signals are handled by one thread with sigwait: no work happens in a signal handler.
class SignalWatcher {
  public:
    explicit SignalWatcher(keel::engine::Engine &engine) {
        sigset_t set = signals();
        thread_ = std::thread([this, &engine, set] {
            while (true) {
                int sig = 0;
                if (sigwait(&set, &sig) != 0) continue;
                if (sig == SIGUSR1) {
                    if (done_.load()) return;  // our own wake-up at shutdown
                    continue;                  // someone else's SIGUSR1: not ours to act on
                }
                if (sig == SIGHUP) {  // reload every strategy from its file: kill -HUP <pid>
                    keel::log::get("strategy").info("SIGHUP received: reloading strategies");
                    engine.request(keel::engine::Command::reload, "SIGHUP");
                    continue;
                }
                if (sig == SIGUSR2) {  // the operator's kill switch: kill -USR2 <pid>
                    keel::log::get("risk").warn("SIGUSR2 received: kill switch");
                    engine.request(keel::engine::Command::kill_switch, "SIGUSR2 from the operator");
                    continue;
                }
                keel::log::get("engine").info("{} received, stopping", strsignal(sig));
                engine.request_stop();
            }
        });
    }
    ~SignalWatcher() {
        done_.store(true);
        pthread_kill(thread_.native_handle(), SIGUSR1);
        thread_.join();
    }
    // Blocks the signals in the calling thread and every thread it creates afterwards.
    static void block() {
        sigset_t set = signals();
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
    }

  private:
    static sigset_t signals() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGUSR2);
        sigaddset(&set, SIGHUP);
        return set;
    }
    std::atomic<bool> done_{false};
    std::thread thread_;
};

const char *type_name(uint32_t type) {
    switch (type) {
        case KEEL_CFG_STRING:
            return "string";
        case KEEL_CFG_INT:
            return "integer";
        case KEEL_CFG_DOUBLE:
            return "number";
        case KEEL_CFG_BOOL:
            return "bool";
        case KEEL_CFG_SECRET:
            return "secret";
        case KEEL_CFG_PATH:
            return "path";
        case KEEL_CFG_PATHS:
            return "paths";
        default:
            return "?";
    }
}

int describe_plugin(const Options &o) {
    namespace fs = std::filesystem;
    if (o.config.empty()) usage_error("plugin needs a plugin name or file");
    configure_logging(o, nullptr);
    try {
        const std::string &ref = o.config;
        std::optional<fs::path> file;
        if (ref.find('/') != std::string::npos || ref.ends_with(".so")) {
            file = fs::absolute(ref);
        } else {
            auto search = keel::plugin::default_search_path();
            for (auto kind : {keel::plugin::Kind::exchange, keel::plugin::Kind::notifier}) {
                try {
                    file = keel::plugin::resolve(ref, kind, fs::current_path(), search);
                    break;
                } catch (const keel::plugin::PluginError &) {
                }
            }
            if (!file)
                throw keel::plugin::PluginError("plugin \"" + ref + "\": no keel-exchange-" + ref +
                                                ".so or keel-notifier-" + ref + ".so found");
        }
        auto lib = keel::plugin::Library::open(*file, std::nullopt);
        std::printf("%s %s: %s plugin\n  file: %s\n  %s\n", lib->name().c_str(),
                    lib->version().c_str(), keel::plugin::to_string(lib->kind()), file->c_str(),
                    lib->description().c_str());
        static const std::pair<uint64_t, const char *> caps[] = {
            {KEEL_CAP_L2_BOOK, "l2_book"},     {KEEL_CAP_TRADES, "trades"},
            {KEEL_CAP_SYNTHETIC, "synthetic"}, {KEEL_CAP_FRAMES, "frames"},
            {KEEL_CAP_PLAYBACK, "playback"},   {KEEL_CAP_TRADING, "trading"},
            {KEEL_CAP_ACCOUNT, "account"}};
        if (lib->kind() == keel::plugin::Kind::exchange) {
            std::string names;
            for (auto &[bit, name] : caps)
                if (lib->capabilities() & bit)
                    names += std::string(names.empty() ? "" : ", ") + name;
            std::printf("  capabilities: %s\n", names.empty() ? "none" : names.c_str());
        }
        std::printf("\nsettings:\n");
        if (lib->config_key_count() == 0) std::printf("  (none)\n");
        int name_width = 14;  // the names in one column, however long the longest
        for (uint32_t i = 0; i < lib->config_key_count(); ++i)
            name_width =
                std::max(name_width, static_cast<int>(std::strlen(lib->config_keys()[i].name)));
        for (uint32_t i = 0; i < lib->config_key_count(); ++i) {
            const auto &k = lib->config_keys()[i];
            std::string def = k.default_value ? std::string("default ") + k.default_value
                                              : std::string("required");
            std::printf("  %-*s %-8s %-16s %s\n", name_width, k.name, type_name(k.type),
                        def.c_str(), k.description ? k.description : "");
        }
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

int write_files(const std::filesystem::path &dir,
                std::initializer_list<std::pair<const char *, std::string>> files) {
    for (const auto &[name, text] : files) {
        std::ofstream out(dir / name, std::ios::binary);
        out << text;
        if (!out) {
            std::fprintf(stderr, "error: cannot write %s\n", (dir / name).c_str());
            return 1;
        }
    }
    return 0;
}

int write_report(const Options &o, const keel::config::Config &cfg,
                 const keel::engine::Engine &engine, const keel::engine::Summary &summary) {
    namespace fs = std::filesystem;
    fs::path dir = o.report_dir ? fs::path(*o.report_dir) : fs::path("reports") / cfg.file.stem();
    auto library = keel::report::chart_library_path();
    if (library.empty()) {
        std::fprintf(stderr,
                     "error: the chart library is missing next to keel (share/keel/"
                     "lightweight-charts.js): run scripts/setup and scripts/build\n");
        return 1;
    }
    auto report = keel::report::collect(engine, summary, cfg, o.win_rate_rule);
    auto read = [](const fs::path &p) {
        std::ifstream in(p, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (int rc = write_files(dir, {{"report.json", keel::report::to_json(report)},
                                   {"report.html", keel::report::to_html(report, read(library))}}))
        return rc;
    const auto &m = report.metrics;
    std::printf("backtest: %llu trades, net %+.2f (%+.2f %%), max drawdown %.2f %%\n",
                static_cast<unsigned long long>(m.all.trades), m.all.net, m.return_pct,
                m.max_drawdown_pct);
    std::printf("report: %s and %s\n", (dir / "report.html").c_str(),
                (dir / "report.json").c_str());
    return 0;
}

std::string utc_minute(keel::TimeNs t) {
    return keel::utc_text(t, "%Y-%m-%dT%H:%MZ");
}
std::string utc_second(keel::TimeNs t) {
    return keel::utc_text(t, "%Y-%m-%d %H:%M:%S");
}

int walk_forward(const Options &o, const keel::config::Config &cfg,
                 const std::vector<keel::report::SweepAxis> &axes,
                 const keel::report::SweepOptions &so, const std::filesystem::path &dir) {
    if (!o.from || !o.to) usage_error("--walk-forward needs --from and --to");
    auto [in_len, out_len] = *o.walk_forward;
    auto windows =
        keel::report::run_walk_forward(cfg, axes, so, o.from, o.to, in_len, out_len, o.rank_by);
    if (windows.empty()) {
        std::fprintf(stderr,
                     "error: --from..--to is shorter than one in-sample plus one "
                     "out-of-sample window\n");
        return 1;
    }
    std::string params;
    for (const auto &a : axes) params += "," + a.strategy + "." + a.param;
    std::string csv = "window,in_from,in_to,out_from,out_to" + params +
                      ",in_net,out_trades,out_win_rate,out_net,out_return_pct,out_max_drawdown_pct,"
                      "error\n";
    std::string json = "[\n";
    double total_net = 0;
    uint64_t total_trades = 0;
    for (size_t k = 0; k < windows.size(); ++k) {
        const auto &w = windows[k];
        std::string values, json_values;
        for (size_t a = 0; a < w.best.size(); ++a) {
            values += "," + w.best[a];
            json_values +=
                fmt::format("{}{}:{}", a ? "," : "",
                            keel::log::json_string(axes[a].strategy + "." + axes[a].param),
                            keel::log::json_string(w.best[a]));
        }
        if (w.best.empty())
            for (size_t a = 0; a < axes.size(); ++a) values += ",";
        const auto &in = w.in_sample, &out = w.out_of_sample;
        total_net += out.all.net;
        total_trades += out.all.trades;
        csv += fmt::format("{},{},{},{},{}{},{:.2f},{},{:.4f},{:.2f},{:.4f},{:.4f},{}\n", k + 1,
                           utc_minute(w.in_from), utc_minute(w.in_to), utc_minute(w.out_from),
                           utc_minute(w.out_to), values, in.all.net, out.all.trades,
                           out.all.win_rate, out.all.net, out.return_pct, out.max_drawdown_pct,
                           keel::log::json_string(w.error));
        json += fmt::format(
            "{}{{\"window\":{},\"in\":[\"{}\",\"{}\"],\"out\":[\"{}\",\"{}\"],\"best\":{{{}}},"
            "\"in_net\":{:.6g},\"out_trades\":{},\"out_win_rate\":{:.6g},\"out_net\":{:.6g},"
            "\"out_return_pct\":{:.6g},\"out_max_drawdown_pct\":{:.6g},\"error\":{}}}",
            k ? ",\n" : "", k + 1, utc_minute(w.in_from), utc_minute(w.in_to),
            utc_minute(w.out_from), utc_minute(w.out_to), json_values, in.all.net, out.all.trades,
            out.all.win_rate, out.all.net, out.return_pct, out.max_drawdown_pct,
            keel::log::json_string(w.error));
        std::printf(
            "%2zu in %s..%s best %-20s in-net %+9.2f | out %s..%s trades %3llu net "
            "%+9.2f%s%s\n",
            k + 1, utc_minute(w.in_from).c_str(), utc_minute(w.in_to).c_str(),
            values.empty() ? "" : values.c_str() + 1, in.all.net, utc_minute(w.out_from).c_str(),
            utc_minute(w.out_to).c_str(), static_cast<unsigned long long>(out.all.trades),
            out.all.net, w.error.empty() ? "" : "  error: ", w.error.c_str());
    }
    json += "\n]\n";
    std::printf("walk-forward: %zu windows, out-of-sample %llu trades, net %+.2f\n", windows.size(),
                static_cast<unsigned long long>(total_trades), total_net);
    if (int rc = write_files(dir, {{"walk_forward.csv", csv}, {"walk_forward.json", json}}))
        return rc;
    std::printf("walk-forward: %s and %s\n", (dir / "walk_forward.csv").c_str(),
                (dir / "walk_forward.json").c_str());
    return 0;
}

int sweep(const Options &o, const keel::config::Config &cfg,
          const keel::engine::EngineOptions &options) {
    namespace fs = std::filesystem;
    std::vector<keel::report::SweepAxis> axes;
    for (const auto &text : o.sweeps) axes.push_back(keel::report::parse_axis(text, cfg));
    keel::report::SweepOptions so;
    so.engine = options;
    so.duration = o.duration.value_or(keel::TimeNs{100} * 365 * 86400 * 1'000'000'000);
    so.jobs = o.jobs;
    so.random = o.random;
    so.seed = o.seed;
    // Logs from many engines at once would bury the progress (and contend for the log): errors
    // only, unless --log-level says otherwise.
    if (!o.log_level) {
        keel::log::Settings quiet;
        quiet.level = "error";
        quiet.format =
            cfg.logging.format == "json" ? keel::log::Format::json : keel::log::Format::text;
        keel::log::configure(quiet);
    }
    auto started = std::chrono::steady_clock::now();
    so.progress = [&](size_t done, size_t total) {
        double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        double eta = elapsed / static_cast<double>(done) * static_cast<double>(total - done);
        std::fprintf(stderr, "\rsweep: %zu/%zu runs, %.1f s, ETA %.1f s   ", done, total, elapsed,
                     eta);
        if (done == total) std::fputc('\n', stderr);
    };
    fs::path dir = o.report_dir ? fs::path(*o.report_dir) : fs::path("reports") / cfg.file.stem();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (o.walk_forward) return walk_forward(o, cfg, axes, so, dir);
    auto runs = keel::report::run_sweep(cfg, axes, so);
    auto ranked = keel::report::ranked(runs, o.rank_by);
    std::string header = "rank";
    for (const auto &a : axes) header += "," + a.strategy + "." + a.param;
    header += ",trades,win_rate,net,return_pct,max_drawdown_pct,profit_factor,sharpe,error\n";
    std::string csv = header, json = "[\n";
    auto opt = [](const std::optional<double> &v) {
        return v ? fmt::format("{:.6g}", *v) : std::string("null");
    };
    for (size_t k = 0; k < ranked.size(); ++k) {
        const auto &r = *ranked[k];
        const auto &m = r.metrics;
        std::string values, json_values;
        for (size_t a = 0; a < axes.size(); ++a) {
            values += "," + r.values[a];
            json_values +=
                fmt::format("{}{}:{}", a ? "," : "",
                            keel::log::json_string(axes[a].strategy + "." + axes[a].param),
                            keel::log::json_string(r.values[a]));
        }
        csv +=
            fmt::format("{}{},{},{:.4f},{:.2f},{:.4f},{:.4f},{},{},{}\n", k + 1, values,
                        m.all.trades, m.all.win_rate, m.all.net, m.return_pct, m.max_drawdown_pct,
                        opt(m.all.profit_factor), opt(m.sharpe), keel::log::json_string(r.error));
        json += fmt::format(
            "{}{{\"rank\":{},\"params\":{{{}}},\"trades\":{},\"win_rate\":{:.6g},\"net\":{:.6g},"
            "\"return_pct\":{:.6g},\"max_drawdown_pct\":{:.6g},\"profit_factor\":{},"
            "\"sharpe\":{},\"error\":{}}}",
            k ? ",\n" : "", k + 1, json_values, m.all.trades, m.all.win_rate, m.all.net,
            m.return_pct, m.max_drawdown_pct, opt(m.all.profit_factor), opt(m.sharpe),
            keel::log::json_string(r.error));
        if (k < 20)
            std::printf("%3zu %-30s trades %4llu  win %5.1f %%  net %+10.2f  dd %6.2f %%%s%s\n",
                        k + 1, values.empty() ? "" : values.c_str() + 1,
                        static_cast<unsigned long long>(m.all.trades), 100 * m.all.win_rate,
                        m.all.net, m.max_drawdown_pct,
                        r.error.empty() ? "" : "  error: ", r.error.c_str());
    }
    json += "\n]\n";
    if (int rc = write_files(dir, {{"sweep.csv", csv}, {"sweep.json", json}})) return rc;
    std::printf("sweep: %zu runs ranked by %s in %s and %s\n", runs.size(), o.rank_by.c_str(),
                (dir / "sweep.csv").c_str(), (dir / "sweep.json").c_str());
    return 0;
}

// keel data check|consolidate. `o.config` holds the subcommand.
int data(const Options &o) {
    namespace m = keel::market;
    if (o.config != "check" && o.config != "consolidate")
        usage_error("data: expected check or consolidate");
    if (o.files.empty()) usage_error("data " + o.config + ": name at least one candle file");
    if (o.config == "check") {
        bool bad = false;
        for (const auto &file : o.files) {
            std::vector<m::CandleFileIssue> issues;
            std::vector<m::CandleRow> rows;
            try {
                rows = m::scan_candle_file(file, issues);
            } catch (const std::exception &e) {
                std::printf("%s\n", e.what());
                bad = true;
                continue;
            }
            keel::TimeNs interval = 0;
            auto gaps = m::find_gaps(rows, interval);
            std::printf("%s: %zu good rows", file.c_str(), rows.size());
            if (!rows.empty())
                std::printf(", %s .. %s, every %g s", utc_second(rows.front().open_time).c_str(),
                            utc_second(rows.back().open_time).c_str(),
                            static_cast<double>(interval) / 1e9);
            std::printf(": %zu bad rows, %zu gaps\n", issues.size(), gaps.size());
            for (const auto &i : issues) {
                if (i.line)
                    std::printf("  %s:%zu: %s\n", file.c_str(), i.line, i.what.c_str());
                else
                    std::printf("  %s: %s\n", file.c_str(), i.what.c_str());
            }
            for (const auto &g : gaps) {
                if (g.off_grid)
                    std::printf("  off the grid: a step of %g s from %s to %s\n",
                                static_cast<double>(g.to - g.from + interval) / 1e9,
                                utc_second(g.from - interval).c_str(), utc_second(g.to).c_str());
                else
                    std::printf("  gap: %llu candles missing, %s .. %s\n",
                                static_cast<unsigned long long>(g.missing),
                                utc_second(g.from).c_str(), utc_second(g.to - interval).c_str());
            }
            bad = bad || !issues.empty();
        }
        return bad ? 1 : 0;
    }
    if (!o.out) usage_error("data consolidate needs --out FILE");
    std::vector<m::CandleRow> merged;
    size_t duplicates = 0;
    try {
        merged = m::read_candle_files({o.files.begin(), o.files.end()}, &duplicates);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s; not merged\n", e.what());
        return 1;
    }
    keel::TimeNs interval = 0;
    auto gaps = m::find_gaps(merged, interval);
    std::string csv = "timestamp,open,high,low,close,volume\n";
    size_t filled = 0;
    auto line = [&](keel::TimeNs t, double o_, double h, double l, double c, double v) {
        csv += fmt::format("{},{},{},{},{},{}\n", t / 1'000'000, o_, h, l, c, v);
    };
    for (size_t k = 0; k < merged.size(); ++k) {
        const auto &r = merged[k];
        if (k > 0 && o.fill == std::optional<std::string>("flat")) {
            for (keel::TimeNs t = merged[k - 1].open_time + interval; t < r.open_time;
                 t += interval, ++filled) {
                double c = merged[k - 1].close;
                line(t, c, c, c, c, 0);
            }
        }
        line(r.open_time, r.open, r.high, r.low, r.close, r.volume);
    }
    const std::filesystem::path target(*o.out);
    if (int rc = write_files(target.parent_path(), {{target.filename().c_str(), csv}})) return rc;
    std::printf(
        "%s: %zu candles from %zu files (%zu duplicates dropped, %zu gaps, %zu candles "
        "filled flat)\n",
        o.out->c_str(), merged.size() + filled, o.files.size(), duplicates, gaps.size(), filled);
    return 0;
}

// --data [venue=]file: the recording or candle file of a venue instead of the config's. A path
// on the command line is relative to the working directory.
void apply_data(const Options &o, keel::config::Config &cfg) {
    for (const auto &arg : o.data) {
        auto eq = arg.find('=');
        std::string venue = eq == std::string::npos ? "" : arg.substr(0, eq);
        auto file = std::filesystem::absolute(eq == std::string::npos ? arg : arg.substr(eq + 1));
        auto has_data = [](const keel::config::PluginRef &v) {
            return !v.replay.empty() || v.plugin == "candles";
        };
        if (venue.empty()) {
            for (const auto &[name, v] : cfg.venues) {
                if (!has_data(v)) continue;
                if (!venue.empty())
                    throw keel::config::ConfigError("--data " + arg +
                                                    ": several venues have data; write "
                                                    "venue=file");
                venue = name;
            }
            if (venue.empty())
                throw keel::config::ConfigError("--data " + arg +
                                                ": no venue replays a recording or plays a "
                                                "candle file");
        }
        auto it = cfg.venues.find(venue);
        if (it == cfg.venues.end() || !has_data(it->second))
            throw keel::config::ConfigError("--data " + arg + ": no venue \"" + venue +
                                            "\" with a recording or a candle file");
        if (!std::filesystem::is_regular_file(file))
            throw keel::config::ConfigError("--data " + arg + ": no file " + file.string());
        auto &v = it->second;
        if (!v.replay.empty()) {
            v.replay = file;
        } else {
            keel::config::RawSetting s;
            s.value = file.string();
            s.where = "--data";
            s.key_path = "venues." + venue + ".settings.file";
            v.settings["file"] = s;
        }
    }
}

int run_or_check(const Options &o) {
    if (o.config.empty()) usage_error(o.command + " needs a config file");
    configure_logging(o, nullptr);
    keel::config::Config cfg;
    try {
        cfg = keel::config::load_file(o.config);
        if (!o.data.empty() && o.command != "backtest") usage_error("--data is for keel backtest");
        apply_data(o, cfg);
        configure_logging(o, &cfg.logging);
    } catch (const keel::config::ConfigError &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const std::invalid_argument &e) {  // --log-level
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    try {
        // Recorded data (replayed frames, played-back candles) brings its own clock: the session
        // runs on it, as fast as the machine allows, and ends with the data.
        keel::engine::EngineOptions options;
        bool replays = false;
        for (const auto &[name, venue] : cfg.venues) {
            replays = replays || !venue.replay.empty();
            auto file = keel::plugin::resolve(venue.plugin, keel::plugin::Kind::exchange,
                                              cfg.file.parent_path(), options.plugin_search);
            auto library =
                keel::plugin::Library::open(file, keel::plugin::Kind::exchange, "venues." + name);
            replays = replays || (library->exchange().capabilities & KEEL_CAP_PLAYBACK);
        }
        const bool backtest = o.command == "backtest";
        if (replays || backtest) options.clock = keel::engine::ClockKind::simulated;
        if (backtest) options.watch_strategy_files = false;
        if ((o.from || o.to) && !backtest) usage_error("--from and --to are for keel backtest");
        if (o.from && o.to && o.to <= o.from) usage_error("--to must be after --from");
        options.trade_from = o.from;
        options.trade_until = o.to;

        keel::engine::Engine engine(cfg, options);
        engine.prepare();
        if (backtest && !engine.ends_with_data() && !o.duration) {
            std::fprintf(stderr,
                         "error: %s: a venue makes its own market (no replay, no candle file), "
                         "so the backtest needs --duration (market time)\n",
                         o.config.c_str());
            return 1;
        }
        if (o.command == "check") {
            std::printf("%s: ok (%zu venues, %zu instruments, %zu strategies, %zu notifiers)\n",
                        o.config.c_str(), cfg.venues.size(), cfg.instruments.size(),
                        cfg.strategies.size(), cfg.notifiers.size());
            return 0;
        }
        if (o.walk_forward && o.sweeps.empty()) usage_error("--walk-forward needs --sweep");
        if (backtest && !o.sweeps.empty()) return sweep(o, cfg, options);
        SignalWatcher watcher(engine);
        // Without --duration a session runs until a signal; a century is "until a signal".
        auto duration = o.duration.value_or(keel::TimeNs{100} * 365 * 86400 * 1'000'000'000);
        auto summary = engine.run(duration);
        std::fputs(keel::engine::format_summary(summary).c_str(), stdout);
        std::fflush(stdout);
        if (backtest) return write_report(o, cfg, engine, summary);
        return 0;
    } catch (const keel::config::ConfigError &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
    } catch (const keel::plugin::PluginError &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
    } catch (const keel::strategy::StrategyError &e) {
        std::fprintf(stderr, "error: strategy: %s\n", e.what());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
    }
    return 1;
}

}  // namespace

int main(int argc, char **argv) {
    SignalWatcher::block();
    Options o = parse(argc, argv);
    if (o.command.empty() || o.command == "help") {
        std::fputs(kUsage, o.command.empty() && !o.help ? stderr : stdout);
        return o.command.empty() && !o.help ? 2 : 0;
    }
    if (o.command == "version") {
        if (o.help)
            return std::puts("Usage: keel version\n\nPrints keel's version and plugin ABI."), 0;
        std::printf("keel %s (plugin ABI %u.%u)\n", KEEL_VERSION, KEEL_ABI_MAJOR, KEEL_ABI_MINOR);
        return 0;
    }
    if (o.command == "data") {
        if (o.help) return std::fputs(kDataHelp, stdout), 0;
        return data(o);
    }
    if (o.command == "plugin") {
        if (o.help) return std::fputs(kPluginHelp, stdout), 0;
        return describe_plugin(o);
    }
    if (o.command == "run" || o.command == "check" || o.command == "backtest") {
        if (o.help)
            return std::fputs(o.command == "run"     ? kRunHelp
                              : o.command == "check" ? kCheckHelp
                                                     : kBacktestHelp,
                              stdout),
                   0;
        return run_or_check(o);
    }
    usage_error("unknown command \"" + o.command + "\"");
}
