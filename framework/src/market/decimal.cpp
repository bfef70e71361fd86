#include "keel/market/decimal.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>

namespace keel::market {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Digits of `text` as an integer scaled to `decimals` places; false on bad syntax, overflow or
// non-zero digits beyond `decimals`. Careful about overflow at every digit: the slow path.
bool scaled_checked(std::string_view text, int decimals, int64_t &out) {
    if (text.empty()) return false;
    int64_t v = 0;
    size_t i = 0;
    bool digits = false;
    for (; i < text.size() && text[i] != '.'; ++i) {
        unsigned d = static_cast<unsigned>(text[i] - '0');
        if (d > 9) return false;
        if (v > (kMax - d) / 10) return false;
        v = v * 10 + d;
        digits = true;
    }
    int frac = 0;
    if (i < text.size()) {  // at '.'
        ++i;
        for (; i < text.size(); ++i) {
            unsigned d = static_cast<unsigned>(text[i] - '0');
            if (d > 9) return false;
            digits = true;
            if (frac < decimals) {
                if (v > (kMax - d) / 10) return false;
                v = v * 10 + d;
                ++frac;
            } else if (d != 0) {
                return false;  // more precision than the grid has
            }
        }
    }
    if (!digits) return false;
    for (; frac < decimals; ++frac) {
        if (v > kMax / 10) return false;
        v *= 10;
    }
    out = v;
    return true;
}

constexpr int64_t kPow10[19] = {1,
                                10,
                                100,
                                1000,
                                10000,
                                100000,
                                1000000,
                                10000000,
                                100000000,
                                1000000000,
                                10000000000,
                                100000000000,
                                1000000000000,
                                10000000000000,
                                100000000000000,
                                1000000000000000,
                                10000000000000000,
                                100000000000000000,
                                1000000000000000000};

// The largest value that can be scaled by 10^i without overflow (no division on the hot path).
constexpr auto kMaxBeforeScale = [] {
    std::array<uint64_t, 19> m{};
    for (size_t i = 0; i < m.size(); ++i) m[i] = uint64_t(kMax) / uint64_t(kPow10[i]);
    return m;
}();

// The same result as scaled_checked. Every venue number is a handful of digits, which cannot
// overflow: they take a loop with no overflow test; anything longer goes the careful way.
bool scaled(std::string_view text, int decimals, int64_t &out) {
    const char *p = text.data(), *end = p + text.size();
    if (text.size() > 18) return scaled_checked(text, decimals, out);
    uint64_t v = 0;
    const char *first = p;
    while (p != end && static_cast<unsigned>(*p - '0') <= 9) v = v * 10 + uint64_t(*p++ - '0');
    bool digits = p != first;
    int frac = 0;
    if (p != end) {
        if (*p++ != '.') return false;
        const char *frac_first = p;
        while (p != end && frac < decimals && static_cast<unsigned>(*p - '0') <= 9) {
            v = v * 10 + uint64_t(*p++ - '0');
            ++frac;
        }
        while (p != end && *p == '0') ++p;  // zeros beyond the grid are fine
        if (p != end) return false;         // a non-zero digit beyond the grid, or junk
        digits = digits || p != frac_first;
    }
    if (!digits) return false;
    // At most 18 digits, so v < 10^18; scaling up may still overflow.
    int scale = decimals - frac;
    if (scale > 18) return scaled_checked(text, decimals, out);
    auto factor = static_cast<uint64_t>(kPow10[scale]);
    if (v > kMaxBeforeScale[size_t(scale)]) return false;
    out = static_cast<int64_t>(v * factor);
    return true;
}

__extension__ typedef unsigned __int128 u128;  // GCC's; two words handled as one

// Eight ASCII digits, the first in the lowest byte, to their value: pairs, then quads, then all.
uint64_t eight_digits(uint64_t v) {
    v = (v & 0x0F0F0F0F0F0F0F0F) * 2561 >> 8;
    v = (v & 0x00FF00FF00FF00FF) * 6553601 >> 16;
    return (v & 0x0000FFFF0000FFFF) * 42949672960001 >> 32;
}

bool all_digits(uint64_t v) {
    return (((v + 0x4646464646464646) | (v - 0x3030303030303030)) & 0x8080808080808080) == 0;
}

u128 low_bytes(size_t n) {  // a mask of the n lowest bytes, n <= 16
    return n >= 16 ? ~u128{0} : (u128{1} << (8 * n)) - 1;
}

// The index of the first '.' among the first n bytes of x, or n.
size_t find_dot(u128 x, size_t n) {
    constexpr uint64_t ones = 0x0101010101010101, highs = 0x8080808080808080;
    constexpr uint64_t dots = 0x2E2E2E2E2E2E2E2E;
    for (int half = 0; half < 2; ++half) {
        uint64_t w = uint64_t(x >> (64 * half)) ^ dots;
        uint64_t zero = (w - ones) & ~w & highs;  // the lowest flagged byte is exact
        if (zero) return std::min(n, size_t(half * 8 + std::countr_zero(zero) / 8));
    }
    return n;
}

}  // namespace

std::optional<int64_t> DecimalGrid::to_units_padded(std::string_view text) const {
    size_t n = text.size();
    if (n == 0 || n > 16) return to_units(text);
    u128 x;
    std::memcpy(&x, text.data(), sizeof x);
    x &= low_bytes(n);
    const size_t dot = find_dot(x, n);
    size_t frac = dot < n ? n - dot - 1 : 0;
    const bool any_digit = n > (dot < n ? 1u : 0u);
    if (frac > size_t(decimals)) {
        // Digits beyond the grid must be zeros ("61800.30" on a 0.1 grid); then drop them.
        const size_t extra = frac - size_t(decimals);
        constexpr u128 zeros = u128{0x3030303030303030} << 64 | 0x3030303030303030;
        if (((x >> (8 * (n - extra))) & low_bytes(extra)) != (zeros & low_bytes(extra)))
            return std::nullopt;
        n -= extra;
        frac = size_t(decimals);
        x &= low_bytes(n);
    }
    const size_t digits = dot < n ? n - 1 : n;
    if (digits == 0) return any_digit ? std::optional<int64_t>(0) : std::nullopt;  // ".000"
    if (dot < n) x = (x & low_bytes(dot)) | ((x >> (8 * (dot + 1))) << (8 * dot));
    // Pad with '0' to check whole words, then shift the digits up: leading zeros come in.
    x |= ~low_bytes(digits) & (u128{0x3030303030303030} << 64 | 0x3030303030303030);  // '0's
    if (!all_digits(uint64_t(x)) || !all_digits(uint64_t(x >> 64))) return std::nullopt;
    x <<= 8 * (16 - digits);
    uint64_t v = eight_digits(uint64_t(x)) * 100'000'000 + eight_digits(uint64_t(x >> 64));
    const size_t scale = size_t(decimals) - frac;
    if (v > kMaxBeforeScale[scale]) return std::nullopt;
    auto factor = static_cast<uint64_t>(kPow10[scale]);
    auto units = static_cast<int64_t>(v * factor);
    if (step == 1) return units;
    if (units % step != 0) return std::nullopt;
    return units / step;
}

std::optional<DecimalGrid> DecimalGrid::parse(std::string_view text) {
    // The grid's decimals are the digits after the point, trailing zeros excluded ("0.10" is 1).
    auto dot = text.find('.');
    int decimals = 0;
    if (dot != std::string_view::npos) {
        auto frac = text.substr(dot + 1);
        while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
        decimals = static_cast<int>(frac.size());
    }
    if (decimals > 18) return std::nullopt;
    DecimalGrid g{decimals, 1};
    int64_t step = 0;
    if (!scaled(text, decimals, step) || step <= 0) return std::nullopt;
    g.step = step;
    return g;
}

std::optional<int64_t> DecimalGrid::to_units(std::string_view text) const {
    int64_t v = 0;
    if (!scaled(text, decimals, v)) return std::nullopt;
    if (step == 1) return v;  // the common grid: no division
    if (v % step != 0) return std::nullopt;
    return v / step;
}

std::optional<int64_t> DecimalGrid::number_to_units(std::string_view text) const {
    auto e = text.find_first_of("eE");
    if (e == std::string_view::npos) return to_units(text);
    std::string_view mantissa = text.substr(0, e);
    std::string_view exp_text = text.substr(e + 1);
    if (exp_text.starts_with('+') && !exp_text.starts_with("+-")) exp_text.remove_prefix(1);
    int exp = 0;
    auto r = std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
    if (exp_text.empty() || r.ec != std::errc() || r.ptr != exp_text.data() + exp_text.size())
        return std::nullopt;
    if (exp > 40 || exp < -40) return std::nullopt;  // beyond any int64 of units
    // m * 10^exp counted in units of 10^-decimals is m scaled by decimals + exp places.
    int shift = decimals + exp;
    int64_t v = 0;
    if (!scaled(mantissa, shift > 0 ? shift : 0, v)) return std::nullopt;
    for (; shift < 0; ++shift) {
        if (v % 10 != 0) return std::nullopt;  // a fraction of a unit
        v /= 10;
    }
    if (v % step != 0) return std::nullopt;
    return v / step;
}

}  // namespace keel::market
