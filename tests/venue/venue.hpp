#pragma once
// The loopback Binance USD-M venue without its sockets: REST routing, request weight, API-key and
// signature checks, the replayed market, and the misbehaviour tests ask for. binance_venue.cpp
// (the one Boost.Beast translation unit) feeds it requests and carries out what it answers.
// Everything runs on the server's one I/O thread, so nothing here locks.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "market.hpp"

namespace keel::venue {

class Exchange;
class SpotExchange;
struct Answer;
using Params = std::vector<std::pair<std::string, std::string>>;

struct Options {
    std::filesystem::path capture, exchange_info, cert_dir;
    double speed = 0;  // times the recorded pace; 0 = as fast as the sockets take
    std::string api_key = "keel-venue-key";
    std::string secret_env = "KEEL_VENUE_SECRET";
    std::string secret;            // read from the environment variable `secret_env`
    bool spot = false;             // --market spot: Binance spot's /api/v3 (default usdm)
    int64_t balance = 10000;       // USDT at start
    int64_t base_balance_1e8 = 0;  // spot: the base asset at start (--base-balance), in 1e-8
    int64_t weight_limit = 0;      // request weight per minute; 0: exchangeInfo's REQUEST_WEIGHT
    int64_t funding_rate_1e8 = 10000;  // the funding rate the markPrice streams show and funding
                                       // settles at, in 1e-8 (0.0001)
    double skip_seconds = 0;  // the replay's first seconds, taken silently before the start
    int64_t listen_key_life_ms = 60 * 60 * 1000;  // Binance: 60 minutes after its last keepalive
};

// A stream frame the venue makes itself (markPrice), sent like a recorded one.
struct Generated {
    std::string stream;  // "btcusdt@markPrice@1s"
    std::string text;    // {"stream":…,"data":{…}}
    size_t data_at = 0;  // where "data"'s object starts in `text`
    std::string_view data() const {
        return std::string_view(text).substr(data_at, text.size() - 1 - data_at);
    }
};

struct Request {
    std::string_view method;   // "GET", "POST", …
    std::string_view target;   // path and query: "/fapi/v1/depth?symbol=BTCUSDT&limit=5"
    std::string_view api_key;  // the X-MBX-APIKEY header, empty if absent
    std::string_view body;
    uint64_t connection = 0;  // which TCP connection it came on
};

struct Reply {
    unsigned status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool drop_streams = false;  // close every WebSocket abruptly once this is answered
    bool hang = false;          // close the connection instead of answering
    int64_t delay_ms = 0;       // answer this much later
};

// `misbehave?what=flaky`: faults drawn at random for every REST request (probabilities) and
// every user-data event, until `what=flaky` comes again with all of them 0.
struct Flaky {
    double p429 = 0;        // 429 -1003 with Retry-After 1, request not processed
    double p503 = 0;        // 503 -1000, not processed
    double p503_after = 0;  // processed, answered 503 -1000 (the outcome is unknown to the client)
    double p_hang = 0;      // the connection closes without an answer (half before processing)
    double p_delay = 0;     // the answer waits up to delay_ms
    int64_t delay_ms = 300;
    double p_timeout = 0;  // processed, the answer waits timeout_ms (past the client's timeout)
    int64_t timeout_ms = 11000;
    double p_dup = 0;   // a user-data event is sent twice
    double p_drop = 0;  // after the answer, every WebSocket drops
    bool on() const {
        return p429 + p503 + p503_after + p_hang + p_delay + p_timeout + p_dup + p_drop > 0;
    }
};

class Venue {
  public:
    explicit Venue(Options options);
    ~Venue();

    const Options &options() const { return options_; }
    // The exchangeInfo body as given, served unchanged.
    const std::string &exchange_info() const { return exchange_info_text_; }

    // One REST request at wall time `now_ms`.
    Reply handle(const Request &request, int64_t now_ms);

    // The replay: the server sends before_next() and then market().next() to their subscribers
    // (the frame unless skip_next_depth() says it is to be left out), then calls advance().
    Market &market() { return market_; }
    // What happens in exchange time before the next frame: for each whole second of the
    // replay's clock that it reaches, the kline events due then, the markPrice events of that
    // second (@markPrice@1s every second, @markPrice every third) from the book as it stands,
    // and at a funding time (every 8 h UTC) the funding settlement. Call once per frame, before
    // sending it.
    std::vector<Generated> before_next();
    // True once for the depth diff that `gap` asked to skip (the venue's book still applies it).
    bool skip_next_depth(const Frame &f);
    void advance(int64_t now_ms);
    // No stream frames go out before this wall time (`stall`).
    int64_t stall_until_ms() const { return stall_until_ms_; }

    // User-data messages produced since the last call, in order, for every /ws/<listenKey>.
    std::vector<std::string> take_user_events();
    bool listen_key_valid(std::string_view key, int64_t now_ms) const;
    // A user-data stream's key ran out: it got its listenKeyExpired event and is closed.
    void note_listen_key_expired() { ++listen_keys_expired_; }
    // The key was closed by its owner (DELETE): its stream ends without an event.
    bool listen_key_closed(const std::string &key) const { return closed_keys_.contains(key); }

  private:
    Reply route(const Request &request, std::string_view path, const Params &params,
                int64_t now_ms);
    Reply misbehave(const Params &params, int64_t now_ms);
    Reply state() const;
    Reply klines(const Params &params) const;  // GET /fapi/v1/klines, /api/v3/klines
    // A listenKey request's answer, counted; `key` is the one it is about.
    Reply listen_key_answer(std::string_view method, const std::string &key, Answer answer);
    // Spot's /api/v3 paths (spot_exchange.cpp does the trading).
    Reply route_spot(const Request &request, std::string_view path, const Params &params,
                     int64_t now_ms);
    // Request weight and the 429/418 escalation; nullopt when the request may go on.
    std::optional<Reply> limit(std::string_view path, const Params &params, bool is_signed,
                               uint64_t connection, int64_t now_ms);
    // New orders over the account's ORDERS limits (-1015); nullopt when they may go on (and are
    // counted). Adds the X-MBX-ORDER-COUNT-* headers to `headers` either way.
    std::optional<Reply> count_orders(int64_t now_ms, size_t orders,
                                      std::vector<std::pair<std::string, std::string>> &headers);
    // POST /fapi/v1/batchOrders, once read, signed and counted.
    Reply place_batch(const std::vector<Params> &orders, int64_t now_ms);
    // Applies a flaky-mode fault drawn for this request around `route`.
    Reply with_faults(const Request &request, std::string_view path, const Params &params,
                      int64_t now_ms, bool is_signed);
    Reply too_many(int64_t until_ms, int code, std::string msg, uint64_t connection,
                   int64_t now_ms);
    bool chance(double p) { return p > 0 && std::uniform_real_distribution<>(0, 1)(rng_) < p; }
    // The API key, timestamp and signature of a SIGNED request; nullopt when they hold.
    std::optional<Reply> authenticate(const Request &request, const Params &params,
                                      int64_t now_ms) const;

    Options options_;
    std::string exchange_info_text_;
    Market market_;
    std::unique_ptr<Exchange> exchange_;  // usdm
    std::unique_ptr<SpotExchange> spot_;  // spot
    std::string stream_symbol_;           // the symbol lower-cased, as stream names have it
    int64_t marked_until_ms_ = 0;         // the last whole second before_next() has dealt with
    int64_t mark_1e8_ = 0;                // the last mark price it sent (0: none yet)

    int64_t weight_minute_ = 0, weight_used_ = 0;
    struct OrderWindow {
        int64_t interval_ms = 0, limit = 0, window = -1, count = 0;
        std::string header;  // X-MBX-ORDER-COUNT-10S, …
    };
    std::vector<OrderWindow> order_windows_;  // exchangeInfo's ORDERS limits, fixed windows
    int64_t retry_until_ms_ = 0;     // a 429 was answered: sending before this is a ban, except
    int64_t retry_from_ms_ = 0;      // on another connection within kInFlightMs of the 429 (it
    uint64_t retry_connection_ = 0;  // may have been sent before the 429 arrived)
    int64_t banned_until_ms_ = 0;    // 418 until this
    int64_t forced_429_ = 0, forced_retry_after_s_ = 1;
    std::string forced_429_path_;  // only signed requests to this path get them ("": any)
    int64_t forced_503_ = 0;
    // 503 before anything is done, for signed requests to this path: a venue that cannot answer.
    int64_t forced_failures_ = 0;
    std::string forced_failure_path_;
    int64_t stall_until_ms_ = 0;
    bool gap_pending_ = false;
    uint64_t answered_429_ = 0, answered_418_ = 0, answered_503_ = 0, gaps_ = 0, drops_ = 0;
    uint64_t batch_requests_ = 0;  // POST /fapi/v1/batchOrders answered (for tests)
    // 429s earned by going over a limit (not forced): a client that keeps to limits has none.
    uint64_t over_weight_ = 0, over_orders_ = 0;
    uint64_t listen_keys_created_ = 0, keepalives_ = 0, listen_keys_expired_ = 0;
    std::set<std::string> closed_keys_;
    Flaky flaky_;
    std::mt19937_64 rng_{1};
    std::map<std::string, uint64_t> faults_;  // by kind, for /keel-test/state
};

}  // namespace keel::venue
