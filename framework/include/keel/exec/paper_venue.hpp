#pragma once
// The host's fill simulator for paper trading: market orders walk the current book level by
// level (the unfilled rest of a market order is cancelled); limit orders take liquidity up to
// their price and rest with the remainder. A resting order joins the back of its price level's
// queue: the volume already there is ahead of it. Trades at its price eat the queue ahead first
// and only the excess fills it; the level shrinking below the volume ahead moves it up (a
// cancel ahead of us, conservatively); a trade or the opposite touch through its price fills it.
// Fees: taker on what trades on arrival, maker on resting fills. Our orders do not change the
// venue's book.
//
// Latency (account.order_latency, account.cancel_latency): an order reaches the venue its order
// latency after it was submitted (pending_new until then) and is matched against the book as it
// is then; the ack (accepted) is emitted at arrival. A cancel takes effect its cancel latency
// after it was asked (pending_cancel until then), never before its order arrived; fills in
// between still happen. Orders in flight count as working orders (open_orders, the gate's view).
// The engine calls advance() before every market event and when time passes. With both
// latencies zero (the default) everything happens at submit and cancel, as it always did.
//
// Amendments (a resting limit order's quantity and price) travel with the order latency and put
// the order at the back of its (new) level's queue, whatever changed, as Binance does (for a
// venue that keeps the place of a smaller order this is conservative); a price through the book
// takes liquidity first, as a new order would (a post-only order is cancelled instead). A new
// quantity at or below what filled meanwhile cancels the rest, as on Binance.
// docs/architecture.md and docs/execution.md list the assumptions.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keel/config/config.hpp"
#include "keel/exec/latency.hpp"
#include "keel/exec/order.hpp"
#include "keel/market/book.hpp"
#include "keel/risk/risk_gate.hpp"

namespace keel::exec {

class PaperVenue {
  public:
    // The book an arriving order meets: its instrument's, or nullptr while that book is not
    // usable (the order then waits for the first usable one).
    using Books = std::function<const market::Book *(InstrumentIndex)>;

    PaperVenue(const config::Account &account, const std::vector<InstrumentSpec> &instruments);

    // The only way in: an order the risk gate approved. Appends what happened to `out`. Without
    // order latency it is matched against `book` now; with it, `book` is not used: the order is
    // pending_new until it arrives (advance()).
    void submit(risk::ApprovedOrder order, OrderId id, const market::Book &book, TimeNs now,
                std::vector<OrderEvent> &out);
    // Cancels a working order (resting, or on its way); false if it is unknown, already final,
    // or a cancel of it is already on its way. Without cancel latency a resting order is
    // cancelled now; otherwise pending_cancel now and cancelled when the cancel arrives.
    bool cancel(OrderId id, TimeNs now, std::vector<OrderEvent> &out);
    // Amends a resting limit order: its quantity becomes what has filled plus the approved
    // change's quantity (its new working rest), its price the change's price. False with `why`
    // if it cannot be asked now: unknown, not at the venue yet, or a cancel or amendment of it
    // on its way.
    bool amend(risk::ApprovedOrder change, OrderId id, const market::Book &book, TimeNs now,
               std::vector<OrderEvent> &out, std::string &why);
    // Fills resting orders the new book state reaches, and moves their queue positions.
    void on_book(InstrumentIndex instrument, const market::Book &book, TimeNs now,
                 std::vector<OrderEvent> &out);
    // A public trade: at a resting order's price it eats the queue ahead, then fills the order.
    void on_trade(InstrumentIndex instrument, Ticks price, Lots qty, Side aggressor, TimeNs now,
                  std::vector<OrderEvent> &out);

    // Carries out, in the order they reach the venue (arrival time, then the order they were
    // sent), the orders and cancels that have arrived by `now`: an order is matched against its
    // instrument's book as it is now, which is the book at its arrival time when the caller
    // calls this before every market event. `inclusive`: also those arriving exactly at `now`
    // (false before a market event stamped `now`: the event came first). Events carry the
    // arrival time.
    void advance(TimeNs now, bool inclusive, const Books &books, std::vector<OrderEvent> &out);
    // When the next order or cancel arrives (one waiting for a usable book does not count);
    // nullopt if nothing is on its way.
    std::optional<TimeNs> next_arrival() const;
    // Something is on its way (possibly waiting for a book).
    bool in_flight() const { return !arrivals_.empty(); }
    // The session ends: everything on its way arrives now, in order, against the books as they
    // are (an order whose book is not usable is cancelled, NO_MARKET).
    void flush(TimeNs now, const Books &books, std::vector<OrderEvent> &out);

    // Working orders: resting, and on their way to the venue.
    int open_orders() const { return static_cast<int>(resting_.size() + flying_.size()); }
    // Working orders as the risk gate needs them for an order of `strategy` on `instrument`
    // (an amendment of `except`: all but that one).
    risk::OpenOrders open_orders(InstrumentIndex instrument, StrategyIndex strategy,
                                 OrderId except = 0) const;
    std::vector<OrderId> all_resting_ids() const;  // working orders, by id
    const Order *find_resting(OrderId id) const;   // a working order
    std::vector<OrderId> resting_ids(StrategyIndex strategy) const;

  private:
    struct Arrival {
        enum class Kind : uint8_t { order, cancel, amend } kind = Kind::order;
        OrderId id = 0;
        InstrumentIndex instrument = 0;
        bool waited = false;  // its book was not usable when it arrived
    };
    struct Flight {
        Order order;
        TimeNs arrives = 0;
    };

    static Lots level_qty(const market::Book &book, Side side, Ticks price);
    // An order at the venue: accepted (or refused), takes what it can, rests or ends.
    void execute(Order o, const market::Book &book, TimeNs now, std::vector<OrderEvent> &out);
    // Takes liquidity from the opposite side up to `limit` (0 = no limit) and records fills.
    void take(Order &order, const market::Book &book, Ticks limit, TimeNs now,
              std::vector<OrderEvent> &out);
    void fill(Order &order, Lots qty, Ticks price, bool maker, TimeNs now,
              std::vector<OrderEvent> &out);
    void cancel_resting(std::map<OrderId, Order>::iterator it, TimeNs now,
                        std::vector<OrderEvent> &out);
    struct Amendment {
        Lots qty = 0;  // the order's whole quantity, filled part included
        Ticks price = 0;
    };
    void apply_amendment(OrderId id, Amendment change, const market::Book &book, TimeNs now,
                         std::vector<OrderEvent> &out);
    OrderEvent event(const Order &order, TimeNs now) const;
    void schedule(TimeNs at, Arrival a) { arrivals_.emplace(std::pair(at, sent_++), a); }

    const std::vector<InstrumentSpec> &instruments_;
    std::vector<NotionalScale> scales_;
    Rate maker_fee_, taker_fee_;
    LatencySampler order_latency_, cancel_latency_;
    std::map<OrderId, Order> resting_;  // ordered by id: fills go in time priority
    std::map<OrderId, Flight> flying_;  // submitted, not at the venue yet (pending_new)
    // Orders and cancels on their way, by arrival time, then the order they were sent in.
    std::map<std::pair<TimeNs, uint64_t>, Arrival> arrivals_;
    uint64_t sent_ = 0;
    std::map<OrderId, TimeNs> cancelling_;   // cancels on their way, by order: when they arrive
    std::map<OrderId, Amendment> amending_;  // amendments on their way, by order
    std::vector<char> waiting_;              // by instrument: an arrival waits for a usable book
};

}  // namespace keel::exec
