#pragma once
// The loopback venue's trading side in spot mode (--market spot) for one symbol: orders checked
// against the exchangeInfo filters with spot's -1013 "Filter failure: …" answers, matched against
// the replayed book as the USD-M side does (takers walk its levels, resting limits fill when a
// recorded trade prints at or through their price), two balances (base and quote asset) with
// free and locked amounts, spot's 0.1 % commission taken from the asset received, and the
// answers and user-data events (executionReport, outboundAccountPosition) in Binance spot's
// layout. Amounts of both assets are integers in 1e-8.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exchange.hpp"
#include "exchange_info.hpp"
#include "market.hpp"

namespace keel::venue {

class SpotExchange {
  public:
    // `exchange_info` is the body served (the filters SymbolInfo leaves out are read from it);
    // balances in 1e-8 of their asset.
    SpotExchange(const binance::SymbolInfo &info, std::string_view exchange_info,
                 const Market &market, int64_t quote_balance, int64_t base_balance);

    // POST /api/v3/order. `placed` tells whether an order now exists.
    Answer place(const Params &params, int64_t now_ms, bool &placed);
    Answer cancel(const Params &params, int64_t now_ms);      // DELETE /api/v3/order
    Answer query(const Params &params) const;                 // GET /api/v3/order
    Answer open_orders(const Params &params) const;           // GET /api/v3/openOrders
    Answer cancel_all(const Params &params, int64_t now_ms);  // DELETE /api/v3/openOrders
    Answer account(int64_t now_ms) const;                     // GET /api/v3/account
    Answer my_trades(const Params &params) const;             // GET /api/v3/myTrades
    // POST/PUT/DELETE /api/v3/userDataStream; a key lives `life_ms` after its last keepalive.
    Answer listen_key(std::string_view method, const Params &params, int64_t now_ms,
                      int64_t life_ms);

    // A recorded trade printed: resting limits at or through its price fill, up to its size.
    void on_trade(const binance::Trade &trade, int64_t now_ms);

    // GET /keel-test/state's "account".
    std::string state_json() const;
    std::vector<std::string> take_events() { return std::exchange(events_, {}); }
    bool listen_key_valid(std::string_view key, int64_t now_ms) const;

  private:
    enum class Status : uint8_t { fresh, partially_filled, filled, canceled, expired };
    enum class Type : uint8_t { market, limit, limit_maker };
    struct Order {
        int64_t id = 0;
        std::string client_id;
        Side side = Side::buy;
        Type type = Type::limit;
        std::string tif;  // GTC, IOC, FOK ("GTC" for MARKET and LIMIT_MAKER, as Binance shows)
        Ticks price = 0;  // 0 for a market order
        Lots qty = 0, filled = 0;
        int64_t quote = 0;   // executed notional, 1e-8 of the quote asset
        int64_t locked = 0;  // still locked for it, 1e-8 of the asset it pays with
        Status status = Status::fresh;
        int64_t time_ms = 0, update_ms = 0;
    };
    struct Fill {
        int64_t id = 0, order_id = 0, time_ms = 0;
        Side side = Side::buy;
        Ticks price = 0;
        Lots qty = 0;
        int64_t quote = 0, fee = 0;  // 1e-8; the fee in the asset received
        bool maker = false;
    };

    void execute(Order &o, Ticks price, Lots qty, bool maker, int64_t now_ms);
    // Unlocks what an order still holds (it is finished).
    void release(Order &o);
    // An executionReport of execution type `x`; `cancel_id` is the cancel's client id (CANCELED).
    void report(const Order &o, std::string_view x, const Fill *fill, int64_t now_ms,
                std::string_view cancel_id = {});
    void balance_event(int64_t now_ms);
    std::string order_json(const Order &o) const;  // GET /api/v3/order's layout
    std::string result_json(const Order &o, int64_t now_ms, std::string_view resp_type,
                            const std::vector<const Fill *> &fills) const;
    std::string cancel_json(const Order &o, std::string_view cancel_id, int64_t now_ms) const;
    const Order *lookup(const Params &params, std::optional<Answer> &failure) const;
    static const char *status_text(Status s);
    static const char *type_text(Type t);

    int64_t cost(Ticks price, Lots qty) const;  // 1e-8 quote
    int64_t base(Lots qty) const;               // 1e-8 base
    std::string amount(int64_t v) const { return format_fixed(v, 8); }

    std::string symbol_, base_asset_, quote_asset_;
    const Market &market_;
    ShownGrid price_show_, qty_show_;
    market::DecimalGrid price_, qty_;
    Ticks min_price_ = 0, max_price_ = 0;  // 0: no bound
    Lots min_qty_ = 0, max_qty_ = 0;
    int64_t min_notional_ = 0;  // 1e-8 quote
    std::string notional_filter_ = "MIN_NOTIONAL";
    bool notional_applies_to_market_ = true;
    // Quantities are on the market's grid (spot's books are finer than LOT_SIZE); orders and fills
    // on multiples of the lot, so every amount is a whole 1e-8 of its asset.
    Lots lot_ = 1;  // LOT_SIZE stepSize in units of qty_
    Lots floor_lot(Lots q) const { return q / lot_ * lot_; }
    int quote_shift_ = 0;     // 8 - (price + quantity grid decimals): 1e-8 quote = p x q x 10^this
    int64_t base_scale_ = 1;  // 1e-8 base per qty unit

    int64_t quote_free_ = 0, quote_locked_ = 0, base_free_ = 0, base_locked_ = 0;
    int64_t next_order_id_ = 30000000001, next_trade_id_ = 3800000001;
    std::map<int64_t, Order> orders_;
    std::vector<int64_t> resting_;
    std::map<std::string, uint64_t, std::less<>> placed_per_client_id_;
    std::vector<Fill> fills_;
    std::vector<std::string> events_;
    std::string listen_key_;
    int64_t listen_key_expiry_ms_ = 0;
};

}  // namespace keel::venue
