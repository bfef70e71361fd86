#include <catch2/catch.hpp>

#include "kraken_futures/codec.hpp"

using namespace keel;
using kraken_futures::MessageKind;

namespace {

struct Parser {
    kraken_futures::Codec codec{market::DecimalGrid{2, 5}, market::DecimalGrid{1, 1}};
    std::string buffer;
    MessageKind parse(std::string_view frame) {
        buffer.assign(frame);
        buffer.append(simdjson::SIMDJSON_PADDING, '\0');
        return codec.parse({buffer.data(), frame.size()}, buffer.size());
    }
};

}  // namespace

TEST_CASE("Kraken Futures numbers are read from their text, exponents included", "[kraken]") {
    Parser p;  // tick 0.05, lot 0.1
    REQUIRE(p.parse(R"({"feed":"book","product_id":"PI_ETHUSD","side":"sell","seq":7,)"
                    R"("price":2.00485E3 ,"qty":4787.0,"timestamp":1626994927744})") ==
            MessageKind::book_delta);
    CHECK(p.codec.product_id() == "PI_ETHUSD");
    CHECK(p.codec.delta().seq == 7);
    CHECK(p.codec.delta().side == Side::sell);
    CHECK(p.codec.delta().level.price == 40097);  // 2004.85 / 0.05
    CHECK(p.codec.delta().level.qty == 47870);
    CHECK(p.codec.delta().timestamp_ms == 1626994927744);

    // Off the grid, not a number, negative: refused, never rounded.
    for (auto bad : {R"("price":2004.86,"qty":1.0)", R"("price":"2004.85","qty":1.0)",
                     R"("price":2004.85,"qty":-1.0)", R"("price":2004.85,"qty":0.05)",
                     R"("price":0,"qty":1.0)"}) {
        INFO(bad);
        CHECK(p.parse(std::string(R"({"feed":"book","product_id":"PI_ETHUSD","side":"buy",)") +
                      R"("seq":8,)" + bad + R"(,"timestamp":1})") == MessageKind::invalid);
    }
    CHECK(p.parse(R"({"feed":"book","product_id":"X","side":"up","seq":8,"price":1,"qty":1,)"
                  R"("timestamp":1})") == MessageKind::invalid);
}

TEST_CASE("Kraken Futures events and unused feeds are other, and say what they were", "[kraken]") {
    Parser p;
    CHECK(p.parse(R"({"event":"subscribed","feed":"book","product_ids":["PI_XBTUSD"]})") ==
          MessageKind::other);
    CHECK(p.codec.feed() == "subscribed");
    CHECK(p.parse(R"({"event":"info","version":1})") == MessageKind::other);
    CHECK(p.codec.feed() == "info");
    CHECK(p.parse(R"({"feed":"heartbeat","time":1534262350627})") == MessageKind::other);
    CHECK(p.codec.feed() == "heartbeat");
    CHECK(p.parse(R"({"feed":"ticker_lite","product_id":"PI_XBTUSD","bid":21978.5,)"
                  R"("funding_rate":-6.2604214e-11})") == MessageKind::other);
    CHECK(p.codec.feed() == "ticker_lite");
    CHECK(p.parse(R"({"feed":"book","side":"buy"})") == MessageKind::invalid);
    CHECK(p.parse("[1,2]") == MessageKind::invalid);
    CHECK(p.parse(R"({"feed":"trade_snapshot","product_id":"X","trades":[{"side":"buy",)"
                  R"("seq":1,"time":2,"qty":3,"price":4}]})") == MessageKind::trade_snapshot);
    REQUIRE(p.codec.trades().size() == 1);
    CHECK(p.codec.trades()[0].qty == 30);
    CHECK(p.codec.trades()[0].price == 80);
}
