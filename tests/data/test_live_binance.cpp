// A live session against the loopback Binance venue: the risk gate's approved orders go through
// the order manager (exec::LiveVenue) and the binance plugin as signed REST requests; fills come
// back on the user-data stream. The venue's own record (GET /keel-test/state) must agree with
// keel: each client order id placed once, the same position, no order left open.

#include <catch2/catch.hpp>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <simdjson.h>

#include "data_file.hpp"
#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/net/transport.hpp"
#include "loopback_venue.hpp"
#include "signer.hpp"
#include "support/shipped_config.hpp"
#include "usdm_reference.hpp"

using namespace keel;
using namespace std::chrono_literals;

namespace {

// One step at a time, each on the venue's word: buy at market; once filled, rest a sell far
// above the book; once the venue accepts it, cancel it; once the cancel is confirmed, close at
// market. Counts what its orders went through.
constexpr const char *kTrader = R"(
n, fills, accepted, cancelled, rejected, filled_qty = 0, 0, 0, 0, 0, 0
reasons = ""
local entry, resting
function on_book(inst, book)
  n = n + 1
  -- Over the config's max_order_notional: vetoed by the gate, so the venue never sees it.
  if n == 10 then keel.order{ instrument = "BTCUSDT", side = "buy", qty = 1 } end
  if n == 50 then entry = keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.005 } end
end
function on_order(o)
  if o.status == "accepted" then
    accepted = accepted + 1
    if o.id == resting then keel.cancel(resting) end
  end
  if o.status == "cancelled" then
    cancelled = cancelled + 1
    keel.order{ instrument = "BTCUSDT", side = "sell", qty = 0.005, reduce_only = true }
  end
  if o.status == "rejected" then
    rejected = rejected + 1
    reasons = reasons .. " " .. tostring(o.reason) .. ":" .. tostring(o.message)
  end
  if o.fill_qty then
    fills = fills + 1
    filled_qty = filled_qty + o.fill_qty
  end
  if o.id == entry and o.status == "filled" then
    local ask = keel.book("BTCUSDT"):best_ask()
    resting = keel.order{ instrument = "BTCUSDT", side = "sell", qty = 0.005, type = "limit",
                          price = ask + 500 }
  end
end
)";

// A request to the venue through the host's network, as a plugin would send it.
net::HttpAnswer request(net::Transport &t, const test::LoopbackVenue &venue, const char *method,
                        const std::string &target, const std::string &headers = {}) {
    std::mutex m;
    std::condition_variable cv;
    std::optional<net::HttpAnswer> answer;
    REQUIRE(t.http(method, venue.https() + target, headers, "", 10s, [&](net::HttpAnswer a) {
        std::lock_guard lock(m);
        answer = std::move(a);
        cv.notify_all();
    }));
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, 20s, [&] { return answer.has_value(); }));
    return std::move(*answer);
}

net::HttpAnswer request(const test::LoopbackVenue &venue, const char *method,
                        const std::string &target) {
    net::Transport t(venue.cert().string());
    return request(t, venue, method, target);
}

std::string ask_venue(const test::LoopbackVenue &venue, const char *method,
                      const std::string &target) {
    auto answer = request(venue, method, target);
    REQUIRE(answer.status == 200);
    return answer.body;
}

// The venue's own record of what happened (GET /keel-test/state), parsed.
struct VenueRecord {
    explicit VenueRecord(const test::LoopbackVenue &venue)
        : text(ask_venue(venue, "GET", "/keel-test/state")),
          root(parser.parse(text)),
          account(root["account"]) {}
    std::string text;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    simdjson::dom::object account;
};

// A signed request (by default a GET of the account), as another client of the same key would
// send it.
net::HttpAnswer signed_request(net::Transport &t, const test::LoopbackVenue &venue,
                               const char *method = "GET",
                               const std::string &path = "/fapi/v2/account",
                               binance::Query q = {}) {
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    q.add("timestamp", static_cast<long long>(now_ms));
    std::string target = path + "?" + q.text() + "&signature=" +
                         binance::rest_signature(test::LoopbackVenue::kSecret, q.text());
    return request(t, venue, method, target,
                   std::string("X-MBX-APIKEY: ") + test::LoopbackVenue::kApiKey + "\r\n");
}

config::Config live_config(const test::TempDir &dir, const test::LoopbackVenue &venue,
                           const char *strategy = kTrader,
                           const std::filesystem::path &exchange_info = test::usdm::kExchangeInfo,
                           const std::string &more_risk = "",
                           const std::string &more_settings = "") {
    ::setenv("KEEL_TEST_API_KEY", test::LoopbackVenue::kApiKey, 1);
    dir.write("trader.lua", strategy);
    auto cfg = config::load_file(dir.write(
        "live.yaml", fmt::format(R"(mode: live
venues:
  binance:
    plugin: binance
    ca_file: {0}/venue.crt
    settings:
      market: usdm
      network: testnet
      exchange_info: {1}
      rest_url: https://127.0.0.1:{2}
      ws_url: wss://127.0.0.1:{2}
      api_key: ${{KEEL_TEST_API_KEY}}
      api_secret: ${{{3}}}
{5}instruments:
  - {{ symbol: BTCUSDT, venue: binance }}
strategies:
  - {{ name: trader, file: trader.lua, instruments: [BTCUSDT] }}
risk:
  max_order_notional: 2000
{4})",
                                 dir.path().string(), exchange_info.string(), venue.port(),
                                 test::LoopbackVenue::kSecretVar, more_risk, more_settings)));
    cfg.notifiers.clear();
    return cfg;
}

engine::EngineOptions live_options() {
    engine::EngineOptions options;
    options.plugin_search = {KEEL_PLUGIN_DIR};
    options.watch_strategy_files = false;
    return options;
}

// How many client order ids the venue's account (GET /keel-test/state) placed orders for,
// checking that it placed each exactly once.
uint64_t placed_once(simdjson::dom::object account) {
    uint64_t placed = 0;
    for (auto [cid, times] : simdjson::dom::object(account["ordersPlacedPerClientOrderId"])) {
        INFO(cid);
        CHECK(int64_t(times) == 1);  // never an order twice
        ++placed;
    }
    return placed;
}

// What the strategy and the venue say after a session: the trade happened once, in full.
void check_round_trip(engine::Engine &e, const engine::Summary &summary,
                      const test::LoopbackVenue &venue, simdjson::dom::parser &parser,
                      simdjson::dom::element &root) {
    auto num = [&](const char *g) { return std::stod(*e.strategy("trader")->global_as_string(g)); };
    INFO("rejections:" << *e.strategy("trader")->global_as_string("reasons"));
    const std::string reasons = *e.strategy("trader")->global_as_string("reasons");
    CHECK(num("rejected") == 1);  // the oversized order, by the gate; the venue refused nothing
    CHECK(reasons.find("MAX_ORDER_NOTIONAL") != std::string::npos);
    CHECK(summary.vetoes == 1);
    CHECK(num("accepted") == 3);
    CHECK(num("cancelled") == 1);
    CHECK(num("filled_qty") == Approx(0.010));
    CHECK(summary.live.unknown_updates == 0);
    CHECK(summary.position_mismatches == 0);
    CHECK(e.portfolio().position(0).qty == 0);

    std::string state = ask_venue(venue, "GET", "/keel-test/state");
    INFO(state);
    root = parser.parse(state);
    simdjson::dom::object account = root["account"];
    CHECK(std::string_view(account["positions"].at(0)["positionAmt"]) == "0.000");
    CHECK(simdjson::dom::array(account["openOrders"]).size() == 0);
    CHECK(placed_once(account) == 3);  // the vetoed order never reached the venue
    CHECK(int64_t(account["fills"]) == static_cast<int64_t>(summary.fills));
}

}  // namespace

TEST_CASE("live session against the loopback venue places, fills and cancels through the plugin",
          "[data][live][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    engine::Engine e(live_config(dir, venue), live_options());
    auto summary = e.run(TimeNs{8} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    CHECK(summary.live.sent == 3);
    CHECK(summary.live.resent == 0);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    check_round_trip(e, summary, venue, parser, root);
}

TEST_CASE("a live session under a 418 ban sends nothing until Retry-After",
          "[data][live][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir, "10");
    // Another client of the same key earns a 429 and, asking again inside its Retry-After, the
    // ban: every request gets 418 for a while, the session's first order included.
    ask_venue(venue, "POST", "/keel-test/misbehave?what=rate_limit&n=1&retry_after=1");
    // (keel's own network would hold the second request: a client that does not is imitated by
    // a second one, late enough that the venue cannot take it for one already on its way.)
    net::Transport other(venue.cert().string()), careless(venue.cert().string());
    REQUIRE(signed_request(other, venue).status == 429);
    std::this_thread::sleep_for(600ms);
    REQUIRE(signed_request(careless, venue).status == 418);
    engine::Engine e(live_config(dir, venue), live_options());
    auto summary = e.run(TimeNs{20} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    check_round_trip(e, summary, venue, parser, root);
    CHECK(int64_t(root["answered"]["429"]) == 1);
    // The other client's request, and what the session sent at once on start before any answer
    // came (the clock, the listenKey, perhaps the depth snapshot): after the first 418 the
    // session waited out Retry-After for everything, then got its listenKey and book and traded.
    const int64_t banned = int64_t(root["answered"]["418"]);
    CHECK(banned >= 3);
    CHECK(banned <= 4);
}

TEST_CASE("a live session rides out 429, an unknown outcome, a gap and dropped streams",
          "[data][live][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir, "10");  // ten times the recorded pace: 36 s of market
    // The first order meets a 429 and must wait out Retry-After; the next attempt is answered
    // 503 "unknown" although the venue placed it, so keel must learn its fate (the user-data
    // stream or a query), never send it again. The stream skips a depth diff: the book resyncs.
    ask_venue(venue, "POST",
              "/keel-test/misbehave?what=rate_limit&n=1&retry_after=1&path=/fapi/v1/order");
    ask_venue(venue, "POST", "/keel-test/misbehave?what=unknown&n=1");
    ask_venue(venue, "POST", "/keel-test/misbehave?what=gap");
    engine::Engine e(live_config(dir, venue), live_options());
    engine::Summary summary;
    std::thread session([&] { summary = e.run(TimeNs{12} * 1'000'000'000); });
    // Mid-session, every socket drops: both streams come back, books resync, the account is
    // reconciled.
    std::this_thread::sleep_for(5s);
    ask_venue(venue, "POST", "/keel-test/misbehave?what=drop_streams");
    session.join();

    INFO("venue stderr: " << venue.process().err());
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    check_round_trip(e, summary, venue, parser, root);
    CHECK(int64_t(root["answered"]["429"]) == 1);
    CHECK(int64_t(root["answered"]["418"]) == 0);  // waited as told: never banned
    CHECK(int64_t(root["answered"]["503"]) == 1);
    CHECK(int64_t(root["drops"]) >= 1);
    CHECK(summary.live.resent >= 1);  // after the 429
    // ... which named its Retry-After: the order was held until then, not backed off.
    CHECK(summary.live.held >= 1);
    REQUIRE(summary.market.size() == 1);
    CHECK(summary.market[0].sync.gaps >= 1);
    CHECK(summary.market[0].resyncs >= 2);  // the gap and the drop
    CHECK(summary.position_checks >= 1);    // reconciled after the user stream came back
}

namespace {

// A shipped Binance config pointed at the loopback venue: its URLs and certificate.
std::string at_loopback(std::string text, const test::LoopbackVenue &venue) {
    auto insert_after = [&](const std::string &anchor, const std::string &lines) {
        auto at = text.find(anchor);
        REQUIRE(at != std::string::npos);
        at = text.find('\n', at) + 1;
        text.insert(at, lines);
    };
    insert_after("    plugin: binance", "    ca_file: " + venue.cert().string() + "\n");
    insert_after("      market: usdm",
                 "      rest_url: " + venue.https() + "\n      ws_url: " + venue.wss() + "\n");
    return text;
}

}  // namespace

TEST_CASE("the shipped shadow and live Binance configs trade against the loopback venue",
          "[data][live][network]") {
    SECTION("shadow: live data, simulated fills, nothing sent") {
        test::TempDir dir;
        test::LoopbackVenue venue(dir);
        auto cfg = config::load_file(
            dir.write("shadow-binance.yaml",
                      at_loopback(test::shipped_config("shadow-binance.yaml"), venue)));
        CHECK(cfg.mode == config::Mode::shadow);
        cfg.notifiers.clear();
        engine::Engine e(cfg, live_options());
        auto summary = e.run(TimeNs{8} * 1'000'000'000);
        CHECK(summary.orders > 0);
        CHECK(summary.fills > 0);
        CHECK(summary.live.sent == 0);
        REQUIRE(summary.market.size() == 1);
        CHECK(summary.market[0].sync.gaps == 0);
        std::string state = ask_venue(venue, "GET", "/keel-test/state");
        INFO(state);
        CHECK(state.find("\"ordersPlacedPerClientOrderId\":{}") != std::string::npos);
    }
    SECTION("live on testnet: the venue's orders and position are keel's") {
        test::TempDir dir;
        test::LoopbackVenue venue(dir);
        ::setenv("BINANCE_TESTNET_API_KEY", test::LoopbackVenue::kApiKey, 1);
        ::setenv("BINANCE_TESTNET_API_SECRET", test::LoopbackVenue::kSecret, 1);
        auto cfg = config::load_file(dir.write(
            "live-binance-testnet.example.yaml",
            at_loopback(test::shipped_config("live-binance-testnet.example.yaml"), venue)));
        CHECK(cfg.mode == config::Mode::live);
        cfg.notifiers.clear();
        engine::Engine e(cfg, live_options());
        auto summary = e.run(TimeNs{8} * 1'000'000'000);
        INFO("venue stderr: " << venue.process().err());
        CHECK(summary.live.sent > 0);
        CHECK(summary.fills > 0);
        CHECK(summary.position_mismatches == 0);
        const VenueRecord record(venue);
        INFO(record.text);
        const auto &account = record.account;
        CHECK(placed_once(account) == summary.live.sent);
        CHECK(int64_t(account["fills"]) == static_cast<int64_t>(summary.fills));
        // The position the venue holds is the one keel counts (lot 0.001).
        double venue_qty =
            std::stod(std::string(std::string_view(account["positions"].at(0)["positionAmt"])));
        CHECK(std::llround(venue_qty * 1000) == e.portfolio().position(0).qty);
        CHECK(simdjson::dom::array(account["openOrders"]).size() == 0);
    }
}

namespace {

// Orders without pause, twenty at a time (an answer held past the timeout keeps its order in
// doubt for seconds), until 2,000 are placed or 78 s have passed (a loaded machine places them
// more slowly; the window leaves it room above the test's floor): market orders, limits that rest
// at the touch until cancelled (40 looks later), limits far away cancelled as soon as they are
// accepted, and IOC limits that cross. Sides keep the position near flat. Counts every order's
// final state, and any order that reaches one twice.
constexpr const char *kSoak = R"(
placing_ticks, target = 780, 2000  -- then only what it placed settles
placed, finals, twice, fills, filled_qty, vetoed, venue_rejects = 0, 0, 0, 0, 0, 0, 0
reasons, outcomes = "", ""
local working, done, kind, n, ticks = {}, {}, 0, 0, 0
local function top_up()
  n = n + 1
  local book = keel.book("BTCUSDT")
  local bid, ask = book:best_bid(), book:best_ask()
  if not bid or not ask then return end
  local count = 0
  for id, born in pairs(working) do
    count = count + 1
    if born.kind == "rest" and n - born.n > 40 and not born.cancelled then
      born.cancelled = true
      keel.cancel(id)
    end
  end
  local qty = keel.position("BTCUSDT").qty
  while count < 20 and ticks < placing_ticks and placed < target do
    kind = kind % 4 + 1
    local side = (qty > 0.004 or (qty > -0.004 and kind % 2 == 0)) and "sell" or "buy"
    local o = { instrument = "BTCUSDT", side = side, qty = 0.002 }
    local k = "market"
    if kind == 2 then
      k = "rest"
      o.type, o.price = "limit", side == "buy" and bid or ask
    elseif kind == 3 then
      k = "far"
      o.type, o.price = "limit", side == "buy" and bid - 300 or ask + 300
    elseif kind == 4 then
      k = "ioc"
      o.type, o.tif, o.price = "limit", "IOC", side == "buy" and ask + 1 or bid - 1
    end
    local id = keel.order(o)
    placed = placed + 1
    working[id] = { kind = k, n = n }
    count = count + 1
  end
end
function on_start() keel.every(0.1) end  -- after the replayed market ends, time goes on
function on_timer(id)
  ticks = ticks + 1
  top_up()
end
function on_book(inst, book) top_up() end
function on_order(o)
  local w = working[o.id]
  if o.status == "accepted" and w and w.kind == "far" and not w.cancelled then
    w.cancelled = true
    keel.cancel(o.id)
  end
  if o.fill_qty then
    fills = fills + 1
    filled_qty = filled_qty + o.fill_qty
  end
  if o.status == "filled" or o.status == "cancelled" or o.status == "rejected"
     or o.status == "expired" then
    if done[o.id] then twice = twice + 1 end
    done[o.id] = true
    finals = finals + 1
    outcomes = outcomes .. o.id .. " " .. o.status .. " " .. math.floor(o.filled * 1000 + 0.5) .. "\n"
    working[o.id] = nil
    if o.status == "rejected" then
      if #reasons < 2000 then reasons = reasons .. " " .. tostring(o.reason) .. ":" .. tostring(o.message) end
      if tostring(o.reason):sub(1, 6) == "VENUE_" then venue_rejects = venue_rejects + 1
      else
        vetoed = vetoed + 1
        return  -- no new order straight after a veto: the next look tries again
      end
    end
    top_up()
  end
end
)";

// The real exchangeInfo with other rate limits (the venue keeps what it serves).
std::filesystem::path exchange_info_with_limits(const test::TempDir &dir,
                                                const std::string &limits) {
    std::string text = test::data_file("binance/usdm/rest/http_futures_market_exchange_info.json");
    const auto from = text.find("\"rateLimits\"");
    const auto to = text.find("\"exchangeFilters\"");
    REQUIRE(from != std::string::npos);
    REQUIRE(to != std::string::npos);
    text.replace(from, to - from, "\"rateLimits\": [" + limits + "],\n  ");
    return dir.write("exchange_info.json", text);
}

}  // namespace

TEST_CASE(
    "thousands of live orders against a flaky venue: none doubled, none lost, all final, "
    "inside the limits",
    "[data][live][network][soak]") {
    test::TempDir dir;
    // Order limits low enough that the strategy runs into them (it would send faster), so the
    // host's pacing is what keeps the session inside them.
    const auto info = exchange_info_with_limits(
        dir,
        R"({"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":24000},
{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":600},
{"rateLimitType":"ORDERS","interval":"MINUTE","intervalNum":1,"limit":3000})");
    test::LoopbackVenue venue(dir, "4", info);  // the capture's 345 s of market in 86 s
    // Faults per request; batches send fewer requests, so a 429 is drawn at 0.5 % for a few to
    // come.
    ask_venue(venue, "POST",
              "/keel-test/misbehave?what=flaky&seed=7&p429=0.005&p503=0.01&p503_after=0.01"
              "&p_hang=0.004&p_delay=0.05&delay_ms=300&p_timeout=0.002&p_dup=0.05"
              "&p_drop=0.002");
    engine::Engine e(live_config(dir, venue, kSoak, info, R"(  max_open_orders: 50
  max_position_pct: 50
  max_instrument_exposure_pct: 100
  max_orders_per_second: 10000
  max_orders_per_day: 10000000
  no_duplicate_entry: false
  price_band_pct: 10
)"),
                     live_options());
    auto summary = e.run(TimeNs{92} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    auto global = [&](const char *g) {
        return std::stod(*e.strategy("trader")->global_as_string(g));
    };
    INFO("rejections:" << *e.strategy("trader")->global_as_string("reasons"));
    const auto placed = static_cast<uint64_t>(global("placed"));
    CHECK(placed >= 1000);                        // 2,000 in about 65 s on an idle machine
    CHECK(global("finals") == global("placed"));  // every order ended, once
    CHECK(global("twice") == 0);
    CHECK(global("venue_rejects") <= 5);  // given up after 8 attempts at most, rarely
    CHECK(summary.live.unknown_updates == 0);
    CHECK(summary.live.paced > 0);  // the limits were reached, and waited for
    // The venue repeated itself (fills, final states): booked once, the rest set aside.
    CHECK(summary.live.duplicate_fills + summary.live.late_updates > 0);
    CHECK(summary.position_mismatches == 0);

    std::string state = ask_venue(venue, "GET", "/keel-test/state");
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(state);
    simdjson::dom::object account = root["account"];
    const uint64_t at_venue = placed_once(account);
    INFO(state.substr(state.find("\"answered\"")));
    CHECK(at_venue <= summary.live.sent);  // some were cancelled before they went out
    CHECK(at_venue * 10 >= placed * 9);
    // Each order's end, keel's and the venue's: the same state and the same filled quantity.
    std::map<uint64_t, std::pair<std::string, int64_t>> keel_end;
    std::istringstream lines(*e.strategy("trader")->global_as_string("outcomes"));
    for (std::string status; lines;) {
        uint64_t id = 0;
        int64_t lots = 0;
        if (lines >> id >> status >> lots) keel_end[id] = {status, lots};
    }
    CHECK(keel_end.size() == placed);
    const std::map<std::string_view, std::string> same = {
        {"FILLED", "filled"}, {"CANCELED", "cancelled"}, {"EXPIRED", "expired"}};
    size_t compared = 0, filled_at_venue = 0;
    std::set<uint64_t> at_venue_ids;
    for (auto [cid, end] : simdjson::dom::object(account["ordersByClientOrderId"])) {
        INFO(cid);
        const std::string_view text = cid;
        const uint64_t id = std::stoull(std::string(text.substr(text.rfind('-') + 1)));
        const std::string_view venue_status = end.at(0);
        INFO(venue_status);
        CHECK(keel_end.count(id));
        REQUIRE(same.count(venue_status));
        CHECK(keel_end[id].first == same.at(venue_status));
        CHECK(std::llround(std::stod(std::string(std::string_view(end.at(1)))) * 1000) ==
              keel_end[id].second);
        filled_at_venue += venue_status == "FILLED";
        at_venue_ids.insert(id);
        ++compared;
    }
    CHECK(compared == at_venue);
    CHECK(filled_at_venue > 300);
    for (const auto &[id, end] : keel_end) {  // what keel saw fill or expire was at the venue
        INFO(id << " " << end.first);
        if (end.first == "filled" || end.first == "expired") CHECK(at_venue_ids.count(id));
    }
    CHECK(int64_t(account["fills"]) == static_cast<int64_t>(summary.fills));  // none lost
    CHECK(simdjson::dom::array(account["openOrders"]).size() == 0);
    double venue_qty =
        std::stod(std::string(std::string_view(account["positions"].at(0)["positionAmt"])));
    CHECK(std::llround(venue_qty * 1000) == e.portfolio().position(0).qty);
    // Inside every limit: no 429 earned, never banned.
    CHECK(int64_t(root["overLimit"]["weight"]) == 0);
    CHECK(int64_t(root["overLimit"]["orders"]) == 0);
    CHECK(int64_t(root["answered"]["418"]) == 0);
    // Every kind of fault happened.
    for (const char *kind :
         {"429", "503", "503_after", "hang", "delay", "timeout", "dup", "drop"}) {
        INFO(kind);
        int64_t n = 0;
        CHECK(!root["faults"][kind].get_int64().get(n));
        CHECK(n > 0);
    }
}

// Buys 0.005 at market 5 s into the session, when a listen key living 3 s has been kept alive or
// replaced, and sells it back once filled.
constexpr const char *kLateTrader = R"(
ticks, fills = 0, 0
local entry
function on_start() keel.every(1) end
function on_timer(id)
  ticks = ticks + 1
  if ticks == 5 then entry = keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.005 } end
end
function on_order(o)
  if o.fill_qty then fills = fills + 1 end
  if o.id == entry and o.status == "filled" then
    keel.order{ instrument = "BTCUSDT", side = "sell", qty = 0.005, reduce_only = true }
  end
end
)";

TEST_CASE("the user-data stream's listen key is kept alive, and an expired one is replaced",
          "[data][live][network]") {
    test::TempDir dir;
    const bool kept = GENERATE(true, false);
    INFO((kept ? "keepalive every second" : "no keepalive in time"));
    // Keys live 3 s at this venue (Binance: 60 min); it ends a stream whose key ran out with a
    // listenKeyExpired event.
    test::LoopbackVenue venue(dir, "1", {}, {"--listen-key-life", "3"});
    engine::Engine e(live_config(dir, venue, kLateTrader, test::usdm::kExchangeInfo, "",
                                 kept ? "      listen_key_keepalive: 1\n" : ""),
                     live_options());
    auto summary = e.run(TimeNs{9} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    const std::string state = ask_venue(venue, "GET", "/keel-test/state");
    INFO(state);
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(state);
    simdjson::dom::object keys = root["listenKeys"];
    if (kept) {
        CHECK(int64_t(keys["created"]) == 1);
        CHECK(int64_t(keys["keepalives"]) >= 3);  // one a second, for 8 s, on a busy machine
        CHECK(int64_t(keys["expired"]) == 0);
        // Closed at the session's end (DELETE /fapi/v1/listenKey), its stream without an event.
        CHECK(int64_t(keys["closed"]) == 1);
    } else {
        // Expired at 3 s, replaced, expired again at 6 s and replaced again; the last one is
        // closed at the end unless it ran out first (it lives 3 s: at 9 s it may have).
        CHECK(int64_t(keys["expired"]) >= 2);
        CHECK(int64_t(keys["created"]) == int64_t(keys["expired"]) + 1);
        CHECK(int64_t(keys["closed"]) <= 1);
    }
    // The round trip's fills came on the user-data stream: none had to be asked for.
    CHECK(std::stod(*e.strategy("trader")->global_as_string("fills")) >= 2);
    CHECK(summary.live.queries == 0);
    CHECK(summary.live.unknown_updates == 0);
    CHECK(e.portfolio().position(0).qty == 0);
    CHECK(placed_once(root["account"]) == 2);
}

namespace {

// Seven limit buys in one callback, far below the book so they rest; each is cancelled once the
// venue accepts it. `sizes` gives their quantities (a Lua list).
std::string batch_trader(const std::string &sizes) {
    return R"(
sizes = )" +
           sizes + R"(
placed, accepted, cancelled, rejected, fills = 0, 0, 0, 0, 0
reasons = ""
local n = 0
function on_book(inst, book)
  n = n + 1
  if n ~= 30 then return end
  local bid = keel.book("BTCUSDT"):best_bid()
  for k, qty in ipairs(sizes) do
    keel.order{ instrument = "BTCUSDT", side = "buy", qty = qty, type = "limit",
                price = bid - 1500 - 10 * k }
    placed = placed + 1
  end
end
function on_order(o)
  if o.status == "accepted" then
    accepted = accepted + 1
    keel.cancel(o.id)
  end
  if o.status == "cancelled" then cancelled = cancelled + 1 end
  if o.status == "rejected" then
    rejected = rejected + 1
    reasons = reasons .. " " .. tostring(o.reason) .. ":" .. tostring(o.message)
  end
  if o.fill_qty then fills = fills + 1 end
end
)";
}

constexpr const char *kBatchRisk = R"(  max_open_orders: 20
  max_orders_per_second: 100
  max_position_pct: 50
  max_instrument_exposure_pct: 100
  no_duplicate_entry: false
)";

// The real exchangeInfo with BTCUSDT's MIN_NOTIONAL raised from 10 to 200 USDT, for the venue
// alone: the plugin, and so the risk gate, keep the real one, so an order worth between the two
// passes the gate and is refused by the venue.
std::filesystem::path exchange_info_with_min_notional_200(const test::TempDir &dir) {
    std::string text = test::data_file("binance/usdm/rest/http_futures_market_exchange_info.json");
    const auto symbol = text.find("\"symbol\": \"BTCUSDT\"");
    REQUIRE(symbol != std::string::npos);
    const std::string real = "\"notional\": \"10\"";
    const auto at = text.find(real, symbol);
    REQUIRE(at != std::string::npos);
    text.replace(at, real.size(), "\"notional\": \"200\"");
    return dir.write("exchange_info_min_notional.json", text);
}

// A batch_trader session of 8 s against `venue`: what the strategy counted, and the venue's
// state afterwards.
struct BatchSession {
    engine::Summary summary;
    std::map<std::string, double> counted;  // placed, accepted, cancelled, rejected, fills
    std::string reasons, state;
};

BatchSession run_batch(const test::TempDir &dir, const test::LoopbackVenue &venue,
                       const std::string &sizes) {
    engine::Engine e(
        live_config(dir, venue, batch_trader(sizes).c_str(), test::usdm::kExchangeInfo, kBatchRisk),
        live_options());
    BatchSession s;
    s.summary = e.run(TimeNs{8} * 1'000'000'000);
    for (const char *g : {"placed", "accepted", "cancelled", "rejected", "fills"})
        s.counted[g] = std::stod(*e.strategy("trader")->global_as_string(g));
    s.reasons = *e.strategy("trader")->global_as_string("reasons");
    s.state = ask_venue(venue, "GET", "/keel-test/state");
    return s;
}

constexpr const char *kSevenOrders = "{0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.005}";

}  // namespace

TEST_CASE("seven orders placed in one callback reach the venue in two batches, each once",
          "[data][live][network][batch]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    auto s = run_batch(dir, venue, kSevenOrders);
    INFO("venue stderr: " << venue.process().err());
    INFO("rejections:" << s.reasons);
    CHECK(s.counted["placed"] == 7);
    CHECK(s.counted["accepted"] == 7);
    CHECK(s.counted["cancelled"] == 7);
    CHECK(s.counted["rejected"] == 0);
    CHECK(s.counted["fills"] == 0);
    CHECK(s.summary.live.sent == 7);
    CHECK(s.summary.live.resent == 0);
    CHECK(s.summary.live.batches == 1);  // keel handed all seven over at once
    CHECK(s.summary.live.unknown_updates == 0);

    INFO(s.state);
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(s.state);
    CHECK(int64_t(root["batchRequests"]) == 2);  // five, then two
    simdjson::dom::object account = root["account"];
    CHECK(placed_once(account) == 7);
    CHECK(simdjson::dom::array(account["openOrders"]).size() == 0);
    for (auto [cid, end] : simdjson::dom::object(account["ordersByClientOrderId"])) {
        INFO(cid);
        CHECK(std::string_view(end.at(0)) == "CANCELED");
    }
}

TEST_CASE("an order of a batch the venue refuses is rejected with its reason, the others go on",
          "[data][live][network][batch]") {
    test::TempDir dir;
    // The third order is worth about 110 USDT: enough for the gate (10), not for the venue (200).
    test::LoopbackVenue venue(dir, "0", exchange_info_with_min_notional_200(dir));
    auto s = run_batch(dir, venue, "{0.005, 0.005, 0.002, 0.005, 0.005, 0.005, 0.005}");
    INFO("venue stderr: " << venue.process().err());
    INFO("rejections:" << s.reasons);
    CHECK(s.counted["rejected"] == 1);
    CHECK(s.reasons.find("VENUE_FILTER:Order's notional must be no smaller than 200") !=
          std::string::npos);
    CHECK(s.counted["accepted"] == 6);
    CHECK(s.counted["cancelled"] == 6);
    CHECK(s.summary.live.resent == 0);  // a refusal is final: not sent again
    CHECK(s.summary.live.unknown_updates == 0);

    INFO(s.state);
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(s.state);
    CHECK(int64_t(root["batchRequests"]) == 2);
    simdjson::dom::object account = root["account"];
    CHECK(placed_once(account) == 6);  // the refused one was never an order there
    CHECK(simdjson::dom::array(account["openOrders"]).size() == 0);
}

// The venue sends an order's user-data events before its answer, so keel knows these orders from
// the stream before the 503 arrives; what is checked is the end: each order placed once, none
// lost, none rejected.
TEST_CASE("a batch answered 503 although the venue placed it leaves each order placed once",
          "[data][live][network][batch]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    ask_venue(venue, "POST", "/keel-test/misbehave?what=unknown&n=1");
    auto s = run_batch(dir, venue, kSevenOrders);
    INFO("venue stderr: " << venue.process().err());
    INFO("rejections:" << s.reasons);
    CHECK(s.counted["accepted"] == 7);
    CHECK(s.counted["cancelled"] == 7);
    CHECK(s.counted["rejected"] == 0);
    CHECK(s.summary.live.resent == 0);
    CHECK(s.summary.live.unknown_updates == 0);

    INFO(s.state);
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(s.state);
    CHECK(int64_t(root["answered"]["503"]) == 1);
    CHECK(int64_t(root["batchRequests"]) == 2);
    simdjson::dom::object account = root["account"];
    CHECK(placed_once(account) == 7);
    CHECK(simdjson::dom::array(account["openOrders"]).size() == 0);
}

namespace {

// A limit buy far below the book; once accepted it is amended (lower, twice the size), and once
// that is confirmed, amended through the ask so it fills; the position is then sold back.
constexpr const char *kAmender = R"(
events, amended, fills = "", "", 0
local n, id = 0, nil
function on_book(inst, book)
  n = n + 1
  if n == 30 then
    local bid = keel.book("BTCUSDT"):best_bid()
    id = keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.005, type = "limit",
                     price = bid - 1500 }
  end
end
function on_order(o)
  if o.fill_qty then fills = fills + 1 end
  if o.id ~= id then return end
  events = events .. " " .. o.status
  if o.status == "accepted" then
    far = o.price - 100
    first = tostring(keel.amend(id, { price = far, qty = 0.010 }))
  elseif o.status == "amended" then
    amended = amended .. string.format(" %.1f/%.3f%s", o.price, o.qty,
                                       o.reason and (":" .. o.reason) or "")
    if math.abs(o.price - far) < 1e-6 then
      local ask = keel.book("BTCUSDT"):best_ask()
      second = tostring(keel.amend(id, { price = ask + 50 }))
    end
  elseif o.status == "filled" then
    keel.order{ instrument = "BTCUSDT", side = "sell", qty = 0.010, reduce_only = true }
  end
end
)";

}  // namespace

TEST_CASE("an order amended at the venue moves, then fills when amended through the book",
          "[data][live][network][amend]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    engine::Engine e(live_config(dir, venue, kAmender, test::usdm::kExchangeInfo, kBatchRisk),
                     live_options());
    auto summary = e.run(TimeNs{8} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    auto text = [&](const char *name) {
        return e.strategy("trader")->global_as_string(name).value_or("");
    };
    INFO("events:" << text("events") << " amended:" << text("amended"));
    CHECK(text("first") == "true");
    CHECK(text("second") == "true");
    // Confirmed by the venue's answer and its AMENDMENT event: one amended event each.
    CHECK_THAT(text("events"),
               Catch::Matchers::StartsWith(" pending_new accepted amended amended"));
    CHECK_THAT(text("events"), Catch::Matchers::EndsWith(" filled"));
    CHECK_THAT(text("amended"),
               Catch::Matchers::StartsWith(fmt::format(" {:.1f}/0.010", std::stod(text("far")))));
    CHECK(summary.live.amends == 2);
    CHECK(summary.live.unknown_updates == 0);
    CHECK(summary.illegal_transitions == 0);
    CHECK(e.portfolio().position(0).qty == 0);

    const VenueRecord record(venue);
    INFO(record.text);
    const auto &account = record.account;
    CHECK(int64_t(account["amendments"]) == 2);
    CHECK(placed_once(account) == 2);  // the amended buy and the sale: amendments place nothing
    CHECK(std::string_view(account["positions"].at(0)["positionAmt"]) == "0.000");
    CHECK(simdjson::dom::array(account["openOrders"]).size() == 0);
    CHECK(int64_t(account["fills"]) == static_cast<int64_t>(summary.fills));
}

namespace {

// Orders left at the venue before a session starts: two of an earlier run of this deployment
// (live.yaml: "k" + "live" + that run's 6 hex digits + "-" + its order id), one placed by hand.
struct LeftOrders {
    std::string sell, buy, manual = "manual-1";
};

LeftOrders leave_orders(const test::LoopbackVenue &venue, const char *sell_price) {
    // An hour ago: never this run's tag.
    const auto run = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() -
                     3600;
    const std::string prefix = fmt::format("klive{:06x}-", run % 0xffffff);
    LeftOrders left{prefix + "5", prefix + "6"};
    net::Transport t(venue.cert().string());
    for (const auto &[cid, side, price] :
         {std::tuple{left.sell, "SELL", sell_price}, std::tuple{left.buy, "BUY", "61000.0"},
          std::tuple{left.manual, "BUY", "61000.0"}}) {
        binance::Query q;
        q.add("symbol", "BTCUSDT")
            .add("side", side)
            .add("type", "LIMIT")
            .add("timeInForce", "GTC")
            .add("quantity", "0.002")
            .add("price", price)
            .add("newClientOrderId", cid);
        auto answer = signed_request(t, venue, "POST", "/fapi/v1/order", q);
        INFO(answer.body);
        REQUIRE(answer.status == 200);
        REQUIRE(answer.body.find("\"status\":\"NEW\"") != std::string::npos);
    }
    return left;
}

// Where each client order id's order stands at the venue: "STATUS executed".
std::map<std::string, std::string> venue_outcomes(simdjson::dom::object account) {
    std::map<std::string, std::string> out;
    for (auto [cid, end] : simdjson::dom::object(account["ordersByClientOrderId"]))
        out[std::string(cid)] = std::string(std::string_view(end.at(0))) + " " +
                                std::string(std::string_view(end.at(1)));
    return out;
}

// Places nothing; counts the order events it hears of (an adopted order is no strategy's).
constexpr const char *kIdle = R"(
heard = 0
function on_book(inst, book) end
function on_order(o) heard = heard + 1 end
)";

}  // namespace

TEST_CASE("a restart adopts and cancels the orders an earlier run left, never a foreign one",
          "[data][live][network][adopt]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir, "1");
    const auto left = leave_orders(venue, "62500.0");  // both far from the book
    engine::Engine e(live_config(dir, venue, kIdle), live_options());
    auto summary = e.run(TimeNs{6} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    CHECK(summary.live.adopted == 2);
    CHECK(summary.live.foreign_orders == 1);
    CHECK(summary.live.unknown_updates == 0);
    CHECK(summary.live.sent == 0);  // cancels only: nothing placed
    CHECK(summary.cancels == 2);
    CHECK(e.strategy("trader")->global_as_string("heard") == "0");
    CHECK_THAT(engine::format_summary(summary),
               Catch::Matchers::Contains("adopted 2  foreign orders 1"));
    CHECK(summary.illegal_transitions == 0);
    CHECK(summary.position_mismatches == 0);

    const VenueRecord record(venue);
    INFO(record.text);
    const auto &account = record.account;
    auto outcomes = venue_outcomes(account);
    CHECK(outcomes[left.sell] == "CANCELED 0.000");
    CHECK(outcomes[left.buy] == "CANCELED 0.000");
    CHECK(outcomes[left.manual] == "NEW 0.000");  // by hand: not keel's to cancel
    CHECK(placed_once(account) == 3);             // the three placed above; keel placed none
    CHECK(simdjson::dom::array(account["openOrders"]).size() == 1);
}

TEST_CASE(
    "with earlier_orders: keep, an adopted order fills into keel's position and the "
    "session's end cancels the rest",
    "[data][live][network][adopt]") {
    test::TempDir dir;
    // Four times the recorded pace: trades reach 61820 about 23 s into the market (6 s here),
    // after the session has adopted the sell; the buy far below never fills.
    test::LoopbackVenue venue(dir, "4");
    const auto left = leave_orders(venue, "61820.0");
    engine::Engine e(
        live_config(dir, venue, kIdle, test::usdm::kExchangeInfo, "", "earlier_orders: keep\n"),
        live_options());
    auto summary = e.run(TimeNs{12} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    CHECK(summary.live.adopted == 2);
    CHECK(summary.live.foreign_orders == 1);
    CHECK(summary.live.unknown_updates == 0);
    CHECK(summary.live.sent == 0);
    CHECK(summary.fills >= 1);
    CHECK(summary.cancels == 1);  // the buy, at the session's end
    CHECK(e.strategy("trader")->global_as_string("heard") == "0");
    CHECK(summary.illegal_transitions == 0);
    CHECK(summary.position_mismatches == 0);
    CHECK(e.portfolio().position(0).qty == -2);  // the sell's 0.002, booked as the venue's

    const VenueRecord record(venue);
    INFO(record.text);
    const auto &account = record.account;
    CHECK(std::string_view(account["positions"].at(0)["positionAmt"]) == "-0.002");
    auto outcomes = venue_outcomes(account);
    CHECK(outcomes[left.sell] == "FILLED 0.002");
    CHECK(outcomes[left.buy] == "CANCELED 0.000");
    CHECK(outcomes[left.manual] == "NEW 0.000");
    CHECK(int64_t(account["fills"]) == static_cast<int64_t>(summary.fills));
    CHECK(placed_once(account) == 3);
}

TEST_CASE("a start whose open orders the venue refuses asks again, and adopts then",
          "[data][live][network][adopt]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir, "1");
    ask_venue(venue, "POST",
              "/keel-test/misbehave?what=rate_limit&n=1&retry_after=1&path=/fapi/v1/openOrders");
    const auto left = leave_orders(venue, "62500.0");
    engine::Engine e(live_config(dir, venue, kIdle), live_options());
    auto summary = e.run(TimeNs{10} * 1'000'000'000);  // asked again 5 s after the 429
    INFO("venue stderr: " << venue.process().err());
    CHECK(summary.live.adopted == 2);
    CHECK(summary.live.foreign_orders == 1);

    const VenueRecord record(venue);
    INFO(record.text);
    CHECK(int64_t(record.root["answered"]["429"]) == 1);
    CHECK(int64_t(record.root["answered"]["418"]) == 0);
    auto outcomes = venue_outcomes(record.root["account"]);
    CHECK(outcomes[left.sell] == "CANCELED 0.000");
    CHECK(outcomes[left.buy] == "CANCELED 0.000");
    CHECK(outcomes[left.manual] == "NEW 0.000");
}

namespace {

// Orders at its first book: a buy that alone fits max_position_notional but not on top of the
// position the venue already holds; when the gate refuses it, closes that position.
constexpr const char *kTakeOver = R"(
first_qty, closing, refusal, filled, sent_at = nil, nil, "", 0, 0
function on_book(inst, book)
  if first_qty then return end
  first_qty = keel.position(inst).qty
  keel.order{ instrument = inst, side = "buy", qty = 0.015 }
end
function on_order(o)
  if o.status == "rejected" and not closing then
    refusal = o.reason
    closing = keel.order{ instrument = o.instrument, side = "sell", qty = 0.010,
                          reduce_only = true }
  end
  if o.status == "filled" then filled = filled + 1 end
end
)";

// Buys 0.010 at market as another client of the same account would (by hand, or an earlier
// run): asked again while the venue's replayed book is still empty.
void hold_position(const test::LoopbackVenue &venue) {
    net::Transport t(venue.cert().string());
    for (int attempt = 0; attempt < 50; ++attempt) {
        binance::Query q;
        q.add("symbol", "BTCUSDT")
            .add("side", "BUY")
            .add("type", "MARKET")
            .add("quantity", "0.010");
        auto answer = signed_request(t, venue, "POST", "/fapi/v1/order", q);
        INFO(answer.body);
        REQUIRE(answer.status == 200);
        if (answer.body.find("\"status\":\"FILLED\"") != std::string::npos) return;
        std::this_thread::sleep_for(100ms);
    }
    FAIL("the venue never filled the market buy");
}

}  // namespace

TEST_CASE("a restart takes over the position the venue holds; the gate counts it from the start",
          "[data][live][network][adopt]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir, "1");
    hold_position(venue);
    engine::Engine e(live_config(dir, venue, kTakeOver, test::usdm::kExchangeInfo,
                                 "  max_position_notional: 1200\n  no_duplicate_entry: false\n"),
                     live_options());
    auto summary = e.run(TimeNs{6} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    auto global = [&](const char *name) { return *e.strategy("trader")->global_as_string(name); };
    CHECK(summary.positions_taken_over == 1);
    // The strategy heard of the market only once the position was known.
    CHECK(global("first_qty") == "0.01");
    // 0.015 more (about 900 USDT) would take the position past 1200 USDT.
    CHECK(global("refusal") == "MAX_POSITION_NOTIONAL");
    CHECK(summary.vetoes_by_reason.count("POSITION_UNKNOWN") == 0);
    CHECK(global("filled") == "1");  // the close
    CHECK(e.portfolio().position(0).qty == 0);
    CHECK(summary.position_mismatches == 0);
    CHECK(summary.live.unknown_updates == 0);
    CHECK_THAT(engine::format_summary(summary),
               Catch::Matchers::Contains("positions taken over 1"));

    const VenueRecord record(venue);
    INFO(record.text);
    CHECK(std::string_view(record.account["positions"].at(0)["positionAmt"]) == "0.000");
    CHECK(placed_once(record.account) == 2);  // the buy above and keel's close; the veto sent none
    // The close's profit is the venue's, reckoned from the entry price taken over (keel's is
    // rounded to the tick: within half a tick times the quantity).
    const double venue_realized =
        std::stod(std::string(std::string_view(record.account["realizedPnl"])));
    CHECK(e.portfolio().position(0).realized.to_double() == Approx(venue_realized).margin(0.0005));
}

TEST_CASE("while the venue cannot say what position it holds, nothing trades the instrument",
          "[data][live][network][adopt]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir, "1");
    ask_venue(venue, "POST", "/keel-test/misbehave?what=fail&n=1000&path=/fapi/v2/account");
    // Hears no book; its timer orders anyway, and the gate refuses each one.
    constexpr const char *kBlind = R"(
books, refusals = 0, ""
keel.every(1)
function on_book(inst, book) books = books + 1 end
function on_timer(id)
  keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.002 }
end
function on_order(o) if o.status == "rejected" then refusals = refusals .. " " .. o.reason end end
)";
    engine::Engine e(live_config(dir, venue, kBlind), live_options());
    auto summary = e.run(TimeNs{12} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    auto global = [&](const char *name) { return *e.strategy("trader")->global_as_string(name); };
    CHECK(summary.book_events > 0);  // the market runs
    CHECK(global("books") == "0");
    CHECK(summary.vetoes_by_reason["POSITION_UNKNOWN"] >= 5);
    CHECK(summary.vetoes == summary.vetoes_by_reason["POSITION_UNKNOWN"]);
    CHECK_THAT(global("refusals"), Catch::Matchers::StartsWith(" POSITION_UNKNOWN"));
    CHECK(summary.live.sent == 0);
    CHECK(summary.positions_taken_over == 0);

    const VenueRecord record(venue);
    INFO(record.text);
    CHECK(int64_t(record.root["answered"]["503"]) >= 2);  // asked, and asked again
    CHECK(placed_once(record.account) == 0);
}
