#pragma once
// The host's fill simulator for paper trading: market orders walk the current book level by
// level (the unfilled rest of a market order is cancelled); limit orders take liquidity up to
// their price and rest with the remainder. A resting order joins the back of its price level's
// queue: the volume already there is ahead of it. Trades at its price eat the queue ahead first
// and only the excess fills it; the level shrinking below the volume ahead moves it up (a
// cancel ahead of us, conservatively); a trade or the opposite touch through its price fills it.
// Fees: taker on what trades at submission, maker on resting fills. Our orders do not change
// the venue's book. Latency is not modelled yet (docs/architecture.md lists the assumptions).

#include <map>
#include <vector>

#include "keel/config/config.hpp"
#include "keel/exec/order.hpp"
#include "keel/market/book.hpp"
#include "keel/risk/risk_gate.hpp"

namespace keel::exec {

class PaperVenue {
  public:
    PaperVenue(const config::Account &account, const std::vector<InstrumentSpec> &instruments);

    // The only way in: an order the risk gate approved. Appends what happened to `out`.
    void submit(risk::ApprovedOrder order, OrderId id, const market::Book &book, TimeNs now,
                std::vector<OrderEvent> &out);
    // Cancels a resting order; false if it is unknown or already final.
    bool cancel(OrderId id, TimeNs now, std::vector<OrderEvent> &out);
    // Fills resting orders the new book state reaches, and moves their queue positions.
    void on_book(InstrumentIndex instrument, const market::Book &book, TimeNs now,
                 std::vector<OrderEvent> &out);
    // A public trade: at a resting order's price it eats the queue ahead, then fills the order.
    void on_trade(InstrumentIndex instrument, Ticks price, Lots qty, Side aggressor, TimeNs now,
                  std::vector<OrderEvent> &out);

    int open_orders() const { return static_cast<int>(resting_.size()); }
    // Resting orders as the risk gate needs them for an order of `strategy` on `instrument`.
    risk::OpenOrders open_orders(InstrumentIndex instrument, StrategyIndex strategy) const;
    std::vector<OrderId> all_resting_ids() const;
    const Order *find_resting(OrderId id) const;
    std::vector<OrderId> resting_ids(StrategyIndex strategy) const;

  private:
    static Lots level_qty(const market::Book &book, Side side, Ticks price);
    // Takes liquidity from the opposite side up to `limit` (0 = no limit) and records fills.
    void take(Order &order, const market::Book &book, Ticks limit, TimeNs now,
              std::vector<OrderEvent> &out);
    void fill(Order &order, Lots qty, Ticks price, bool maker, TimeNs now,
              std::vector<OrderEvent> &out);
    OrderEvent event(const Order &order, TimeNs now) const;

    const std::vector<InstrumentSpec> &instruments_;
    std::vector<NotionalScale> scales_;
    Rate maker_fee_, taker_fee_;
    std::map<OrderId, Order> resting_;  // ordered by id: fills go in time priority
};

}  // namespace keel::exec
