// The `binance` exchange plugin: Binance USD-M futures and spot market data, parsed from raw
// frames the host hands over (a recording being replayed today; the live WebSocket and REST
// transport and trading arrive with the Binance issue). docs/exchanges/binance.md.
//
// Settings: market ("usdm" or "spot"), exchange_info (a saved exchangeInfo answer: tick, lot and
// minimums per symbol).
// Frames: combined-stream frames ({"stream":"btcusdt@depth@0ms","data":…}) for depth diffs and
// trades/aggTrades, and REST depth snapshots: with the URL that asked for them, or bare (as
// hftbacktest records them), which is only unambiguous with one instrument subscribed. Depth
// diffs carry U/u/pu, checked by the host under KEEL_SEQ_BINANCE_FUTURES or _SPOT.

#include <keel/plugin.h>
#include <keel/plugin_support.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "codec.hpp"
#include "exchange_info.hpp"

namespace keel::binance {
namespace {

using plugin_support::find_setting;
using plugin_support::set_error;

struct Subscription {
    keel_instrument_id id;
    std::string symbol;  // "BTCUSDT"
    std::string stream;  // "btcusdt": how stream names spell it
    Codec codec;
};

struct Instance {
    const keel_host_api *host;
    void *ctx;
    bool futures = true;
    ExchangeInfo info;
    std::vector<std::unique_ptr<Subscription>> subs;
    std::vector<keel_level> bids, asks;  // reused for every book event

    void reject(const std::string &why) const {
        if (host->reject_frame) host->reject_frame(ctx, why.c_str());
    }
    Subscription *by_stream(std::string_view stream) {
        for (auto &s : subs)
            if (s->stream == stream) return s.get();
        return nullptr;
    }
    Subscription *by_symbol(std::string_view symbol) {
        for (auto &s : subs)
            if (s->symbol == symbol) return s.get();
        return nullptr;
    }
};

void copy_levels(const std::vector<market::Level> &in, std::vector<keel_level> &out) {
    out.clear();
    for (const auto &l : in) out.push_back({l.price, l.qty});
}

void emit_book(Instance &inst, const Subscription &sub, bool snapshot, uint64_t first,
               uint64_t last, uint64_t prev, int64_t exchange_ms, int64_t receive_ns) {
    const keel_book_event e = {
        .struct_size = sizeof(keel_book_event),
        .instrument = sub.id,
        .is_snapshot = snapshot ? 1u : 0u,
        .exchange_ts_ns = exchange_ms * 1'000'000,
        .sequence = last,
        .bids = inst.bids.data(),
        .bid_count = static_cast<uint32_t>(inst.bids.size()),
        .asks = inst.asks.data(),
        .ask_count = static_cast<uint32_t>(inst.asks.size()),
        .first_id = first,
        .prev_id = prev,
        .receive_ts_ns = receive_ns,
    };
    inst.host->emit_book(inst.ctx, &e);
}

// Dispatches what `sub`'s codec parsed.
void deliver(Instance &inst, Subscription &sub, MessageKind kind, int64_t receive_ns) {
    const Codec &c = sub.codec;
    switch (kind) {
        case MessageKind::depth: {
            const auto &d = c.depth();
            copy_levels(d.bids, inst.bids);
            copy_levels(d.asks, inst.asks);
            emit_book(inst, sub, false, d.first, d.last, d.prev_last, d.event_ms, receive_ns);
            break;
        }
        case MessageKind::snapshot: {
            const auto &s = c.snapshot();
            copy_levels(s.bids, inst.bids);
            copy_levels(s.asks, inst.asks);
            emit_book(inst, sub, true, 0, s.last_update_id, 0, 0, receive_ns);
            break;
        }
        case MessageKind::trade: {
            const auto &t = c.trade();
            const keel_trade_event e = {
                .struct_size = sizeof(keel_trade_event),
                .instrument = sub.id,
                .exchange_ts_ns = t.trade_ms * 1'000'000,
                .price_ticks = t.price,
                .qty_lots = t.qty,
                // m: the buyer was the maker, so the seller took liquidity.
                .aggressor = t.buyer_is_maker ? uint32_t{KEEL_SIDE_SELL} : uint32_t{KEEL_SIDE_BUY},
                .trade_id = t.id,
                .receive_ts_ns = receive_ns,
            };
            inst.host->emit_trade(inst.ctx, &e);
            break;
        }
        case MessageKind::invalid:
            inst.reject(sub.symbol + ": " + c.error());
            break;
        case MessageKind::book_ticker:  // the book itself is kept from depth
        case MessageKind::other:
            break;
    }
}

// "btcusdt" from {"stream":"btcusdt@depth@0ms",…}; empty when the frame does not start so.
std::string_view stream_symbol(std::string_view frame) {
    constexpr std::string_view kPrefix = "{\"stream\":\"";
    if (!frame.starts_with(kPrefix)) return {};
    frame.remove_prefix(kPrefix.size());
    auto at = frame.find_first_of("@\"");
    if (at == std::string_view::npos || frame[at] != '@') return {};
    return frame.substr(0, at);
}

void on_frame(void *self, const keel_frame *f) {
    auto &inst = *static_cast<Instance *>(self);
    if (!f || f->struct_size < offsetof(keel_frame, url) + sizeof(void *) || !f->data) return;
    std::string_view frame(f->data, f->size);
    if (f->url) {
        std::string_view url(f->url);
        if (url.find("/depth?") == std::string_view::npos) return;  // other REST answers
        auto symbol_at = url.find("symbol=");
        std::string_view symbol =
            symbol_at == std::string_view::npos ? "" : url.substr(symbol_at + 7);
        symbol = symbol.substr(0, symbol.find('&'));
        Subscription *sub = inst.by_symbol(symbol);
        if (!sub) return;  // a symbol nobody subscribed
        deliver(inst, *sub, sub->codec.parse_depth_response(url, frame, f->capacity),
                f->receive_ts_ns);
        return;
    }
    if (auto stream = stream_symbol(frame); !stream.empty()) {
        Subscription *sub = inst.by_stream(stream);
        if (!sub) return;  // a stream of an instrument this session does not trade
        auto kind = sub->codec.parse(frame, f->capacity);
        if (kind != MessageKind::invalid && kind != MessageKind::other &&
            sub->codec.symbol() != sub->symbol) {
            inst.reject(std::string(sub->codec.symbol()) + " data on the stream of " + sub->symbol);
            return;
        }
        deliver(inst, *sub, kind, f->receive_ts_ns);
        return;
    }
    if (frame.starts_with("{\"lastUpdateId\"")) {
        // A snapshot recorded without its request: only one book it can belong to.
        if (inst.subs.size() != 1) {
            inst.reject("a depth snapshot without its request URL, and " +
                        std::to_string(inst.subs.size()) +
                        " instruments subscribed: cannot tell whose it is");
            return;
        }
        auto &sub = *inst.subs.front();
        deliver(inst, sub, sub.codec.parse(frame, f->capacity), f->receive_ts_ns);
        return;
    }
    if (frame.starts_with("{\"result\"") || frame.starts_with("{\"id\""))
        return;  // answers to (un)subscribe requests
    inst.reject("not a combined-stream frame or a depth snapshot: " +
                std::string(frame.substr(0, 80)));
}

uint32_t create(const keel_host_api *host, void *ctx, const keel_setting *settings,
                uint32_t setting_count, void **self, char *err, size_t err_size) {
    if (!self) {
        set_error(err, err_size, "binance: create() needs somewhere to put the instance");
        return KEEL_ERROR;
    }
    *self = nullptr;
    if (!host || host->struct_size < offsetof(keel_host_api, reject_frame) + sizeof(void *) ||
        !host->log || !host->define_instrument || !host->emit_book || !host->emit_trade) {
        set_error(err, err_size,
                  "binance: needs a host of ABI 1.1 or later (log, define_instrument, "
                  "emit_book, emit_trade, reject_frame)");
        return KEEL_ERROR;
    }
    const keel_setting *market = find_setting(settings, setting_count, "market");
    const keel_setting *info_file = find_setting(settings, setting_count, "exchange_info");
    std::string market_name = market && market->string ? market->string : "usdm";
    if (market_name != "usdm" && market_name != "spot") {
        set_error(err, err_size, "binance: market must be \"usdm\" or \"spot\", found \"%s\"",
                  market_name.c_str());
        return KEEL_ERROR;
    }
    if (!info_file || !info_file->string || !*info_file->string) {
        set_error(err, err_size, "binance: exchange_info is required");
        return KEEL_ERROR;
    }
    try {
        auto inst = std::make_unique<Instance>();
        inst->host = host;
        inst->ctx = ctx;
        inst->futures = market_name == "usdm";
        std::ifstream in(info_file->string, std::ios::binary);
        std::stringstream body;
        body << in.rdbuf();
        if (!in) {
            set_error(err, err_size, "binance: cannot read exchange_info \"%s\"",
                      info_file->string);
            return KEEL_ERROR;
        }
        std::string why;
        auto info = parse_exchange_info(body.str(), why);
        if (!info) {
            set_error(err, err_size, "binance: %s: %s", info_file->string, why.c_str());
            return KEEL_ERROR;
        }
        inst->info = std::move(*info);
        *self = inst.release();
        return KEEL_OK;
    } catch (const std::exception &e) {
        set_error(err, err_size, "binance: %s", e.what());
        return KEEL_ERROR;
    }
}

void destroy(void *self) {
    delete static_cast<Instance *>(self);
}

uint32_t subscribe(void *self, const char *symbol, keel_instrument_id id, char *err,
                   size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    const SymbolInfo *s = inst.info.find(symbol ? symbol : "");
    if (!s) {
        set_error(err, err_size, "binance: symbol \"%s\" is not in exchange_info (%zu symbols)",
                  symbol ? symbol : "", inst.info.symbols.size());
        return KEEL_ERROR;
    }
    auto tick = market::DecimalGrid::parse(s->tick_size);
    auto lot = market::DecimalGrid::parse(s->step_size);
    if (!tick || !lot) {
        set_error(err, err_size, "binance: %s: tick \"%s\" or step \"%s\" is not a decimal grid",
                  symbol, s->tick_size.c_str(), s->step_size.c_str());
        return KEEL_ERROR;
    }
    try {
        std::string stream(s->symbol);
        for (auto &ch : stream)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        inst.subs.push_back(std::unique_ptr<Subscription>(
            new Subscription{id, s->symbol, std::move(stream), Codec(*tick, *lot)}));
        int64_t min_lots = 0;
        if (!s->min_qty.empty()) min_lots = lot->to_units(s->min_qty).value_or(0);
        const keel_instrument_def def = {
            .struct_size = sizeof(keel_instrument_def),
            .id = id,
            .symbol = s->symbol.c_str(),
            .base = s->base.c_str(),
            .quote = s->quote.c_str(),
            .tick_size = std::strtod(s->tick_size.c_str(), nullptr),
            .lot_size = std::strtod(s->step_size.c_str(), nullptr),
            .min_qty_lots = min_lots,
            .min_notional =
                s->min_notional.empty() ? 0.0 : std::strtod(s->min_notional.c_str(), nullptr),
            .sequence_rule =
                inst.futures ? uint32_t{KEEL_SEQ_BINANCE_FUTURES} : uint32_t{KEEL_SEQ_BINANCE_SPOT},
        };
        inst.host->define_instrument(inst.ctx, &def);
        return KEEL_OK;
    } catch (const std::exception &e) {
        set_error(err, err_size, "binance: %s", e.what());
        return KEEL_ERROR;
    }
}

uint32_t start(void *, char *, size_t) {
    return KEEL_OK;  // frames come from the host
}

void request_snapshot(void *self, keel_instrument_id id) {
    auto &inst = *static_cast<Instance *>(self);
    // Without a transport there is nothing to fetch: a replay waits for a snapshot in its
    // recording (the live REST fetch comes with the transport).
    for (auto &s : inst.subs)
        if (s->id == id)
            inst.host->log(
                inst.ctx, KEEL_LOG_INFO,
                (s->symbol + ": resync asked; waiting for a snapshot in the stream").c_str());
}

const keel_config_key k_config_keys[] = {
    {.struct_size = sizeof(keel_config_key),
     .name = "market",
     .type = KEEL_CFG_STRING,
     .default_value = "usdm",
     .description = "usdm (USD-M futures: U/u/pu sequence) or spot (U/u)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "exchange_info",
     .type = KEEL_CFG_PATH,
     .default_value = nullptr,
     .description = "A saved exchangeInfo answer: tick, lot and minimums of every symbol"},
};

constexpr keel_exchange_plugin k_descriptor = {
    .struct_size = sizeof(keel_exchange_plugin),
    .capabilities = KEEL_CAP_L2_BOOK | KEEL_CAP_TRADES | KEEL_CAP_FRAMES,
    .config_keys = k_config_keys,
    .config_key_count = sizeof(k_config_keys) / sizeof(k_config_keys[0]),
    .create = &create,
    .destroy = &destroy,
    .subscribe = &subscribe,
    .start = &start,
    .on_frame = &on_frame,
    .request_snapshot = &request_snapshot,
    .playback_start = nullptr,  // replays come through the host (on_frame)
};

constexpr keel_plugin_info k_info = {
    KEEL_PLUGIN_INFO_HEADER,
    .kind = KEEL_PLUGIN_EXCHANGE,
    .name = "binance",
    .version = "0.1.0",
    .description = "Binance USD-M futures and spot market data from raw frames (replay)",
    .descriptor = &k_descriptor,
};

}  // namespace
}  // namespace keel::binance

extern "C" KEEL_PLUGIN_EXPORT const keel_plugin_info *keel_plugin_query(void) {
    return &keel::binance::k_info;
}
