// Bitget API v1 captures (cryptofeed, spot and USDT-M) through the codec and BookKeeper: every
// books checksum matches the book rebuilt from the text as received; a corrupted level is caught
// by the checksum and resyncs the book.

#include <catch2/catch.hpp>

#include <functional>
#include <map>

#include "bitget/book_keeper.hpp"
#include "keel/market/capture.hpp"

using namespace keel;
using bitget::MessageKind;

namespace {

const std::filesystem::path kData = KEEL_DATA_DIR;

bitget::Codec codec() {
    return {market::DecimalGrid{8, 1}, market::DecimalGrid{8, 1}};
}

struct Counts {
    uint64_t snapshots = 0, updates = 0, trades = 0, trade_snapshots = 0, tickers = 0,
             candle_snapshots = 0, candle_updates = 0, invalid = 0;
};

using Keepers = std::map<std::string, bitget::BookKeeper, std::less<>>;

bitget::BookKeeper &keeper(Keepers &k, std::string_view id) {
    auto it = k.find(id);
    if (it == k.end()) it = k.try_emplace(std::string(id)).first;
    return it->second;
}

// Replays a capture; every received frame goes through `edit` first (the identity by default).
Counts replay(const std::filesystem::path &file, Keepers &keepers,
              const std::function<std::string_view(std::string_view, size_t &)> &edit = {}) {
    auto c = codec();
    market::CryptofeedReader reader(file);
    market::CryptofeedLine line;
    Counts n;
    while (reader.next(line)) {
        if (line.kind != market::CryptofeedKind::received) continue;
        size_t capacity = reader.capacity();
        std::string_view frame = edit ? edit(line.payload, capacity) : line.payload;
        auto kind = c.parse(frame, capacity);
        switch (kind) {
            case MessageKind::books_snapshot:
            case MessageKind::books_update: {
                ++(kind == MessageKind::books_snapshot ? n.snapshots : n.updates);
                keeper(keepers, c.inst_id()).on_books(kind, c.books());
                break;
            }
            case MessageKind::trade:
                ++n.trades;
                CHECK(c.trades().size() >= 1);
                break;
            case MessageKind::trade_snapshot:
                ++n.trade_snapshots;
                break;
            case MessageKind::other:
                if (c.channel() == "ticker") ++n.tickers;
                if (c.channel() == "candle1m") {
                    // candle1m snapshots and updates, told apart by the raw action
                    ++(frame.find("\"action\":\"snapshot\"") != std::string_view::npos
                           ? n.candle_snapshots
                           : n.candle_updates);
                }
                break;
            case MessageKind::invalid:
                ++n.invalid;
                FAIL_CHECK("line " << reader.line_number() << ": " << c.error());
                break;
        }
    }
    return n;
}

uint64_t total_matched(const Keepers &keepers) {
    uint64_t m = 0;
    for (auto &[id, k] : keepers) m += k.checksums().matched;
    return m;
}

// Every book whole at the end, its text and integer levels in agreement, no checksum failed.
void check_books(const Keepers &keepers) {
    for (auto &[id, k] : keepers) {
        INFO(id);
        CHECK(k.checksums().mismatched == 0);
        CHECK(k.feed().rejects()[market::Reject::crossed] == 0);
        CHECK(k.usable());
        for (Side side : {Side::buy, Side::sell}) {
            REQUIRE(k.text().depth(side) == k.book().depth(side));
            for (size_t i = 0; i < k.book().depth(side); ++i)
                CHECK(k.text().level(side, i).level == *k.book().level(side, i));
        }
        WARN(id << ": " << k.checksums().matched << " checksums matched");
    }
}

}  // namespace

TEST_CASE("Bitget spot capture: every books checksum matches", "[data][bitget]") {
    Keepers keepers;
    auto n = replay(kData / "bitget/cryptofeed_capture/BITGET.ws.1.0", keepers);
    // The counts the data README lists for this capture.
    CHECK(n.invalid == 0);
    CHECK(n.snapshots == 8);
    CHECK(n.updates == 435);
    CHECK(n.tickers == 128);
    CHECK(n.trade_snapshots == 8);
    CHECK(n.trades == 30);
    CHECK(n.candle_snapshots == 8);
    CHECK(n.candle_updates == 35);
    CHECK(keepers.size() == 8);
    CHECK(total_matched(keepers) == 443);
    check_books(keepers);
}

TEST_CASE("Bitget USDT-M capture: every books checksum matches", "[data][bitget]") {
    Keepers keepers;
    auto n = replay(kData / "bitget/cryptofeed_capture/BITGET.ws.2.0", keepers);
    CHECK(n.invalid == 0);
    CHECK(n.snapshots == 2);
    CHECK(n.updates == 192);
    CHECK(n.tickers == 217);
    CHECK(n.trade_snapshots == 2);
    CHECK(n.trades == 25);
    CHECK(keepers.size() == 2);
    CHECK(total_matched(keepers) == 194);
    check_books(keepers);
}

TEST_CASE("Bitget: a corrupted level fails the checksum and forces a resync", "[data][bitget]") {
    const auto file = kData / "bitget/cryptofeed_capture/BITGET.ws.1.0";
    Keepers clean;
    replay(file, clean);

    // The 20th books update or the first after it whose first ask has a size with a decimal
    // point: its size text gets one more digit.
    std::string original, edited;  // the frame before and after, with padding
    auto corrupt = [&original, &edited](char digit) {
        return [digit, &original, &edited, updates = 0, done = false](
                   std::string_view frame, size_t &capacity) mutable -> std::string_view {
            if (done || frame.find("\"channel\":\"books\"") == std::string_view::npos ||
                frame.find("\"action\":\"update\"") == std::string_view::npos || ++updates < 20)
                return frame;
            auto asks = frame.find("\"asks\":[[\"");
            if (asks == std::string_view::npos) return frame;
            auto size_start = frame.find(",\"", asks) + 2;
            auto size_end = frame.find('"', size_start);
            auto size = frame.substr(size_start, size_end - size_start);
            if (size.find('.') == std::string_view::npos) return frame;
            done = true;
            original.assign(frame);
            original.append(market::CryptofeedReader::kPadding, '\0');
            edited.assign(frame.substr(0, size_end));
            edited += digit;
            edited.append(frame.substr(size_end));
            edited.append(market::CryptofeedReader::kPadding, '\0');
            capacity = edited.size();
            return {edited.data(), edited.size() - market::CryptofeedReader::kPadding};
        };
    };

    SECTION("a different size: the book is wrong and the checksum says so") {
        Keepers keepers;
        auto n = replay(file, keepers, corrupt('7'));
        CHECK(n.invalid == 0);
        uint64_t mismatched = 0;
        for (auto &[id, k] : keepers) {
            INFO(id);
            mismatched += k.checksums().mismatched;
            if (k.checksums().mismatched == 0) {
                CHECK(k.usable());  // the other books are not disturbed
                continue;
            }
            CHECK(k.checksums().mismatched == 1);
            CHECK(k.feed().rejects()[market::Reject::checksum] == 1);
            // Discarded until a new snapshot, which this capture never sends: later updates
            // are held back, never applied to the bad book.
            CHECK(k.needs_snapshot());
            CHECK_FALSE(k.usable());
            CHECK(k.feed().sync_stats().buffered > 0);
            CHECK(k.checksums().matched < clean.at(id).checksums().matched);
        }
        CHECK(mismatched == 1);
    }

    SECTION("the same size in other text: the integers agree, the checksum does not") {
        Keepers keepers;
        auto n = replay(file, keepers, corrupt('0'));  // "2.554" -> "2.5540"
        CHECK(n.invalid == 0);
        uint64_t mismatched = 0;
        for (auto &[id, k] : keepers) mismatched += k.checksums().mismatched;
        CHECK(mismatched == 1);

        auto a = codec(), b = codec();
        auto view = [](const std::string &s) {
            return std::string_view(s.data(), s.size() - market::CryptofeedReader::kPadding);
        };
        REQUIRE(a.parse(view(original), original.size()) == MessageKind::books_update);
        REQUIRE(b.parse(view(edited), edited.size()) == MessageKind::books_update);
        CHECK(a.books().asks == b.books().asks);
        CHECK(a.books().bids == b.books().bids);
        CHECK(a.books().ask_text[0].qty != b.books().ask_text[0].qty);
    }
}

TEST_CASE("Bitget: after a checksum mismatch, a new snapshot makes the book whole again",
          "[data][bitget]") {
    // A book whose level was corrupted, then given the venue's state as a fresh snapshot (what
    // subscribing again returns), taken from a clean keeper that saw the same messages.
    auto c = codec();
    market::CryptofeedReader reader(kData / "bitget/cryptofeed_capture/BITGET.ws.2.0");
    market::CryptofeedLine line;
    bitget::BookKeeper clean, faulty;
    std::string target, bad_qty;
    uint64_t updates = 0, served = 0, reads_while_broken = 0;
    bool corrupted = false;
    while (reader.next(line)) {
        if (line.kind != market::CryptofeedKind::received) continue;
        auto kind = c.parse(line.payload, reader.capacity());
        if (kind != MessageKind::books_snapshot && kind != MessageKind::books_update) continue;
        if (target.empty()) target = c.inst_id();
        if (c.inst_id() != target) continue;
        clean.on_books(kind, c.books());
        bitget::Books books = c.books();
        if (kind == MessageKind::books_update && ++updates >= 10 && !corrupted) {
            // The size of the best ask, if this update sets it, arrives with a digit too many.
            auto best = clean.book().best_ask();
            for (size_t i = 0; i < books.asks.size(); ++i) {
                if (books.asks[i].price != best->price || books.asks[i].qty == 0) continue;
                bad_qty = std::string(books.ask_text[i].qty) + "1";
                auto units = market::DecimalGrid{8, 1}.to_units(bad_qty);
                REQUIRE(units);
                books.asks[i].qty = *units;
                books.ask_text[i].level.qty = *units;
                books.ask_text[i].qty = bad_qty;
                corrupted = true;
            }
        }
        faulty.on_books(kind, books);
        if (corrupted && faulty.needs_snapshot()) {
            // Serve a snapshot of the venue's book as it is now.
            bitget::Books snap;
            for (Side side : {Side::buy, Side::sell}) {
                auto &levels = side == Side::buy ? snap.bids : snap.asks;
                auto &text = side == Side::buy ? snap.bid_text : snap.ask_text;
                for (size_t i = 0; i < clean.text().depth(side); ++i) {
                    text.push_back(clean.text().level(side, i));
                    levels.push_back(text.back().level);
                }
            }
            snap.checksum = c.books().checksum;
            CHECK(faulty.on_books(MessageKind::books_snapshot, snap) ==
                  market::SyncStatus::applied);
            ++served;
        } else if (corrupted && !faulty.usable()) {
            ++reads_while_broken;
        }
    }
    REQUIRE(corrupted);
    CHECK(faulty.checksums().mismatched == 1);
    CHECK(served == 1);
    CHECK(reads_while_broken == 0);
    CHECK(faulty.usable());
    CHECK(faulty.checksums().matched == clean.checksums().matched);  // the snapshot replaced one
    for (Side side : {Side::buy, Side::sell}) {
        REQUIRE(faulty.book().depth(side) == clean.book().depth(side));
        for (size_t i = 0; i < clean.book().depth(side); ++i)
            CHECK(*faulty.book().level(side, i) == *clean.book().level(side, i));
    }
}
