// Marks, funding and warm-up from the venue (ABI 1.4) against the loopback Binance venue, which
// publishes <symbol>@markPrice@1s from its replayed book, settles funding at 2024-08-09 00:00 UTC
// (inside the real capture) and serves klines built from the capture's trades. Every expected
// figure is worked out here from the capture itself, not read back from the venue.

#include <catch2/catch.hpp>

#include <map>

#include <fmt/format.h>
#include <simdjson.h>

#include "account.hpp"
#include "codec.hpp"
#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/market/book_feed.hpp"
#include "keel/market/capture.hpp"
#include "loopback_venue.hpp"
#include "usdm_reference.hpp"

using namespace keel;
using binance::MessageKind;

namespace {

constexpr int64_t kFundingMs = 1'723'161'600'000;  // 2024-08-09T00:00:00Z, a Binance funding time
constexpr int64_t kMinuteMs = 60'000;
constexpr int kSkipSeconds = 240;
constexpr int64_t kRate = 12'346;  // 0.00012346 in 1e-8: the venue's --funding-rate

// What the venue's replay of the capture implies, worked out from the capture: the closed 1m
// candles of what --skip leaves behind, and the book's mid (in half ticks) when the exchange
// clock first reaches the funding time, which is the venue's mark then.
struct CaptureFacts {
    std::vector<market::Candle> closed;  // oldest first
    Ticks two_mid_at_funding = 0;
};

int64_t event_ms(std::string_view frame) {
    auto at = frame.find("\"E\":");
    REQUIRE(at != std::string_view::npos);
    return std::stoll(std::string(frame.substr(at + 4, 16)));
}

CaptureFacts capture_facts() {
    binance::Codec codec(*market::DecimalGrid::parse("0.10"), *market::DecimalGrid::parse("0.001"));
    market::BookFeed feed(market::SequenceRule::binance_futures);
    // The venue's market: the REST snapshot, then the stream from the diff it bridges.
    uint64_t snapshot_id = 0;
    {
        market::CaptureReader reader(test::usdm::kCapture);
        TimeNs ts;
        std::string_view frame;
        while (snapshot_id == 0 && reader.next(ts, frame))
            if (codec.parse(frame, reader.capacity()) == MessageKind::snapshot) {
                const auto &s = codec.snapshot();
                snapshot_id = s.last_update_id;
                REQUIRE(feed.on_snapshot(s.last_update_id, s.bids, s.asks, ts) ==
                        market::SyncStatus::applied);
            }
    }
    REQUIRE(snapshot_id != 0);
    CaptureFacts facts;
    std::map<int64_t, market::Candle> minutes;
    market::CaptureReader reader(test::usdm::kCapture);
    TimeNs ts, start_ns = 0;
    std::string_view frame;
    int64_t clock_ms = 0, skip_clock_ms = 0;
    while (reader.next(ts, frame)) {
        if (!frame.starts_with("{\"stream\"")) continue;
        auto kind = codec.parse(frame, reader.capacity());
        if (start_ns == 0) {
            if (kind != MessageKind::depth || codec.depth().first > snapshot_id ||
                codec.depth().last < snapshot_id)
                continue;
            start_ns = ts;
        }
        const int64_t e = event_ms(frame);
        if (facts.two_mid_at_funding == 0 && e >= kFundingMs && clock_ms < kFundingMs)
            facts.two_mid_at_funding =
                feed.book().best_bid()->price + feed.book().best_ask()->price;
        clock_ms = std::max(clock_ms, e);
        if (ts < start_ns + TimeNs{kSkipSeconds} * 1'000'000'000) {
            skip_clock_ms = clock_ms;
            if (kind == MessageKind::trade) {
                const auto &t = codec.trade();
                const int64_t minute = t.trade_ms / kMinuteMs * kMinuteMs;
                auto [it, fresh] = minutes.try_emplace(minute);
                market::Candle &c = it->second;
                if (fresh) {
                    c.start = minute * 1'000'000;
                    c.open = c.high = c.low = t.price;
                }
                c.high = std::max(c.high, t.price);
                c.low = std::min(c.low, t.price);
                c.close = t.price;
                c.volume += t.qty;
                ++c.trades;
            }
        }
        if (kind == MessageKind::depth) {
            const auto &d = codec.depth();
            feed.on_delta({d.first, d.last, d.prev_last}, d.bids, d.asks, ts);
            REQUIRE(feed.usable());
        }
    }
    REQUIRE(facts.two_mid_at_funding > 0);
    // The minute holding the venue's clock after the skip is still open: not a closed candle.
    for (const auto &[minute, c] : minutes) {
        if (minute >= skip_clock_ms / kMinuteMs * kMinuteMs) break;
        REQUIRE((facts.closed.empty() ||
                 c.start == facts.closed.back().start + kMinuteMs * 1'000'000));  // no gap
        facts.closed.push_back(c);
    }
    return facts;
}

// Funding of `lots` (0.001 BTC) long at a mark of `two_mid` half ticks (0.05 USDT): -lots x mark x
// rate, in 1e-8 USDT, rounded half away from zero.
int64_t long_funding(Lots lots, Ticks two_mid) {
    const int64_t mark_units = two_mid * 5'000'000;  // a half tick is 0.05 USDT
    const int64_t value = mark_units * lots / 1000;  // exact: a lot is 0.001
    return -((value * kRate + 50'000'000) / 100'000'000);
}

constexpr const char *kShadowTrader = R"(
warm, n, entry, tp_mark, tp_last = "", 0, nil, nil, nil
mark_statuses, last_statuses = "", ""
function on_start() keel.every(0.05) end
function on_timer(id)
  if warm ~= "" then return end
  for _, k in ipairs(keel.candles("BTCUSDT", "1m", 100)) do
    warm = warm .. string.format("%d %.1f %.1f %.1f %.1f %.3f %d;", k.time, k.open, k.high,
                                 k.low, k.close, k.volume, k.trades)
  end
end
function on_book(inst, book)
  n = n + 1
  if n == 20 then entry = keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.02 } end
end
function on_order(o)
  if o.id == entry and o.status == "filled" then
    local bid = keel.book("BTCUSDT"):best_bid()
    -- Reached at once: it triggers on the next mark the venue publishes.
    tp_mark = keel.order{ instrument = "BTCUSDT", side = "sell", qty = 0.01, type = "take_profit",
                          price = bid - 20, trigger = "mark", reduce_only = true }
    -- Never reached.
    tp_last = keel.order{ instrument = "BTCUSDT", side = "sell", qty = 0.01, type = "take_profit",
                          price = bid + 5000, trigger = "last", reduce_only = true }
  end
  if o.id == tp_mark then mark_statuses = mark_statuses .. o.status .. " " end
  if o.id == tp_last then last_statuses = last_statuses .. o.status .. " " end
end
)";

}  // namespace

TEST_CASE(
    "a shadow session warms up from the venue's klines, triggers on its mark and pays its "
    "funding",
    "[data][shadow][network]") {
    const CaptureFacts facts = capture_facts();
    REQUIRE(facts.closed.size() >= 3);
    test::TempDir dir;
    test::LoopbackVenue venue(
        dir, "0", {}, {"--skip", std::to_string(kSkipSeconds), "--funding-rate", "0.00012346"});
    dir.write("trader.lua", kShadowTrader);
    auto cfg = config::load_file(dir.write(
        "shadow.yaml",
        fmt::format(R"(mode: shadow
venues:
  binance:
    plugin: binance
    ca_file: {0}/venue.crt
    settings:
      market: usdm
      exchange_info: {1}
      rest_url: https://127.0.0.1:{2}
      ws_url: wss://127.0.0.1:{2}
instruments:
  - {{ symbol: BTCUSDT, venue: binance }}
strategies:
  - {{ name: trader, file: trader.lua, instruments: [BTCUSDT], timeframes: [1m] }}
risk:
  max_order_notional: 5000
  max_position_pct: 50
)",
                    dir.path().string(), test::usdm::kExchangeInfo.string(), venue.port())));
    cfg.notifiers.clear();
    engine::EngineOptions options;  // the wall clock
    options.plugin_search = {KEEL_PLUGIN_DIR};
    options.watch_strategy_files = false;
    engine::Engine e(cfg, options);
    // The venue sends the rest of the capture (past the funding time) as fast as it is taken.
    auto summary = e.run(TimeNs{10} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    auto global = [&](const char *g) { return *e.strategy("trader")->global_as_string(g); };

    // Warm-up: the closed klines of the skipped market, as the capture's trades make them.
    std::string expected;
    for (const auto &c : facts.closed)
        expected +=
            fmt::format("{} {:.1f} {:.1f} {:.1f} {:.1f} {:.3f} {};", c.start / 1'000'000'000,
                        static_cast<double>(c.open) / 10, static_cast<double>(c.high) / 10,
                        static_cast<double>(c.low) / 10, static_cast<double>(c.close) / 10,
                        static_cast<double>(c.volume) / 1000, c.trades);
    const std::string warm = global("warm");
    INFO("warm-up seen: " << warm);
    REQUIRE(warm.size() >= expected.size());
    CHECK(warm.substr(0, expected.size()) == expected);

    // The take-profit on the mark triggered (and filled); the one on the last trade waited.
    CHECK(summary.mark_events > 0);
    CHECK(global("mark_statuses").find("triggered") != std::string::npos);
    CHECK(global("mark_statuses").find("filled") != std::string::npos);
    CHECK(global("last_statuses").find("triggered") == std::string::npos);
    CHECK(e.portfolio().position(0).qty == 10);

    // Funding at 00:00: 0.01 BTC long at the venue's mark and rate, exactly.
    const int64_t expected_funding = long_funding(10, facts.two_mid_at_funding);
    INFO("mark at funding " << static_cast<double>(facts.two_mid_at_funding) / 20);
    CHECK(expected_funding < 0);
    CHECK(e.portfolio().funding().units == expected_funding);
}

TEST_CASE("a live session sets leverage and margin type and books the funding the venue charges",
          "[data][live][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir, "0", {}, {"--funding-rate", "0.00012346"});
    ::setenv("KEEL_TEST_API_KEY", test::LoopbackVenue::kApiKey, 1);
    dir.write("holder.lua", R"(
n, filled = 0, 0
function on_book(inst, book)
  n = n + 1
  if n == 50 then keel.order{ instrument = "BTCUSDT", side = "buy", qty = 0.005 } end
end
function on_order(o) if o.fill_qty then filled = filled + o.fill_qty end end
)");
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
      leverage: 10
      margin_type: ISOLATED
instruments:
  - {{ symbol: BTCUSDT, venue: binance, leverage: 10 }}
strategies:
  - {{ name: holder, file: holder.lua, instruments: [BTCUSDT] }}
)",
                                           dir.path().string(), test::usdm::kExchangeInfo.string(),
                                           venue.port(), test::LoopbackVenue::kSecretVar)));
    cfg.notifiers.clear();
    engine::EngineOptions options;
    options.plugin_search = {KEEL_PLUGIN_DIR};
    options.watch_strategy_files = false;
    engine::Engine e(cfg, options);
    // Long 0.005 BTC while the venue's replay passes 00:00 UTC, a funding time.
    auto summary = e.run(TimeNs{10} * 1'000'000'000);
    INFO("venue stderr: " << venue.process().err());
    CHECK(e.portfolio().position(0).qty == 5);

    const std::string state = venue.state();
    INFO(state);
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(state);
    simdjson::dom::object account = root["account"];
    // The plugin set the symbol up before trading.
    CHECK(int64_t(account["leverage"]) == 10);
    CHECK(std::string_view(account["marginType"]) == "ISOLATED");
    REQUIRE(simdjson::dom::array(account["fundingEvents"]).size() == 1);
    auto charged = binance::parse_amount(std::string_view(account["funding"]));
    REQUIRE(charged);
    CHECK(*charged < 0);  // a long pays a positive rate
    // keel booked exactly what the venue charged, once.
    CHECK(e.portfolio().funding().units == *charged);
    CHECK(summary.funding == Approx(static_cast<double>(*charged) / 1e8));
    CHECK(summary.position_mismatches == 0);
}
