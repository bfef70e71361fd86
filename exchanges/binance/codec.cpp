#include "codec.hpp"

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

Codec::FastGrid Codec::FastGrid::of(market::DecimalGrid g) {
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
    for (;;) {
        // Every opening quote lies inside the frame, so each string ends inside it too; the
        // bytes between strings may run into the padding, which is readable.
        if (p + 1 >= end || p[0] != '[' || p[1] != '"') return false;
        p += 2;
        market::Level lv;
        if (!scan_units(p, fast_price_, lv.price)) return false;
        if (p + 1 >= end || p[0] != ',' || p[1] != '"') return false;
        p += 2;
        if (!scan_units(p, fast_qty_, lv.qty)) return false;
        if (*p != ']') return false;
        out.push_back(lv);
        if (p[1] == ',') {
            p += 2;
            continue;
        }
        if (p[1] != ']') return false;
        p += 2;
        break;
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

// `text` at `p`, which then moves past it.
bool literal(const char *&p, const char *end, std::string_view text) {
    if (size_t(end - p) < text.size() || std::memcmp(p, text.data(), text.size()) != 0)
        return false;
    p += text.size();
    return true;
}

// A JSON string of printable ASCII with no escape, from just past its opening quote to just past
// its closing one: what simdjson's get_string would give, byte for byte.
bool plain_string(const char *&p, const char *end, std::string_view &out) {
    const char *first = p;
    while (p < end && *p != '"' && *p != '\\' && *p >= 0x20 && *p < 0x7F) ++p;
    if (p == end || *p != '"') return false;
    out = {first, size_t(p - first)};
    ++p;
    return true;
}

// A JSON integer of at most 18 digits (so it fits both int64 and uint64), without sign, leading
// zero, fraction or exponent: what simdjson's get_uint64 and get_int64 would give.
bool plain_uint(const char *&p, const char *end, uint64_t &out) {
    const char *first = p;
    uint64_t v = 0, d;
    while (p < end && is_digit(*p, d)) {
        v = v * 10 + d;
        ++p;
    }
    auto n = p - first;
    if (n == 0 || n > 18 || (n > 1 && *first == '0')) return false;
    out = v;
    return true;
}

bool json_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

bool Codec::parse_depth_text(std::string_view frame, size_t capacity) {
    if (capacity < frame.size() + simdjson::SIMDJSON_PADDING) return false;
    const char *p = frame.data(), *end = p + frame.size();
    // The end of the frame is checked before the levels; fetch it while the header is read.
    if (!frame.empty()) __builtin_prefetch(end - 1);

    std::string_view stream, symbol;
    uint64_t E = 0, T = 0, U = 0, u = 0, pu = 0;
    if (!literal(p, end, R"({"stream":")") || !plain_string(p, end, stream)) return false;
    auto at = stream.find('@');
    if (at == std::string_view::npos || !stream.substr(at + 1).starts_with("depth")) return false;
    if (!literal(p, end, R"(,"data":{"e":"depthUpdate","E":)") || !plain_uint(p, end, E))
        return false;
    if (literal(p, end, R"(,"T":)") && !plain_uint(p, end, T)) return false;  // futures only
    if (!literal(p, end, R"(,"s":")") || !plain_string(p, end, symbol) ||
        symbol.size() > sizeof symbol_text_)
        return false;
    if (!literal(p, end, R"(,"U":)") || !plain_uint(p, end, U)) return false;
    if (!literal(p, end, R"(,"u":)") || !plain_uint(p, end, u)) return false;
    if (literal(p, end, R"(,"pu":)") && !plain_uint(p, end, pu)) return false;  // futures only
    // The frame must end with '}' (then only whitespace): every loop over the digits of a level
    // stops there at the latest, so none needs a bound of its own.
    const char *last = end;
    while (last != p && json_space(last[-1])) --last;
    if (last == p || last[-1] != '}') return false;
    if (!literal(p, end, R"(,"b":)") || !scan_levels(p, depth_.bids)) return false;
    if (!literal(p, end, R"(,"a":)") || !scan_levels(p, depth_.asks)) return false;
    if (!literal(p, end, "}}") || p != last) return false;
    if (u < U) return false;  // the on-demand path words the error

    std::memcpy(symbol_text_, symbol.data(), symbol.size());
    symbol_ = {symbol_text_, symbol.size()};
    depth_.first = U;
    depth_.last = u;
    depth_.prev_last = pu;
    depth_.event_ms = static_cast<int64_t>(E);
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
    symbol_ = {};
    end_ = frame.data() + frame.size();
    // A depth diff exactly as Binance writes it, the bulk of the traffic, is read here as text;
    // anything else (other channels, another layout, malformed input) goes to simdjson, whose
    // verdict and error messages stand.
    if (fast_price_.usable && fast_qty_.usable && parse_depth_text(frame, capacity))
        return MessageKind::depth;
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
