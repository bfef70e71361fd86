#pragma once
// Keeps a venue's new orders inside the limits its plugin declared (ABI 1.3
// declare_order_limit: at most N orders in any interval). Send times are counted over a sliding
// window, which is stricter than a venue's fixed windows and so stays inside them whatever their
// alignment; each window is a guard second longer than declared, for the spread between when
// keel sends and when the venue counts.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

#include "keel/core/types.hpp"

namespace keel::exec {

struct OrderLimit {
    uint32_t max_orders = 0;
    TimeNs interval = 0;
};

class OrderPacer {
  public:
    static constexpr TimeNs kGuard = 1'000'000'000;

    // Replaces the limit of the same interval, or adds it. Ignores an empty limit.
    void declare(OrderLimit limit) {
        if (limit.max_orders == 0 || limit.interval <= 0) return;
        for (auto &l : limits_)
            if (l.interval == limit.interval) {
                l = limit;
                return;
            }
        limits_.push_back(limit);
    }
    const std::vector<OrderLimit> &limits() const { return limits_; }

    // The earliest time, `now` or later, at which one more order stays inside every limit.
    TimeNs next_slot(TimeNs now) const {
        TimeNs slot = now;
        for (const auto &l : limits_) {
            const TimeNs window = l.interval + kGuard;
            auto first = std::upper_bound(sent_.begin(), sent_.end(), now - window);
            const auto inside = static_cast<size_t>(sent_.end() - first);
            // One more fits once the oldest sends that fill the window have left it.
            if (inside >= l.max_orders)
                slot = std::max(slot, *(first + (inside - l.max_orders)) + window);
        }
        return slot;
    }

    // An order went out at `now` (times never go backwards here: a clock step back counts as now).
    void sent(TimeNs now) {
        if (limits_.empty()) return;
        if (!sent_.empty()) now = std::max(now, sent_.back());
        sent_.push_back(now);
        TimeNs longest = 0;
        for (const auto &l : limits_) longest = std::max(longest, l.interval + kGuard);
        while (!sent_.empty() && sent_.front() <= now - longest) sent_.pop_front();
    }

  private:
    std::vector<OrderLimit> limits_;
    std::deque<TimeNs> sent_;  // send times inside the longest window, oldest first
};

}  // namespace keel::exec
