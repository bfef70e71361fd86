#pragma once
// The loopback venue's trading side for one USD-M symbol: orders validated against the
// exchangeInfo filters, matched against the replayed book (takers walk its levels, resting
// limits fill when a recorded trade prints at or through their price), one-way positions, the
// USDT wallet, and the answers and user-data events in Binance's USD-M layout. Money is kept in
// 1e-8 USDT as integers.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec.hpp"
#include "exchange_info.hpp"
#include "market.hpp"

namespace keel::venue {

// Request parameters, percent-decoded, in the order sent (query string, then body).
using Params = std::vector<std::pair<std::string, std::string>>;
std::optional<std::string_view> find(const Params &params, std::string_view name);

struct Answer {
    unsigned status = 200;
    std::string body;
};
// Binance's error body: {"code":-1022,"msg":"…"}.
Answer error(unsigned status, int code, std::string_view message);

class Exchange {
  public:
    Exchange(const binance::SymbolInfo &info, const Market &market, int64_t balance_usdt);

    // POST /fapi/v1/order. `placed` tells whether an order now exists (accepted, filled or
    // expired) as opposed to a rejected request.
    Answer place(const Params &params, int64_t now_ms, bool &placed);
    Answer cancel(const Params &params, int64_t now_ms);      // DELETE /fapi/v1/order
    Answer amend(const Params &params, int64_t now_ms);       // PUT /fapi/v1/order
    Answer query(const Params &params) const;                 // GET /fapi/v1/order
    Answer open_orders(const Params &params) const;           // GET /fapi/v1/openOrders
    Answer cancel_all(const Params &params, int64_t now_ms);  // DELETE …/allOpenOrders
    Answer account(int64_t now_ms) const;                     // GET /fapi/v2/account
    Answer balance(int64_t now_ms) const;                     // GET /fapi/v2/balance
    Answer user_trades(const Params &params) const;           // GET /fapi/v1/userTrades
    // POST/PUT/DELETE listenKey; a key lives `life_ms` after its creation or last keepalive.
    Answer listen_key(std::string_view method, int64_t now_ms, int64_t life_ms);
    Answer set_leverage(const Params &params);     // POST /fapi/v1/leverage
    Answer set_margin_type(const Params &params);  // POST /fapi/v1/marginType
    Answer income(const Params &params) const;     // GET /fapi/v1/income

    // A funding time passed at `mark_1e8` (1e-8 USDT) and `rate_1e8` (1e-8): a position pays
    // (or is paid) position x mark x rate, rounded half away from zero to 1e-8 USDT, and the
    // account stream gets a FUNDING_FEE ACCOUNT_UPDATE. Nothing happens without a position.
    void settle_funding(int64_t time_ms, int64_t mark_1e8, int64_t rate_1e8);

    // A recorded trade printed: resting limits at or through its price fill, up to its size.
    void on_trade(const binance::Trade &trade, int64_t now_ms);

    // GET /keel-test/state: positions, wallet, open orders, orders placed per client order id.
    std::string state_json() const;
    // User-data messages since the last call, oldest first.
    std::vector<std::string> take_events() { return std::exchange(events_, {}); }
    bool listen_key_valid(std::string_view key, int64_t now_ms) const;
    const std::string &listen_key() const { return listen_key_; }

  private:
    enum class Status : uint8_t { fresh, partially_filled, filled, canceled, expired };
    struct Order {
        int64_t id = 0;
        std::string client_id;
        Side side = Side::buy;
        bool market = false, reduce_only = false;
        std::string tif;  // GTC, IOC, FOK, GTX
        Ticks price = 0;  // 0 for a market order
        Lots qty = 0, filled = 0;
        int64_t quote = 0;  // executed notional in price units x qty units (10^-(pd+qd) USDT)
        Status status = Status::fresh;
        int64_t time_ms = 0, update_ms = 0;
    };
    struct Fill {
        int64_t id = 0, order_id = 0, time_ms = 0;
        Side side = Side::buy;
        Ticks price = 0;
        Lots qty = 0;
        int64_t fee = 0, realized = 0;  // 1e-8 USDT
        bool maker = false;
    };

    // What the book offers `order`'s unfilled rest as a taker, level by level (`available`: in
    // all), and taking it (a reduce-only order never beyond the position).
    std::vector<market::Level> takes_for(const Order &order, Lots &available) const;
    void take(Order &order, const std::vector<market::Level> &takes, int64_t now_ms);
    // Executes `qty` of `o` at `price`: position, wallet, fill record, events.
    void execute(Order &o, Ticks price, Lots qty, bool maker, int64_t now_ms);
    // Finishes an order's answer and its ORDER_TRADE_UPDATE (execution type `x`).
    void order_event(const Order &o, std::string_view x, const Fill *fill, int64_t now_ms);
    void account_event(int64_t now_ms);
    // The "P" entry of an ACCOUNT_UPDATE for the position.
    std::string position_update() const;
    int64_t position_margin() const;  // 1e-8 USDT: the position's value at the mid / leverage
    std::string order_json(const Order &o, bool with_time) const;
    const Order *lookup(const Params &params, std::optional<Answer> &failure) const;
    static const char *status_text(Status s);
    int64_t notional_money(Ticks price, Lots qty) const;  // 1e-8 USDT
    int64_t unrealized() const;                           // 1e-8 USDT at the book's mid
    std::string entry_price() const;

    std::string symbol_;
    const Market &market_;
    ShownGrid price_show_, qty_show_;
    market::DecimalGrid price_, qty_;
    Lots min_qty_ = 1;
    int64_t min_notional_ = 0;  // 1e-8 USDT
    std::string min_notional_text_;
    int64_t money_per_quote_ = 1;  // 1e-8 USDT per price unit x qty unit
    int quote_decimals_ = 0;       // price decimals + qty decimals (of the grids)
    // An amount in 10^-quote_decimals_ as Binance writes it (cumQuote: "0.00000" on BTCUSDT).
    std::string quote_text(int64_t v) const;

    int64_t wallet_ = 0, realized_total_ = 0;  // 1e-8 USDT
    Lots position_ = 0;                        // signed, one-way mode
    int64_t position_cost_ = 0;                // 1e-8 USDT of the open quantity at entry
    int64_t leverage_ = 20;
    bool isolated_ = false;  // marginType ISOLATED (CROSSED by default); one wallet either way
    struct Funding {
        int64_t time_ms = 0, rate_1e8 = 0, mark_1e8 = 0, amount = 0;  // amount: 1e-8 USDT
    };
    std::vector<Funding> funding_;
    int64_t funding_total_ = 0;  // 1e-8 USDT
    // GET /fapi/v1/income's rows, in the order they happened: COMMISSION and REALIZED_PNL of
    // each fill (wall-clock times), FUNDING_FEE (exchange times of the replay).
    struct Income {
        const char *type = "";
        int64_t amount = 0, time_ms = 0, tran_id = 0, trade_id = 0;  // trade_id 0: none
    };
    std::vector<Income> income_;
    int64_t next_tran_id_ = 7000000001;

    int64_t next_order_id_ = 4000000001, next_trade_id_ = 900000001;
    std::map<int64_t, Order> orders_;  // every order, by id (kept: queries of finished ones)
    std::vector<int64_t> resting_;     // ids of open orders, in arrival order
    std::map<std::string, uint64_t, std::less<>> placed_per_client_id_;
    uint64_t amendments_ = 0;  // PUT /fapi/v1/order that changed an order
    std::vector<Fill> fills_;
    std::vector<std::string> events_;
    std::string listen_key_;
    int64_t listen_key_expiry_ms_ = 0;
};

}  // namespace keel::venue
