#include "keel/market/candles.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace keel::market {
namespace {

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kDay = 86'400 * kSecond;

// Start of the interval of `length` containing ts (floor, also before 1970).
TimeNs interval_start(TimeNs ts, TimeNs length) {
    TimeNs r = ts % length;
    return r < 0 ? ts - r - length : ts - r;
}

}  // namespace

std::optional<TimeNs> parse_timeframe(const std::string &text) {
    if (text.size() < 2) return std::nullopt;
    int64_t n = 0;
    auto unit = text.back();
    auto r = std::from_chars(text.data(), text.data() + text.size() - 1, n);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() - 1 || n <= 0)
        return std::nullopt;
    int64_t unit_s = 0;
    switch (unit) {
        case 's':
            unit_s = 1;
            break;
        case 'm':
            unit_s = 60;
            break;
        case 'h':
            unit_s = 3600;
            break;
        case 'd':
            unit_s = 86400;
            break;
        default:
            return std::nullopt;
    }
    if (n > std::numeric_limits<TimeNs>::max() / (unit_s * kSecond)) return std::nullopt;
    return n * unit_s * kSecond;
}

std::string format_timeframe(TimeNs length) {
    if (length <= 0 || length % kSecond != 0) return std::to_string(length) + "ns";
    int64_t s = length / kSecond;
    if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
    if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
    if (s % 60 == 0) return std::to_string(s / 60) + "m";
    return std::to_string(s) + "s";
}

bool divides_day(TimeNs length) {
    return length >= kSecond && length <= kDay && length % kSecond == 0 && kDay % length == 0;
}

// ---- CandleBuilder ---------------------------------------------------------------------------

void CandleBuilder::open(TimeNs ts, Ticks price, Lots qty) {
    TimeNs start = interval_start(ts, length_);
    open_ = Candle{start, length_, price, price, price, price, qty, 1, false, false};
    open_end_ = start + length_;
    // closed_until_ stays at the last candle handed out: under `skip` the intervals between are
    // simply never emitted (is_late also refuses them, because the open candle is later); under
    // `flat` the caller has already popped their fillers.
}

TimeNs CandleBuilder::history_end() const {
    return history_next_ < history_.size() ? history_.back().end() : closed_until_;
}

bool CandleBuilder::flat_due(TimeNs due) const {
    // Fillers start at the previous close, and stop at the open candle.
    return empty_ == EmptyIntervals::flat && has_close_ && closed_until_ <= due - length_ &&
           (open_end_ == kNever || closed_until_ < open_.start);
}

std::optional<TimeNs> CandleBuilder::next_end(TimeNs due) const {
    if (history_next_ < history_.size()) return history_[history_next_].end();
    if (flat_due(due)) return closed_until_ + length_;
    if (open_end_ != kNever && open_end_ <= due) return open_end_;
    return std::nullopt;
}

Candle CandleBuilder::pop(TimeNs due) {
    Candle c;
    if (history_next_ < history_.size()) {
        c = history_[history_next_++];
        if (history_next_ == history_.size()) {
            history_.clear();
            history_next_ = 0;
        }
        closed_until_ = c.end();
    } else if (flat_due(due)) {
        Ticks p = last_close_;
        c = Candle{closed_until_, length_, p, p, p, p, 0, 0, true, false};
        closed_until_ += length_;
        return c;
    } else {
        c = open_;
        closed_until_ = open_end_;
        open_.start = kNone;
        open_end_ = kNever;
    }
    last_close_ = c.close;
    has_close_ = true;
    return c;
}

CandleBuilder::SeedResult CandleBuilder::seed(const Candle &c, TimeNs now) {
    bool ohlc_ok = c.low > 0 && c.low <= c.open && c.low <= c.close && c.high >= c.open &&
                   c.high >= c.close && c.volume >= 0;
    if (c.length != length_ || interval_start(c.start, length_) != c.start || !ohlc_ok)
        return SeedResult::invalid;
    if (c.end() > now) return SeedResult::unfinished;
    TimeNs done = history_end();
    if ((done != kNever && c.start < done) || (open_end_ != kNever && c.end() > open_.start))
        return SeedResult::overlap;
    Candle h = c;
    h.history = true;
    h.flat = false;
    history_.push_back(h);
    return SeedResult::accepted;
}

// ---- CandleSet -------------------------------------------------------------------------------

CandleSet::CandleSet(std::span<const TimeNs> lengths, EmptyIntervals empty) {
    for (TimeNs len : lengths) {
        if (!divides_day(len))
            throw std::invalid_argument("candle timeframe " + format_timeframe(len) +
                                        " must be 1s to 1d and divide a day evenly");
        if (find(len))
            throw std::invalid_argument("candle timeframe " + format_timeframe(len) +
                                        " given twice");
        builders_.emplace_back(len, empty);
    }
    std::sort(
        builders_.begin(), builders_.end(),
        [](const CandleBuilder &a, const CandleBuilder &b) { return a.length() < b.length(); });
}

CandleBuilder *CandleSet::find(TimeNs length) {
    for (auto &b : builders_)
        if (b.length() == length) return &b;
    return nullptr;
}

std::vector<Candle> CandleSet::sorted_history(std::span<const Candle> history) const {
    std::vector<Candle> out(history.begin(), history.end());
    // Stable: of two candles for the same interval, the first given is the one kept.
    std::stable_sort(out.begin(), out.end(), [](const Candle &a, const Candle &b) {
        return a.end() != b.end() ? a.end() < b.end() : a.length < b.length;
    });
    return out;
}

void CandleSet::count(CandleBuilder::SeedResult r) {
    switch (r) {
        case CandleBuilder::SeedResult::accepted:
            ++stats_.seeded;
            break;
        case CandleBuilder::SeedResult::invalid:
            ++stats_.seed_invalid;
            break;
        case CandleBuilder::SeedResult::overlap:
            ++stats_.seed_overlap;
            break;
        case CandleBuilder::SeedResult::unfinished:
            ++stats_.seed_unfinished;
            break;
    }
}

}  // namespace keel::market
