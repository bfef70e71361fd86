#include "keel/market/book_side.hpp"

#include <algorithm>
#include <cstring>

namespace keel::market {
namespace {

// Binary searches without branches on the data (conditional moves): updates land at random
// depths, so a branchy search mispredicts at nearly every step.
Level *lower_bound(Level *first, Level *last, Ticks k) {
    size_t n = static_cast<size_t>(last - first);
    if (n == 0) return first;
    while (n > 1) {
        size_t half = n / 2;
        first = first[half - 1].price < k ? first + half : first;
        n -= half;
    }
    return first + (first->price < k);
}

size_t lower_bound(const Ticks *keys, size_t n, Ticks k) {
    const Ticks *first = keys;
    if (n == 0) return 0;
    while (n > 1) {
        size_t half = n / 2;
        first = first[half - 1] < k ? first + half : first;
        n -= half;
    }
    return static_cast<size_t>(first - keys) + (*first < k);
}

}  // namespace

void BookSide::clear() {
    free_.insert(free_.end(), order_.begin(), order_.end());
    order_.clear();
    max_key_.clear();
    size_ = 0;
}

size_t BookSide::find_block(Ticks k) const {
    size_t n = order_.size();
    // Most updates are at the top: the last block.
    if (n == 1 || k > max_key_[n - 2]) return n - 1;
    return lower_bound(max_key_.data(), n - 1, k);
}

uint32_t BookSide::new_block() {
    if (!free_.empty()) {
        auto b = free_.back();
        free_.pop_back();
        blocks_[b].count = 0;
        return b;
    }
    blocks_.emplace_back();
    return static_cast<uint32_t>(blocks_.size() - 1);
}

// Moves the upper half of a full block into a new block after it.
void BookSide::split(size_t pos) {
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

void BookSide::remove_block(size_t pos) {
    free_.push_back(order_[pos]);
    order_.erase(order_.begin() + static_cast<std::ptrdiff_t>(pos));
    max_key_.erase(max_key_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void BookSide::set(Level level) {
    const Ticks k = key(level.price);
    if (order_.empty()) {
        if (level.qty == 0) return;
        order_.push_back(new_block());
        max_key_.push_back(k);
        auto &b = blocks_[order_.back()];
        b.levels[0] = {k, level.qty};
        b.count = 1;
        size_ = 1;
        return;
    }
    size_t pos = find_block(k);
    auto *b = &blocks_[order_[pos]];
    Level *it = lower_bound(b->levels, b->levels + b->count, k);
    bool found = it != b->levels + b->count && it->price == k;

    if (level.qty == 0) {
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
        it->qty = level.qty;
        return;
    }
    if (b->count == kBlock) {
        split(pos);
        if (k > max_key_[pos]) ++pos;
        b = &blocks_[order_[pos]];
        it = lower_bound(b->levels, b->levels + b->count, k);
    }
    std::memmove(it + 1, it, size_t(b->levels + b->count - it) * sizeof(Level));
    *it = {k, level.qty};
    ++b->count;
    ++size_;
    if (k > max_key_[pos]) max_key_[pos] = k;
}

std::optional<Level> BookSide::at(size_t i) const {
    for (size_t j = order_.size(); j-- > 0;) {
        const auto &b = blocks_[order_[j]];
        if (i < b.count) return out(b.levels[b.count - 1 - i]);
        i -= b.count;
    }
    return std::nullopt;
}

}  // namespace keel::market
