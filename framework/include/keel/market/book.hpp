#pragma once
// Level-2 order book of one instrument on integer ticks and lots. Each side is a BookSide (blocks
// of sorted levels, best at the end); BookSync and BookFeed keep it in step with a venue.

#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "keel/market/book_side.hpp"

namespace keel::market {

class Book {
  public:
    // Replaces the whole book. Levels need not be sorted; zero quantities are ignored.
    void apply_snapshot(std::span<const Level> bids, std::span<const Level> asks);
    // Absolute quantities; 0 deletes the level (deleting an unknown level is normal).
    void apply_delta(Side side, Level level) { (side == Side::buy ? bids_ : asks_).set(level); }
    // apply_delta() of each level in order.
    void apply_deltas(Side side, std::span<const Level> levels) {
        (side == Side::buy ? bids_ : asks_).apply(levels);
    }

    // Whole and uncrossed: the engine trades only on a valid book.
    bool valid() const;
    bool has_snapshot() const { return has_snapshot_; }
    void invalidate() { has_snapshot_ = false; }

    std::optional<Level> best_bid() const { return bids_.best(); }
    std::optional<Level> best_ask() const { return asks_.best(); }
    // Level i (0 = best) of a side, if it exists.
    std::optional<Level> level(Side side, size_t i) const { return side_of(side).at(i); }
    size_t depth(Side side) const { return side_of(side).size(); }
    // Calls f(Level) from the best level of a side outwards until f returns false.
    template <typename F>
    void visit(Side side, F &&f) const {
        side_of(side).visit(std::forward<F>(f));
    }

    // Queries on the book as it is (valid() or not: a crossed book gives a negative spread).
    // None allocates or calls through a pointer; each is O(levels it reads). Prices in ticks.

    // best ask - best bid; nullopt if either side is empty.
    std::optional<Ticks> spread() const;
    // (best bid + best ask) / 2, in ticks (x.5 when the spread is odd); nullopt if a side is empty.
    std::optional<double> mid() const;
    // Size-weighted mid, in ticks: (bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty). Leans
    // toward the side with less size (the price more likely to trade next). nullopt if a side is
    // empty.
    std::optional<double> microprice() const;

    // Copies up to out.size() levels of a side into out, best first; returns how many.
    size_t top(Side side, std::span<Level> out) const;
    // Total quantity on a side from the best level up to and including `limit` (bids priced >=
    // limit, asks priced <= limit): what an order on the other side limited at `limit` could take.
    Lots volume_to_price(Side side, Ticks limit) const;
    // Walks a side from the best level to fill `qty` (side buy = sell into the bids, side sell =
    // buy from the asks). A book thinner than `qty` gives the partial fill: `filled` < `qty`, and
    // `vwap` and `worst` describe what the visible book could fill. An empty side or qty <= 0
    // fills nothing (filled 0, vwap 0).
    struct Sweep {
        Lots filled = 0;  // <= qty
        double vwap = 0;  // average price of the filled part, in ticks
        Ticks worst = 0;  // price of the last level touched (the limit price that fills it)
        bool complete(Lots qty) const { return filled == qty && qty > 0; }
    };
    Sweep vwap_to_size(Side side, Lots qty) const;

    // Volume over the top n levels of each side: bid / ask. nullopt if either side is empty.
    std::optional<double> imbalance(size_t n) const {
        Lots bid = volume(Side::buy, n);
        Lots ask = volume(Side::sell, n);
        if (bid == 0 || ask == 0) return std::nullopt;
        return static_cast<double>(bid) / static_cast<double>(ask);
    }
    Lots volume(Side side, size_t n) const { return side_of(side).top_volume(n); }

  private:
    const BookSide &side_of(Side s) const { return s == Side::buy ? bids_ : asks_; }
    BookSide bids_{Side::buy};
    BookSide asks_{Side::sell};
    bool has_snapshot_ = false;
};

}  // namespace keel::market
