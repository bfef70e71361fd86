#include "codec.hpp"

#include <charconv>
#include <limits>

namespace keel::bitget {

using simdjson::ondemand::array;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

namespace {

// Bitget writes millisecond times as strings ("1649290077630").
bool ms_text(std::string_view text, int64_t &out) {
    auto r = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size();
}

}  // namespace

MessageKind Codec::fail(std::string what) {
    error_ = std::move(what);
    return MessageKind::invalid;
}

bool Codec::levels(value v, std::vector<market::Level> &out,
                   std::vector<market::TextBook::Entry> &text, const char *side) {
    out.clear();
    text.clear();
    array arr;
    if (v.get_array().get(arr)) return fail(std::string(side) + ": not an array"), false;
    for (auto entry : arr) {
        array pair;
        if (entry.get_array().get(pair))
            return fail(std::string(side) + ": level not a pair"), false;
        std::string_view p, q;
        auto it = pair.begin();
        if (it == pair.end() || (*it).get_string().get(p))
            return fail(std::string(side) + ": level price is not a string"), false;
        ++it;
        if (it == pair.end() || (*it).get_string().get(q))
            return fail(std::string(side) + ": level size is not a string"), false;
        auto price = price_.to_units(p);
        auto qty = qty_.to_units(q);
        if (!price || *price <= 0)
            return fail(std::string(side) + ": bad price \"" + std::string(p) + "\""), false;
        if (!qty) return fail(std::string(side) + ": bad size \"" + std::string(q) + "\""), false;
        out.push_back({*price, *qty});
        text.push_back({out.back(), p, q});
    }
    return true;
}

MessageKind Codec::parse_books(value data, bool snapshot) {
    // One book per frame: "data":[{"asks":…,"bids":…,"checksum":…,"ts":"…"}].
    array arr;
    if (data.get_array().get(arr)) return fail("books: data is not an array");
    size_t n = 0;
    for (auto entry : arr) {
        if (n++) return fail("books: more than one book in a frame");
        object book;
        if (entry.get_object().get(book)) return fail("books: entry is not an object");
        // Fields in the order Bitget sends them: on-demand parsing reads forward.
        if (!levels(book["asks"], books_.asks, books_.ask_text, "asks"))
            return MessageKind::invalid;
        if (!levels(book["bids"], books_.bids, books_.bid_text, "bids"))
            return MessageKind::invalid;
        int64_t checksum = 0;
        if (book["checksum"].get_int64().get(checksum) ||
            checksum < std::numeric_limits<int32_t>::min() ||
            checksum > std::numeric_limits<int32_t>::max())
            return fail("books: checksum is not a 32-bit integer");
        books_.checksum = static_cast<int32_t>(checksum);
        std::string_view ts;
        if (book["ts"].get_string().get(ts) || !ms_text(ts, books_.ts_ms))
            return fail("books: bad ts");
    }
    if (n == 0) return fail("books: empty data");
    return snapshot ? MessageKind::books_snapshot : MessageKind::books_update;
}

MessageKind Codec::parse_trades(value data, bool snapshot) {
    // "data":[["<ts ms>","<price>","<size>","buy"|"sell"],…]
    array arr;
    if (data.get_array().get(arr)) return fail("trade: data is not an array");
    for (auto entry : arr) {
        array fields;
        if (entry.get_array().get(fields)) return fail("trade: entry is not an array");
        std::string_view text[4];
        size_t n = 0;
        for (auto f : fields) {
            if (n == 4 || f.get_string().get(text[n])) return fail("trade: bad entry");
            ++n;
        }
        Trade t;
        if (n != 4 || !ms_text(text[0], t.ts_ms)) return fail("trade: bad entry");
        auto price = price_.to_units(text[1]);
        auto qty = qty_.to_units(text[2]);
        if (!price || *price <= 0 || !qty || *qty <= 0) return fail("trade: bad price or size");
        t.price = *price;
        t.qty = *qty;
        if (text[3] == "buy")
            t.taker_side = Side::buy;
        else if (text[3] == "sell")
            t.taker_side = Side::sell;
        else
            return fail("trade: bad side");
        trades_.push_back(t);
    }
    return snapshot ? MessageKind::trade_snapshot : MessageKind::trade;
}

MessageKind Codec::parse(std::string_view frame, size_t capacity) {
    inst_type_ = inst_id_ = channel_ = {};
    trades_.clear();
    simdjson::padded_string_view input(frame.data(), frame.size(), capacity);
    simdjson::ondemand::document doc;
    if (auto ec = parser_.iterate(input).get(doc)) return fail(simdjson::error_message(ec));
    object root;
    if (doc.get_object().get(root)) return fail("frame is not a JSON object");

    // Data frames start with "action"; subscription acks and errors carry "event" instead.
    std::string_view action;
    auto action_field = root["action"];
    if (action_field.error() != simdjson::SUCCESS) {
        if (root["event"].get_string().get(channel_)) return fail("neither action nor event");
        return MessageKind::other;
    }
    if (action_field.get_string().get(action)) return fail("action is not a string");
    bool snapshot = action == "snapshot";
    if (!snapshot && action != "update")
        return fail("unknown action \"" + std::string(action) + "\"");
    object arg;
    if (root["arg"].get_object().get(arg)) return fail("no arg object");
    if (arg["instType"].get_string().get(inst_type_) || arg["channel"].get_string().get(channel_) ||
        arg["instId"].get_string().get(inst_id_))
        return fail("arg lacks instType, channel or instId");
    bool books = channel_ == "books", trade = channel_ == "trade";
    if (!books && !trade) return MessageKind::other;
    value data;
    if (root["data"].get(data)) return fail("no data");
    return books ? parse_books(data, snapshot) : parse_trades(data, snapshot);
}

}  // namespace keel::bitget
