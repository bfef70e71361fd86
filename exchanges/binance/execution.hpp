#pragma once
// The trading side of the binance plugin: signed REST orders (place, cancel, query), the
// user-data stream (listenKey, kept alive), the server-time offset, and the venue's rate limits
// (request weight and 429/418 with Retry-After) respected before anything is sent. What the
// venue says comes back to the host as keel_order_update / position / balance events, parsed by
// the account codec; refusals carry keel's reason so the host knows whether to retry with the
// same client order id, query, or give up. docs/exchanges/binance.md.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <keel/plugin.h>

#include "account.hpp"
#include "limits.hpp"
#include "signer.hpp"

namespace keel::binance {

struct ExecutionConfig {
    bool futures = true;
    std::string rest_url, ws_url;
    std::string api_key, api_secret;  // from the environment; never logged
    int64_t recv_window_ms = 5000;
    // Binance ends a listen key 60 minutes after its last keepalive and asks for one every 30.
    int64_t keepalive_s = 1800;
    // USD-M account settings applied to every subscribed symbol at start (0 / empty: as the
    // account has them).
    int64_t leverage = 0;
    std::string margin_type;  // "CROSSED" or "ISOLATED"
};

class Execution {
  public:
    // `grid_of` finds a subscribed instrument's symbol and grids by the host's id.
    using GridOf = std::function<const SymbolGrid *(keel_instrument_id id, std::string &symbol)>;
    Execution(const keel_host_api *host, void *ctx, ExecutionConfig config, SymbolLookup lookup,
              GridOf grid_of, RequestLimits &limits);

    bool enabled() const { return !config_.api_key.empty() && !config_.api_secret.empty(); }
    // Live: measures the clock offset, sets each symbol's margin type and leverage (USD-M, when
    // configured) and opens the user-data stream.
    void start(std::vector<std::string> symbols);
    uint32_t place(const keel_order_request &order, char *err, size_t err_size);
    // Several orders: USD-M in requests of up to kMaxBatch (POST /fapi/v1/batchOrders), spot one
    // by one. KEEL_ERROR only when none could be sent; otherwise an order that could not is
    // refused as transient (sent again with the same id).
    uint32_t place_many(const keel_order_request *orders, uint32_t count, char *err,
                        size_t err_size);
    static constexpr uint32_t kMaxBatch = 5;  // Binance USD-M batchOrders
    uint32_t cancel(keel_instrument_id instrument, const char *client_order_id, char *err,
                    size_t err_size);
    // PUT /fapi/v1/order: a resting limit order's new quantity and price (USD-M only; spot has
    // no amendment of price).
    uint32_t amend(const keel_order_request &o, char *err, size_t err_size);
    uint32_t query(keel_instrument_id instrument, const char *client_order_id, char *err,
                   size_t err_size);

    // A REST answer to one of this side's requests (the `request` tag has kRequestBit set).
    static constexpr uint64_t kRequestBit = 1ull << 63;
    void on_answer(const keel_frame &frame);
    // A frame of the user-data stream; true if it came on that connection.
    bool on_stream(const keel_frame &frame);
    void on_link(uint64_t connection, bool up);
    void on_timer(int64_t now_ns);
    // Session end: the listen key is closed (DELETE) and no new one is asked for.
    void stop();

    int64_t clock_offset_ms() const { return offset_ms_; }

  private:
    enum class Kind : uint8_t {
        server_time,
        listen_key,
        keepalive,
        close_listen_key,
        place,
        place_batch,
        cancel,
        amend,
        query_order,
        query_trades,
        open_orders,
        account,
        margin_type,
        leverage
    };
    struct Pending {
        Kind kind;
        keel_instrument_id instrument = 0;
        std::string client_order_id;
        std::string symbol;  // margin type and leverage
        keel_side side = KEEL_SIDE_BUY;
        int64_t qty_lots = 0, price_ticks = 0;
        int64_t sent_ns = 0;
        std::vector<Pending> batch;  // place_batch: its orders, in the order sent
    };
    // A new order's parameters by Binance's names, as a single order and each element of a batch
    // send them.
    using OrderFields = std::vector<std::pair<std::string_view, std::string>>;

    // Sends a request; false (nothing sent) if the host refused it.
    bool send(const char *method, const std::string &path, const std::string &query, bool sign,
              Pending pending);
    std::string path(std::string_view futures, std::string_view spot) const {
        return std::string(config_.futures ? futures : spot);
    }
    // The listenKey, the clock offset and a reconciliation (open orders, account) are asked for
    // again after a failure, not before the venue lets us send.
    void retry_later(Kind kind, int64_t now_ns);
    static bool retried(Kind kind) {
        return kind == Kind::listen_key || kind == Kind::server_time || kind == Kind::open_orders ||
               kind == Kind::account;
    }
    void refuse(const Pending &p, keel_venue_reason reason, int32_t code, std::string message);
    // What `o` sends (false, err set: an instrument not subscribed).
    bool order_fields(const keel_order_request &o, OrderFields &fields, char *err,
                      size_t err_size) const;
    static Pending pending_of(const keel_order_request &o);
    void note_placed(const std::string &client_order_id);
    // The orders a request is about: a batch's, or its own.
    static std::span<const Pending> orders_of(const Pending &p) {
        return p.kind == Kind::place_batch ? std::span<const Pending>(p.batch)
                                           : std::span<const Pending>(&p, 1);
    }
    void emit_order(const OrderUpdate &u, const std::string &client_order_id);
    void emit_orders(const std::string &client_order_id = {});
    // A batch's answer: one element per order, in the order sent.
    void on_batch_answer(const Pending &p, std::string_view body);
    void emit_account();
    void open_user_stream(const std::string &listen_key);
    void reconcile();
    // POST marginType / leverage for one symbol (after the clock offset is known).
    void set_up(Kind kind, const std::string &symbol);
    void log(uint32_t level, const std::string &msg) const { host_->log(ctx_, level, msg.c_str()); }

    const keel_host_api *host_;
    void *ctx_;
    ExecutionConfig config_;
    GridOf grid_of_;
    AccountCodec codec_;
    std::map<uint64_t, Pending> pending_;  // by request tag
    // When each client order id was last sent (host clock). Binance refuses a request that
    // reaches it more than recvWindow after its timestamp, so until then a placement whose
    // answer was lost may still arrive: "no such order" means nothing yet.
    std::map<std::string, int64_t, std::less<>> placed_at_ns_;
    bool may_still_arrive(const std::string &client_order_id, int64_t now_ns);
    uint64_t next_tag_ = 1;
    int64_t offset_ms_ = 0;  // venue clock minus ours
    std::string listen_key_;
    uint64_t user_link_ = 0;
    bool stopped_ = false;  // the session ended: nothing more is asked of the venue
    int64_t next_keepalive_ns_ = 0;
    RequestLimits &limits_;  // shared with the market side
    int64_t listen_key_retry_ns_ = 0, time_retry_ns_ = 0, reconcile_retry_ns_ = 0;  // 0: none
    std::vector<std::string> symbols_;
    bool set_up_sent_ = false;
    // Settings whose request got no usable answer, to send again from the timer.
    std::vector<std::pair<Kind, std::string>> set_up_retry_;
    int64_t set_up_retry_ns_ = 0;
};

}  // namespace keel::binance
