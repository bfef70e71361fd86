#pragma once
// The L0 sanitizer: what stands between a venue's stream and anything that reads it. Each stream
// (one instrument's book, one instrument's trades) keeps a StreamHealth: rejections counted by
// reason, the exchange-to-receive latency, and whether the stream has gone quiet for too long.
// BookFeed (book_feed.hpp) applies it to books, TradeFilter to trades.

#include <array>
#include <cstdint>
#include <optional>

#include "keel/core/types.hpp"

namespace keel::market {

enum class Reject : uint8_t {
    malformed,     // the frame could not be parsed (NaN, exponent, negative, off-grid, bad JSON)
    bad_price,     // zero or negative price
    bad_size,      // negative size, or a zero-size trade
    gap,           // a sequence number is missing: resync
    out_of_order,  // duplicate or reordered sequence: resync
    crossed,       // best bid >= best ask after an update: resync
    checksum,      // the venue's checksum of the book disagrees with ours (Bitget): resync
    outlier,       // a trade or the mid jumped further than the configured limit
    stale,         // no update for longer than the configured limit (counted once per episode)
};
inline constexpr size_t kRejectReasons = 9;
const char *to_string(Reject r);

struct RejectCounts {
    std::array<uint64_t, kRejectReasons> by_reason{};
    uint64_t &operator[](Reject r) { return by_reason[static_cast<size_t>(r)]; }
    uint64_t operator[](Reject r) const { return by_reason[static_cast<size_t>(r)]; }
    uint64_t total() const;
    RejectCounts &operator+=(const RejectCounts &o);
};

struct SanitizerConfig {
    TimeNs stale_after = 10'000'000'000;  // 10 s without an update: the stream is stale
    // A trade, or a book's mid, further than this fraction from the last accepted one is an
    // outlier. A trade outlier is accepted once `outlier_confirmations` consecutive trades agree
    // with it (the market really moved); a book outlier resyncs, and the snapshot is believed.
    double max_jump = 0.10;
    uint32_t outlier_confirmations = 3;
};

// Exchange time to receive time, in log-linear buckets (8 per power of two, so any percentile is
// within 12.5 %). Latency can be negative when the local clock is behind the venue's; both signs
// are kept. Fixed size, no allocation.
class LatencyHistogram {
  public:
    void record(TimeNs latency);
    uint64_t count() const { return count_; }
    // The q-quantile (0..1), as the upper edge of its bucket; 0 when empty.
    TimeNs quantile(double q) const;
    TimeNs min() const { return min_; }
    TimeNs max() const { return max_; }
    LatencyHistogram &operator+=(const LatencyHistogram &o);

  private:
    static constexpr int kSub = 8, kOctaves = 48;  // up to 2^48 ns, about 3 days
    static size_t bucket(uint64_t magnitude);
    static TimeNs lower_edge(size_t bucket);
    static TimeNs upper_edge(size_t bucket);
    std::array<uint64_t, kSub * kOctaves> positive_{}, negative_{};
    uint64_t count_ = 0;
    TimeNs min_ = 0, max_ = 0;
};

// One stream's health. The owner calls on_update for every accepted message and check_stale from
// a timer; a stale stream reads unusable until its next update.
class StreamHealth {
  public:
    explicit StreamHealth(const SanitizerConfig &config) : config_(config) {}

    void on_update(TimeNs receive_ts, TimeNs exchange_ts);
    // True when this call found the stream newly stale (counted once per episode).
    bool check_stale(TimeNs now);
    bool stale() const { return stale_; }
    void reject(Reject r) { ++rejects_[r]; }

    const SanitizerConfig &config() const { return config_; }
    const RejectCounts &rejects() const { return rejects_; }
    const LatencyHistogram &latency() const { return latency_; }
    TimeNs last_update() const { return last_update_; }

  private:
    SanitizerConfig config_;
    RejectCounts rejects_;
    LatencyHistogram latency_;
    TimeNs last_update_ = 0;  // receive time of the last accepted message; 0 before the first
    bool stale_ = false;
};

// Trades of one instrument: refuses bad prices and sizes, and outliers until confirmed.
class TradeFilter {
  public:
    explicit TradeFilter(const SanitizerConfig &config = {}) : health_(config) {}

    // nullopt: accepted (and the reference price moves); otherwise the reason it was refused.
    std::optional<Reject> check(Ticks price, Lots qty, TimeNs receive_ts, TimeNs exchange_ts);
    StreamHealth &health() { return health_; }
    const StreamHealth &health() const { return health_; }

  private:
    StreamHealth health_;
    Ticks reference_ = 0;  // last accepted price
    Ticks candidate_ = 0;  // an outlier level waiting for confirmations
    uint32_t confirmations_ = 0;
};

// |a - b| > max_jump * b, for positive prices.
bool jumps(double a, double b, double max_jump);

}  // namespace keel::market
