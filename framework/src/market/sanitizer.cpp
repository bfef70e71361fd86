#include "keel/market/sanitizer.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace keel::market {

const char *to_string(Reject r) {
    switch (r) {
        case Reject::malformed:
            return "malformed";
        case Reject::bad_price:
            return "bad_price";
        case Reject::bad_size:
            return "bad_size";
        case Reject::gap:
            return "gap";
        case Reject::out_of_order:
            return "out_of_order";
        case Reject::crossed:
            return "crossed";
        case Reject::checksum:
            return "checksum";
        case Reject::outlier:
            return "outlier";
        case Reject::stale:
            return "stale";
    }
    return "?";
}

uint64_t RejectCounts::total() const {
    uint64_t t = 0;
    for (auto n : by_reason) t += n;
    return t;
}

RejectCounts &RejectCounts::operator+=(const RejectCounts &o) {
    for (size_t k = 0; k < kRejectReasons; ++k) by_reason[k] += o.by_reason[k];
    return *this;
}

// Values below 2 * kSub have a bucket each; above, each power of two splits into kSub buckets.
size_t LatencyHistogram::bucket(uint64_t m) {
    if (m < 2 * kSub) return m;
    int octave = static_cast<int>(std::bit_width(m)) - 1;  // >= 4
    auto sub = (m >> (octave - 3)) & (kSub - 1);
    return std::min<size_t>(static_cast<size_t>(octave - 2) * kSub + sub, kSub * kOctaves - 1);
}

TimeNs LatencyHistogram::upper_edge(size_t b) {
    if (b < 2 * kSub) return static_cast<TimeNs>(b);
    int octave = static_cast<int>(b / kSub) + 2;
    auto sub = static_cast<int64_t>(b % kSub);
    return ((kSub + sub + 1) << (octave - 3)) - 1;
}

TimeNs LatencyHistogram::lower_edge(size_t b) {
    return b == 0 ? 0 : upper_edge(b - 1) + 1;
}

void LatencyHistogram::record(TimeNs latency) {
    if (count_ == 0) {
        min_ = max_ = latency;
    } else {
        min_ = std::min(min_, latency);
        max_ = std::max(max_, latency);
    }
    ++count_;
    if (latency >= 0)
        ++positive_[bucket(static_cast<uint64_t>(latency))];
    else
        ++negative_[bucket(uint64_t{0} - static_cast<uint64_t>(latency))];
}

TimeNs LatencyHistogram::quantile(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * double(count_)));
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    // Most negative first, then from zero up.
    for (size_t b = negative_.size(); b-- > 0;) {
        seen += negative_[b];
        // The bucket's edge nearest zero: minus its lowest magnitude (negatives are >= 1).
        if (seen >= rank) return std::clamp(-lower_edge(b), min_, max_);
    }
    for (size_t b = 0; b < positive_.size(); ++b) {
        seen += positive_[b];
        if (seen >= rank) return std::clamp(upper_edge(b), min_, max_);
    }
    return max_;
}

LatencyHistogram &LatencyHistogram::operator+=(const LatencyHistogram &o) {
    if (o.count_ == 0) return *this;
    min_ = count_ ? std::min(min_, o.min_) : o.min_;
    max_ = count_ ? std::max(max_, o.max_) : o.max_;
    count_ += o.count_;
    for (size_t b = 0; b < positive_.size(); ++b) {
        positive_[b] += o.positive_[b];
        negative_[b] += o.negative_[b];
    }
    return *this;
}

void StreamHealth::on_update(TimeNs receive_ts, TimeNs exchange_ts) {
    if (exchange_ts != 0) latency_.record(receive_ts - exchange_ts);
    last_update_ = std::max(last_update_, receive_ts);
    stale_ = false;
}

bool StreamHealth::check_stale(TimeNs now) {
    if (stale_ || last_update_ == 0 || now - last_update_ < config_.stale_after) return false;
    stale_ = true;
    reject(Reject::stale);
    return true;
}

bool jumps(double a, double b, double max_jump) {
    return std::abs(a - b) > max_jump * b;
}

std::optional<Reject> TradeFilter::check(Ticks price, Lots qty, TimeNs receive_ts,
                                         TimeNs exchange_ts) {
    auto refuse = [&](Reject r) {
        health_.reject(r);
        return r;
    };
    if (price <= 0) return refuse(Reject::bad_price);
    if (qty <= 0) return refuse(Reject::bad_size);
    double max_jump = health_.config().max_jump;
    if (reference_ != 0 && jumps(double(price), double(reference_), max_jump)) {
        // Believe a new level only when consecutive trades confirm it.
        if (candidate_ != 0 && !jumps(double(price), double(candidate_), max_jump)) {
            ++confirmations_;
        } else {
            candidate_ = price;
            confirmations_ = 1;
        }
        if (confirmations_ < health_.config().outlier_confirmations) return refuse(Reject::outlier);
    }
    reference_ = price;
    candidate_ = 0;
    confirmations_ = 0;
    health_.on_update(receive_ts, exchange_ts);
    return std::nullopt;
}

}  // namespace keel::market
