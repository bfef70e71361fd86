// A live session against the loopback Binance venue: the risk gate's approved orders go through
// the order manager (exec::LiveVenue) and the binance plugin as signed REST requests; fills come
// back on the user-data stream. The venue's own record (GET /keel-test/state) must agree with
// keel: each client order id placed once, the same position, no order left open.

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

#include <fmt/format.h>
#include <simdjson.h>

#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/net/transport.hpp"
#include "loopback_venue.hpp"
#include "usdm_reference.hpp"

using namespace keel;
using namespace std::chrono_literals;

namespace {

// Buys at market, rests a sell far above the book and cancels it, then (once the venue confirms
// the cancel) closes at market; counts what its orders went through.
constexpr const char *kTrader = R"(
n, fills, accepted, cancelled, rejected, filled_qty = 0, 0, 0, 0, 0, 0
reasons = ""
local resting
function on_book(inst, book)
  n = n + 1
  if n == 50 then
    keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.005 }
  elseif n == 100 then
    local ask = book:best_ask()
    resting = keel.order{ instrument = "BTCUSDT", side = "sell", qty = 0.005, type = "limit",
                          price = ask + 500 }
  elseif n == 150 then
    keel.cancel(resting)
  end
end
function on_order(o)
  if o.status == "accepted" then accepted = accepted + 1 end
  if o.status == "cancelled" then
    -- Confirmed by the venue only now: until then the resting sell counts against a close.
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
end
)";

// GET of the venue's own record, through the host's network as a plugin would.
std::string venue_state(const test::LoopbackVenue &venue) {
    net::Transport t(venue.cert().string());
    std::mutex m;
    std::condition_variable cv;
    std::optional<net::HttpAnswer> answer;
    REQUIRE(t.http("GET", venue.https() + "/keel-test/state", "", "", 10s, [&](net::HttpAnswer a) {
        std::lock_guard lock(m);
        answer = std::move(a);
        cv.notify_all();
    }));
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, 20s, [&] { return answer.has_value(); }));
    REQUIRE(answer->status == 200);
    return answer->body;
}

}  // namespace

TEST_CASE("live session against the loopback venue places, fills and cancels through the plugin",
          "[data][live][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    ::setenv("KEEL_TEST_API_KEY", test::LoopbackVenue::kApiKey, 1);
    dir.write("trader.lua", kTrader);
    auto cfg = config::load_file(
        dir.write("live.yaml", fmt::format(R"(mode: live
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
instruments:
  - {{ symbol: BTCUSDT, venue: binance }}
strategies:
  - {{ name: trader, file: trader.lua, instruments: [BTCUSDT] }}
)",
                                           dir.path().string(), test::usdm::kExchangeInfo.string(),
                                           venue.port(), test::LoopbackVenue::kSecretVar)));
    cfg.notifiers.clear();
    engine::EngineOptions options;
    options.plugin_search = {KEEL_PLUGIN_DIR};
    options.watch_strategy_files = false;
    engine::Engine e(cfg, options);
    auto summary = e.run(TimeNs{8} * 1'000'000'000);

    auto num = [&](const char *g) { return std::stod(*e.strategy("trader")->global_as_string(g)); };
    INFO("rejections:" << *e.strategy("trader")->global_as_string("reasons"));
    INFO("venue stderr: " << venue.process().err());
    CHECK(num("rejected") == 0);
    CHECK(num("accepted") == 3);
    CHECK(num("cancelled") == 1);
    CHECK(num("filled_qty") == Approx(0.010));
    CHECK(summary.live.sent == 3);
    CHECK(summary.live.resent == 0);
    CHECK(summary.live.unknown_updates == 0);
    CHECK(summary.position_mismatches == 0);
    CHECK(e.portfolio().position(0).qty == 0);

    // The venue's side of the story.
    std::string state = venue_state(venue);
    INFO(state);
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(state);
    simdjson::dom::object account = root["account"];
    CHECK(std::string_view(account["positions"].at(0)["positionAmt"]) == "0.000");
    CHECK(simdjson::dom::array(account["openOrders"]).size() == 0);
    size_t placed = 0;
    for (auto [cid, times] : simdjson::dom::object(account["ordersPlacedPerClientOrderId"])) {
        INFO(cid);
        CHECK(int64_t(times) == 1);
        ++placed;
    }
    CHECK(placed == 3);
    CHECK(int64_t(account["fills"]) == static_cast<int64_t>(summary.fills));
}
