#include "keel/report/report.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "keel/core/time_text.hpp"
#include "keel/log/log.hpp"

namespace keel::report {

namespace {

// "2024-08-08T23:54:15.123Z"
std::string iso(TimeNs t) {
    return fmt::format("{}.{:03}Z", utc_text(t, "%Y-%m-%dT%H:%M:%S"), (t / 1'000'000) % 1000);
}

// Numbers as JSON: finite ones with 10 significant digits, the rest null.
std::string num(double v) {
    if (!std::isfinite(v)) return "null";
    if (v == 0) return "0";  // no "-0"
    return fmt::format("{:.10g}", v);
}
std::string num(const std::optional<double> &v) {
    return v ? num(*v) : "null";
}

std::string stats_json(const TradeStats &s) {
    return fmt::format(
        R"({{"trades":{},"wins":{},"losses":{},"win_rate":{},"net":{},"gross_profit":{},)"
        R"("gross_loss":{},"fees":{},"profit_factor":{},"expectancy":{},"avg_win":{},)"
        R"("avg_loss":{},"reward_risk":{},"avg_r":{},"required_win_rate":{},"accepted":{}}})",
        s.trades, s.wins, s.losses, num(s.win_rate), num(s.net), num(s.gross_profit),
        num(s.gross_loss), num(s.fees), num(s.profit_factor), num(s.expectancy), num(s.avg_win),
        num(s.avg_loss), num(s.reward_risk), num(s.avg_r), num(s.required_win_rate),
        s.accepted ? "true" : "false");
}

std::string html_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string fixed(const std::optional<double> &v, int decimals, const char *suffix = "") {
    if (!v || !std::isfinite(*v)) return "–";
    return fmt::format("{:.{}f}{}", *v, decimals, suffix);
}

std::string duration_text(TimeNs ns) {
    double s = static_cast<double>(ns) / 1e9;
    if (s < 120) return fmt::format("{:.0f} s", s);
    if (s < 7200) return fmt::format("{:.1f} min", s / 60);
    if (s < 172800) return fmt::format("{:.1f} h", s / 3600);
    return fmt::format("{:.1f} days", s / 86400);
}

}  // namespace

std::optional<WinRateRule> parse_win_rate_rule(const std::string &text) {
    WinRateRule rule;
    size_t begin = 0;
    while (begin <= text.size()) {
        size_t end = text.find(',', begin);
        if (end == std::string::npos) end = text.size();
        std::string item = text.substr(begin, end - begin);
        auto colon = item.find(':');
        if (colon == std::string::npos) return std::nullopt;
        char *stop = nullptr;
        double rr = std::strtod(item.c_str(), &stop);
        if (stop != item.c_str() + colon) return std::nullopt;
        double pct = std::strtod(item.c_str() + colon + 1, &stop);
        if (*stop != 0 || !(rr > 0) || !(pct > 0 && pct < 100)) return std::nullopt;
        if (!rule.empty() && rr <= rule.back().first) return std::nullopt;  // ascending
        rule.emplace_back(rr, pct / 100);
        begin = end + 1;
    }
    if (rule.empty()) return std::nullopt;
    return rule;
}

BacktestReport collect(const engine::Engine &engine, const engine::Summary &summary,
                       const config::Config &config, const WinRateRule &rule) {
    BacktestReport r;
    r.name = config.file.stem().string();
    std::ifstream in(config.file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    r.config_text = text.str();
    r.summary = summary;
    r.equity = engine.equity_curve();
    const auto &journal = engine.journal();
    std::vector<TradeResult> results;
    for (const auto &t : journal.closed()) {
        const auto &spec = journal.spec(t.instrument);
        TradeRow row;
        row.strategy =
            t.strategy < config.strategies.size() ? config.strategies[t.strategy].name : "host";
        row.instrument = spec.id;
        row.signal = t.signal;
        row.long_side = t.long_side;
        row.opened = t.opened;
        row.closed = t.closed;
        row.qty = spec.qty(t.max_qty);
        row.entry = t.entry_value.to_double() / spec.qty(t.entry_qty);
        row.exit = t.exit_value.to_double() / spec.qty(t.exit_qty);
        row.pnl = t.pnl.to_double();
        row.fees = t.fees.to_double();
        row.net = t.net().to_double();
        row.r = journal.r_multiple(t);
        results.push_back({row.strategy, row.signal, row.net, row.fees, row.r});
        r.trades.push_back(std::move(row));
    }
    r.metrics = compute_metrics(results, r.equity, engine.traded_value(), summary.fees,
                                summary.funding, rule);
    return r;
}

std::string to_json(const BacktestReport &r) {
    const auto &m = r.metrics;
    const auto &s = r.summary;
    std::string out = "{\n";
    out += fmt::format(R"("keel_backtest":1,"name":{},)", log::json_string(r.name)) + "\n";
    out += fmt::format(R"("period":{{"start":"{}","end":"{}","seconds":{}}},)", iso(m.start),
                       iso(m.end), num(static_cast<double>(m.end - m.start) / 1e9)) +
           "\n";
    std::string vetoes;
    for (const auto &[reason, n] : s.vetoes_by_reason)
        vetoes += fmt::format("{}{}:{}", vetoes.empty() ? "" : ",", log::json_string(reason), n);
    out += fmt::format(R"("summary":{{"book_events":{},"trade_events":{},"frames":{},"orders":{},)"
                       R"("fills":{},"cancels":{},"vetoes":{},"vetoes_by_reason":{{{}}},)"
                       R"("strategy_errors":{},"trading_state":{}}},)",
                       s.book_events, s.trade_events, s.frames, s.orders, s.fills, s.cancels,
                       s.vetoes, vetoes, s.strategy_errors, log::json_string(s.trading_state)) +
           "\n";
    auto groups = [](const std::map<std::string, TradeStats> &g) {
        std::string o;
        for (const auto &[k, v] : g)
            o += fmt::format("{}{}:{}", o.empty() ? "" : ",", log::json_string(k), stats_json(v));
        return "{" + o + "}";
    };
    out += fmt::format(
               R"("metrics":{{"start_equity":{},"end_equity":{},"return_pct":{},"cagr_pct":{},)"
               R"("sharpe":{},"sortino":{},"calmar":{},"max_drawdown":{},"max_drawdown_pct":{},)"
               R"("max_drawdown_seconds":{},"exposure_pct":{},"turnover":{},"fees":{},)"
               R"("funding":{},"all":{},"by_strategy":{},"by_signal":{}}},)",
               num(m.start_equity), num(m.end_equity), num(m.return_pct), num(m.cagr_pct),
               num(m.sharpe), num(m.sortino), num(m.calmar), num(m.max_drawdown),
               num(m.max_drawdown_pct), num(static_cast<double>(m.max_drawdown_duration) / 1e9),
               num(m.exposure_pct), num(m.turnover), num(m.fees), num(m.funding), stats_json(m.all),
               groups(m.by_strategy), groups(m.by_signal)) +
           "\n";
    out += "\"trades\":[";
    for (size_t k = 0; k < r.trades.size(); ++k) {
        const auto &t = r.trades[k];
        out += fmt::format(
            R"({}{{"strategy":{},"instrument":{},"signal":{},"side":"{}","opened":"{}",)"
            R"("closed":"{}","qty":{},"entry":{},"exit":{},"pnl":{},"fees":{},"net":{},"r":{}}})",
            k ? ",\n" : "\n", log::json_string(t.strategy), log::json_string(t.instrument),
            log::json_string(t.signal), t.long_side ? "long" : "short", iso(t.opened),
            iso(t.closed), num(t.qty), num(t.entry), num(t.exit), num(t.pnl), num(t.fees),
            num(t.net), num(t.r));
    }
    out += "],\n\"equity\":[";
    for (size_t k = 0; k < r.equity.size(); ++k)
        out += fmt::format("{}[{},{},{}]", k ? "," : "", r.equity[k].t / 1'000'000,
                           num(r.equity[k].equity), r.equity[k].in_market ? 1 : 0);
    out += "],\n\"config\":" + log::json_string(r.config_text) + "\n}\n";
    return out;
}

std::string to_html(const BacktestReport &r, const std::string &chart_library) {
    const auto &m = r.metrics;
    std::string rows;
    auto row = [&](const char *label, const std::string &value) {
        rows += fmt::format("<tr><th>{}</th><td>{}</td></tr>", label, html_escape(value));
    };
    row("Period", iso(m.start) + " to " + iso(m.end) + " (" + duration_text(m.end - m.start) + ")");
    row("Equity",
        fmt::format("{:.2f} → {:.2f} ({:+.2f} %)", m.start_equity, m.end_equity, m.return_pct));
    row("Trades", fmt::format("{} ({} won, {} lost, win rate {:.1f} %)", m.all.trades, m.all.wins,
                              m.all.losses, 100 * m.all.win_rate));
    row("Profit factor", fixed(m.all.profit_factor, 2));
    row("Expectancy", fmt::format("{:.2f} per trade", m.all.expectancy));
    row("Max drawdown", fmt::format("{:.2f} ({:.2f} %), {} below a peak at most", m.max_drawdown,
                                    m.max_drawdown_pct, duration_text(m.max_drawdown_duration)));
    row("Sharpe / Sortino / Calmar",
        fixed(m.sharpe, 2) + " / " + fixed(m.sortino, 2) + " / " + fixed(m.calmar, 2));
    row("CAGR", fixed(m.cagr_pct, 2, " %"));
    row("Exposure / turnover", fmt::format("{:.1f} % / {:.2f}x", m.exposure_pct, m.turnover));
    row("Fees / funding", fmt::format("{:.2f} / {:+.2f}", m.fees, m.funding));
    row("Orders / fills / vetoes",
        fmt::format("{} / {} / {}", r.summary.orders, r.summary.fills, r.summary.vetoes));

    std::string signals;
    for (const auto &[name, st] : m.by_signal)
        signals += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{:.1f} %</td><td>{}</td><td>{}</td><td>{:.2f}</td>"
            "<td>{}</td><td>{}</td></tr>",
            html_escape(name.empty() ? "(untagged)" : name), st.trades, 100 * st.win_rate,
            fixed(st.reward_risk, 2), fixed(st.avg_r, 2), st.net,
            st.required_win_rate ? fmt::format("{:.1f} %", 100 * *st.required_win_rate) : "–",
            st.accepted ? "accepted" : "<b>rejected</b>");
    std::string trades;
    for (const auto &t : r.trades)
        trades += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:g}</td>"
            "<td>{:g}</td><td>{:g}</td><td>{:.2f}</td><td>{:.2f}</td><td>{}</td></tr>",
            iso(t.opened), iso(t.closed), html_escape(t.strategy), html_escape(t.instrument),
            html_escape(t.signal), t.long_side ? "long" : "short", t.qty, t.entry, t.exit, t.fees,
            t.net, fixed(t.r, 2));

    // The curve for the charts, one point per second (the chart's time unit), the last wins.
    std::string curve;
    for (size_t k = 0; k < r.equity.size(); ++k) {
        TimeNs sec = r.equity[k].t / 1'000'000'000;
        if (k + 1 < r.equity.size() && r.equity[k + 1].t / 1'000'000'000 == sec) continue;
        curve += fmt::format("{}[{},{}]", curve.empty() ? "" : ",", sec, num(r.equity[k].equity));
    }
    // Inside <script>, "</" would end the element.
    std::string library = chart_library;
    for (size_t p = 0; (p = library.find("</", p)) != std::string::npos; p += 3)
        library.replace(p, 2, "<\\/");

    return fmt::format(R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>keel backtest: {name}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1b1f24; }}
table {{ border-collapse: collapse; margin: 8px 0 24px; }}
th, td {{ border-bottom: 1px solid #dde; padding: 4px 10px; text-align: left; }}
.chart {{ width: 100%; max-width: 1100px; height: 300px; margin-bottom: 24px; }}
pre {{ background: #f6f8fa; padding: 12px; overflow: auto; }}
</style></head><body>
<h1>keel backtest: {name}</h1>
<table id="metrics">{rows}</table>
<h2>Equity</h2><div id="equity" class="chart"></div>
<h2>Drawdown</h2><div id="drawdown" class="chart"></div>
<h2>Signals</h2>
<table id="signals"><tr><th>Signal</th><th>Trades</th><th>Win rate</th><th>Reward:risk</th>
<th>Avg R</th><th>Net</th><th>Needs (seed 001)</th><th>Verdict</th></tr>{signals}</table>
<h2>Trades</h2>
<table id="trades"><tr><th>Opened</th><th>Closed</th><th>Strategy</th><th>Instrument</th>
<th>Signal</th><th>Side</th><th>Qty</th><th>Entry</th><th>Exit</th><th>Fees</th><th>Net</th>
<th>R</th></tr>{trades}</table>
<h2>Config</h2><pre>{config}</pre>
<script>{library}</script>
<script>
const curve = [{curve}];
const options = {{ autoSize: true, timeScale: {{ timeVisible: true, secondsVisible: true }} }};
const equity = LightweightCharts.createChart(document.getElementById('equity'), options);
equity.addSeries(LightweightCharts.LineSeries, {{ color: '#2962ff', lineWidth: 2 }})
  .setData(curve.map(([t, v]) => ({{ time: t, value: v }})));
let peak = -Infinity;
const drawdown = LightweightCharts.createChart(document.getElementById('drawdown'), options);
drawdown.addSeries(LightweightCharts.BaselineSeries, {{ baseValue: {{ type: 'price', price: 0 }},
  bottomLineColor: '#d32f2f', bottomFillColor1: 'rgba(211,47,47,0.05)',
  bottomFillColor2: 'rgba(211,47,47,0.4)' }})
  .setData(curve.map(([t, v]) => {{ peak = Math.max(peak, v);
    return {{ time: t, value: peak > 0 ? 100 * (v / peak - 1) : 0 }}; }}));
equity.timeScale().fitContent();
drawdown.timeScale().fitContent();
</script>
</body></html>
)",
                       fmt::arg("name", html_escape(r.name)), fmt::arg("rows", rows),
                       fmt::arg("signals", signals), fmt::arg("trades", trades),
                       fmt::arg("config", html_escape(r.config_text)), fmt::arg("library", library),
                       fmt::arg("curve", curve));
}

std::filesystem::path chart_library_path() {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return {};
    exe[n] = 0;
    auto p = std::filesystem::path(exe).parent_path() / "share/keel/lightweight-charts.js";
    std::error_code ec;
    return std::filesystem::exists(p, ec) ? p : std::filesystem::path{};
}

}  // namespace keel::report
