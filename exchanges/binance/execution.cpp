#include "execution.hpp"

#include <cstdio>
#include <cstdlib>

namespace keel::binance {
namespace {

constexpr int64_t kMs = 1'000'000;

// Units of a grid as the decimal text Binance expects: 618003 on "0.10" -> "61800.30".
std::string grid_text(int64_t units, market::DecimalGrid grid) {
    __extension__ __int128 v = static_cast<__int128>(units) * grid.step;
    std::string digits = std::to_string(static_cast<long long>(v));
    if (grid.decimals == 0) return digits;
    const size_t d = static_cast<size_t>(grid.decimals);
    if (digits.size() <= d) digits.insert(0, d + 1 - digits.size(), '0');
    digits.insert(digits.size() - d, 1, '.');
    return digits;
}

// A JSON string. Binance's names and values need no escaping (client order ids included:
// ^[.A-Z:/a-z0-9_-]{1,36}$), but one the venue would refuse must not break its neighbours.
std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out.push_back('\\');
        if (static_cast<unsigned char>(c) < 0x20) continue;  // never in a valid parameter
        out.push_back(c);
    }
    return out + "\"";
}

}  // namespace

Execution::Execution(const keel_host_api *host, void *ctx, ExecutionConfig config,
                     SymbolLookup lookup, GridOf grid_of, RequestLimits &limits)
    : host_(host),
      ctx_(ctx),
      config_(std::move(config)),
      grid_of_(std::move(grid_of)),
      codec_(std::move(lookup)),
      limits_(limits) {}

void Execution::start(std::vector<std::string> symbols) {
    symbols_ = std::move(symbols);
    // Sent from the timer, which waits while the venue says wait.
    time_retry_ns_ = listen_key_retry_ns_ = host_->now_ns(ctx_);
    on_timer(time_retry_ns_);
}

void Execution::set_up(Kind kind, const std::string &symbol) {
    Query q;
    q.add("symbol", symbol);
    if (kind == Kind::margin_type)
        q.add("marginType", config_.margin_type);
    else
        q.add("leverage", config_.leverage);
    if (!send("POST", kind == Kind::margin_type ? "/fapi/v1/marginType" : "/fapi/v1/leverage",
              q.text(), true, {.kind = kind, .symbol = symbol})) {
        set_up_retry_.emplace_back(kind, symbol);
        set_up_retry_ns_ = host_->now_ns(ctx_) + 5'000 * kMs;
    }
}

void Execution::retry_later(Kind kind, int64_t now_ns) {
    const int64_t at = std::max(now_ns + 5'000 * kMs, limits_.resume_at(now_ns));
    (kind == Kind::listen_key    ? listen_key_retry_ns_
     : kind == Kind::server_time ? time_retry_ns_
                                 : reconcile_retry_ns_) = at;
}

bool Execution::send(const char *method, const std::string &url_path, const std::string &query,
                     bool sign, Pending pending) {
    // Inside a 429/418 Retry-After nothing goes out, whatever it is.
    if (limits_.banned(host_->now_ns(ctx_))) return false;
    std::string q = query;
    if (sign) {
        const int64_t now_ms = host_->now_ns(ctx_) / kMs + offset_ms_;
        Query extra;
        extra.add("recvWindow", config_.recv_window_ms).add("timestamp", now_ms);
        if (!q.empty()) q += "&";
        q += extra.text();
        q += "&signature=" + rest_signature(config_.api_secret, q);
    }
    std::string url = config_.rest_url + url_path + (q.empty() ? "" : "?" + q);
    std::string headers = "X-MBX-APIKEY: " + config_.api_key + "\r\n";
    const uint64_t tag = kRequestBit | next_tag_++;
    pending.sent_ns = host_->now_ns(ctx_);
    const keel_http_request r = {.struct_size = sizeof(keel_http_request),
                                 .method = method,
                                 .url = url.c_str(),
                                 .headers = headers.c_str(),
                                 .timeout_ns = 10'000 * kMs,
                                 .user = tag,
                                 .flags = KEEL_NET_PRIVATE};
    if (host_->http_request(ctx_, &r) != KEEL_OK) return false;
    pending_.emplace(tag, std::move(pending));
    return true;
}

void Execution::refuse(const Pending &p, keel_venue_reason reason, int32_t code,
                       std::string message) {
    OrderUpdate u;
    u.instrument = p.instrument;
    u.client_order_id = p.client_order_id;
    u.state = KEEL_ORDER_STATE_REJECTED;
    u.side = p.side;
    u.reason = reason;
    u.venue_code = code;
    u.message = std::move(message);
    u.qty_lots = p.qty_lots;
    u.price_ticks = p.price_ticks;
    u.exchange_ts_ns = host_->now_ns(ctx_);
    if (reason == KEEL_VENUE_RATE_LIMITED || reason == KEEL_VENUE_BANNED) {
        const int64_t resume = limits_.resume_at(u.exchange_ts_ns);
        if (resume > u.exchange_ts_ns) u.retry_at_ns = resume;
    }
    auto abi = u.abi();
    host_->emit_order_update(ctx_, &abi);
}

Execution::Pending Execution::pending_of(const keel_order_request &o) {
    return {.kind = Kind::place,
            .instrument = o.instrument,
            .client_order_id = o.client_order_id ? o.client_order_id : "",
            .side = static_cast<keel_side>(o.side),
            .qty_lots = o.qty_lots,
            .price_ticks = o.price_ticks};
}

bool Execution::order_fields(const keel_order_request &o, OrderFields &fields, char *err,
                             size_t err_size) const {
    std::string symbol;
    const SymbolGrid *g = grid_of_(o.instrument, symbol);
    if (!g || !o.client_order_id) {
        std::snprintf(err, err_size, "binance: unknown instrument %u", o.instrument);
        return false;
    }
    fields = {{"symbol", symbol}, {"side", o.side == KEEL_SIDE_SELL ? "SELL" : "BUY"}};
    if (o.type == KEEL_ORDER_MARKET) {
        fields.emplace_back("type", "MARKET");
    } else if (o.time_in_force == KEEL_TIF_POST_ONLY && !config_.futures) {
        fields.emplace_back("type", "LIMIT_MAKER");
    } else {
        const char *tif = o.time_in_force == KEEL_TIF_IOC         ? "IOC"
                          : o.time_in_force == KEEL_TIF_FOK       ? "FOK"
                          : o.time_in_force == KEEL_TIF_POST_ONLY ? "GTX"
                                                                  : "GTC";
        fields.emplace_back("type", "LIMIT");
        fields.emplace_back("timeInForce", tif);
    }
    fields.emplace_back("quantity", grid_text(o.qty_lots, g->qty));
    if (o.type == KEEL_ORDER_LIMIT)
        fields.emplace_back("price", grid_text(o.price_ticks, g->price));
    if ((o.flags & KEEL_ORDER_REDUCE_ONLY) && config_.futures)
        fields.emplace_back("reduceOnly", "true");
    fields.emplace_back("newClientOrderId", o.client_order_id);
    if (config_.futures) fields.emplace_back("newOrderRespType", "RESULT");
    return true;
}

void Execution::note_placed(const std::string &client_order_id) {
    const int64_t now = host_->now_ns(ctx_);
    if (placed_at_ns_.size() > 4096)  // forget what can no longer arrive
        std::erase_if(placed_at_ns_,
                      [&](const auto &e) { return !may_still_arrive(e.first, now); });
    placed_at_ns_[client_order_id] = now;
}

uint32_t Execution::place(const keel_order_request &o, char *err, size_t err_size) {
    OrderFields fields;
    if (!order_fields(o, fields, err, err_size)) return KEEL_ERROR;
    Pending p = pending_of(o);
    keel_venue_reason why;
    if (limits_.blocked(host_->now_ns(ctx_), why)) {
        // Not sent: asking again while Binance says wait is what turns a 429 into a 418 ban.
        refuse(p, why, 0, "not sent: the venue's rate limit asks us to wait");
        return KEEL_OK;
    }
    Query q;
    for (const auto &[name, value] : fields) q.add(name, value);
    note_placed(p.client_order_id);
    if (!send("POST", path("/fapi/v1/order", "/api/v3/order"), q.text(), true, std::move(p))) {
        std::snprintf(err, err_size, "binance: the host refused the request");
        return KEEL_ERROR;
    }
    return KEEL_OK;
}

uint32_t Execution::place_many(const keel_order_request *orders, uint32_t count, char *err,
                               size_t err_size) {
    std::vector<std::pair<Pending, std::string>> unsent;  // and why
    const auto place_one = [&](const keel_order_request &o) {
        if (place(o, err, err_size) != KEEL_OK) unsent.emplace_back(pending_of(o), err);
    };
    for (uint32_t first = 0; first < count; first += kMaxBatch) {
        const uint32_t n = std::min(kMaxBatch, count - first);
        // Spot has no batch endpoint, and one order alone weighs less as itself.
        if (!config_.futures || n == 1) {
            for (uint32_t k = first; k < first + n; ++k) place_one(orders[k]);
            continue;
        }
        Pending batch{.kind = Kind::place_batch};
        std::string json = "[";
        for (uint32_t k = first; k < first + n; ++k) {
            OrderFields fields;
            if (!order_fields(orders[k], fields, err, err_size)) {
                unsent.emplace_back(pending_of(orders[k]), err);
                continue;
            }
            json += json.size() > 1 ? ",{" : "{";
            for (size_t f = 0; f < fields.size(); ++f) {
                if (f) json += ',';
                json += json_string(fields[f].first);
                json += ':';
                json += json_string(fields[f].second);
            }
            json += "}";
            batch.batch.push_back(pending_of(orders[k]));
        }
        json += "]";
        if (batch.batch.empty()) continue;
        keel_venue_reason why;
        if (limits_.blocked(host_->now_ns(ctx_), why)) {
            for (const auto &p : batch.batch)
                refuse(p, why, 0, "not sent: the venue's rate limit asks us to wait");
            continue;
        }
        for (const auto &p : batch.batch) note_placed(p.client_order_id);
        std::vector<Pending> orders_sent = batch.batch;
        Query q;
        q.add("batchOrders", json);
        if (!send("POST", "/fapi/v1/batchOrders", q.text(), true, std::move(batch)))
            for (auto &p : orders_sent)
                unsent.emplace_back(std::move(p), "binance: the host refused the request");
    }
    if (unsent.size() == count) {
        std::snprintf(err, err_size, "%s", unsent.back().second.c_str());
        return KEEL_ERROR;
    }
    // The others are on their way, so these are told one by one: the host sends them again.
    for (const auto &[p, why] : unsent) refuse(p, KEEL_VENUE_TRANSIENT, 0, "not sent: " + why);
    return KEEL_OK;
}

bool Execution::may_still_arrive(const std::string &client_order_id, int64_t now_ns) {
    auto it = placed_at_ns_.find(client_order_id);
    // A second of slack for the clock offset's error.
    return it != placed_at_ns_.end() && now_ns < it->second + (config_.recv_window_ms + 1000) * kMs;
}

uint32_t Execution::cancel(keel_instrument_id instrument, const char *client_order_id, char *err,
                           size_t err_size) {
    std::string symbol;
    if (!grid_of_(instrument, symbol) || !client_order_id) {
        std::snprintf(err, err_size, "binance: unknown instrument %u", instrument);
        return KEEL_ERROR;
    }
    Query q;
    q.add("symbol", symbol).add("origClientOrderId", client_order_id);
    Pending p{.kind = Kind::cancel, .instrument = instrument, .client_order_id = client_order_id};
    keel_venue_reason why;
    if (limits_.banned(host_->now_ns(ctx_)) && limits_.blocked(host_->now_ns(ctx_), why)) {
        refuse(p, why, 0, "cancel not sent: the venue's rate limit asks us to wait");
        return KEEL_OK;
    }
    if (!send("DELETE", path("/fapi/v1/order", "/api/v3/order"), q.text(), true, std::move(p))) {
        std::snprintf(err, err_size, "binance: the host refused the request");
        return KEEL_ERROR;
    }
    return KEEL_OK;
}

uint32_t Execution::amend(const keel_order_request &o, char *err, size_t err_size) {
    if (!config_.futures) {
        std::snprintf(err, err_size,
                      "binance spot cannot amend an order's price (cancel it and place a new one)");
        return KEEL_ERROR;
    }
    std::string symbol;
    const SymbolGrid *g = grid_of_(o.instrument, symbol);
    if (!g || !o.client_order_id || o.type != KEEL_ORDER_LIMIT) {
        std::snprintf(err, err_size, "binance: only a limit order of a subscribed symbol amends");
        return KEEL_ERROR;
    }
    Pending p = pending_of(o);
    p.kind = Kind::amend;
    keel_venue_reason why;
    if (limits_.blocked(host_->now_ns(ctx_), why)) {
        refuse(p, why, 0, "amendment not sent: the venue's rate limit asks us to wait");
        return KEEL_OK;
    }
    Query q;
    q.add("symbol", symbol)
        .add("origClientOrderId", o.client_order_id)
        .add("side", o.side == KEEL_SIDE_SELL ? "SELL" : "BUY")
        .add("quantity", grid_text(o.qty_lots, g->qty))
        .add("price", grid_text(o.price_ticks, g->price));
    if (!send("PUT", "/fapi/v1/order", q.text(), true, std::move(p))) {
        std::snprintf(err, err_size, "binance: the host refused the request");
        return KEEL_ERROR;
    }
    return KEEL_OK;
}

uint32_t Execution::query(keel_instrument_id instrument, const char *client_order_id, char *err,
                          size_t err_size) {
    if (!client_order_id) {
        reconcile();
        return KEEL_OK;
    }
    std::string symbol;
    if (!grid_of_(instrument, symbol)) {
        std::snprintf(err, err_size, "binance: unknown instrument %u", instrument);
        return KEEL_ERROR;
    }
    Query q;
    q.add("symbol", symbol).add("origClientOrderId", client_order_id);
    Pending p{
        .kind = Kind::query_order, .instrument = instrument, .client_order_id = client_order_id};
    // Not asked now: the refusal tells the host to ask again later.
    if (!send("GET", path("/fapi/v1/order", "/api/v3/order"), q.text(), true, p))
        refuse(p, KEEL_VENUE_RATE_LIMITED, 0, "question not sent: the venue asks us to wait");
    return KEEL_OK;
}

void Execution::reconcile() {
    const bool sent =
        send("GET", path("/fapi/v1/openOrders", "/api/v3/openOrders"), "", true,
             {.kind = Kind::open_orders}) &&
        send("GET", path("/fapi/v2/account", "/api/v3/account"), "", true, {.kind = Kind::account});
    // Refused while the venue says wait: done from the timer once it lets us.
    reconcile_retry_ns_ = sent ? 0 : limits_.resume_at(host_->now_ns(ctx_));
}

void Execution::emit_order(const OrderUpdate &u, const std::string &client_order_id) {
    OrderUpdate copy = u;
    if (copy.client_order_id.empty()) copy.client_order_id = client_order_id;
    auto abi = copy.abi();
    host_->emit_order_update(ctx_, &abi);
}

void Execution::emit_orders(const std::string &client_order_id) {
    for (const auto &u : codec_.orders()) emit_order(u, client_order_id);
}

void Execution::on_batch_answer(const Pending &p, std::string_view body) {
    if (!codec_.parse_orders(body)) {
        // As with a single order's unreadable answer: the host asks when it hears nothing.
        log(KEEL_LOG_ERROR, "batch answer: " + codec_.error());
        return;
    }
    const auto &answers = codec_.orders();
    if (answers.size() != p.batch.size()) {
        // Which answer is whose cannot be told: each order is asked about.
        log(KEEL_LOG_ERROR, "batch answer with " + std::to_string(answers.size()) +
                                " elements for " + std::to_string(p.batch.size()) + " orders");
        for (const auto &o : p.batch)
            refuse(o, KEEL_VENUE_UNKNOWN_OUTCOME, 0, "batch answer not understood");
        return;
    }
    for (size_t k = 0; k < answers.size(); ++k) {
        const auto &u = answers[k];
        // An element refused on its own is that order's refusal, read as a single one's is.
        if (u.state == KEEL_ORDER_STATE_REJECTED && u.client_order_id.empty())
            refuse(p.batch[k], u.reason, u.venue_code, u.message);
        else
            emit_order(u, p.batch[k].client_order_id);
    }
}

void Execution::emit_account() {
    for (const auto &p : codec_.positions()) {
        if (p.position_side != "BOTH") continue;  // keel trades one-way mode only
        auto abi = p.abi();
        host_->emit_position(ctx_, &abi);
    }
    for (const auto &b : codec_.balances()) {
        auto abi = b.abi();
        host_->emit_balance(ctx_, &abi);
    }
}

void Execution::on_answer(const keel_frame &f) {
    auto it = pending_.find(f.request);
    if (it == pending_.end()) return;
    Pending p = std::move(it->second);
    pending_.erase(it);
    if (int64_t wait = limits_.note(f, host_->now_ns(ctx_)))
        log(KEEL_LOG_WARN,
            std::string(f.http_status == 418 ? "banned (418)" : "rate limited (429)") +
                ": nothing is sent for " + std::to_string(wait) + " s");
    std::string_view body(f.data, f.size);
    // What the host must hear about whatever becomes of it: the order's requests.
    const bool about_an_order = p.kind == Kind::place || p.kind == Kind::place_batch ||
                                p.kind == Kind::cancel || p.kind == Kind::amend ||
                                p.kind == Kind::query_order || p.kind == Kind::query_trades;
    if (f.http_status == 0) {
        // No answer: a request that never left can go again; one that may have arrived is
        // resolved by asking the venue, never by sending it twice.
        if (about_an_order)
            for (const auto &o : orders_of(p))
                refuse(o, f.unsent ? KEEL_VENUE_TRANSIENT : KEEL_VENUE_UNKNOWN_OUTCOME, 0,
                       std::string(body));
        log(KEEL_LOG_WARN, "request without an answer: " + std::string(body));
        if (retried(p.kind)) retry_later(p.kind, host_->now_ns(ctx_));
        if (p.kind == Kind::margin_type || p.kind == Kind::leverage) {
            set_up_retry_.emplace_back(p.kind, p.symbol);  // setting it twice is harmless
            set_up_retry_ns_ =
                std::max(host_->now_ns(ctx_) + 5'000 * kMs, limits_.resume_at(host_->now_ns(ctx_)));
        }
        return;
    }
    if (f.http_status != 200) {
        codec_.parse_error(f.http_status, body);
        const auto &e = codec_.last_error();
        if (p.kind == Kind::margin_type && e.code == -4046) {
            log(KEEL_LOG_INFO, p.symbol + ": margin type already " + config_.margin_type);
            return;
        }
        if (p.kind == Kind::margin_type || p.kind == Kind::leverage) {
            const bool again = f.http_status >= 500 || e.reason == KEEL_VENUE_RATE_LIMITED ||
                               e.reason == KEEL_VENUE_TRANSIENT ||
                               e.reason == KEEL_VENUE_UNKNOWN_OUTCOME;
            log(again ? KEEL_LOG_WARN : KEEL_LOG_ERROR,
                p.symbol + ": setting the " +
                    (p.kind == Kind::leverage ? "leverage to " + std::to_string(config_.leverage)
                                              : "margin type to " + config_.margin_type) +
                    " failed: " + std::to_string(e.code) + " " + e.message +
                    (again ? " (trying again)" : "; the account keeps its own"));
            if (again) {
                set_up_retry_.emplace_back(p.kind, p.symbol);
                set_up_retry_ns_ = std::max(host_->now_ns(ctx_) + 5'000 * kMs,
                                            limits_.resume_at(host_->now_ns(ctx_)));
            }
            return;
        }
        if (p.kind == Kind::query_order && e.reason == KEEL_VENUE_UNKNOWN_ORDER &&
            may_still_arrive(p.client_order_id, host_->now_ns(ctx_)))
            // Not there yet is not never: the host must not send it again before recvWindow.
            refuse(p, KEEL_VENUE_UNKNOWN_OUTCOME, e.code,
                   e.message + " (the order may still arrive within recvWindow)");
        else if (about_an_order)
            for (const auto &o : orders_of(p)) refuse(o, e.reason, e.code, e.message);
        else
            log(KEEL_LOG_WARN, "HTTP " + std::to_string(f.http_status) + ": " + e.message);
        if (retried(p.kind)) retry_later(p.kind, host_->now_ns(ctx_));
        return;
    }
    switch (p.kind) {
        case Kind::server_time: {
            int64_t server_ms = 0;
            auto at = body.find("\"serverTime\":");
            if (at != std::string_view::npos)
                server_ms =
                    std::strtoll(std::string(body.substr(at + 13, 20)).c_str(), nullptr, 10);
            // The venue read its clock halfway through the round trip.
            const int64_t mid_ms = (p.sent_ns + f.receive_ts_ns) / 2 / kMs;
            if (server_ms > 0) offset_ms_ = server_ms - mid_ms;
            log(KEEL_LOG_INFO, "clock offset to the venue: " + std::to_string(offset_ms_) + " ms");
            // Signed requests are stamped on the venue's clock from here on.
            if (!set_up_sent_ && config_.futures) {
                set_up_sent_ = true;
                for (const auto &symbol : symbols_) {
                    if (!config_.margin_type.empty()) set_up(Kind::margin_type, symbol);
                    if (config_.leverage > 0) set_up(Kind::leverage, symbol);
                }
            }
            break;
        }
        case Kind::margin_type:
            log(KEEL_LOG_INFO, p.symbol + ": margin type " + config_.margin_type);
            break;
        case Kind::leverage:
            log(KEEL_LOG_INFO, p.symbol + ": leverage " + std::to_string(config_.leverage));
            break;
        case Kind::listen_key: {
            auto at = body.find("\"listenKey\":\"");
            if (at == std::string_view::npos) {
                log(KEEL_LOG_ERROR, "listenKey answer without a key");
                break;
            }
            auto key = body.substr(at + 13);
            open_user_stream(std::string(key.substr(0, key.find('"'))));
            break;
        }
        case Kind::keepalive:
            break;
        case Kind::close_listen_key:
            log(KEEL_LOG_INFO, "listenKey closed");
            break;
        case Kind::place:
        case Kind::cancel:
        case Kind::amend:
        case Kind::query_order:
            if (!codec_.parse_order(body)) {
                log(KEEL_LOG_ERROR, "order answer: " + codec_.error());
                break;
            }
            emit_orders(p.client_order_id);
            if (p.kind == Kind::query_order && !codec_.orders().empty() &&
                codec_.orders().back().filled_lots > 0) {
                // The fills themselves (prices, fees, trade ids) come from the trade history.
                std::string symbol;
                grid_of_(p.instrument, symbol);
                Query q;
                q.add("symbol", symbol).add("orderId", codec_.orders().back().venue_order_id);
                Pending next = p;
                next.kind = Kind::query_trades;
                send("GET", path("/fapi/v1/userTrades", "/api/v3/myTrades"), q.text(), true,
                     std::move(next));
            }
            break;
        case Kind::place_batch:
            on_batch_answer(p, body);
            break;
        case Kind::query_trades:
            if (codec_.parse_trades(body))
                emit_orders(p.client_order_id);
            else
                log(KEEL_LOG_ERROR, "trades answer: " + codec_.error());
            break;
        case Kind::open_orders:
            if (codec_.parse_orders(body))
                emit_orders();
            else
                log(KEEL_LOG_ERROR, "open orders answer: " + codec_.error());
            break;
        case Kind::account:
            if (codec_.parse_account(body))
                emit_account();
            else
                log(KEEL_LOG_ERROR, "account answer: " + codec_.error());
            break;
    }
}

void Execution::open_user_stream(const std::string &listen_key) {
    if (listen_key == listen_key_ && user_link_) return;
    if (user_link_) host_->ws_close(ctx_, user_link_);
    listen_key_ = listen_key;
    std::string url = config_.ws_url + "/ws/" + listen_key_;
    user_link_ = host_->ws_open(ctx_, url.c_str(), KEEL_NET_PRIVATE);
    next_keepalive_ns_ = host_->now_ns(ctx_) + config_.keepalive_s * 1'000'000'000;
    if (!user_link_) log(KEEL_LOG_ERROR, "the host refused the user-data stream");
}

bool Execution::on_stream(const keel_frame &f) {
    if (!user_link_ || f.connection != user_link_) return false;
    switch (codec_.parse_event({f.data, f.size})) {
        case AccountEvent::orders:
            emit_orders();
            break;
        case AccountEvent::account:
            emit_account();
            break;
        case AccountEvent::listen_key_expired:
            if (stopped_) break;
            log(KEEL_LOG_WARN, "listenKey expired: asking for a new one");
            listen_key_retry_ns_ = host_->now_ns(ctx_);  // from the timer, within the limits
            break;
        case AccountEvent::algo:
            log(KEEL_LOG_WARN, "an algo order keel did not place changed: " +
                                   codec_.algo().client_algo_id + " " + codec_.algo().status);
            break;
        case AccountEvent::invalid:
            if (host_->reject_frame)
                host_->reject_frame(ctx_, ("user data: " + codec_.error()).c_str());
            break;
        case AccountEvent::fill_notice:  // ORDER_TRADE_UPDATE carries the same fill with its fee
        case AccountEvent::other:
            break;
    }
    return true;
}

void Execution::on_link(uint64_t connection, bool up) {
    if (connection != user_link_ || !up) return;
    // What the account holds is only known by asking: at the start, the orders and position an
    // earlier run left; back after a drop, what happened meanwhile.
    reconcile();
}

void Execution::stop() {
    stopped_ = true;
    if (listen_key_.empty()) return;
    // Binance ends the key's stream when the key is closed.
    if (!send("DELETE", path("/fapi/v1/listenKey", "/api/v3/userDataStream"),
              config_.futures ? "" : "listenKey=" + listen_key_, false,
              {.kind = Kind::close_listen_key}))
        log(KEEL_LOG_WARN, "listenKey not closed (nothing may be sent now); it lapses in 60 min");
    listen_key_.clear();
}

void Execution::on_timer(int64_t now_ns) {
    if (stopped_) return;
    keel_venue_reason why;
    if (limits_.blocked(now_ns, why)) return;
    if (time_retry_ns_ && now_ns >= time_retry_ns_) {
        time_retry_ns_ = 0;
        send("GET", path("/fapi/v1/time", "/api/v3/time"), "", false, {.kind = Kind::server_time});
    }
    if (reconcile_retry_ns_ && now_ns >= reconcile_retry_ns_) reconcile();
    if (set_up_retry_ns_ && now_ns >= set_up_retry_ns_) {
        set_up_retry_ns_ = 0;
        for (auto &[kind, symbol] : std::exchange(set_up_retry_, {})) set_up(kind, symbol);
    }
    if (listen_key_retry_ns_ && now_ns >= listen_key_retry_ns_) {
        listen_key_retry_ns_ = 0;
        send("POST", path("/fapi/v1/listenKey", "/api/v3/userDataStream"), "", false,
             {.kind = Kind::listen_key});
    }
    if (!listen_key_.empty() && now_ns >= next_keepalive_ns_) {
        next_keepalive_ns_ = now_ns + config_.keepalive_s * 1'000'000'000;
        send("PUT", path("/fapi/v1/listenKey", "/api/v3/userDataStream"),
             config_.futures ? "" : "listenKey=" + listen_key_, false, {.kind = Kind::keepalive});
    }
}

}  // namespace keel::binance
