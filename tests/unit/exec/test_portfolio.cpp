#include <random>

#include <catch2/catch.hpp>

#include "keel/exec/portfolio.hpp"

using namespace keel;
using exec::InstrumentKind;
using exec::Portfolio;

namespace {

InstrumentSpec spec(const char *id, double tick, double lot) {
    InstrumentSpec s;
    s.id = s.symbol = id;
    s.tick_size = tick;
    s.lot_size = lot;
    return s;
}

Money usd(const char *text) {  // exact decimal text to Money, for hand-computed values
    std::string t(text);
    bool negative = t[0] == '-';
    if (negative) t.erase(0, 1);
    auto dot = t.find('.');
    std::string whole = t.substr(0, dot), frac = dot == std::string::npos ? "" : t.substr(dot + 1);
    frac.resize(8, '0');
    int64_t units = std::stoll(whole) * Money::kScale + std::stoll(frac);
    return Money::from_units(negative ? -units : units);
}

}  // namespace

TEST_CASE("money: notional is exact on decimal grids", "[portfolio]") {
    NotionalScale btc(0.1, 0.001);  // one tick-lot = 0.0001 quote
    CHECK(btc.notional(600000, 500) == usd("30000"));
    CHECK(btc.notional(600001, 1) == usd("60.0001"));
    NotionalScale fine(0.00000001, 0.1);  // one tick-lot = 1e-9: rounds half away from zero
    CHECK(fine.notional(15, 1) == Money::from_units(2));  // 1.5e-8
    CHECK(fine.notional(14, 1) == Money::from_units(1));  // 1.4e-8
    CHECK(fine.notional(-15, 1) == Money::from_units(-2));
    CHECK(Rate::from_double(0.0004).of(usd("18300")) == usd("7.32"));
}

TEST_CASE("a scripted fill sequence matches hand-computed P&L to the cent", "[portfolio]") {
    // BTCUSDT linear perpetual, taker fee 0.04 %, starting at 10,000 USDT. Every number below was
    // computed by hand (docs/risk.md, "Accounting").
    std::vector<InstrumentSpec> specs{spec("BTCUSDT", 0.1, 0.001)};
    exec::AccountSettings account;
    account.starting_balance = usd("10000");
    account.leverage = {10};
    Portfolio pf(specs, account);
    Rate taker = Rate::from_double(0.0004);
    auto fill = [&](Side side, Lots lots, Ticks price) {
        pf.on_fill(0, side, lots, price, taker.of(pf.notional(0, price, lots)));
    };

    fill(Side::buy, 500, 600000);  // 0.5 @ 60,000.0: 30,000.00, fee 12.00
    fill(Side::buy, 250, 606000);  // 0.25 @ 60,600.0: 15,150.00, fee 6.06
    CHECK(pf.position(0).cost == usd("45150"));
    CHECK(pf.position(0).avg_entry(specs[0]) == Approx(60200.0));

    // Funding +0.01 % at mark 60,500: longs pay 0.75 x 60,500 x 0.0001 = 4.5375.
    CHECK(pf.on_funding(0, Rate::from_double(0.0001), usd("60500")) == usd("-4.5375"));

    fill(Side::sell, 300, 610000);  // close 0.3 @ 61,000: 18,300 - 18,060 = +240.00, fee 7.32
    CHECK(pf.position(0).realized == usd("240"));
    CHECK(pf.position(0).cost == usd("27090"));
    CHECK(pf.equity() == usd("10120.0825"));  // marked at the first fill's 60,000: -90.00 open
    CHECK(pf.peak_equity() == usd("10120.0825"));

    // Sell 0.6 @ 59,500: closes 0.45 (26,775 - 27,090 = -315.00), opens 0.15 short; fee 14.28.
    fill(Side::sell, 600, 595000);
    CHECK(pf.position(0).qty == -150);
    CHECK(pf.position(0).cost == usd("-8925"));
    CHECK(pf.position(0).realized == usd("-75"));

    // Funding -0.02 % at 59,000: shorts pay 0.15 x 59,000 x 0.0002 = 1.77.
    CHECK(pf.on_funding(0, Rate::from_double(-0.0002), usd("59000")) == usd("-1.77"));
    pf.mark(0, 589999, 590001);  // mid 59,000.0: the short is +75.00

    CHECK(pf.realized_pnl() == usd("-75"));
    CHECK(pf.fees() == usd("39.66"));
    CHECK(pf.funding() == usd("-6.3075"));
    CHECK(pf.unrealized_pnl() == usd("75"));
    CHECK(pf.balance() == usd("9879.0325"));
    CHECK(pf.equity() == usd("9954.0325"));
    CHECK(pf.peak_equity() == usd("10120.0825"));
    CHECK(pf.gross_exposure() == usd("8850"));
    CHECK(pf.margin_used() == usd("885"));  // 8,850 at 10x
    CHECK(pf.open_positions() == 1);

    fill(Side::buy, 150, 590000);  // flat at 59,000: +75.00 realized, fee 3.54
    CHECK(pf.open_positions() == 0);
    CHECK(pf.realized_pnl() == usd("0"));
    CHECK(pf.equity() == usd("9954.0325") - usd("3.54"));
    CHECK(pf.gross_exposure() == Money{});
}

TEST_CASE("spot holdings tie up cash and cannot be margin", "[portfolio]") {
    std::vector<InstrumentSpec> specs{spec("ETHUSDT", 0.01, 0.0001)};
    exec::AccountSettings account;
    account.starting_balance = usd("10000");
    account.kinds = {InstrumentKind::spot};
    account.leverage = {20};  // ignored for spot
    Portfolio pf(specs, account);
    CHECK(pf.leverage_setting(0) == 1.0);
    pf.on_fill(0, Side::buy, 15000, 300000, usd("4.5"));  // 1.5 ETH @ 3,000.00
    CHECK(pf.free_cash() == usd("5495.5"));
    CHECK(pf.margin_used() == usd("4500"));
    pf.mark(0, 309999, 310001);  // 3,100.00
    CHECK(pf.equity() == usd("10145.5"));
    pf.on_fill(0, Side::sell, 5000, 310000, usd("1.55"));  // sell 0.5: +50.00
    CHECK(pf.realized_pnl() == usd("50"));
    CHECK(pf.free_cash() == usd("10000") + usd("50") - usd("6.05") - usd("3000"));
}

TEST_CASE("a day start and a peak reset rebase the daily and drawdown references", "[portfolio]") {
    std::vector<InstrumentSpec> specs{spec("BTCUSDT", 0.1, 0.001)};
    Portfolio pf(specs, {});
    pf.on_fill(0, Side::buy, 1000, 600000, Money{});
    pf.mark(0, 589999, 590001);  // 1 BTC, -1,000.00
    CHECK(pf.peak_equity() == usd("10000"));
    CHECK(pf.day_start_equity() == usd("10000"));
    pf.start_day(1);
    CHECK(pf.day_start_equity() == usd("9000"));
    pf.reset_peak();
    CHECK(pf.peak_equity() == usd("9000"));
}

TEST_CASE("a position taken over from the venue counts from its entry, its past P&L not the day's",
          "[portfolio]") {
    std::vector<InstrumentSpec> specs{spec("BTCUSDT", 0.1, 0.001), spec("ETHUSDT", 0.01, 0.001)};
    exec::AccountSettings account;
    account.starting_balance = usd("10000");
    account.leverage = {10, 10};
    Portfolio pf(specs, account);
    pf.mark(0, 589999, 590001);  // BTC at 59,000.0 when the venue's word arrives

    pf.take_over(0, -500, 600000);  // short 0.5 @ 60,000.0: +500.00 so far
    CHECK(pf.position(0).qty == -500);
    CHECK(pf.position(0).cost == usd("-30000"));
    CHECK(pf.position(0).avg_entry(specs[0]) == Approx(60000.0));
    CHECK(pf.position(0).realized == Money{});
    CHECK(pf.realized_pnl() == Money{});
    CHECK(pf.open_positions() == 1);
    CHECK(pf.unrealized_pnl() == usd("500"));
    CHECK(pf.equity() == usd("10500"));
    // Made before this session: neither the day's gain nor a peak to draw down from.
    CHECK(pf.day_start_equity() == usd("10500"));
    CHECK(pf.peak_equity() == usd("10500"));
    pf.mark(0, 594999, 595001);  // 59,500.0: this session's -250.00
    CHECK(pf.equity() == usd("10250"));
    CHECK(pf.day_start_equity() == usd("10500"));
    CHECK(pf.peak_equity() == usd("10500"));
    pf.on_fill(0, Side::buy, 500, 595000, Money{});  // closed against the venue's entry
    CHECK(pf.position(0).realized == usd("250"));
    CHECK(pf.open_positions() == 0);

    // No mark yet: valued at its entry, and its first mark is not the session's either.
    pf.take_over(1, 2000, 300000);  // long 2 ETH @ 3,000.00
    CHECK(pf.unrealized_pnl() == Money{});
    const Money day = pf.day_start_equity(), peak = pf.peak_equity();
    pf.mark(1, 289999, 290001);  // 2,900.00: -200.00, made before
    CHECK(pf.unrealized_pnl() == usd("-200"));
    CHECK(pf.day_start_equity() == day - usd("200"));
    CHECK(pf.peak_equity() == peak - usd("200"));
    pf.mark(1, 284999, 285001);  // 2,850.00: -100.00 more, this session's
    CHECK(pf.day_start_equity() == day - usd("200"));
    CHECK(pf.day_start_equity() == usd("10300"));
    CHECK(pf.equity() == usd("9950"));  // the session's -250.00 on BTC and -100.00 on ETH
}

TEST_CASE("a million random fills leave no drift", "[portfolio]") {
    // Average-cost accounting rounds the closed share of the cost, but what it rounds away stays
    // in the open cost: once flat, realized P&L must equal sells minus buys exactly.
    std::vector<InstrumentSpec> specs{spec("XRPUSDT", 0.0001, 0.1), spec("BTCUSDT", 0.1, 0.001)};
    Portfolio pf(specs, {});
    std::mt19937_64 rng(20261121);
    Money flows[2];
    Lots positions[2] = {0, 0};
    for (int n = 0; n < 1'000'000; ++n) {
        InstrumentIndex i = n & 1;
        Ticks price = i == 0 ? 5000 + static_cast<Ticks>(rng() % 2000)
                             : 600000 + static_cast<Ticks>(rng() % 20000);
        Lots qty = 1 + static_cast<Lots>(rng() % 997);
        Side side = (rng() & 1) ? Side::buy : Side::sell;
        pf.on_fill(i, side, qty, price, Money{});
        Money value = pf.notional(i, price, qty);
        flows[i] += side == Side::sell ? value : -value;
        positions[i] += sign(side) * qty;
    }
    for (InstrumentIndex i = 0; i < 2; ++i) {
        REQUIRE(pf.position(i).qty == positions[i]);
        Ticks close = i == 0 ? 6000 : 610000;
        Lots qty = std::llabs(positions[i]);
        Side side = positions[i] > 0 ? Side::sell : Side::buy;
        if (qty) {
            pf.on_fill(i, side, qty, close, Money{});
            Money value = pf.notional(i, close, qty);
            flows[i] += side == Side::sell ? value : -value;
        }
        CHECK(pf.position(i).qty == 0);
        CHECK(pf.position(i).cost == Money{});
        CHECK(pf.position(i).realized == flows[i]);
    }
    CHECK(pf.equity() == pf.starting_balance() + flows[0] + flows[1]);
}
