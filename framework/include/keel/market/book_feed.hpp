#pragma once
// A venue book as strategies may see it: BookSync under the venue's sequence rules, behind the L0
// sanitizer. A level with a zero or negative price or a negative size, a delta that leaves the
// book crossed or locked, or one that moves the mid further than the outlier limit discards the
// book and resyncs, like a gap: the snapshot that follows is believed. A frame that could not be
// parsed is counted (the sequence check then catches what it carried). A stream with no update
// for `stale_after` reads unusable until its next update.

#include <span>

#include "keel/market/book_sync.hpp"
#include "keel/market/sanitizer.hpp"

namespace keel::market {

class BookFeed {
  public:
    explicit BookFeed(SequenceRule rule, const SanitizerConfig &config = {})
        : sync_(rule), health_(config) {}

    // Times are the local receive time and the venue's event time (0 if it has none).
    SyncStatus on_snapshot(uint64_t id, std::span<const Level> bids, std::span<const Level> asks,
                           TimeNs receive_ts = 0, TimeNs exchange_ts = 0);
    SyncStatus on_delta(const DeltaIds &ids, std::span<const Level> bids,
                        std::span<const Level> asks, TimeNs receive_ts = 0, TimeNs exchange_ts = 0);
    void on_malformed() { health_.reject(Reject::malformed); }
    // The stream starts over (a reconnect): discard the book and wait for a snapshot. Not a
    // rejection, so not counted.
    void restart();
    // The caller's own check failed (a venue checksum): discard the book and resync.
    void reject(Reject reason);
    // From a timer: true when the stream has just gone stale.
    bool check_stale(TimeNs now) { return health_.check_stale(now); }

    // Whole, in sequence, uncrossed and fresh: the only state in which anyone reads it.
    bool usable() const { return !sync_.needs_snapshot() && !health_.stale() && book_.valid(); }
    bool needs_snapshot() const { return sync_.needs_snapshot(); }
    const Book &book() const { return book_; }
    const SyncStats &sync_stats() const { return sync_.stats(); }
    const RejectCounts &rejects() const { return health_.rejects(); }
    const StreamHealth &health() const { return health_; }

  private:
    bool levels_sane(std::span<const Level> bids, std::span<const Level> asks);
    SyncStatus checked(SyncStatus s, const SyncStats &before, bool snapshot, TimeNs receive_ts,
                       TimeNs exchange_ts);

    Book book_;
    BookSync sync_;
    StreamHealth health_;
    double reference_mid_ = 0;  // mid of the last usable book, for the outlier check
};

}  // namespace keel::market
