// Every cryptofeed capture in ../shared/data through CryptofeedReader, checked against the raw
// text of each line: kinds, URLs, exact nanosecond times and padded, well-formed payloads.

#include <catch2/catch.hpp>

#include <simdjson.h>
#include <fstream>

#include "keel/market/capture.hpp"

using namespace keel;
using market::CryptofeedKind;
using market::CryptofeedLine;
using market::CryptofeedReader;

namespace {

const std::filesystem::path kData = KEEL_DATA_DIR;

// Nanoseconds back to cryptofeed's text (Python's repr of the float it wrote).
std::string seconds_text(TimeNs ts) {
    std::string frac = std::to_string(ts % 1'000'000'000);
    frac.insert(0, 9 - frac.size(), '0');
    while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
    return std::to_string(ts / 1'000'000'000) + "." + frac;
}

struct Counts {
    uint64_t connect = 0, sent = 0, received = 0, rest = 0, configuration = 0;
};

// Reads `file` with the reader and, in step, as plain text; checks each line against its text.
Counts read_all(const std::filesystem::path &file) {
    INFO(file.filename().string());
    CryptofeedReader reader(file);
    std::ifstream raw(file);
    simdjson::dom::parser json;
    Counts n;
    std::string connect_url_copy;
    TimeNs last_ts = 0;
    CryptofeedLine line;
    std::string text;
    while (reader.next(line)) {
        do {
            REQUIRE(std::getline(raw, text));
        } while (text.empty());  // the reader skips blank lines
        INFO("line " << reader.line_number());
        std::string ts = seconds_text(line.ts);
        switch (line.kind) {
            case CryptofeedKind::connect:
                ++n.connect;
                CHECK(text == std::string(line.url) + " <-> " + ts);
                connect_url_copy = line.url;
                break;
            case CryptofeedKind::sent:
                ++n.sent;
                CHECK(line.url == connect_url_copy);  // sent on the connection opened above
                CHECK(text.starts_with(std::string(line.url) + " <- " + ts + ": "));
                break;
            case CryptofeedKind::received:
                ++n.received;
                CHECK(text.starts_with(ts + ": "));
                break;
            case CryptofeedKind::rest_response:
                ++n.rest;
                CHECK(line.url.starts_with("https://"));
                CHECK(text.starts_with(std::string(line.url) + " -> " + ts + ": "));
                break;
            case CryptofeedKind::configuration:
                ++n.configuration;
                CHECK(line.ts == 0);
                break;
        }
        if (line.kind != CryptofeedKind::configuration) {
            CHECK(line.ts >= last_ts);  // cryptofeed writes in the order it received
            last_ts = line.ts;
        }
        if (line.kind == CryptofeedKind::connect) continue;
        CHECK(text.ends_with(line.payload));
        // Padded as simdjson needs: parsed in place, without a copy.
        REQUIRE(reader.capacity() >= line.payload.size() + CryptofeedReader::kPadding);
        simdjson::dom::element doc;
        CHECK(json.parse(line.payload.data(), line.payload.size(), false).get(doc) ==
              simdjson::SUCCESS);
    }
    while (std::getline(raw, text)) CHECK(text.empty());  // nothing the reader did not hand out
    return n;
}

}  // namespace

TEST_CASE("cryptofeed WebSocket captures: one connect, then sent and received frames",
          "[data][cryptofeed]") {
    for (auto file :
         {"binance/usdm/cryptofeed_capture/BINANCE_FUTURES.ws.1.0",
          "binance/spot/cryptofeed_capture/BINANCE.ws.1.0",
          "kraken_futures/cryptofeed_capture/KRAKEN_FUTURES.ws.1.0",
          "bitget/cryptofeed_capture/BITGET.ws.1.0", "bitget/cryptofeed_capture/BITGET.ws.2.0"}) {
        auto n = read_all(kData / file);
        CHECK(n.connect == 1);
        CHECK(n.received > 100);
        CHECK(n.rest + n.configuration == 0);
    }
}

TEST_CASE("cryptofeed REST captures: responses by URL, one configuration", "[data][cryptofeed]") {
    for (auto file : {"binance/usdm/cryptofeed_capture/BINANCE_FUTURES.http.0.0",
                      "binance/spot/cryptofeed_capture/BINANCE.http.0.0"}) {
        auto n = read_all(kData / file);
        CHECK(n.rest == 4);  // the data README: 4 depth snapshots
        CHECK(n.connect + n.sent + n.received + n.configuration == 0);
    }
    for (auto file : {"binance/usdm/cryptofeed_capture/BINANCE_FUTURES.0",
                      "binance/spot/cryptofeed_capture/BINANCE.0",
                      "kraken_futures/cryptofeed_capture/KRAKEN_FUTURES.0",
                      "bitget/cryptofeed_capture/BITGET.0"}) {
        auto n = read_all(kData / file);
        CHECK(n.rest >= 1);
        CHECK(n.configuration == 1);
        CHECK(n.connect + n.sent + n.received == 0);
    }
}
