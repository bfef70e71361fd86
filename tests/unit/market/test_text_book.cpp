#include <catch2/catch.hpp>

#include <string>

#include "keel/market/text_book.hpp"

using namespace keel;
using keel::market::TextBook;

namespace {

// Levels on a 0.01 grid with the text given, as a venue would send them.
void set(TextBook &b, Side side, const char *price, const char *qty) {
    auto units = [](std::string_view t) {
        std::string s(t);
        auto dot = s.find('.');
        std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
        frac.resize(2, '0');
        return std::stoll(s.substr(0, dot)) * 100 + std::stoll(frac);
    };
    REQUIRE(b.apply(side, {{units(price), units(qty)}, price, qty}));
}

}  // namespace

TEST_CASE("text book checksum interleaves the sides over the text as received", "[text_book]") {
    TextBook b;
    // OKX's documented example: "3366.1:7:3366.8:9:3366:6:3368:8" -> -1881014294.
    set(b, Side::buy, "3366", "6");
    set(b, Side::sell, "3368", "8");
    set(b, Side::buy, "3366.1", "7");
    set(b, Side::sell, "3366.8", "9");
    CHECK(b.interleaved_crc32(25) == -1881014294);
    CHECK(b.depth(Side::buy) == 2);
    CHECK(b.level(Side::buy, 0).price == "3366.1");
    CHECK(b.level(Side::sell, 0).level.price == 336680);

    // The same numbers in other text give another checksum (values from Python's zlib.crc32).
    TextBook t;
    set(t, Side::buy, "1.10", "2");
    set(t, Side::sell, "1.20", "3");
    set(t, Side::buy, "1.00", "5");  // bids longer than asks: the bid side just goes on
    CHECK(t.interleaved_crc32(25) == 109468136);  // "1.10:2:1.20:3:1.00:5"
    set(t, Side::buy, "1.1", "2");                // same level, new text replaces the old
    CHECK(t.depth(Side::buy) == 2);
    CHECK(t.interleaved_crc32(25) == 1134646677);  // "1.1:2:1.20:3:1.00:5"
    set(t, Side::buy, "1.10", "0");                // deleted: the next level moves up
    CHECK(t.interleaved_crc32(25) == 1271165211);  // "1.00:5:1.20:3"
    set(t, Side::buy, "9.99", "0");                // deleting an unknown level is normal
    CHECK(t.depth(Side::buy) == 1);
}

TEST_CASE("text book checksum covers only the top levels, which deeper ones refill",
          "[text_book]") {
    TextBook b;
    std::vector<std::string> text;
    for (int i = 0; i < 30; ++i) text.push_back(std::to_string(100 - i) + ".00");
    for (auto &p : text) set(b, Side::buy, p.c_str(), "1");
    set(b, Side::sell, "101.00", "1");
    auto top25 = b.interleaved_crc32(25);
    set(b, Side::buy, "70.00", "5");  // level 31: outside the top 25
    CHECK(b.interleaved_crc32(25) == top25);
    set(b, Side::buy, "100.00", "0");  // the best bid goes; level 26 enters the checksum
    CHECK(b.interleaved_crc32(25) != top25);
    CHECK(b.level(Side::buy, 24).price == "75.00");
    CHECK(b.interleaved_crc32(1) != b.interleaved_crc32(2));
}

TEST_CASE("text longer than the text book keeps is refused", "[text_book]") {
    TextBook b;
    std::string long_text(TextBook::kMaxText + 1, '1');
    CHECK_FALSE(b.apply(Side::buy, {{1, 1}, long_text, "1"}));
    CHECK(b.depth(Side::buy) == 0);
}
