#include "keel/market/book.hpp"

#include <algorithm>

namespace keel::market {

namespace {

// The best level first, so the side's window is placed around it once and never moves.
void load(BookSide &side, Side s, std::span<const Level> levels) {
    side.clear();
    const Level *best = nullptr;
    for (auto &l : levels)
        if (l.qty > 0 &&
            (!best || (s == Side::buy ? l.price > best->price : l.price < best->price)))
            best = &l;
    if (!best) return;
    side.set(*best);
    for (auto &l : levels)
        if (l.qty > 0) side.set(l);
}

}  // namespace

void Book::apply_snapshot(std::span<const Level> bids, std::span<const Level> asks) {
    load(bids_, Side::buy, bids);
    load(asks_, Side::sell, asks);
    has_snapshot_ = true;
}

bool Book::valid() const {
    return has_snapshot_ && !bids_.empty() && !asks_.empty() &&
           bids_.best()->price < asks_.best()->price;
}

std::optional<Ticks> Book::spread() const {
    if (bids_.empty() || asks_.empty()) return std::nullopt;
    return asks_.best()->price - bids_.best()->price;
}

std::optional<double> Book::mid() const {
    if (bids_.empty() || asks_.empty()) return std::nullopt;
    Ticks bid = bids_.best()->price, ask = asks_.best()->price;
    // bid + spread / 2 stays exact where (bid + ask) could overflow.
    return static_cast<double>(bid) + static_cast<double>(ask - bid) / 2;
}

std::optional<double> Book::microprice() const {
    if (bids_.empty() || asks_.empty()) return std::nullopt;
    Level bid = *bids_.best(), ask = *asks_.best();
    // Same value as (bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty), without the products
    // that overflow int64 on fine grids: bid + spread * bid_qty / (bid_qty + ask_qty).
    double w = static_cast<double>(bid.qty) /
               (static_cast<double>(bid.qty) + static_cast<double>(ask.qty));
    return static_cast<double>(bid.price) + static_cast<double>(ask.price - bid.price) * w;
}

size_t Book::top(Side side, std::span<Level> out) const {
    size_t n = 0;
    if (out.empty()) return 0;
    side_of(side).visit([&](const Level &l) {
        out[n++] = l;
        return n < out.size();
    });
    return n;
}

Lots Book::volume_to_price(Side side, Ticks limit) const {
    Lots total = 0;
    side_of(side).visit([&](const Level &l) {
        if (side == Side::buy ? l.price < limit : l.price > limit) return false;
        total += l.qty;
        return true;
    });
    return total;
}

Book::Sweep Book::vwap_to_size(Side side, Lots qty) const {
    Sweep s;
    if (qty <= 0) return s;
    // price * qty overflows int64 on fine grids (8-decimal BTC: 6e12 ticks x 1e8 lots per BTC);
    // 128 bits keep the notional exact, so the average is one rounding from the true value.
    __extension__ using Wide = __int128;
    Wide notional = 0;
    side_of(side).visit([&](const Level &l) {
        Lots take = std::min(l.qty, qty - s.filled);
        notional += static_cast<Wide>(l.price) * take;
        s.filled += take;
        s.worst = l.price;
        return s.filled < qty;
    });
    if (s.filled > 0) {
        // Whole ticks exactly, then the fraction: no precision lost to a 128-bit to double cast.
        Wide whole = notional / s.filled, rest = notional % s.filled;
        s.vwap = static_cast<double>(static_cast<Ticks>(whole)) +
                 static_cast<double>(static_cast<Lots>(rest)) / static_cast<double>(s.filled);
    }
    return s;
}

}  // namespace keel::market
