#include "keel/market/text_book.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace keel::market {

void TextBook::clear() {
    bids_.clear();
    asks_.clear();
}

bool TextBook::apply(Side side, const Entry &e) {
    if (e.price.size() > kMaxText || e.qty.size() > kMaxText) return false;
    auto &levels = side == Side::buy ? bids_ : asks_;
    // Best at the back, as in Book: ascending bids, descending asks.
    auto it = std::lower_bound(
        levels.begin(), levels.end(), e.level.price,
        [side](const Stored &s, Ticks p) { return side == Side::buy ? s.price < p : s.price > p; });
    bool found = it != levels.end() && it->price == e.level.price;
    if (e.level.qty == 0) {
        if (found) levels.erase(it);
        return true;
    }
    if (!found) it = levels.insert(it, Stored{});
    it->price = e.level.price;
    it->qty = e.level.qty;
    it->price_len = static_cast<uint8_t>(e.price.size());
    it->qty_len = static_cast<uint8_t>(e.qty.size());
    std::memcpy(it->price_text, e.price.data(), e.price.size());
    std::memcpy(it->qty_text, e.qty.data(), e.qty.size());
    return true;
}

TextBook::Entry TextBook::level(Side side, size_t i) const {
    const auto &v = side_of(side);
    const auto &s = v[v.size() - 1 - i];
    return {{s.price, s.qty}, {s.price_text, s.price_len}, {s.qty_text, s.qty_len}};
}

int32_t TextBook::interleaved_crc32(size_t depth) const {
    uLong crc = crc32(0L, Z_NULL, 0);
    bool first = true;
    auto add = [&](const char *text, size_t len) {
        if (!first) crc = crc32(crc, reinterpret_cast<const Bytef *>(":"), 1);
        first = false;
        crc = crc32(crc, reinterpret_cast<const Bytef *>(text), static_cast<uInt>(len));
    };
    auto add_level = [&](const std::vector<Stored> &side, size_t i) {
        if (i >= side.size()) return;
        const auto &s = side[side.size() - 1 - i];
        add(s.price_text, s.price_len);
        add(s.qty_text, s.qty_len);
    };
    for (size_t i = 0; i < depth; ++i) {
        add_level(bids_, i);
        add_level(asks_, i);
    }
    // The venues send the unsigned CRC's bits as a signed int32.
    return static_cast<int32_t>(static_cast<uint32_t>(crc));
}

}  // namespace keel::market
