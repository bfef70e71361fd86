#pragma once
// Level-2 order book of one instrument on integer ticks and lots. Each side is a BookSide (blocks
// of sorted levels, best at the end); BookSync and BookFeed keep it in step with a venue.

#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "keel/market/book_side.hpp"

namespace keel::market {

class Book {
  public:
    // Replaces the whole book. Levels need not be sorted; zero quantities are ignored.
    void apply_snapshot(std::span<const Level> bids, std::span<const Level> asks);
    // Absolute quantities; 0 deletes the level (deleting an unknown level is normal).
    void apply_delta(Side side, Level level);

    // Whole and uncrossed: the engine trades only on a valid book.
    bool valid() const;
    bool has_snapshot() const { return has_snapshot_; }
    void invalidate() { has_snapshot_ = false; }

    std::optional<Level> best_bid() const { return bids_.best(); }
    std::optional<Level> best_ask() const { return asks_.best(); }
    // Level i (0 = best) of a side, if it exists.
    std::optional<Level> level(Side side, size_t i) const { return side_of(side).at(i); }
    size_t depth(Side side) const { return side_of(side).size(); }
    // Calls f(Level) from the best level of a side outwards until f returns false.
    template <typename F>
    void visit(Side side, F &&f) const {
        side_of(side).visit(std::forward<F>(f));
    }

    // Volume over the top n levels of each side: bid / ask. nullopt if either side is empty.
    std::optional<double> imbalance(size_t n) const;
    Lots volume(Side side, size_t n) const;

  private:
    const BookSide &side_of(Side s) const { return s == Side::buy ? bids_ : asks_; }
    BookSide bids_{Side::buy};
    BookSide asks_{Side::sell};
    bool has_snapshot_ = false;
};

}  // namespace keel::market
