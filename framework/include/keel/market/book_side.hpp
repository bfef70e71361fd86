#pragma once
// One side of an L2 book: thousands of price levels, most updates within a few hundred ticks of
// the top, and a steady trickle of inserts and deletes far from it (Binance's diff stream touches
// the whole book: on the USD-M BTCUSDT capture, 94 % of updates are within 10,000 ticks of the
// best and 6 % beyond). A sorted vector pays a memmove of every level between the change and the
// top, microseconds per deep update on a 5,000-level side; a tree pays a cache miss per step.

#include <bit>
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
// at a time. Both count down from the window's top key, so that walk takes the lowest set bit
// each step (count trailing zeros, clear the lowest bit: no chain through a bit scan).
// Everything deeper lives in LevelBlocks. When the best moves out of the window, the window
// moves (rare: it leaves a quarter of its width above the best).
class BookSide {
  public:
    static constexpr Ticks kWindow = 1 << 14;

    explicit BookSide(Side side) : side_(side) {}

    void clear();
    // Absolute quantity at a price; 0 deletes (deleting an unknown level is a no-op).
    void set(Level level) {
        const Ticks k = key_of(level.price);
        // Almost every update lands in the window: inline. The rest moves the window or goes deep.
        if (window_count_ != 0 && k <= top_ && k > top_ - kWindow) [[likely]] {
            window_set(k, level.qty);
            // The window emptied while deeper levels remain: bring it down to them.
            if (window_count_ == 0 && !deep_.empty()) [[unlikely]]
                move_window(deep_.top()->price);
            return;
        }
        set_outside(k, level.qty);
    }

    // set() of each level in order. The window's state stays in registers across the levels:
    // set() reloads it after every store into qty_, which the compiler must assume aliases it.
    void apply(std::span<const Level> levels);

    size_t size() const { return window_count_ + deep_.size(); }
    bool empty() const { return size() == 0; }
    std::optional<Level> best() const {
        if (window_count_) return Level{price_of(best_key_), qty_[slot(best_key_)]};
        if (auto l = deep_.top()) return Level{price_of(l->price), l->qty};
        return std::nullopt;
    }
    // Level i from the best (0 = best).
    std::optional<Level> at(size_t i) const;
    // Total quantity of the best n levels (the imbalance query). Inline: a handful of levels.
    Lots top_volume(size_t n) const {
        Lots total = 0;
        if (n == 0) return 0;
        auto add = [&](Lots qty) {
            total += qty;
            return --n > 0;
        };
        const Lots *qtys = qty_.data();  // not reloaded at each level
        if (walk_window([&](size_t i) { return add(qtys[i]); }))
            deep_.visit([&](const Level &l) { return add(l.qty); });
        return total;
    }

    // Calls f(Level) from the best level outwards until f returns false or the side ends.
    template <typename F>
    void visit(F &&f) const {
        if (!walk_window([&](size_t i) { return f(Level{price_of(top_ - Ticks(i)), qty_[i]}); }))
            return;
        deep_.visit([&](const Level &l) { return f(Level{price_of(l.price), l.qty}); });
    }

  private:
    static constexpr size_t kWords = size_t(kWindow) / 64;
    // Calls f(slot) for each occupied key of the window, best first, a word of the bitmap at a
    // time; false if f stopped the walk.
    template <typename F>
    bool walk_window(F &&f) const {
        if (window_count_ == 0) return true;
        size_t word = slot(best_key_) >> 6, first = word * 64;  // first: the word's first slot
        uint64_t bits = bits_[word];  // no key above the best: no bit below its slot
        for (;;) {
            while (bits) {
                const size_t i = first + unsigned(std::countr_zero(bits));
                bits &= bits - 1;
                if (!f(i)) return false;
            }
            if (++word == kWords) return true;
            first += 64;
            bits = bits_[word];
        }
    }
    // Index of a window key in qty_ and the bitmap: 0 for the window's top key.
    size_t slot(Ticks key) const { return static_cast<size_t>(top_ - key); }
    Ticks key_of(Ticks price) const { return side_ == Side::buy ? price : -price; }
    Ticks price_of(Ticks key) const { return side_ == Side::buy ? key : -key; }
    // The next occupied key of the window below k, or top_ - kWindow if there is none.
    Ticks next_below(Ticks k) const;
    // Places the window so that `key` sits a quarter of its width below the top, moving the
    // levels that change sides between the window and the deep levels.
    void move_window(Ticks key);
    // set() of a key in the window: one store and a bit, with no branch on whether the level
    // existed or is deleted (diffs mix those cases unpredictably). A deleted level's quantity is
    // stored too, and never read.
    void window_set(Ticks key, Lots qty) {
        if (window_store(qty_.data(), bits_.data(), slot(key), key, qty, window_count_, best_key_))
            best_key_ = next_below(key);
    }
    // window_set() on the window's state as given; true if it deleted the best level while
    // others remain (the caller then looks for the new best with next_below).
    static bool window_store(Lots *qtys, uint64_t *bits, size_t i, Ticks key, Lots qty,
                             size_t &count, Ticks &best) {
        uint64_t &word = bits[i >> 6];
        const uint64_t bit = uint64_t{1} << (i & 63);
        const bool had = (word & bit) != 0, has = qty != 0;
        const bool was_empty = count == 0;
        qtys[i] = qty;
        // Masks, not conditions: GCC turns those into branches, and whether a level existed or
        // is deleted is unpredictable.
        word = (word & ~bit) | (bit & (uint64_t{0} - uint64_t(has)));
        count = count + size_t(has) - size_t(had);
        const bool better = has & (was_empty | (key > best));
        best ^= (best ^ key) & (Ticks{0} - Ticks(better));
        return had & !has & (key == best) & (count != 0);
    }
    void set_outside(Ticks key, Lots qty);

    Side side_;
    Ticks top_ = 0;               // the window holds keys top_ - kWindow + 1 .. top_
    bool placed_ = false;         // the window has been placed (the arrays exist)
    std::vector<Lots> qty_;       // by slot
    std::vector<uint64_t> bits_;  // occupancy of qty_, one bit per slot
    size_t window_count_ = 0;
    Ticks best_key_ = 0;         // the largest occupied key in the window, if window_count_
    LevelBlocks deep_;           // keys below the window; none are above it
    std::vector<Level> moving_;  // scratch for move_window
};

}  // namespace keel::market
