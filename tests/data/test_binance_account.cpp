// The Binance account side on real payloads and official vectors from ../shared/data: request
// signing (signing_vectors.json) and the user-data / REST answers parsed into keel's order,
// position and balance events, field by field.

#include <catch2/catch.hpp>

#include <map>

#include <simdjson.h>

#include "account.hpp"
#include "data_file.hpp"
#include "signer.hpp"

using namespace keel;
using namespace keel::binance;

namespace {

// The grids Binance publishes for the symbols in the payloads (USD-M exchangeInfo; BTCUSD from
// Binance.US).
const std::map<std::string, SymbolGrid, std::less<>> &grids() {
    static const std::map<std::string, SymbolGrid, std::less<>> g = {
        {"BTCUSDT", {1, {1, 1}, {3, 1}}},   // tick 0.10, lot 0.001
        {"ETHUSDT", {2, {2, 1}, {3, 1}}},   // tick 0.01, lot 0.001
        {"DOGEUSDT", {3, {5, 1}, {0, 1}}},  // tick 0.00001, lot 1
        {"BNBUSDT", {4, {3, 10}, {2, 1}}},  // tick 0.010, lot 0.01
        {"BTCUSD", {5, {2, 1}, {5, 1}}},    // tick 0.01, lot 0.00001
    };
    return g;
}

AccountCodec codec() {
    return AccountCodec([](std::string_view s) -> const SymbolGrid * {
        auto it = grids().find(s);
        return it == grids().end() ? nullptr : &it->second;
    });
}

constexpr int64_t ms(int64_t v) {
    return v * 1'000'000;
}

}  // namespace

TEST_CASE("every Binance signing vector reproduces", "[binance][signing]") {
    simdjson::dom::parser parser;
    std::string text = test::data_file("signing_vectors.json");
    simdjson::dom::element root = parser.parse(text);
    int checked = 0;
    for (simdjson::dom::object v : root["vectors"].get_array()) {
        if (std::string_view(v["exchange"]) != "binance") continue;
        std::string_view id = v["id"];
        INFO(id);
        simdjson::dom::object in = v["inputs"];
        std::string_view secret = in["secretKey"], payload = in["payload"];
        std::string_view expected = v["expected"]["signature"];
        simdjson::dom::object params;
        if (id.find("wsapi") != std::string_view::npos) {
            // WebSocket API: the payload is built from the parameters, sorted, not encoded.
            std::vector<std::pair<std::string, std::string>> list;
            for (auto [key, value] : in["params"].get_object()) {
                std::string_view s;
                list.emplace_back(std::string(key), value.get_string().get(s)
                                                        ? simdjson::to_string(value)
                                                        : std::string(s));
            }
            list.emplace_back("signature", "ignored");
            CHECK(ws_api_payload(list) == payload);
            CHECK(hmac_sha256_hex(secret, ws_api_payload(list)) == expected);
        } else if (!in["params"].get(params)) {
            // REST: the query keel builds from the parameters, in order, percent-encoded.
            Query q;
            for (auto [key, value] : params) q.add(key, std::string_view(value));
            CHECK(q.text() == payload);
            CHECK(rest_signature(secret, q.text()) == expected);
        } else {
            // USD-M examples: query string and body given; signed concatenated, no separator.
            std::string_view query = in["queryString"], body = in["requestBody"];
            CHECK(std::string(query) + std::string(body) == payload);
            CHECK(rest_signature(secret, query, body) == expected);
        }
        ++checked;
    }
    CHECK(checked == 7);
}

TEST_CASE("a changed byte changes the signature", "[binance][signing]") {
    std::string secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    std::string a = hmac_sha256_hex(secret, "symbol=LTCBTC&timestamp=1");
    CHECK(a.size() == 64);
    CHECK(a != hmac_sha256_hex(secret, "symbol=LTCBTC&timestamp=2"));
    CHECK(a != hmac_sha256_hex(secret + "x", "symbol=LTCBTC&timestamp=1"));
    CHECK(percent_encode("a b&c=d~._-") == "a%20b%26c%3Dd~._-");
}

TEST_CASE("exact amounts and nearest ticks", "[binance][account]") {
    CHECK(parse_amount("0.00492621") == 492621);
    CHECK(parse_amount("122624.12345678") == 12262412345678);
    CHECK(parse_amount("-45.04000000") == -4504000000);
    CHECK(parse_amount("2850.21200") == 285021200000);
    CHECK(parse_amount("0.000000005") == 1);  // the ninth decimal rounds half away from zero
    CHECK(parse_amount("-0.000000005") == -1);
    CHECK(parse_amount("0.000000004") == 0);
    CHECK_FALSE(parse_amount(""));
    CHECK_FALSE(parse_amount("1e5"));
    CHECK_FALSE(parse_amount("NaN"));
    CHECK_FALSE(parse_amount("1.2.3"));
    CHECK_FALSE(parse_amount("999999999999"));  // beyond int64 in 1e-8 units
    CHECK(nearest_ticks("6563.559", market::DecimalGrid{1, 1}) == 65636);
    CHECK(nearest_ticks("6563.549", market::DecimalGrid{1, 1}) == 65635);
    CHECK(nearest_ticks("0.00000", market::DecimalGrid{1, 1}) == 0);
}

TEST_CASE("USD-M ORDER_TRADE_UPDATE (docs example)", "[binance][account]") {
    auto c = codec();
    REQUIRE(c.parse_event(test::data_file("binance/usdm/docs_examples/order_update_new.json")) ==
            AccountEvent::orders);
    REQUIRE(c.orders().size() == 1);
    const OrderUpdate &u = c.orders()[0];
    CHECK(u.instrument == 1);
    CHECK(u.symbol == "BTCUSDT");
    CHECK(u.client_order_id == "TEST");
    CHECK(u.venue_order_id == "8886774");
    CHECK(u.state == KEEL_ORDER_STATE_NEW);
    CHECK(u.side == KEEL_SIDE_BUY);
    CHECK(u.type == "TRAILING_STOP_MARKET");
    CHECK(u.exchange_ts_ns == ms(1568879465651));
    CHECK(u.qty_lots == 1);  // 0.001 on a 0.001 lot
    CHECK(u.price_ticks == 0);
    CHECK(u.filled_lots == 0);
    CHECK(u.last_qty_lots == 0);
    CHECK(u.trade_id == 0);
    CHECK(u.fee_amount == 0);
    CHECK(u.realized_pnl_amount == 0);
    keel_order_update abi = u.abi();
    CHECK(abi.struct_size == sizeof(keel_order_update));
    CHECK(std::string(abi.client_order_id) == "TEST");
    CHECK(std::string(abi.venue_order_id) == "8886774");
    CHECK(abi.state == KEEL_ORDER_STATE_NEW);
    CHECK(abi.message == nullptr);
}

TEST_CASE("spot executionReport (real, Binance.US fill)", "[binance][account]") {
    auto c = codec();
    REQUIRE(c.parse_event(test::data_file(
                "binance/spot/user_data/ws_spot_execution_report_binance_us.json")) ==
            AccountEvent::orders);
    REQUIRE(c.orders().size() == 1);
    const OrderUpdate &u = c.orders()[0];
    CHECK(u.instrument == 5);
    CHECK(u.client_order_id == "T0ESHzso0banw0QiPFZYgj");
    CHECK(u.venue_order_id == "2281896601");
    CHECK(u.state == KEEL_ORDER_STATE_FILLED);
    CHECK(u.side == KEEL_SIDE_SELL);
    CHECK(u.type == "LIMIT");
    CHECK(u.exchange_ts_ns == ms(1759347763167));
    CHECK(u.qty_lots == 42);           // 0.00042000 on 0.00001
    CHECK(u.price_ticks == 11729077);  // 117290.77 on 0.01
    CHECK(u.filled_lots == 42);
    CHECK(u.last_qty_lots == 42);
    CHECK(u.last_price_ticks == 11729077);
    CHECK(u.trade_id == 88685053);
    CHECK_FALSE(u.maker);
    CHECK(u.fee_amount == 492621);  // 0.00492621 USD
    CHECK(u.fee_asset == "USD");
    CHECK(u.reason == KEEL_VENUE_OK);
    CHECK(u.abi().maker == 0);
    CHECK(std::string(u.abi().fee_asset) == "USD");
}

TEST_CASE("a spot cancel names the order by its original client id", "[binance][account]") {
    auto c = codec();
    std::string cancel = R"({"e":"executionReport","E":1,"s":"BTCUSD","c":"cancel-req-1","S":"BUY",
        "o":"LIMIT","f":"GTC","q":"0.00100000","p":"50000.00","x":"CANCELED","X":"CANCELED",
        "r":"NONE","i":42,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,
        "T":1700000000000,"t":-1,"m":false,"C":"keel-7"})";
    REQUIRE(c.parse_event(cancel) == AccountEvent::orders);
    CHECK(c.orders()[0].client_order_id == "keel-7");
    CHECK(c.orders()[0].state == KEEL_ORDER_STATE_CANCELED);
    CHECK(c.orders()[0].last_qty_lots == 0);
}

TEST_CASE("USD-M TRADE_LITE (real)", "[binance][account]") {
    auto c = codec();
    REQUIRE(c.parse_event(test::data_file("binance/usdm/user_data/ws_futures_trade_lite.json")) ==
            AccountEvent::fill_notice);
    REQUIRE(c.orders().size() == 1);
    const OrderUpdate &u = c.orders()[0];
    CHECK(u.instrument == 2);
    CHECK(u.client_order_id == "O-20240930-081155-001-000-29");
    CHECK(u.venue_order_id == "8389765739703625592");
    CHECK(u.state == keel_order_state{});  // a fill notice, not a status
    CHECK(u.side == KEEL_SIDE_BUY);
    CHECK(u.qty_lots == 37);
    CHECK(u.price_ticks == 263190);
    CHECK(u.last_qty_lots == 37);
    CHECK(u.last_price_ticks == 263190);
    CHECK(u.trade_id == 4467432841);
    CHECK_FALSE(u.maker);
    CHECK(u.exchange_ts_ns == ms(1727683915920));
}

TEST_CASE("USD-M ACCOUNT_UPDATE (docs example)", "[binance][account]") {
    auto c = codec();
    REQUIRE(c.parse_event(test::data_file("binance/usdm/docs_examples/account_update.json")) ==
            AccountEvent::account);
    REQUIRE(c.balances().size() == 1);
    CHECK(c.balances()[0].asset == "USDT");
    CHECK(c.balances()[0].total_amount == 12262412345678);
    CHECK_FALSE(c.balances()[0].has_free);
    CHECK(c.balances()[0].abi().has_free == 0);
    CHECK(c.balances()[0].abi().free_amount == 12262412345678);
    CHECK(c.balances()[0].exchange_ts_ns == ms(1564745798939));
    // "m": "ORDER", "bc": "50.12345678": why and by how much (ABI 1.4).
    CHECK(c.balances()[0].abi().reason == KEEL_BALANCE_TRADE);
    CHECK(c.balances()[0].abi().change_amount == 5012345678);
    REQUIRE(c.positions().size() == 3);
    const PositionUpdate &both = c.positions()[0], &longs = c.positions()[1],
                         &shorts = c.positions()[2];
    CHECK(both.position_side == "BOTH");
    CHECK(both.qty_lots == 0);
    CHECK(both.entry_price_ticks == 0);
    CHECK(longs.position_side == "LONG");
    CHECK(longs.qty_lots == 20000);  // 20 BTC on 0.001
    CHECK(longs.entry_price_ticks == 65636);
    CHECK(longs.unrealized_pnl_amount == 285021200000);
    CHECK(shorts.position_side == "SHORT");
    CHECK(shorts.qty_lots == -10000);
    CHECK(shorts.entry_price_ticks == 65638);
    CHECK(shorts.unrealized_pnl_amount == -142315600000);
    CHECK(shorts.abi().qty_lots == -10000);
}

TEST_CASE("USD-M ALGO_UPDATE lifecycle (real) and docs example", "[binance][account]") {
    auto c = codec();
    REQUIRE(c.parse_event(
                test::data_file("binance/usdm/user_data/ws_futures_algo_update_triggering.json")) ==
            AccountEvent::algo);
    CHECK(c.algo().status == "TRIGGERING");
    CHECK(c.algo().client_algo_id == "O-20251211-053131-TEST-000-1");
    CHECK(c.algo().algo_id == 1000000033225453);
    CHECK(c.algo().type == "STOP_MARKET");
    CHECK(c.algo().side == KEEL_SIDE_BUY);
    CHECK(c.algo().qty_lots == 38);
    CHECK(c.algo().trigger_price_ticks == 13855);  // 0.13855 on 0.00001
    CHECK(c.algo().venue_order_id.empty());
    REQUIRE(c.parse_event(
                test::data_file("binance/usdm/user_data/ws_futures_algo_update_triggered.json")) ==
            AccountEvent::algo);
    CHECK(c.algo().status == "TRIGGERED");
    CHECK(c.algo().venue_order_id == "88937381063");
    CHECK(c.algo().filled_lots == 0);
    REQUIRE(c.parse_event(
                test::data_file("binance/usdm/user_data/ws_futures_algo_update_finished.json")) ==
            AccountEvent::algo);
    CHECK(c.algo().status == "FINISHED");
    CHECK(c.algo().filled_lots == 38);
    CHECK(c.algo().exchange_ts_ns == ms(1765431097031));
    REQUIRE(c.parse_event(test::data_file(
                "binance/usdm/docs_examples/algo_update_canceled.json")) == AccountEvent::algo);
    CHECK(c.algo().status == "CANCELED");
    CHECK(c.algo().symbol == "BNBUSDT");
    CHECK(c.algo().side == KEEL_SIDE_SELL);
    CHECK(c.algo().qty_lots == 1);
    CHECK(c.algo().price_ticks == 75000);
    CHECK(c.algo().reason == "Reduce Only reject");
}

TEST_CASE("USD-M batchOrders answer (real, transcribed)", "[binance][account]") {
    auto c = codec();
    REQUIRE(c.parse_orders(
        test::data_file("binance/usdm/rest/ccxt_extract_batchOrders_new_limit_response.json")));
    REQUIRE(c.orders().size() == 1);
    const OrderUpdate &u = c.orders()[0];
    CHECK(u.client_order_id == "x-xcKtGhcu04075babaeb34c55af79ba");
    CHECK(u.venue_order_id == "4087922044");
    CHECK(u.state == KEEL_ORDER_STATE_NEW);
    CHECK(u.side == KEEL_SIDE_SELL);
    CHECK(u.price_ticks == 1100010);
    CHECK(u.qty_lots == 200);
    CHECK(u.filled_lots == 0);
    CHECK(u.exchange_ts_ns == ms(1739781831932));
    // A batch element that failed on its own becomes a rejection with its reason.
    REQUIRE(c.parse_orders(R"([{"code":-2019,"msg":"Margin is insufficient."},
        {"code":-4164,"msg":"Order's notional must be no smaller than 5"}])"));
    REQUIRE(c.orders().size() == 2);
    CHECK(c.orders()[0].state == KEEL_ORDER_STATE_REJECTED);
    CHECK(c.orders()[0].reason == KEEL_VENUE_INSUFFICIENT_FUNDS);
    CHECK(c.orders()[0].venue_code == -2019);
    CHECK(c.orders()[1].reason == KEEL_VENUE_FILTER);
}

TEST_CASE("USD-M userTrades (real) are fills with fees and realised P&L", "[binance][account]") {
    auto c = codec();
    REQUIRE(c.parse_trades(test::data_file("binance/usdm/rest/http_futures_account_trades.json")));
    REQUIRE(c.orders().size() == 2);
    const OrderUpdate &a = c.orders()[0], &b = c.orders()[1];
    CHECK(a.venue_order_id == "831238666");
    CHECK(a.side == KEEL_SIDE_SELL);
    CHECK(a.trade_id == 82357626);
    CHECK(a.last_price_ticks == 277835);
    CHECK(a.last_qty_lots == 5);
    CHECK(a.fee_amount == 555670);
    CHECK(a.fee_asset == "USDT");
    CHECK(a.realized_pnl_amount == 0);
    CHECK_FALSE(a.maker);
    CHECK(a.exchange_ts_ns == ms(1645930322371));
    CHECK(b.side == KEEL_SIDE_BUY);
    CHECK(b.last_price_ticks == 277900);
    CHECK(b.fee_amount == 555800);
    CHECK(b.realized_pnl_amount == -325000);
}

TEST_CASE("USD-M account and balance answers (docs examples)", "[binance][account]") {
    auto c = codec();
    REQUIRE(c.parse_account(test::data_file("binance/usdm/docs_examples/account_info_v2.json")));
    REQUIRE(c.balances().size() == 1);
    CHECK(c.balances()[0].asset == "USDT");
    CHECK(c.balances()[0].total_amount == 2372469206);
    CHECK(c.balances()[0].free_amount == 2372469206);
    CHECK(c.balances()[0].exchange_ts_ns == ms(1625474304765));
    REQUIRE(c.positions().size() == 1);
    CHECK(c.positions()[0].instrument == 1);
    CHECK(c.positions()[0].qty_lots == 0);
    CHECK(c.positions()[0].position_side == "BOTH");
    REQUIRE(c.parse_account(test::data_file("binance/usdm/docs_examples/balance.json")));
    REQUIRE(c.balances().size() == 1);
    CHECK(c.balances()[0].total_amount == 12212345678);
    CHECK(c.balances()[0].free_amount == 12212345678);
    CHECK(c.positions().empty());
}

TEST_CASE("spot FULL order answer: one update per fill", "[binance][account]") {
    // The layout of Binance's documented FULL answer (rest-api.md), on BTCUSD's grid.
    auto c = codec();
    REQUIRE(c.parse_order(R"({"symbol":"BTCUSD","orderId":28,"orderListId":-1,
        "clientOrderId":"keel-1","transactTime":1507725176595,"price":"0.00000000",
        "origQty":"0.00300000","executedQty":"0.00300000","cummulativeQuoteQty":"30.00",
        "status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"BUY","fills":[
        {"price":"10000.00","qty":"0.00100000","commission":"0.00000100","commissionAsset":"BTC","tradeId":56},
        {"price":"10000.01","qty":"0.00200000","commission":"0.00000200","commissionAsset":"BTC","tradeId":57}]})"));
    REQUIRE(c.orders().size() == 2);
    CHECK(c.orders()[0].state == KEEL_ORDER_STATE_PARTIALLY_FILLED);
    CHECK(c.orders()[0].filled_lots == 100);
    CHECK(c.orders()[0].last_price_ticks == 1000000);
    CHECK(c.orders()[0].trade_id == 56);
    CHECK(c.orders()[0].fee_amount == 100);
    CHECK(c.orders()[1].state == KEEL_ORDER_STATE_FILLED);
    CHECK(c.orders()[1].filled_lots == 300);
    CHECK(c.orders()[1].last_price_ticks == 1000001);
    CHECK(c.orders()[1].exchange_ts_ns == ms(1507725176595));
}

TEST_CASE("error answers map to keel's reasons", "[binance][account]") {
    auto c = codec();
    struct Case {
        int status;
        const char *body;
        keel_venue_reason reason;
    } cases[] = {
        {400, R"({"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."})",
         KEEL_VENUE_BAD_TIMESTAMP},
        {400, R"({"code":-1022,"msg":"Signature for this request is not valid."})",
         KEEL_VENUE_BAD_SIGNATURE},
        {400, R"({"code":-2010,"msg":"Account has insufficient balance for requested action."})",
         KEEL_VENUE_INSUFFICIENT_FUNDS},
        {400, R"({"code":-2010,"msg":"Order would immediately match and take."})",
         KEEL_VENUE_WOULD_TAKE},
        {400, R"({"code":-2010,"msg":"Duplicate order sent."})", KEEL_VENUE_DUPLICATE_ORDER},
        {400, R"({"code":-2011,"msg":"Unknown order sent."})", KEEL_VENUE_UNKNOWN_ORDER},
        {429, R"({"code":-1003,"msg":"Too many requests; current limit is 1200 per minute."})",
         KEEL_VENUE_RATE_LIMITED},
        {418, R"({"code":-1003,"msg":"Way too many requests; IP banned until 1659146941303."})",
         KEEL_VENUE_BANNED},
        {400, R"({"code":-4164,"msg":"Order's notional must be no smaller than 100"})",
         KEEL_VENUE_FILTER},
        {400, R"({"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."})",
         KEEL_VENUE_UNAUTHORIZED},
        {503, R"({"code":-1007,"msg":"Timeout waiting for response from backend server."})",
         KEEL_VENUE_UNKNOWN_OUTCOME},
        {503, "Unknown error, please check your request or try again later.",
         KEEL_VENUE_UNKNOWN_OUTCOME},
        {503, "Service Unavailable.", KEEL_VENUE_TRANSIENT},
    };
    for (const Case &k : cases) {
        INFO(k.body);
        c.parse_error(k.status, k.body);
        CHECK(c.last_error().reason == k.reason);
        CHECK(c.last_error().http_status == k.status);
    }
    REQUIRE(c.parse_error(400, cases[0].body));
    CHECK(c.last_error().code == -1021);
    CHECK(c.last_error().message == "Timestamp for this request is outside of the recvWindow.");
    // An order endpoint answering with an error is not an order.
    CHECK_FALSE(c.parse_order(cases[1].body));
    CHECK(c.last_error().reason == KEEL_VENUE_BAD_SIGNATURE);
}

TEST_CASE("bad account messages are refused with the field, never half-read",
          "[binance][account]") {
    auto c = codec();
    CHECK(c.parse_event("{not json") == AccountEvent::invalid);
    CHECK(c.parse_event(R"({"E":1})") == AccountEvent::invalid);
    CHECK(c.parse_event(R"({"e":"listenKeyExpired","E":1})") == AccountEvent::listen_key_expired);
    CHECK(c.parse_event(R"({"e":"MARGIN_CALL","E":1})") == AccountEvent::other);
    // Off-grid price: refused, not rounded.
    std::string off = test::data_file("binance/usdm/docs_examples/order_update_new.json");
    off.replace(off.find("\"q\": \"0.001\""), 12, "\"q\": \"0.0015\"");
    CHECK(c.parse_event(off) == AccountEvent::invalid);
    CHECK(c.error().find("\"q\"") != std::string::npos);
    CHECK(c.orders().empty());
    // A symbol nobody subscribed is counted and skipped.
    std::string other = test::data_file("binance/usdm/docs_examples/order_update_new.json");
    other.replace(other.find("BTCUSDT"), 7, "XRPUSDT");
    uint64_t before = c.foreign_symbols();
    CHECK(c.parse_event(other) == AccountEvent::orders);
    CHECK(c.orders().empty());
    CHECK(c.foreign_symbols() == before + 1);
}
