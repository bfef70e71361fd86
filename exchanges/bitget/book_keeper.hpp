#pragma once
// One Bitget v1 book kept whole and checked. Bitget v1 numbers nothing: a `books` snapshot on
// subscribing, then updates, each carrying the CRC32 of the top 25 levels as Bitget wrote them.
// So the keeper numbers the messages itself (BookFeed's `contiguous` rule then means "in the
// order received, after the snapshot") and, after every message, compares Bitget's checksum with
// one computed over the received text of its own levels. A mismatch discards the book like a
// gap; the adapter then subscribes again for a new snapshot.

#include <cstdint>

#include "codec.hpp"
#include "keel/market/book_feed.hpp"
#include "keel/market/text_book.hpp"

namespace keel::bitget {

struct ChecksumStats {
    uint64_t matched = 0, mismatched = 0;
};

class BookKeeper {
  public:
    static constexpr size_t kChecksumDepth = 25;

    BookKeeper() : feed_(market::SequenceRule::contiguous) {}

    // Applies a books_snapshot or books_update the codec parsed. `applied` when the book moved
    // and its checksum matched; `resync` when the book was discarded (checksum mismatch, crossed
    // book, text too long to keep); `buffered`/`stale` while waiting for a snapshot.
    market::SyncStatus on_books(MessageKind kind, const Books &books);

    bool usable() const { return feed_.usable(); }
    bool needs_snapshot() const { return feed_.needs_snapshot(); }
    const market::Book &book() const { return feed_.book(); }
    const market::TextBook &text() const { return text_; }
    const market::BookFeed &feed() const { return feed_; }
    const ChecksumStats &checksums() const { return checksums_; }

  private:
    bool apply_text(const Books &books);

    market::BookFeed feed_;
    market::TextBook text_;
    uint64_t received_ = 0;  // books messages so far: the sequence Bitget does not send
    ChecksumStats checksums_;
};

}  // namespace keel::bitget
