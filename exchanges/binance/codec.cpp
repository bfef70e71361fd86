#include "codec.hpp"

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

bool Codec::levels(value v, std::vector<market::Level> &out, const char *side) {
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
    if (!levels(data["b"], depth_.bids, "b")) return MessageKind::invalid;
    if (!levels(data["a"], depth_.asks, "a")) return MessageKind::invalid;
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
    if (!levels(doc["bids"], snapshot_.bids, "bids")) return MessageKind::invalid;
    if (!levels(doc["asks"], snapshot_.asks, "asks")) return MessageKind::invalid;
    return MessageKind::snapshot;
}

MessageKind Codec::parse_depth_response(std::string_view request_url, std::string_view body,
                                        size_t capacity) {
    simdjson::padded_string_view input(body.data(), body.size(), capacity);
    simdjson::ondemand::document doc;
    if (auto ec = parser_.iterate(input).get(doc)) return fail(simdjson::error_message(ec));
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
    simdjson::padded_string_view input(frame.data(), frame.size(), capacity);
    simdjson::ondemand::document doc;
    if (auto ec = parser_.iterate(input).get(doc)) return fail(simdjson::error_message(ec));
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
