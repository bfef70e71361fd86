#include "keel/engine/engine.hpp"
#include "keel/strategy/file_watcher.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "keel/core/time_text.hpp"
#include "keel/log/log.hpp"
#include "keel/market/candle_file.hpp"
#include "keel/market/capture.hpp"
#include "keel/net/transport.hpp"

namespace keel::engine {

struct Engine::Venue {
    Engine *engine = nullptr;
    std::string name;
    std::shared_ptr<plugin::Library> library;
    plugin::Settings settings;
    keel_host_api host{};
    void *self = nullptr;
    // Replay: the recording and its next frame (views into the reader, valid until it moves).
    std::unique_ptr<market::RecordingReader> replay;
    bool replay_pending = false;
    TimeNs replay_ts = 0;
    std::string_view replay_frame;
    std::string replay_url;  // NUL-terminated copy for keel_frame::url
    // Recording: every frame handed to the plugin.
    std::unique_ptr<market::CaptureWriter> recorder;
    uint64_t frames = 0;
    bool playback = false;                 // plays stored data back (KEEL_CAP_PLAYBACK)
    std::atomic<bool> end_of_data{false};  // ... and has emitted all of it
    std::atomic<uint64_t> malformed{0};    // reject_frame may come from any thread
    // The venue's network (created on its first ws_open or http_request; wall clock only).
    std::filesystem::path ca_file;
    std::unique_ptr<net::Transport> net;
    std::mutex net_mutex;                     // ws_open/http_request may come from any thread
    std::atomic<uint32_t> http_in_flight{0};  // requests sent whose answer is not yet delivered
    bool offline = false;                     // fed stored data: no network
    // Limits on new orders the plugin declared (declare_order_limit, any thread); the live
    // order manager takes them on the engine thread when `order_limits_changed` is set.
    std::mutex order_limits_mutex;
    std::vector<exec::OrderLimit> order_limits;
    std::atomic<bool> order_limits_changed{false};
    net::Transport &network() {
        std::lock_guard lock(net_mutex);
        if (!net) net = std::make_unique<net::Transport>(ca_file.string());
        return *net;
    }

    // Reads the recording's next frame; a line that is not a frame is counted and skipped. An
    // error that does not move past a line (the file cannot be read) ends the replay with it.
    void read_replay() {
        uint64_t failed_at = UINT64_MAX;
        while (true) {
            try {
                replay_pending = replay->next(replay_ts, replay_frame);
                replay_url.assign(replay->url());
                return;
            } catch (const std::runtime_error &e) {
                if (replay->line_number() == failed_at) throw;
                failed_at = replay->line_number();
                if (malformed++ < 10) keel::log::get("market").warn("[{}] {}", name, e.what());
            }
        }
    }

    ~Venue() {
        net.reset();  // no network callback may outlive the plugin
        if (self) library->exchange().destroy(self);
    }
};

namespace {

// An optional entry of a plugin's descriptor: inside the struct it was built with, and set.
#define KEEL_HAS_ENTRY(d, entry) \
    ((d).struct_size >= offsetof(keel_exchange_plugin, entry) + sizeof(void *) && (d).entry)

// The kill switch must confirm within this much engine time (seed 003), or it alerts.
constexpr TimeNs kKillDeadline = 5'000'000'000;

// Closed candles kept per instrument and timeframe for warming reloaded indicators: the
// Lorentzian model's default window (2,000 bars) with room to spare.
constexpr size_t kCandleHistory = 5000;

constexpr TimeNs kMinute = 60'000'000'000;

// Host function table for exchange plugins. No exception may cross back into C.
template <typename F>
void shield(Engine::Venue *v, const char *what, F &&f) {
    try {
        f();
    } catch (const std::exception &e) {
        keel::log::get("plugin").error("[{}] {} failed: {}", v->name, what, e.what());
    } catch (...) {
        keel::log::get("plugin").error("[{}] {} failed", v->name, what);
    }
}

void host_log(void *ctx, uint32_t level, const char *msg) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    auto lvl = level >= KEEL_LOG_ERROR  ? spdlog::level::err
               : level == KEEL_LOG_WARN ? spdlog::level::warn
               : level == KEEL_LOG_INFO ? spdlog::level::info
                                        : spdlog::level::debug;
    keel::log::get("plugin").log(lvl, "[{}] {}", v->name, msg ? msg : "");
}
int64_t host_now(void *ctx) {
    return static_cast<Engine::Venue *>(ctx)->engine->now();
}
uint32_t host_add_timer(void *ctx, int64_t period, keel_timer_fn fn, void *user) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    uint32_t rc = KEEL_ERROR;
    shield(v, "add_timer", [&] { rc = v->engine->on_add_timer(*v, period, fn, user); });
    return rc;
}
void host_define_instrument(void *ctx, const keel_instrument_def *def) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    shield(v, "define_instrument", [&] {
        if (def) v->engine->on_define_instrument(*v, *def);
    });
}
void host_emit_book(void *ctx, const keel_book_event *e) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    shield(v, "emit_book", [&] {
        if (e) v->engine->on_book_event(*v, *e);
    });
}
void host_emit_trade(void *ctx, const keel_trade_event *e) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    shield(v, "emit_trade", [&] {
        if (e) v->engine->on_trade_event(*v, *e);
    });
}
void host_end_of_data(void *ctx) {
    static_cast<Engine::Venue *>(ctx)->end_of_data = true;
}
void host_reject_frame(void *ctx, const char *why) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    shield(v, "reject_frame", [&] { v->engine->on_reject_frame(*v, why ? why : ""); });
}

uint64_t host_ws_open(void *ctx, const char *url, uint32_t flags) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    uint64_t id = 0;
    shield(v, "ws_open", [&] {
        if (url) id = v->engine->on_ws_open(*v, url, flags);
    });
    return id;
}
uint32_t host_ws_send(void *ctx, uint64_t connection, const char *data, size_t size) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    uint32_t rc = KEEL_ERROR;
    shield(v, "ws_send", [&] {
        if (!v->offline && v->net && (data || size == 0) &&
            v->net->ws_send(connection, std::string(data ? data : "", size)))
            rc = KEEL_OK;
    });
    return rc;
}
void host_ws_close(void *ctx, uint64_t connection) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    shield(v, "ws_close", [&] {
        if (v->net) v->net->ws_close(connection);
    });
}
uint32_t host_http_request(void *ctx, const keel_http_request *request) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    uint32_t rc = KEEL_ERROR;
    shield(v, "http_request", [&] {
        if (request) rc = v->engine->on_http_request(*v, *request);
    });
    return rc;
}
void host_emit_order_update(void *ctx, const keel_order_update *u) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    shield(v, "emit_order_update", [&] {
        if (u) v->engine->on_order_update(*v, *u);
    });
}
void host_emit_position(void *ctx, const keel_position_update *u) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    shield(v, "emit_position", [&] {
        if (u) v->engine->on_position(*v, *u);
    });
}
void host_emit_balance(void *ctx, const keel_balance_update *u) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    shield(v, "emit_balance", [&] {
        if (u) v->engine->on_balance(*v, *u);
    });
}
void host_emit_mark(void *ctx, const keel_mark_event *e) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    shield(v, "emit_mark", [&] {
        if (e) v->engine->on_mark_event(*v, *e);
    });
}
void host_emit_history(void *ctx, const keel_candle *candles, uint32_t count) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    shield(v, "emit_history", [&] {
        if (candles || count == 0) v->engine->on_history(*v, candles, count);
    });
}
uint32_t host_offline(void *ctx) {
    return static_cast<Engine::Venue *>(ctx)->offline ? 1u : 0u;
}
uint32_t host_declare_order_limit(void *ctx, uint32_t max_orders, int64_t interval_ns) {
    auto *v = static_cast<Engine::Venue *>(ctx);
    if (max_orders == 0 || interval_ns <= 0) return KEEL_ERROR;
    uint32_t rc = KEEL_ERROR;
    shield(v, "declare_order_limit", [&] {
        std::lock_guard lock(v->order_limits_mutex);
        std::erase_if(v->order_limits,
                      [&](const exec::OrderLimit &l) { return l.interval == interval_ns; });
        v->order_limits.push_back({max_orders, interval_ns});
        v->order_limits_changed = true;
        rc = KEEL_OK;
    });
    return rc;
}

TimeNs wall_now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

uint32_t to_notify_level(strategy::NotifyLevel l) {
    return static_cast<uint32_t>(l);
}

// Events a plugin hands over are copied only if their struct is at least the v1 size.
template <typename T>
bool v1_sized(const T &event, size_t v1_size) {
    return event.struct_size >= v1_size;
}

}  // namespace

Engine::Engine(config::Config config, EngineOptions options)
    : config_(std::move(config)), options_(std::move(options)) {
    sim_now_ = options_.simulated_start;
}

Engine::~Engine() {
    // Plugins go before the engine state they call into; notifiers drain last.
    venues_.clear();
    notifiers_.stop();
}

TimeNs Engine::now() const {
    return options_.clock == ClockKind::wall ? wall_now() : sim_now_;
}

std::optional<InstrumentIndex> Engine::find_instrument(std::string_view id) const {
    for (InstrumentIndex i = 0; i < instruments_.size(); ++i)
        if (instruments_[i].id == id) return i;
    return std::nullopt;
}

// ---- start-up ------------------------------------------------------------------------------

void Engine::prepare() {
    if (prepared_) return;
    // Instrument indices follow the config order.
    for (auto &inst : config_.instruments) {
        InstrumentSpec spec;
        spec.id = inst.id;
        spec.symbol = inst.symbol;
        spec.venue = inst.venue;
        instruments_.push_back(spec);
    }
    defined_.assign(instruments_.size(), false);
    subscribed_.assign(instruments_.size(), true);
    market::SanitizerConfig sanitizer;
    sanitizer.stale_after = static_cast<TimeNs>(config_.market.stale_after_s * 1e9);
    sanitizer.max_jump = config_.market.max_jump_pct / 100;
    sanitizer.outlier_confirmations = static_cast<uint32_t>(config_.market.outlier_confirmations);
    // Rule `none` until the venue defines the instrument with its own.
    feeds_.assign(instruments_.size(), market::BookFeed(market::SequenceRule::none, sanitizer));
    trade_filters_.assign(instruments_.size(), market::TradeFilter(sanitizer));
    snapshot_requested_.assign(instruments_.size(), false);
    playback_.assign(instruments_.size(), false);
    resyncs_.assign(instruments_.size(), 0);
    marks_.assign(instruments_.size(), std::nullopt);
    exchange_seen_.assign(instruments_.size(), 0);
    exchange_seen_at_.assign(instruments_.size(), 0);
    venue_start_.assign(instruments_.size(), 0);
    tick_amounts_.assign(instruments_.size(), 0);
    load_venues();
    load_notifiers();
    exec::AccountSettings account;
    account.starting_balance = Money::from_double(config_.account.starting_balance);
    for (auto &inst : config_.instruments) {
        account.kinds.push_back(inst.spot ? exec::InstrumentKind::spot
                                          : exec::InstrumentKind::linear);
        account.leverage.push_back(inst.leverage);
    }
    portfolio_ = std::make_unique<exec::Portfolio>(instruments_, std::move(account));
    paper_ = std::make_unique<exec::PaperVenue>(config_.account, instruments_);
    paper_books_ = [this](InstrumentIndex i) -> const market::Book * {
        return feeds_[i].usable() ? &feeds_[i].book() : nullptr;
    };
    position_known_.assign(instruments_.size(), 1);
    if (config_.mode == config::Mode::live) {
        if (!config_.account.order_latency.zero() || !config_.account.cancel_latency.zero())
            keel::log::get("exec").warn(
                "account.order_latency and account.cancel_latency model the fill simulator's "
                "venue; mode live ignores them");
        make_live_venue();
    } else if (!config_.account.order_latency.zero() || !config_.account.cancel_latency.zero()) {
        keel::log::get("exec").info("fill simulator latency: orders {}, cancels {} (seed {})",
                                    exec::describe(config_.account.order_latency),
                                    exec::describe(config_.account.cancel_latency),
                                    config_.account.latency_seed);
    }
    std::vector<std::string> strategy_names;
    for (auto &s : config_.strategies) strategy_names.push_back(s.name);
    gate_ = std::make_unique<risk::RiskGate>(config_.risk, instruments_, strategy_names);
    journal_ = std::make_unique<report::TradeJournal>(instruments_);
    load_strategies();
    load_history();
    prepared_ = true;
}

void Engine::make_live_venue() {
    if (options_.clock != ClockKind::wall)
        throw config::ConfigError(config_.file.string() +
                                  ": mode live trades on the wall clock, not in a replay or "
                                  "backtest");
    std::vector<exec::LiveVenue::Link> links;
    for (InstrumentIndex i = 0; i < instruments_.size(); ++i) {
        Venue *v = nullptr;
        size_t venue_index = 0;
        for (size_t k = 0; k < venues_.size(); ++k)
            if (venues_[k]->name == instruments_[i].venue) {
                v = venues_[k].get();
                venue_index = k;
            }
        position_known_[i] = config_.instruments[i].spot;
        const auto &d = v->library->exchange();
        const bool trades = (d.capabilities & KEEL_CAP_TRADING) &&
                            KEEL_HAS_ENTRY(d, query_orders) && d.place_order && d.cancel_order;
        if (!trades)
            throw config::ConfigError(config_.file.string() + ": venues." + v->name + ": plugin " +
                                      v->library->name() +
                                      " does not trade, so mode live cannot send " +
                                      instruments_[i].id + " orders to it");
        exec::LiveVenue::Link link;
        link.venue = venue_index;
        link.venue_id = i;
        link.place = [v](const keel_order_request &r, std::string &why) {
            char err[512] = {0};
            if (v->library->exchange().place_order(v->self, &r, err, sizeof err) == KEEL_OK)
                return true;
            why = err[0] ? err : "place_order failed without a message";
            return false;
        };
        if (KEEL_HAS_ENTRY(d, place_orders))
            link.place_batch = [v](std::span<const keel_order_request> orders, std::string &why) {
                char err[512] = {0};
                if (v->library->exchange().place_orders(v->self, orders.data(),
                                                        static_cast<uint32_t>(orders.size()), err,
                                                        sizeof err) == KEEL_OK)
                    return true;
                why = err[0] ? err : "place_orders failed without a message";
                return false;
            };
        link.cancel = [v](keel_instrument_id id, const std::string &client, std::string &why) {
            char err[512] = {0};
            if (v->library->exchange().cancel_order(v->self, id, client.c_str(), err, sizeof err) ==
                KEEL_OK)
                return true;
            why = err[0] ? err : "cancel_order failed without a message";
            return false;
        };
        link.query = [v](keel_instrument_id id, const std::string &client, std::string &why) {
            char err[512] = {0};
            if (v->library->exchange().query_orders(v->self, id, client.c_str(), err, sizeof err) ==
                KEEL_OK)
                return true;
            why = err[0] ? err : "query_orders failed without a message";
            return false;
        };
        if (KEEL_HAS_ENTRY(d, amend_order))
            link.amend = [v](const keel_order_request &r, std::string &why) {
                char err[512] = {0};
                if (v->library->exchange().amend_order(v->self, &r, err, sizeof err) == KEEL_OK)
                    return true;
                why = err[0] ? err : "amend_order failed without a message";
                return false;
            };
        links.push_back(std::move(link));
    }
    // Client order ids carry the config's name and the start time, so two runs never share one
    // and a run knows the orders an earlier one left.
    exec::LiveVenue::Session session{
        .deployment = config_.file.stem().string().substr(0, 8),
        .run = fmt::format("{:06x}", wall_now() / 1'000'000'000 % 0xffffff),
        .earlier_orders = config_.earlier_orders,
        .new_id = [this] { return next_order_id_++; }};
    live_ = std::make_unique<exec::LiveVenue>(std::move(session), instruments_, std::move(links));
    take_order_limits();
}

void Engine::take_order_limits() {
    for (size_t i = 0; i < venues_.size(); ++i) {
        Venue &v = *venues_[i];
        // A plain load first: the loop asks every pass, and a change is rare.
        if (!v.order_limits_changed.load(std::memory_order_relaxed) ||
            !v.order_limits_changed.exchange(false))
            continue;
        std::lock_guard lock(v.order_limits_mutex);
        for (const auto &limit : v.order_limits) {
            live_->declare_order_limit(i, limit);
            keel::log::get("exec").info("venue {}: at most {} new orders per {} s", v.name,
                                        limit.max_orders,
                                        static_cast<double>(limit.interval) / 1e9);
        }
    }
}

void Engine::on_order_update(Venue &venue, const keel_order_update &u) {
    if (u.struct_size < offsetof(keel_order_update, realized_pnl_amount) + sizeof(int64_t) ||
        u.instrument >= instruments_.size() || instruments_[u.instrument].venue != venue.name) {
        ++rejected_events_;
        return;
    }
    exec::VenueOrderUpdate c;
    c.instrument = u.instrument;
    c.client_order_id = u.client_order_id ? u.client_order_id : "";
    c.venue_order_id = u.venue_order_id ? u.venue_order_id : "";
    c.message = u.message ? u.message : "";
    c.fee_asset = u.fee_asset ? u.fee_asset : "";
    c.state = u.state;
    c.side = u.side;
    c.reason = u.reason;
    c.venue_code = u.venue_code;
    c.ts = u.exchange_ts_ns;
    c.qty = u.qty_lots;
    c.filled = u.filled_lots;
    c.last_qty = u.last_qty_lots;
    c.price = u.price_ticks;
    c.last_price = u.last_price_ticks;
    c.trade_id = u.trade_id;
    c.maker = u.maker != 0;
    c.fee_amount = u.fee_amount;
    if (u.struct_size >= offsetof(keel_order_update, retry_at_ns) + sizeof(int64_t))
        c.retry_at = u.retry_at_ns;
    std::lock_guard lock(mutex_);
    account_in_.push_back({.order = std::move(c)});
    wake_.notify_one();
}

void Engine::on_position(Venue &venue, const keel_position_update &u) {
    if (u.struct_size < offsetof(keel_position_update, unrealized_pnl_amount) + sizeof(int64_t) ||
        u.instrument >= instruments_.size() || instruments_[u.instrument].venue != venue.name)
        return;
    std::lock_guard lock(mutex_);
    account_in_.push_back({.kind = AccountUpdate::Kind::position,
                           .instrument = u.instrument,
                           .position = u.qty_lots,
                           .entry = u.entry_price_ticks});
    wake_.notify_one();
}

void Engine::on_balance(Venue &venue, const keel_balance_update &u) {
    if (u.struct_size < offsetof(keel_balance_update, free_amount) + sizeof(int64_t) || !u.asset)
        return;
    keel::log::get("exec").info("[{}] balance {}: {:.8f} ({:.8f} free)", venue.name, u.asset,
                                static_cast<double>(u.total_amount) / KEEL_AMOUNT_SCALE,
                                static_cast<double>(u.free_amount) / KEEL_AMOUNT_SCALE);
    // Live funding is the venue's: its payments are booked as it reports them.
    if (u.struct_size >= offsetof(keel_balance_update, change_amount) + sizeof(int64_t) &&
        u.reason == KEEL_BALANCE_FUNDING && u.change_amount != 0) {
        std::lock_guard lock(mutex_);
        account_in_.push_back(
            {.kind = AccountUpdate::Kind::funding, .funding = Money::from_units(u.change_amount)});
        wake_.notify_one();
    }
}

void Engine::process_account_updates() {
    {
        std::lock_guard lock(mutex_);
        if (account_in_.empty()) return;
        std::swap(account_in_, account_updates_);
    }
    venue_positions_.resize(instruments_.size());
    for (const auto &u : account_updates_) {
        if (u.kind == AccountUpdate::Kind::funding) {
            if (live_) {
                portfolio_->on_venue_funding(u.funding);
                keel::log::get("exec").info("funding from the venue: {:+.8f}",
                                            u.funding.to_double());
            }
            continue;
        }
        if (u.kind == AccountUpdate::Kind::order) {
            if (u.order.instrument < venue_positions_.size())
                venue_positions_[u.order.instrument].last_change = now();
            if (live_) live_->on_update(u.order, now(), venue_events_);
            handle_venue_events();
            continue;
        }
        if (!position_known_[u.instrument]) take_over_position(u.instrument, u.position, u.entry);
        auto &p = venue_positions_[u.instrument];
        p.qty = u.position;
        p.unchecked = true;
        p.last_change = now();
    }
    account_updates_.clear();
    watch_account();
    deliver_order_events();
}

void Engine::take_over_position(InstrumentIndex i, Lots qty, Ticks entry) {
    // The venue's word from before any order of this run: nothing of keel's is in it yet, and
    // whatever keel booked (an adopted order's fill) is in it already.
    position_known_[i] = 1;
    const auto &spec = instruments_[i];
    if (position_wait_checked_)  // it was reported unknown: say it is over
        keel::log::get("exec").info("{}: the venue reported its position at last; trading it",
                                    spec.id);
    if (qty == 0 && portfolio_->position(i).qty == 0) return;
    portfolio_->take_over(i, qty, entry);
    ++stats_.positions_taken_over;
    auto body = fmt::format("the venue holds {} at {}; keel counts it from now on",
                            spec.qty_text(qty), spec.price_text(entry));
    keel::log::get("exec").warn("{}: position taken over: {}", spec.id, body);
    notify(strategy::NotifyLevel::warning, "exec", spec.id + ": position taken over", body);
    watch_account();
}

void Engine::check_positions() {
    constexpr TimeNs kQuiet = 2'000'000'000;  // no order update or report for this long
    constexpr TimeNs kReportDue = 10'000'000'000;
    if (!position_wait_checked_ && now() - session_start_ >= kReportDue) {
        position_wait_checked_ = true;
        for (InstrumentIndex i = 0; i < position_known_.size(); ++i) {
            if (position_known_[i]) continue;
            const auto &spec = instruments_[i];
            auto body = fmt::format(
                "venue {} has not reported its position after {} s: strategies hear nothing of "
                "{} and its orders are refused (POSITION_UNKNOWN) until it does",
                spec.venue, kReportDue / 1'000'000'000, spec.id);
            keel::log::get("exec").error("{}: {}", spec.id, body);
            notify(strategy::NotifyLevel::error, "exec", spec.id + ": position unknown", body);
        }
    }
    for (InstrumentIndex i = 0; i < venue_positions_.size(); ++i) {
        auto &p = venue_positions_[i];
        if (!p.unchecked || now() - p.last_change < kQuiet) continue;
        if (live_ && !live_->settled(i)) continue;  // an order's fate is being asked: not yet
        p.unchecked = false;
        ++stats_.position_checks;
        const Lots ours = portfolio_->position(i).qty;
        if (ours == p.qty) continue;
        ++stats_.position_mismatches;
        const auto &spec = instruments_[i];
        keel::log::get("exec").warn("{}: the venue holds {}, keel counts {}", spec.id,
                                    spec.qty_text(p.qty), spec.qty_text(ours));
        notify(strategy::NotifyLevel::warning, "exec",
               spec.id + ": position differs from the venue",
               fmt::format("venue {}, keel {}", spec.qty_text(p.qty), spec.qty_text(ours)));
    }
}

void Engine::drain_live_orders() {
    if (!live_) return;
    const TimeNs deadline = now() + 5'000'000'000;
    while (live_->open_orders() > 0 && now() < deadline) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, std::chrono::milliseconds(100),
                           [&] { return !net_incoming_.empty() || !account_in_.empty(); });
        }
        deliver_network();
        process_account_updates();
        live_->on_timer(now(), venue_events_);
        handle_venue_events();
    }
    if (live_->open_orders() > 0)
        keel::log::get("exec").error("{} orders still open at the venue after the session ended",
                                     live_->open_orders());
}

void Engine::stop_venues() {
    bool asked = false;
    for (auto &v : venues_) {
        const auto &d = v->library->exchange();
        if (v->offline || !v->self || !KEEL_HAS_ENTRY(d, stop)) continue;
        shield(v.get(), "stop", [&] { d.stop(v->self); });
        asked = true;
    }
    if (!asked) return;
    // What they sent is answered within a bound: a venue that stays silent does not hold the
    // exit up (steady clock: the engine's may be simulated).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    auto waiting = [&] {
        return std::any_of(venues_.begin(), venues_.end(),
                           [](const auto &v) { return v->http_in_flight.load() > 0; });
    };
    while (waiting() && std::chrono::steady_clock::now() < deadline) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, std::chrono::milliseconds(50),
                           [&] { return !net_incoming_.empty(); });
        }
        deliver_network();
    }
    if (waiting())
        keel::log::get("net").warn("session end: requests still unanswered after 2 s; closing");
}

void Engine::load_history() {
    auto &log = keel::log::get("market");
    for (InstrumentIndex i = 0; i < instruments_.size(); ++i) {
        const auto &inst = config_.instruments[i];
        const auto &spec = instruments_[i];
        std::vector<market::Candle> history;
        for (const auto &[length, file] : inst.history) {
            const auto &builders = candles_[i].builders();
            if (std::none_of(builders.begin(), builders.end(),
                             [&](const auto &b) { return b.length() == length; })) {
                log.warn("{}: history {} not loaded: no strategy on {} uses its timeframe", spec.id,
                         file.string(), spec.id);
                continue;
            }
            auto rows = market::read_candle_file(file);  // errors name file and line
            if (rows.empty()) continue;
            // The gap between history and the session is filled (flat candles) or skipped, so
            // it must be short enough to mean something.
            constexpr TimeNs kMaxGap = TimeNs{86400} * 1'000'000'000;
            TimeNs last_end = rows.back().open_time + length;
            if (last_end + kMaxGap < now())
                throw config::ConfigError(fmt::format(
                    "{}: instruments.{}.history: {} ends {:.1f} days before the session starts; "
                    "warm-up history must reach within a day of the start",
                    inst.where, spec.id, file.string(),
                    static_cast<double>(now() - last_end) / 86400e9));
            size_t first = rows.size() > kCandleHistory ? rows.size() - kCandleHistory : 0;
            for (size_t k = first; k < rows.size(); ++k) {
                const auto &r = rows[k];
                // Prices onto the instrument's grid: history only warms indicators.
                auto ticks = [&](double p) { return std::llround(p / spec.tick_size); };
                market::Candle c;
                c.start = r.open_time;
                c.length = length;
                c.open = ticks(r.open);
                c.high = ticks(r.high);
                c.low = ticks(r.low);
                c.close = ticks(r.close);
                c.volume = std::llround(r.volume / spec.lot_size);
                history.push_back(c);
            }
        }
        if (!history.empty()) seed_history(i, history, "history files", now());
    }
}

void Engine::seed_history(InstrumentIndex i, const std::vector<market::Candle> &history,
                          const std::string &source, TimeNs until) {
    auto &log = keel::log::get("market");
    const auto &spec = instruments_[i];
    auto before = candles_[i].stats();
    size_t warmed = 0;
    candles_[i].seed(history, until, [&](const market::Candle &c) {
        // Candles of the session's own time (a venue's kline stream, a gap filled after a
        // resubscribe) are events like those built here.
        ++warmed;
        if (c.end() > (venue_start_[i] ? venue_start_[i] : session_start_)) {
            emit_candle(i, c);
            return;
        }
        // Warm-up: kept for keel.candles and fed to indicators; not an on_candle event.
        auto &kept = candle_history_[i][c.length];
        if (kept.size() == kCandleHistory) kept.pop_front();
        kept.push_back(c);
        for (size_t k = 0; k < strategies_.size(); ++k) {
            if (!strategies_[k]->wants(i) || (c.flat && !candle_wants_[k].flat)) continue;
            for (const auto &[len, label] : candle_wants_[k].timeframes)
                if (len == c.length) strategies_[k]->update_indicators(i, label, c);
        }
    });
    const auto &after = candles_[i].stats();
    // One at a time is a venue's kline stream (a closed kline each interval): not news.
    log.log(
        history.size() == 1 ? spdlog::level::debug : spdlog::level::info,
        "{}: warmed with {} history candles from {} ({} refused: {} invalid, {} overlapping, {} "
        "unfinished)",
        spec.id, warmed, source,
        after.seed_invalid + after.seed_overlap + after.seed_unfinished - before.seed_invalid -
            before.seed_overlap - before.seed_unfinished,
        after.seed_invalid - before.seed_invalid, after.seed_overlap - before.seed_overlap,
        after.seed_unfinished - before.seed_unfinished);
}

Engine::Venue *Engine::venue_of(InstrumentIndex i) const {
    for (auto &venue : venues_)
        if (venue->name == instruments_[i].venue) return venue.get();
    return nullptr;  // prepare() refuses an instrument on an unknown venue: never here
}

void Engine::request_venue_history(InstrumentIndex i) {
    Venue *v = venue_of(i);
    const auto &d = v->library->exchange();
    if (v->offline || !KEEL_HAS_ENTRY(d, request_history)) return;
    const auto &files = config_.instruments[i].history;
    for (const auto &b : candles_[i].builders()) {
        if (std::any_of(files.begin(), files.end(),
                        [&](const auto &f) { return f.first == b.length(); }))
            continue;
        char err[512] = {0};
        if (d.request_history(v->self, static_cast<keel_instrument_id>(i), b.length(),
                              static_cast<uint32_t>(kCandleHistory), err, sizeof err) != KEEL_OK)
            keel::log::get("market").warn("{}: no {} warm-up from venue {}: {}", instruments_[i].id,
                                          market::format_timeframe(b.length()), v->name,
                                          err[0] ? err : "no reason given");
    }
}

void Engine::load_venues() {
    auto config_dir = config_.file.parent_path();
    for (auto &[name, ref] : config_.venues) {
        auto file =
            plugin::resolve(ref.plugin, plugin::Kind::exchange, config_dir, options_.plugin_search);
        auto v = std::make_unique<Venue>();
        v->engine = this;
        v->name = name;
        v->library = plugin::Library::open(file, plugin::Kind::exchange, "venues." + name);
        v->settings = plugin::Settings::resolve(*v->library, ref, config_dir);
        v->host.struct_size = sizeof(keel_host_api);
        v->host.abi_minor = KEEL_ABI_MINOR;
        v->host.log = host_log;
        v->host.now_ns = host_now;
        v->host.add_timer = host_add_timer;
        v->host.define_instrument = host_define_instrument;
        v->host.emit_book = host_emit_book;
        v->host.emit_trade = host_emit_trade;
        v->host.reject_frame = host_reject_frame;
        v->host.end_of_data = host_end_of_data;
        v->host.ws_open = host_ws_open;
        v->host.ws_send = host_ws_send;
        v->host.ws_close = host_ws_close;
        v->host.http_request = host_http_request;
        v->host.offline = host_offline;
        v->host.emit_order_update = host_emit_order_update;
        v->host.emit_position = host_emit_position;
        v->host.emit_balance = host_emit_balance;
        v->host.declare_order_limit = host_declare_order_limit;
        v->host.emit_mark = host_emit_mark;
        v->host.emit_history = host_emit_history;
        v->ca_file = ref.ca_file;
        // Stored data (a replay, playback, any simulated-clock session) never touches the network.
        v->offline = !ref.replay.empty() || options_.clock == ClockKind::simulated;
        networked_ = networked_ || !v->offline;

        char err[512] = {0};
        void *self = nullptr;
        const auto &d = v->library->exchange();
        if (d.create(&v->host, v.get(), v->settings.data(), v->settings.size(), &self, err,
                     sizeof err) != KEEL_OK)
            throw plugin::PluginError("venues." + name + " (" + file.string() +
                                      "): " + (err[0] ? err : "create() failed without a message"));
        v->self = self;
        keel::log::get("plugin").info("venue {}: {} {} ({})", name, v->library->name(),
                                      v->library->version(), file.string());

        const bool frames = d.capabilities & KEEL_CAP_FRAMES;
        for (const auto &[key, path] : {std::pair{"replay", ref.replay}, {"record", ref.record}}) {
            if (!path.empty() && !frames)
                throw config::ConfigError(
                    ref.where + ": venues." + name + "." + key + ": plugin " + v->library->name() +
                    " does not parse raw frames (it makes its own market), so there is nothing "
                    "to " +
                    key);
        }
        v->playback = d.capabilities & KEEL_CAP_PLAYBACK;
        if (v->playback && options_.clock != ClockKind::simulated)
            throw config::ConfigError(ref.where + ": venues." + name + ": plugin " +
                                      v->library->name() +
                                      " plays stored data back, which needs the simulated "
                                      "clock (keel run and keel backtest choose it)");
        if (!ref.replay.empty()) {
            if (options_.clock != ClockKind::simulated)
                throw config::ConfigError(ref.where + ": venues." + name +
                                          ".replay: a replay runs on the recording's clock, "
                                          "which needs the simulated clock");
            v->replay = std::make_unique<market::RecordingReader>(ref.replay);
            v->read_replay();
            if (!v->replay_pending)
                keel::log::get("market").warn("venue {}: recording {} has no frames", name,
                                              ref.replay.string());
        }

        venues_.push_back(std::move(v));
        Venue &venue = *venues_.back();
        for (InstrumentIndex i = 0; i < instruments_.size(); ++i)
            if (instruments_[i].venue == name) playback_[i] = venue.playback;
        for (InstrumentIndex i = 0; i < instruments_.size(); ++i) {
            if (instruments_[i].venue != name) continue;
            err[0] = 0;
            if (d.subscribe(venue.self, instruments_[i].symbol.c_str(), i, err, sizeof err) !=
                KEEL_OK)
                throw plugin::PluginError("venues." + name + ": cannot subscribe " +
                                          instruments_[i].symbol + ": " +
                                          (err[0] ? err : "no reason given"));
            if (!defined_[i])
                throw plugin::PluginError("venues." + name + ": plugin did not define " +
                                          instruments_[i].symbol +
                                          " when subscribed (define_instrument is required)");
        }
    }
    // A replayed session starts when its recording does, so venue and engine times agree.
    std::optional<TimeNs> first;
    for (auto &v : venues_) {
        if (v->replay_pending) first = std::min(first.value_or(v->replay_ts), v->replay_ts);
        if (v->playback) {
            TimeNs t = v->library->exchange().playback_start(v->self);
            first = std::min(first.value_or(t), t);
        }
    }
    if (first) sim_now_ = *first;
    for (auto &v : venues_) {
        const auto &dir = config_.venues.at(v->name).record;
        if (dir.empty()) continue;
        std::filesystem::create_directories(dir);
        auto file = dir / (v->name + "-" + utc_text(now(), "%Y%m%dT%H%M%SZ") + ".gz");
        v->recorder = std::make_unique<market::CaptureWriter>(file);
        keel::log::get("market").info("venue {}: recording raw frames to {}", v->name,
                                      file.string());
    }
}

void Engine::load_notifiers() {
    auto config_dir = config_.file.parent_path();
    for (auto &[name, ref] : config_.notifiers) {
        auto file =
            plugin::resolve(ref.plugin, plugin::Kind::notifier, config_dir, options_.plugin_search);
        auto lib = plugin::Library::open(file, plugin::Kind::notifier, "notifiers." + name);
        auto settings = plugin::Settings::resolve(*lib, ref, config_dir);
        notifiers_.add(name, std::move(lib), settings);
    }
}

void Engine::load_strategies() {
    // One CandleSet per instrument with every timeframe any strategy wants there. It builds flat
    // candles if any of those strategies wants them; strategies that skip empty intervals are
    // simply not given the flat ones (the other candles are the same under both policies).
    std::vector<std::vector<TimeNs>> lengths(instruments_.size());
    std::vector<bool> flat(instruments_.size(), false);
    for (auto &cfg : config_.strategies) {
        std::vector<InstrumentIndex> mine;
        for (auto &id : cfg.instruments) mine.push_back(*find_instrument(id));
        auto index = static_cast<exec::StrategyIndex>(strategies_.size());
        auto s = std::make_unique<strategy::LuaStrategy>(index, cfg, *this, mine);
        s->load();
        s->set_active(cfg.active);
        CandleWants wants;
        wants.flat = cfg.empty_candles == config::EmptyCandles::flat;
        for (auto &tf : cfg.timeframes) {
            auto length = market::parse_timeframe(tf);
            if (!length || !market::divides_day(*length))
                throw config::ConfigError(cfg.where + ": bad timeframe \"" + tf + "\"");
            wants.timeframes.emplace_back(*length, tf);
            for (auto i : mine) {
                auto &have = lengths[i];
                if (std::find(have.begin(), have.end(), *length) == have.end())
                    have.push_back(*length);
                if (wants.flat) flat[i] = true;
            }
        }
        candle_wants_.push_back(std::move(wants));
        keel::log::get("strategy").info("loaded {} from {}", cfg.name, cfg.file.string());
        strategies_.push_back(std::move(s));
    }
    candles_.clear();
    for (InstrumentIndex i = 0; i < instruments_.size(); ++i)
        candles_.emplace_back(
            lengths[i], flat[i] ? market::EmptyIntervals::flat : market::EmptyIntervals::skip);
    candle_history_.assign(instruments_.size(), {});
    busy_ = std::make_unique<std::atomic<uint64_t>[]>(strategies_.size());
    for (auto &s : strategies_) s->set_busy_counter(&busy_[s->index()]);
}

// ---- host functions ------------------------------------------------------------------------

void Engine::on_define_instrument(Venue &venue, const keel_instrument_def &def) {
    if (!v1_sized(def, offsetof(keel_instrument_def, min_notional) + sizeof(double)))
        throw std::invalid_argument("instrument definition struct too small");
    auto i = def.id;
    if (i >= instruments_.size() || instruments_[i].venue != venue.name)
        throw std::invalid_argument(fmt::format("instrument id {} was not subscribed", i));
    if (!(def.tick_size > 0) || !std::isfinite(def.tick_size) || !(def.lot_size > 0) ||
        !std::isfinite(def.lot_size))
        throw std::invalid_argument(
            fmt::format("{}: tick and lot size must be positive, got {} "
                        "and {}",
                        instruments_[i].symbol, def.tick_size, def.lot_size));
    auto &spec = instruments_[i];
    spec.base = def.base ? def.base : "";
    spec.quote = def.quote ? def.quote : "";
    spec.tick_size = def.tick_size;
    spec.lot_size = def.lot_size;
    spec.min_qty_lots = def.min_qty_lots;
    spec.min_notional = def.min_notional;
    spec.qty_step_lots =
        def.struct_size >= offsetof(keel_instrument_def, qty_step_lots) + sizeof(int64_t) &&
                def.qty_step_lots > 1
            ? def.qty_step_lots
            : 1;
    if (def.struct_size >= offsetof(keel_instrument_def, price_multiplier_down) + sizeof(double)) {
        spec.min_price = std::max<int64_t>(def.min_price_ticks, 0);
        spec.max_price = std::max<int64_t>(def.max_price_ticks, 0);
        // Multipliers that could never hold (NaN, negative, up below 1) are dropped, not obeyed.
        const double up = def.price_multiplier_up, down = def.price_multiplier_down;
        spec.price_multiplier_up = std::isfinite(up) && up >= 1 ? up : 0;
        spec.price_multiplier_down = std::isfinite(down) && down > 0 && down <= 1 ? down : 0;
    }
    // One tick in Money units, when it is a whole number of them (every real venue's is).
    const double tick_units = def.tick_size * static_cast<double>(Money::kScale);
    tick_amounts_[i] = std::abs(tick_units - std::round(tick_units)) < 1e-6 && tick_units >= 1
                           ? std::llround(tick_units)
                           : 0;
    uint32_t rule =
        def.struct_size >= offsetof(keel_instrument_def, sequence_rule) + sizeof(uint32_t)
            ? def.sequence_rule
            : uint32_t{KEEL_SEQ_NONE};
    if (rule > KEEL_SEQ_CONTIGUOUS)
        throw std::invalid_argument(
            fmt::format("{}: unknown sequence rule {}", instruments_[i].symbol, rule));
    static constexpr market::SequenceRule kRules[] = {
        market::SequenceRule::none, market::SequenceRule::binance_futures,
        market::SequenceRule::binance_spot, market::SequenceRule::contiguous};
    // Defined again when subscribed again: the feed, restarted then, keeps its counts.
    if (!defined_[i]) feeds_[i] = market::BookFeed(kRules[rule], feeds_[i].health().config());
    defined_[i] = true;
}

void Engine::on_reject_frame(Venue &venue, const char *why) {
    auto n = venue.malformed++;
    if (n < 10 || n % 1000 == 0)
        keel::log::get("market").warn("[{}] frame rejected ({} so far): {}", venue.name, n + 1,
                                      why);
}

uint64_t Engine::on_ws_open(Venue &venue, const char *url, uint32_t flags) {
    if (venue.offline) {
        keel::log::get("net").warn("[{}] ws_open refused: this session replays stored data",
                                   venue.name);
        return 0;
    }
    Venue *v = &venue;
    const bool is_private = flags & KEEL_NET_PRIVATE;
    auto push = [this](NetMessage m) {
        m.received = now();
        std::lock_guard lock(mutex_);
        net_incoming_.push_back(std::move(m));
        wake_.notify_one();
    };
    uint64_t id = venue.network().ws_open(
        url,
        [push, v, is_private](uint64_t conn, std::string text) {
            NetMessage m{.kind = NetMessage::Kind::frame, .venue = v, .id = conn};
            m.is_private = is_private;
            m.size = text.size();
            text.resize(text.size() + kFramePadding, '\0');  // SIMD parsers read past the end
            m.text = std::move(text);
            push(std::move(m));
        },
        [push, v, is_private](uint64_t conn, net::LinkState state, std::string why) {
            NetMessage m{.kind = NetMessage::Kind::link, .venue = v, .id = conn};
            m.is_private = is_private;
            m.up = state == net::LinkState::up;
            m.text = std::move(why);
            push(std::move(m));
        });
    if (id == 0)
        keel::log::get("net").warn("[{}] ws_open refused: not a ws:// or wss:// URL", venue.name);
    return id;
}

uint32_t Engine::on_http_request(Venue &venue, const keel_http_request &r) {
    if (venue.offline || r.struct_size < offsetof(keel_http_request, user) + sizeof(uint64_t) ||
        !r.method || !r.url)
        return KEEL_ERROR;
    Venue *v = &venue;
    std::string url = r.url;
    uint64_t user = r.user;
    ++venue.http_in_flight;
    auto timeout = std::chrono::milliseconds(r.timeout_ns > 0 ? r.timeout_ns / 1'000'000 : 10'000);
    const bool is_private =
        r.struct_size >= offsetof(keel_http_request, flags) + sizeof(uint32_t) &&
        (r.flags & KEEL_NET_PRIVATE);
    bool ok = venue.network().http(
        r.method, url, r.headers ? r.headers : "", std::string(r.body ? r.body : "", r.body_size),
        timeout, [this, v, url, user, is_private](net::HttpAnswer a) {
            NetMessage m{.kind = NetMessage::Kind::answer, .venue = v};
            m.is_private = is_private;
            m.request = user;
            m.status = a.status;
            m.unsent = !a.sent;
            m.url = url;
            m.headers = std::move(a.headers);
            std::string text = a.status ? std::move(a.body) : std::move(a.error);
            m.size = text.size();
            text.resize(text.size() + kFramePadding, '\0');
            m.text = std::move(text);
            m.received = now();
            std::lock_guard lock(mutex_);
            net_incoming_.push_back(std::move(m));
            wake_.notify_one();
        });
    if (!ok) --venue.http_in_flight;
    return ok ? KEEL_OK : KEEL_ERROR;
}

void Engine::deliver_network() {
    {
        std::lock_guard lock(mutex_);
        if (net_incoming_.empty()) return;
        std::swap(net_incoming_, net_processing_);
    }
    for (auto &m : net_processing_) {
        Venue &v = *m.venue;
        const auto &d = v.library->exchange();
        if (m.kind == NetMessage::Kind::link) {
            keel::log::get("net").info("[{}] connection {} {}{}{}", v.name, m.id,
                                       m.up ? "up" : "down", m.text.empty() ? "" : ": ", m.text);
            if (!m.up) {
                // Whatever was in flight is lost: every book of the venue resyncs by snapshot.
                for (InstrumentIndex i = 0; i < instruments_.size(); ++i)
                    if (defined_[i] && instruments_[i].venue == v.name) {
                        feeds_[i].restart();
                        request_snapshot(i);
                    }
            }
            if (KEEL_HAS_ENTRY(d, on_link))
                d.on_link(v.self, m.id, m.up ? KEEL_LINK_UP : KEEL_LINK_DOWN, m.text.c_str());
            if (m.up && m.is_private && live_) {
                // The account stream is back: what it said while down is lost, so every working
                // order of the venue is asked about (one may have filled or ended meanwhile).
                for (size_t k = 0; k < venues_.size(); ++k)
                    if (venues_[k].get() == &v) live_->reconcile(k, now());
            }
        } else {
            keel_frame f{};
            f.struct_size = sizeof f;
            f.receive_ts_ns = m.received;
            f.data = m.text.data();
            f.size = m.size;
            f.capacity = m.text.size();
            if (m.kind == NetMessage::Kind::frame) {
                f.connection = m.id;
            } else {
                --v.http_in_flight;
                f.url = m.url.c_str();
                f.request = m.request;
                f.http_status = m.status;
                f.unsent = m.unsent ? 1 : 0;
                f.headers = m.headers.c_str();
            }
            // Account traffic and failed answers are not market data: never recorded.
            bool record = !m.is_private && (m.kind == NetMessage::Kind::frame || m.status == 200);
            deliver_frame(v, f, record);
        }
        process_queue();
    }
    net_processing_.clear();
}

uint32_t Engine::on_add_timer(Venue &, int64_t period_ns, keel_timer_fn fn, void *user) {
    if (period_ns <= 0 || !fn) return KEEL_ERROR;
    std::lock_guard lock(mutex_);
    timers_.push(Timer{now() + period_ns, timer_seq_++, period_ns, fn, user});
    wake_.notify_one();
    return KEEL_OK;
}

bool Engine::defined_by(const Venue &venue, keel_instrument_id id) const {
    return id < instruments_.size() && defined_[id] && subscribed_[id] &&
           instruments_[id].venue == venue.name;
}

void Engine::on_book_event(Venue &venue, const keel_book_event &e) {
    // The first line of the sanitizer: an event that is malformed is counted and dropped whole,
    // never half-applied. Sequence, price and crossing rules follow on the engine thread
    // (market::BookFeed, in process_book).
    auto reject = [&](const char *why) {
        if (rejected_events_++ < 10)
            keel::log::get("market").warn("[{}] book event rejected: {}", venue.name, why);
    };
    if (!v1_sized(e, offsetof(keel_book_event, ask_count) + sizeof(uint32_t)))
        return reject("struct too small");
    if (!defined_by(venue, e.instrument)) return reject("unknown instrument");
    if ((e.bid_count && !e.bids) || (e.ask_count && !e.asks)) return reject("NULL levels");
    const bool v11 = e.struct_size >= offsetof(keel_book_event, receive_ts_ns) + sizeof(int64_t);

    enqueue([&](EventBuffer &buf) {
        QueuedEvent q{};
        q.kind = QueuedEvent::Kind::book;
        q.instrument = e.instrument;
        q.snapshot = e.is_snapshot != 0;
        q.ts = e.exchange_ts_ns;
        q.ids.last = e.sequence;
        if (v11) {
            q.ids.first = e.first_id;
            q.ids.prev_last = e.prev_id;
            q.receive_ts = e.receive_ts_ns;
        }
        q.first_level = static_cast<uint32_t>(buf.levels.size());
        q.bid_count = e.bid_count;
        q.ask_count = e.ask_count;
        for (uint32_t k = 0; k < e.bid_count; ++k)
            buf.levels.push_back({e.bids[k].price_ticks, e.bids[k].qty_lots});
        for (uint32_t k = 0; k < e.ask_count; ++k)
            buf.levels.push_back({e.asks[k].price_ticks, e.asks[k].qty_lots});
        buf.events.push_back(q);
    });
}

void Engine::on_trade_event(Venue &venue, const keel_trade_event &e) {
    auto reject = [&](const char *why) {
        if (rejected_events_++ < 10)
            keel::log::get("market").warn("[{}] trade rejected: {}", venue.name, why);
    };
    if (!v1_sized(e, offsetof(keel_trade_event, trade_id) + sizeof(uint64_t)))
        return reject("struct too small");
    if (!defined_by(venue, e.instrument)) return reject("unknown instrument");
    if (e.aggressor != KEEL_SIDE_BUY && e.aggressor != KEEL_SIDE_SELL)
        return reject("aggressor side is neither buy nor sell");

    QueuedEvent q{};
    q.kind = QueuedEvent::Kind::trade;
    q.instrument = e.instrument;
    q.ts = e.exchange_ts_ns;
    q.price = e.price_ticks;
    q.qty = e.qty_lots;
    q.aggressor = e.aggressor == KEEL_SIDE_BUY ? Side::buy : Side::sell;
    if (e.struct_size >= offsetof(keel_trade_event, receive_ts_ns) + sizeof(int64_t))
        q.receive_ts = e.receive_ts_ns;
    enqueue([&](EventBuffer &buf) { buf.events.push_back(q); });
}

void Engine::on_mark_event(Venue &venue, const keel_mark_event &e) {
    auto reject = [&](const char *why) {
        if (rejected_events_++ < 10)
            keel::log::get("market").warn("[{}] mark rejected: {}", venue.name, why);
    };
    if (!v1_sized(e, offsetof(keel_mark_event, next_funding_ns) + sizeof(int64_t)))
        return reject("struct too small");
    if (!defined_by(venue, e.instrument)) return reject("unknown instrument");
    if (e.mark_amount <= 0) return reject("mark price is not positive");
    if (e.next_funding_ns < 0) return reject("negative funding time");
    QueuedEvent q{};
    q.kind = QueuedEvent::Kind::mark;
    q.instrument = e.instrument;
    q.ts = e.exchange_ts_ns;
    q.receive_ts = e.receive_ts_ns;
    enqueue([&](EventBuffer &buf) {
        q.first_level = static_cast<uint32_t>(buf.marks.size());
        buf.marks.push_back(
            {Money::from_units(e.mark_amount), Rate{e.funding_rate}, e.next_funding_ns});
        buf.events.push_back(q);
    });
}

void Engine::on_history(Venue &venue, const keel_candle *candles, uint32_t count) {
    if (count == 0) return;
    const size_t stride = candles[0].struct_size;
    if (stride < offsetof(keel_candle, trades) + sizeof(uint64_t)) {
        ++rejected_events_;
        keel::log::get("market").warn("[{}] history refused: candle struct too small", venue.name);
        return;
    }
    // One instrument per call, as request_history asks for one.
    const auto instrument = candles[0].instrument;
    if (!defined_by(venue, instrument)) {
        ++rejected_events_;
        keel::log::get("market").warn("[{}] history refused: unknown instrument", venue.name);
        return;
    }
    std::vector<market::Candle> history;
    history.reserve(count);
    const auto *bytes = reinterpret_cast<const unsigned char *>(candles);
    for (uint32_t k = 0; k < count; ++k) {
        keel_candle c{};
        std::memcpy(&c, bytes + k * stride, sizeof c);
        if (c.instrument != instrument) {
            ++rejected_events_;
            continue;
        }
        market::Candle m;
        m.start = c.open_time_ns;
        m.length = c.length_ns;
        m.open = c.open_ticks;
        m.high = c.high_ticks;
        m.low = c.low_ticks;
        m.close = c.close_ticks;
        m.volume = c.volume_lots;
        m.trades = static_cast<uint32_t>(std::min<uint64_t>(c.trades, UINT32_MAX));
        m.flat = c.trades == 0;
        m.history = true;
        history.push_back(m);
    }
    if (history.empty()) return;
    enqueue([&](EventBuffer &buf) {
        QueuedEvent q{};
        q.kind = QueuedEvent::Kind::history;
        q.instrument = instrument;
        q.first_level = static_cast<uint32_t>(buf.candles.size());
        q.bid_count = static_cast<uint32_t>(history.size());
        buf.candles.insert(buf.candles.end(), history.begin(), history.end());
        buf.events.push_back(q);
    });
}

// ---- the loop ------------------------------------------------------------------------------

void Engine::request_stop() {
    stop_requested_.store(true);
    // Take the lock so a waiter between its predicate check and its wait cannot miss the wake.
    std::lock_guard lock(mutex_);
    wake_.notify_all();
}

Summary Engine::run(TimeNs duration) {
    engine_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    prepare();
    notifiers_.start();
    for (auto &v : venues_) {
        char err[512] = {0};
        if (v->library->exchange().start(v->self, err, sizeof err) != KEEL_OK)
            throw plugin::PluginError("venues." + v->name +
                                      ": start failed: " + (err[0] ? err : "no reason given"));
    }
    TimeNs start = now();
    session_start_ = start;
    TimeNs end = start + duration;
    if (options_.trade_until > 0) end = std::min(end, options_.trade_until);
    // A window that opens later: strategies wait inactive (their indicators still warm up).
    if (options_.trade_from > now()) {
        for (auto &s : strategies_) {
            if (!s->active()) continue;
            s->set_active(false);
            schedule(Command::activate, options_.trade_from, "the backtest window opens",
                     s->name());
        }
        curve_from_ = options_.trade_from;
    }
    notify(strategy::NotifyLevel::info, "engine", "paper session started",
           fmt::format("{} strategies, {} instruments", strategies_.size(), instruments_.size()));
    sample_equity();  // the curve starts at the starting balance
    for (auto &s : strategies_) {
        s->on_start();
        deliver_order_events();
    }

    watch_account();  // starts the first trading day
    for (InstrumentIndex i = 0; i < instruments_.size(); ++i) request_venue_history(i);
    // Live, funding is what the venue's account says it paid.
    if (config_.account.funding_interval_h > 0 && !live_) {
        TimeNs interval = config_.account.funding_interval_h * 3600LL * 1'000'000'000;
        next_funding_ = (now() / interval + 1) * interval;
    }
    // A strategy callback that never returns (a `jit: true` strategy in a loop the hook cannot
    // stop, or a long C call) freezes this thread: the watchdog thread notices and alerts.
    std::atomic<bool> guard_stop{false};
    std::thread guard;
    if (options_.clock == ClockKind::wall) guard = std::thread([&] { watchdog(guard_stop); });
    std::unique_ptr<strategy::FileWatcher> watcher;
    if (options_.clock == ClockKind::wall && options_.watch_strategy_files) {
        std::vector<std::filesystem::path> files;
        for (auto &s : strategies_) files.push_back(s->config().file);
        try {
            watcher = std::make_unique<strategy::FileWatcher>(files, [this](const auto &file) {
                auto changed = std::filesystem::absolute(file).lexically_normal();
                for (auto &cfg : config_.strategies)
                    if (std::filesystem::absolute(cfg.file).lexically_normal() == changed)
                        request(Command::reload, "file saved", cfg.name);
            });
        } catch (const std::exception &e) {
            keel::log::get("strategy").warn("strategy files are not watched: {}", e.what());
        }
    }
    while (!stop_requested_.load()) {
        {
            std::vector<Request> commands;
            {
                std::lock_guard lock(mutex_);
                commands.swap(commands_);
            }
            while (!scheduled_.empty() && scheduled_.begin()->first <= now()) {
                commands.push_back(std::move(scheduled_.begin()->second));
                scheduled_.erase(scheduled_.begin());
            }
            for (auto &r : commands) run_command(r);
        }
        if (curve_from_ > 0 && now() >= curve_from_) {
            // The backtest window opened (its activations just ran): the curve, and so every
            // metric, starts here.
            curve_from_ = 0;
            equity_curve_.clear();
            sample_equity();
        }
        process_queue();
        if (networked_) {  // not in replays and backtests: no lock per loop for nothing
            deliver_network();
            process_account_updates();
        }
        if (live_) {
            take_order_limits();
            check_positions();
            live_->on_timer(now(), venue_events_);
            handle_venue_events();
        }
        const bool replaying = replay_due_frames();
        fire_due_timers();
        process_queue();
        arrive_paper(true);  // after the market events of this instant, which came first
        fire_strategy_timers();
        settle_funding();
        if (kill_.active) advance_kill_switch();
        // Candles close when their interval ends, trades or not, once the venue's clock is known.
        for (InstrumentIndex i = 0; i < candles_.size(); ++i)
            if (exchange_seen_[i] > 0)
                candles_[i].close_until(market_clock(i),
                                        [&](const market::Candle &c) { emit_candle(i, c); });
        check_stale_books();
        if (now() >= next_equity_sample_) {
            sample_equity();
            next_equity_sample_ = (now() / kMinute + 1) * kMinute;
        }
        if (live_) {  // the orders of this pass go out together, before the engine waits
            live_->flush(now(), venue_events_);
            handle_venue_events();
        }
        if (now() >= end) break;
        if (std::all_of(venues_.begin(), venues_.end(), [&](const auto &v) {
                return (v->replay && !replaying) || (v->playback && v->end_of_data.load());
            })) {
            keel::log::get("engine").info("every recording has been played");
            break;
        }

        std::unique_lock lock(mutex_);
        TimeNs next = end;
        if (!timers_.empty()) next = std::min(next, timers_.top().deadline);
        if (!scheduled_.empty()) next = std::min(next, scheduled_.begin()->first);
        if (!strategy_timers_.empty()) next = std::min(next, strategy_timers_.top().deadline);
        for (auto &v : venues_)
            if (v->replay_pending) next = std::min(next, v->replay_ts);
        // A quiet stream must be noticed on the wall clock; simulated time only moves with data.
        if (options_.clock == ClockKind::wall) next = std::min(next, next_stale_check_);
        if (next_funding_ > 0) next = std::min(next, next_funding_);
        if (kill_.active && !kill_.late_alerted)
            next = std::min(next, kill_.started + kKillDeadline);
        // The simulated venue acts when an order or a cancel reaches it, market events or not.
        if (!live_)
            if (auto arrival = paper_->next_arrival()) next = std::min(next, *arrival);
        bool idle = own_.events.empty() && incoming_.events.empty() && commands_.empty() &&
                    net_incoming_.empty() && account_in_.empty();
        if (options_.clock == ClockKind::simulated) {
            if (idle) sim_now_ = std::max(sim_now_, next);
        } else if (idle) {
            auto deadline = std::chrono::system_clock::time_point(
                std::chrono::duration_cast<std::chrono::system_clock::duration>(
                    std::chrono::nanoseconds(next)));
            wake_.wait_until(lock, deadline, [&] {
                return stop_requested_.load() || !incoming_.events.empty() || !commands_.empty() ||
                       !net_incoming_.empty() || !account_in_.empty();
            });
        }
    }

    watcher.reset();  // no reloads during shutdown
    if (guard.joinable()) {
        guard_stop = true;
        guard.join();
    }
    stats_.seconds = static_cast<double>(now() - start) / 1e9;
    for (auto &v : venues_) {
        if (!v->recorder) continue;
        try {
            v->recorder->close();
            keel::log::get("market").info("venue {}: recorded {} frames to {}", v->name,
                                          v->recorder->frames(), v->recorder->file().string());
        } catch (const std::exception &e) {
            keel::log::get("market").error("venue {}: {}", v->name, e.what());
        }
    }
    for (auto &s : strategies_) {
        s->on_stop();
        deliver_order_events();
    }
    shutdown_orders();
    stop_venues();
    sample_equity();
    auto result = summary();
    notify(strategy::NotifyLevel::info, "engine", "paper session stopped",
           fmt::format("orders {}, fills {}, vetoes {}, P&L {:.2f}", result.orders, result.fills,
                       result.vetoes, result.equity - result.starting_balance));
    venues_.clear();  // plugins destroyed: their timers go with them
    {
        std::lock_guard lock(mutex_);
        timers_ = {};
    }
    notifiers_.stop();
    return result;
}

void Engine::fire_due_timers() {
    // A stop request ends catch-up too: an engine behind its timers still stops promptly.
    while (!stop_requested_.load()) {
        Timer t;
        {
            std::lock_guard lock(mutex_);
            if (timers_.empty() || timers_.top().deadline > now()) return;
            t = timers_.top();
            timers_.pop();
            // Re-arm from the deadline, not from now, so a late tick does not drift the schedule.
            timers_.push(Timer{t.deadline + t.period, t.seq, t.period, t.fn, t.user});
        }
        t.fn(t.user, options_.clock == ClockKind::wall ? now() : t.deadline);
        process_queue();
    }
}

void Engine::watchdog(std::atomic<bool> &stop) {
    constexpr auto kTick = std::chrono::milliseconds(250);
    size_t n = config_.strategies.size();
    std::vector<uint64_t> last(n, 0);
    std::vector<std::chrono::milliseconds> stuck(n, std::chrono::milliseconds(0));
    std::vector<bool> alerted(n, false);
    while (!stop.load()) {
        std::this_thread::sleep_for(kTick);
        for (size_t k = 0; k < n; ++k) {
            uint64_t now_count = busy_[k].load(std::memory_order_relaxed);
            bool busy = (now_count & 1) == 1;
            stuck[k] =
                busy && now_count == last[k] ? stuck[k] + kTick : std::chrono::milliseconds(0);
            last[k] = now_count;
            if (stuck[k].count() == 0) alerted[k] = false;
            const auto &cfg = config_.strategies[k];
            auto limit = std::chrono::milliseconds(
                std::max<int64_t>(2000, static_cast<int64_t>(5 * cfg.max_callback_ms)));
            if (stuck[k] < limit || alerted[k]) continue;
            alerted[k] = true;
            std::string body = fmt::format(
                "{} has been inside one callback for {:.1f} s; the engine processes nothing "
                "until it returns.{}",
                cfg.name, static_cast<double>(stuck[k].count()) / 1000,
                cfg.jit ? " It runs with jit: true, which has no time budget: restart keel." : "");
            keel::log::get("engine").critical("watchdog: {}", body);
            notifiers_.post({to_notify_level(strategy::NotifyLevel::error), wall_now(), "watchdog",
                             "engine stuck in strategy " + cfg.name, body});
        }
    }
}

void Engine::settle_funding() {
    if (next_funding_ == 0 || now() < next_funding_) return;
    TimeNs interval = config_.account.funding_interval_h * 3600LL * 1'000'000'000;
    Rate rate = Rate::from_double(config_.account.funding_rate);
    while (next_funding_ <= now()) {
        for (InstrumentIndex i = 0; i < instruments_.size(); ++i) {
            const auto &book = feeds_[i].book();
            if (portfolio_->position(i).qty == 0 || !book.valid()) continue;
            if (marks_[i] && marks_[i]->next_funding > 0) continue;  // the venue's funding
            const Ticks two_mid = book.best_bid()->price + book.best_ask()->price;
            Money paid = portfolio_->on_funding(i, rate, half_ticks_amount(i, two_mid));
            if (paid.units != 0)
                keel::log::get("exec").info(
                    "funding {} at {}: {:+.4f}", instruments_[i].id,
                    instruments_[i].mid_text(book.best_bid()->price, book.best_ask()->price),
                    paid.to_double());
        }
        next_funding_ += interval;
    }
    watch_account();
}

void Engine::fire_strategy_timers() {
    while (!strategy_timers_.empty() && strategy_timers_.top().deadline <= now() &&
           !stop_requested_.load()) {
        StrategyTimer t = strategy_timers_.top();
        strategy_timers_.pop();
        auto live = live_timers_.find(t.id);
        if (live == live_timers_.end()) continue;  // cancelled
        if (t.period > 0)
            strategy_timers_.push({t.deadline + t.period, t.id, t.strategy, t.period});
        else
            live_timers_.erase(live);
        strategies_[t.strategy]->on_timer(t.id);
        deliver_order_events();
    }
}

uint64_t Engine::add_timer(exec::StrategyIndex strategy, TimeNs period, bool repeat) {
    uint64_t id = next_timer_id_++;
    live_timers_[id] = strategy;
    strategy_timers_.push({now() + period, id, strategy, repeat ? period : 0});
    return id;
}

bool Engine::cancel_timer(exec::StrategyIndex strategy, uint64_t id) {
    auto it = live_timers_.find(id);
    if (it == live_timers_.end() || it->second != strategy) return false;
    live_timers_.erase(it);  // its queue entry is skipped when due
    return true;
}

const std::deque<market::Candle> *Engine::candles(InstrumentIndex i, TimeNs length) const {
    if (i >= candle_history_.size()) return nullptr;
    auto it = candle_history_[i].find(length);
    return it == candle_history_[i].end() ? nullptr : &it->second;
}

void Engine::signal(exec::StrategyIndex strategy, const strategy::Signal &s) {
    ++stats_.signals;
    const auto &inst = instruments_.at(s.instrument).id;
    const char *direction = s.side == Side::buy ? "long" : "short";
    double risk = std::fabs(s.entry - s.stop), reward = std::fabs(s.target - s.entry);
    std::string rr = risk > 0 && reward > 0 ? fmt::format("{:.1f}:1", reward / risk) : "n/a";
    // One JSON object per signal (seed 001's signal record), for whoever consumes the log.
    keel::log::get("signal").info(
        R"({{"strategy":{},"signal":{},"instrument":{},"direction":"{}","entry":{},"stop":{},"target":{},"confidence":{},"risk_reward":"{}","time_ns":{}}})",
        keel::log::json_string(strategies_.at(strategy)->name()), keel::log::json_string(s.name),
        keel::log::json_string(inst), direction, s.entry, s.stop, s.target, s.confidence, rr,
        now());
    notify(
        strategy::NotifyLevel::info, "signal:" + strategies_.at(strategy)->name(),
        fmt::format("{} {} {}", s.name, direction, inst),
        fmt::format("entry {:g}, stop {:g}, target {:g}, R:R {}", s.entry, s.stop, s.target, rr));
}

void Engine::process_queue() {
    // Other threads' events first: they may date from before run() (a plugin's create).
    if (foreign_events_.load(std::memory_order_relaxed)) {
        {
            std::lock_guard lock(mutex_);
            std::swap(incoming_, processing_);
            foreign_events_.store(false, std::memory_order_relaxed);
        }
        process_events();
    }
    std::swap(own_, processing_);
    process_events();
}

void Engine::process_events() {
    for (auto &e : processing_.events) {
        switch (e.kind) {
            case QueuedEvent::Kind::book:
                process_book(e, processing_);
                break;
            case QueuedEvent::Kind::trade:
                process_trade(e);
                break;
            case QueuedEvent::Kind::mark:
                process_mark(e, processing_.marks[e.first_level]);
                break;
            case QueuedEvent::Kind::history: {
                std::vector<market::Candle> history(
                    processing_.candles.begin() + e.first_level,
                    processing_.candles.begin() + e.first_level + e.bid_count);
                // Up to the venue's clock; before its first market event that is unknown, and
                // the history's end is safe (a venue's history stops at the interval still open).
                TimeNs until = market_clock(e.instrument);
                if (exchange_seen_[e.instrument] == 0) {
                    until = 0;
                    for (const auto &c : history) until = std::max(until, c.end());
                }
                seed_history(e.instrument, history, "the venue", until);
                break;
            }
        }
    }
    processing_.clear();  // keeps capacity: no allocation once warm
}

void Engine::process_book(const QueuedEvent &e, const EventBuffer &buf) {
    arrive_paper(false);  // what reached the venue before this update meets the book before it
    ++stats_.book_events;
    const auto i = e.instrument;
    auto &feed = feeds_[i];
    const market::Level *levels = buf.levels.data() + e.first_level;
    std::span<const market::Level> bids(levels, e.bid_count),
        asks(levels + e.bid_count, e.ask_count);
    const TimeNs received = e.receive_ts ? e.receive_ts : now();
    if (e.ts > 0) note_exchange_time(i, e.ts, received);
    const bool was_usable = feed.usable();
    auto status = e.snapshot ? feed.on_snapshot(e.ids.last, bids, asks, received, e.ts)
                             : feed.on_delta(e.ids, bids, asks, received, e.ts);
    if (!feed.usable()) {
        // A gap, a crossed book, a bad level or an outlier: nobody reads this book, nothing
        // fills against it, until a snapshot makes it whole again.
        if (was_usable)
            keel::log::get("market").warn(
                "{}: book discarded ({} rejections so far); not trading on it until a snapshot "
                "makes it whole",
                instruments_[i].id, feed.rejects().total());
        if (feed.needs_snapshot()) request_snapshot(i);
        return;
    }
    if (!was_usable && resyncs_[i] > 0 && snapshot_requested_[i])
        keel::log::get("market").info("{}: book whole again", instruments_[i].id);
    snapshot_requested_[i] = false;
    if (status != market::SyncStatus::applied) return;  // a stale delta: nothing changed
    const auto &book = feed.book();
    portfolio_->mark(e.instrument, book.best_bid()->price, book.best_ask()->price);
    if (!live_) paper_->on_book(e.instrument, book, now(), venue_events_);
    handle_venue_events();
    if (!was_usable) arrive_paper(true);  // orders that waited for a usable book
    const Ticks two_mid = book.best_bid()->price + book.best_ask()->price;
    trigger_conditionals(e.instrument, exec::TriggerPrice::mid, two_mid, two_mid);
    // Until the venue sends a mark, orders that watch it watch the mid.
    if (!marks_[e.instrument])
        trigger_conditionals(e.instrument, exec::TriggerPrice::mark, two_mid, two_mid);
    watch_account();
    if (kill_.active) advance_kill_switch();
    deliver_order_events();
    if (options_.probe) options_.probe->book_ready(e.instrument);
    if (!position_known_[e.instrument]) return;
    for (auto &s : strategies_) {
        if (!s->wants(e.instrument)) continue;
        s->on_book(e.instrument);
        deliver_order_events();
    }
}

void Engine::process_trade(const QueuedEvent &e) {
    arrive_paper(false);  // what reached the venue before this trade can be filled by it
    const TimeNs received = e.receive_ts ? e.receive_ts : now();
    if (auto why = trade_filters_[e.instrument].check(e.price, e.qty, received, e.ts)) {
        auto n = trade_filters_[e.instrument].health().rejects().total();
        if (n <= 10 || n % 1000 == 0)
            keel::log::get("market").warn(
                "{}: trade at {} x {} refused: {}", instruments_[e.instrument].id,
                instruments_[e.instrument].price_text(e.price),
                instruments_[e.instrument].qty_text(e.qty), market::to_string(*why));
        return;
    }
    ++stats_.trade_events;
    note_exchange_time(e.instrument, e.ts, received);
    // Candles use the venue's trade time; candles the trade closes go out before on_trade.
    candles_[e.instrument].on_trade(e.ts, e.price, e.qty,
                                    [&](const market::Candle &c) { emit_candle(e.instrument, c); });
    if (!live_) paper_->on_trade(e.instrument, e.price, e.qty, e.aggressor, now(), venue_events_);
    handle_venue_events();
    if (conditional_.size() > 0) {
        trigger_conditionals(e.instrument, exec::TriggerPrice::last, 2 * e.price, 2 * e.price);
        deliver_order_events();
    }
    if (!position_known_[e.instrument]) return;
    strategy::TradeView t{e.price, e.qty, e.aggressor, e.ts};
    for (auto &s : strategies_) {
        if (!s->wants(e.instrument)) continue;
        s->on_trade(e.instrument, t);
        deliver_order_events();
    }
}

void Engine::process_mark(const QueuedEvent &e, const Mark &m) {
    ++stats_.mark_events;
    const auto i = e.instrument;
    // Funding: Binance announces the coming rate with every mark and pays it at next_funding; the
    // first mark at or after that time shows it has been paid (at that mark). Live, the venue's
    // own account reports it.
    const auto &before = marks_[i];
    if (!live_ && before && before->next_funding > 0 && e.ts >= before->next_funding) {
        Money paid = portfolio_->on_funding(i, before->funding_rate, m.price);
        if (paid.units != 0)
            keel::log::get("exec").info("funding {} at {} ({} %): {:+.8f}", instruments_[i].id,
                                        m.price.to_double(), before->funding_rate.to_double() * 100,
                                        paid.to_double());
        watch_account();
    }
    marks_[i] = m;
    if (tick_amounts_[i] > 0 && feeds_[i].usable()) {
        const Int128 twice = static_cast<Int128>(m.price.units) * 2;
        const Ticks floor2 = static_cast<Ticks>(twice / tick_amounts_[i]);
        const Ticks ceil2 = floor2 + (twice % tick_amounts_[i] != 0 ? 1 : 0);
        trigger_conditionals(i, exec::TriggerPrice::mark, floor2, ceil2);
        deliver_order_events();
    }
}

void Engine::note_exchange_time(InstrumentIndex i, TimeNs ts, TimeNs received) {
    if (exchange_seen_[i] == 0) venue_start_[i] = ts - (received - session_start_);
    exchange_seen_[i] = ts;
    exchange_seen_at_[i] = received;
}

TimeNs Engine::market_clock(InstrumentIndex i) const {
    if (exchange_seen_[i] == 0) return now();
    return std::min(now(), exchange_seen_[i] + (now() - exchange_seen_at_[i]));
}

Money Engine::half_ticks_amount(InstrumentIndex i, Ticks two_price) const {
    if (tick_amounts_[i] > 0)
        return Money::from_units(
            static_cast<int64_t>(div_round(static_cast<Int128>(two_price) * tick_amounts_[i], 2)));
    return Money::from_double(instruments_[i].price(two_price) / 2);
}

bool Engine::ends_with_data() const {
    return !venues_.empty() && std::all_of(venues_.begin(), venues_.end(), [](const auto &v) {
        return v->replay != nullptr || v->playback;
    });
}

void Engine::sample_equity() {
    bool in_market = false;
    for (InstrumentIndex i = 0; i < instruments_.size(); ++i)
        in_market = in_market || portfolio_->position(i).qty != 0;
    report::EquityPoint p{now(), portfolio_->equity().to_double(), in_market};
    // One point per instant: the last state at that time.
    if (!equity_curve_.empty() && equity_curve_.back().t == p.t)
        equity_curve_.back() = p;
    else
        equity_curve_.push_back(p);
}

void Engine::request_snapshot(InstrumentIndex i) {
    if (snapshot_requested_[i]) return;
    snapshot_requested_[i] = true;
    if (feeds_[i].sync_stats().snapshots > 0) ++resyncs_[i];  // not the first sync
    for (auto &v : venues_) {
        if (v->name != instruments_[i].venue) continue;
        if (auto fn = v->library->exchange().request_snapshot) fn(v->self, i);
    }
}

void Engine::check_stale_books() {
    if (now() < next_stale_check_) return;
    next_stale_check_ = now() + 1'000'000'000;
    for (InstrumentIndex i = 0; i < feeds_.size(); ++i) {
        if (playback_[i] || !subscribed_[i] || !feeds_[i].check_stale(now())) continue;
        auto body = fmt::format(
            "no book update for {:g} s; orders on it are refused until the "
            "stream moves again",
            config_.market.stale_after_s);
        keel::log::get("market").warn("{}: {}", instruments_[i].id, body);
        notify(strategy::NotifyLevel::warning, "market", instruments_[i].id + " book stale", body);
    }
}

bool Engine::replay_due_frames() {
    bool pending = false;
    for (auto &v : venues_) {
        while (v->replay_pending && v->replay_ts <= now() && !stop_requested_.load()) {
            keel_frame f{};
            f.struct_size = sizeof f;
            f.receive_ts_ns = v->replay_ts;
            f.data = v->replay_frame.data();
            f.size = v->replay_frame.size();
            f.capacity = v->replay->capacity();
            f.url = v->replay_url.empty() ? nullptr : v->replay_url.c_str();
            deliver_frame(*v, f);
            process_queue();
            v->read_replay();
        }
        pending = pending || v->replay_pending;
    }
    return pending;
}

void Engine::deliver_frame(Venue &venue, const keel_frame &frame, bool record) {
    if (options_.probe) options_.probe->frame_in(frame);
    ++venue.frames;
    if (venue.recorder && record) {
        try {
            if (!venue.recorder->write(frame.receive_ts_ns, frame.url ? frame.url : "",
                                       {frame.data, frame.size}))
                on_reject_frame(venue, "a frame with a line break cannot be recorded");
        } catch (const std::exception &e) {
            // A full disk stops the recording, never the session.
            keel::log::get("market").error("venue {}: recording stopped: {}", venue.name, e.what());
            notify(strategy::NotifyLevel::error, "market", "recording stopped", e.what());
            venue.recorder.reset();
        }
    }
    venue.library->exchange().on_frame(venue.self, &frame);
}

void Engine::emit_candle(InstrumentIndex i, const market::Candle &c) {
    ++stats_.candles;
    auto &history = candle_history_[i][c.length];
    if (history.size() == kCandleHistory) history.pop_front();
    history.push_back(c);
    if (!position_known_[i]) return;
    for (size_t k = 0; k < strategies_.size(); ++k) {
        auto &s = strategies_[k];
        const auto &wants = candle_wants_[k];
        if (!s->wants(i) || (c.flat && !wants.flat)) continue;
        for (const auto &[length, label] : wants.timeframes) {
            if (length != c.length) continue;
            s->on_candle(i, label, c);
            deliver_order_events();
        }
    }
}

// ---- orders --------------------------------------------------------------------------------

exec::OrderId Engine::submit(exec::OrderIntent intent) {
    // A strategy's order: the binding set its index, so it can never pass as a host order.
    return place(std::move(intent));
}

risk::RiskContext Engine::risk_context(InstrumentIndex i, exec::StrategyIndex strategy,
                                       exec::OrderId except) const {
    return risk::RiskContext{instruments_.at(i),
                             feeds_.at(i).book(),
                             *portfolio_,
                             orders([&](auto &v) { return v.open_orders(i, strategy, except); }),
                             now(),
                             feeds_.at(i).usable(),
                             position_known_[i] != 0};
}

exec::OrderId Engine::place(exec::OrderIntent intent, exec::OrderId id, exec::OrderId oco) {
    if (id == 0) id = next_order_id_++;
    auto i = intent.instrument;
    // A copy: a veto reports the intent as asked.
    auto decision = gate_->check(intent, risk_context(i, intent.strategy));
    if (auto *veto = std::get_if<risk::Veto>(&decision)) {
        reject(intent, id, *veto);
        return id;
    }
    auto &approved = std::get<risk::ApprovedOrder>(decision);
    ++stats_.orders;
    journal_->note_stop(id, approved.intent().stop_price);
    if (approved.intent().qty != approved.requested_qty())
        keel::log::get("risk").info(
            "order {} sized {} of the {} asked (drawdown {}, size factor {:.2f})", id,
            instruments_[i].qty_text(approved.intent().qty),
            instruments_[i].qty_text(approved.requested_qty()), gate_->drawdown().name(),
            gate_->size_factor());
    if (exec::is_conditional(approved.intent().type)) {
        // Waits here; when it triggers, its market order passes the gate again.
        exec::ConditionalOrder o{id, approved.intent(), 0, oco};
        conditional_.add(o);
        conditional_event(o, exec::OrderStatus::accepted, "");
        return id;
    }
    const auto &entry = approved.intent();
    if (entry.bracket_stop > 0 || entry.bracket_target > 0) brackets_[id] = Bracket{entry, 0, 0, 0};
    const auto &b = feeds_.at(i).book();
    arrivals_[id] =
        Arrival{b.valid() ? b.best_bid()->price + b.best_ask()->price : 0, now(), entry.qty, 0};
    if (options_.probe) options_.probe->order_out(id, entry);
    if (live_)
        live_->submit(std::move(approved), id, now(), venue_events_);
    else
        paper_->submit(std::move(approved), id, feeds_.at(i).book(), now(), venue_events_);
    handle_venue_events();
    watch_account();
    return id;
}

void Engine::conditional_event(const exec::ConditionalOrder &o, exec::OrderStatus status,
                               const char *reason, std::string message) {
    exec::Order order;
    order.id = o.id;
    order.intent = o.intent;
    exec::OrderEvent e = exec::order_event(order, status, instruments_[o.intent.instrument], now());
    e.reason = reason;
    e.message = std::move(message);
    if (status == exec::OrderStatus::cancelled) ++stats_.cancels;
    book_event(std::move(e));
}

void Engine::measure_execution(const exec::OrderEvent &e, double &slippage_bps) {
    auto it = arrivals_.find(e.id);
    if (it == arrivals_.end()) return;
    Arrival &a = it->second;
    if (e.status == exec::OrderStatus::amended) a.qty = e.qty;  // the fill ratio's new whole
    if (e.last_qty > 0) {
        a.filled += e.last_qty;
        if (a.two_mid > 0) {
            // (price - mid) / mid, in two-mid units to stay exact; a sell's sign is flipped so
            // positive always means worse than the mid.
            double mid2 = static_cast<double>(a.two_mid);
            double diff = (2.0 * static_cast<double>(e.last_price) - mid2) / mid2 * 1e4;
            slippage_bps = e.side == Side::buy ? diff : -diff;
            double q = static_cast<double>(e.last_qty);
            slip_qty_sum_ += q;
            slip_weighted_sum_ += slippage_bps * q;
            stats_.execution.worst_slippage_bps =
                std::max(stats_.execution.worst_slippage_bps, slippage_bps);
        }
        ++stats_.execution.fills;
        ms_to_fill_sum_ += static_cast<double>(e.ts - a.at) / 1e6;
    }
    if (exec::is_final(e.status)) {
        if (e.status != exec::OrderStatus::rejected && a.qty > 0) {
            ++stats_.execution.finished_orders;
            fill_ratio_sum_ += static_cast<double>(a.filled) / static_cast<double>(a.qty);
        }
        arrivals_.erase(it);
    }
}

void Engine::book_event(exec::OrderEvent e) {
    auto before = tracker_.status(e.id);
    if (!tracker_.apply(e.id, e.status)) {
        ++stats_.illegal_transitions;
        keel::log::get("exec").error(
            "order {}: {} -> {} is not a legal transition; event dropped (fills stay booked)", e.id,
            before ? exec::to_string(*before) : "new", exec::to_string(e.status));
        return;
    }
    log_order_event(e);
    pending_events_.push_back(std::move(e));
}

bool Engine::cancel_conditional(exec::OrderId id, const char *reason) {
    exec::ConditionalOrder o;
    if (!conditional_.remove(id, &o)) return false;
    conditional_event(o, exec::OrderStatus::cancelled, reason);
    return true;
}

void Engine::trigger_conditionals(InstrumentIndex i, exec::TriggerPrice source, Ticks floor2,
                                  Ticks ceil2) {
    if (conditional_.size() == 0) return;
    triggered_.clear();
    conditional_.on_price(i, source, floor2, ceil2, triggered_);
    auto fired = std::move(triggered_);
    for (auto &o : fired) {
        conditional_event(o, exec::OrderStatus::triggered, "");
        for (auto sibling : conditional_.ids_in_group(o.oco)) cancel_conditional(sibling, "OCO");
        exec::OrderIntent child = o.intent;
        child.type = exec::OrderType::market;
        child.price = child.trail = 0;
        place(std::move(child), o.id);
    }
}

void Engine::update_bracket(exec::OrderId id, Lots fill) {
    auto it = brackets_.find(id);
    if (it == brackets_.end()) return;
    Bracket &b = it->second;
    b.filled += fill;
    // One stop and one take-profit for everything filled so far: replace the legs, each through
    // the gate, in one OCO group named after the entry.
    auto leg = [&](exec::OrderId &current, exec::OrderType type, Ticks trigger) {
        if (trigger <= 0) return;
        if (current) cancel_conditional(current, "BRACKET_RESIZED");
        exec::OrderIntent l;
        l.strategy = b.entry.strategy;
        l.instrument = b.entry.instrument;
        l.side = opposite(b.entry.side);
        l.type = type;
        l.qty = b.filled;
        l.price = trigger;
        l.reduce_only = true;
        l.trigger = b.entry.trigger;
        l.tag = (type == exec::OrderType::stop ? "stop_loss" : "take_profit");
        current = next_order_id_++;
        place(std::move(l), current, id);
    };
    leg(b.stop_leg, exec::OrderType::stop, b.entry.bracket_stop);
    leg(b.target_leg, exec::OrderType::take_profit, b.entry.bracket_target);
}

void Engine::reject(const exec::OrderIntent &intent, exec::OrderId id, const risk::Veto &veto) {
    note_veto(intent, id, veto);
    exec::OrderEvent e;
    e.id = id;
    e.strategy = intent.strategy;
    e.instrument = intent.instrument;
    e.side = intent.side;
    e.type = intent.type;
    e.status = exec::OrderStatus::rejected;
    e.qty = intent.qty;
    e.reason = risk::code(veto.reason);
    e.message = veto.message;
    e.tag = intent.tag;
    e.ts = now();
    book_event(std::move(e));
}

void Engine::note_veto(const exec::OrderIntent &intent, exec::OrderId id, const risk::Veto &veto) {
    ++stats_.vetoes;
    uint64_t seen = ++stats_.vetoes_by_reason[risk::code(veto.reason)];
    const auto &spec = instruments_.at(intent.instrument);
    std::string who = intent.strategy < strategies_.size() ? strategies_[intent.strategy]->name()
                                                           : std::string("host");
    keel::log::get("risk").warn("veto {} order {} {} {} {}: {} ({})", who, id,
                                to_string(intent.side), spec.qty_text(intent.qty), spec.id,
                                risk::code(veto.reason), veto.message);
    // Alert on the first veto of each reason and then every 100th, so a looping strategy
    // cannot flood the channels while each veto stays in the log.
    if (seen == 1 || seen % 100 == 0)
        notify(strategy::NotifyLevel::warning, "risk",
               fmt::format("order vetoed: {} ({} so far)", risk::code(veto.reason), seen),
               fmt::format("{} {} {} {}: {}", who, to_string(intent.side),
                           spec.qty_text(intent.qty), spec.id, veto.message));
}

void Engine::handle_venue_events() {
    // Book every venue event at once: positions must be current before any strategy runs again.
    // Taken out first: placing a bracket's legs below may produce venue events of its own.
    std::vector<exec::OrderEvent> events;
    events.swap(venue_events_);
    std::vector<std::pair<exec::OrderId, Lots>> bracket_fills;
    std::vector<exec::OrderId> bracket_done;
    for (auto &e : events) {
        journal_->on_fill(e);
        if (e.last_qty > 0) {
            ++stats_.fills;
            portfolio_->on_fill(e.instrument, e.side, exec::held_qty(e), e.last_price, e.last_fee);
            traded_value_ += instruments_[e.instrument].price(e.last_price) *
                             instruments_[e.instrument].qty(e.last_qty);
            sample_equity();
            if (brackets_.count(e.id)) bracket_fills.emplace_back(e.id, e.last_qty);
        }
        if (e.status == exec::OrderStatus::cancelled) ++stats_.cancels;
        if (e.reason == exec::kAdopted)  // LiveVenue logged it; the operator hears of it too
            notify(strategy::NotifyLevel::warning, "exec",
                   instruments_[e.instrument].id + ": an earlier run's order adopted", e.message);
        if (exec::is_final(e.status) && brackets_.count(e.id)) bracket_done.push_back(e.id);
        measure_execution(e, e.slippage_bps);
        book_event(std::move(e));
    }
    for (auto [id, qty] : bracket_fills) update_bracket(id, qty);
    for (auto id : bracket_done) brackets_.erase(id);  // its legs live on
    // Hand the buffer back so a warm engine does not allocate one per order event.
    events.clear();
    if (venue_events_.empty()) venue_events_.swap(events);
}

void Engine::arrive_paper(bool inclusive) {
    if (live_ || !paper_->in_flight()) return;
    paper_->advance(now(), inclusive, paper_books_, venue_events_);
    if (venue_events_.empty()) return;
    handle_venue_events();
    watch_account();
    deliver_order_events();
}

void Engine::flush_paper() {
    if (live_ || !paper_->in_flight()) return;
    paper_->flush(now(), paper_books_, venue_events_);
    handle_venue_events();
    watch_account();
}

void Engine::log_order_event(const exec::OrderEvent &e) {
    const auto &spec = instruments_[e.instrument];
    auto &log = keel::log::get("exec");
    if (e.last_qty > 0)
        log.info("order {} {} {} {}: fill {} @ {} ({}), fee {:.4f}, position {}", e.id,
                 to_string(e.side), spec.id, exec::to_string(e.status), spec.qty_text(e.last_qty),
                 spec.price_text(e.last_price), e.maker ? "maker" : "taker", e.last_fee.to_double(),
                 spec.qty_text(portfolio_->position(e.instrument).qty));
    else
        log.debug("order {} {} {} {} {}{}", e.id, to_string(e.side), spec.qty_text(e.qty), spec.id,
                  exec::to_string(e.status), e.reason.empty() ? "" : " " + e.reason);
}

void Engine::deliver_order_events() {
    // on_order may submit again, which may produce more events: deliver until quiet, but bounded
    // so a strategy that answers every rejection with a new order cannot spin the engine forever.
    constexpr size_t kMaxPerRound = 10'000;
    size_t delivered = 0;
    while (!pending_events_.empty() && delivered < kMaxPerRound) {
        std::vector<exec::OrderEvent> batch;
        batch.swap(pending_events_);
        for (auto &e : batch) {
            ++delivered;
            if (e.strategy < strategies_.size()) strategies_[e.strategy]->on_order(e);
        }
    }
    if (!pending_events_.empty()) {
        keel::log::get("engine").error(
            "order events keep producing order events ({} delivered in one round); the rest "
            "are delivered with the next market event",
            delivered);
    }
}

bool Engine::cancel(exec::StrategyIndex strategy, exec::OrderId id, std::string &why) {
    if (const auto *c = conditional_.find(id)) {
        if (c->intent.strategy != strategy) {
            why = fmt::format("order {} belongs to another strategy", id);
            return false;
        }
        return cancel_conditional(id, "CANCELLED");
    }
    const exec::Order *o = orders([&](auto &v) { return v.find_resting(id); });
    if (!o) {
        why = fmt::format("order {} is not open", id);
        return false;
    }
    if (o->intent.strategy != strategy) {
        why = fmt::format("order {} belongs to another strategy", id);
        return false;
    }
    orders([&](auto &v) { return v.cancel(id, now(), venue_events_); });
    handle_venue_events();
    return true;
}

bool Engine::amend(exec::StrategyIndex strategy, exec::OrderId id, std::optional<double> new_qty,
                   std::optional<double> new_price, std::string &why) {
    const exec::Order *o = orders([&](auto &v) { return v.find_resting(id); });
    if (!o) {
        why = fmt::format("order {} is not open{}", id,
                          conditional_.find(id) ? " at the venue (a conditional order waits in "
                                                  "keel: cancel it and place a new one)"
                                                : "");
        return false;
    }
    if (o->intent.strategy != strategy) {
        why = fmt::format("order {} belongs to another strategy", id);
        return false;
    }
    if (o->intent.type != exec::OrderType::limit || o->intent.tif != exec::TimeInForce::gtc) {
        why = fmt::format("order {} is not a resting (GTC limit) order", id);
        return false;
    }
    const auto &spec = instruments_[o->intent.instrument];
    if (new_qty && !(*new_qty > 0 && spec.on_lot_grid(*new_qty))) {
        why = fmt::format("qty {} is not a positive multiple of the lot size {}", *new_qty,
                          spec.lot_size);
        return false;
    }
    const Lots qty = new_qty ? spec.to_lots(*new_qty) : o->intent.qty;
    // Off the tick grid: -1, which the gate vetoes (INVALID_PRICE) rather than rounding.
    const Ticks price = !new_price ? o->intent.price
                        : *new_price > 0 && spec.on_tick_grid(*new_price)
                            ? spec.to_ticks(*new_price)
                            : -1;
    if (qty <= o->filled) {
        why = fmt::format("order {}: the new quantity must exceed what has filled ({})", id,
                          spec.qty_text(o->filled));
        return false;
    }
    if (qty == o->intent.qty && price == o->intent.price) {
        why = fmt::format("order {} already stands at that quantity and price", id);
        return false;
    }
    // The gate judges the order as it would become: its new working rest at the new price,
    // beside every other working order (not beside itself).
    exec::OrderIntent intent = o->intent;
    intent.qty = qty - o->filled;
    intent.price = price;
    const auto i = intent.instrument;
    auto decision = gate_->check(intent, risk_context(i, strategy, id));
    if (auto *veto = std::get_if<risk::Veto>(&decision)) {
        note_veto(intent, id, *veto);
        why = fmt::format("{}: {}", risk::code(veto->reason), veto->message);
        return false;
    }
    auto &approved = std::get<risk::ApprovedOrder>(decision);
    const bool ok = live_ ? live_->amend(std::move(approved), id, now(), why)
                          : paper_->amend(std::move(approved), id, feeds_.at(i).book(), now(),
                                          venue_events_, why);
    if (!ok) why = fmt::format("order {} cannot be amended now: {}", id, why);
    handle_venue_events();
    return ok;
}

std::vector<exec::OrderId> Engine::open_orders(exec::StrategyIndex strategy) const {
    auto ids = orders([&](auto &v) { return v.resting_ids(strategy); });
    for (auto id : conditional_.ids(strategy)) ids.push_back(id);
    return ids;
}

void Engine::shutdown_orders() {
    // Orders do not outlive the session: paper ones are cancelled here, live ones at the venue,
    // whose confirmations are awaited (a few seconds at most).
    // In flight to the simulated venue: arrives against the last books first (a fill may place
    // bracket legs, cancelled below); the cancels, if they have latency, then land too.
    flush_paper();
    for (auto id : conditional_.all_ids()) cancel_conditional(id, "SESSION_END");
    for (auto id : orders([&](auto &v) { return v.all_resting_ids(); }))
        orders([&](auto &v) { return v.cancel(id, now(), venue_events_); });
    handle_venue_events();
    flush_paper();
    drain_live_orders();
    deliver_order_events();
}

// ---- accounting and reporting --------------------------------------------------------------

std::optional<double> Engine::mark(InstrumentIndex i) const {
    const auto &b = feeds_.at(i).book();
    if (!b.valid()) return std::nullopt;
    return (instruments_[i].price(b.best_bid()->price) +
            instruments_[i].price(b.best_ask()->price)) /
           2;
}

strategy::RiskView Engine::risk() const {
    strategy::RiskView v;
    v.state = risk::to_string(gate_->state());
    v.drawdown_level = gate_->drawdown().name();
    v.size_factor = gate_->size_factor();
    v.equity = portfolio_->equity().to_double();
    v.peak_equity = portfolio_->peak_equity().to_double();
    v.day_start_equity = portfolio_->day_start_equity().to_double();
    v.orders_today = gate_->orders_today();
    return v;
}

// ---- risk: account watch, operator commands, kill switch -----------------------------------

void Engine::watch_account() {
    gate_->on_account(*portfolio_, now(), risk_events_);
    if (risk_events_.empty()) return;
    std::vector<risk::RiskEvent> events;
    events.swap(risk_events_);
    for (auto &e : events) {
        auto level = e.critical ? strategy::NotifyLevel::error : strategy::NotifyLevel::warning;
        keel::log::get("risk").warn("{}: {} (state {})", e.title, e.message,
                                    risk::to_string(gate_->state()));
        notify(level, "risk", e.title, e.message);
        if (e.action == config::RiskAction::flatten) start_kill_switch(e.title);
    }
}

void Engine::request(Command command, std::string why, std::string target) {
    std::lock_guard lock(mutex_);
    commands_.push_back({command, std::move(why), std::move(target)});
    wake_.notify_all();
}

void Engine::schedule(Command command, TimeNs at, std::string why, std::string target) {
    scheduled_.emplace(at, Request{command, std::move(why), std::move(target)});
}

void Engine::run_command(const Request &r) {
    auto &log = keel::log::get("risk");
    const std::string &why = r.why;
    switch (r.command) {
        case Command::halt:
            gate_->halt("manual halt: " + why);
            log.warn("trading HALTED by the operator: {}", why);
            notify(strategy::NotifyLevel::warning, "risk", "trading halted", why);
            break;
        case Command::reduce:
            gate_->reduce("manual: " + why);
            log.warn("trading REDUCING by the operator: {}", why);
            notify(strategy::NotifyLevel::warning, "risk", "trading reduced to exits only", why);
            break;
        case Command::resume:
            if (kill_.active) {
                log.warn("resume refused: the kill switch is still flattening");
                return;
            }
            gate_->resume(*portfolio_);
            log.info("trading resumed (ACTIVE) by the operator: {}", why);
            notify(strategy::NotifyLevel::info, "risk", "trading resumed", why);
            break;
        case Command::kill_switch:
            start_kill_switch("manual: " + why);
            break;
        case Command::activate:
        case Command::deactivate: {
            auto it = std::find_if(strategies_.begin(), strategies_.end(),
                                   [&](auto &st) { return st->name() == r.target; });
            if (it == strategies_.end()) {
                keel::log::get("strategy").warn("unknown strategy \"{}\"", r.target);
                break;
            }
            (*it)->set_active(r.command == Command::activate);
            keel::log::get("strategy")
                .info("[{}] {} ({})", r.target, (*it)->active() ? "activated" : "deactivated", why);
            break;
        }
        case Command::subscribe:
        case Command::unsubscribe:
            change_subscription(r.target, r.command == Command::subscribe, why);
            break;
        case Command::reload:
            if (!r.target.empty()) {
                reload_strategy(r.target, why);
            } else {
                for (auto &cfg : config_.strategies) reload_strategy(cfg.name, why);
            }
            break;
    }
}

void Engine::change_subscription(const std::string &id, bool subscribe, const std::string &why) {
    auto &log = keel::log::get("market");
    const char *what = subscribe ? "subscribe" : "unsubscribe";
    const auto found = find_instrument(id);
    if (!found) {
        log.warn("{} of unknown instrument \"{}\" ignored", what, id);
        return;
    }
    const InstrumentIndex i = *found;
    if (subscribed_[i] == subscribe) {
        log.info("{}: already {}d", id, what);
        return;
    }
    Venue *v = venue_of(i);
    const auto &d = v->library->exchange();
    if (v->offline || !KEEL_HAS_ENTRY(d, unsubscribe)) {
        log.warn("{}: {} refused: venue {} cannot change its subscriptions while it runs", id, what,
                 v->name);
        return;
    }
    // Market data stops only where nothing depends on it: a strategy reading it, a position
    // valued and guarded at its price, an order or a stop waiting on it.
    std::string needed;
    for (const auto &s : strategies_)
        if (s->active() && s->wants(i)) needed = "strategy " + s->name() + " is active on it";
    if (portfolio_->position(i).qty != 0) needed = "a position is open";
    const auto open = orders([&](auto &venue) { return venue.open_orders(i, exec::kNoStrategy); });
    if (open.buy_qty != 0 || open.sell_qty != 0) needed = "orders are working on it";
    for (auto oid : conditional_.all_ids())
        if (conditional_.find(oid)->intent.instrument == i) needed = "a stop is waiting on it";
    if (!subscribe && !needed.empty()) {
        log.warn("{}: unsubscribe refused: {}", id, needed);
        return;
    }
    char err[512] = {0};
    const bool done = subscribe ? d.subscribe(v->self, instruments_[i].symbol.c_str(), i, err,
                                              sizeof err) == KEEL_OK
                                : d.unsubscribe(v->self, i, err, sizeof err) == KEEL_OK;
    if (!done) {
        log.warn("{}: {} refused by venue {}: {}", id, what, v->name,
                 err[0] ? err : "no reason given");
        return;
    }
    subscribed_[i] = subscribe;
    snapshot_requested_[i] = false;
    if (subscribe) {
        // The book comes up by snapshot (its feed has waited for one since the unsubscribe);
        // the candles missed meanwhile come from the venue's history where it has them.
        request_venue_history(i);
    } else {
        feeds_[i].restart();
        candles_[i].interrupt();
    }
    log.info("{}: {}d ({})", id, what, why);
}

void Engine::reload_strategy(const std::string &name, const std::string &why) {
    auto &log = keel::log::get("strategy");
    auto it = std::find_if(strategies_.begin(), strategies_.end(),
                           [&](auto &s) { return s->name() == name; });
    if (it == strategies_.end()) {
        log.warn("reload of unknown strategy \"{}\" ignored", name);
        return;
    }
    auto &old = *it;
    auto k = old->index();
    auto started = std::chrono::steady_clock::now();
    // A fresh sandbox: compile, run the main chunk, warm its indicators on the candles the old
    // version saw, then hand over the state. Only if every step succeeds does it replace the
    // old version, between two events, so no event is lost or seen twice.
    auto fresh =
        std::make_unique<strategy::LuaStrategy>(k, old->config(), *this, old->instruments());
    try {
        fresh->load();
        const auto &wants = candle_wants_[k];
        for (auto i : fresh->instruments())
            for (const auto &[length, label] : wants.timeframes)
                if (auto h = candle_history_[i].find(length); h != candle_history_[i].end())
                    for (const auto &c : h->second)
                        if (!c.flat || wants.flat) fresh->update_indicators(i, label, c);
        fresh->adopt_timers(*old);
        fresh->set_busy_counter(&busy_[k]);
        fresh->set_active(old->active());
        fresh->take_over(*old);
    } catch (const strategy::StrategyError &e) {
        ++stats_.failed_reloads;
        stats_.last_reload_error = name + ": " + e.what();
        log.error("[{}] reload failed, the running version goes on: {}", name, e.what());
        notify(strategy::NotifyLevel::error, "strategy:" + name, "reload of " + name + " failed",
               std::string(e.what()) + " (the running version goes on)");
        return;
    }
    old = std::move(fresh);
    ++stats_.reloads;
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                  .count();
    log.info("[{}] reloaded in {:.1f} ms ({})", name, ms, why);
    notify(strategy::NotifyLevel::info, "strategy:" + name, "strategy " + name + " reloaded",
           fmt::format("{} in {:.1f} ms", why, ms));
}

void Engine::start_kill_switch(const std::string &why) {
    if (kill_.active) return;
    ++stats_.kill_switches;
    kill_ = KillSwitch{true, now(), why, 0, 0, 0, false};
    gate_->reduce("kill switch: " + why);  // new risk refused while flattening; a halt stays
    keel::log::get("risk").error("KILL SWITCH engaged: {}", why);
    notify(strategy::NotifyLevel::error, "risk", "kill switch engaged",
           why + ": cancelling every order and flattening every position");
    advance_kill_switch();
}

void Engine::advance_kill_switch() {
    // Each pass cancels what rests and sends one reducing market order per open position through
    // the gate; what cannot fill now (no valid book) is retried on the next event.
    ++kill_.attempts;
    for (auto id : conditional_.all_ids())
        if (cancel_conditional(id, "KILL_SWITCH")) ++kill_.cancelled;
    for (auto id : orders([&](auto &v) { return v.all_resting_ids(); })) {
        // Its own exits still on their way are what flattens: never cancelled.
        if (std::find(kill_.exits.begin(), kill_.exits.end(), id) != kill_.exits.end()) continue;
        if (orders([&](auto &v) { return v.cancel(id, now(), venue_events_); })) ++kill_.cancelled;
    }
    handle_venue_events();
    for (InstrumentIndex i = 0; i < instruments_.size(); ++i) {
        Lots qty = portfolio_->position(i).qty;
        if (qty == 0) continue;
        // An exit still working (on its way to the venue, or unconfirmed) is not sent again:
        // the gate would refuse a second one as not reducing.
        if (std::any_of(kill_.exits.begin(), kill_.exits.end(), [&](exec::OrderId id) {
                const exec::Order *o = orders([&](auto &v) { return v.find_resting(id); });
                return o && o->intent.instrument == i;
            }))
            continue;
        exec::OrderIntent intent;
        intent.strategy = exec::kNoStrategy;
        intent.instrument = i;
        intent.side = qty > 0 ? Side::sell : Side::buy;
        intent.type = exec::OrderType::market;
        intent.qty = std::llabs(qty);
        intent.reduce_only = true;
        intent.tag = "kill switch";
        ++kill_.orders;
        kill_.exits.push_back(place(std::move(intent)));
    }
    bool flat = orders([&](auto &v) { return v.open_orders(); }) == 0 && conditional_.size() == 0;
    for (InstrumentIndex i = 0; i < instruments_.size() && flat; ++i)
        flat = portfolio_->position(i).qty == 0;
    TimeNs elapsed = now() - kill_.started;
    if (flat) {
        kill_.active = false;
        ++stats_.kill_switches_done;
        gate_->halt("kill switch done: " + kill_.why);
        std::string report = fmt::format(
            "flat in {:.3f} s: {} orders cancelled, {} reducing orders sent in {} passes; "
            "trading HALTED until resumed",
            static_cast<double>(elapsed) / 1e9, kill_.cancelled, kill_.orders, kill_.attempts);
        keel::log::get("risk").warn("kill switch done: {}", report);
        notify(strategy::NotifyLevel::success, "risk", "kill switch done", report);
    } else if (elapsed >= kKillDeadline && !kill_.late_alerted) {
        kill_.late_alerted = true;
        keel::log::get("risk").error("kill switch NOT confirmed within {} s; still retrying",
                                     kKillDeadline / 1'000'000'000);
        notify(strategy::NotifyLevel::error, "risk", "kill switch not confirmed within 5 s",
               "positions are still open; the kill switch keeps retrying on every market event");
    }
}

void Engine::strategy_faulted(exec::StrategyIndex strategy, const std::string &why) {
    // The strategy is stopped for good; nothing it left working may fill on its behalf.
    size_t cancelled = 0;
    for (auto id : conditional_.ids(strategy))
        if (cancel_conditional(id, "STRATEGY_FAULTED")) ++cancelled;
    for (auto id : orders([&](auto &v) { return v.resting_ids(strategy); }))
        if (orders([&](auto &v) { return v.cancel(id, now(), venue_events_); })) ++cancelled;
    handle_venue_events();
    const std::string &name = strategies_.at(strategy)->name();
    notify(strategy::NotifyLevel::error, "strategy:" + name, "strategy " + name + " FAULTED",
           fmt::format("{}; it is stopped, {} open orders cancelled; other strategies go on", why,
                       cancelled));
}

void Engine::notify(strategy::NotifyLevel level, const std::string &source,
                    const std::string &title, const std::string &body) {
    notifiers_.post({to_notify_level(level), now(), source, title, body});
}

const strategy::LuaStrategy *Engine::strategy(const std::string &name) const {
    for (auto &s : strategies_)
        if (s->name() == name) return s.get();
    return nullptr;
}

Summary Engine::summary() const {
    Summary s = stats_;
    s.rejected_events = rejected_events_.load();
    if (live_) s.live = live_->stats();
    for (auto &v : venues_) {
        s.frames += v->frames;
        s.malformed_frames += v->malformed.load();
    }
    for (InstrumentIndex i = 0; i < feeds_.size(); ++i) {
        MarketSummary m;
        m.instrument = instruments_[i].id;
        m.sync = feeds_[i].sync_stats();
        m.rejects = feeds_[i].rejects();
        m.rejects += trade_filters_[i].health().rejects();
        m.resyncs = resyncs_[i];
        const auto &latency = feeds_[i].health().latency();
        m.latency_samples = latency.count();
        m.latency_p50_ms = static_cast<double>(latency.quantile(0.5)) / 1e6;
        m.latency_p99_ms = static_cast<double>(latency.quantile(0.99)) / 1e6;
        s.market.push_back(std::move(m));
    }
    s.strategy_errors = 0;
    for (auto &st : strategies_) {
        s.strategy_errors += st->error_count();
        if (st->faulted()) s.faulted_strategies.push_back(st->name() + ": " + st->fault());
    }
    if (!portfolio_) return s;
    const auto &pf = *portfolio_;
    s.starting_balance = pf.starting_balance().to_double();
    s.realized_pnl = pf.realized_pnl().to_double();
    s.fees = pf.fees().to_double();
    s.funding = pf.funding().to_double();
    s.unrealized_pnl = pf.unrealized_pnl().to_double();
    s.equity = pf.equity().to_double();
    s.peak_equity = pf.peak_equity().to_double();
    s.gross_exposure = pf.gross_exposure().to_double();
    auto &x = s.execution;
    if (slip_qty_sum_ > 0) x.slippage_bps_weighted = slip_weighted_sum_ / slip_qty_sum_;
    if (x.fills > 0) x.mean_ms_to_fill = ms_to_fill_sum_ / static_cast<double>(x.fills);
    if (x.finished_orders > 0)
        x.fill_ratio = fill_ratio_sum_ / static_cast<double>(x.finished_orders);
    s.margin_used = pf.margin_used().to_double();
    s.trading_state = risk::to_string(gate_->state());
    s.trading_state_reason = gate_->state_reason();
    s.drawdown_level = gate_->drawdown().name();
    for (InstrumentIndex i = 0; i < instruments_.size(); ++i) {
        const auto &p = pf.position(i);
        if (p.qty == 0 && p.realized.units == 0 && p.fees.units == 0) continue;
        s.positions.push_back({instruments_[i].id, instruments_[i].qty(p.qty),
                               p.avg_entry(instruments_[i]), mark(i).value_or(0),
                               p.unrealized.to_double(), p.realized.to_double()});
    }
    return s;
}

std::string format_summary(const Summary &s) {
    std::string out;
    auto line = [&](std::string text) { out += text + "\n"; };
    line(fmt::format("keel session summary ({:.1f} s)", s.seconds));
    line(fmt::format("  events    book {}  trades {}  candles {}  rejected {}", s.book_events,
                     s.trade_events, s.candles, s.rejected_events));
    if (s.frames || s.malformed_frames)
        line(fmt::format("  frames    {}  malformed {}", s.frames, s.malformed_frames));
    for (auto &m : s.market) {
        std::string rejects;
        for (size_t r = 0; r < market::kRejectReasons; ++r)
            if (m.rejects.by_reason[r])
                rejects += fmt::format(" {} {}", market::to_string(static_cast<market::Reject>(r)),
                                       m.rejects.by_reason[r]);
        line(
            fmt::format("  market {:<10} applied {}  snapshots {}  resyncs {}  latency p50 {:.1f} "
                        "ms p99 {:.1f} ms  rejected:{}",
                        m.instrument, m.sync.applied, m.sync.snapshots, m.resyncs, m.latency_p50_ms,
                        m.latency_p99_ms, rejects.empty() ? " none" : rejects));
    }
    line(fmt::format("  orders    {}  fills {}  cancels {}  vetoes {}", s.orders, s.fills,
                     s.cancels, s.vetoes));
    for (auto &[reason, n] : s.vetoes_by_reason) line(fmt::format("    veto {:<22} {}", reason, n));
    line(fmt::format("  strategy errors {}  reloads {} ({} failed)  signals {}", s.strategy_errors,
                     s.reloads, s.failed_reloads, s.signals));
    if (s.live.sent || s.live.adopted || s.live.foreign_orders || s.positions_taken_over)
        line(fmt::format(
            "  live      sent {}  again {}  paced {}  held {}  batches {}  queries {}  "
            "duplicate fills {}  unknown reports {}  adopted {}  foreign orders {}  "
            "positions taken over {}  checked {}  differed {}",
            s.live.sent, s.live.resent, s.live.paced, s.live.held, s.live.batches, s.live.queries,
            s.live.duplicate_fills, s.live.unknown_updates, s.live.adopted, s.live.foreign_orders,
            s.positions_taken_over, s.position_checks, s.position_mismatches));
    if (s.illegal_transitions)
        line(fmt::format("  ILLEGAL order transitions {} (see the exec log)",
                         s.illegal_transitions));
    for (auto &f : s.faulted_strategies) line("  FAULTED   " + f);
    for (auto &p : s.positions)
        line(fmt::format(
            "  {:<10} position {:+.6g} @ {:.6g}  mark {:.6g}  realized {:+.2f}  "
            "unrealized {:+.2f}",
            p.instrument, p.qty, p.avg_entry, p.mark, p.realized_pnl, p.unrealized_pnl));
    line(fmt::format(
        "  P&L       realized {:+.2f}  unrealized {:+.2f}  fees {:.2f}  funding {:+.2f}  net "
        "{:+.2f}",
        s.realized_pnl, s.unrealized_pnl, s.fees, s.funding, s.equity - s.starting_balance));
    line(fmt::format("  equity    {:.2f} (started {:.2f}, peak {:.2f})", s.equity,
                     s.starting_balance, s.peak_equity));
    line(
        fmt::format("  execution slippage {:+.2f} bps (worst {:+.2f})  to fill {:.1f} ms  fill "
                    "ratio {:.2f}",
                    s.execution.slippage_bps_weighted, s.execution.worst_slippage_bps,
                    s.execution.mean_ms_to_fill, s.execution.fill_ratio));
    line(fmt::format("  exposure  {:.2f} ({:.2f}x equity)  margin {:.2f}", s.gross_exposure,
                     s.equity > 0 ? s.gross_exposure / s.equity : 0.0, s.margin_used));
    line(fmt::format("  risk      state {}  drawdown {}  kill switch {} engaged, {} done",
                     s.trading_state, s.drawdown_level, s.kill_switches, s.kill_switches_done));
    if (!s.trading_state_reason.empty()) line("            (" + s.trading_state_reason + ")");
    return out;
}

}  // namespace keel::engine
