#pragma once
// The engine: one thread owns all trading state (books, candles, portfolio, risk gate, orders,
// strategies) and processes events in order. Plugins hand it events through the host function
// table; those land in a queue and are processed on the engine thread. See docs/architecture.md.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include <keel/plugin.h>

#include "keel/config/config.hpp"
#include "keel/exec/conditional.hpp"
#include "keel/exec/live_venue.hpp"
#include "keel/exec/order_state.hpp"
#include "keel/exec/paper_venue.hpp"
#include "keel/exec/portfolio.hpp"
#include "keel/market/book.hpp"
#include "keel/market/book_feed.hpp"
#include "keel/market/candles.hpp"
#include "keel/notify/notifier_hub.hpp"
#include "keel/plugin/loader.hpp"
#include "keel/report/journal.hpp"
#include "keel/report/metrics.hpp"
#include "keel/risk/risk_gate.hpp"
#include "keel/strategy/lua_strategy.hpp"
#include "keel/strategy/services.hpp"

namespace keel::engine {

enum class ClockKind {
    wall,      // paper and live: timers fire at real times
    simulated  // tests and backtests: time jumps to the next timer, as fast as the CPU allows
};

// A measurement hook (bench_tick_to_order), called on the engine thread: when a raw frame is
// handed to its venue's plugin; when a book update has been applied (sync, sanitizer, marks,
// resting fills) and the strategies are about to see it; when an approved order is handed to
// the venue (the fill simulator or the live order manager), before the venue does anything with
// it. Unset (the default), the engine pays one pointer test at each of these.
class Probe {
  public:
    virtual ~Probe() = default;
    virtual void frame_in(const keel_frame &) {}
    virtual void book_ready(InstrumentIndex) {}
    virtual void order_out(exec::OrderId, const exec::OrderIntent &) {}
};

struct EngineOptions {
    ClockKind clock = ClockKind::wall;
    // Where simulated time starts; a session that replays a recording starts at its first frame.
    TimeNs simulated_start = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
    std::vector<std::filesystem::path> plugin_search = plugin::default_search_path();
    // Reload a strategy when its file is saved (wall clock only; tests use schedule()).
    bool watch_strategy_files = true;
    // Backtest windows: before `trade_from` the market runs (books, candles, indicators warm up)
    // but strategies get no market callbacks and the equity curve has not started; the session
    // ends at `trade_until`. 0: no limit.
    TimeNs trade_from = 0, trade_until = 0;
    Probe *probe = nullptr;  // not owned; must outlive run()
};

struct PositionSummary {
    std::string instrument;
    double qty = 0, avg_entry = 0, mark = 0, unrealized_pnl = 0, realized_pnl = 0;
};

// One instrument's market data as the L0 sanitizer and the sequence sync saw it.
struct MarketSummary {
    std::string instrument;
    market::SyncStats sync;
    market::RejectCounts rejects;  // book and trades together
    uint64_t resyncs = 0;  // snapshots asked of the venue after a gap or a fault (not the first)
    uint64_t latency_samples = 0;
    double latency_p50_ms = 0, latency_p99_ms = 0;  // exchange time to receive time
};

struct Summary {
    double seconds = 0;  // engine time covered by the run
    uint64_t book_events = 0, trade_events = 0, rejected_events = 0, candles = 0;
    uint64_t mark_events = 0;                   // venue mark prices (keel_mark_event)
    uint64_t frames = 0, malformed_frames = 0;  // raw frames handed to venue plugins
    std::vector<MarketSummary> market;
    uint64_t orders = 0, vetoes = 0, fills = 0, cancels = 0;
    std::map<std::string, uint64_t> vetoes_by_reason;
    uint64_t strategy_errors = 0;
    std::vector<std::string> faulted_strategies;  // "name: why"
    double starting_balance = 0, realized_pnl = 0, fees = 0, funding = 0, unrealized_pnl = 0,
           equity = 0, peak_equity = 0, gross_exposure = 0, margin_used = 0;
    std::string trading_state = "ACTIVE", drawdown_level = "NORMAL";
    std::string trading_state_reason;  // why it is not ACTIVE
    uint64_t kill_switches = 0, kill_switches_done = 0;
    uint64_t reloads = 0, failed_reloads = 0, signals = 0;
    uint64_t illegal_transitions = 0;  // order events refused by the lifecycle check
    // Live mode: the order manager's traffic and how the venue's account compares with ours.
    exec::LiveVenue::Stats live;
    uint64_t position_checks = 0, position_mismatches = 0;
    uint64_t positions_taken_over = 0;  // open positions the venue held at the start
    std::string last_reload_error;      // "name: file:line: message"
    std::vector<PositionSummary> positions;
    // Execution quality: slippage of each fill against the mid when its order arrived (bps,
    // positive = paid more than the mid), time from order to fill, and filled / asked of orders
    // that ended.
    struct Execution {
        uint64_t fills = 0, finished_orders = 0;
        double slippage_bps_weighted = 0;  // by filled quantity
        double worst_slippage_bps = 0;
        double mean_ms_to_fill = 0;
        double fill_ratio = 0;  // mean over finished orders that were accepted
    } execution;
};

// Operator commands: from a signal handler or the control API (any thread, request()), or at an
// engine time (schedule(), for tests and backtests).
enum class Command {
    halt,
    reduce,
    resume,
    kill_switch,
    reload,    // a strategy (target: its name; empty: all) from its file, keeping state and orders
    activate,  // a strategy (target) gets market and timer callbacks again
    deactivate,   // a strategy (target) keeps state and orders but gets no market callbacks
    unsubscribe,  // an instrument (target: its id) no active strategy, position or order needs
                  // stops its market data at the venue (live connections; docs/market-data.md)
    subscribe     // an unsubscribed instrument (target) gets its market data again
};
std::string format_summary(const Summary &s);

class Engine final : public strategy::Services {
  public:
    Engine(config::Config config, EngineOptions options = {});
    ~Engine() override;
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    // Loads and validates every plugin, creates instances, subscribes instruments, and compiles
    // every strategy. Nothing trades yet. Throws PluginError, ConfigError or StrategyError.
    void prepare();
    // prepare() must have run. Starts the venues and notifiers, calls on_start, and processes
    // events until `duration` of engine time has passed or request_stop() is called. Then calls
    // on_stop, cancels resting orders and returns the summary.
    Summary run(TimeNs duration);
    // Thread-safe and async-signal-tolerant enough to call from a signal-handling thread.
    void request_stop();
    // Thread-safe: carried out on the engine thread before its next event. `target` names the
    // strategy for Command::reload.
    void request(Command command, std::string why, std::string target = {});
    // Carried out when engine time reaches `at` (prepare() must have run).
    void schedule(Command command, TimeNs at, std::string why, std::string target = {});

    const strategy::LuaStrategy *strategy(const std::string &name) const;
    const risk::RiskGate &risk_gate() const { return *gate_; }
    const exec::Portfolio &portfolio() const { return *portfolio_; }
    Summary summary() const;
    // True when every venue replays a recording or plays stored data back (prepare() must have
    // run): the session ends with the data.
    bool ends_with_data() const;
    // For reports: round trips, the equity curve (every minute and after every fill) and the
    // value of every fill in quote currency.
    const report::TradeJournal &journal() const { return *journal_; }
    const std::vector<report::EquityPoint> &equity_curve() const { return equity_curve_; }
    double traded_value() const { return traded_value_; }

    // strategy::Services
    size_t instrument_count() const override { return instruments_.size(); }
    std::optional<InstrumentIndex> find_instrument(std::string_view id) const override;
    const InstrumentSpec &spec(InstrumentIndex i) const override { return instruments_.at(i); }
    const market::Book &book(InstrumentIndex i) const override {
        return feeds_.at(i).usable() ? feeds_.at(i).book() : unusable_book_;
    }
    const exec::Position &position(InstrumentIndex i) const override {
        return portfolio_->position(i);
    }
    double balance() const override { return portfolio_->balance().to_double(); }
    double equity() const override { return portfolio_->equity().to_double(); }
    strategy::RiskView risk() const override;
    TimeNs now() const override;
    exec::OrderId submit(exec::OrderIntent intent) override;
    bool cancel(exec::StrategyIndex strategy, exec::OrderId id, std::string &why) override;
    bool amend(exec::StrategyIndex strategy, exec::OrderId id, std::optional<double> qty,
               std::optional<double> price, std::string &why) override;
    std::vector<exec::OrderId> open_orders(exec::StrategyIndex strategy) const override;
    void notify(strategy::NotifyLevel level, const std::string &source, const std::string &title,
                const std::string &body) override;
    void strategy_faulted(exec::StrategyIndex strategy, const std::string &why) override;
    uint64_t add_timer(exec::StrategyIndex strategy, TimeNs period, bool repeat) override;
    bool cancel_timer(exec::StrategyIndex strategy, uint64_t id) override;
    const std::deque<market::Candle> *candles(InstrumentIndex i, TimeNs length) const override;
    void signal(exec::StrategyIndex strategy, const strategy::Signal &s) override;

    // Called by the host function table (any thread).
    struct Venue;
    void on_define_instrument(Venue &venue, const keel_instrument_def &def);
    void on_book_event(Venue &venue, const keel_book_event &event);
    void on_trade_event(Venue &venue, const keel_trade_event &event);
    void on_mark_event(Venue &venue, const keel_mark_event &event);
    // True when `id` is an instrument `venue` subscribed and defined: what its events may name.
    bool defined_by(const Venue &venue, keel_instrument_id id) const;
    void on_history(Venue &venue, const keel_candle *candles, uint32_t count);
    uint32_t on_add_timer(Venue &venue, int64_t period_ns, keel_timer_fn fn, void *user);
    void on_reject_frame(Venue &venue, const char *why);
    uint64_t on_ws_open(Venue &venue, const char *url, uint32_t flags);
    void on_order_update(Venue &venue, const keel_order_update &update);
    void on_position(Venue &venue, const keel_position_update &update);
    void on_balance(Venue &venue, const keel_balance_update &update);
    uint32_t on_http_request(Venue &venue, const keel_http_request &request);

  private:
    struct QueuedEvent {
        enum class Kind : uint8_t { book, trade, mark, history } kind;
        InstrumentIndex instrument;
        bool snapshot = false;
        TimeNs ts = 0, receive_ts = 0;  // exchange and receive time
        market::DeltaIds ids;           // a snapshot's id is ids.last
        // Into the level pool (book); a mark's index in `marks`; history's first candle in
        // `candles`, and bid_count of them.
        uint32_t first_level = 0, bid_count = 0, ask_count = 0;
        Ticks price = 0;
        Lots qty = 0;
        Side aggressor = Side::buy;
    };
    // A venue's mark price and funding (keel_mark_event).
    struct Mark {
        Money price;
        Rate funding_rate;        // of the coming funding
        TimeNs next_funding = 0;  // 0: none
    };
    struct EventBuffer {
        std::vector<QueuedEvent> events;
        std::vector<market::Level> levels;
        std::vector<Mark> marks;
        std::vector<market::Candle> candles;
        void clear() {
            events.clear();
            levels.clear();
            marks.clear();
            candles.clear();
        }
    };
    struct Timer {
        TimeNs deadline;
        uint64_t seq;  // ties fire in creation order, so runs are deterministic
        TimeNs period;
        keel_timer_fn fn;
        void *user;
        bool operator>(const Timer &o) const {
            return deadline != o.deadline ? deadline > o.deadline : seq > o.seq;
        }
    };
    // The candles one strategy receives: its timeframes by length, each with its own spelling
    // ("60s" stays "60s"), and whether it wants flat candles for empty intervals.
    struct CandleWants {
        std::vector<std::pair<TimeNs, std::string>> timeframes;
        bool flat = true;
    };

    void load_venues();
    void load_notifiers();
    void load_strategies();
    void fire_due_timers();
    void fire_strategy_timers();
    // Paper funding: applies the account's rate to every linear position when due, except on
    // instruments whose venue publishes its own funding (process_mark settles those).
    void settle_funding();
    TimeNs next_funding_ = 0;  // 0: none
    // Where a plugin's event goes: from the engine thread (plugins called by the engine, the
    // usual case) into own_ with no lock; from any other thread into incoming_ under the lock.
    template <class Add>
    void enqueue(Add &&add) {
        if (std::this_thread::get_id() == engine_thread_.load(std::memory_order_relaxed))
            return add(own_);
        std::lock_guard lock(mutex_);
        add(incoming_);
        foreign_events_.store(true, std::memory_order_relaxed);
        wake_.notify_one();
    }
    void process_queue();
    void process_events();  // of processing_, then cleared
    // Replay: hands every frame due by now() to its venue's plugin, one at a time, each
    // followed by the events it produced. False once every recording has ended.
    bool replay_due_frames();
    void deliver_frame(Venue &venue, const keel_frame &frame, bool record = true);
    // What the venues' network threads received (frames, REST answers, links going up or
    // down), handed to the plugins on this thread in arrival order.
    struct NetMessage {
        enum class Kind : uint8_t { frame, answer, link } kind = Kind::frame;
        Venue *venue = nullptr;
        uint64_t id = 0;       // the connection (frames, links)
        uint64_t request = 0;  // the plugin's request (answers)
        int status = 0;
        bool unsent = false, up = false, is_private = false;
        std::string text;  // frame or body, padded for SIMD parsers; the error of a failure
        size_t size = 0;   // of the text without the padding
        std::string url, headers;
        TimeNs received = 0;
    };
    static constexpr size_t kFramePadding = 64;
    void deliver_network();
    bool networked_ = false;  // some venue may use the network (not a replay or backtest)
    // A book that stopped being usable asks its venue for a snapshot, once per episode.
    void request_snapshot(InstrumentIndex i);
    void check_stale_books();
    TimeNs next_stale_check_ = 0;
    // Warm-up: candle files from the config, before the session starts.
    void load_history();
    void process_book(const QueuedEvent &e, const EventBuffer &buf);
    void process_trade(const QueuedEvent &e);
    // A venue mark: triggers what watches the mark and, off live, settles the venue's funding
    // when the mark shows its funding time has passed.
    void process_mark(const QueuedEvent &e, const Mark &m);
    // Warm-up candles from a venue (request_history) or a file: seeds candles and indicators,
    // with flat candles after them up to `until`.
    void seed_history(InstrumentIndex i, const std::vector<market::Candle> &history,
                      const std::string &source, TimeNs until);
    // After start (and when an instrument is subscribed again): asks its venue for the history
    // of every timeframe of `i` no file warms.
    void request_venue_history(InstrumentIndex i);
    Venue *venue_of(InstrumentIndex i) const;  // the venue an instrument trades on
    // Command::subscribe / unsubscribe of instrument `id`; refused, with the reason logged,
    // where the venue cannot or the instrument is still needed.
    void change_subscription(const std::string &id, bool subscribe, const std::string &why);
    // The value of a price given in half ticks, in Money units (for funding at the mid).
    Money half_ticks_amount(InstrumentIndex i, Ticks two_price) const;
    void emit_candle(InstrumentIndex i, const market::Candle &c);
    void handle_venue_events();
    void deliver_order_events();
    // Paper orders and cancels that reached the simulated venue by now() (PaperVenue::advance),
    // then booked and delivered. `inclusive` false before a market event stamped now(): the
    // event came first. A no-op in live mode or with nothing on its way.
    void arrive_paper(bool inclusive);
    // Session end: what is still on its way to the simulated venue arrives against the last
    // books.
    void flush_paper();
    exec::PaperVenue::Books paper_books_;  // each instrument's book while it is usable
    void reject(const exec::OrderIntent &intent, exec::OrderId id, const risk::Veto &veto);
    // What the gate sees for an order of `strategy` on instrument `i`: its book, the portfolio
    // and the working orders (all but `except`, the order an amendment changes).
    risk::RiskContext risk_context(InstrumentIndex i, exec::StrategyIndex strategy,
                                   exec::OrderId except = 0) const;
    // Counts, logs and (first of a reason, then every 100th) alerts a veto.
    void note_veto(const exec::OrderIntent &intent, exec::OrderId id, const risk::Veto &veto);
    // Every order event passes here: checked against the lifecycle (exec/order_state.hpp),
    // logged, and queued for the owning strategy; an impossible one is logged and dropped.
    void book_event(exec::OrderEvent e);
    // The one door to the venue: every order, the strategies' and the host's, passes the gate.
    // `id`: reuse (a triggered conditional order keeps its id); `oco`: the order's OCO group.
    exec::OrderId place(exec::OrderIntent intent, exec::OrderId id = 0, exec::OrderId oco = 0);
    // A host-made event for an order that is not at the venue (conditional orders).
    void conditional_event(const exec::ConditionalOrder &o, exec::OrderStatus status,
                           const char *reason, std::string message = {});
    // A new value of the price `source` on instrument i, in half ticks (rounded down and up).
    void trigger_conditionals(InstrumentIndex i, exec::TriggerPrice source, Ticks floor2,
                              Ticks ceil2);
    // Brackets: after a fill of entry `id`, (re)places its stop and take-profit for all filled.
    void update_bracket(exec::OrderId id, Lots fill);
    bool cancel_conditional(exec::OrderId id, const char *reason);
    // After fills and marks: lets the gate watch the account and acts on what it reports.
    void watch_account();
    struct Request {
        Command command;
        std::string why, target;
    };
    void run_command(const Request &r);
    void reload_strategy(const std::string &name, const std::string &why);
    void start_kill_switch(const std::string &why);
    void advance_kill_switch();
    void log_order_event(const exec::OrderEvent &e);
    void shutdown_orders();
    std::optional<double> mark(InstrumentIndex i) const;

    config::Config config_;
    EngineOptions options_;
    std::vector<std::unique_ptr<Venue>> venues_;
    std::vector<InstrumentSpec> instruments_;
    std::vector<bool> defined_;
    std::vector<bool> subscribed_;  // false after Command::unsubscribe: its market data is dropped
    TimeNs session_start_ = std::numeric_limits<TimeNs>::max();  // when run() started
    // Per instrument: the book behind its venue's sequence rule and the L0 sanitizer, the trade
    // filter, and whether a snapshot has been asked for since the book last became unusable.
    std::vector<market::BookFeed> feeds_;
    std::vector<market::TradeFilter> trade_filters_;
    std::vector<bool> snapshot_requested_;
    std::vector<bool> playback_;  // stored data played back at its own pace: never stale
    market::Book unusable_book_;  // what strategies read while a book is not usable
    std::vector<uint64_t> resyncs_;
    std::vector<market::CandleSet> candles_;  // per instrument; empty when nobody wants candles
    // Per instrument: the venue's last mark (known once one came), and one tick in Money units
    // (0 when a tick is finer than Money can hold: marks then cannot trigger exactly).
    std::vector<std::optional<Mark>> marks_;
    std::vector<int64_t> tick_amounts_;
    // Per instrument: the exchange time of its latest market event and when that arrived (0:
    // none yet). Candles close on the venue's clock where it runs behind ours (every venue by
    // its latency; a venue replaying old data by years), so no trade still on its way is late.
    std::vector<TimeNs> exchange_seen_, exchange_seen_at_;
    // The venue's clock when the session started, from its first market event (0: none yet):
    // candles ending after it are the session's own, before it warm-up.
    std::vector<TimeNs> venue_start_;
    void note_exchange_time(InstrumentIndex i, TimeNs ts, TimeNs received);
    TimeNs market_clock(InstrumentIndex i) const;
    std::vector<CandleWants> candle_wants_;  // per strategy
    // Per strategy, odd while one of its callbacks runs; read by the watchdog thread.
    std::unique_ptr<std::atomic<uint64_t>[]> busy_;
    void watchdog(std::atomic<bool> &stop);
    // Recent closed candles per instrument and timeframe length, to warm a reloaded strategy's
    // indicators (at most kCandleHistory each).
    std::vector<std::map<TimeNs, std::deque<market::Candle>>> candle_history_;
    std::vector<std::unique_ptr<strategy::LuaStrategy>> strategies_;
    std::unique_ptr<exec::Portfolio> portfolio_;
    std::unique_ptr<exec::PaperVenue> paper_;
    std::unique_ptr<exec::LiveVenue> live_;  // mode live: orders go to the venue plugins
    // The venue orders go to: the plugins' in live mode, the fill simulator otherwise.
    template <typename F>
    decltype(auto) orders(F &&f) const {
        return live_ ? f(std::as_const(*live_)) : f(std::as_const(*paper_));
    }
    template <typename F>
    decltype(auto) orders(F &&f) {
        return live_ ? f(*live_) : f(*paper_);
    }
    void make_live_venue();
    // Hands the venues' newly declared order limits to the live order manager.
    void take_order_limits();
    // What live venues said about orders and positions (any thread -> engine thread), in the
    // order they said it.
    struct AccountUpdate {
        enum class Kind : uint8_t { order, position, funding } kind = Kind::order;
        exec::VenueOrderUpdate order;
        InstrumentIndex instrument = 0;  // a position's
        Lots position = 0;
        Ticks entry = 0;  // the position's average entry price
        Money funding;    // what the venue paid (+) or charged (-) the account
    };
    std::vector<AccountUpdate> account_in_, account_updates_;
    void process_account_updates();
    // The venue's last word on each position, compared with keel's once the instrument's account
    // traffic has been quiet for a while: answers and the account stream come on different
    // connections, so a position report can be older or newer than the fills keel has booked.
    struct VenuePosition {
        Lots qty = 0;
        bool unchecked = false;
        TimeNs last_change = 0;  // the last order update or position report
    };
    std::vector<VenuePosition> venue_positions_;
    // Live linear instruments: false until the venue's first position report, which keel takes
    // over (an earlier run's position, or one made by hand). Until then strategies hear nothing
    // of the instrument and the gate refuses orders on it (POSITION_UNKNOWN). Spot holdings are
    // not positions the venue reports: spot is always known (keel counts only its own fills).
    std::vector<char> position_known_;
    bool position_wait_checked_ = false;
    void take_over_position(InstrumentIndex i, Lots qty, Ticks entry);
    // Compares the venue's positions with keel's; says once if one is still unknown after 10 s.
    void check_positions();
    // Live shutdown: cancels are confirmed by the venue, so wait (bounded) for their answers.
    void drain_live_orders();
    // Session end, after the orders: plugins release what the venue holds for the session
    // (ABI 1.6 stop), and their last requests are answered (2 s at most).
    void stop_venues();
    std::unique_ptr<risk::RiskGate> gate_;
    exec::ConditionalBook conditional_;
    exec::OrderTracker tracker_;
    std::vector<exec::ConditionalOrder> triggered_;  // scratch
    struct Bracket {
        exec::OrderIntent entry;
        Lots filled = 0;
        exec::OrderId stop_leg = 0, target_leg = 0;
    };
    std::map<exec::OrderId, Bracket> brackets_;  // by entry id, while the entry works
    // Execution quality: what each working order arrived to, and running sums.
    struct Arrival {
        Ticks two_mid = 0;  // bid + ask when the order was placed (0: no book)
        TimeNs at = 0;
        Lots qty = 0, filled = 0;
    };
    std::map<exec::OrderId, Arrival> arrivals_;
    double slip_qty_sum_ = 0, slip_weighted_sum_ = 0, ms_to_fill_sum_ = 0, fill_ratio_sum_ = 0;
    void measure_execution(const exec::OrderEvent &e, double &slippage_bps);
    std::vector<risk::RiskEvent> risk_events_;
    std::unique_ptr<report::TradeJournal> journal_;
    std::vector<report::EquityPoint> equity_curve_;
    TimeNs next_equity_sample_ = 0;
    TimeNs curve_from_ = 0;  // the curve restarts when a later backtest window opens
    double traded_value_ = 0;
    void sample_equity();
    struct KillSwitch {
        bool active = false;
        TimeNs started = 0;
        std::string why;
        int attempts = 0;
        uint64_t cancelled = 0, orders = 0;
        bool late_alerted = false;
        std::vector<exec::OrderId> exits;  // its reducing orders, not sent again while working
    } kill_;
    notify::NotifierHub notifiers_;

    std::atomic<std::thread::id> engine_thread_;  // the one running run()
    EventBuffer own_;                             // emitted on the engine thread
    // Shared with plugin threads.
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    EventBuffer incoming_;  // emitted on other threads
    std::atomic<bool> foreign_events_{false};
    std::vector<NetMessage> net_incoming_;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
    uint64_t timer_seq_ = 0;
    std::atomic<bool> stop_requested_{false};
    std::vector<Request> commands_;  // requested, not yet run
    // Strategy timers (engine thread only): due time, then creation order.
    struct StrategyTimer {
        TimeNs deadline;
        uint64_t id;
        exec::StrategyIndex strategy;
        TimeNs period;  // 0: fires once
        bool operator>(const StrategyTimer &o) const {
            return deadline != o.deadline ? deadline > o.deadline : id > o.id;
        }
    };
    std::priority_queue<StrategyTimer, std::vector<StrategyTimer>, std::greater<>> strategy_timers_;
    std::map<uint64_t, exec::StrategyIndex> live_timers_;  // id -> owner
    uint64_t next_timer_id_ = 1;
    std::multimap<TimeNs, Request> scheduled_;  // by engine time
    std::atomic<uint64_t> rejected_events_{0};  // malformed events, counted on any thread

    // Engine thread only.
    EventBuffer processing_;
    std::vector<NetMessage> net_processing_;
    std::vector<exec::OrderEvent> venue_events_;    // produced by the paper venue, not yet booked
    std::vector<exec::OrderEvent> pending_events_;  // booked, waiting for the strategy's on_order
    TimeNs sim_now_ = 0;
    exec::OrderId next_order_id_ = 1;
    Summary stats_;
    bool prepared_ = false;
};

}  // namespace keel::engine
