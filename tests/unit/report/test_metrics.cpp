// Backtest metrics on a scripted trade list and equity curve, against numbers worked out by hand
// (the arithmetic is in the comments), and the trade journal's round trips from fills.

#include <catch2/catch.hpp>

#include "keel/report/journal.hpp"
#include "keel/report/metrics.hpp"
#include "keel/report/report.hpp"

using namespace keel;
using namespace keel::report;

namespace {
constexpr TimeNs kHour = TimeNs{3600} * 1'000'000'000;
constexpr TimeNs kT0 = TimeNs{1'767'225'600} * 1'000'000'000;  // 2026-01-01 00:00 UTC
}  // namespace

TEST_CASE("trade statistics and seed 001's acceptance rule, by hand", "[report]") {
    std::vector<TradeResult> trades = {
        {"s", "a", 200, 2, 2.0}, {"s", "a", -100, 2, -1.0}, {"s", "a", 200, 2, 2.0},
        {"s", "b", -50, 1, {}},  {"s", "b", 30, 1, {}},     {"s", "b", 0, 1, {}},
    };
    auto m = compute_metrics(trades, {}, 0, 9, 0);
    const auto &all = m.all;
    CHECK(all.trades == 6);
    CHECK(all.wins == 3);    // 200, 200, 30
    CHECK(all.losses == 2);  // -100, -50; the 0 is neither
    CHECK(all.win_rate == Approx(0.5));
    CHECK(all.net == Approx(280));
    CHECK(all.fees == Approx(9));
    CHECK(*all.profit_factor == Approx(430.0 / 150));                        // 2.8667
    CHECK(all.expectancy == Approx(280.0 / 6));                              // 46.67
    CHECK(all.avg_win == Approx(430.0 / 3));                                 // 143.33
    CHECK(all.avg_loss == Approx(-75));                                      // (-100 - 50) / 2
    CHECK(*all.reward_risk == Approx(143.333333333 / 75));                   // 1.911: below 2:1
    CHECK(*all.required_win_rate == Approx(1 / (1 + 1.9111111111) + 0.05));  // 0.3935
    CHECK(all.accepted);                                                     // 50 % >= 39.4 %
    CHECK(*all.avg_r == Approx(1.0));  // (2 - 1 + 2) / 3, b has no stops

    const auto &a = m.by_signal.at("a");
    CHECK(a.trades == 3);
    CHECK(a.win_rate == Approx(2.0 / 3));
    CHECK(*a.reward_risk == Approx(2.0));         // 200 / 100
    CHECK(*a.required_win_rate == Approx(0.38));  // seed 001 at 2:1
    CHECK(a.accepted);
    const auto &b = m.by_signal.at("b");
    CHECK(b.win_rate == Approx(1.0 / 3));
    CHECK(*b.reward_risk == Approx(0.6));           // 30 / 50
    CHECK(*b.required_win_rate == Approx(0.675));   // 1 / 1.6 + 0.05
    CHECK_FALSE(b.accepted);                        // 33 % < 67.5 %
    CHECK(required_win_rate(3.5) == Approx(0.30));  // the 3:1 entry
    CHECK(required_win_rate(2.9) == Approx(0.38));  // the 2:1 entry
    CHECK(m.by_strategy.at("s").trades == 6);
}

TEST_CASE("equity metrics: drawdown, exposure, Sharpe, Sortino, CAGR, Calmar by hand", "[report]") {
    std::vector<EquityPoint> curve = {
        {kT0, 10000, false},
        {kT0 + 12 * kHour, 10500, true},  // the peak
        {kT0 + 24 * kHour, 10200, true},
        {kT0 + 36 * kHour, 9690, false},  // the trough: 810 below the peak
        {kT0 + 48 * kHour, 10098, false},
        {kT0 + 72 * kHour, 10300, false},
    };
    auto m = compute_metrics({}, curve, 25000, 12, -3);
    CHECK(m.return_pct == Approx(3.0));
    CHECK(m.turnover == Approx(2.5));  // 25,000 traded on 10,000
    CHECK(m.max_drawdown == Approx(810));
    CHECK(m.max_drawdown_pct == Approx(810.0 / 105));  // 7.714 %
    // Never recovers the 10,500 peak: 12 h to 72 h below it.
    CHECK(m.max_drawdown_duration == 60 * kHour);
    CHECK(m.exposure_pct == Approx(100.0 / 3));  // 24 h of 72 with a position
    // Daily returns at each midnight: 10200/10000 - 1, 10098/10200 - 1, 10300/10098 - 1; mean
    // 0.0100013, sample deviation 0.017321, downside deviation sqrt(0.01^2 / 3).
    CHECK(*m.sharpe == Approx(11.030989499260203));
    CHECK(*m.sortino == Approx(33.09515350111203));
    CHECK(*m.cagr_pct == Approx(3546.3834704853875));  // 1.03^(365/3) - 1
    CHECK(*m.calmar == Approx(3546.3834704853875 / (810.0 / 105)));
    CHECK(m.fees == 12);
    CHECK(m.funding == -3);

    // Under two full days there is no daily Sharpe; under a day no CAGR.
    std::vector<EquityPoint> short_curve(curve.begin(), curve.begin() + 2);
    auto s = compute_metrics({}, short_curve, 0, 0, 0);
    CHECK_FALSE(s.sharpe);
    CHECK_FALSE(s.cagr_pct);
}

TEST_CASE("the journal makes round trips from fills, through flips, with exact money", "[report]") {
    InstrumentSpec spec;
    spec.id = spec.symbol = "BTCUSDT";
    spec.tick_size = 0.1;
    spec.lot_size = 0.001;
    TradeJournal j({spec});
    auto fill = [](exec::OrderId id, Side side, Lots qty, Ticks price, double fee, const char *tag,
                   TimeNs t) {
        exec::OrderEvent e;
        e.id = id;
        e.strategy = 0;
        e.side = side;
        e.status = exec::OrderStatus::filled;
        e.last_qty = qty;
        e.last_price = price;
        e.last_fee = Money::from_double(fee);
        e.tag = tag;
        e.ts = t;
        return e;
    };
    j.note_stop(1, 595000);                                             // stop at 59,500.0
    j.on_fill(fill(1, Side::buy, 10, 600000, 0.24, "entry", kT0));      // 0.010 @ 60,000.0
    j.on_fill(fill(2, Side::buy, 10, 601000, 0.24, "add", kT0 + 1));    // 0.010 @ 60,100.0
    j.on_fill(fill(3, Side::sell, 30, 602000, 0.36, "flip", kT0 + 2));  // 0.030 @ 60,200.0
    REQUIRE(j.closed().size() == 1);
    const auto &t = j.closed()[0];
    CHECK(t.long_side);
    CHECK(t.signal == "entry");
    CHECK(t.max_qty == 20);
    // Bought 600 + 601 = 1,201.00; sold 0.020 @ 60,200 = 1,204.00: +3.00 before fees.
    CHECK(t.pnl == Money::from_double(3.0));
    // 0.24 + 0.24 + two thirds of 0.36.
    CHECK(t.fees == Money::from_double(0.72));
    CHECK(t.net() == Money::from_double(2.28));
    // Risk: (60,050 - 59,500) x 0.020 = 11.00; R = 3 / 11.
    CHECK(*j.r_multiple(t) == Approx(3.0 / 11));
    // The flip's remaining 0.010 opened a short, with the rest of its fee.
    auto open = j.open();
    REQUIRE(open.size() == 1);
    CHECK_FALSE(open[0].long_side);
    CHECK(open[0].signal == "flip");
    CHECK(open[0].fees == Money::from_double(0.12));
    CHECK_FALSE(j.r_multiple(open[0]));
}

TEST_CASE("a win-rate rule from the command line", "[report]") {
    auto rule = parse_win_rate_rule("1.5:45,2:38,3:30");
    REQUIRE(rule);
    CHECK(required_win_rate(1.7, *rule) == Approx(0.45));
    CHECK(required_win_rate(2.5, *rule) == Approx(0.38));
    CHECK(required_win_rate(1.0, *rule) == Approx(0.55));  // below the first: 1/2 + 5 points
    for (const char *bad : {"", "2", "2:", ":38", "2:38,", "3:30,2:38", "2:0", "2:100", "x:38"})
        CHECK_FALSE(parse_win_rate_rule(bad));
}
