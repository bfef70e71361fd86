// Faults injected into a real Binance USD-M capture: each is detected, counted and resynced, and
// no one ever reads a book built across the fault.

#include <catch2/catch.hpp>

#include <functional>
#include <map>

#include "codec.hpp"
#include "keel/market/book_feed.hpp"
#include "keel/market/capture.hpp"

using namespace keel;
using binance::MessageKind;
using market::BookFeed;
using market::Level;
using market::SequenceRule;

namespace {

struct Frame {
    std::string text;  // the frame followed by CaptureReader::kPadding zero bytes
    std::string_view view() const {
        return {text.data(), text.size() - market::CaptureReader::kPadding};
    }
};

struct Levels {
    std::vector<Level> bids, asks;
    bool operator==(const Levels &) const = default;
};

Levels copy(const market::Book &b) {
    Levels out;
    for (size_t i = 0; i < b.depth(Side::buy); ++i) out.bids.push_back(*b.level(Side::buy, i));
    for (size_t i = 0; i < b.depth(Side::sell); ++i) out.asks.push_back(*b.level(Side::sell, i));
    return out;
}

std::vector<Frame> load_frames() {
    market::CaptureReader reader(std::filesystem::path(KEEL_DATA_DIR) /
                                 "binance/usdm/ws_capture/btcusdt_20240808_head3947.txt");
    std::vector<Frame> frames;
    TimeNs ts;
    std::string_view f;
    while (reader.next(ts, f))
        frames.push_back({std::string(f) + std::string(market::CaptureReader::kPadding, '\0')});
    return frames;
}

Frame make_frame(std::string text) {
    return {std::move(text) + std::string(market::CaptureReader::kPadding, '\0')};
}

binance::Codec codec() {
    return {market::DecimalGrid{8, 1}, market::DecimalGrid{8, 1}};
}

// The book after every depth event of the clean stream, by u.
std::map<uint64_t, Levels> reference(const std::vector<Frame> &frames) {
    auto c = codec();
    BookFeed feed(SequenceRule::binance_futures);
    std::map<uint64_t, Levels> out;
    for (auto &f : frames) {
        auto kind = c.parse(f.view(), f.text.size());
        if (kind == MessageKind::snapshot) {
            feed.on_snapshot(c.snapshot().last_update_id, c.snapshot().bids, c.snapshot().asks);
        } else if (kind == MessageKind::depth) {
            auto &d = c.depth();
            feed.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks);
            if (feed.usable()) out[d.last] = copy(feed.book());
        }
    }
    return out;
}

struct Outcome {
    uint64_t reads = 0, wrong_reads = 0, resyncs_served = 0;
    market::SyncStats sync;
    market::RejectCounts rejects;
    bool final_matches = false;
};

// Replays `frames`; whenever the feed has buffered a delta and wants a snapshot, serves the
// venue's state at that delta (as a REST snapshot would), taken from the clean reference.
Outcome replay(const std::vector<Frame> &frames, const std::map<uint64_t, Levels> &ref) {
    auto c = codec();
    BookFeed feed(SequenceRule::binance_futures);
    Outcome o;
    bool seen_snapshot = false;
    uint64_t last_u = 0;
    for (auto &f : frames) {
        auto kind = c.parse(f.view(), f.text.size());
        if (kind == MessageKind::invalid) {
            feed.on_malformed();
            continue;
        }
        if (kind == MessageKind::snapshot) {
            seen_snapshot = true;
            feed.on_snapshot(c.snapshot().last_update_id, c.snapshot().bids, c.snapshot().asks);
            continue;
        }
        if (kind != MessageKind::depth) continue;
        auto &d = c.depth();
        auto buffered_before = feed.sync_stats().buffered;
        feed.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks);
        if (feed.usable()) {
            ++o.reads;
            auto it = ref.find(d.last);
            if (it == ref.end() || !(copy(feed.book()) == it->second)) ++o.wrong_reads;
            last_u = d.last;
        }
        if (seen_snapshot && feed.needs_snapshot() &&
            feed.sync_stats().buffered > buffered_before && ref.count(d.last)) {
            auto &s = ref.at(d.last);
            feed.on_snapshot(d.last, s.bids, s.asks);
            ++o.resyncs_served;
            if (feed.usable()) {
                ++o.reads;
                if (!(copy(feed.book()) == s)) ++o.wrong_reads;
                last_u = d.last;
            }
        }
    }
    o.sync = feed.sync_stats();
    o.rejects = feed.rejects();
    o.final_matches =
        feed.usable() && last_u == ref.rbegin()->first && copy(feed.book()) == ref.rbegin()->second;
    return o;
}

// Index of the n-th depth frame after the snapshot line.
size_t nth_delta_after_snapshot(const std::vector<Frame> &frames, int n) {
    bool seen = false;
    for (size_t i = 0; i < frames.size(); ++i) {
        auto v = frames[i].view();
        if (v.starts_with("{\"lastUpdateId\""))
            seen = true;
        else if (seen && v.find("@depth") != std::string_view::npos && n-- == 0)
            return i;
    }
    FAIL("capture has too few deltas");
    return 0;
}

}  // namespace

TEST_CASE("injected faults are detected, counted and resynced, never read", "[data][faults]") {
    const auto clean = load_frames();
    const auto ref = reference(clean);
    REQUIRE(ref.size() > 250);
    const size_t k = nth_delta_after_snapshot(clean, 100);

    auto clean_run = replay(clean, ref);
    CHECK(clean_run.wrong_reads == 0);
    CHECK(clean_run.rejects.total() == 0);
    CHECK(clean_run.final_matches);
    const auto clean_reads = clean_run.reads;

    auto faulted = [&](const std::function<void(std::vector<Frame> &)> &inject) {
        auto frames = clean;
        inject(frames);
        auto o = replay(frames, ref);
        CHECK(o.wrong_reads == 0);  // never a book built across the fault
        CHECK(o.resyncs_served >= 1);
        CHECK(o.final_matches);  // and whole again afterwards
        CHECK(o.reads < clean_reads + 3);
        return o;
    };

    SECTION("a dropped delta is a gap") {
        auto o = faulted([&](auto &f) { f.erase(f.begin() + static_cast<long>(k)); });
        CHECK(o.sync.gaps == 1);
        CHECK(o.rejects[market::Reject::gap] == 1);
    }
    SECTION("a duplicated delta is out of order") {
        auto o = faulted([&](auto &f) { f.insert(f.begin() + static_cast<long>(k), f[k]); });
        CHECK(o.sync.out_of_order == 1);
        CHECK(o.rejects[market::Reject::out_of_order] == 1);
    }
    SECTION("a reordered pair is a gap, then out of order") {
        size_t k2 = nth_delta_after_snapshot(clean, 101);
        auto o = faulted([&](auto &f) { std::swap(f[k], f[k2]); });
        CHECK(o.sync.gaps == 1);
        CHECK(o.sync.out_of_order == 1);
    }
    SECTION("an update that crosses the book discards it") {
        auto o = faulted([&](auto &f) {
            std::string t(f[k].view());
            auto at = t.find("\"b\":[");
            REQUIRE(at != std::string::npos);
            t.insert(at + 5, "[\"99999.90\",\"1.000\"],");
            f[k] = make_frame(t);
        });
        CHECK(o.rejects[market::Reject::crossed] == 1);
        CHECK(o.rejects.total() == 1);
    }
    SECTION("a zero price is refused and resyncs at once") {
        auto o = faulted([&](auto &f) {
            std::string t(f[k].view());
            auto at = t.find("\"a\":[");
            REQUIRE(at != std::string::npos);
            t.insert(at + 5, "[\"0.00\",\"1.000\"],");
            f[k] = make_frame(t);
        });
        CHECK(o.rejects[market::Reject::bad_price] == 1);
        CHECK(o.rejects.total() == 1);
    }
    SECTION("a NaN price is refused, and the hole it leaves is a gap") {
        auto o = faulted([&](auto &f) {
            std::string t(f[k].view());
            auto at = t.find("\"b\":[[\"");
            REQUIRE(at != std::string::npos);
            t.insert(at + 5, "[\"NaN\",\"1.000\"],");
            f[k] = make_frame(t);
        });
        CHECK(o.rejects[market::Reject::malformed] == 1);
        CHECK(o.rejects[market::Reject::gap] == 1);
        CHECK(o.rejects.total() == 2);
    }
}
