// The `binance` exchange plugin: Binance USD-M futures and spot market data, parsed from raw
// frames: live, from the host's WebSocket and REST connections (network: mainnet or testnet, or
// any rest_url/ws_url, which is how tests point it at the loopback venue), or from a recording
// the host replays. docs/exchanges/binance.md.
//
// Settings: market ("usdm" or "spot"), exchange_info (a saved exchangeInfo answer: tick, lot and
// minimums per symbol), network, rest_url, ws_url, streams, depth_limit.
// Frames: combined-stream frames ({"stream":"btcusdt@depth@0ms","data":…}) for depth diffs,
// trades/aggTrades and USD-M mark prices, REST klines (warm-up) and REST depth snapshots: with the
// URL that asked for them, or bare (as hftbacktest records them), which is only unambiguous with
// one instrument subscribed. Depth diffs carry U/u/pu, checked by the host under
// KEEL_SEQ_BINANCE_FUTURES or _SPOT. Live, the plugin opens one combined stream for every
// subscribed symbol and fetches a depth snapshot per symbol whenever the stream comes up and
// whenever the host asks (a gap); a failed fetch is retried with backoff. Subscriptions may change
// while it runs (subscribe after start, unsubscribe): the plugin's timer sends the difference
// as at most one UNSUBSCRIBE and one SUBSCRIBE a second (Binance drops a connection sending more
// than 5 or 10 messages a second), and a new book comes up by snapshot once the venue confirms.

#include <keel/plugin.h>
#include <keel/plugin_support.hpp>

#include <algorithm>
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
#include "execution.hpp"
#include "rest_market.hpp"

namespace keel::binance {
namespace {

using plugin_support::find_setting;
using plugin_support::set_error;

struct Subscription {
    keel_instrument_id id;
    std::string symbol;  // "BTCUSDT"
    std::string stream;  // "btcusdt": how stream names spell it
    Codec codec;
    SymbolGrid grid;     // for the account side
    RestMarket rest;     // mark prices and klines
    bool active = true;  // false once unsubscribed: its market data is dropped, its orders not
};

// Warm-up candles asked for by the host (request_history): one klines request, retried with
// backoff while it fails.
struct HistoryFetch {
    keel_instrument_id id = 0;
    std::string symbol, interval;
    uint32_t limit = 0;
    uint64_t request = 0;  // in flight: its id; 0 otherwise
    int attempts = 0;
    int64_t retry_at_ns = 0;
};
constexpr int kHistoryAttempts = 6;

// Where a venue lives, by market and network (Binance's documented base URLs).
struct Endpoints {
    const char *rest, *ws, *depth_path;
};
Endpoints endpoints(bool futures, bool testnet) {
    if (futures)
        return testnet ? Endpoints{"https://testnet.binancefuture.com",
                                   "wss://fstream.binancefuture.com", "/fapi/v1/depth"}
                       : Endpoints{"https://fapi.binance.com", "wss://fstream.binance.com",
                                   "/fapi/v1/depth"};
    return testnet ? Endpoints{"https://testnet.binance.vision",
                               "wss://stream.testnet.binance.vision", "/api/v3/depth"}
                   : Endpoints{"https://api.binance.com", "wss://stream.binance.com:9443",
                               "/api/v3/depth"};
}

// A symbol's depth snapshot: fetched when the stream comes up and on every gap; a failure is
// retried from the plugin's timer, waiting longer each time.
struct SnapshotFetch {
    bool wanted = false, in_flight = false;
    int64_t retry_at_ns = 0, backoff_ns = 0;
};

struct Instance {
    const keel_host_api *host;
    void *ctx;
    bool futures = true;
    ExchangeInfo info;
    std::vector<std::unique_ptr<Subscription>> subs;
    std::vector<keel_level> bids, asks;  // reused for every book event
    // Live only.
    std::string rest_url, ws_url, depth_path;
    // Per symbol: "depth", "trade", "aggTrade", "bookTicker", "markPrice", "kline_1m", ….
    std::vector<std::string> streams;
    int64_t depth_limit = 1000;
    bool live = false;
    uint64_t market_link = 0;  // the combined stream's connection
    bool market_up = false;
    // The market connection's streams: those its URL names (what every reconnect gets), and those
    // the venue serves it now, after the SUBSCRIBE / UNSUBSCRIBE requests sent on it.
    std::vector<std::string> url_streams, link_streams;
    // SUBSCRIBE requests awaiting the venue's answer: the request id and the books it brings.
    std::vector<std::pair<uint64_t, std::vector<keel_instrument_id>>> subscribing;
    uint64_t next_method = 1;
    std::vector<SnapshotFetch> fetches;  // by index in subs
    std::vector<HistoryFetch> history;   // until answered or given up
    std::vector<keel_candle> candles;    // reused for every history answer
    uint64_t next_request = 1;
    RequestLimits limits;                  // what the venue said about sending, for both sides
    std::unique_ptr<Execution> execution;  // trading: with api_key and api_secret

    void log(uint32_t level, const std::string &msg) const { host->log(ctx, level, msg.c_str()); }

    void reject(const std::string &why) const {
        if (host->reject_frame) host->reject_frame(ctx, why.c_str());
    }
    // The subscription whose market data a stream frame carries; none once unsubscribed.
    Subscription *by_stream(std::string_view stream) {
        for (auto &s : subs)
            if (s->stream == stream && s->active) return s.get();
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

constexpr int64_t kSecond = 1'000'000'000;

void fetch_snapshot(Instance &inst, size_t k) {
    auto &fetch = inst.fetches[k];
    fetch.wanted = true;
    const int64_t now = inst.host->now_ns(inst.ctx);
    if (fetch.in_flight || !inst.market_up || fetch.retry_at_ns > now)
        return;  // the timer or the link coming up sends it
    if (inst.limits.resume_at(now) > now) {
        fetch.retry_at_ns = inst.limits.resume_at(now);  // the venue said wait: so we do
        return;
    }
    const auto &sub = *inst.subs[k];
    std::string url = inst.rest_url + inst.depth_path + "?symbol=" + sub.symbol +
                      "&limit=" + std::to_string(inst.depth_limit);
    const keel_http_request r = {.struct_size = sizeof(keel_http_request),
                                 .method = "GET",
                                 .url = url.c_str(),
                                 .timeout_ns = 10 * kSecond,
                                 .user = inst.next_request++};
    if (inst.host->http_request(inst.ctx, &r) == KEEL_OK)
        fetch.in_flight = true;
    else
        inst.log(KEEL_LOG_ERROR, "depth snapshot request refused by the host: " + url);
}

void snapshot_failed(Instance &inst, size_t k, const std::string &why) {
    auto &fetch = inst.fetches[k];
    fetch.in_flight = false;
    fetch.backoff_ns = std::min(fetch.backoff_ns ? fetch.backoff_ns * 2 : kSecond, 60 * kSecond);
    const int64_t now = inst.host->now_ns(inst.ctx);
    // Not before the venue lets us send again (a 429/418 answer just said when).
    fetch.retry_at_ns = std::max(now + fetch.backoff_ns, inst.limits.resume_at(now));
    inst.log(KEEL_LOG_WARN,
             inst.subs[k]->symbol + ": depth snapshot failed (" + why + "), retrying in " +
                 std::to_string((fetch.retry_at_ns - now + kSecond - 1) / kSecond) + " s");
}

void fetch_history(Instance &inst, HistoryFetch &h);

// The combined-stream names of one symbol: "btcusdt@depth@0ms", "btcusdt@trade", …
std::vector<std::string> stream_names(const Instance &inst, const Subscription &sub) {
    std::vector<std::string> names;
    for (const auto &kind : inst.streams) {
        std::string name = sub.stream + "@" + kind;
        if (kind == "depth") name += inst.futures ? "@0ms" : "@100ms";
        if (kind == "markPrice") name += "@1s";
        names.push_back(std::move(name));
    }
    return names;
}

// Binance's limit of streams on one connection.
constexpr size_t kMaxStreams = 1024;

size_t active_subscriptions(const Instance &inst) {
    return static_cast<size_t>(std::count_if(inst.subs.begin(), inst.subs.end(),
                                             [](const auto &sub) { return sub->active; }));
}

// Brings the live connection's streams to what the active subscriptions want: one UNSUBSCRIBE
// for those no longer wanted and one SUBSCRIBE for the new ones.
void sync_streams(Instance &inst) {
    if (!inst.market_up) return;
    std::vector<std::string> wanted, added, removed;
    std::vector<keel_instrument_id> new_books;
    for (const auto &sub : inst.subs) {
        if (!sub->active) continue;
        bool new_book = false;
        for (auto &name : stream_names(inst, *sub)) {
            if (std::find(inst.link_streams.begin(), inst.link_streams.end(), name) ==
                inst.link_streams.end()) {
                new_book = true;
                added.push_back(name);
            }
            wanted.push_back(std::move(name));
        }
        if (new_book) new_books.push_back(sub->id);
    }
    for (const auto &name : inst.link_streams)
        if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) removed.push_back(name);
    auto send = [&](const char *method, const std::vector<std::string> &names) {
        std::string text = std::string("{\"method\":\"") + method + "\",\"params\":[";
        for (size_t k = 0; k < names.size(); ++k) text += (k ? ",\"" : "\"") + names[k] + "\"";
        const uint64_t id = inst.next_method++;
        text += "],\"id\":" + std::to_string(id) + "}";
        if (inst.host->ws_send(inst.ctx, inst.market_link, text.data(), text.size()) != KEEL_OK) {
            inst.log(KEEL_LOG_WARN, std::string(method) + " not sent; the next second tries again");
            return uint64_t{0};
        }
        inst.log(KEEL_LOG_INFO, text);
        return id;
    };
    if (!removed.empty()) {
        if (!send("UNSUBSCRIBE", removed)) return;  // the next second tries again
        std::erase_if(inst.link_streams, [&](const std::string &name) {
            return std::find(removed.begin(), removed.end(), name) != removed.end();
        });
    }
    if (added.empty()) return;
    if (const uint64_t id = send("SUBSCRIBE", added)) {
        inst.link_streams.insert(inst.link_streams.end(), added.begin(), added.end());
        inst.subscribing.emplace_back(id, std::move(new_books));
    }
}

// The venue's answer to a SUBSCRIBE or UNSUBSCRIBE: {"result":null,"id":7}, or an error.
void on_method_answer(Instance &inst, std::string_view frame) {
    const auto at = frame.find("\"id\":");
    if (at == std::string_view::npos) return;
    const uint64_t id = std::strtoull(frame.data() + at + 5, nullptr, 10);
    auto it = std::find_if(inst.subscribing.begin(), inst.subscribing.end(),
                           [&](const auto &p) { return p.first == id; });
    if (frame.find("\"code\"") != std::string_view::npos) {
        inst.log(KEEL_LOG_ERROR,
                 "the venue refused a subscription change: " + std::string(frame.substr(0, 200)));
        if (it != inst.subscribing.end()) inst.subscribing.erase(it);
        return;
    }
    if (it == inst.subscribing.end()) return;
    // The new depth streams flow: their books start from a snapshot taken now.
    for (auto id_ : it->second)
        for (size_t k = 0; k < inst.subs.size(); ++k)
            if (inst.subs[k]->id == id_ && inst.subs[k]->active) {
                inst.fetches[k].retry_at_ns = 0;
                fetch_snapshot(inst, k);
            }
    inst.subscribing.erase(it);
}

void on_timer(void *self, int64_t now_ns) {
    auto &inst = *static_cast<Instance *>(self);
    if (inst.execution) inst.execution->on_timer(now_ns);
    for (size_t k = 0; k < inst.fetches.size(); ++k) {
        const auto &fetch = inst.fetches[k];
        if (fetch.wanted && !fetch.in_flight && fetch.retry_at_ns <= now_ns)
            fetch_snapshot(inst, k);
    }
    for (auto &h : inst.history) fetch_history(inst, h);
    sync_streams(inst);
}

void on_link(void *self, uint64_t connection, uint32_t state, const char *why) {
    auto &inst = *static_cast<Instance *>(self);
    if (inst.execution) inst.execution->on_link(connection, state == KEEL_LINK_UP);
    if (connection != inst.market_link) return;
    inst.market_up = state == KEEL_LINK_UP;
    if (!inst.market_up) {
        inst.log(KEEL_LOG_WARN, std::string("market stream down: ") + (why ? why : ""));
        for (auto &fetch : inst.fetches) fetch.in_flight = false;  // answers may still come
        inst.subscribing.clear();
        return;
    }
    // A new connection has its URL's streams: every book there starts over from a fresh
    // snapshot; subscriptions changed since are sent now, their books follow the venue's answer.
    inst.link_streams = inst.url_streams;
    for (size_t k = 0; k < inst.subs.size(); ++k) {
        const auto names = stream_names(inst, *inst.subs[k]);
        if (!inst.subs[k]->active || names.empty() ||
            std::find(inst.url_streams.begin(), inst.url_streams.end(), names.front()) ==
                inst.url_streams.end())
            continue;
        inst.fetches[k].retry_at_ns = 0;
        fetch_snapshot(inst, k);
    }
    sync_streams(inst);
}

// <symbol>@markPrice: the mark and the coming funding, for stops on the mark and the host's
// funding (an older host without emit_mark just does not get them).
void deliver_mark(Instance &inst, Subscription &sub, std::string_view frame, int64_t receive_ns) {
    if (!sub.rest.parse_mark_price(frame)) {
        inst.reject(sub.symbol + ": " + sub.rest.error());
        return;
    }
    const auto &m = sub.rest.mark_price();
    if (m.symbol != sub.symbol) {
        inst.reject(m.symbol + " mark price on the stream of " + sub.symbol);
        return;
    }
    if (inst.host->struct_size < offsetof(keel_host_api, emit_mark) + sizeof(void *) ||
        !inst.host->emit_mark)
        return;
    const keel_mark_event e = {
        .struct_size = sizeof(keel_mark_event),
        .instrument = sub.id,
        .exchange_ts_ns = m.event_ns,
        .receive_ts_ns = receive_ns,
        .mark_amount = m.mark.units,
        .index_amount = m.index.units,
        .funding_rate = m.funding_rate.units,
        .next_funding_ns = m.next_funding_ns,
    };
    inst.host->emit_mark(inst.ctx, &e);
}

// Binance's kline intervals that are keel timeframes (they divide a day); USD-M has no 1s.
constexpr std::pair<int64_t, const char *> kKlineIntervals[] = {
    {1, "1s"},     {60, "1m"},     {180, "3m"},  {300, "5m"},   {900, "15m"},
    {1800, "30m"}, {3600, "1h"},   {7200, "2h"}, {14400, "4h"}, {21600, "6h"},
    {28800, "8h"}, {43200, "12h"}, {86400, "1d"}};

// Binance's kline interval for a candle length; empty when it has none.
std::string kline_interval(bool futures, int64_t length_ns) {
    for (const auto &[seconds, name] : kKlineIntervals)
        if (length_ns == seconds * kSecond && !(futures && seconds == 1)) return name;
    return {};
}

bool is_kline_interval(bool futures, std::string_view name) {
    for (const auto &[seconds, known] : kKlineIntervals)
        if (name == known && !(futures && seconds == 1)) return true;
    return false;
}

keel_candle abi_candle(const market::Candle &c, keel_instrument_id id) {
    return {.struct_size = sizeof(keel_candle),
            .instrument = id,
            .open_time_ns = c.start,
            .length_ns = c.length,
            .open_ticks = c.open,
            .high_ticks = c.high,
            .low_ticks = c.low,
            .close_ticks = c.close,
            .volume_lots = c.volume,
            .trades = c.trades};
}

// <symbol>@kline_<interval>: a closed kline is a candle from the venue, handed to the host as
// history (its candles take it where no trade stream built that interval); open ones are not.
void deliver_kline(Instance &inst, Subscription &sub, std::string_view frame) {
    if (!sub.rest.parse_kline(frame)) {
        inst.reject(sub.symbol + ": " + sub.rest.error());
        return;
    }
    if (!sub.rest.kline_closed() ||
        inst.host->struct_size < offsetof(keel_host_api, emit_history) + sizeof(void *) ||
        !inst.host->emit_history)
        return;
    const keel_candle candle = abi_candle(sub.rest.candles().front(), sub.id);
    inst.host->emit_history(inst.ctx, &candle, 1);
}

void fetch_history(Instance &inst, HistoryFetch &h) {
    const int64_t now = inst.host->now_ns(inst.ctx);
    if (h.request || h.retry_at_ns > now) return;
    if (inst.limits.resume_at(now) > now) {
        h.retry_at_ns = inst.limits.resume_at(now);
        return;
    }
    std::string url = inst.rest_url + (inst.futures ? "/fapi/v1/klines" : "/api/v3/klines") +
                      "?symbol=" + h.symbol + "&interval=" + h.interval +
                      "&limit=" + std::to_string(h.limit);
    const keel_http_request r = {.struct_size = sizeof(keel_http_request),
                                 .method = "GET",
                                 .url = url.c_str(),
                                 .timeout_ns = 10 * kSecond,
                                 .user = inst.next_request++};
    if (inst.host->http_request(inst.ctx, &r) == KEEL_OK) h.request = r.user;
}

void on_klines(Instance &inst, const keel_frame &f) {
    auto it = std::find_if(inst.history.begin(), inst.history.end(),
                           [&](const HistoryFetch &h) { return h.request == f.request; });
    if (it == inst.history.end()) return;
    HistoryFetch &h = *it;
    const int64_t now = inst.host->now_ns(inst.ctx);
    inst.limits.note(f, now);
    h.request = 0;
    std::string_view body(f.data, f.size);
    Subscription *sub = inst.by_symbol(h.symbol);
    if (!sub || !sub->active) {  // unsubscribed since it was asked for: nobody wants it
        inst.history.erase(it);
        return;
    }
    std::string why;
    if (f.http_status != 200)
        why = f.http_status ? "HTTP " + std::to_string(f.http_status) + ": " +
                                  std::string(body.substr(0, 200))
                            : std::string(body);
    else if (!sub->rest.parse_klines(body))
        why = sub->rest.error();
    if (!why.empty()) {
        if (++h.attempts >= kHistoryAttempts || (f.http_status >= 400 && f.http_status < 500 &&
                                                 f.http_status != 429 && f.http_status != 418)) {
            inst.log(KEEL_LOG_ERROR, h.symbol + " " + h.interval + " klines: " + why +
                                         "; no warm-up from the venue");
            inst.history.erase(it);
            return;
        }
        h.retry_at_ns = std::max(now + (kSecond << h.attempts), inst.limits.resume_at(now));
        inst.log(KEEL_LOG_WARN, h.symbol + " " + h.interval + " klines: " + why + "; retrying");
        return;
    }
    // Binance always includes the interval still open, last: it is not a closed candle.
    const auto &got = sub->rest.candles();
    const size_t closed = got.empty() ? 0 : got.size() - 1;
    inst.candles.clear();
    for (size_t k = 0; k < closed; ++k) inst.candles.push_back(abi_candle(got[k], h.id));
    inst.log(KEEL_LOG_INFO, h.symbol + " " + h.interval + ": " + std::to_string(closed) +
                                " closed klines for warm-up");
    inst.history.erase(it);
    inst.host->emit_history(inst.ctx, inst.candles.data(),
                            static_cast<uint32_t>(inst.candles.size()));
}

size_t sub_index(const Instance &inst, const Subscription &sub) {
    for (size_t k = 0; k < inst.subs.size(); ++k)
        if (inst.subs[k].get() == &sub) return k;
    return 0;
}

void on_frame(void *self, const keel_frame *f) {
    auto &inst = *static_cast<Instance *>(self);
    if (!f || f->struct_size < offsetof(keel_frame, url) + sizeof(void *) || !f->data) return;
    std::string_view frame(f->data, f->size);
    const bool v12 = f->struct_size >= offsetof(keel_frame, headers) + sizeof(void *);
    if (v12 && inst.execution) {
        if (f->request & Execution::kRequestBit) return inst.execution->on_answer(*f);
        if (f->connection && inst.execution->on_stream(*f)) return;
    }
    if (f->url) {
        std::string_view url(f->url);
        if (v12 && f->request && url.find("/klines?") != std::string_view::npos)
            return on_klines(inst, *f);
        if (url.find("/depth?") == std::string_view::npos) return;  // other REST answers
        auto symbol_at = url.find("symbol=");
        std::string_view symbol =
            symbol_at == std::string_view::npos ? "" : url.substr(symbol_at + 7);
        symbol = symbol.substr(0, symbol.find('&'));
        Subscription *sub = inst.by_symbol(symbol);
        if (!sub || !sub->active) return;  // a symbol nobody subscribed (or no longer)
        if (v12 && f->request) {           // a live answer (a recording keeps only good ones)
            inst.limits.note(*f, inst.host->now_ns(inst.ctx));
            size_t k = sub_index(inst, *sub);
            if (f->http_status != 200) {
                snapshot_failed(inst, k,
                                f->http_status ? "HTTP " + std::to_string(f->http_status) + ": " +
                                                     std::string(frame.substr(0, 200))
                                               : std::string(frame));
                return;
            }
            inst.fetches[k] = SnapshotFetch{};
        }
        deliver(inst, *sub, sub->codec.parse_depth_response(url, frame, f->capacity),
                f->receive_ts_ns);
        return;
    }
    if (auto stream = stream_symbol(frame); !stream.empty()) {
        Subscription *sub = inst.by_stream(stream);
        if (!sub) return;  // a stream of an instrument this session does not trade
        auto kind = sub->codec.parse(frame, f->capacity);
        if (kind == MessageKind::other && frame.find("@markPrice") < 64)
            return deliver_mark(inst, *sub, frame, f->receive_ts_ns);
        if (kind == MessageKind::other && frame.find("@kline_") < 64)
            return deliver_kline(inst, *sub, frame);
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
    if (frame.starts_with("{\"result\"") || frame.starts_with("{\"id\"") ||
        frame.starts_with("{\"code\"") || frame.starts_with("{\"error\""))
        return on_method_answer(inst, frame);  // answers to (un)subscribe requests
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
    auto text = [&](const char *name, const char *fallback) {
        const keel_setting *s = find_setting(settings, setting_count, name);
        return std::string(s && s->string ? s->string : fallback);
    };
    std::string network = text("network", "mainnet");
    if (network != "mainnet" && network != "testnet") {
        set_error(err, err_size,
                  "binance: network must be \"mainnet\" or \"testnet\", found \"%s\"",
                  network.c_str());
        return KEEL_ERROR;
    }
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
        const Endpoints ends = endpoints(inst->futures, network == "testnet");
        inst->rest_url = text("rest_url", "");
        inst->ws_url = text("ws_url", "");
        if (inst->rest_url.empty()) inst->rest_url = ends.rest;
        if (inst->ws_url.empty()) inst->ws_url = ends.ws;
        inst->depth_path = ends.depth_path;
        for (auto *url : {&inst->rest_url, &inst->ws_url})
            while (!url->empty() && url->back() == '/') url->pop_back();
        std::string streams = text("streams", "");
        if (streams.empty()) streams = inst->futures ? "depth,trade,markPrice" : "depth,trade";
        for (size_t at = 0; at <= streams.size();) {
            size_t end = std::min(streams.find(',', at), streams.size());
            std::string one = streams.substr(at, end - at);
            const bool kline =
                one.starts_with("kline_") && is_kline_interval(inst->futures, one.substr(6));
            if (one != "depth" && one != "trade" && one != "aggTrade" && one != "bookTicker" &&
                one != "markPrice" && !kline) {
                set_error(err, err_size,
                          "binance: streams: \"%s\" is not one of depth, trade, aggTrade, "
                          "bookTicker, markPrice, kline_<interval> (1m, 5m, 1h, … 1d; 1s on spot)",
                          one.c_str());
                return KEEL_ERROR;
            }
            if (one == "markPrice" && !inst->futures) {
                set_error(err, err_size, "binance: streams: markPrice is a USD-M stream, not spot");
                return KEEL_ERROR;
            }
            inst->streams.push_back(one);
            at = end + 1;
        }
        if (const keel_setting *limit = find_setting(settings, setting_count, "depth_limit"))
            inst->depth_limit = limit->integer;
        static constexpr int64_t kLimits[] = {5, 10, 20, 50, 100, 500, 1000};
        if (std::find(std::begin(kLimits), std::end(kLimits), inst->depth_limit) ==
            std::end(kLimits)) {
            set_error(err, err_size,
                      "binance: depth_limit must be one of 5, 10, 20, 50, 100, 500, 1000");
            return KEEL_ERROR;
        }
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
        // The minute's request weight as exchangeInfo states it, unless the settings say.
        int64_t weight_limit = 2400;
        for (const auto &r : inst->info.rate_limits)
            if (r.type == "REQUEST_WEIGHT" && r.interval_ns == RequestLimits::kMinuteNs)
                weight_limit = r.limit;
        if (const keel_setting *w = find_setting(settings, setting_count, "weight_limit");
            w && w->integer > 0)
            weight_limit = w->integer;
        inst->limits = RequestLimits(weight_limit);
        ExecutionConfig trading{.futures = inst->futures,
                                .rest_url = inst->rest_url,
                                .ws_url = inst->ws_url,
                                .api_key = text("api_key", ""),
                                .api_secret = text("api_secret", "")};
        if (const keel_setting *w = find_setting(settings, setting_count, "recv_window"))
            trading.recv_window_ms = w->integer;
        if (const keel_setting *l = find_setting(settings, setting_count, "leverage"))
            trading.leverage = l->integer;
        if (const keel_setting *k = find_setting(settings, setting_count, "listen_key_keepalive"))
            trading.keepalive_s = k->integer;
        if (trading.keepalive_s < 1 || trading.keepalive_s > 3540) {
            set_error(err, err_size,
                      "binance: listen_key_keepalive must be 1 to 3540 s (a key lives 60 min)");
            return KEEL_ERROR;
        }
        trading.margin_type = text("margin_type", "");
        if (trading.leverage < 0 || trading.leverage > 125) {
            set_error(err, err_size, "binance: leverage must be 1 to 125 (0: the account's own)");
            return KEEL_ERROR;
        }
        if (!trading.margin_type.empty() && trading.margin_type != "CROSSED" &&
            trading.margin_type != "ISOLATED") {
            set_error(err, err_size,
                      "binance: margin_type must be CROSSED or ISOLATED, found \"%s\"",
                      trading.margin_type.c_str());
            return KEEL_ERROR;
        }
        if (!inst->futures && (trading.leverage > 0 || !trading.margin_type.empty())) {
            set_error(err, err_size, "binance: leverage and margin_type are USD-M settings");
            return KEEL_ERROR;
        }
        if (trading.recv_window_ms < 1 || trading.recv_window_ms > 60'000) {
            set_error(err, err_size,
                      "binance: recv_window must be 1 to 60000 ms (Binance's range)");
            return KEEL_ERROR;
        }
        if (trading.api_key.empty() != trading.api_secret.empty()) {
            set_error(err, err_size, "binance: api_key and api_secret go together");
            return KEEL_ERROR;
        }
        const bool host_trades =
            host->struct_size >= offsetof(keel_host_api, offline) + sizeof(void *) &&
            host->emit_order_update && host->emit_position && host->emit_balance;
        if (!trading.api_key.empty() && host_trades) {
            Instance *raw = inst.get();
            inst->execution = std::make_unique<Execution>(
                host, ctx, std::move(trading),
                [raw](std::string_view symbol) -> const SymbolGrid * {
                    Subscription *sub = raw->by_symbol(symbol);
                    return sub ? &sub->grid : nullptr;
                },
                [raw](keel_instrument_id id, std::string &symbol) -> const SymbolGrid * {
                    for (auto &sub : raw->subs)
                        if (sub->id == id) {
                            symbol = sub->symbol;
                            return &sub->grid;
                        }
                    return nullptr;
                },
                inst->limits);
            // The account's limits on new orders: the host paces orders inside them.
            const bool host_paces =
                host->struct_size >=
                    offsetof(keel_host_api, declare_order_limit) + sizeof(void *) &&
                host->declare_order_limit;
            for (const auto &r : inst->info.rate_limits)
                if (r.type == "ORDERS" && host_paces)
                    host->declare_order_limit(ctx, static_cast<uint32_t>(r.limit), r.interval_ns);
        }
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
    auto step = market::DecimalGrid::parse(s->step_size);
    // USD-M books are on the order step. Spot books carry sizes to the base asset's precision
    // (25.42618900 BTC on a 0.00001 step): the lot is that unit, and orders keep to the step.
    const bool finer_books = !inst.futures && step && s->base_precision > step->decimals;
    auto lot = finer_books ? std::optional(market::DecimalGrid{s->base_precision, 1}) : step;
    if (!tick || !lot) {
        set_error(err, err_size, "binance: %s: tick \"%s\" or step \"%s\" is not a decimal grid",
                  symbol, s->tick_size.c_str(), s->step_size.c_str());
        return KEEL_ERROR;
    }
    try {
        auto known = std::find_if(inst.subs.begin(), inst.subs.end(),
                                  [&](const auto &sub) { return sub->id == id; });
        if (known != inst.subs.end() && (*known)->symbol != s->symbol) {
            set_error(err, err_size, "binance: instrument %u is %s, not %s", id,
                      (*known)->symbol.c_str(), s->symbol.c_str());
            return KEEL_ERROR;
        }
        const bool adds = known == inst.subs.end() || !(*known)->active;
        if (adds && (active_subscriptions(inst) + 1) * inst.streams.size() > kMaxStreams) {
            set_error(err, err_size, "binance: %s would take the connection past %zu streams",
                      s->symbol.c_str(), kMaxStreams);
            return KEEL_ERROR;
        }
        if (known == inst.subs.end()) {
            std::string stream(s->symbol);
            for (auto &ch : stream)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            inst.subs.push_back(std::unique_ptr<Subscription>(
                new Subscription{id, s->symbol, std::move(stream), Codec(*tick, *lot),
                                 SymbolGrid{id, *tick, *lot}, RestMarket(*tick, *lot)}));
            inst.fetches.emplace_back();
        } else {
            // Again after unsubscribe: the streams come back on the plugin's next second.
            (*known)->active = true;
            inst.fetches[static_cast<size_t>(known - inst.subs.begin())] = SnapshotFetch{};
        }
        int64_t min_lots = 0;
        if (!s->min_qty.empty()) min_lots = lot->to_units(s->min_qty).value_or(0);
        const int64_t step_lots = lot->to_units(s->step_size).value_or(1);
        // PRICE_FILTER bounds on the tick grid ("0": none); PERCENT_PRICE multipliers as given.
        auto ticks = [&](const std::string &price) {
            return price.empty() ? int64_t{0} : tick->to_units(price).value_or(0);
        };
        auto multiplier = [](const std::string &m) {
            return m.empty() ? 0.0 : std::strtod(m.c_str(), nullptr);
        };
        const keel_instrument_def def = {
            .struct_size = sizeof(keel_instrument_def),
            .id = id,
            .symbol = s->symbol.c_str(),
            .base = s->base.c_str(),
            .quote = s->quote.c_str(),
            .tick_size = std::strtod(s->tick_size.c_str(), nullptr),
            .lot_size = finer_books
                            ? std::strtod(("1e-" + std::to_string(lot->decimals)).c_str(), nullptr)
                            : std::strtod(s->step_size.c_str(), nullptr),
            .min_qty_lots = min_lots,
            .min_notional =
                s->min_notional.empty() ? 0.0 : std::strtod(s->min_notional.c_str(), nullptr),
            .sequence_rule =
                inst.futures ? uint32_t{KEEL_SEQ_BINANCE_FUTURES} : uint32_t{KEEL_SEQ_BINANCE_SPOT},
            .qty_step_lots = step_lots,
            .min_price_ticks = ticks(s->min_price),
            .max_price_ticks = ticks(s->max_price),
            .price_multiplier_up = multiplier(s->multiplier_up),
            .price_multiplier_down = multiplier(s->multiplier_down),
        };
        inst.host->define_instrument(inst.ctx, &def);
        return KEEL_OK;
    } catch (const std::exception &e) {
        set_error(err, err_size, "binance: %s", e.what());
        return KEEL_ERROR;
    }
}

uint32_t unsubscribe(void *self, keel_instrument_id id, char *err, size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    for (size_t k = 0; k < inst.subs.size(); ++k) {
        auto &sub = *inst.subs[k];
        if (sub.id != id) continue;
        // Kept for its orders' updates; its streams go on the plugin's next second.
        sub.active = false;
        inst.fetches[k] = SnapshotFetch{};
        std::erase_if(inst.history, [&](const HistoryFetch &h) { return h.id == id; });
        return KEEL_OK;
    }
    set_error(err, err_size, "binance: instrument %u is not subscribed", id);
    return KEEL_ERROR;
}

uint32_t start(void *self, char *err, size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    const bool host_has_network =
        inst.host->struct_size >= offsetof(keel_host_api, offline) + sizeof(void *) &&
        inst.host->offline && inst.host->ws_open && inst.host->http_request;
    if (!host_has_network || inst.host->offline(inst.ctx)) return KEEL_OK;  // frames come replayed
    if (inst.subs.empty()) return KEEL_OK;
    // One combined stream: /stream?streams=btcusdt@depth@0ms/btcusdt@trade/…
    std::string url = inst.ws_url + "/stream?streams=";
    inst.url_streams.clear();
    for (const auto &sub : inst.subs)
        if (sub->active)
            for (auto &name : stream_names(inst, *sub)) {
                url += (inst.url_streams.empty() ? "" : "/") + name;
                inst.url_streams.push_back(std::move(name));
            }
    inst.market_link = inst.host->ws_open(inst.ctx, url.c_str(), 0);
    if (!inst.market_link) {
        set_error(err, err_size, "binance: the host refused to open %s", url.c_str());
        return KEEL_ERROR;
    }
    inst.live = true;
    if (inst.host->add_timer(inst.ctx, kSecond, on_timer, &inst) != KEEL_OK) {
        set_error(err, err_size, "binance: the host refused a timer");
        return KEEL_ERROR;
    }
    inst.log(KEEL_LOG_INFO, "market stream " + url);
    if (inst.execution) {
        std::vector<std::string> symbols;
        for (const auto &sub : inst.subs) symbols.push_back(sub->symbol);
        inst.execution->start(std::move(symbols));
    }
    return KEEL_OK;
}

uint32_t place_order(void *self, const keel_order_request *order, char *err, size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    if (!inst.execution || !inst.live || !order) {
        set_error(err, err_size,
                  "binance: trading is off (it needs api_key and api_secret, and a live session)");
        return KEEL_ERROR;
    }
    return inst.execution->place(*order, err, err_size);
}

uint32_t place_orders(void *self, const keel_order_request *orders, uint32_t count, char *err,
                      size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    if (count == 0) return KEEL_OK;
    if (!inst.execution || !inst.live || !orders) {
        set_error(err, err_size,
                  "binance: trading is off (it needs api_key and api_secret, and a live session)");
        return KEEL_ERROR;
    }
    return inst.execution->place_many(orders, count, err, err_size);
}

void stop(void *self) {
    auto &inst = *static_cast<Instance *>(self);
    if (inst.execution) inst.execution->stop();
}

uint32_t cancel_order(void *self, keel_instrument_id instrument, const char *client_order_id,
                      char *err, size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    if (!inst.execution || !inst.live) {
        set_error(err, err_size, "binance: trading is off");
        return KEEL_ERROR;
    }
    return inst.execution->cancel(instrument, client_order_id, err, err_size);
}

uint32_t amend_order(void *self, const keel_order_request *order, char *err, size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    if (!inst.execution || !inst.live || !order) {
        set_error(err, err_size, "binance: trading is off");
        return KEEL_ERROR;
    }
    return inst.execution->amend(*order, err, err_size);
}

uint32_t query_orders(void *self, keel_instrument_id instrument, const char *client_order_id,
                      char *err, size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    if (!inst.execution || !inst.live) {
        set_error(err, err_size, "binance: trading is off");
        return KEEL_ERROR;
    }
    return inst.execution->query(instrument, client_order_id, err, err_size);
}

void request_snapshot(void *self, keel_instrument_id id) {
    auto &inst = *static_cast<Instance *>(self);
    for (size_t k = 0; k < inst.subs.size(); ++k) {
        if (inst.subs[k]->id != id) continue;
        if (inst.live) {
            fetch_snapshot(inst, k);
        } else {
            // A replay cannot fetch: it waits for a snapshot in its recording.
            inst.log(KEEL_LOG_INFO,
                     inst.subs[k]->symbol + ": resync asked; waiting for a snapshot in the stream");
        }
    }
}

uint32_t request_history(void *self, keel_instrument_id id, int64_t length_ns, uint32_t count,
                         char *err, size_t err_size) {
    auto &inst = *static_cast<Instance *>(self);
    auto sub = std::find_if(inst.subs.begin(), inst.subs.end(),
                            [&](const auto &s) { return s->id == id; });
    if (sub == inst.subs.end()) {
        set_error(err, err_size, "binance: instrument %u is not subscribed", id);
        return KEEL_ERROR;
    }
    if (!inst.live) {
        set_error(err, err_size, "binance: a replay cannot fetch klines");
        return KEEL_ERROR;
    }
    std::string interval = kline_interval(inst.futures, length_ns);
    if (interval.empty()) {
        set_error(err, err_size, "binance: %s has no klines of %lld s",
                  inst.futures ? "USD-M" : "spot", static_cast<long long>(length_ns / kSecond));
        return KEEL_ERROR;
    }
    // One more than asked: the last kline of an answer is the open one. Binance's caps: 1500
    // klines (USD-M), 1000 (spot).
    const uint32_t cap = inst.futures ? 1500 : 1000;
    HistoryFetch h{.id = id,
                   .symbol = (*sub)->symbol,
                   .interval = interval,
                   .limit = std::min(count, cap - 1) + 1};
    inst.history.push_back(h);
    fetch_history(inst, inst.history.back());
    return KEEL_OK;
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
    {.struct_size = sizeof(keel_config_key),
     .name = "network",
     .type = KEEL_CFG_STRING,
     .default_value = "mainnet",
     .description = "mainnet or testnet: which of Binance's base URLs to use"},
    {.struct_size = sizeof(keel_config_key),
     .name = "rest_url",
     .type = KEEL_CFG_STRING,
     .default_value = "",
     .description = "REST base URL instead of the network's (e.g. a test venue)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "ws_url",
     .type = KEEL_CFG_STRING,
     .default_value = "",
     .description = "WebSocket base URL instead of the network's"},
    {.struct_size = sizeof(keel_config_key),
     .name = "streams",
     .type = KEEL_CFG_STRING,
     .default_value = "",
     .description = "Streams per symbol, comma-separated: depth, trade, aggTrade, bookTicker, "
                    "markPrice (USD-M), kline_<interval> (closed klines become candles) (empty: "
                    "depth,trade,markPrice on USD-M, depth,trade on spot)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "depth_limit",
     .type = KEEL_CFG_INT,
     .default_value = "1000",
     .description = "Levels per side of a depth snapshot (5, 10, 20, 50, 100, 500 or 1000)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "api_key",
     .type = KEEL_CFG_SECRET,
     .default_value = "",
     .description = "API key, from the environment (${BINANCE_API_KEY}); none: market data only"},
    {.struct_size = sizeof(keel_config_key),
     .name = "api_secret",
     .type = KEEL_CFG_SECRET,
     .default_value = "",
     .description = "HMAC secret of the API key, from the environment"},
    {.struct_size = sizeof(keel_config_key),
     .name = "recv_window",
     .type = KEEL_CFG_INT,
     .default_value = "5000",
     .description = "How long a signed request stays valid at the venue, in ms (1 to 60000)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "listen_key_keepalive",
     .type = KEEL_CFG_INT,
     .default_value = "1800",
     .description = "Seconds between keepalives of the user-data stream's listen key, 1 to "
                    "3540 (Binance ends a key 60 min after the last)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "leverage",
     .type = KEEL_CFG_INT,
     .default_value = "0",
     .description = "USD-M: leverage set on every symbol at start, 1 to 125 (0: the account's "
                    "own); keep it equal to the instruments' leverage"},
    {.struct_size = sizeof(keel_config_key),
     .name = "margin_type",
     .type = KEEL_CFG_STRING,
     .default_value = "",
     .description = "USD-M: CROSSED or ISOLATED, set on every symbol at start (empty: the "
                    "account's own)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "weight_limit",
     .type = KEEL_CFG_INT,
     .default_value = "0",
     .description = "Request weight per minute; keel stops sending at 90 % of it (0: "
                    "exchangeInfo's REQUEST_WEIGHT, else 2400)"},
};

constexpr keel_exchange_plugin k_descriptor = {
    .struct_size = sizeof(keel_exchange_plugin),
    .capabilities =
        KEEL_CAP_L2_BOOK | KEEL_CAP_TRADES | KEEL_CAP_FRAMES | KEEL_CAP_TRADING | KEEL_CAP_ACCOUNT,
    .config_keys = k_config_keys,
    .config_key_count = sizeof(k_config_keys) / sizeof(k_config_keys[0]),
    .create = &create,
    .destroy = &destroy,
    .subscribe = &subscribe,
    .start = &start,
    .on_frame = &on_frame,
    .request_snapshot = &request_snapshot,
    .playback_start = nullptr,  // replays come through the host (on_frame)
    .place_order = &place_order,
    .cancel_order = &cancel_order,
    .query_orders = &query_orders,
    .on_link = &on_link,
    .request_history = &request_history,
    .unsubscribe = &unsubscribe,
    .place_orders = &place_orders,
    .stop = &stop,
    .amend_order = &amend_order,
};

constexpr keel_plugin_info k_info = {
    KEEL_PLUGIN_INFO_HEADER,
    .kind = KEEL_PLUGIN_EXCHANGE,
    .name = "binance",
    .version = "0.1.0",
    .description = "Binance USD-M futures and spot: market data (live or replayed) and trading",
    .descriptor = &k_descriptor,
};

}  // namespace
}  // namespace keel::binance

extern "C" KEEL_PLUGIN_EXPORT const keel_plugin_info *keel_plugin_query(void) {
    return &keel::binance::k_info;
}
