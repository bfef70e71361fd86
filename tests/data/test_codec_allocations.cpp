// The codecs promise no allocation per message once their buffers have grown. Each capture is
// parsed twice; the second pass, where everything has grown to the largest message already, must
// not call operator new once.

#include <catch2/catch.hpp>

#include <map>

#include "bitget/book_keeper.hpp"
#include "codec.hpp"
#include "data/allocation_counter.hpp"
#include "keel/market/book_sync.hpp"
#include "keel/market/capture.hpp"
#include "kraken_futures/codec.hpp"

using namespace keel;

namespace {

const std::filesystem::path kData = KEEL_DATA_DIR;

struct Frame {
    std::string url;   // rest responses only
    std::string text;  // the payload followed by kPadding zero bytes
    std::string_view view() const {
        return {text.data(), text.size() - market::CryptofeedReader::kPadding};
    }
};

std::vector<Frame> load(const std::filesystem::path &file) {
    market::CryptofeedReader reader(file);
    market::CryptofeedLine line;
    std::vector<Frame> frames;
    while (reader.next(line)) {
        if (line.kind != market::CryptofeedKind::received &&
            line.kind != market::CryptofeedKind::rest_response)
            continue;
        frames.push_back({std::string(line.url), std::string(line.payload)});
        frames.back().text.append(market::CryptofeedReader::kPadding, '\0');
    }
    return frames;
}

// Runs `pass` twice; the allocations of the second run.
template <class F>
uint64_t second_pass_allocations(F &&pass) {
    pass();
    test::start_counting_allocations();
    pass();
    return test::stop_counting_allocations();
}

}  // namespace

TEST_CASE("codecs do not allocate per message once grown", "[data][alloc]") {
    // The counter sees allocations at all (a direct call cannot be optimised away).
    test::start_counting_allocations();
    void *volatile probe = ::operator new(16);
    ::operator delete(probe);
    REQUIRE(test::stop_counting_allocations() == 1);

    SECTION("Binance") {
        binance::Codec c(market::DecimalGrid{8, 1}, market::DecimalGrid{8, 1});
        auto frames = load(kData / "binance/usdm/cryptofeed_capture/BINANCE_FUTURES.http.0.0");
        auto ws = load(kData / "binance/usdm/cryptofeed_capture/BINANCE_FUTURES.ws.1.0");
        frames.insert(frames.end(), ws.begin(), ws.end());
        uint64_t invalid = 0;
        auto n = second_pass_allocations([&] {
            for (auto &f : frames) {
                auto kind = f.url.empty() ? c.parse(f.view(), f.text.size())
                                          : c.parse_depth_response(f.url, f.view(), f.text.size());
                invalid += kind == binance::MessageKind::invalid;
            }
        });
        CHECK(invalid == 0);
        CHECK(n == 0);
    }
    SECTION("Kraken Futures, with each product's BookSync") {
        kraken_futures::Codec c(market::DecimalGrid{8, 1}, market::DecimalGrid{8, 1});
        auto frames = load(kData / "kraken_futures/cryptofeed_capture/KRAKEN_FUTURES.ws.1.0");
        std::map<std::string, std::pair<market::Book, market::BookSync>, std::less<>> books;
        uint64_t applied = 0;
        auto n = second_pass_allocations([&] {
            for (auto &f : frames) {
                auto kind = c.parse(f.view(), f.text.size());
                if (kind != kraken_futures::MessageKind::book_snapshot &&
                    kind != kraken_futures::MessageKind::book_delta)
                    continue;
                auto it = books.find(c.product_id());
                if (it == books.end())  // only on the first pass
                    it = books
                             .try_emplace(std::string(c.product_id()), market::Book{},
                                          market::BookSync(market::SequenceRule::contiguous))
                             .first;
                auto &[book, sync] = it->second;
                if (kind == kraken_futures::MessageKind::book_snapshot) {
                    sync.on_snapshot(c.snapshot().seq, c.snapshot().bids, c.snapshot().asks, book);
                } else {
                    const auto &d = c.delta();
                    std::span<const market::Level> one(&d.level, 1), none;
                    bool buy = d.side == Side::buy;
                    applied += sync.on_delta({d.seq, d.seq, 0}, buy ? one : none, buy ? none : one,
                                             book) == market::SyncStatus::applied;
                }
            }
        });
        CHECK(applied == 2 * 7014);  // both passes rebuilt every book
        CHECK(n == 0);
    }
    SECTION("Bitget, with each symbol's BookKeeper and its checksums") {
        bitget::Codec c(market::DecimalGrid{8, 1}, market::DecimalGrid{8, 1});
        auto frames = load(kData / "bitget/cryptofeed_capture/BITGET.ws.1.0");
        std::map<std::string, bitget::BookKeeper, std::less<>> keepers;
        auto n = second_pass_allocations([&] {
            for (auto &f : frames) {
                auto kind = c.parse(f.view(), f.text.size());
                if (kind != bitget::MessageKind::books_snapshot &&
                    kind != bitget::MessageKind::books_update)
                    continue;
                auto it = keepers.find(c.inst_id());
                if (it == keepers.end()) it = keepers.try_emplace(std::string(c.inst_id())).first;
                it->second.on_books(kind, c.books());
            }
        });
        uint64_t matched = 0, mismatched = 0;
        for (auto &[id, k] : keepers) {
            matched += k.checksums().matched;
            mismatched += k.checksums().mismatched;
        }
        CHECK(matched == 2 * 443);
        CHECK(mismatched == 0);
        CHECK(n == 0);
    }
}
