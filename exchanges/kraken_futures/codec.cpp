#include "codec.hpp"

namespace keel::kraken_futures {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

MessageKind Codec::fail(std::string what) {
    error_ = std::move(what);
    return MessageKind::invalid;
}

// The number's own text, exactly as sent: a double would already have rounded it.
bool Codec::number_units(value v, const market::DecimalGrid &grid, int64_t &out) {
    json_type type;
    if (v.type().get(type) || type != json_type::number) return false;
    std::string_view text = v.raw_json_token();
    // The token runs on to the next one through any whitespace.
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                             text.back() == '\t'))
        text.remove_suffix(1);
    auto units = grid.number_to_units(text);
    if (!units) return false;
    out = *units;
    return true;
}

bool Codec::side(object obj, Side &out) {
    std::string_view s;
    if (obj["side"].get_string().get(s)) return false;
    if (s == "buy")
        out = Side::buy;
    else if (s == "sell")
        out = Side::sell;
    else
        return false;
    return true;
}

bool Codec::levels(value v, std::vector<market::Level> &out, const char *name) {
    out.clear();
    simdjson::ondemand::array arr;
    if (v.get_array().get(arr)) return fail(std::string(name) + ": not an array"), false;
    for (auto entry : arr) {
        object level;
        if (entry.get_object().get(level))
            return fail(std::string(name) + ": level is not an object"), false;
        market::Level lv;
        if (!number_units(level["price"], price_, lv.price) || lv.price <= 0)
            return fail(std::string(name) + ": bad price"), false;
        if (!number_units(level["qty"], qty_, lv.qty))
            return fail(std::string(name) + ": bad qty"), false;
        out.push_back(lv);
    }
    return true;
}

bool Codec::trade(object obj, Trade &out) {
    // Fields in the order Kraken sends them: on-demand parsing reads forward.
    if (!side(obj, out.taker_side)) return fail("trade: bad side"), false;
    if (obj["seq"].get_uint64().get(out.seq)) return fail("trade: no seq"), false;
    if (obj["time"].get_int64().get(out.time_ms)) return fail("trade: no time"), false;
    if (!number_units(obj["qty"], qty_, out.qty) || out.qty <= 0)
        return fail("trade: bad qty"), false;
    if (!number_units(obj["price"], price_, out.price) || out.price <= 0)
        return fail("trade: bad price"), false;
    return true;
}

MessageKind Codec::parse_snapshot(object root) {
    auto &s = snapshot_;
    if (root["timestamp"].get_int64().get(s.timestamp_ms)) return fail("book_snapshot: no time");
    if (root["seq"].get_uint64().get(s.seq)) return fail("book_snapshot: no seq");
    if (!levels(root["bids"], s.bids, "book_snapshot bids")) return MessageKind::invalid;
    if (!levels(root["asks"], s.asks, "book_snapshot asks")) return MessageKind::invalid;
    return MessageKind::book_snapshot;
}

MessageKind Codec::parse_delta(object root) {
    auto &d = delta_;
    if (!side(root, d.side)) return fail("book: bad side");
    if (root["seq"].get_uint64().get(d.seq)) return fail("book: no seq");
    if (!number_units(root["price"], price_, d.level.price) || d.level.price <= 0)
        return fail("book: bad price");
    if (!number_units(root["qty"], qty_, d.level.qty)) return fail("book: bad qty");
    if (root["timestamp"].get_int64().get(d.timestamp_ms)) return fail("book: no timestamp");
    return MessageKind::book_delta;
}

MessageKind Codec::parse_trade_snapshot(object root) {
    simdjson::ondemand::array arr;
    if (root["trades"].get_array().get(arr)) return fail("trade_snapshot: no trades array");
    for (auto entry : arr) {
        object obj;
        if (entry.get_object().get(obj)) return fail("trade_snapshot: trade is not an object");
        trades_.emplace_back();
        if (!trade(obj, trades_.back())) return MessageKind::invalid;
    }
    return MessageKind::trade_snapshot;
}

MessageKind Codec::parse(std::string_view frame, size_t capacity) {
    product_id_ = {};
    feed_ = {};
    trades_.clear();
    simdjson::padded_string_view input(frame.data(), frame.size(), capacity);
    simdjson::ondemand::document doc;
    if (auto ec = parser_.iterate(input).get(doc)) return fail(simdjson::error_message(ec));
    object root;
    if (doc.get_object().get(root)) return fail("frame is not a JSON object");

    // Data frames start with "feed"; subscription and info frames with "event".
    auto feed_field = root["feed"];
    if (feed_field.error() != simdjson::SUCCESS) {
        if (root["event"].get_string().get(feed_)) return fail("frame has neither feed nor event");
        return MessageKind::other;
    }
    if (feed_field.get_string().get(feed_)) return fail("feed is not a string");
    const bool book = feed_ == "book", snapshot = feed_ == "book_snapshot",
               trade_one = feed_ == "trade", trades = feed_ == "trade_snapshot";
    // A subscription ack names its feed too ({"event":"subscribed","feed":"book",...}). "event"
    // is looked for only where data frames would not need a second scan.
    bool data = book || snapshot || trade_one || trades;
    if (!data || root["product_id"].get_string().get(product_id_)) {
        if (root["event"].get_string().get(feed_) == simdjson::SUCCESS) return MessageKind::other;
        if (data) return fail("no product_id");
        return MessageKind::other;
    }
    if (book) return parse_delta(root);
    if (snapshot) return parse_snapshot(root);
    if (trades) return parse_trade_snapshot(root);
    trades_.emplace_back();
    if (!trade(root, trades_.back())) return MessageKind::invalid;
    return MessageKind::trade;
}

}  // namespace keel::kraken_futures
