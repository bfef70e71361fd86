// Binance's public market answers on real payloads and docs examples from ../shared/data: spot
// REST klines, trades, aggTrades, tickers, avgPrice and time (binance::RestMarket), the USD-M
// markPrice and forceOrder stream events, and the USD-M aggTrade, bookTicker and depthUpdate
// docs examples through binance::Codec, field by field.

#include <catch2/catch.hpp>

#include "codec.hpp"
#include "data_file.hpp"
#include "exchange_info.hpp"
#include "rest_market.hpp"

using namespace keel;
using namespace keel::binance;

namespace {

std::string spot(const std::string &name) {
    return test::data_file("binance/spot/rest/http_spot_market_" + name + ".json");
}

std::string usdm(const std::string &name) {
    return test::data_file("binance/usdm/docs_examples/" + name + ".json");
}

// `text` with its only `from` replaced by `to`.
std::string replaced(std::string text, const std::string &from, const std::string &to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    REQUIRE(text.find(from, at + 1) == std::string::npos);
    return text.replace(at, from.size(), to);
}

// BTCUSDT spot (http_spot_market_exchange_info.json): tick 0.01, lot 0.00001.
RestMarket spot_btc() {
    return {market::DecimalGrid{2, 1}, market::DecimalGrid{5, 1}};
}

// BTCUSDT USD-M: tick 0.10, lot 0.001.
RestMarket usdm_btc() {
    return {market::DecimalGrid{2, 10}, market::DecimalGrid{3, 1}};
}

constexpr int64_t ms(int64_t v) {
    return v * 1'000'000;
}

// Codec::parse reads up to SIMDJSON_PADDING bytes past a frame's end.
MessageKind parse(Codec &c, const std::string &frame) {
    std::string padded = frame + std::string(simdjson::SIMDJSON_PADDING, '\0');
    return c.parse(std::string_view(padded.data(), frame.size()), padded.size());
}

// A stream payload as the live combined stream delivers it.
std::string combined(const std::string &stream, const std::string &payload) {
    return R"({"stream":")" + stream + R"(","data":)" + payload + "}";
}

}  // namespace

TEST_CASE("spot klines (real) become candles in ticks and lots", "[binance][rest]") {
    auto r = spot_btc();
    REQUIRE(r.parse_klines(spot("klines")));
    struct Row {
        int64_t open_ms, length_ms;
        Ticks open, high, low, close;
        Lots volume;
        uint32_t trades;
    } rows[] = {
        // 1m candles, 2021-10-22 23:03 to 23:12 UTC; prices on 0.01, volume on 0.00001.
        {1634943780000, 60000, 6068522, 6072984, 6067090, 6071927, 2163272, 617},
        {1634943840000, 60000, 6071928, 6078041, 6070700, 6077181, 2191797, 769},
        {1634943900000, 60000, 6077318, 6079913, 6074524, 6076871, 1538660, 722},
        {1634943960000, 60000, 6076871, 6080752, 6075651, 6078656, 1267640, 673},
        {1634944020000, 60000, 6078655, 6078715, 6075607, 6075965, 813593, 491},
        {1634944080000, 60000, 6076299, 6077881, 6073458, 6077488, 1090120, 593},
        {1634944140000, 60000, 6077488, 6078769, 6075892, 6077664, 472517, 393},
        {1634944200000, 60000, 6077663, 6077663, 6072378, 6073858, 794426, 414},
        {1634944260000, 60000, 6074000, 6076548, 6072500, 6073985, 531675, 375},
        // Still open when fetched: 7 trades at one price.
        {1634944320000, 60000, 6073985, 6073985, 6073985, 6073985, 4734, 7},
    };
    REQUIRE(r.candles().size() == std::size(rows));
    for (size_t i = 0; i < std::size(rows); ++i) {
        INFO("kline " << i);
        const market::Candle &c = r.candles()[i];
        CHECK(c.start == ms(rows[i].open_ms));
        CHECK(c.length == ms(rows[i].length_ms));
        CHECK(c.end() == ms(rows[i].open_ms + 60000));
        CHECK(c.open == rows[i].open);
        CHECK(c.high == rows[i].high);
        CHECK(c.low == rows[i].low);
        CHECK(c.close == rows[i].close);
        CHECK(c.volume == rows[i].volume);
        CHECK(c.trades == rows[i].trades);
        CHECK_FALSE(c.flat);
        CHECK(c.history);
    }
    // An interval without a trade is flat, as CandleSet would have made it.
    REQUIRE(r.parse_klines(R"([[1634944380000,"60739.85","60739.85","60739.85","60739.85",
        "0.00000000",1634944439999,"0.00000000",0,"0.00000000","0.00000000","0"]])"));
    REQUIRE(r.candles().size() == 1);
    CHECK(r.candles()[0].flat);
    CHECK(r.candles()[0].volume == 0);
    CHECK(r.candles()[0].close == 6073985);
}

TEST_CASE("spot trades and historical trades (real)", "[binance][rest]") {
    struct Row {
        uint64_t id;
        int64_t time_ms;
        Ticks price;
        Lots qty;
        bool buyer_maker;
        int64_t quote;  // 1e-8 USDT
    };
    const Row trades[] = {
        {1111468873, 1634942949263, 6065000, 2924, true, 177340600000},
        {1111468874, 1634942949287, 6065001, 82, false, 4973300820},
        {1111468875, 1634942949583, 6065001, 1100, false, 66715011000},
        {1111468876, 1634942949873, 6065000, 738, true, 44759700000},
        {1111468877, 1634942949950, 6065001, 25, false, 1516250250},
        {1111468878, 1634942949950, 6065002, 100, false, 6065002000},
        {1111468879, 1634942949950, 6065500, 1100, false, 66720500000},
        {1111468880, 1634942949986, 6065499, 623, true, 37788058770},
        {1111468881, 1634942950034, 6065499, 445, true, 26991470550},
        {1111468882, 1634942950067, 6065499, 997, true, 60473025030},
    };
    const Row historical[] = {
        {1111471896, 1634943219887, 6081478, 34, true, 2067702520},
        {1111471897, 1634943219918, 6081479, 300, false, 18244437000},
        {1111471898, 1634943219918, 6081479, 120, false, 7297774800},
        {1111471899, 1634943219918, 6081608, 1100, false, 66897688000},
        {1111471900, 1634943219918, 6081745, 24, false, 1459618800},
        {1111471901, 1634943219918, 6081818, 3456, false, 210187630080},
        {1111471902, 1634943219933, 6081810, 312, true, 18975247200},
        {1111471903, 1634943219985, 6081818, 893, true, 54310634740},
        {1111471904, 1634943220037, 6081818, 465, true, 28280453700},
        {1111471905, 1634943220769, 6081479, 6902, false, 419743680580},
    };
    auto check = [](const std::vector<MarketTrade> &got, const Row *rows, size_t n) {
        REQUIRE(got.size() == n);
        for (size_t i = 0; i < n; ++i) {
            INFO("trade " << i);
            const MarketTrade &t = got[i];
            CHECK(t.id == rows[i].id);
            CHECK(t.first_id == rows[i].id);
            CHECK(t.last_id == rows[i].id);
            CHECK(t.time_ns == ms(rows[i].time_ms));
            CHECK(t.price == rows[i].price);
            CHECK(t.qty == rows[i].qty);
            // As the plugin maps a stream trade's m: the buyer resting means the seller took.
            CHECK(t.aggressor == (rows[i].buyer_maker ? KEEL_SIDE_SELL : KEEL_SIDE_BUY));
            CHECK(t.quote.units == rows[i].quote);
            // quoteQty is price x qty exactly: one tick-lot is 1e-7 USDT, 10 units.
            CHECK(t.quote.units == t.price * t.qty * 10);
        }
    };
    auto r = spot_btc();
    REQUIRE(r.parse_trades(spot("trades")));
    check(r.trades(), trades, std::size(trades));
    REQUIRE(r.parse_trades(spot("historical_trades")));
    check(r.trades(), historical, std::size(historical));
}

TEST_CASE("spot aggTrades (real)", "[binance][rest]") {
    struct Row {
        uint64_t a, f, l;
        int64_t time_ms;
        Ticks price;
        Lots qty;
        bool buyer_maker;
    } rows[] = {
        {966492862, 1111480471, 1111480471, 1634944096633, 6075960, 841, false},
        {966492863, 1111480472, 1111480472, 1634944096848, 6075960, 189, false},
        {966492864, 1111480473, 1111480473, 1634944096877, 6075959, 37, true},
        {966492865, 1111480474, 1111480474, 1634944096878, 6075960, 100, false},
        {966492866, 1111480475, 1111480475, 1634944097038, 6075960, 431, false},
        {966492867, 1111480476, 1111480476, 1634944097501, 6075960, 100, false},
        {966492868, 1111480477, 1111480477, 1634944097857, 6075960, 100, false},
        {966492869, 1111480478, 1111480478, 1634944098082, 6075959, 33, true},
        {966492870, 1111480479, 1111480479, 1634944098130, 6075959, 17, true},
        {966492871, 1111480480, 1111480480, 1634944098216, 6075960, 100, false},
    };
    auto r = spot_btc();
    REQUIRE(r.parse_agg_trades(spot("agg_trades")));
    REQUIRE(r.trades().size() == std::size(rows));
    for (size_t i = 0; i < std::size(rows); ++i) {
        INFO("aggTrade " << i);
        const MarketTrade &t = r.trades()[i];
        CHECK(t.id == rows[i].a);
        CHECK(t.first_id == rows[i].f);
        CHECK(t.last_id == rows[i].l);
        CHECK(t.time_ns == ms(rows[i].time_ms));
        CHECK(t.price == rows[i].price);
        CHECK(t.qty == rows[i].qty);
        CHECK(t.aggressor == (rows[i].buyer_maker ? KEEL_SIDE_SELL : KEEL_SIDE_BUY));
        CHECK(t.quote.units == 0);
    }
}

TEST_CASE("spot bookTicker, ticker price, avgPrice and server time (real)", "[binance][rest]") {
    auto r = spot_btc();
    REQUIRE(r.parse_book_ticker(spot("book_ticker")));
    CHECK(r.book_ticker().symbol == "BTCUSDT");
    CHECK(r.book_ticker().bid == market::Level{6074167, 36580});  // 60741.67 x 0.36580
    CHECK(r.book_ticker().ask == market::Level{6074168, 45178});  // 60741.68 x 0.45178

    REQUIRE(r.parse_ticker_price(spot("ticker_price")));
    CHECK(r.ticker_price().symbol == "BTCUSDT");
    CHECK(r.ticker_price().price == 6074000);

    // The 5-minute average is not on the tick grid: exact 1e-8 units.
    REQUIRE(r.parse_avg_price(spot("avg_price")));
    CHECK(r.average_price().minutes == 5);
    CHECK(r.average_price().price.units == 6075392405551);

    REQUIRE(r.parse_server_time(spot("time")));
    CHECK(r.server_time_ns() == ms(1633835466289));
}

TEST_CASE("USD-M markPrice stream (docs example)", "[binance][rest]") {
    auto r = usdm_btc();
    std::string payload = usdm("mark_price_stream");
    for (const std::string &frame : {payload, combined("btcusdt@markPrice", payload)}) {
        INFO(frame);
        REQUIRE(r.parse_mark_price(frame));
        const MarkPrice &m = r.mark_price();
        CHECK(m.symbol == "BTCUSDT");
        CHECK(m.event_ns == ms(1562305380000));
        // 11794.15 is off BTCUSDT's 0.10 tick: mark prices are not on the grid.
        CHECK(m.mark.units == 1179415000000);
        CHECK(m.index.units == 1178462659091);
        CHECK(m.settlement.units == 1178425641265);
        CHECK(m.funding_rate.units == 38167);  // 0.00038167
        CHECK(m.next_funding_ns == ms(1562306400000));
    }
    // Longs receive when the rate is negative.
    REQUIRE(r.parse_mark_price(replaced(payload, "\"0.00038167\"", "\"-0.00010000\"")));
    CHECK(r.mark_price().funding_rate.units == -10000);
}

TEST_CASE("USD-M forceOrder stream (docs example)", "[binance][rest]") {
    auto r = usdm_btc();
    std::string payload = usdm("liquidation_stream");
    for (const std::string &frame : {payload, combined("btcusdt@forceOrder", payload)}) {
        INFO(frame);
        REQUIRE(r.parse_force_order(frame));
        const ForceOrder &f = r.force_order();
        CHECK(f.symbol == "BTCUSDT");
        CHECK(f.side == KEEL_SIDE_SELL);
        CHECK(f.type == "LIMIT");
        CHECK(f.time_in_force == "IOC");
        CHECK(f.status == "FILLED");
        CHECK(f.event_ns == ms(1568014460893));
        CHECK(f.trade_ns == ms(1568014460893));
        CHECK(f.price == 99100);                       // 9910.00000000 on 0.10
        CHECK(f.average_price.units == 991012345678);  // 9910.12345678, off the grid
        CHECK(f.qty == 14);                            // 0.014 on 0.001
        CHECK(f.last_filled == 14);
        CHECK(f.filled == 14);
    }
}

TEST_CASE("USD-M aggTrade, bookTicker and depthUpdate docs examples through binance::Codec",
          "[binance][rest]") {
    // The docs give bare payloads; Codec::parse reads combined-stream frames and takes any other
    // object for a REST depth snapshot, so a bare payload is refused.
    std::string agg = usdm("agg_trade_stream"), ticker = usdm("book_ticker_stream"),
                depth = usdm("depth_update_stream");
    // The examples' values ("0.001", "25.35190000", "0.0024") are illustrative and off every real
    // USD-M grid for their symbols: on BTCUSDT's 0.10 / 0.001 and BNBUSDT's 0.010 / 0.01 they
    // are refused, never rounded.
    Codec btc(market::DecimalGrid{2, 10}, market::DecimalGrid{3, 1});
    Codec bnb(market::DecimalGrid{3, 10}, market::DecimalGrid{2, 1});
    CHECK(parse(btc, agg) == MessageKind::invalid);
    CHECK(btc.error() == "snapshot: no lastUpdateId");
    CHECK(parse(btc, combined("btcusdt@aggTrade", agg)) == MessageKind::invalid);
    CHECK(btc.error() == "trade: bad price or size");
    CHECK(parse(bnb, combined("bnbusdt@bookTicker", ticker)) == MessageKind::invalid);
    CHECK(bnb.error() == "bookTicker: bad price or size");
    CHECK(parse(btc, combined("btcusdt@depth@0ms", depth)) == MessageKind::invalid);

    // On a grid they fit (tick 0.0001, lot 0.01), wrapped as the live combined stream sends them.
    Codec c(market::DecimalGrid{4, 1}, market::DecimalGrid{2, 1});
    REQUIRE(parse(c, combined("btcusdt@aggTrade", agg)) == MessageKind::trade);
    CHECK(c.symbol() == "BTCUSDT");
    CHECK(c.trade().id == 5933014);
    CHECK(c.trade().trade_ms == 123456785);
    CHECK(c.trade().price == 10);     // 0.001
    CHECK(c.trade().qty == 10000);    // 100
    CHECK(c.trade().buyer_is_maker);  // the plugin reports the seller as aggressor

    REQUIRE(parse(c, combined("bnbusdt@bookTicker", ticker)) == MessageKind::book_ticker);
    CHECK(c.symbol() == "BNBUSDT");
    CHECK(c.book_ticker().update_id == 400900217);
    CHECK(c.book_ticker().bid == market::Level{253519, 3121});  // 25.3519 x 31.21
    CHECK(c.book_ticker().ask == market::Level{253652, 4066});  // 25.3652 x 40.66

    REQUIRE(parse(c, combined("btcusdt@depth@0ms", depth)) == MessageKind::depth);
    CHECK(c.symbol() == "BTCUSDT");
    CHECK(c.depth().first == 157);
    CHECK(c.depth().last == 160);
    CHECK(c.depth().prev_last == 149);
    CHECK(c.depth().event_ms == 123456789);
    REQUIRE(c.depth().bids.size() == 1);
    CHECK(c.depth().bids[0] == market::Level{24, 1000});  // 0.0024 x 10
    REQUIRE(c.depth().asks.size() == 1);
    CHECK(c.depth().asks[0] == market::Level{26, 10000});  // 0.0026 x 100
}

TEST_CASE("bad market answers are refused with the field, never rounded", "[binance][rest]") {
    auto r = spot_btc();
    auto refused = [&](bool parsed, const std::string &where) {
        CHECK_FALSE(parsed);
        INFO(r.error());
        CHECK(r.error().starts_with(where));
    };
    std::string klines = spot("klines");
    refused(r.parse_klines(replaced(klines, "\"60685.22000000\"", "\"60685.225\"")),
            "klines[0].open: \"60685.225\" is off the grid");
    CHECK(r.candles().empty());
    refused(r.parse_klines(replaced(klines, "\"60685.22000000\"", "\"abc\"")),
            "klines[0].open: \"abc\" is not a decimal");
    refused(r.parse_klines(replaced(klines, "\"60685.22000000\"", "60685.22")),
            "klines[0].open: not a string");
    refused(r.parse_klines(replaced(klines, "1634943780000", "\"1634943780000\"")),
            "klines[0].open time: not an integer");
    refused(r.parse_klines(R"([[1634943780000,"1.00","1.00","1.00","1.00","0.1"]])"),
            "klines[0].close time: missing");
    refused(r.parse_klines(R"([[1634943780000,"1.00","0.99","1.00","1.00","0.1",
        1634943839999,"0",3]])"),
            "klines[0].high and low do not bound open and close");
    refused(r.parse_klines(R"({"code":-1121,"msg":"Invalid symbol."})"),
            "klines: not a JSON array");

    std::string trades = spot("trades");
    refused(r.parse_trades(replaced(trades, "\"60650.00000000\",\n    \"qty\": \"0.02924000\"",
                                    "\"60650.005\",\n    \"qty\": \"0.02924000\"")),
            "trades[0].price: \"60650.005\" is off the grid");
    CHECK(r.trades().empty());
    refused(r.parse_trades(replaced(trades, "\"0.00082000\"", "\"0.000825\"")),
            "trades[1].qty: \"0.000825\" is off the grid");
    // A ninth decimal of money is refused, not rounded to 1e-8.
    refused(r.parse_trades(replaced(trades, "\"49.73300820\"", "\"49.733008205\"")),
            "trades[1].quoteQty: \"49.733008205\" is off the grid");
    refused(r.parse_trades(R"([{"id":1,"price":"1.00","qty":"0.1","quoteQty":"0.1","time":1}])"),
            "trades[0].isBuyerMaker: missing");
    refused(r.parse_agg_trades(replaced(spot("agg_trades"), "\"T\": 1634944096848", "\"T\": -1")),
            "aggTrades[1].T: not a time in milliseconds");
    refused(r.parse_agg_trades(R"([{"a":1,"p":"1.00","q":"0.1","f":1,"l":1,"T":1}])"),
            "aggTrades[0].m: missing");

    refused(r.parse_book_ticker(replaced(spot("book_ticker"), "60741.67000000", "60741.675")),
            "bookTicker.bidPrice: \"60741.675\" is off the grid");
    CHECK(r.book_ticker().symbol.empty());
    refused(r.parse_book_ticker(replaced(spot("book_ticker"), "\"0.45178000\"", "\"-0.45178\"")),
            "bookTicker.askQty: negative");
    refused(r.parse_ticker_price(replaced(spot("ticker_price"), "60740.00000000", "sixty")),
            "ticker.price: \"sixty\" is not a decimal");
    refused(r.parse_avg_price(replaced(spot("avg_price"), "60753.92405551", "60753.924055515")),
            "avgPrice.price: \"60753.924055515\" is off the grid");
    refused(r.parse_avg_price(R"({"price":"1.00"})"), "avgPrice.mins: missing");
    refused(r.parse_server_time(replaced(spot("time"), "1633835466289", "\"1633835466289\"")),
            "time.serverTime: not an integer");
    CHECK(r.server_time_ns() == 0);

    auto u = usdm_btc();
    auto refused_usdm = [&](bool parsed, const std::string &where) {
        CHECK_FALSE(parsed);
        INFO(u.error());
        CHECK(u.error().starts_with(where));
    };
    std::string mark = usdm("mark_price_stream");
    refused_usdm(u.parse_mark_price(replaced(mark, "\"0.00038167\"", "\"0.000381675\"")),
                 "markPriceUpdate.r: \"0.000381675\" is off the grid");
    refused_usdm(u.parse_mark_price(replaced(mark, "markPriceUpdate", "forceOrder")),
                 "markPriceUpdate.e: not markPriceUpdate");
    refused_usdm(u.parse_mark_price(replaced(mark, "\"i\"", "\"x\"")),
                 "markPriceUpdate.i: missing");
    refused_usdm(u.parse_mark_price(combined("btcusdt@markPrice", "[]")),
                 "data: missing or not an object");
    std::string liquidation = usdm("liquidation_stream");
    refused_usdm(u.parse_force_order(replaced(liquidation, "\"9910.00000000\"", "\"9910.05\"")),
                 "forceOrder.o.p: \"9910.05\" is off the grid");
    refused_usdm(u.parse_force_order(replaced(liquidation, "\"SELL\"", "\"HOLD\"")),
                 "forceOrder.o.S: neither BUY nor SELL");
    refused_usdm(u.parse_force_order(replaced(liquidation, "\"z\": \"0.014\"", "\"z\": \"0.015\"")),
                 "forceOrder.o.z: fills do not add up");
    CHECK(u.force_order().symbol.empty());
}

TEST_CASE("exchangeInfo gives each symbol's grids, minimums and price limits", "[data][binance]") {
    for (const auto &[file, spot_market] :
         {std::pair{"binance/usdm/rest/http_futures_market_exchange_info.json", false},
          std::pair{"binance/spot/rest/http_spot_market_exchange_info.json", true}}) {
        INFO(file);
        std::string error;
        const auto info = parse_exchange_info(test::data_file(file), error);
        REQUIRE(info);
        const SymbolInfo *btc = info->find("BTCUSDT");
        REQUIRE(btc);
        if (spot_market) {
            CHECK(btc->tick_size == "0.01000000");
            CHECK(btc->min_price == "0.01000000");
            CHECK(btc->max_price == "1000000.00000000");
            CHECK(btc->multiplier_up == "5");
            CHECK(btc->multiplier_down == "0.2");
        } else {
            CHECK(btc->tick_size == "0.10");
            CHECK(btc->min_price == "402");
            CHECK(btc->max_price == "1246396.60");
            CHECK(btc->multiplier_up == "1.1000");
            CHECK(btc->multiplier_down == "0.5454");
        }
    }
    // Spot symbols with a price band per side keep the wider of the two.
    std::string error;
    const auto by_side = parse_exchange_info(
        R"({"symbols":[{"symbol":"XYZUSDT","baseAsset":"XYZ","quoteAsset":"USDT","filters":[
          {"filterType":"PRICE_FILTER","tickSize":"0.01","minPrice":"0","maxPrice":"0"},
          {"filterType":"LOT_SIZE","stepSize":"1","minQty":"1"},
          {"filterType":"PERCENT_PRICE_BY_SIDE","bidMultiplierUp":"1.2","bidMultiplierDown":"0.3",
           "askMultiplierUp":"4","askMultiplierDown":"0.8","avgPriceMins":5}]}]})",
        error);
    REQUIRE(by_side);
    CHECK(by_side->symbols[0].multiplier_up == "4");
    CHECK(by_side->symbols[0].multiplier_down == "0.3");
}
