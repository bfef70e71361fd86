#include "keel/market/book_sync.hpp"

namespace keel::market {

bool BookSync::is_stale(const DeltaIds &ids, uint64_t snapshot_id) const {
    switch (rule_) {
        case SequenceRule::none:
            return false;  // only deltas buffered before a snapshot are stale (on_snapshot)
        case SequenceRule::binance_futures:
            return ids.last < snapshot_id;
        case SequenceRule::binance_spot:
            return ids.last <= snapshot_id;
        case SequenceRule::contiguous:
            return ids.last <= snapshot_id;
    }
    return false;
}

bool BookSync::bridges(const DeltaIds &ids, uint64_t snapshot_id) const {
    switch (rule_) {
        case SequenceRule::none:
            return true;
        case SequenceRule::binance_futures:
            // Or it follows the snapshot exactly: a snapshot taken between two events.
            return (ids.first <= snapshot_id && ids.last >= snapshot_id) ||
                   ids.prev_last == snapshot_id;
        case SequenceRule::binance_spot:
            return ids.first <= snapshot_id + 1 && ids.last >= snapshot_id + 1;
        case SequenceRule::contiguous:
            return ids.first == snapshot_id + 1;
    }
    return false;
}

bool BookSync::continues(const DeltaIds &ids) const {
    switch (rule_) {
        case SequenceRule::none:
            return true;
        case SequenceRule::binance_futures:
            return ids.prev_last == last_;
        case SequenceRule::binance_spot:
        case SequenceRule::contiguous:
            return ids.first == last_ + 1;
    }
    return false;
}

void BookSync::apply(const DeltaIds &ids, std::span<const Level> bids, std::span<const Level> asks,
                     Book &book) {
    book.apply_deltas(Side::buy, bids);
    book.apply_deltas(Side::sell, asks);
    last_ = ids.last;
    awaiting_bridge_ = false;
    ++stats_.applied;
}

void BookSync::start_resync(Book &book, bool out_of_order) {
    book.invalidate();
    state_ = State::awaiting_snapshot;
    buffer_.clear();
    buffer_levels_.clear();
    if (out_of_order)
        ++stats_.out_of_order;
    else
        ++stats_.gaps;
}

void BookSync::force_resync(Book &book) {
    book.invalidate();
    state_ = State::awaiting_snapshot;
    buffer_.clear();
    buffer_levels_.clear();
}

SyncStatus BookSync::on_delta(const DeltaIds &ids, std::span<const Level> bids,
                              std::span<const Level> asks, Book &book) {
    if (state_ == State::awaiting_snapshot) {
        if (buffer_.size() >= max_buffered_) {
            // The snapshot is not coming in time: keep the newest deltas, they are what a later
            // snapshot will bridge.
            buffer_.clear();
            buffer_levels_.clear();
        }
        auto first = static_cast<uint32_t>(buffer_levels_.size());
        buffer_levels_.insert(buffer_levels_.end(), bids.begin(), bids.end());
        buffer_levels_.insert(buffer_levels_.end(), asks.begin(), asks.end());
        buffer_.push_back(
            {ids, first, static_cast<uint32_t>(bids.size()), static_cast<uint32_t>(asks.size())});
        ++stats_.buffered;
        return SyncStatus::buffered;
    }
    if (awaiting_bridge_) {
        if (is_stale(ids, snapshot_id_)) {
            ++stats_.stale;
            return SyncStatus::stale;
        }
        if (!bridges(ids, snapshot_id_)) {
            // Events between the snapshot and this one are missing: this delta starts the
            // buffer for the next snapshot.
            start_resync(book, false);
            on_delta(ids, bids, asks, book);
            return SyncStatus::resync;
        }
        apply(ids, bids, asks, book);
        return SyncStatus::applied;
    }
    if (!continues(ids)) {
        bool behind = ids.last <= last_;  // a duplicate or an event from the past
        start_resync(book, behind);
        if (!behind) on_delta(ids, bids, asks, book);  // a newer delta may still be bridged
        return SyncStatus::resync;
    }
    apply(ids, bids, asks, book);
    return SyncStatus::applied;
}

SyncStatus BookSync::on_snapshot(uint64_t snapshot_id, std::span<const Level> bids,
                                 std::span<const Level> asks, Book &book) {
    ++stats_.snapshots;
    book.apply_snapshot(bids, asks);
    state_ = State::live;
    awaiting_bridge_ = true;
    snapshot_id_ = snapshot_id;
    last_ = snapshot_id;
    if (rule_ == SequenceRule::none) {
        // Without ids nothing tells which buffered deltas the snapshot already holds.
        stats_.stale += buffer_.size();
        buffer_.clear();
        buffer_levels_.clear();
        awaiting_bridge_ = false;
        return SyncStatus::applied;
    }
    // Replay what arrived before the snapshot, by the same rules as live deltas. The buffer is
    // moved out first: a failure inside starts a new buffer.
    std::vector<Buffered> pending;
    std::vector<Level> levels;
    pending.swap(buffer_);
    levels.swap(buffer_levels_);
    SyncStatus result = SyncStatus::applied;
    for (size_t k = 0; k < pending.size(); ++k) {
        const auto &b = pending[k];
        std::span<const Level> bs(levels.data() + b.first_level, b.bid_count);
        std::span<const Level> as(levels.data() + b.first_level + b.bid_count, b.ask_count);
        auto s = on_delta(b.ids, bs, as, book);
        if (s == SyncStatus::resync || s == SyncStatus::buffered) result = SyncStatus::resync;
    }
    // Keep the capacity of the larger buffers for the next time.
    if (buffer_.empty() && buffer_levels_.empty()) {
        pending.clear();
        levels.clear();
        buffer_.swap(pending);
        buffer_levels_.swap(levels);
    }
    return state_ == State::live ? SyncStatus::applied : result;
}

}  // namespace keel::market
