#include "keel/market/candles.hpp"

#include <algorithm>
#include <charconv>

namespace keel::market {

std::optional<TimeNs> parse_timeframe(const std::string &text) {
    if (text.size() < 2) return std::nullopt;
    int64_t n = 0;
    auto unit = text.back();
    auto r = std::from_chars(text.data(), text.data() + text.size() - 1, n);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() - 1 || n <= 0)
        return std::nullopt;
    constexpr TimeNs s = 1'000'000'000;
    switch (unit) {
        case 's':
            return n * s;
        case 'm':
            return n * 60 * s;
        case 'h':
            return n * 3600 * s;
        case 'd':
            return n * 86400 * s;
        default:
            return std::nullopt;
    }
}

std::optional<Candle> CandleBuilder::on_trade(TimeNs ts, Ticks price, Lots qty) {
    TimeNs start = ts - ((ts % length_) + length_) % length_;
    std::optional<Candle> closed;
    if (open_ && start > open_->start) {
        closed = open_;
        open_.reset();
    }
    if (!open_) {
        open_ = Candle{start, length_, price, price, price, price, 0, 0};
    } else if (start < open_->start) {
        return closed;  // late trade for an interval already closed: dropped
    }
    open_->high = std::max(open_->high, price);
    open_->low = std::min(open_->low, price);
    open_->close = price;
    open_->volume += qty;
    open_->trades += 1;
    return closed;
}

std::optional<Candle> CandleBuilder::close_until(TimeNs now) {
    if (open_ && now >= open_->start + open_->length) {
        auto closed = open_;
        open_.reset();
        return closed;
    }
    return std::nullopt;
}

}  // namespace keel::market
