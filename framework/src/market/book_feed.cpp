#include "keel/market/book_feed.hpp"

namespace keel::market {

bool BookFeed::levels_sane(std::span<const Level> bids, std::span<const Level> asks) {
    // One pass with no branch per level, on sign bits: price - 1 or price negative means
    // price <= 0. The reason is looked for only when a level is bad.
    uint64_t signs = 0;
    for (auto side : {bids, asks})
        for (const auto &l : side) {
            const auto price = static_cast<uint64_t>(l.price);
            signs |= (price - 1) | price | static_cast<uint64_t>(l.qty);
        }
    if ((signs >> 63) == 0) return true;
    for (auto side : {bids, asks}) {
        for (const auto &l : side) {
            if (l.price <= 0 || l.qty < 0) {
                reject(l.price <= 0 ? Reject::bad_price : Reject::bad_size);
                return false;
            }
        }
    }
    return true;
}

void BookFeed::restart() {
    sync_.force_resync(book_);
    reference_mid_ = 0;
}

void BookFeed::reject(Reject reason) {
    health_.reject(reason);
    restart();
}

SyncStatus BookFeed::checked(SyncStatus s, const SyncStats &before, bool snapshot,
                             TimeNs receive_ts, TimeNs exchange_ts) {
    if (s == SyncStatus::resync) {
        const auto &after = sync_.stats();
        if (after.gaps > before.gaps) health_.reject(Reject::gap);
        if (after.out_of_order > before.out_of_order) health_.reject(Reject::out_of_order);
        reference_mid_ = 0;
        return s;
    }
    // Buffered and stale deltas are still signs of life; only applied ones are checked.
    health_.on_update(receive_ts, exchange_ts);
    if (s != SyncStatus::applied) return s;
    if (!book_.valid()) {
        reject(Reject::crossed);
        return SyncStatus::resync;
    }
    double mid = 0.5 * (double(book_.best_bid()->price) + double(book_.best_ask()->price));
    if (!snapshot && reference_mid_ > 0 && jumps(mid, reference_mid_, health_.config().max_jump)) {
        reject(Reject::outlier);
        return SyncStatus::resync;
    }
    reference_mid_ = mid;
    return s;
}

SyncStatus BookFeed::on_snapshot(uint64_t id, std::span<const Level> bids,
                                 std::span<const Level> asks, TimeNs receive_ts,
                                 TimeNs exchange_ts) {
    if (!levels_sane(bids, asks)) return SyncStatus::resync;
    auto before = sync_.stats();
    return checked(sync_.on_snapshot(id, bids, asks, book_), before, true, receive_ts, exchange_ts);
}

SyncStatus BookFeed::on_delta(const DeltaIds &ids, std::span<const Level> bids,
                              std::span<const Level> asks, TimeNs receive_ts, TimeNs exchange_ts) {
    if (!levels_sane(bids, asks)) return SyncStatus::resync;
    auto before = sync_.stats();
    return checked(sync_.on_delta(ids, bids, asks, book_), before, false, receive_ts, exchange_ts);
}

}  // namespace keel::market
