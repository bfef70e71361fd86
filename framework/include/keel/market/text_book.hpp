#pragma once
// The text in which a venue sent each level of a book, for checksums computed over strings
// (Bitget, OKX: CRC32 of "bidPx:bidSz:askPx:askSz:..."). "1.10" and "1.1" are the same price to
// the Book but not to the checksum, so the text is kept as received, keyed by integer price. All
// levels are kept, not only the top 25: after deletes, deeper levels move up into the checksum.
// Fixed-size entries: no allocation per update once the sides have grown.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "keel/core/types.hpp"
#include "keel/market/book.hpp"

namespace keel::market {

class TextBook {
  public:
    static constexpr size_t kMaxText = 31;  // longest price or size text kept

    // Text of one level as received; `level` is the same level in integers.
    struct Entry {
        Level level;
        std::string_view price, qty;
    };

    void clear();
    // Sets a level's text; qty 0 deletes the level (deleting an unknown level is normal). False
    // if a text is longer than kMaxText (nothing changes).
    bool apply(Side side, const Entry &entry);

    // CRC32 of the top `depth` levels of each side, interleaved best first as
    // "bidPx:bidSz:askPx:askSz:..." (a side with fewer levels just ends), read as a signed
    // 32-bit integer, which is how Bitget and OKX send it.
    int32_t interleaved_crc32(size_t depth) const;

    size_t depth(Side side) const { return side_of(side).size(); }
    // Level i (0 = best) of a side, with views of its stored text; i < depth(side). The views
    // stay valid until the side changes.
    Entry level(Side side, size_t i) const;

  private:
    struct Stored {
        Ticks price = 0;
        Lots qty = 0;
        uint8_t price_len = 0, qty_len = 0;
        char price_text[kMaxText];
        char qty_text[kMaxText];
    };
    const std::vector<Stored> &side_of(Side s) const { return s == Side::buy ? bids_ : asks_; }

    std::vector<Stored> bids_;  // ascending price: best bid at back (as in Book)
    std::vector<Stored> asks_;  // descending price: best ask at back
};

}  // namespace keel::market
