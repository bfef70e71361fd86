#pragma once
// One strategy instance: its own lua_State (so nothing is shared between strategies), a sandbox
// of whitelisted globals, a memory cap enforced by the allocator, and the keel API table. The API
// is documented in docs/lua-api.md.

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "keel/config/config.hpp"
#include "keel/exec/order.hpp"
#include "keel/indicators/registry.hpp"
#include "keel/market/candles.hpp"
#include "keel/strategy/services.hpp"

struct lua_State;

namespace keel::strategy {

// A strategy that cannot be loaded: missing file, syntax error, error in the main chunk.
// what() carries file:line where Lua gives one.
class StrategyError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct TradeView {
    Ticks price;
    Lots qty;
    Side aggressor;
    TimeNs ts;
};

class LuaStrategy {
  public:
    LuaStrategy(exec::StrategyIndex index, config::Strategy config, Services &services,
                std::vector<InstrumentIndex> instruments);
    ~LuaStrategy();
    LuaStrategy(const LuaStrategy &) = delete;
    LuaStrategy &operator=(const LuaStrategy &) = delete;

    // Compiles the file (text only, never bytecode) in a fresh sandbox and runs its main chunk.
    void load();

    // Callbacks. A Lua error inside one is logged with file:line, counted, and swallowed: the
    // engine goes on, and so does the strategy with its next event. A callback over its time
    // budget or a state over its memory cap faults the strategy instead: it is stopped for good
    // (no more callbacks), and Services::strategy_faulted tells the engine.
    void on_start();
    void on_book(InstrumentIndex i);
    void on_trade(InstrumentIndex i, const TradeView &t);
    void on_candle(InstrumentIndex i, const std::string &timeframe, const market::Candle &c);
    void on_order(const exec::OrderEvent &e);
    void on_timer(uint64_t id);
    void on_stop();

    // An inactive strategy keeps its state, orders and warm indicators but gets no market or
    // timer callbacks (on_order still arrives) until it is activated again.
    void set_active(bool active) { active_ = active; }
    bool active() const { return active_; }
    // A counter the engine's watchdog reads from its own thread: odd while a callback runs.
    void set_busy_counter(std::atomic<uint64_t> *counter) { busy_ = counter; }

    // Hot reload (docs/lua-api.md, "Reload"): this freshly loaded version takes over from `old`.
    // Calls old's on_save() (if it has one and is not faulted), copies the table it returns into
    // this state (plain data only: nil, booleans, numbers, strings, tables of them) and calls
    // this version's on_reload(state). Throws StrategyError with file:line if any step fails;
    // the caller then keeps `old`.
    void take_over(LuaStrategy &old);
    // Feeds a closed candle to the indicators of its instrument and timeframe, without calling
    // on_candle (on_candle does this first; after a reload the engine replays recent history
    // through it so indicators are as warm as before).
    void update_indicators(InstrumentIndex i, const std::string &timeframe,
                           const market::Candle &c);

    const std::string &name() const { return config_.name; }
    const config::Strategy &config() const { return config_; }
    exec::StrategyIndex index() const { return index_; }
    const std::vector<InstrumentIndex> &instruments() const { return instruments_; }
    bool wants(InstrumentIndex i) const;
    uint64_t error_count() const { return errors_; }
    bool faulted() const { return faulted_; }
    // For the sandbox's pcall: has the call in progress run out of time or memory?
    static bool budget_exhausted(lua_State *L);
    const std::string &fault() const { return fault_; }
    // "callback: file:line: message" of the latest error, empty if none.
    const std::string &last_error() const { return last_error_; }
    size_t memory_used() const;
    // A global of the strategy as text (tests and diagnostics); nullopt if unset.
    std::optional<std::string> global_as_string(const std::string &name) const;

    // The binding's view of this object (used by the C functions of the API).
    Services &services() { return services_; }
    // Indicators the strategy created (keel.indicator.*), updated on each closed candle of their
    // instrument and timeframe before on_candle runs. Returns the new handle's index.
    struct IndicatorSlot {
        InstrumentIndex instrument;
        std::string timeframe;
        indicators::IndicatorSeries series;
    };
    size_t add_indicator(InstrumentIndex i, std::string timeframe,
                         std::unique_ptr<indicators::AnyIndicator> ind, size_t depth);
    const IndicatorSlot &indicator(size_t handle) const { return indicators_.at(handle); }
    size_t indicator_count() const { return indicators_.size(); }
    void report_error(const char *where, const std::string &message);

  private:
    struct Budget;
    bool push_callback(const char *name);
    void call(const char *name, int nargs);
    void push_instrument(InstrumentIndex i);
    void install_api();

    exec::StrategyIndex index_;
    config::Strategy config_;
    Services &services_;
    std::vector<InstrumentIndex> instruments_;
    // Fails the call in progress if it ran out of time or memory: marks the strategy faulted.
    void load_prelude();
    void load_fast_prelude(int ffi_ref);
    // A deadline of `callbacks` x max_callback_ms from now for the call about to run.
    void start_budget(double callbacks);
    // Clears the deadline; what was exhausted, as "ran past its time budget ...", if anything.
    std::optional<std::string> end_budget();
    void fault_strategy(const char *where, const std::string &why);
    // Runs the function and args on the stack (above the traceback) under the time budget,
    // leaving `nresults` results; throws StrategyError on an error or an exhausted budget.
    void call_or_throw(const char *name, int nargs, int nresults);

    std::unique_ptr<Budget> budget_;
    double budget_ms_ = 0;  // of the call in progress
    bool faulted_ = false;
    std::string fault_;
    bool active_ = true;
    std::atomic<uint64_t> *busy_ = nullptr;
    std::map<uint64_t, bool> timers_;           // id -> repeats
    std::vector<std::string> declared_params_;  // keel.param names, checked against the YAML
  public:
    // The binding's bookkeeping (called by the C functions of the API).
    void declare_param(const std::string &name) { declared_params_.push_back(name); }
    bool param_declared(const std::string &name) const;
    size_t timer_count() const { return timers_.size(); }
    void track_timer(uint64_t id, bool repeat) { timers_[id] = repeat; }
    void forget_timer(uint64_t id) { timers_.erase(id); }
    // Timers carried over from the version this one replaced (their ids stay valid).
    void adopt_timers(const LuaStrategy &old) { timers_ = old.timers_; }

  private:
    lua_State *L_ = nullptr;
    uint64_t errors_ = 0;
    std::string last_error_;
    int traceback_ref_ = 0;
    // Callback names as interned Lua strings (registry refs), so a dispatch does not hash the
    // name again: keyed by the literal's address, which each call site passes.
    std::vector<std::pair<const char *, int>> callback_names_;
    std::vector<int> instrument_refs_;  // registry refs of instrument id strings, by index
    std::vector<int> book_refs_;        // registry refs of book handles, by index
    std::vector<IndicatorSlot> indicators_;
};

}  // namespace keel::strategy
