// The `candles` exchange plugin: plays a candle file back as a market, for backtests on klines
// (docs/backtest.md). One venue, one instrument, one series (from one file or several). Each candle
// becomes four points a quarter of its interval apart, in the usual bar-path order: open, then the
// extreme nearer the open first (low before high for a rising candle, high before low for a falling
// one), then the close. At each point the plugin emits a book snapshot around the price
// (`spread_ticks` wide, `depth` levels of `level_qty` each), then a trade at the price with a
// quarter of the volume, so the engine's own candles equal the file's and the paper fill simulator
// fills against the path. A strategy's order at a candle's close therefore meets the next candle's
// open.
//
// Settings: file (path; several separated by commas, or a glob pattern), tick_size, lot_size (the
// instrument's grid, as decimal text), min_notional, spread_ticks, depth, level_qty.

#include <keel/plugin.h>
#include <keel/plugin_support.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keel/market/candle_file.hpp"
#include "keel/market/decimal.hpp"

namespace keel::candles {
namespace {

using plugin_support::find_setting;
using plugin_support::set_error;

// One point of a candle's path.
struct Point {
    int64_t price_ticks;
    int64_t qty_lots;
};

struct Instance {
    const keel_host_api *host = nullptr;
    void *ctx = nullptr;
    std::string file;
    std::string tick_text, lot_text;
    double tick = 0, lot = 0, min_notional = 0, level_qty = 0;
    int64_t spread = 1, depth = 10;
    std::vector<market::CandleRow> rows;
    int64_t step_ns = 0;  // a quarter of the candle interval
    bool subscribed = false;
    keel_instrument_id id = 0;
    size_t next_row = 0, next_point = 0;
    Point path[4]{};
    uint64_t trade_id = 1;
    std::vector<keel_level> bids, asks;

    void load_path(const market::CandleRow &r) {
        auto ticks = [&](double p) { return std::llround(p / tick); };
        int64_t o = ticks(r.open), h = ticks(r.high), l = ticks(r.low), c = ticks(r.close);
        bool rising = c >= o;
        int64_t v = std::llround(r.volume / lot);
        // Four trades carry the volume; below four lots each point still trades one.
        int64_t quarter = std::max<int64_t>(1, v / 4);
        int64_t last = std::max<int64_t>(1, v - 3 * quarter);
        path[0] = {o, quarter};
        path[1] = {rising ? l : h, quarter};
        path[2] = {rising ? h : l, quarter};
        path[3] = {c, last};
    }

    void emit(const Point &p, int64_t now_ns) {
        bids.clear();
        asks.clear();
        int64_t best_bid = p.price_ticks - spread / 2;
        int64_t lots = std::max<int64_t>(1, std::llround(level_qty / lot));
        for (int64_t k = 0; k < depth; ++k) {
            if (best_bid - k > 0) bids.push_back({best_bid - k, lots});
            asks.push_back({best_bid + spread + k, lots});
        }
        const keel_book_event book = {
            .struct_size = sizeof(keel_book_event),
            .instrument = id,
            .is_snapshot = 1,
            .exchange_ts_ns = now_ns,
            .sequence = 0,
            .bids = bids.data(),
            .bid_count = static_cast<uint32_t>(bids.size()),
            .asks = asks.data(),
            .ask_count = static_cast<uint32_t>(asks.size()),
            .first_id = 0,
            .prev_id = 0,
            .receive_ts_ns = now_ns,
        };
        host->emit_book(ctx, &book);
        const keel_trade_event trade = {
            .struct_size = sizeof(keel_trade_event),
            .instrument = id,
            .exchange_ts_ns = now_ns,
            .price_ticks = p.price_ticks,
            .qty_lots = p.qty_lots,
            .aggressor =
                next_point == 0 || path[next_point].price_ticks >= path[next_point - 1].price_ticks
                    ? uint32_t{KEEL_SIDE_BUY}
                    : uint32_t{KEEL_SIDE_SELL},
            .trade_id = trade_id++,
            .receive_ts_ns = now_ns,
        };
        host->emit_trade(ctx, &trade);
    }
};

// Every quarter interval: the next point of the current candle.
void on_timer(void *user, int64_t now_ns) {
    auto &inst = *static_cast<Instance *>(user);
    if (inst.next_row >= inst.rows.size()) return;
    const auto &row = inst.rows[inst.next_row];
    // A gap in the file: nothing happens until the next candle's time (the engine's candles
    // fill the gap by its empty-interval policy).
    if (now_ns < row.open_time) return;
    if (inst.next_point == 0) inst.load_path(row);
    inst.emit(inst.path[inst.next_point], now_ns);
    if (++inst.next_point == 4) {
        inst.next_point = 0;
        if (++inst.next_row == inst.rows.size() && inst.host->end_of_data)
            inst.host->end_of_data(inst.ctx);
    }
}

uint32_t create(const keel_host_api *host, void *ctx, const keel_setting *settings,
                uint32_t setting_count, void **self, char *err, size_t err_size) {
    if (!self) return KEEL_ERROR;
    *self = nullptr;
    if (!host || host->struct_size < offsetof(keel_host_api, end_of_data) + sizeof(void *) ||
        !host->add_timer || !host->define_instrument || !host->emit_book || !host->emit_trade ||
        !host->end_of_data) {
        set_error(err, err_size, "candles: needs a host of ABI 1.1 or later");
        return KEEL_ERROR;
    }
    auto text = [&](const char *name) {
        const keel_setting *s = find_setting(settings, setting_count, name);
        return std::string(s && s->string ? s->string : "");
    };
    auto number = [&](const char *name) {
        const keel_setting *s = find_setting(settings, setting_count, name);
        return s ? s->number : 0.0;
    };
    auto inst = std::make_unique<Instance>();
    inst->host = host;
    inst->ctx = ctx;
    inst->file = text("file");
    inst->tick_text = text("tick_size");
    inst->lot_text = text("lot_size");
    auto tick = market::DecimalGrid::parse(inst->tick_text);
    auto lot = market::DecimalGrid::parse(inst->lot_text);
    if (!tick || !lot) {
        set_error(err, err_size,
                  "candles: tick_size \"%s\" and lot_size \"%s\" must be decimals > 0",
                  inst->tick_text.c_str(), inst->lot_text.c_str());
        return KEEL_ERROR;
    }
    inst->tick = std::strtod(inst->tick_text.c_str(), nullptr);
    inst->lot = std::strtod(inst->lot_text.c_str(), nullptr);
    inst->min_notional = number("min_notional");
    inst->level_qty = number("level_qty");
    inst->spread = static_cast<int64_t>(number("spread_ticks"));
    inst->depth = static_cast<int64_t>(number("depth"));
    if (inst->spread < 1 || inst->depth < 1 || inst->depth > 1000 || !(inst->level_qty > 0)) {
        set_error(err, err_size,
                  "candles: spread_ticks must be >= 1, depth 1-1000 and level_qty > 0");
        return KEEL_ERROR;
    }
    try {
        // Several files (monthly downloads, fragments) are one series: the host hands them over
        // one per line, patterns expanded.
        std::vector<std::filesystem::path> files;
        for (size_t at = 0; at <= inst->file.size();) {
            const size_t end = std::min(inst->file.find('\n', at), inst->file.size());
            if (end > at) files.emplace_back(inst->file.substr(at, end - at));
            at = end + 1;
        }
        inst->rows = market::read_candle_files(files);
        if (files.size() > 1)  // what messages name from here on
            inst->file = files.front().string() + " (and " + std::to_string(files.size() - 1) +
                         " more files)";
    } catch (const std::exception &e) {
        set_error(err, err_size, "candles: %s", e.what());
        return KEEL_ERROR;
    }
    if (inst->rows.size() < 2) {
        set_error(err, err_size, "candles: %s has fewer than two candles", inst->file.c_str());
        return KEEL_ERROR;
    }
    // The interval: the most common step between candles (gaps are longer ones). Gaps are
    // played as silence (the engine's candles fill them by policy), and said so, never hidden.
    int64_t interval = 0;
    auto gaps = market::find_gaps(inst->rows, interval);
    if (!gaps.empty() && host->log) {
        uint64_t missing = 0;
        for (const auto &g : gaps) missing += g.missing;
        char line[512];
        std::snprintf(line, sizeof line,
                      "%s: %zu gaps, %llu candles missing in all (keel data check lists them)",
                      inst->file.c_str(), gaps.size(), static_cast<unsigned long long>(missing));
        host->log(ctx, KEEL_LOG_WARN, line);
    }
    if (interval % 4 != 0) {
        set_error(err, err_size, "candles: %s: an interval of %lld ns cannot be split in four",
                  inst->file.c_str(), static_cast<long long>(interval));
        return KEEL_ERROR;
    }
    inst->step_ns = interval / 4;
    *self = inst.release();
    return KEEL_OK;
}

void destroy(void *self) {
    delete static_cast<Instance *>(self);
}

uint32_t subscribe(void *self, const char *symbol, keel_instrument_id id, char *err,
                   size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    if (inst.subscribed) {
        set_error(err, err_size,
                  "candles: one instrument per venue (one file each); \"%s\" needs a venue of "
                  "its own",
                  symbol ? symbol : "");
        return KEEL_ERROR;
    }
    inst.subscribed = true;
    inst.id = id;
    const keel_instrument_def def = {
        .struct_size = sizeof(keel_instrument_def),
        .id = id,
        .symbol = symbol,
        .base = "",
        .quote = "",
        .tick_size = inst.tick,
        .lot_size = inst.lot,
        .min_qty_lots = 1,
        .min_notional = inst.min_notional,
        .sequence_rule = KEEL_SEQ_NONE,
    };
    inst.host->define_instrument(inst.ctx, &def);
    return KEEL_OK;
}

int64_t playback_start(void *self) {
    auto &inst = *static_cast<Instance *>(self);
    // Timers fire one period after the start: the first fires at the first candle's open.
    return inst.rows.front().open_time - inst.step_ns;
}

uint32_t start(void *self, char *err, size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    if (inst.host->add_timer(inst.ctx, inst.step_ns, &on_timer, &inst) != KEEL_OK) {
        set_error(err, err_size, "candles: cannot start its timer");
        return KEEL_ERROR;
    }
    return KEEL_OK;
}

const keel_config_key k_config_keys[] = {
    {.struct_size = sizeof(keel_config_key),
     .name = "file",
     .type = KEEL_CFG_PATHS,
     .default_value = nullptr,
     .description = "Candle files: Binance/freqtrade JSON, Kraken OHLC, kline or OHLCV CSV; "
                    "several (comma-separated, or a pattern like data/BTCUSDT-1m-*.csv) are one "
                    "series"},
    {.struct_size = sizeof(keel_config_key),
     .name = "tick_size",
     .type = KEEL_CFG_STRING,
     .default_value = "0.01",
     .description = "Price grid of the instrument (prices are rounded onto it)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "lot_size",
     .type = KEEL_CFG_STRING,
     .default_value = "0.001",
     .description = "Quantity grid of the instrument"},
    {.struct_size = sizeof(keel_config_key),
     .name = "min_notional",
     .type = KEEL_CFG_DOUBLE,
     .default_value = "5",
     .description = "Smallest order value, quote currency"},
    {.struct_size = sizeof(keel_config_key),
     .name = "spread_ticks",
     .type = KEEL_CFG_INT,
     .default_value = "1",
     .description = "Spread of the book built around each price (ticks)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "depth",
     .type = KEEL_CFG_INT,
     .default_value = "10",
     .description = "Levels per side of that book (1-1000)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "level_qty",
     .type = KEEL_CFG_DOUBLE,
     .default_value = "10",
     .description = "Quantity at each level, base currency"},
};

constexpr keel_exchange_plugin k_descriptor = {
    .struct_size = sizeof(keel_exchange_plugin),
    .capabilities = KEEL_CAP_L2_BOOK | KEEL_CAP_TRADES | KEEL_CAP_PLAYBACK,
    .config_keys = k_config_keys,
    .config_key_count = sizeof(k_config_keys) / sizeof(k_config_keys[0]),
    .create = &create,
    .destroy = &destroy,
    .subscribe = &subscribe,
    .start = &start,
    .on_frame = nullptr,
    .request_snapshot = nullptr,  // every event is a snapshot
    .playback_start = &playback_start,
};

constexpr keel_plugin_info k_info = {
    KEEL_PLUGIN_INFO_HEADER,
    .kind = KEEL_PLUGIN_EXCHANGE,
    .name = "candles",
    .version = "0.1.0",
    .description = "A candle file played back as a market (open, extremes, close) for backtests",
    .descriptor = &k_descriptor,
};

}  // namespace
}  // namespace keel::candles

extern "C" KEEL_PLUGIN_EXPORT const keel_plugin_info *keel_plugin_query(void) {
    return &keel::candles::k_info;
}
