#include <catch2/catch.hpp>

#include "bitget/book_keeper.hpp"

using namespace keel;
using bitget::MessageKind;

namespace {

struct Parser {
    bitget::Codec codec{market::DecimalGrid{2, 1}, market::DecimalGrid{3, 1}};
    std::string buffer;
    MessageKind parse(std::string_view frame) {
        buffer.assign(frame);
        buffer.append(simdjson::SIMDJSON_PADDING, '\0');
        return codec.parse({buffer.data(), frame.size()}, buffer.size());
    }
};

std::string books(const char *action, const char *asks, const char *bids, const char *checksum) {
    return std::string(R"({"action":")") + action +
           R"(","arg":{"instType":"sp","channel":"books","instId":"BTCUSDT"},"data":[{"asks":)" +
           asks + R"(,"bids":)" + bids + R"(,"checksum":)" + checksum +
           R"(,"ts":"1649290077630"}]})";
}

}  // namespace

TEST_CASE("Bitget books keep both the integers and the text as received", "[bitget]") {
    Parser p;
    REQUIRE(p.parse(books("snapshot", R"([["1.20","3"]])", R"([["1.10","2"],["1.00","5"]])",
                          "109468136")) == MessageKind::books_snapshot);
    CHECK(p.codec.inst_type() == "sp");
    CHECK(p.codec.inst_id() == "BTCUSDT");
    const auto &b = p.codec.books();
    CHECK(b.bids == std::vector<market::Level>{{110, 2000}, {100, 5000}});
    CHECK(b.bid_text[0].price == "1.10");
    CHECK(b.ask_text[0].qty == "3");
    CHECK(b.checksum == 109468136);
    CHECK(b.ts_ms == 1649290077630);

    // The keeper checks the checksum over that text: "1.10:2:1.20:3:1.00:5".
    bitget::BookKeeper keeper;
    CHECK(keeper.on_books(MessageKind::books_snapshot, b) == market::SyncStatus::applied);
    CHECK(keeper.usable());
    // "1.1" is the same price to the book, but the checksum is over the text.
    REQUIRE(p.parse(books("update", "[]", R"([["1.1","2"]])", "109468136")) ==
            MessageKind::books_update);
    CHECK(keeper.on_books(MessageKind::books_update, p.codec.books()) ==
          market::SyncStatus::resync);
    CHECK(keeper.needs_snapshot());
    CHECK(keeper.feed().rejects()[market::Reject::checksum] == 1);
}

TEST_CASE("Bitget frames that are not books or trades are other; malformed ones invalid",
          "[bitget]") {
    Parser p;
    CHECK(p.parse(R"({"event":"subscribe","arg":{"instType":"sp","channel":"books"}})") ==
          MessageKind::other);
    CHECK(p.codec.channel() == "subscribe");
    CHECK(p.parse(R"({"event":"error","code":30001,"msg":"instType:sp,channel:x not exist"})") ==
          MessageKind::other);
    CHECK(p.codec.channel() == "error");
    CHECK(p.parse(R"({"action":"snapshot","arg":{"instType":"sp","channel":"ticker",)"
                  R"("instId":"X"},"data":[{"last":"1"}]})") == MessageKind::other);
    CHECK(p.codec.channel() == "ticker");

    REQUIRE(p.parse(R"({"action":"update","arg":{"instType":"mc","channel":"trade",)"
                    R"("instId":"UNIUSDT"},"data":[["1649290078916","9.97","1","sell"]]})") ==
            MessageKind::trade);
    REQUIRE(p.codec.trades().size() == 1);
    CHECK(p.codec.trades()[0].price == 997);
    CHECK(p.codec.trades()[0].qty == 1000);
    CHECK(p.codec.trades()[0].taker_side == Side::sell);

    CHECK(p.parse(books("update", R"([["1.205","3"]])", "[]", "1")) == MessageKind::invalid);
    CHECK(p.parse(books("update", "[]", "[]", "4294967295")) == MessageKind::invalid);
    CHECK(p.parse(books("resend", "[]", "[]", "1")) == MessageKind::invalid);
    CHECK(p.parse(R"({"action":"update","arg":{"instType":"mc","channel":"trade",)"
                  R"("instId":"X"},"data":[["1","9.97","1","up"]]})") == MessageKind::invalid);
}
