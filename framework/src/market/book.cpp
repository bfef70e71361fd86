#include "keel/market/book.hpp"

#include <algorithm>

namespace keel::market {
namespace {

// Orders a side so its best level is at the back.
bool before(Side side, Ticks a, Ticks b) {
    return side == Side::buy ? a < b : a > b;
}

void upsert(std::vector<Level> &levels, Side side, Level lv) {
    auto it =
        std::lower_bound(levels.begin(), levels.end(), lv.price,
                         [side](const Level &l, Ticks p) { return before(side, l.price, p); });
    bool found = it != levels.end() && it->price == lv.price;
    if (lv.qty == 0) {
        if (found) levels.erase(it);
    } else if (found) {
        it->qty = lv.qty;
    } else {
        levels.insert(it, lv);
    }
}

}  // namespace

void Book::apply_snapshot(std::span<const Level> bids, std::span<const Level> asks) {
    bids_.clear();
    asks_.clear();
    for (auto &l : bids)
        if (l.qty > 0) bids_.push_back(l);
    for (auto &l : asks)
        if (l.qty > 0) asks_.push_back(l);
    std::sort(bids_.begin(), bids_.end(), [](auto &a, auto &b) { return a.price < b.price; });
    std::sort(asks_.begin(), asks_.end(), [](auto &a, auto &b) { return a.price > b.price; });
    has_snapshot_ = true;
}

void Book::apply_delta(Side side, Level level) {
    upsert(side == Side::buy ? bids_ : asks_, side, level);
}

bool Book::valid() const {
    return has_snapshot_ && !bids_.empty() && !asks_.empty() &&
           bids_.back().price < asks_.back().price;
}

std::optional<Level> Book::best_bid() const {
    if (bids_.empty()) return std::nullopt;
    return bids_.back();
}

std::optional<Level> Book::best_ask() const {
    if (asks_.empty()) return std::nullopt;
    return asks_.back();
}

std::optional<Level> Book::level(Side side, size_t i) const {
    auto &v = side_of(side);
    if (i >= v.size()) return std::nullopt;
    return v[v.size() - 1 - i];
}

Lots Book::volume(Side side, size_t n) const {
    auto &v = side_of(side);
    Lots total = 0;
    for (size_t i = 0; i < n && i < v.size(); ++i) total += v[v.size() - 1 - i].qty;
    return total;
}

std::optional<double> Book::imbalance(size_t n) const {
    Lots bid = volume(Side::buy, n);
    Lots ask = volume(Side::sell, n);
    if (bid == 0 || ask == 0) return std::nullopt;
    return static_cast<double>(bid) / static_cast<double>(ask);
}

}  // namespace keel::market
