#pragma once
// The host's fill simulator for paper trading, first version: market orders walk the current book
// level by level (the unfilled rest of a market order is cancelled); limit orders take liquidity
// up to their price and rest with the remainder; a resting limit fills at its own price once the
// opposite touch reaches it. Fees: taker on what trades at submission, maker on resting fills.
// Our orders do not change the venue's book. Queue position, latency and stop triggers arrive
// with the execution issue (docs/architecture.md lists the assumptions).

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
    // Fills resting orders the new book state reaches.
    void on_book(InstrumentIndex instrument, const market::Book &book, TimeNs now,
                 std::vector<OrderEvent> &out);

    int open_orders() const { return static_cast<int>(resting_.size()); }
    // Resting orders as the risk gate needs them for an order of `strategy` on `instrument`.
    risk::OpenOrders open_orders(InstrumentIndex instrument, StrategyIndex strategy) const;
    std::vector<OrderId> all_resting_ids() const;
    const Order *find_resting(OrderId id) const;
    std::vector<OrderId> resting_ids(StrategyIndex strategy) const;

  private:
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
