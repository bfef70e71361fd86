#include "market.hpp"

#include <algorithm>
#include <charconv>
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
}

const binance::Trade *Market::advance() {
    const Frame &f = frames_[pos_++];
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
        return &codec_.trade();
    }
    return nullptr;
}

std::string Market::depth_json(size_t limit) const {
    std::string out =
        fmt::format(R"({{"lastUpdateId":{},"E":{},"T":{})", last_id_, event_ms_, transaction_ms_);
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
