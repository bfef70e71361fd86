#pragma once
// One side of an L2 book: thousands of price levels, most updates within a few hundred ticks of
// the top, and a steady trickle of inserts and deletes far from it (Binance's diff stream touches
// the whole book: on the USD-M BTCUSDT capture, 94 % of updates are within 10,000 ticks of the
// best and 6 % beyond). A sorted vector pays a memmove of every level between the change and the
// top, microseconds per deep update on a 5,000-level side; a tree pays a cache miss per step.

#include <bit>
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

// Levels ordered by key (ascending = worse to better), in fixed blocks of up to kBlock sorted
// levels with a small index ordering the blocks: an insert or delete moves at most one block's
// levels, plus a few block numbers when a block splits or empties. Blocks are recycled through
// a free list, so once the structure has reached its size it no longer allocates.
class LevelBlocks {
  public:
    static constexpr uint32_t kBlock = 64;

    void clear();
    // Absolute quantity at a key; 0 deletes (deleting an unknown key is a no-op).
    void set(Ticks key, Lots qty);
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    // The largest key (the best level) and its quantity.
    std::optional<Level> top() const {
        if (size_ == 0) return std::nullopt;
        const auto &b = blocks_[order_.back()];
        return b.levels[b.count - 1];
    }
    // Calls f(Level) from the largest key down until f returns false; false if f stopped it.
    template <typename F>
    bool visit(F &&f) const {
        for (size_t j = order_.size(); j-- > 0;) {
            const auto &b = blocks_[order_[j]];
            for (uint32_t k = b.count; k-- > 0;)
                if (!f(b.levels[k])) return false;
        }
        return true;
    }

  private:
    struct Block {
        uint32_t count = 0;
        Level levels[kBlock];  // ascending key; Level::price holds the key
    };
    size_t find_block(Ticks k) const;
    uint32_t new_block();
    void split(size_t pos);
    void remove_block(size_t pos);

    std::vector<Block> blocks_;    // storage, indexed by block number
    std::vector<uint32_t> order_;  // block numbers, ascending keys; none of them empty
    std::vector<Ticks> max_key_;   // the largest key in each block of order_, for the search
    std::vector<uint32_t> free_;   // block numbers to reuse
    size_t size_ = 0;
};

// One side of the book. Levels are kept by key: the price for bids and minus the price for
// asks, so that a larger key is always a better level. The levels within kWindow ticks below the
// best (where almost all traffic is) live in a dense array indexed by price with an occupancy
// bitmap: an update there is one store, and walking down from the best skips empty ticks a word
// at a time. Everything deeper lives in LevelBlocks. When the best moves out of the window, the
// window moves (rare: it leaves a quarter of its width above the best).
class BookSide {
  public:
    static constexpr Ticks kWindow = 1 << 14;

    explicit BookSide(Side side) : side_(side) {}

    void clear();
    // Absolute quantity at a price; 0 deletes (deleting an unknown level is a no-op).
    void set(Level level);

    size_t size() const { return window_count_ + deep_.size(); }
    bool empty() const { return size() == 0; }
    std::optional<Level> best() const {
        if (window_count_) return Level{price_of(best_key_), qty_[size_t(best_key_ - low_)]};
        if (auto l = deep_.top()) return Level{price_of(l->price), l->qty};
        return std::nullopt;
    }
    // Level i from the best (0 = best).
    std::optional<Level> at(size_t i) const;
    // Total quantity of the best n levels (the imbalance query).
    Lots top_volume(size_t n) const;

    // Calls f(Level) from the best level outwards until f returns false or the side ends.
    template <typename F>
    void visit(F &&f) const {
        if (!walk_window([&](size_t i) { return f(Level{price_of(low_ + Ticks(i)), qty_[i]}); }))
            return;
        deep_.visit([&](const Level &l) { return f(Level{price_of(l.price), l.qty}); });
    }

  private:
    static constexpr size_t kWords = size_t(kWindow) / 64;
    // Calls f(index into qty_) for each occupied key of the window, best first, a word of the
    // bitmap at a time; false if f stopped the walk.
    template <typename F>
    bool walk_window(F &&f) const {
        if (window_count_ == 0) return true;
        auto top = static_cast<size_t>(best_key_ - low_);
        size_t word = top >> 6;
        uint64_t bits = bits_[word] & (~uint64_t{0} >> (63 - (top & 63)));
        for (;;) {
            while (bits) {
                size_t bit = 63 - size_t(std::countl_zero(bits));
                bits &= ~(uint64_t{1} << bit);
                if (!f(word * 64 + bit)) return false;
            }
            if (word == 0) return true;
            bits = bits_[--word];
        }
    }
    Ticks key_of(Ticks price) const { return side_ == Side::buy ? price : -price; }
    Ticks price_of(Ticks key) const { return side_ == Side::buy ? key : -key; }
    // The next occupied key of the window below k, or low_ - 1 if there is none.
    Ticks next_below(Ticks k) const;
    // Places the window so that `key` sits a quarter of its width below the top, moving the
    // levels that change sides between the window and the deep levels.
    void move_window(Ticks key);
    void window_set(Ticks key, Lots qty);

    Side side_;
    Ticks low_ = 0;        // the window holds keys low_ .. low_ + kWindow - 1
    bool placed_ = false;  // the window has been placed (the arrays exist)
    std::vector<Lots> qty_;
    std::vector<uint64_t> bits_;  // occupancy of qty_, one bit per key
    size_t window_count_ = 0;
    Ticks best_key_ = 0;         // the largest occupied key in the window, if window_count_
    LevelBlocks deep_;           // keys below the window; none are above it
    std::vector<Level> moving_;  // scratch for move_window
};

}  // namespace keel::market
