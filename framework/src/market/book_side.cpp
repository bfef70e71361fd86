#include "keel/market/book_side.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace keel::market {
namespace {

// A binary search without branches on the data (conditional moves): updates land at random
// depths, so a branchy search mispredicts at nearly every step. `key(i)` is the i-th key.
template <typename Key>
size_t lower_bound(size_t n, Ticks k, Key key) {
    if (n == 0) return 0;
    size_t first = 0;
    while (n > 1) {
        size_t half = n / 2;
        first = key(first + half - 1) < k ? first + half : first;
        n -= half;
    }
    return first + (key(first) < k);
}

Level *lower_bound(Level *first, Level *last, Ticks k) {
    return first +
           lower_bound(size_t(last - first), k, [first](size_t i) { return first[i].price; });
}

}  // namespace

void LevelBlocks::clear() {
    free_.insert(free_.end(), order_.begin(), order_.end());
    order_.clear();
    max_key_.clear();
    size_ = 0;
}

size_t LevelBlocks::find_block(Ticks k) const {
    size_t n = order_.size();
    // Most updates are at the top: the last block.
    if (n == 1 || k > max_key_[n - 2]) return n - 1;
    return lower_bound(n - 1, k, [keys = max_key_.data()](size_t i) { return keys[i]; });
}

uint32_t LevelBlocks::new_block() {
    if (!free_.empty()) {
        auto b = free_.back();
        free_.pop_back();
        blocks_[b].count = 0;
        return b;
    }
    blocks_.emplace_back();
    free_.reserve(blocks_.capacity());  // so clear() can free every block without allocating
    return static_cast<uint32_t>(blocks_.size() - 1);
}

// Moves the upper half of a full block into a new block after it.
void LevelBlocks::split(size_t pos) {
    uint32_t fresh = new_block();  // may move blocks_: index, do not hold references across it
    auto &full = blocks_[order_[pos]];
    auto &upper = blocks_[fresh];
    constexpr uint32_t half = kBlock / 2;
    std::memcpy(upper.levels, full.levels + half, (kBlock - half) * sizeof(Level));
    upper.count = kBlock - half;
    full.count = half;
    order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(pos) + 1, fresh);
    max_key_.insert(max_key_.begin() + static_cast<std::ptrdiff_t>(pos) + 1, max_key_[pos]);
    max_key_[pos] = full.levels[half - 1].price;
}

void LevelBlocks::remove_block(size_t pos) {
    free_.push_back(order_[pos]);
    order_.erase(order_.begin() + static_cast<std::ptrdiff_t>(pos));
    max_key_.erase(max_key_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void LevelBlocks::set(Ticks k, Lots qty) {
    if (order_.empty()) {
        if (qty == 0) return;
        order_.push_back(new_block());
        max_key_.push_back(k);
        auto &b = blocks_[order_.back()];
        b.levels[0] = {k, qty};
        b.count = 1;
        size_ = 1;
        return;
    }
    size_t pos = find_block(k);
    auto *b = &blocks_[order_[pos]];
    Level *it = lower_bound(b->levels, b->levels + b->count, k);
    bool found = it != b->levels + b->count && it->price == k;

    if (qty == 0) {
        if (!found) return;
        std::memmove(it, it + 1, size_t(b->levels + b->count - it - 1) * sizeof(Level));
        --b->count;
        --size_;
        if (b->count == 0) return remove_block(pos);
        max_key_[pos] = b->levels[b->count - 1].price;
        // Keep blocks at least a quarter full, so a walk from the top stays short.
        constexpr uint32_t merge_below = kBlock / 2;
        auto merge = [&](size_t into, size_t from) {
            auto &dst = blocks_[order_[into]];
            auto &src = blocks_[order_[from]];
            std::memcpy(dst.levels + dst.count, src.levels, src.count * sizeof(Level));
            dst.count += src.count;
            max_key_[into] = max_key_[from];
            remove_block(from);
        };
        if (pos + 1 < order_.size() && b->count + blocks_[order_[pos + 1]].count <= merge_below)
            merge(pos, pos + 1);
        else if (pos > 0 && b->count + blocks_[order_[pos - 1]].count <= merge_below)
            merge(pos - 1, pos);
        return;
    }
    if (found) {
        it->qty = qty;
        return;
    }
    if (b->count == kBlock) {
        split(pos);
        if (k > max_key_[pos]) ++pos;
        b = &blocks_[order_[pos]];
        it = lower_bound(b->levels, b->levels + b->count, k);
    }
    std::memmove(it + 1, it, size_t(b->levels + b->count - it) * sizeof(Level));
    *it = {k, qty};
    ++b->count;
    ++size_;
    if (k > max_key_[pos]) max_key_[pos] = k;
}

// ---- BookSide --------------------------------------------------------------------------

void BookSide::clear() {
    // Only the words that hold levels, from the best down (qty_ is read only where set): a book
    // made of a few levels, as a candle backtest's is, clears a word or two, not the whole bitmap.
    size_t left = window_count_;
    for (size_t word = window_count_ ? slot(best_key_) >> 6 : kWords; left != 0; ++word) {
        left -= size_t(std::popcount(bits_[word]));
        bits_[word] = 0;
    }
    window_count_ = 0;
    deep_.clear();
}

Ticks BookSide::next_below(Ticks k) const {
    const size_t i = slot(k) + 1;
    size_t word = i >> 6;
    if (word == kWords) return top_ - kWindow;
    uint64_t below = bits_[word] & (~uint64_t{0} << (i & 63));
    while (below == 0) {
        if (++word == kWords) return top_ - kWindow;
        below = bits_[word];
    }
    return top_ - Ticks(word * 64 + size_t(std::countr_zero(below)));
}

void BookSide::move_window(Ticks key) {
    const Ticks top = key + kWindow / 4;
    if (!placed_) {
        qty_.assign(size_t(kWindow), 0);
        bits_.assign(kWords, 0);
        placed_ = true;
        top_ = top;
        return;
    }
    // Every caller moves the window up past all its levels, or moves an empty window down.
    moving_.clear();
    const Ticks below = top_ - kWindow;  // the first key under the window
    for (Ticks k = window_count_ ? best_key_ : below; k > below; k = next_below(k))
        moving_.push_back({k, qty_[slot(k)]});
    // Only the words that held them: every other bit is already clear (a snapshot into an
    // emptied side moves the window without touching the bitmap at all).
    for (const auto &l : moving_) bits_[slot(l.price) >> 6] = 0;
    window_count_ = 0;
    top_ = top;
    for (const auto &l : moving_) {
        if (l.price > top_ - kWindow)
            window_set(l.price, l.qty);
        else
            deep_.set(l.price, l.qty);
    }
    while (auto deep_best = deep_.top()) {
        if (deep_best->price <= top_ - kWindow) break;
        window_set(deep_best->price, deep_best->qty);
        deep_.set(deep_best->price, 0);
    }
}

void BookSide::set_outside(Ticks k, Lots qty) {
    if (window_count_ == 0) {  // empty side (the window is never empty while deep levels exist)
        if (qty == 0) return;
        move_window(k);
    } else if (k > top_) {  // better than the window can hold: move it up
        if (qty == 0) return;
        move_window(k);
    }
    if (k > top_ - kWindow) {
        window_set(k, qty);
        if (window_count_ == 0 && !deep_.empty()) move_window(deep_.top()->price);
    } else {
        deep_.set(k, qty);
    }
}

void BookSide::apply(std::span<const Level> levels) {
    size_t count = window_count_;
    Ticks best = best_key_, top = top_;
    Lots *qtys = qty_.data();
    uint64_t *bits = bits_.data();
    for (const auto &l : levels) {
        const Ticks k = key_of(l.price);
        if (count != 0 && k <= top && k > top - kWindow) [[likely]] {
            if (window_store(qtys, bits, size_t(top - k), k, l.qty, count, best))
                best = next_below(k);
            if (count != 0 || deep_.empty()) [[likely]]
                continue;
            // The window emptied while deeper levels remain: bring it down to them, as set().
            window_count_ = count;
            best_key_ = best;
            move_window(deep_.top()->price);
        } else {
            window_count_ = count;
            best_key_ = best;
            set_outside(k, l.qty);
        }
        count = window_count_;
        best = best_key_;
        top = top_;
        qtys = qty_.data();
        bits = bits_.data();
    }
    window_count_ = count;
    best_key_ = best;
}

std::optional<Level> BookSide::at(size_t i) const {
    std::optional<Level> found;
    visit([&](const Level &l) {
        if (i-- == 0) {
            found = l;
            return false;
        }
        return true;
    });
    return found;
}

}  // namespace keel::market
