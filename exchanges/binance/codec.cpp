#include "codec.hpp"

#include <bit>
#include <cstring>
#include <limits>

namespace keel::binance {

using simdjson::ondemand::object;
using simdjson::ondemand::value;

MessageKind Codec::fail(std::string what) {
    error_ = std::move(what);
    return MessageKind::invalid;
}

bool Codec::price(std::string_view text, Ticks &out) {
    auto v = price_.to_units(text);
    if (!v) return false;
    out = *v;  // zero is kept: the sanitizer refuses it and counts it as bad_price
    return true;
}

bool Codec::qty(std::string_view text, Lots &out) {
    auto v = qty_.to_units(text);
    if (!v) return false;
    out = *v;
    return true;
}

namespace {

// The text of a JSON string without unescaping it: a number as Binance sends it ("61800.30").
// An escape inside would leave a backslash, which the decimal parser refuses.
bool raw_string(simdjson::simdjson_result<value> v, std::string_view &out) {
    std::string_view token;
    if (v.raw_json_token().get(token)) return false;
    while (!token.empty() && token.back() != '"') token.remove_suffix(1);  // trailing whitespace
    if (token.size() < 2 || token.front() != '"') return false;
    out = token.substr(1, token.size() - 2);
    return true;
}

}  // namespace

bool Codec::levels(simdjson::simdjson_result<value> v, std::vector<market::Level> &out,
                   const char *side) {
    out.clear();
    simdjson::ondemand::array arr;
    if (v.get_array().get(arr)) return fail(std::string(side) + ": not an array"), false;
    for (auto entry : arr) {
        simdjson::ondemand::array pair;
        if (entry.get_array().get(pair))
            return fail(std::string(side) + ": level not a pair"), false;
        std::string_view p, q;
        auto it = pair.begin();
        if (it == pair.end() || !raw_string(*it, p))
            return fail(std::string(side) + ": level price is not a string"), false;
        ++it;
        if (it == pair.end() || !raw_string(*it, q))
            return fail(std::string(side) + ": level size is not a string"), false;
        market::Level lv;
        if (!price(p, lv.price))
            return fail(std::string(side) + ": bad price \"" + std::string(p) + "\""), false;
        if (!qty(q, lv.qty))
            return fail(std::string(side) + ": bad size \"" + std::string(q) + "\""), false;
        out.push_back(lv);
    }
    return true;
}

namespace {

inline bool is_digit(char c, uint64_t &d) {
    d = uint64_t(static_cast<unsigned char>(c)) - '0';
    return d <= 9;
}

}  // namespace

Codec::FastGrid Codec::FastGrid::of(market::DecimalGrid g, std::string_view follow) {
    FastGrid f;
    if (g.decimals < 0 || g.decimals > 18 || g.step <= 0) return f;
    int decimals = g.decimals, shift = 0;
    int64_t step = g.step;
    while (decimals > 0 && step % 10 == 0) {
        step /= 10;
        --decimals;
        ++shift;
    }
    f.usable = true;
    f.decimals = decimals;
    f.step = uint64_t(step);
    // to_units refuses a value whose units of 10^-g.decimals do not fit in int64.
    for (int i = 0; i <= decimals; ++i)
        f.max_digits[i] =
            uint64_t(std::numeric_limits<int64_t>::max()) / market::kPowersOfTen[i + shift];
    // Fixed form: the kept decimals, then `shift` zeros, the quote and `follow`, in one word.
    auto &x = f.fixed;
    x.length = unsigned(g.decimals) + 1 + unsigned(follow.size());
    // Usable where the decimals, quote and follow fit in one 8-byte word.
    if (std::endian::native != std::endian::little || decimals == 0 || x.length > 8) return f;
    auto kept = unsigned(decimals);
    x.kept = kept;
    x.kept_shift = 64 - 8 * kept;
    x.kept_power = market::kPowersOfTen[kept];
    x.kept_bits = 8 * kept;
    x.kept_flags = ((uint64_t{1} << (8 * kept)) - 1) & 0x8080808080808080;
    std::string tail(size_t(shift), '0');
    tail += '"';
    tail += follow;
    x.tail = 0;
    for (size_t i = 0; i < tail.size(); ++i) {
        x.tail_mask |= uint64_t{0xFF} << (8 * (kept + i));
        x.tail |= uint64_t(static_cast<unsigned char>(tail[i])) << (8 * (kept + i));
    }
    return f;
}

// One decimal string at `p` (just past its opening quote) to units of `g`; `p` ends past the
// closing quote. The same rules as DecimalGrid::to_units, for the plain form only: digits, an
// optional point, no more significant decimals than the grid (zeros beyond it are fine), at most
// 18 characters. False for anything else (junk, an escape, off the grid, out of range, long
// text): the on-demand path then gives the verdict. The string is known to be closed within the
// frame (simdjson's first stage checked it), so the loops stop at the quote at the latest.
[[gnu::always_inline]] inline bool Codec::scan_units(const char *&p, const FastGrid &g,
                                                     int64_t &out) {
    const char *first = p;
    uint64_t v = 0, d;
    while (is_digit(*p, d)) {
        v = v * 10 + d;
        ++p;
    }
    bool digits = p != first;
    int frac = 0;
    if (*p == '.') {
        const char *frac_first = ++p;
        while (frac < g.decimals && is_digit(*p, d)) {
            v = v * 10 + d;
            ++p;
            ++frac;
        }
        while (*p == '0') ++p;
        digits = digits || p != frac_first;
    }
    if (*p != '"' || !digits || p - first > 18) return false;
    ++p;
    int scale = g.decimals - frac;
    if (v > g.max_digits[scale]) return false;
    v *= market::kPowersOfTen[scale];
    if (g.step != 1) {
        if (v % g.step != 0) return false;
        v /= g.step;
    }
    out = static_cast<int64_t>(v);
    return true;
}

namespace {

uint64_t load_word(const char *p) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

// 0x80 in the lowest byte of `w` that is not an ASCII digit (exact: carries and borrows only
// run upwards from it, so bytes above may be flagged too), none if all eight are digits.
uint64_t non_digits(uint64_t w) {
    return ((w + 0x4646464646464646) | (w - 0x3030303030303030)) & 0x8080808080808080;
}

// Eight ASCII digits, the first in the lowest byte, to their value (zero bytes read as leading
// zeros): pairs, then quads, then all, one multiplication each.
uint64_t eight_digits(uint64_t w) {
    w = (w & 0x0F0F0F0F0F0F0F0F) * 2561 >> 8;
    w = (w & 0x00FF00FF00FF00FF) * 6553601 >> 16;
    return (w & 0x0000FFFF0000FFFF) * 42949672960001 >> 32;
}

}  // namespace

// Two words and no branch per digit: the first holds the integer digits and the point, the
// second the decimals, the quote and what follows. Reads 16 bytes from `p`, within the padding.
// An unusable form fails at the tail.
[[gnu::always_inline]] inline bool Codec::scan_fixed(const char *&p, const FastGrid::Fixed &f,
                                                     uint64_t step, int64_t &out) {
    const uint64_t w = load_word(p);
    const auto point = static_cast<unsigned>(std::countr_zero(non_digits(w))) / 8;
    if (point - 1 > 6 || ((w >> (8 * point)) & 0xFF) != '.') return false;  // 1 to 7 digits
    const uint64_t x = load_word(p + point + 1);
    // Kept decimals all digits and the tail as expected, in one compare (their bytes differ).
    if (((non_digits(x) & f.kept_flags) | (x & f.tail_mask)) != f.tail) return false;
    // At most 7 + 7 digits: no overflow. Where they fit in one word, the integer digits move
    // down to make room for the decimals and one conversion reads both.
    const uint64_t whole = w << (64 - 8 * point), decimals = x << f.kept_shift;
    uint64_t v = point + f.kept <= 8 ? eight_digits(whole >> f.kept_bits | decimals)
                                     : eight_digits(whole) * f.kept_power + eight_digits(decimals);
    if (step != 1) {
        if (v % step != 0) return false;
        v /= step;
    }
    out = static_cast<int64_t>(v);
    p += point + 1 + f.length;
    return true;
}

bool Codec::scan_levels(const char *&pos, std::vector<market::Level> &out) const {
    const char *p = pos, *end = end_;
    out.clear();
    if (*p != '[') return false;
    ++p;
    if (*p == ']') {
        if (p >= end) return false;
        pos = p + 1;
        return true;
    }
    // Every opening quote lies inside the frame, so each string ends inside it too; the bytes
    // between strings may run into the padding, which is readable.
    if (p + 1 >= end || p[0] != '[' || p[1] != '"') return false;
    p += 2;
    // Copies the level stores cannot alias, so the loop keeps them in registers.
    const auto price_form = fast_price_.fixed, qty_form = fast_qty_.fixed;
    const uint64_t price_step = fast_price_.step, qty_step = fast_qty_.step;
    for (;;) {
        // `p` is just past the opening quote of a level's price.
        market::Level lv;
        if (scan_fixed(p, price_form, price_step, lv.price)) {
            if (p - 1 >= end) return false;  // the quantity's opening quote
        } else {
            if (!scan_units(p, fast_price_, lv.price)) return false;
            if (p + 1 >= end || p[0] != ',' || p[1] != '"') return false;
            p += 2;
        }
        if (scan_fixed(p, qty_form, qty_step, lv.qty)) {  // and the next level's opening
            out.push_back(lv);
            if (p - 1 >= end) return false;
            continue;
        }
        if (!scan_units(p, fast_qty_, lv.qty)) return false;
        if (*p != ']') return false;
        out.push_back(lv);
        if (p[1] == ']') {
            p += 2;
            break;
        }
        if (p + 3 >= end || p[1] != ',' || p[2] != '[' || p[3] != '"') return false;
        p += 4;
    }
    if (p > end) return false;
    pos = p;
    return true;
}

bool Codec::side(simdjson::simdjson_result<value> v, std::vector<market::Level> &out,
                 const char *name, const char *&after) {
    after = nullptr;
    std::string_view token;
    // Only where the iterator is sound: after an error it may be abandoned, and the on-demand
    // path decides what that means.
    if (fast_price_.usable && fast_qty_.usable && doc_->is_alive() &&
        !v.raw_json_token().get(token)) {
        const char *p = token.data();
        if (scan_levels(p, out)) {
            after = p;
            return true;
        }
    }
    return levels(v, out, name);
}

namespace {

// `text` at `p`, which then moves past it. The length is a constant, so the compare is a few
// word loads rather than a call to memcmp.
template <size_t N>
bool literal(const char *&p, const char *end, const char (&text)[N]) {
    constexpr size_t n = N - 1;
    if (size_t(end - p) < n || std::memcmp(p, text, n) != 0) return false;
    p += n;
    return true;
}

// 0x80 in the lowest byte of `w` equal to `c` (exact, as in non_digits).
uint64_t bytes_equal(uint64_t w, unsigned char c) {
    const uint64_t x = w ^ (0x0101010101010101 * c);
    return (x - 0x0101010101010101) & ~x & 0x8080808080808080;
}

// A JSON string of printable ASCII with no escape, from just past its opening quote to just past
// its closing one: what simdjson's get_string would give, byte for byte. A word at a time: the
// first quote, backslash, control or non-ASCII byte ends it.
bool plain_string(const char *&p, const char *end, std::string_view &out) {
    const char *first = p;
    for (;; p += 8) {
        if (p >= end) return false;
        const uint64_t w = load_word(p);
        const uint64_t stop = bytes_equal(w, '"') | bytes_equal(w, '\\') | bytes_equal(w, 0x7F) |
                              ((((w - 0x2020202020202020) & ~w) | w) & 0x8080808080808080);
        if (stop != 0) {
            p += std::countr_zero(stop) / 8;
            break;
        }
    }
    if (p >= end || *p != '"') return false;
    out = {first, size_t(p - first)};
    ++p;
    return true;
}

// A JSON integer of at most 18 digits (so it fits both int64 and uint64), without sign, leading
// zero, fraction or exponent: what simdjson's get_uint64 and get_int64 would give. Eight digits
// at a time; a run longer than 18 stops within 24 bytes, inside the padding.
bool plain_uint(const char *&p, const char *end, uint64_t &out) {
    const char *first = p;
    uint64_t v = 0;
    for (;;) {
        const uint64_t w = load_word(p);
        const uint64_t flags = non_digits(w);
        if (flags == 0) {
            v = v * 100'000'000 + eight_digits(w);
            p += 8;
            if (p - first > 18) return false;
            continue;
        }
        const auto n = static_cast<unsigned>(std::countr_zero(flags)) / 8;
        if (n != 0) v = v * market::kPowersOfTen[n] + eight_digits(w << (64 - 8 * n));
        p += n;
        break;
    }
    auto n = p - first;
    if (p > end || n == 0 || n > 18 || (n > 1 && *first == '0')) return false;
    out = v;
    return true;
}

bool json_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::optional<MessageKind> Codec::parse_text(std::string_view frame, size_t capacity) {
    // Words are read in little-endian order, past the frame's end into its padding.
    if (std::endian::native != std::endian::little ||
        capacity < frame.size() + simdjson::SIMDJSON_PADDING)
        return std::nullopt;
    const char *p = frame.data(), *end = p + frame.size();
    // A depth diff's levels are read in one forward pass that cannot start the next number before
    // the last is read: ask for every line of the frame now, so misses overlap instead of queueing.
    for (const char *line = p; line < end; line += 64) __builtin_prefetch(line);
    if (!frame.empty()) __builtin_prefetch(end - 1);

    std::string_view stream;
    if (!literal(p, end, R"({"stream":")") || !plain_string(p, end, stream) ||
        !literal(p, end, R"(,"data":{)"))
        return std::nullopt;
    // The frame must end with '}' (then only whitespace): every loop over digits stops there at
    // the latest, so none needs a bound of its own.
    const char *last = end;
    while (last != p && json_space(last[-1])) --last;
    if (last == p || last[-1] != '}') return std::nullopt;
    auto at = stream.find('@');
    if (at == std::string_view::npos) return std::nullopt;
    const auto channel = stream.substr(at + 1);
    bool read = false;
    MessageKind kind = MessageKind::other;
    if (channel.starts_with("depth")) {
        read = fast_price_.usable && fast_qty_.usable && depth_text(p, last);
        kind = MessageKind::depth;
    } else if (channel == "bookTicker") {
        read = ticker_text(p, last);
        kind = MessageKind::book_ticker;
    } else if (channel == "trade") {
        read = trade_text(p, last);
        kind = MessageKind::trade;
    }
    if (!read) return std::nullopt;
    return kind;
}

bool Codec::text_symbol(const char *&p) {
    std::string_view symbol;
    if (!literal(p, end_, R"(,"s":")") || !plain_string(p, end_, symbol) ||
        symbol.size() > sizeof symbol_text_)
        return false;
    std::memcpy(symbol_text_, symbol.data(), symbol.size());
    symbol_ = {symbol_text_, symbol.size()};
    return true;
}

bool Codec::text_decimal(const char *&p, char k, bool is_price, int64_t &out) {
    const char key[] = {',', '"', k, '"', ':', '"'};
    if (size_t(end_ - p) < sizeof key || std::memcmp(p, key, sizeof key) != 0) return false;
    p += sizeof key;
    // The scan where the grid allows it (its loops stop at the frame's closing '}' at the latest,
    // which parse_text checked); DecimalGrid for the text it leaves.
    const FastGrid &fast = is_price ? fast_price_ : fast_qty_;
    const char *first = p;
    if (fast.usable && scan_units(p, fast, out)) return true;
    p = first;
    std::string_view text;
    if (!plain_string(p, end_, text)) return false;
    return is_price ? price(text, out) : qty(text, out);
}

bool Codec::depth_text(const char *&p, const char *last) {
    uint64_t E = 0, T = 0, U = 0, u = 0, pu = 0;
    if (!literal(p, end_, R"("e":"depthUpdate","E":)") || !plain_uint(p, end_, E)) return false;
    if (literal(p, end_, R"(,"T":)") && !plain_uint(p, end_, T)) return false;  // futures only
    if (!text_symbol(p)) return false;
    if (!literal(p, end_, R"(,"U":)") || !plain_uint(p, end_, U)) return false;
    if (!literal(p, end_, R"(,"u":)") || !plain_uint(p, end_, u)) return false;
    if (literal(p, end_, R"(,"pu":)") && !plain_uint(p, end_, pu)) return false;  // futures only
    if (!literal(p, end_, R"(,"b":)") || !scan_levels(p, depth_.bids)) return false;
    if (!literal(p, end_, R"(,"a":)") || !scan_levels(p, depth_.asks)) return false;
    if (!literal(p, end_, "}}") || p != last) return false;
    if (u < U) return false;  // the on-demand path words the error
    depth_.first = U;
    depth_.last = u;
    depth_.prev_last = pu;
    depth_.event_ms = static_cast<int64_t>(E);
    return true;
}

// USD-M: "e":"bookTicker","u":…,"s":…,"b":…,"B":…,"a":…,"A":…,"T":…,"E":…
// spot:  "u":…,"s":…,"b":…,"B":…,"a":…,"A":…
bool Codec::ticker_text(const char *&p, const char *last) {
    literal(p, end_, R"("e":"bookTicker",)");
    uint64_t u = 0, T = 0, E = 0;
    BookTicker t;
    if (!literal(p, end_, R"("u":)") || !plain_uint(p, end_, u) || !text_symbol(p) ||
        !text_decimal(p, 'b', true, t.bid.price) || !text_decimal(p, 'B', false, t.bid.qty) ||
        !text_decimal(p, 'a', true, t.ask.price) || !text_decimal(p, 'A', false, t.ask.qty))
        return false;
    if (literal(p, end_, R"(,"T":)") &&
        (!plain_uint(p, end_, T) || !literal(p, end_, R"(,"E":)") || !plain_uint(p, end_, E)))
        return false;
    if (!literal(p, end_, "}}") || p != last) return false;
    t.update_id = u;
    ticker_ = t;
    return true;
}

// USD-M: "e":"trade","E":…,"T":…,"s":…,"t":…,"p":…,"q":…,"X":"MARKET","m":false
// spot:  "e":"trade","E":…,"s":…,"t":…,"p":…,"q":…,"T":…,"m":true,"M":true
bool Codec::trade_text(const char *&p, const char *last) {
    uint64_t E = 0, T = 0, id = 0;
    Trade t;
    if (!literal(p, end_, R"("e":"trade","E":)") || !plain_uint(p, end_, E)) return false;
    const bool futures = literal(p, end_, R"(,"T":)");
    if (futures && !plain_uint(p, end_, T)) return false;
    if (!text_symbol(p) || !literal(p, end_, R"(,"t":)") || !plain_uint(p, end_, id) ||
        !text_decimal(p, 'p', true, t.price) || !text_decimal(p, 'q', false, t.qty) || t.qty <= 0)
        return false;
    std::string_view origin;  // X: MARKET, INSURANCE_FUND, …; not read by the on-demand path
    if (futures && (!literal(p, end_, R"(,"X":")") || !plain_string(p, end_, origin))) return false;
    if (!futures && (!literal(p, end_, R"(,"T":)") || !plain_uint(p, end_, T))) return false;
    if (literal(p, end_, R"(,"m":true)"))
        t.buyer_is_maker = true;
    else if (!literal(p, end_, R"(,"m":false)"))
        return false;
    if (!futures && !literal(p, end_, R"(,"M":true)") && !literal(p, end_, R"(,"M":false)"))
        return false;
    if (!literal(p, end_, "}}") || p != last) return false;
    t.trade_ms = static_cast<int64_t>(T);
    t.id = id;
    trade_ = t;
    return true;
}

MessageKind Codec::parse_depth(object data) {
    uint64_t u = 0, U = 0, pu = 0;
    int64_t E = 0;
    // Fields in the order Binance sends them: on-demand parsing reads forward.
    if (data["E"].get_int64().get(E)) return fail("depth: no E");
    if (data["s"].get_string().get(symbol_)) return fail("depth: no s");
    if (data["U"].get_uint64().get(U)) return fail("depth: no U");
    if (data["u"].get_uint64().get(u)) return fail("depth: no u");
    auto pu_field = data["pu"];
    if (pu_field.error() == simdjson::SUCCESS) {
        if (pu_field.get_uint64().get(pu)) return fail("depth: pu is not a number");
    }
    // The level arrays take most of the time: read as text where they have Binance's exact
    // form, and the asks found right after the bids without a lookup.
    const char *after = nullptr;
    if (!side(data["b"], depth_.bids, "b", after)) return MessageKind::invalid;
    const char *asks = after && std::memcmp(after, R"(,"a":[)", 6) == 0 ? after + 5 : nullptr;
    if (!(asks && scan_levels(asks, depth_.asks)) && !side(data["a"], depth_.asks, "a", after))
        return MessageKind::invalid;
    if (u < U) return fail("depth: u < U");
    depth_.first = U;
    depth_.last = u;
    depth_.prev_last = pu;
    depth_.event_ms = E;
    return MessageKind::depth;
}

MessageKind Codec::parse_ticker(object data) {
    std::string_view b, B, a, A;
    if (data["u"].get_uint64().get(ticker_.update_id)) return fail("bookTicker: no u");
    if (data["s"].get_string().get(symbol_)) return fail("bookTicker: no s");
    if (!raw_string(data["b"], b) || !raw_string(data["B"], B) || !raw_string(data["a"], a) ||
        !raw_string(data["A"], A))
        return fail("bookTicker: missing b/B/a/A");
    if (!price(b, ticker_.bid.price) || !qty(B, ticker_.bid.qty) || !price(a, ticker_.ask.price) ||
        !qty(A, ticker_.ask.qty))
        return fail("bookTicker: bad price or size");
    return MessageKind::book_ticker;
}

MessageKind Codec::parse_trade(object data, bool aggregate) {
    std::string_view p, q;
    if (data["s"].get_string().get(symbol_)) return fail("trade: no s");
    if (data[aggregate ? "a" : "t"].get_uint64().get(trade_.id)) return fail("trade: no id");
    if (!raw_string(data["p"], p) || !raw_string(data["q"], q)) return fail("trade: missing p/q");
    if (data["T"].get_int64().get(trade_.trade_ms)) return fail("trade: no T");
    if (data["m"].get_bool().get(trade_.buyer_is_maker)) return fail("trade: no m");
    if (!price(p, trade_.price) || !qty(q, trade_.qty) || trade_.qty <= 0)
        return fail("trade: bad price or size");
    return MessageKind::trade;
}

MessageKind Codec::parse_snapshot(object doc) {
    if (doc["lastUpdateId"].get_uint64().get(snapshot_.last_update_id))
        return fail("snapshot: no lastUpdateId");
    const char *after = nullptr;
    if (!side(doc["bids"], snapshot_.bids, "bids", after)) return MessageKind::invalid;
    if (!side(doc["asks"], snapshot_.asks, "asks", after)) return MessageKind::invalid;
    return MessageKind::snapshot;
}

MessageKind Codec::parse_depth_response(std::string_view request_url, std::string_view body,
                                        size_t capacity) {
    end_ = body.data() + body.size();
    simdjson::padded_string_view input(body.data(), body.size(), capacity);
    simdjson::ondemand::document doc;
    if (auto ec = parser_.iterate(input).get(doc)) return fail(simdjson::error_message(ec));
    doc_ = &doc;
    object root;
    if (doc.get_object().get(root)) return fail("depth response is not a JSON object");
    auto kind = parse_snapshot(root);
    if (kind != MessageKind::snapshot) return kind;
    // The query's symbol= parameter; symbols are plain letters and digits, never escaped.
    auto query = request_url.find('?');
    std::string_view params =
        query == std::string_view::npos ? std::string_view{} : request_url.substr(query + 1);
    symbol_ = {};
    while (!params.empty()) {
        auto amp = params.find('&');
        std::string_view param = params.substr(0, amp);
        if (param.starts_with("symbol=")) symbol_ = param.substr(7);
        params = amp == std::string_view::npos ? std::string_view{} : params.substr(amp + 1);
    }
    if (symbol_.empty()) return fail("depth response: no symbol= in the request URL");
    return kind;
}

MessageKind Codec::parse(std::string_view frame, size_t capacity) {
    end_ = frame.data() + frame.size();
    // Depth diffs, bookTickers and trades exactly as Binance writes them, the bulk of the
    // traffic, are read here as text; anything else (other channels, another layout, malformed
    // input) goes to simdjson, whose verdict and error messages stand.
    if (auto kind = parse_text(frame, capacity)) return *kind;
    symbol_ = {};  // the text path may have read one before it gave up
    simdjson::padded_string_view input(frame.data(), frame.size(), capacity);
    simdjson::ondemand::document doc;
    if (auto ec = parser_.iterate(input).get(doc)) return fail(simdjson::error_message(ec));
    doc_ = &doc;
    object root;
    if (doc.get_object().get(root)) return fail("frame is not a JSON object");

    std::string_view stream;
    auto stream_field = root["stream"];
    if (stream_field.error() != simdjson::SUCCESS) {
        // Not a combined-stream frame: the only other thing keel reads is a depth snapshot.
        return parse_snapshot(root);  // field lookups are unordered: this restarts the scan
    }
    if (stream_field.get_string().get(stream)) return fail("stream is not a string");
    object data;
    if (root["data"].get_object().get(data)) return fail("frame has no data object");

    auto at = stream.find('@');
    std::string_view channel = at == std::string_view::npos ? stream : stream.substr(at + 1);
    MessageKind kind;
    if (channel.starts_with("depth"))
        kind = parse_depth(data);
    else if (channel == "bookTicker")
        kind = parse_ticker(data);
    else if (channel == "trade")
        kind = parse_trade(data, false);
    else if (channel == "aggTrade")
        kind = parse_trade(data, true);
    else
        return MessageKind::other;
    return kind;
}

}  // namespace keel::binance
