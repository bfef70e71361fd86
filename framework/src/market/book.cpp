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

std::optional<Ticks> Book::spread() const {
    if (bids_.empty() || asks_.empty()) return std::nullopt;
    return asks_.back().price - bids_.back().price;
}

std::optional<double> Book::mid() const {
    if (bids_.empty() || asks_.empty()) return std::nullopt;
    Ticks bid = bids_.back().price, ask = asks_.back().price;
    // bid + spread / 2 stays exact where (bid + ask) could overflow.
    return static_cast<double>(bid) + static_cast<double>(ask - bid) / 2;
}

std::optional<double> Book::microprice() const {
    if (bids_.empty() || asks_.empty()) return std::nullopt;
    const Level &bid = bids_.back(), &ask = asks_.back();
    // Same value as (bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty), without the products
    // that overflow int64 on fine grids: bid + spread * bid_qty / (bid_qty + ask_qty).
    double w = static_cast<double>(bid.qty) /
               (static_cast<double>(bid.qty) + static_cast<double>(ask.qty));
    return static_cast<double>(bid.price) + static_cast<double>(ask.price - bid.price) * w;
}

size_t Book::top(Side side, std::span<Level> out) const {
    auto &v = side_of(side);
    size_t n = std::min(out.size(), v.size());
    std::copy_n(v.rbegin(), n, out.begin());
    return n;
}

Lots Book::volume_to_price(Side side, Ticks limit) const {
    auto &v = side_of(side);
    Lots total = 0;
    for (auto it = v.rbegin(); it != v.rend(); ++it) {
        if (side == Side::buy ? it->price < limit : it->price > limit) break;
        total += it->qty;
    }
    return total;
}

Book::Sweep Book::vwap_to_size(Side side, Lots qty) const {
    auto &v = side_of(side);
    Sweep s;
    // price * qty overflows int64 on fine grids (8-decimal BTC: 6e12 ticks x 1e8 lots per BTC);
    // 128 bits keep the notional exact, so the average is one rounding from the true value.
    __extension__ using Wide = __int128;
    Wide notional = 0;
    for (auto it = v.rbegin(); it != v.rend() && s.filled < qty; ++it) {
        Lots take = std::min(it->qty, qty - s.filled);
        notional += static_cast<Wide>(it->price) * take;
        s.filled += take;
        s.worst = it->price;
    }
    if (s.filled > 0) {
        // Whole ticks exactly, then the fraction: no precision lost to a 128-bit to double cast.
        Wide whole = notional / s.filled, rest = notional % s.filled;
        s.vwap = static_cast<double>(static_cast<Ticks>(whole)) +
                 static_cast<double>(static_cast<Lots>(rest)) / static_cast<double>(s.filled);
    }
    return s;
}

Lots Book::volume(Side side, size_t n) const {
    auto &v = side_of(side);
    // The top n levels are the last n elements: one bounded loop the compiler can unroll.
    size_t k = std::min(n, v.size());
    const Level *level = v.data() + (v.size() - k);
    Lots total = 0;
    for (size_t i = 0; i < k; ++i) total += level[i].qty;
    return total;
}

std::optional<double> Book::imbalance(size_t n) const {
    Lots bid = volume(Side::buy, n);
    Lots ask = volume(Side::sell, n);
    if (bid == 0 || ask == 0) return std::nullopt;
    return static_cast<double>(bid) / static_cast<double>(ask);
}

}  // namespace keel::market
