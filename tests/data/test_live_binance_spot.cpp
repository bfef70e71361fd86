// A live spot session against the loopback venue in spot mode (tests/venue, `--market spot`),
// replaying the real spot BTCUSDT capture: the plugin's spot paths (/api/v3 orders, the
// userDataStream, executionReport) end to end, and its spot books, whose sizes are finer than
// the order step (25.42618900 BTC on a 0.00001 step), built without a malformed frame.

#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <simdjson.h>

#include "account.hpp"
#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "loopback_venue.hpp"

using namespace keel;

namespace {

const std::filesystem::path kSpotData = std::filesystem::path(KEEL_DATA_DIR) / "binance/spot";

// Buys at market once the book is up, then rests a sell far above the book and cancels it once
// accepted; an off-step quantity is vetoed by the gate before it can reach the venue. Two buys far
// below the book in one callback are handed over together, and go one by one (spot has no batch
// endpoint); each is cancelled once accepted.
constexpr const char *kSpotTrader = R"(
n, fills, accepted, cancelled, rejected, filled_qty = 0, 0, 0, 0, 0, 0
reasons = ""
local entry, resting
local far = {}
function on_book(inst, book)
  n = n + 1
  if n == 20 then keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.000015 } end
  if n == 50 then entry = keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.001 } end
  if n == 60 then
    local bid = keel.book("BTCUSDT"):best_bid()
    for k = 1, 2 do
      far[keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.001, type = "limit",
                      price = math.floor(bid * 0.97) - k }] = true
    end
  end
end
function on_order(o)
  if o.status == "accepted" then
    accepted = accepted + 1
    if o.id == resting then
      -- Spot cannot amend a price: refused here, nothing sent.
      local _, why = keel.amend(o.id, { price = o.price + 1 })
      amend_refused = why
    end
    if o.id == resting or far[o.id] then keel.cancel(o.id) end
  end
  if o.status == "cancelled" then cancelled = cancelled + 1 end
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
    -- 0.001 less the commission paid in BTC is held: a sale of 0.001 would go short.
    resting = keel.order{ instrument = "BTCUSDT", side = "sell", qty = 0.0009, type = "limit",
                          price = math.floor(ask * 1.03) }
  end
end
)";

}  // namespace

TEST_CASE("a live spot session trades through /api/v3 and builds spot books finer than the step",
          "[data][live][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(
        dir, "0", kSpotData / "rest/http_spot_market_exchange_info.json",
        {"--market", "spot", "--capture", (kSpotData / "ws_capture/btcusdt_20240808.gz").string(),
         // The buy's fee is paid in BTC: the sell needs some held already.
         "--base-balance", "0.01"});
    ::setenv("KEEL_TEST_API_KEY", test::LoopbackVenue::kApiKey, 1);
    dir.write("trader.lua", kSpotTrader);
    auto cfg = config::load_file(dir.write(
        "live.yaml", fmt::format(R"(mode: live
venues:
  binance:
    plugin: binance
    ca_file: {0}/venue.crt
    settings:
      market: spot
      network: testnet
      exchange_info: {1}
      rest_url: https://127.0.0.1:{2}
      ws_url: wss://127.0.0.1:{2}
      api_key: ${{KEEL_TEST_API_KEY}}
      api_secret: ${{{3}}}
instruments:
  - {{ symbol: BTCUSDT, venue: binance, kind: spot }}
strategies:
  - {{ name: trader, file: trader.lua, instruments: [BTCUSDT] }}
risk:
  no_duplicate_entry: false
)",
                                 dir.path().string(),
                                 (kSpotData / "rest/http_spot_market_exchange_info.json").string(),
                                 venue.port(), test::LoopbackVenue::kSecretVar)));
    cfg.notifiers.clear();
    engine::EngineOptions options;
    options.plugin_search = {KEEL_PLUGIN_DIR};
    options.watch_strategy_files = false;
    engine::Engine e(cfg, options);
    auto summary = e.run(TimeNs{8} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    auto global = [&](const char *g) { return *e.strategy("trader")->global_as_string(g); };
    INFO("rejections:" << global("reasons"));

    // Every spot depth diff parsed and applied: sizes on the 1e-8 grid, not the order step.
    REQUIRE(summary.market.size() == 1);
    CHECK(summary.malformed_frames == 0);
    CHECK(summary.market[0].sync.gaps == 0);
    CHECK(summary.book_events > 100);

    // 0.000015 BTC is on the book's grid but not on the 0.00001 step: the gate's veto.
    CHECK(std::stoi(global("rejected")) == 1);
    CHECK(global("reasons").find("INVALID_QUANTITY") != std::string::npos);
    CHECK(std::stoi(global("accepted")) == 4);
    CHECK(std::stoi(global("cancelled")) == 3);
    CHECK(summary.live.batches == 1);  // the two far buys, handed over together
    CHECK(std::stod(global("filled_qty")) == Approx(0.001));
    CHECK(summary.live.unknown_updates == 0);
    CHECK_THAT(global("amend_refused"), Catch::Matchers::Contains("binance spot cannot amend"));
    CHECK(summary.live.amends == 0);

    const std::string state = venue.state();
    INFO(state);
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(state);
    CHECK(int64_t(root["batchRequests"]) == 0);  // one by one through /api/v3/order
    // The session's listen key was closed at its end (DELETE /api/v3/userDataStream).
    CHECK(int64_t(root["listenKeys"]["created"]) == 1);
    CHECK(int64_t(root["listenKeys"]["closed"]) == 1);
    simdjson::dom::object account = root["account"];
    CHECK(simdjson::dom::array(account["openOrders"]).size() == 0);
    uint64_t placed = 0;
    for (auto [cid, times] : simdjson::dom::object(account["ordersPlacedPerClientOrderId"])) {
        INFO(cid);
        CHECK(int64_t(times) == 1);
        ++placed;
    }
    CHECK(placed == 4);  // the vetoed order never reached the venue
    CHECK(int64_t(account["fills"]) == static_cast<int64_t>(summary.fills));

    // The buy's commission was paid in BTC: keel holds what the venue credited, 0.001 BTC less
    // the commission (1e-8 lots), and books the commission's value as a fee.
    auto units = [](simdjson::dom::element text) {
        return std::llround(std::stod(std::string(std::string_view(text))) * 1e8);
    };
    simdjson::dom::object btc = account["balances"]["BTC"];
    const int64_t credited = units(btc["free"]) + units(btc["locked"]) - 1'000'000;  // 0.01 BTC
    const Lots held = e.portfolio().position(0).qty;
    CHECK(held == credited);
    CHECK(held < 100'000);
    CHECK(held >= 99'800);  // 0.1 % at most, rounded per fill
    CHECK(e.portfolio().fees().to_double() > 0);
}
