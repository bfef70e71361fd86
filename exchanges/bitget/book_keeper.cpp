#include "book_keeper.hpp"

namespace keel::bitget {

using market::SyncStatus;

bool BookKeeper::apply_text(const Books &books) {
    bool ok = true;
    for (auto &e : books.bid_text) ok = text_.apply(Side::buy, e) && ok;
    for (auto &e : books.ask_text) ok = text_.apply(Side::sell, e) && ok;
    return ok;
}

SyncStatus BookKeeper::on_books(MessageKind kind, const Books &books) {
    const uint64_t id = ++received_;
    SyncStatus status;
    if (kind == MessageKind::books_snapshot) {
        text_.clear();
        status = feed_.on_snapshot(id, books.bids, books.asks);
    } else {
        status = feed_.on_delta({id, id, 0}, books.bids, books.asks);
    }
    if (status != SyncStatus::applied) return status;
    if (!apply_text(books) || text_.interleaved_crc32(kChecksumDepth) != books.checksum) {
        ++checksums_.mismatched;
        feed_.reject(market::Reject::checksum);
        return SyncStatus::resync;
    }
    ++checksums_.matched;
    return SyncStatus::applied;
}

}  // namespace keel::bitget
