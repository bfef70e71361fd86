#include "market.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

#include "keel/market/capture.hpp"

namespace keel::venue {

std::string format_fixed(int64_t value, int decimals) {
    const bool negative = value < 0;
    const uint64_t v = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    if (decimals == 0) return fmt::format("{}{}", negative ? "-" : "", v);
    const uint64_t scale = market::kPowersOfTen[decimals];
    return fmt::format("{}{}.{:0{}}", negative ? "-" : "", v / scale, v % scale, decimals);
}

ShownGrid ShownGrid::parse(std::string_view text) {
    const auto grid = market::DecimalGrid::parse(text);
    if (!grid) throw std::runtime_error("not a grid size: " + std::string(text));
    const auto dot = text.find('.');
    const int shown = dot == std::string_view::npos ? 0 : static_cast<int>(text.size() - dot - 1);
    return ShownGrid{*grid, std::max(shown, grid->decimals)};
}

std::string format_units(int64_t units, ShownGrid g) {
    const auto scale = static_cast<int64_t>(market::kPowersOfTen[g.shown - g.grid.decimals]);
    return format_fixed(units * g.grid.step * scale, g.shown);
}

std::string format_quote(int64_t value, ShownGrid price, ShownGrid qty) {
    const int extra = price.shown - price.grid.decimals + qty.shown - qty.grid.decimals;
    return format_fixed(value * static_cast<int64_t>(market::kPowersOfTen[extra]),
                        price.grid.decimals + qty.grid.decimals + extra);
}

namespace {

constexpr int64_t kDayMs = 86'400'000;

int64_t floor_div(int64_t a, int64_t b) {
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    const int64_t era = floor_div(y, 400);
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
void civil_from_days(int64_t z, int64_t &y, int64_t &m) {
    z += 719468;
    const int64_t era = floor_div(z, 146097);
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = yoe + era * 400 + (m <= 2);
}

}  // namespace

std::optional<KlineInterval> KlineInterval::parse(std::string_view text) {
    using K = KlineInterval::Kind;
    static constexpr std::pair<std::string_view, int64_t> kFixed[] = {
        {"1m", 60'000},     {"3m", 180'000},    {"5m", 300'000},     {"15m", 900'000},
        {"30m", 1'800'000}, {"1h", 3'600'000},  {"2h", 7'200'000},   {"4h", 14'400'000},
        {"6h", 21'600'000}, {"8h", 28'800'000}, {"12h", 43'200'000}, {"1d", kDayMs},
        {"3d", 3 * kDayMs}};
    for (const auto &[name, ms] : kFixed)
        if (text == name) return KlineInterval{K::fixed, ms};
    if (text == "1w") return KlineInterval{K::week, 7 * kDayMs};
    if (text == "1M") return KlineInterval{K::month, 0};
    return std::nullopt;
}

int64_t KlineInterval::open_of(int64_t t) const {
    switch (kind) {
        case Kind::fixed:
            return floor_div(t, ms) * ms;
        case Kind::week: {  // weeks open on Monday; 1970-01-05 was one
            constexpr int64_t kMonday = 4 * kDayMs;
            return floor_div(t - kMonday, ms) * ms + kMonday;
        }
        case Kind::month: {
            int64_t y = 0, m = 0;
            civil_from_days(floor_div(t, kDayMs), y, m);
            return days_from_civil(y, m, 1) * kDayMs;
        }
    }
    return t;
}

int64_t KlineInterval::next(int64_t open_ms) const {
    if (kind != Kind::month) return open_ms + ms;
    int64_t y = 0, m = 0;
    civil_from_days(floor_div(open_ms, kDayMs), y, m);
    return m == 12 ? days_from_civil(y + 1, 1, 1) * kDayMs : days_from_civil(y, m + 1, 1) * kDayMs;
}

namespace {

// The integer after `"key":` in `text` (the first occurrence), or 0.
int64_t int_field(std::string_view text, std::string_view key) {
    const auto at = text.find(key);
    if (at == std::string_view::npos) return 0;
    int64_t v = 0;
    const char *p = text.data() + at + key.size();
    std::from_chars(p, text.data() + text.size(), v);
    return v;
}

constexpr std::string_view kStreamPrefix = R"({"stream":")";
constexpr std::string_view kDataKey = R"(,"data":)";

}  // namespace

Market::Market(const std::filesystem::path &capture, std::string symbol, ShownGrid price,
               ShownGrid qty)
    : symbol_(std::move(symbol)), price_(price), qty_(qty), codec_(price.grid, qty.grid) {
    market::CaptureReader reader(capture);
    struct Line {
        TimeNs ts;
        size_t offset, size;
    };
    std::vector<Line> lines;
    TimeNs ts = 0;
    std::string_view frame;
    while (reader.next(ts, frame)) {
        lines.push_back({ts, text_.size(), frame.size()});
        text_.append(frame);
        text_.append(market::CaptureReader::kPadding, '\0');
    }

    // Views are taken once text_ has stopped growing.
    std::vector<Frame> all;
    all.reserve(lines.size());
    size_t snapshot = lines.size();
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string_view t(text_.data() + lines[i].offset, lines[i].size);
        Frame f{.receive_ns = lines[i].ts, .text = t};
        if (t.starts_with(kStreamPrefix)) {
            const auto end = t.find('"', kStreamPrefix.size());
            const auto data = t.find(kDataKey);
            if (end == std::string_view::npos || data == std::string_view::npos || t.back() != '}')
                throw std::runtime_error(
                    fmt::format("{}: frame {} has no stream or data", capture.string(), i + 1));
            f.stream = t.substr(kStreamPrefix.size(), end - kStreamPrefix.size());
            f.data = t.substr(data + kDataKey.size(), t.size() - 1 - data - kDataKey.size());
            f.depth = f.stream.find("@depth") != std::string_view::npos;
            f.trade = f.stream.ends_with("@trade");
            f.event_ms = int_field(f.data, R"("E":)");
        } else if (snapshot == lines.size() &&
                   codec_.parse(t, lines[i].size + market::CaptureReader::kPadding) ==
                       binance::MessageKind::snapshot) {
            snapshot = i;
        }
        all.push_back(f);
    }
    if (snapshot == lines.size())
        throw std::runtime_error(capture.string() + ": no REST depth snapshot to start from");

    codec_.parse(all[snapshot].text, all[snapshot].text.size() + market::CaptureReader::kPadding);
    const auto &snap = codec_.snapshot();
    book_.apply_snapshot(snap.bids, snap.asks);
    last_id_ = snap.last_update_id;
    event_ms_ = int_field(all[snapshot].text, R"("E":)");
    transaction_ms_ = int_field(all[snapshot].text, R"("T":)");

    size_t start = snapshot + 1;
    for (size_t i = 0; i < snapshot; ++i) {
        if (!all[i].depth) continue;
        if (codec_.parse(all[i].text, all[i].text.size() + market::CaptureReader::kPadding) !=
            binance::MessageKind::depth)
            throw std::runtime_error(
                fmt::format("{}: frame {}: {}", capture.string(), i + 1, codec_.error()));
        if (codec_.depth().last >= last_id_) {
            start = i;
            break;
        }
    }
    for (size_t i = start; i < all.size(); ++i)
        if (!all[i].stream.empty()) frames_.push_back(all[i]);
    if (!frames_.empty()) exchange_ms_ = frames_.front().event_ms;
}

const binance::Trade *Market::advance() {
    const Frame &f = frames_[pos_++];
    exchange_ms_ = std::max(exchange_ms_, f.event_ms);
    if (!f.depth && !f.trade) return nullptr;
    const auto kind = codec_.parse(f.text, f.text.size() + market::CaptureReader::kPadding);
    if (kind == binance::MessageKind::depth && codec_.symbol() == symbol_) {
        const auto &d = codec_.depth();
        for (const auto &l : d.bids) book_.apply_delta(Side::buy, l);
        for (const auto &l : d.asks) book_.apply_delta(Side::sell, l);
        last_id_ = d.last;
        event_ms_ = d.event_ms;
        transaction_ms_ = int_field(f.data, R"("T":)");
    } else if (kind == binance::MessageKind::trade && codec_.symbol() == symbol_) {
        const auto &t = codec_.trade();
        trades_.push_back({.time_ms = t.trade_ms,
                           .price = t.price,
                           .qty = t.qty,
                           .buyer_maker = t.buyer_is_maker});
        return &t;
    } else if (kind == binance::MessageKind::invalid) {
        ++unparsed_;
    }
    return nullptr;
}

std::optional<int64_t> Market::mid_1e8() const {
    const auto bid = book_.best_bid(), ask = book_.best_ask();
    if (!bid || !ask) return std::nullopt;
    const int decimals = price_.grid.decimals;
    const int64_t sum = (bid->price + ask->price) * price_.grid.step;  // 10^-decimals
    if (decimals >= 8) {  // a mid finer than 1e-8: half away from zero (never on Binance's grids)
        const auto scale = static_cast<int64_t>(market::kPowersOfTen[decimals - 8]) * 2;
        return (sum + scale / 2) / scale;
    }
    return sum * static_cast<int64_t>(market::kPowersOfTen[8 - decimals]) / 2;  // even: exact
}

std::string Market::klines_json(const KlineInterval &interval, std::optional<int64_t> start_ms,
                                std::optional<int64_t> end_ms, size_t limit) const {
    if (trades_.empty() || limit == 0) return "[]";
    int64_t lo = interval.open_of(trades_.front().time_ms);
    int64_t hi = interval.open_of(exchange_ms_);
    if (start_ms) {  // the first kline opening at or after startTime
        int64_t first = interval.open_of(*start_ms);
        if (first < *start_ms) first = interval.next(first);
        lo = std::max(lo, first);
    }
    if (end_ms) hi = std::min(hi, interval.open_of(*end_ms));  // the last opening at or before
    std::vector<int64_t> opens;
    for (int64_t o = lo; o <= hi; o = interval.next(o)) opens.push_back(o);
    if (opens.size() > limit) {
        if (start_ms)
            opens.resize(limit);
        else
            opens.erase(opens.begin(), opens.end() - static_cast<std::ptrdiff_t>(limit));
    }
    if (opens.empty()) return "[]";
    std::string out = "[";
    for (const KlineRow &k : kline_rows(interval, opens)) {
        if (out.size() > 1) out += ',';
        fmt::format_to(
            std::back_inserter(out), R"([{},"{}","{}","{}","{}","{}",{},"{}",{},"{}","{}","0"])",
            k.open_ms, format_units(k.open, price_), format_units(k.high, price_),
            format_units(k.low, price_), format_units(k.close, price_),
            format_units(k.volume, qty_), k.next_ms - 1, format_quote(k.quote, price_, qty_),
            k.count, format_units(k.taker_volume, qty_), format_quote(k.taker_quote, price_, qty_));
    }
    out += ']';
    return out;
}

std::vector<Market::KlineRow> Market::kline_rows(const KlineInterval &interval,
                                                 const std::vector<int64_t> &opens) const {
    std::vector<KlineRow> rows;
    if (trades_.empty() || opens.empty()) return rows;
    // The trades from the first kline on, and the close before it for klines without a trade.
    auto it = std::lower_bound(trades_.begin(), trades_.end(), opens.front(),
                               [](const PrintedTrade &t, int64_t ms) { return t.time_ms < ms; });
    Ticks close = it == trades_.begin() ? it->price : std::prev(it)->price;
    for (const int64_t open_ms : opens) {
        KlineRow k{.open_ms = open_ms, .next_ms = interval.next(open_ms)};
        k.open = k.high = k.low = close;
        for (; it != trades_.end() && it->time_ms < k.next_ms; ++it) {
            if (k.count++ == 0) k.open = k.high = k.low = it->price;
            k.high = std::max(k.high, it->price);
            k.low = std::min(k.low, it->price);
            close = it->price;
            const int64_t q = it->price * price_.grid.step * it->qty * qty_.grid.step;
            k.volume += it->qty;
            k.quote += q;
            if (!it->buyer_maker) {  // the buyer took: a taker buy
                k.taker_volume += it->qty;
                k.taker_quote += q;
            }
        }
        k.close = close;
        rows.push_back(k);
    }
    return rows;
}

std::string Market::kline_event(const KlineInterval &interval, std::string_view name,
                                int64_t open_ms, bool closed, int64_t event_ms) const {
    const auto rows = kline_rows(interval, {open_ms});
    if (rows.empty()) return {};
    const KlineRow &k = rows.front();
    return fmt::format(
        R"({{"e":"kline","E":{},"s":"{}","k":{{"t":{},"T":{},"s":"{}","i":"{}","f":-1,"L":-1,)"
        R"("o":"{}","c":"{}","h":"{}","l":"{}","v":"{}","n":{},"x":{},"q":"{}","V":"{}","Q":"{}",)"
        R"("B":"0"}}}})",
        event_ms, symbol_, k.open_ms, k.next_ms - 1, symbol_, name, format_units(k.open, price_),
        format_units(k.close, price_), format_units(k.high, price_), format_units(k.low, price_),
        format_units(k.volume, qty_), k.count, closed ? "true" : "false",
        format_quote(k.quote, price_, qty_), format_units(k.taker_volume, qty_),
        format_quote(k.taker_quote, price_, qty_));
}

std::string Market::depth_json(size_t limit, bool spot) const {
    std::string out = spot ? fmt::format(R"({{"lastUpdateId":{})", last_id_)
                           : fmt::format(R"({{"lastUpdateId":{},"E":{},"T":{})", last_id_,
                                         event_ms_, transaction_ms_);
    for (const Side side : {Side::buy, Side::sell}) {
        out += side == Side::buy ? R"(,"bids":[)" : R"(,"asks":[)";
        size_t n = 0;
        book_.visit(side, [&](const market::Level &l) {
            if (n++) out += ',';
            fmt::format_to(std::back_inserter(out), R"(["{}","{}"])", format_units(l.price, price_),
                           format_units(l.qty, qty_));
            return n < limit;
        });
        out += ']';
    }
    out += '}';
    return out;
}

}  // namespace keel::venue
