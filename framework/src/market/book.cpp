#include "keel/market/book.hpp"

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

void Book::apply_delta(Side side, Level level) {
    (side == Side::buy ? bids_ : asks_).set(level);
}

bool Book::valid() const {
    return has_snapshot_ && !bids_.empty() && !asks_.empty() &&
           bids_.best()->price < asks_.best()->price;
}

Lots Book::volume(Side side, size_t n) const {
    if (n == 0) return 0;
    Lots total = 0;
    size_t taken = 0;
    side_of(side).visit([&](const Level &l) {
        total += l.qty;
        return ++taken < n;
    });
    return total;
}

std::optional<double> Book::imbalance(size_t n) const {
    Lots bid = volume(Side::buy, n);
    Lots ask = volume(Side::sell, n);
    if (bid == 0 || ask == 0) return std::nullopt;
    return static_cast<double>(bid) / static_cast<double>(ask);
}

}  // namespace keel::market
