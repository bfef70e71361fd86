#pragma once
// Orders at a real venue, through its plugin (mode: live): the order manager's side of ABI 1.2.
// Every order the risk gate approved gets a client order id unique to this deployment and keeps
// it for every retry, so the venue can refuse a duplicate but never place one twice. What the
// venue says (answers, the account stream, queries) is merged by client order id: a fill is
// booked once by its trade id however often it is reported, a final state waits until every
// fill it implies is booked, and a refusal is read by its reason:
//   rate limited, banned, transient   -> sent again later with the same id: at the time the
//                                        venue named (held, never given up), else after backoff
//                                        with jitter (given up after 8 sends)
//   unknown outcome, duplicate id     -> asked of the venue (query), never sent blindly again
//   "no such order" to that question  -> it never arrived: sent again with the same id
//   anything else                     -> rejected, with the venue's reason and text
// New orders are paced to the limits each venue's plugin declared (OrderPacer): an order beyond
// them waits here, in time priority, rather than being sent and refused. New orders for a venue
// whose plugin takes batches are collected until flush() and sent together (each still paced,
// each with its own client order id); resends and orders that waited for a limit go alone.
// An open order the venue reports whose client id an earlier run of this deployment made is
// adopted: it becomes a working order owned by no strategy (kNoStrategy), cancelled at once or
// kept (config::EarlierOrders). An order keel did not make is reported once and left alone.
// docs/execution.md describes the lifecycle.

#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <keel/plugin.h>

#include "keel/config/config.hpp"
#include "keel/exec/order.hpp"
#include "keel/exec/order_pacer.hpp"
#include "keel/risk/risk_gate.hpp"

namespace keel::exec {

// An update from a venue plugin, copied off the ABI struct.
struct VenueOrderUpdate {
    InstrumentIndex instrument = 0;
    std::string client_order_id, venue_order_id, message, fee_asset;
    uint32_t state = 0;  // keel_order_state; 0: a fill from the trade history
    uint32_t side = 0;   // keel_side
    uint32_t reason = KEEL_VENUE_OK;
    int32_t venue_code = 0;
    TimeNs ts = 0;
    Lots qty = 0, filled = 0, last_qty = 0;
    Ticks price = 0, last_price = 0;
    uint64_t trade_id = 0;
    bool maker = false;
    int64_t fee_amount = 0;  // KEEL_AMOUNT_SCALE units of fee_asset
    TimeNs retry_at = 0;  // a rate-limit refusal: when the venue takes requests again (0: unsaid)
};

// The reason on the `accepted` event of an order adopted from an earlier run.
inline constexpr const char *kAdopted = "ADOPTED";

class LiveVenue {
  public:
    // How to reach one instrument's venue plugin. Each returns false when the request could not
    // even be handed over (`why` says why).
    struct Link {
        size_t venue = 0;                 // which venue (its order limits), counted from 0
        keel_instrument_id venue_id = 0;  // the plugin's id for the instrument
        std::function<bool(const keel_order_request &, std::string &why)> place;
        // Optional (the plugin's place_orders): several of the venue's orders, in this order.
        // False: none was sent.
        std::function<bool(std::span<const keel_order_request>, std::string &why)> place_batch;
        std::function<bool(keel_instrument_id, const std::string &client_id, std::string &why)>
            cancel;
        std::function<bool(keel_instrument_id, const std::string &client_id, std::string &why)>
            query;
        // Optional (the plugin's amend_order): the order as it should now stand.
        std::function<bool(const keel_order_request &, std::string &why)> amend;
    };
    struct Stats {
        uint64_t sent = 0, resent = 0, queries = 0, duplicate_fills = 0, unknown_updates = 0;
        uint64_t late_updates = 0;  // about orders already final
        uint64_t paced = 0;         // orders that waited for a venue's order limit
        uint64_t batches = 0;       // place_batch calls
        uint64_t held = 0;     // refusals for the venue's rate limit, held until the time it named
        uint64_t amends = 0;   // amendments sent
        uint64_t adopted = 0;  // open orders of earlier runs taken over
        uint64_t foreign_orders = 0;  // orders keel did not make, each counted once
    };
    // This session: the client order ids it makes, "k" + deployment + run + "-" + order id (36
    // characters at most), and what it does with the open orders of an earlier run.
    struct Session {
        std::string deployment;  // the config's name: its first 8 characters of [A-Za-z0-9]
        std::string run;         // this run: 6 hex digits of its start time
        config::EarlierOrders earlier_orders = config::EarlierOrders::cancel;
        std::function<OrderId()> new_id;  // the engine's next order id, for adopted orders
    };

    LiveVenue(Session session, const std::vector<InstrumentSpec> &instruments,
              std::vector<Link> links);

    void submit(risk::ApprovedOrder order, OrderId id, TimeNs now, std::vector<OrderEvent> &out);
    // Asks the venue to cancel; false if the order is unknown or already final.
    bool cancel(OrderId id, TimeNs now, std::vector<OrderEvent> &out);
    // Asks the venue to amend an order it acknowledged: its quantity becomes what has filled plus
    // the approved change's quantity, its price the change's price. The outcome comes as an
    // `amended` event (with a reason if the venue refused). False with `why` if it cannot be
    // asked now: the venue cannot amend, the order is not acknowledged yet, a cancel or an
    // amendment of it is under way, or the venue's order limit is spent this instant.
    bool amend(risk::ApprovedOrder change, OrderId id, TimeNs now, std::string &why);
    void on_update(const VenueOrderUpdate &u, TimeNs now, std::vector<OrderEvent> &out);
    // Sends the new orders submitted since the last flush: together, per venue, where its plugin
    // takes batches. The engine calls it at the end of each pass of its loop.
    void flush(TimeNs now, std::vector<OrderEvent> &out);
    // New orders (flush), then resends, queries and timeouts that are due.
    void on_timer(TimeNs now, std::vector<OrderEvent> &out);
    // The venue's account stream came back after a drop: every working order there that the
    // venue acknowledged is asked about (it may have filled or ended unheard).
    void reconcile(size_t venue, TimeNs now);
    // True when no working order on `instrument` is waiting for the venue's word (unacknowledged,
    // asked about, or due to be sent, cancelled or asked again): keel's position is then all the
    // venue has told.
    bool settled(InstrumentIndex instrument) const;
    // One of a venue's limits on new orders (its plugin's declare_order_limit).
    void declare_order_limit(size_t venue, OrderLimit limit);

    int open_orders() const { return static_cast<int>(orders_.size()); }
    risk::OpenOrders open_orders(InstrumentIndex instrument, StrategyIndex strategy,
                                 OrderId except = 0) const;
    std::vector<OrderId> all_resting_ids() const;
    const Order *find_resting(OrderId id) const;
    std::vector<OrderId> resting_ids(StrategyIndex strategy) const;
    std::string client_id(OrderId id) const;
    // True when another run of this deployment made `client_id`: "k" + deployment, 6 hex digits
    // that are not this run's, "-", the order id's digits.
    bool made_by_earlier_run(std::string_view client_id) const;
    const Stats &stats() const { return stats_; }

  private:
    // place: submitted, waiting for flush().
    enum class Next : uint8_t { none, place, resend, query, cancel };
    struct Working {
        Order order;
        std::string client_id;
        std::set<uint64_t> trade_ids;  // fills already booked
        Lots venue_filled = 0;         // what the venue says has filled
        // A final state the venue reported before all its fills were booked.
        std::optional<OrderStatus> venue_final;
        bool acked = false, cancel_wanted = false;
        bool cancel_announced = false;  // pending_cancel emitted
        bool querying = false;  // a question is out: its refusal says nothing about the order
        bool amending = false;  // an amendment is out: the next refusal or change is its answer
        bool waiting = false;   // held back by the venue's order limits
        Next next = Next::none;
        // Adopted: the venue's time up to which its fills were an earlier run's (not booked).
        std::optional<TimeNs> adopted_through;
        TimeNs due = 0, last_heard = 0;
        int attempts = 0;
        std::string last_reason;
    };

    // Sends `w` alone once its venue's limits let it.
    void send(Working &w, TimeNs now, std::vector<OrderEvent> &out);
    // Hands orders of one venue, already paced, to its plugin: in one call when there are
    // several and it takes batches, else one by one.
    void hand_over(std::span<Working *const> orders, TimeNs now, std::vector<OrderEvent> &out);
    keel_order_request request(const Working &w) const;
    // True (and `w` scheduled) when `w` must wait for its venue's order limits.
    bool pace(Working &w, TimeNs now);
    void stop_waiting(Working &w);
    void ask(Working &w, TimeNs now);
    // Emits pending_cancel and asks the venue to cancel an order it acknowledged.
    void request_cancel(Working &w, TimeNs now, std::vector<OrderEvent> &out);
    // Schedules `next` for `w`: at `retry_at` (the venue's word) if that is still ahead, else
    // after an exponential backoff with jitter.
    void later(Working &w, Next next, TimeNs now, TimeNs retry_at = 0);
    void fill(Working &w, const VenueOrderUpdate &u, TimeNs now, std::vector<OrderEvent> &out);
    // A report about a client id this session does not know: adopted, reported as foreign, or
    // counted as unknown.
    void on_stranger(const VenueOrderUpdate &u, TimeNs now, std::vector<OrderEvent> &out);
    void adopt(const VenueOrderUpdate &u, TimeNs now, std::vector<OrderEvent> &out);
    // Emits the final state once every fill the venue reported is booked.
    void settle(Working &w, TimeNs now, std::vector<OrderEvent> &out);
    void finish(OrderId id, OrderStatus status, TimeNs now, std::string reason, std::string message,
                std::vector<OrderEvent> &out);
    OrderEvent event(const Working &w, OrderStatus status, TimeNs now) const;

    Session session_;
    const std::vector<InstrumentSpec> &instruments_;
    std::vector<Link> links_;
    std::vector<NotionalScale> scales_;
    std::vector<OrderPacer> pacers_;     // by venue
    std::vector<size_t> waiting_;        // by venue: orders held back by its limits
    std::map<OrderId, Working> orders_;  // working orders, by id (time priority)
    std::vector<OrderId> unsent_;        // submitted since the last flush, in order
    std::unordered_map<std::string, OrderId> by_client_;
    std::set<std::string> finished_;  // client ids of final orders: late reports are ignored
    std::set<std::string> foreign_;   // client ids of orders keel did not make, reported once
    std::mt19937_64 jitter_{0x6b65656c};
    Stats stats_;
};

}  // namespace keel::exec
