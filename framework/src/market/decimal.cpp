#include "keel/market/decimal.hpp"

#include <algorithm>
#include <array>
#include <charconv>
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

// The largest value that can be scaled by 10^i without overflow (no division on the hot path).
constexpr auto kMaxBeforeScale = [] {
    std::array<uint64_t, 19> m{};
    for (size_t i = 0; i < m.size(); ++i) m[i] = uint64_t(kMax) / kPowersOfTen[i];
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
    auto factor = kPowersOfTen[scale];
    if (v > kMaxBeforeScale[size_t(scale)]) return false;
    out = static_cast<int64_t>(v * factor);
    return true;
}

}  // namespace

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
