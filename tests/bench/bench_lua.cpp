// The Lua runtime's hot path: dispatching on_book to a strategy and the book queries it makes,
// on a book of 1,000 levels a side, in both modes: the interpreter with the count hook that gives
// the runaway guarantee (the default; docs/lua-api.md, "Faults") and `jit: true` (the compiler,
// book queries through the FFI). Also the memory a strategy's state holds once loaded, and the
// time to load one (most of a reload).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

#include "keel/strategy/lua_strategy.hpp"

using namespace keel;

namespace {

// The engine's side of a strategy, for one instrument with a fixed book. Orders and accounting
// are not part of what is measured.
class BenchServices final : public strategy::Services {
  public:
    BenchServices() : portfolio_(specs(), {}) {
        spec_.id = spec_.symbol = "BTCUSDT";
        spec_.tick_size = 0.1;
        spec_.lot_size = 0.001;
        std::vector<market::Level> bids, asks;
        // 1,000 levels a side around 60,000.0, most volume near the touch.
        for (int k = 0; k < 1000; ++k) {
            bids.push_back({600000 - k, 1000 + 10 * k});
            asks.push_back({600001 + k, 1000 + 10 * k});
        }
        book_.apply_snapshot(bids, asks);
    }
    static std::vector<InstrumentSpec> specs() {
        InstrumentSpec s;
        s.tick_size = 0.1;
        s.lot_size = 0.001;
        return {s};
    }
    size_t instrument_count() const override { return 1; }
    std::optional<InstrumentIndex> find_instrument(std::string_view id) const override {
        return id == spec_.id ? std::optional<InstrumentIndex>(0) : std::nullopt;
    }
    const InstrumentSpec &spec(InstrumentIndex) const override { return spec_; }
    const market::Book &book(InstrumentIndex) const override { return book_; }
    const exec::Position &position(InstrumentIndex i) const override {
        return portfolio_.position(i);
    }
    double balance() const override { return 10000; }
    double equity() const override { return 10000; }
    strategy::RiskView risk() const override { return {}; }
    TimeNs now() const override { return 0; }
    exec::OrderId submit(exec::OrderIntent) override { return 0; }
    bool cancel(exec::StrategyIndex, exec::OrderId, std::string &) override { return false; }
    bool amend(exec::StrategyIndex, exec::OrderId, std::optional<double>, std::optional<double>,
               std::string &) override {
        return false;
    }
    std::vector<exec::OrderId> open_orders(exec::StrategyIndex) const override { return {}; }
    void notify(strategy::NotifyLevel, const std::string &, const std::string &,
                const std::string &) override {}
    void strategy_faulted(exec::StrategyIndex, const std::string &) override {}
    uint64_t add_timer(exec::StrategyIndex, TimeNs, bool) override { return 0; }
    bool cancel_timer(exec::StrategyIndex, uint64_t) override { return false; }
    const std::deque<market::Candle> *candles(InstrumentIndex, TimeNs) const override {
        return nullptr;
    }
    void signal(exec::StrategyIndex, const strategy::Signal &) override {}

  private:
    InstrumentSpec spec_;
    market::Book book_;
    exec::Portfolio portfolio_;
};

std::string write_strategy(const std::string &name, const std::string &source) {
    std::string path = "/tmp/keel_bench_lua_" + name + ".lua";
    std::ofstream(path) << source;
    return path;
}

std::unique_ptr<strategy::LuaStrategy> load(BenchServices &services, const std::string &name,
                                            const std::string &source, bool jit = false) {
    config::Strategy cfg;
    cfg.jit = jit;
    cfg.name = name;
    cfg.file = write_strategy(name, source);
    cfg.instruments = {"BTCUSDT"};
    auto s =
        std::make_unique<strategy::LuaStrategy>(0, cfg, services, std::vector<InstrumentIndex>{0});
    s->load();
    return s;
}

// Argument: 0 = the interpreter with the runaway guarantee (the default), 1 = `jit: true` (the
// compiler and the FFI fast path for book queries).
void BM_OnBookEmpty(benchmark::State &state) {
    BenchServices services;
    auto s = load(services, "empty", "n = 0\nfunction on_book(inst, book) n = n + 1 end\n",
                  state.range(0) == 1);
    for (auto _ : state) s->on_book(0);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_OnBookEmpty)->Arg(0)->Arg(1);

void BM_OnBookThreeQueries(benchmark::State &state) {
    BenchServices services;
    auto s = load(services, "queries", R"(
edge = 0
function on_book(inst, book)
  local bid = book:best_bid()
  local ask = book:best_ask()
  local imb = book:imbalance(5)
  if imb and imb > 3 then edge = edge + (ask - bid) end
end
)",
                  state.range(0) == 1);
    for (auto _ : state) s->on_book(0);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_OnBookThreeQueries)->Arg(0)->Arg(1);

// on_book placing one limit order: the binding's cost (table, checks, intent), with the engine's
// side a stub, in both modes (the C API, and the FFI with jit: true).
void BM_OnBookOrder(benchmark::State &state) {
    BenchServices services;
    auto s = load(services, "orders", R"(
function on_book(inst, book)
  local bid = book:best_bid()
  keel.order{ instrument = inst, side = "buy", qty = 0.001, type = "limit", price = bid - 10,
              tag = "bench" }
end
)",
                  state.range(0) == 1);
    for (auto _ : state) s->on_book(0);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_OnBookOrder)->Arg(0)->Arg(1);

// The same three queries 100 times inside one callback: the per-query cost once compiled.
void BM_HundredQueryRounds(benchmark::State &state) {
    BenchServices services;
    auto s = load(services, "rounds", R"(
edge = 0
function on_book(inst, book)
  for k = 1, 100 do
    local bid = book:best_bid()
    local ask = book:best_ask()
    local imb = book:imbalance(5)
    if imb and imb > 3 then edge = edge + (ask - bid) end
  end
end
)",
                  state.range(0) == 1);
    for (auto _ : state) s->on_book(0);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 100);
}
BENCHMARK(BM_HundredQueryRounds)->Arg(0)->Arg(1);

void BM_LoadStrategy(benchmark::State &state) {
    // The shipped scalper: compile, run its main chunk. A reload is this plus the hand-over.
    std::ifstream in(std::string(KEEL_SOURCE_DIR) + "/strategies/imbalance_scalper.lua");
    std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    BenchServices services;
    size_t memory = 0;
    for (auto _ : state) {
        auto s = load(services, "scalper", source);
        memory = s->memory_used();
    }
    state.counters["state_bytes"] = static_cast<double>(memory);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_LoadStrategy);

}  // namespace

BENCHMARK_MAIN();
