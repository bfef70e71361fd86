#pragma once
// The loopback Binance USD-M venue without its sockets: REST routing, request weight, API-key and
// signature checks, the replayed market, and the misbehaviour tests ask for. binance_venue.cpp
// (the one Boost.Beast translation unit) feeds it requests and carries out what it answers.
// Everything runs on the server's one I/O thread, so nothing here locks.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "market.hpp"

namespace keel::venue {

class Exchange;
using Params = std::vector<std::pair<std::string, std::string>>;

struct Options {
    std::filesystem::path capture, exchange_info, cert_dir;
    double speed = 0;  // times the recorded pace; 0 = as fast as the sockets take
    std::string api_key = "keel-venue-key";
    std::string secret_env = "KEEL_VENUE_SECRET";
    std::string secret;       // read from the environment variable `secret_env`
    int64_t balance = 10000;  // USDT at start
    int64_t weight_limit = 2400;
};

struct Request {
    std::string_view method;   // "GET", "POST", …
    std::string_view target;   // path and query: "/fapi/v1/depth?symbol=BTCUSDT&limit=5"
    std::string_view api_key;  // the X-MBX-APIKEY header, empty if absent
    std::string_view body;
};

struct Reply {
    unsigned status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool drop_streams = false;  // close every WebSocket abruptly once this is answered
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

    // The replay: the server sends market().next() to its subscribers unless skip_next_depth()
    // says the frame is to be left out, then calls advance().
    Market &market() { return market_; }
    // True once for the depth diff that `gap` asked to skip (the venue's book still applies it).
    bool skip_next_depth(const Frame &f);
    void advance(int64_t now_ms);
    // No stream frames go out before this wall time (`stall`).
    int64_t stall_until_ms() const { return stall_until_ms_; }

    // User-data messages produced since the last call, in order, for every /ws/<listenKey>.
    std::vector<std::string> take_user_events();
    bool listen_key_valid(std::string_view key, int64_t now_ms) const;

  private:
    Reply route(const Request &request, std::string_view path, const Params &params,
                int64_t now_ms);
    Reply misbehave(const Params &params, int64_t now_ms);
    Reply state() const;
    // Request weight and the 429/418 escalation; nullopt when the request may go on.
    std::optional<Reply> limit(std::string_view path, const Params &params, bool is_signed,
                               int64_t now_ms);
    // The API key, timestamp and signature of a SIGNED request; nullopt when they hold.
    std::optional<Reply> authenticate(const Request &request, const Params &params,
                                      int64_t now_ms) const;

    Options options_;
    std::string exchange_info_text_;
    Market market_;
    std::unique_ptr<Exchange> exchange_;

    int64_t weight_minute_ = 0, weight_used_ = 0;
    int64_t retry_until_ms_ = 0;   // a 429 was answered: sending before this is a ban
    int64_t banned_until_ms_ = 0;  // 418 until this
    int64_t forced_429_ = 0, forced_retry_after_s_ = 1;
    int64_t forced_503_ = 0;
    int64_t stall_until_ms_ = 0;
    bool gap_pending_ = false;
    uint64_t answered_429_ = 0, answered_418_ = 0, answered_503_ = 0, gaps_ = 0, drops_ = 0;
};

}  // namespace keel::venue
