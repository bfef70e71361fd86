// The `sim` exchange plugin: a synthetic market that needs no network, the default venue of keel
// and the reference exchange plugin for plugin authors. This file is the C ABI glue (settings,
// subscribe, start, timer, events); the market model lives in sim_market.cpp.
//
// Settings: seed (int, 42), tick_ms (int, 50), depth (int, 50), volatility (double, 1.0).
// Symbols: BTCUSDT, ETHUSDT, SOLUSDT.
// Events: on start one snapshot per instrument; then on every timer tick, per instrument, the
// trades of the step followed by one delta of the levels that changed, all stamped with the
// timer's now_ns and a per-instrument book sequence that grows by one per book event (declared
// as KEEL_SEQ_CONTIGUOUS, so the host checks it). request_snapshot answers with a snapshot.

#include <keel/plugin.h>
#include <keel/plugin_support.hpp>

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "sim_market.hpp"

namespace keel::sim {
namespace {

using plugin_support::find_setting;
using plugin_support::set_error;

constexpr int64_t k_default_seed = 42;
constexpr int64_t k_default_tick_ms = 50;
constexpr int64_t k_default_depth = 50;
constexpr double k_default_volatility = 1.0;

struct instance;

// One subscribed instrument.
struct feed {
    instance *owner;
    keel_instrument_id id;
    market book;
    uint64_t sequence = 0;  // of the last book event
    uint64_t next_trade_id = 1;
    int64_t now_ns = 0;  // timestamp of the step being emitted
};

struct instance {
    const keel_host_api *host;
    void *ctx;
    market_config config;
    bool started = false;
    std::vector<std::unique_ptr<feed>> feeds;
    std::vector<keel_level> bid_delta;  // reused for every delta
    std::vector<keel_level> ask_delta;
};

// ---- settings ---------------------------------------------------------------------------------

bool parse_int(const keel_setting &s, int64_t &out) {
    switch (s.type) {
        case KEEL_CFG_INT:
            out = s.integer;
            return true;
        case KEEL_CFG_DOUBLE:
            if (!std::isfinite(s.number) || std::trunc(s.number) != s.number ||
                std::fabs(s.number) > 9.0e18)
                return false;
            out = static_cast<int64_t>(s.number);
            return true;
        case KEEL_CFG_STRING: {
            if (!s.string || !*s.string) return false;
            char *end = nullptr;
            errno = 0;
            const long long v = std::strtoll(s.string, &end, 10);
            if (errno != 0 || *end != '\0') return false;
            out = v;
            return true;
        }
        default:
            return false;
    }
}

bool parse_double(const keel_setting &s, double &out) {
    switch (s.type) {
        case KEEL_CFG_DOUBLE:
            out = s.number;
            return true;
        case KEEL_CFG_INT:
            out = static_cast<double>(s.integer);
            return true;
        case KEEL_CFG_STRING: {
            if (!s.string || !*s.string) return false;
            char *end = nullptr;
            errno = 0;
            const double v = std::strtod(s.string, &end);
            if (errno != 0 || *end != '\0') return false;
            out = v;
            return true;
        }
        default:
            return false;
    }
}

bool read_int(const keel_setting *settings, uint32_t count, const char *name, int64_t fallback,
              int64_t &out, char *err, size_t err_size) {
    out = fallback;
    const keel_setting *s = find_setting(settings, count, name);
    if (!s || parse_int(*s, out)) return true;
    set_error(err, err_size, "sim: setting \"%s\" must be an integer", name);
    return false;
}

bool read_double(const keel_setting *settings, uint32_t count, const char *name, double fallback,
                 double &out, char *err, size_t err_size) {
    out = fallback;
    const keel_setting *s = find_setting(settings, count, name);
    if (!s || parse_double(*s, out)) return true;
    set_error(err, err_size, "sim: setting \"%s\" must be a number", name);
    return false;
}

bool read_config(const keel_setting *settings, uint32_t count, market_config &config, char *err,
                 size_t err_size) {
    if (settings && count > 0 && settings[0].struct_size < sizeof(keel_setting)) {
        set_error(err, err_size, "sim: host passed settings of %u bytes, ABI 1 needs %zu",
                  settings[0].struct_size, sizeof(keel_setting));
        return false;
    }
    int64_t seed = 0;
    int64_t tick_ms = 0;
    int64_t depth = 0;
    double volatility = 0.0;
    if (!read_int(settings, count, "seed", k_default_seed, seed, err, err_size) ||
        !read_int(settings, count, "tick_ms", k_default_tick_ms, tick_ms, err, err_size) ||
        !read_int(settings, count, "depth", k_default_depth, depth, err, err_size) ||
        !read_double(settings, count, "volatility", k_default_volatility, volatility, err,
                     err_size))
        return false;
    if (tick_ms < 1 || tick_ms > 10000) {
        set_error(err, err_size,
                  "sim: tick_ms must be between 1 and 10000 (milliseconds of market time per "
                  "timer tick), got %" PRId64,
                  tick_ms);
        return false;
    }
    if (depth < 5 || depth > 1000) {
        set_error(err, err_size,
                  "sim: depth must be between 5 and 1000 (levels per side), got %" PRId64, depth);
        return false;
    }
    if (!std::isfinite(volatility) || volatility <= 0.0 || volatility > 100.0) {
        set_error(err, err_size,
                  "sim: volatility must be greater than 0 and at most 100 (1 = normal), got %g",
                  volatility);
        return false;
    }
    config.seed = static_cast<uint64_t>(seed);
    config.tick_ms = tick_ms;
    config.depth = static_cast<uint32_t>(depth);
    config.volatility = volatility;
    return true;
}

// ---- events -----------------------------------------------------------------------------------

void emit_trade(void *user, int64_t price_ticks, int64_t qty_lots, uint32_t aggressor) {
    auto *f = static_cast<feed *>(user);
    const keel_trade_event event = {
        .struct_size = sizeof(keel_trade_event),
        .instrument = f->id,
        .exchange_ts_ns = f->now_ns,
        .price_ticks = price_ticks,
        .qty_lots = qty_lots,
        .aggressor = aggressor,
        .trade_id = f->next_trade_id++,
        .receive_ts_ns = 0,  // made and received at the same instant
    };
    f->owner->host->emit_trade(f->owner->ctx, &event);
}

void emit_levels(feed &f, uint32_t is_snapshot, int64_t now_ns, const std::vector<keel_level> &bids,
                 const std::vector<keel_level> &asks) {
    ++f.sequence;
    const keel_book_event event = {
        .struct_size = sizeof(keel_book_event),
        .instrument = f.id,
        .is_snapshot = is_snapshot,
        .exchange_ts_ns = now_ns,
        .sequence = f.sequence,
        .bids = bids.data(),
        .bid_count = static_cast<uint32_t>(bids.size()),
        .asks = asks.data(),
        .ask_count = static_cast<uint32_t>(asks.size()),
        .first_id = f.sequence,
        .prev_id = 0,
        .receive_ts_ns = 0,
    };
    f.owner->host->emit_book(f.owner->ctx, &event);
}

void emit_snapshot(feed &f, int64_t now_ns) {
    emit_levels(f, 1, now_ns, f.book.bids(), f.book.asks());
    f.book.mark_published();
}

void on_timer(void *user, int64_t now_ns) {
    auto *inst = static_cast<instance *>(user);
    try {
        for (auto &f : inst->feeds) {
            f->now_ns = now_ns;
            f->book.step(&emit_trade, f.get());
            if (f->book.take_delta(inst->bid_delta, inst->ask_delta))
                emit_levels(*f, 0, now_ns, inst->bid_delta, inst->ask_delta);
        }
    } catch (const std::exception &e) {
        // Not expected (a step does not allocate); never let it cross into the host.
        const std::string msg = std::string("step failed: ") + e.what();
        inst->host->log(inst->ctx, KEEL_LOG_ERROR, msg.c_str());
    }
}

// ---- the ABI ----------------------------------------------------------------------------------

uint32_t sim_create(const keel_host_api *host, void *ctx, const keel_setting *settings,
                    uint32_t setting_count, void **self, char *err, size_t err_size) {
    if (!self) {
        set_error(err, err_size, "sim: create() needs somewhere to put the instance");
        return KEEL_ERROR;
    }
    *self = nullptr;
    if (!host || host->struct_size < offsetof(keel_host_api, emit_trade) + sizeof(void *) ||
        !host->log || !host->now_ns || !host->add_timer || !host->define_instrument ||
        !host->emit_book || !host->emit_trade) {
        set_error(err, err_size,
                  "sim: the host function table lacks log, now_ns, add_timer, define_instrument, "
                  "emit_book or emit_trade");
        return KEEL_ERROR;
    }
    market_config config;
    if (!read_config(settings, setting_count, config, err, err_size)) return KEEL_ERROR;
    try {
        auto inst = std::make_unique<instance>(instance{.host = host,
                                                        .ctx = ctx,
                                                        .config = config,
                                                        .started = false,
                                                        .feeds = {},
                                                        .bid_delta = {},
                                                        .ask_delta = {}});
        // A delta holds at most every old and every new level of a side.
        inst->bid_delta.reserve(2 * config.depth + 8);
        inst->ask_delta.reserve(2 * config.depth + 8);
        inst->feeds.reserve(4);
        *self = inst.release();
        return KEEL_OK;
    } catch (const std::exception &e) {
        set_error(err, err_size, "sim: %s", e.what());
        return KEEL_ERROR;
    }
}

void sim_destroy(void *self) {
    delete static_cast<instance *>(self);
}

uint32_t sim_subscribe(void *self, const char *symbol, keel_instrument_id id, char *err,
                       size_t err_size) {
    auto *inst = static_cast<instance *>(self);
    if (!symbol) symbol = "";
    const instrument_spec *spec = find_instrument(symbol);
    if (!spec) {
        set_error(err, err_size, "sim: unknown symbol \"%s\" (available: %s)", symbol,
                  catalogue_symbols());
        return KEEL_ERROR;
    }
    for (const auto &f : inst->feeds) {
        if (&f->book.spec() == spec) {
            set_error(err, err_size, "sim: symbol \"%s\" is already subscribed", symbol);
            return KEEL_ERROR;
        }
    }
    feed *f = nullptr;
    try {
        inst->feeds.push_back(std::make_unique<feed>(
            feed{.owner = inst, .id = id, .book = market(*spec, inst->config)}));
        f = inst->feeds.back().get();
    } catch (const std::exception &e) {
        set_error(err, err_size, "sim: cannot subscribe \"%s\": %s", symbol, e.what());
        return KEEL_ERROR;
    }
    const keel_instrument_def def = {
        .struct_size = sizeof(keel_instrument_def),
        .id = id,
        .symbol = spec->symbol,
        .base = spec->base,
        .quote = spec->quote,
        .tick_size = spec->tick_size,
        .lot_size = spec->lot_size,
        .min_qty_lots = spec->min_qty_lots,
        .min_notional = spec->min_notional,
        .sequence_rule = KEEL_SEQ_CONTIGUOUS,
    };
    inst->host->define_instrument(inst->ctx, &def);
    // A late subscription joins a running market with its own snapshot.
    if (inst->started) emit_snapshot(*f, inst->host->now_ns(inst->ctx));
    return KEEL_OK;
}

void sim_request_snapshot(void *self, keel_instrument_id id) {
    auto *inst = static_cast<instance *>(self);
    for (auto &f : inst->feeds)
        if (f->id == id && inst->started) emit_snapshot(*f, inst->host->now_ns(inst->ctx));
}

uint32_t sim_start(void *self, char *err, size_t err_size) {
    auto *inst = static_cast<instance *>(self);
    if (inst->started) {
        set_error(err, err_size, "sim: start() called twice");
        return KEEL_ERROR;
    }
    const int64_t period_ns = inst->config.tick_ms * 1'000'000;
    if (inst->host->add_timer(inst->ctx, period_ns, &on_timer, inst) != KEEL_OK) {
        set_error(err, err_size, "sim: the host refused a timer of %" PRId64 " ns", period_ns);
        return KEEL_ERROR;
    }
    inst->started = true;

    std::string line;
    try {
        const int64_t now_ns = inst->host->now_ns(inst->ctx);
        for (auto &f : inst->feeds) emit_snapshot(*f, now_ns);
        char head[192];
        std::snprintf(head, sizeof head,
                      "synthetic market started: seed=%" PRIu64 " tick_ms=%" PRId64
                      " depth=%u volatility=%g instruments=",
                      inst->config.seed, inst->config.tick_ms, inst->config.depth,
                      inst->config.volatility);
        line = head;
        for (size_t i = 0; i < inst->feeds.size(); ++i)
            line += std::string(i ? "," : "") + inst->feeds[i]->book.spec().symbol;
        if (inst->feeds.empty()) line += "(none subscribed)";
    } catch (const std::exception &e) {
        line = std::string("synthetic market started (") + e.what() + ")";
    }
    inst->host->log(inst->ctx, KEEL_LOG_INFO, line.c_str());
    return KEEL_OK;
}

constexpr keel_config_key k_config_keys[] = {
    {.struct_size = sizeof(keel_config_key),
     .name = "seed",
     .type = KEEL_CFG_INT,
     .default_value = "42",
     .description = "Seed of the market: the same seed and ticks give the same events"},
    {.struct_size = sizeof(keel_config_key),
     .name = "tick_ms",
     .type = KEEL_CFG_INT,
     .default_value = "50",
     .description = "Timer period and market time per step, in milliseconds (1-10000)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "depth",
     .type = KEEL_CFG_INT,
     .default_value = "50",
     .description = "Book levels per side (5-1000)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "volatility",
     .type = KEEL_CFG_DOUBLE,
     .default_value = "1.0",
     .description = "Scale of every price move (1 = normal, 2 = twice as wild; max 100)"},
};

constexpr keel_exchange_plugin k_descriptor = {
    .struct_size = sizeof(keel_exchange_plugin),
    .capabilities = KEEL_CAP_L2_BOOK | KEEL_CAP_TRADES | KEEL_CAP_SYNTHETIC,
    .config_keys = k_config_keys,
    .config_key_count = sizeof(k_config_keys) / sizeof(k_config_keys[0]),
    .create = &sim_create,
    .destroy = &sim_destroy,
    .subscribe = &sim_subscribe,
    .start = &sim_start,
    .on_frame = nullptr,  // it makes its market instead of parsing one
    .request_snapshot = &sim_request_snapshot,
    .playback_start = nullptr,  // a live synthetic market, not stored data
};

constexpr keel_plugin_info k_info = {
    KEEL_PLUGIN_INFO_HEADER,
    .kind = KEEL_PLUGIN_EXCHANGE,
    .name = "sim",
    .version = "0.1.0",
    .description = "Synthetic market (BTCUSDT, ETHUSDT, SOLUSDT): L2 book and trades, no network",
    .descriptor = &k_descriptor,
};

}  // namespace
}  // namespace keel::sim

extern "C" KEEL_PLUGIN_EXPORT const keel_plugin_info *keel_plugin_query(void) {
    return &keel::sim::k_info;
}
