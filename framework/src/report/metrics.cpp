#include "keel/report/metrics.hpp"

#include <algorithm>
#include <cmath>

namespace keel::report {

namespace {
constexpr TimeNs kDay = TimeNs{86400} * 1'000'000'000;
constexpr double kDaysPerYear = 365;
}  // namespace

double required_win_rate(double reward_risk, const WinRateRule &rule) {
    const std::pair<double, double> *best = nullptr;
    for (const auto &entry : rule)
        if (entry.first <= reward_risk) best = &entry;
    if (best) return best->second;
    return 1 / (1 + reward_risk) + 0.05;
}

TradeStats trade_stats(const std::vector<const TradeResult *> &trades, const WinRateRule &rule) {
    TradeStats s;
    double r_sum = 0;
    uint64_t r_count = 0;
    for (const auto *t : trades) {
        ++s.trades;
        s.net += t->net;
        s.fees += t->fees;
        if (t->net > 0) {
            ++s.wins;
            s.gross_profit += t->net;
        } else if (t->net < 0) {
            ++s.losses;
            s.gross_loss -= t->net;
        }
        if (t->r) {
            r_sum += *t->r;
            ++r_count;
        }
    }
    if (s.trades == 0) return s;
    s.win_rate = static_cast<double>(s.wins) / static_cast<double>(s.trades);
    s.expectancy = s.net / static_cast<double>(s.trades);
    if (s.wins) s.avg_win = s.gross_profit / static_cast<double>(s.wins);
    if (s.losses) s.avg_loss = -s.gross_loss / static_cast<double>(s.losses);
    if (s.gross_loss > 0) s.profit_factor = s.gross_profit / s.gross_loss;
    if (r_count) s.avg_r = r_sum / static_cast<double>(r_count);
    if (s.wins && s.losses) {
        s.reward_risk = s.avg_win / -s.avg_loss;
        s.required_win_rate = required_win_rate(*s.reward_risk, rule);
        s.accepted = s.win_rate >= *s.required_win_rate;
    } else {
        s.accepted = s.losses == 0;  // nothing lost: no win rate is too low
    }
    return s;
}

Metrics compute_metrics(const std::vector<TradeResult> &trades,
                        const std::vector<EquityPoint> &curve, double traded_value, double fees,
                        double funding, const WinRateRule &rule) {
    Metrics m;
    std::vector<const TradeResult *> all;
    std::map<std::string, std::vector<const TradeResult *>> by_strategy, by_signal;
    for (const auto &t : trades) {
        all.push_back(&t);
        by_strategy[t.strategy].push_back(&t);
        by_signal[t.signal].push_back(&t);
    }
    m.all = trade_stats(all, rule);
    for (auto &[k, v] : by_strategy) m.by_strategy[k] = trade_stats(v, rule);
    for (auto &[k, v] : by_signal) m.by_signal[k] = trade_stats(v, rule);
    m.fees = fees;
    m.funding = funding;
    if (curve.empty()) return m;

    m.start = curve.front().t;
    m.end = curve.back().t;
    m.start_equity = curve.front().equity;
    m.end_equity = curve.back().equity;
    if (m.start_equity > 0) {
        m.return_pct = 100 * (m.end_equity / m.start_equity - 1);
        m.turnover = traded_value / m.start_equity;
    }

    // Drawdowns, and the time in the market.
    double peak = curve.front().equity;
    TimeNs peak_at = curve.front().t, in_market = 0;
    for (size_t k = 0; k < curve.size(); ++k) {
        const auto &p = curve[k];
        if (p.equity >= peak) {
            peak = p.equity;
            peak_at = p.t;
        } else {
            m.max_drawdown = std::max(m.max_drawdown, peak - p.equity);
            if (peak > 0)
                m.max_drawdown_pct = std::max(m.max_drawdown_pct, 100 * (1 - p.equity / peak));
        }
        m.max_drawdown_duration = std::max(m.max_drawdown_duration, p.t - peak_at);
        if (k + 1 < curve.size() && p.in_market) in_market += curve[k + 1].t - p.t;
    }
    const TimeNs span = m.end - m.start;
    if (span > 0) m.exposure_pct = 100 * static_cast<double>(in_market) / static_cast<double>(span);

    // Daily returns: the equity at each UTC midnight (the last point at or before it).
    std::vector<double> daily;
    double last = m.start_equity;
    size_t k = 0;
    for (TimeNs day = (m.start / kDay + 1) * kDay; day <= m.end; day += kDay) {
        while (k + 1 < curve.size() && curve[k + 1].t <= day) ++k;
        if (last > 0) daily.push_back(curve[k].equity / last - 1);
        last = curve[k].equity;
    }
    if (daily.size() >= 2) {
        double mean = 0;
        for (double r : daily) mean += r;
        mean /= static_cast<double>(daily.size());
        double var = 0, down = 0;
        for (double r : daily) {
            var += (r - mean) * (r - mean);
            down += std::min(r, 0.0) * std::min(r, 0.0);
        }
        var /= static_cast<double>(daily.size() - 1);
        down /= static_cast<double>(daily.size());
        if (var > 0) m.sharpe = mean / std::sqrt(var) * std::sqrt(kDaysPerYear);
        if (down > 0) m.sortino = mean / std::sqrt(down) * std::sqrt(kDaysPerYear);
    }
    if (span >= kDay && m.start_equity > 0 && m.end_equity > 0) {
        double years = static_cast<double>(span) / static_cast<double>(kDay) / kDaysPerYear;
        m.cagr_pct = 100 * (std::pow(m.end_equity / m.start_equity, 1 / years) - 1);
        if (m.max_drawdown_pct > 0) m.calmar = *m.cagr_pct / m.max_drawdown_pct;
    }
    return m;
}

}  // namespace keel::report
