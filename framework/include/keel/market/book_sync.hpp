#pragma once
// Keeps an L2 book in step with a venue's snapshot + delta stream under the venue's sequence
// rules. Deltas that arrive before the snapshot are buffered; stale ones are dropped; the first
// applied delta must bridge the snapshot; every later one must continue the previous. A gap,
// duplicate or reordering discards the book (it reads invalid) and asks for a new snapshot.

#include <cstdint>
#include <span>
#include <vector>

#include "keel/market/book.hpp"

namespace keel::market {

enum class SequenceRule {
    // No ids (the sim venue): events apply in order once a snapshot has arrived; deltas before it
    // cannot be placed against it and are dropped as stale.
    none,
    // Binance USD-M futures: drop u < lastUpdateId; first applied has U <= lastUpdateId <= u
    // (or pu == lastUpdateId: the snapshot fell between two events); then each pu equals the
    // previous u.
    binance_futures,
    // Binance spot: drop u <= lastUpdateId; first applied has U <= lastUpdateId + 1 <= u; then
    // each U equals the previous u + 1.
    binance_spot,
    // One number per message, each the previous + 1; the snapshot carries the number it is at
    // (Kraken Futures `seq`). Pass the number as both first and last.
    contiguous,
};

// Sequence numbers of one delta: U, u and pu in Binance's terms (prev_last unused by the
// other rules).
struct DeltaIds {
    uint64_t first = 0;
    uint64_t last = 0;
    uint64_t prev_last = 0;
};

enum class SyncStatus : uint8_t {
    applied,   // the book moved; read it
    buffered,  // waiting for a snapshot; the book is invalid
    stale,     // older than the snapshot: dropped, nothing changed
    resync,    // gap, duplicate or reorder: the book is discarded until a new snapshot
};

struct SyncStats {
    uint64_t applied = 0, buffered = 0, stale = 0, gaps = 0, out_of_order = 0, snapshots = 0;
};

class BookSync {
  public:
    explicit BookSync(SequenceRule rule, size_t max_buffered = 100'000)
        : rule_(rule), max_buffered_(max_buffered) {}

    SyncStatus on_delta(const DeltaIds &ids, std::span<const Level> bids,
                        std::span<const Level> asks, Book &book);
    // Applies the snapshot, then any buffered deltas it makes current. Returns `applied` when
    // the book is whole, `resync` when the buffered deltas do not continue it (a newer snapshot
    // is needed).
    SyncStatus on_snapshot(uint64_t snapshot_id, std::span<const Level> bids,
                           std::span<const Level> asks, Book &book);
    // The caller found the book unusable (crossed, checksum mismatch): discard and resync.
    void force_resync(Book &book);

    // True until a snapshot has made the book whole, and again after every gap: the adapter
    // should fetch a snapshot.
    bool needs_snapshot() const { return state_ != State::live; }
    const SyncStats &stats() const { return stats_; }

  private:
    enum class State { awaiting_snapshot, live };
    struct Buffered {
        DeltaIds ids;
        uint32_t first_level, bid_count, ask_count;
    };

    bool is_stale(const DeltaIds &ids, uint64_t snapshot_id) const;
    bool bridges(const DeltaIds &ids, uint64_t snapshot_id) const;
    bool continues(const DeltaIds &ids) const;
    void apply(const DeltaIds &ids, std::span<const Level> bids, std::span<const Level> asks,
               Book &book);
    void start_resync(Book &book, bool out_of_order);

    SequenceRule rule_;
    size_t max_buffered_;
    State state_ = State::awaiting_snapshot;
    bool awaiting_bridge_ = false;  // live, but no delta applied since the snapshot
    uint64_t snapshot_id_ = 0;
    uint64_t last_ = 0;  // `last` of the latest applied delta (or the snapshot's id)
    std::vector<Buffered> buffer_;
    std::vector<Level> buffer_levels_;
    SyncStats stats_;
};

}  // namespace keel::market
