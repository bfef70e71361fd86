#pragma once
// One side of an L2 book: thousands of price levels, most updates near the top, and a steady
// trickle of inserts and deletes far from it (Binance's diff stream touches the whole book).
//
// A plain sorted vector pays a memmove of every level between the change and the end, which on a
// 5,000-level side costs microseconds per deep update. Here the levels live in fixed blocks of
// up to kBlock sorted levels, and a small index orders the blocks: an insert or delete moves at
// most one block's levels, plus a few block numbers when a block splits or empties. The best
// level is the last slot of the last block, so the top of the book is one contiguous run.
// Blocks are recycled through a free list, so a book that has reached its size no longer
// allocates.

#include <cstdint>
#include <optional>
#include <vector>

#include "keel/core/types.hpp"

namespace keel::market {

struct Level {
    Ticks price = 0;
    Lots qty = 0;
    bool operator==(const Level &) const = default;
};

class BookSide {
  public:
    static constexpr uint32_t kBlock = 64;

    explicit BookSide(Side side) : side_(side) {}

    void clear();
    // Absolute quantity at a price; 0 deletes (deleting an unknown level is a no-op).
    void set(Level level);

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::optional<Level> best() const {
        if (size_ == 0) return std::nullopt;
        const auto &b = blocks_[order_.back()];
        return out(b.levels[b.count - 1]);
    }
    // Level i from the best (0 = best); O(i / kBlock).
    std::optional<Level> at(size_t i) const;

    // Calls f(Level) from the best level outwards until f returns false or the side ends.
    template <typename F>
    void visit(F &&f) const {
        for (size_t j = order_.size(); j-- > 0;) {
            const auto &b = blocks_[order_[j]];
            for (uint32_t k = b.count; k-- > 0;)
                if (!f(out(b.levels[k]))) return;
        }
    }

  private:
    // Levels are stored by key, ascending from worst to best: the price for bids, minus the
    // price for asks. One comparison serves both sides.
    struct Block {
        uint32_t count = 0;
        Level levels[kBlock];
    };
    Ticks key(Ticks price) const { return side_ == Side::buy ? price : -price; }
    Level out(Level stored) const { return {key(stored.price), stored.qty}; }
    // Position in order_ of the block that holds (or would hold) key k.
    size_t find_block(Ticks k) const;
    uint32_t new_block();
    void split(size_t pos);
    void remove_block(size_t pos);

    Side side_;
    std::vector<Block> blocks_;    // storage, indexed by block number
    std::vector<uint32_t> order_;  // block numbers, worst to best; no block in it is empty
    std::vector<Ticks> max_key_;   // the largest key in each block of order_, for the search
    std::vector<uint32_t> free_;   // block numbers to reuse
    size_t size_ = 0;
};

}  // namespace keel::market
