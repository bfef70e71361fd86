// The risk gate's cost per decision, with every check on: all order limits finite (and
// per-timeframe leverage caps), a whitelist, require_stop with a stop, no_duplicate_entry, the
// daily and drawdown limits, the open-position/order counts and both order-rate counters; three
// instruments with positions, resting orders, and a 20-level book that a market order sweeps.
// The approved intent is new risk (a buy that turns a short into a long) so that every check runs
// to the end. Allocations are counted (tests/data/allocation_counter.cpp): an approved decision
// and a mark + account watch must not allocate, and the benchmark fails (exits non-zero) if one
// does. A veto allocates its message; that is counted and reported, not failed.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "data/allocation_counter.hpp"
#include "keel/risk/risk_gate.hpp"

using namespace keel;

namespace {

bool g_failed = false;  // a broken premise or an allocation: exit non-zero so CTest notices

constexpr TimeNs kMs = 1'000'000;
constexpr TimeNs kMinute = 60'000 * kMs;
constexpr TimeNs kStart = 1'709'251'200'000'000'000;  // 2024-03-01 00:00 UTC

InstrumentSpec spec(const char *id, double tick, double lot, Lots min_qty, double min_notional) {
    InstrumentSpec s;
    s.id = s.symbol = id;
    s.venue = "sim";
    s.tick_size = tick;
    s.lot_size = lot;
    s.min_qty_lots = min_qty;
    s.min_notional = min_notional;
    return s;
}

// 20 levels a side, one tick apart, `lots` on each.
market::Book book(Ticks bid, Ticks ask, Lots lots) {
    std::vector<market::Level> bids, asks;
    for (Ticks k = 0; k < 20; ++k) {
        bids.push_back({bid - k, lots});
        asks.push_back({ask + k, lots});
    }
    market::Book b;
    b.apply_snapshot(bids, asks);
    return b;
}

config::RiskLimits limits() {
    config::RiskLimits l;
    config::OrderLimits &o = l.order;
    o.max_order_notional = 10'000;
    o.max_order_qty = 1;  // 1 BTC, 1 ETH, 1 SOL
    o.max_position_notional = 20'000;
    o.max_position_pct = 50;
    o.max_instrument_exposure_pct = 30;
    o.risk_per_trade_pct = 2;
    o.max_leverage = 5;
    o.max_leverage_by_timeframe = {{kMinute, 3}, {5 * kMinute, 4}, {15 * kMinute, 5}};
    o.price_band_pct = 5;
    o.require_stop = true;
    o.no_duplicate_entry = true;
    config::OrderLimits btc = o;  // an instrument and a strategy override, both resolved
    btc.max_order_notional = 9'000;
    l.instruments["BTCUSDT"] = btc;
    config::OrderLimits strategy = o;
    strategy.max_leverage = 4;
    l.strategies["trend"] = strategy;
    l.max_open_positions = 5;
    l.max_open_orders = 10;
    l.max_orders_per_day = 2'000'000'000;  // on, but never reached by the loop
    l.max_orders_per_second = 10;          // on; the loop advances 200 ms per order
    l.daily_loss_pct = 5;
    l.daily_loss = 5'000;
    l.max_drawdown_pct = 20;
    l.max_drawdown = 20'000;
    l.whitelist = {"BTCUSDT", "ETHUSDT", "SOLUSDT"};
    return l;
}

struct Setup {
    std::vector<InstrumentSpec> specs{spec("BTCUSDT", 0.1, 0.001, 1, 5),
                                      spec("ETHUSDT", 0.01, 0.001, 1, 5),
                                      spec("SOLUSDT", 0.001, 0.1, 0, 1)};
    std::vector<market::Book> books{book(600'000, 600'001, 20), book(300'000, 300'002, 500),
                                    book(150'000, 150'003, 100)};
    exec::Portfolio portfolio{specs, [] {
                                  exec::AccountSettings a;
                                  a.starting_balance = Money::from_double(100'000);
                                  a.kinds = {exec::InstrumentKind::linear,
                                             exec::InstrumentKind::linear,
                                             exec::InstrumentKind::spot};
                                  a.leverage = {10, 10, 1};
                                  return a;
                              }()};
    risk::RiskGate gate{limits(), specs, {"trend", "revert"}};
    std::vector<risk::RiskEvent> events;
    // Resting orders on BTCUSDT: a reduce-only buy and a sell, three across the deployment.
    risk::OpenOrders open{10, 10, Money::from_double(599.9), false, false, 3};
    TimeNs now = kStart;

    Setup() {
        events.reserve(16);
        portfolio.on_fill(0, Side::sell, 50, 600'000, Money::from_double(1.2));    // -0.05 BTC
        portfolio.on_fill(1, Side::buy, 1'000, 300'002, Money::from_double(1.2));  // 1 ETH
        portfolio.on_fill(2, Side::buy, 200, 150'003, Money::from_double(1.2));    // 20 SOL
        for (InstrumentIndex i = 0; i < 3; ++i)
            portfolio.mark(i, books[i].best_bid()->price, books[i].best_ask()->price);
        gate.on_account(portfolio, now, events);
        events.clear();
    }

    risk::RiskContext context(InstrumentIndex i) {
        return risk::RiskContext{specs[i], books[i], portfolio, open, now};
    }
};

// A market buy of 0.1 BTC (the short of 0.05 becomes a long of 0.05): new risk, sweeping five
// levels of the book, with a stop below, on the 1m timeframe.
exec::OrderIntent approved_intent() {
    exec::OrderIntent in;
    in.strategy = 0;
    in.instrument = 0;
    in.side = Side::buy;
    in.type = exec::OrderType::market;
    in.qty = 100;
    in.stop_price = 595'000;
    in.timeframe = kMinute;
    return in;
}

// The same with 0.2 BTC: about 12,000 of notional, above max_order_notional.
exec::OrderIntent vetoed_intent() {
    exec::OrderIntent in = approved_intent();
    in.qty = 200;
    return in;
}

void fail(benchmark::State &state, const std::string &why) {
    state.SkipWithError(why.c_str());
    g_failed = true;
}

void report_allocations(benchmark::State &state, uint64_t allocations) {
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["allocs_per_op"] =
        static_cast<double>(allocations) / static_cast<double>(state.iterations());
}

void BM_CheckApproved(benchmark::State &state) {
    Setup s;
    const exec::OrderIntent intent = approved_intent();
    {
        auto first = s.gate.check(intent, s.context(0));
        if (auto *v = std::get_if<risk::Veto>(&first))
            return fail(state, std::string("setup: the intent is vetoed: ") + v->message);
    }
    bool vetoed = false;
    keel::test::start_counting_allocations();
    for (auto _ : state) {
        s.now += 200 * kMs;  // 5 orders a second: under max_orders_per_second
        auto r = s.gate.check(intent, s.context(0));
        vetoed |= !std::holds_alternative<risk::ApprovedOrder>(r);
        benchmark::DoNotOptimize(r);
    }
    uint64_t allocations = keel::test::stop_counting_allocations();
    report_allocations(state, allocations);
    if (vetoed) return fail(state, "an order in the loop was vetoed");
    if (allocations) fail(state, "an approved check allocated");
}

void BM_CheckVetoed(benchmark::State &state) {
    Setup s;
    const exec::OrderIntent intent = vetoed_intent();
    {
        auto first = s.gate.check(intent, s.context(0));
        auto *v = std::get_if<risk::Veto>(&first);
        if (!v || v->reason != risk::VetoReason::max_order_notional)
            return fail(state, "setup: the intent is not vetoed with MAX_ORDER_NOTIONAL");
    }
    keel::test::start_counting_allocations();
    for (auto _ : state) {
        s.now += 200 * kMs;
        auto r = s.gate.check(intent, s.context(0));
        benchmark::DoNotOptimize(r);
    }
    // The veto's message is formatted into a std::string: allocations here are expected.
    report_allocations(state, keel::test::stop_counting_allocations());
}

// What every book event costs the account watch: a mark of one instrument and on_account.
void BM_MarkAndAccount(benchmark::State &state) {
    Setup s;
    const Ticks bid = s.books[0].best_bid()->price, ask = s.books[0].best_ask()->price;
    Ticks k = 0;
    keel::test::start_counting_allocations();
    for (auto _ : state) {
        s.now += kMs;
        k ^= 1;  // the touch moves by a tick and back
        s.portfolio.mark(0, bid + k, ask + k);
        s.gate.on_account(s.portfolio, s.now, s.events);
        benchmark::DoNotOptimize(s.events.data());
    }
    uint64_t allocations = keel::test::stop_counting_allocations();
    report_allocations(state, allocations);
    if (!s.events.empty()) return fail(state, "on_account reported events in steady state");
    if (allocations) fail(state, "a mark and account watch allocated");
}

}  // namespace

BENCHMARK(BM_CheckApproved);
BENCHMARK(BM_CheckVetoed);
BENCHMARK(BM_MarkAndAccount);

int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return g_failed ? 1 : 0;
}
