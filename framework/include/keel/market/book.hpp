#pragma once
// Level-2 order book of one instrument on integer ticks and lots. Each side is a vector sorted so
// that the best level is at the back: updates near the top (most of the traffic) move little
// memory, and the top N levels are contiguous. The market-data issue adds venue sequence sync.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "keel/core/types.hpp"

namespace keel::market {

struct Level {
    Ticks price = 0;
    Lots qty = 0;
    bool operator==(const Level &) const = default;
};

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

    std::optional<Level> best_bid() const;
    std::optional<Level> best_ask() const;
    // Level i (0 = best) of a side, if it exists.
    std::optional<Level> level(Side side, size_t i) const;
    size_t depth(Side side) const { return side_of(side).size(); }

    // Volume over the top n levels of each side: bid / ask. nullopt if either side is empty.
    std::optional<double> imbalance(size_t n) const;
    Lots volume(Side side, size_t n) const;

  private:
    const std::vector<Level> &side_of(Side s) const { return s == Side::buy ? bids_ : asks_; }
    std::vector<Level> bids_;  // ascending price: best bid at back
    std::vector<Level> asks_;  // descending price: best ask at back
    bool has_snapshot_ = false;
};

}  // namespace keel::market
