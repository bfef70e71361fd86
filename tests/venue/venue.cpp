#include "venue.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <simdjson.h>

#include "exchange.hpp"
#include "keel/market/capture.hpp"
#include "signer.hpp"
#include "spot_exchange.hpp"

namespace keel::venue {

namespace {

std::string read_file(const std::filesystem::path &file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The symbol a capture trades: its first stream name up to '@', upper-cased.
std::string capture_symbol(const std::filesystem::path &capture) {
    market::CaptureReader reader(capture);
    TimeNs ts = 0;
    std::string_view frame;
    constexpr std::string_view kPrefix = R"({"stream":")";
    while (reader.next(ts, frame)) {
        if (!frame.starts_with(kPrefix)) continue;
        std::string s(frame.substr(kPrefix.size(), frame.find('@') - kPrefix.size()));
        for (char &c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return s;
    }
    throw std::runtime_error(capture.string() + ": no stream frame");
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 &&
                   hex_digit(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

void parse_form(std::string_view text, Params &out) {
    while (!text.empty()) {
        const auto amp = text.find('&');
        const auto pair = text.substr(0, amp);
        const auto eq = pair.find('=');
        if (!pair.empty())
            out.emplace_back(
                percent_decode(pair.substr(0, eq)),
                eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1)));
        if (amp == std::string_view::npos) break;
        text.remove_prefix(amp + 1);
    }
}

// `text` without its `signature=…` parameter (and the '&' that joined it), as Binance signs.
std::string without_signature(std::string_view text, std::string &signature) {
    std::string out;
    while (!text.empty()) {
        const auto amp = text.find('&');
        const auto pair = text.substr(0, amp);
        if (pair.starts_with("signature=")) {
            signature = std::string(pair.substr(10));
        } else {
            if (!out.empty()) out += '&';
            out += pair;
        }
        if (amp == std::string_view::npos) break;
        text.remove_prefix(amp + 1);
    }
    return out;
}

std::optional<int64_t> to_int(std::string_view s) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

Reply reply_of(Answer a) {
    return Reply{.status = a.status, .body = std::move(a.body)};
}

constexpr size_t kMaxBatch = 5;  // orders per POST /fapi/v1/batchOrders

// The orders of POST /fapi/v1/batchOrders: its `batchOrders` parameter, a JSON array of 1 to 5
// objects whose fields are a single order's parameters. Binance documents no separate code for
// too many orders; like an empty or malformed list they get -1102.
std::optional<Answer> read_batch(const Params &params, std::vector<Params> &orders) {
    const auto malformed = [] {
        return error(400, -1102,
                     "Mandatory parameter 'batchOrders' was not sent, was empty/null, or "
                     "malformed.");
    };
    const auto text = find(params, "batchOrders");
    if (!text) return malformed();
    simdjson::dom::parser parser;
    simdjson::dom::array list;
    if (parser.parse(text->data(), text->size()).get_array().get(list) || list.size() == 0 ||
        list.size() > kMaxBatch)
        return malformed();
    for (simdjson::dom::element e : list) {
        simdjson::dom::object o;
        if (e.get_object().get(o)) return malformed();
        Params order;
        for (auto field : o) {
            // Strings as Binance documents them; a bare number or boolean reads as its text.
            std::string_view value;
            order.emplace_back(std::string(field.key), field.value.get_string().get(value)
                                                           ? simdjson::minify(field.value)
                                                           : std::string(value));
        }
        orders.push_back(std::move(order));
    }
    return std::nullopt;
}

// GET /fapi/v1/depth's weight by limit, as Binance documents it.
int64_t depth_weight(int64_t limit) {
    if (limit <= 50) return 2;
    if (limit <= 100) return 5;
    if (limit <= 500) return 10;
    return 20;
}

// GET /api/v3/depth's weight by limit, as Binance spot documents it.
int64_t spot_depth_weight(int64_t limit) {
    if (limit <= 100) return 5;
    if (limit <= 500) return 25;
    if (limit <= 1000) return 50;
    return 250;
}

// GET /fapi/v1/klines's weight by limit, as Binance documents it.
int64_t klines_weight(int64_t limit) {
    if (limit < 100) return 1;
    if (limit < 500) return 2;
    if (limit <= 1000) return 5;
    return 10;
}

constexpr int64_t kFundingEveryMs = 8 * 3600 * 1000;  // 00:00, 08:00, 16:00 UTC
// The markPrice streams and how often they push, on whole seconds of exchange time.
constexpr std::pair<std::string_view, int64_t> kMarkStreams[] = {{"@markPrice@1s", 1000},
                                                                 {"@markPrice", 3000}};
// The kline streams it serves: each pushes its open kline every 2 s, and the closed one a second
// after its interval ends (trades stamped before the end may still be on their way until then).
constexpr std::string_view kKlineStreams[] = {"1m", "3m", "5m", "15m", "1h"};

// A stream frame the venue makes, in the combined-stream envelope.
Generated generated(std::string stream, std::string_view data) {
    Generated g{.stream = std::move(stream)};
    g.text = fmt::format(R"({{"stream":"{}","data":)", g.stream);
    g.data_at = g.text.size();
    g.text += data;
    g.text += '}';
    return g;
}

struct Route {
    std::string_view method, path;
    int64_t weight;
    bool is_signed;
    bool spot = false;  // served with --market spot (and only then)
};
// Every REST path the venue serves. Weights follow Binance's USD-M documentation (openOrders
// without a symbol is 40 there; one symbol trades here, so 1).
constexpr Route kRoutes[] = {
    {"GET", "/fapi/v1/ping", 1, false},
    {"GET", "/fapi/v1/time", 1, false},
    {"GET", "/fapi/v1/exchangeInfo", 1, false},
    {"GET", "/fapi/v1/depth", 0, false},   // by limit: depth_weight
    {"GET", "/fapi/v1/klines", 0, false},  // by limit: klines_weight
    {"POST", "/fapi/v1/order", 1, true},
    {"POST", "/fapi/v1/batchOrders", 5, true},
    {"DELETE", "/fapi/v1/order", 1, true},
    {"PUT", "/fapi/v1/order", 0, true},  // an amendment: an order against the ORDERS limits
    {"GET", "/fapi/v1/order", 1, true},
    {"GET", "/fapi/v1/openOrders", 1, true},
    {"DELETE", "/fapi/v1/allOpenOrders", 1, true},
    {"GET", "/fapi/v2/account", 5, true},
    {"GET", "/fapi/v2/balance", 5, true},
    {"GET", "/fapi/v1/userTrades", 5, true},
    {"GET", "/fapi/v1/income", 30, true},
    {"POST", "/fapi/v1/leverage", 1, true},
    {"POST", "/fapi/v1/marginType", 1, true},
    {"POST", "/fapi/v1/listenKey", 1, false},
    {"PUT", "/fapi/v1/listenKey", 1, false},
    {"DELETE", "/fapi/v1/listenKey", 1, false},
    // Spot (weights from Binance's spot documentation; openOrders with a symbol).
    {"GET", "/api/v3/ping", 1, false, true},
    {"GET", "/api/v3/time", 1, false, true},
    {"GET", "/api/v3/exchangeInfo", 20, false, true},
    {"GET", "/api/v3/depth", 0, false, true},  // by limit: spot_depth_weight
    {"GET", "/api/v3/klines", 2, false, true},
    {"POST", "/api/v3/order", 1, true, true},
    {"DELETE", "/api/v3/order", 1, true, true},
    {"GET", "/api/v3/order", 4, true, true},
    {"GET", "/api/v3/openOrders", 6, true, true},
    {"DELETE", "/api/v3/openOrders", 1, true, true},
    {"GET", "/api/v3/account", 20, true, true},
    {"GET", "/api/v3/myTrades", 20, true, true},
    {"POST", "/api/v3/userDataStream", 2, false, true},
    {"PUT", "/api/v3/userDataStream", 2, false, true},
    {"DELETE", "/api/v3/userDataStream", 2, false, true},
};

const Route *find_route(std::string_view method, std::string_view path, bool spot) {
    for (const auto &r : kRoutes)
        if (r.spot == spot && r.method == method && r.path == path) return &r;
    return nullptr;
}

// The paths that take the API key alone (no signature): the listen key's.
bool key_only(std::string_view path) {
    return path == "/fapi/v1/listenKey" || path == "/api/v3/userDataStream";
}

// An ORDERS limit's window as Binance names it in X-MBX-ORDER-COUNT-*: 10S, 1M, 1D.
std::string window_name(int64_t ms) {
    if (ms % 86'400'000 == 0) return fmt::format("{}D", ms / 86'400'000);
    if (ms % 3'600'000 == 0) return fmt::format("{}H", ms / 3'600'000);
    if (ms % 60'000 == 0) return fmt::format("{}M", ms / 60'000);
    return fmt::format("{}S", ms / 1000);
}

}  // namespace

std::optional<std::string_view> find(const Params &params, std::string_view name) {
    for (const auto &[k, v] : params)
        if (k == name) return std::string_view(v);
    return std::nullopt;
}

Answer error(unsigned status, int code, std::string_view message) {
    return Answer{status, fmt::format(R"({{"code":{},"msg":"{}"}})", code, message)};
}

Venue::Venue(Options options)
    : options_(std::move(options)),
      exchange_info_text_(read_file(options_.exchange_info)),
      market_([&] {
          std::string error;
          const auto info = binance::parse_exchange_info(exchange_info_text_, error);
          if (!info) throw std::runtime_error(options_.exchange_info.string() + ": " + error);
          const auto symbol = capture_symbol(options_.capture);
          const auto *s = info->find(symbol);
          if (!s) throw std::runtime_error("exchangeInfo has no symbol " + symbol);
          auto qty = ShownGrid::parse(s->step_size);
          // Spot's books hold quantities finer than LOT_SIZE's step ("25.42618900" on a step of
          // 0.00001): its market keeps them on the grid of the decimals Binance writes.
          if (options_.spot) qty = ShownGrid{market::DecimalGrid{qty.shown, 1}, qty.shown};
          return Market(options_.capture, symbol, ShownGrid::parse(s->tick_size), qty);
      }()) {
    std::string error;
    const auto info = binance::parse_exchange_info(exchange_info_text_, error);
    if (options_.spot)
        spot_ = std::make_unique<SpotExchange>(
            *info->find(market_.symbol()), exchange_info_text_, market_,
            options_.balance * static_cast<int64_t>(market::kPowersOfTen[8]),
            options_.base_balance_1e8);
    else
        exchange_ =
            std::make_unique<Exchange>(*info->find(market_.symbol()), market_, options_.balance);
    // The limits it serves are the limits it keeps.
    for (const auto &r : info->rate_limits) {
        const int64_t ms = r.interval_ns / 1'000'000;
        if (r.type == "REQUEST_WEIGHT" && ms == 60'000 && options_.weight_limit <= 0)
            options_.weight_limit = r.limit;
        if (r.type == "ORDERS")
            order_windows_.push_back({.interval_ms = ms,
                                      .limit = r.limit,
                                      .header = "X-MBX-ORDER-COUNT-" + window_name(ms)});
    }
    if (options_.weight_limit <= 0) options_.weight_limit = 2400;

    stream_symbol_ = market_.symbol();
    for (char &c : stream_symbol_)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!market_.done()) marked_until_ms_ = market_.next().event_ms / 1000 * 1000;
    // --skip: the market has been running that long; nobody saw it, so nothing is sent.
    if (options_.skip_seconds > 0 && !market_.done()) {
        const TimeNs until =
            market_.next().receive_ns + static_cast<TimeNs>(options_.skip_seconds * 1e9);
        while (!market_.done() && market_.next().receive_ns < until) {
            before_next();
            advance(0);
        }
    }
}

std::vector<Generated> Venue::before_next() {
    std::vector<Generated> out;
    if (market_.done()) return out;
    const int64_t reach = market_.next().event_ms / 1000 * 1000;
    for (; marked_until_ms_ < reach;) {
        const int64_t at = marked_until_ms_ += 1000;
        for (const std::string_view name : kKlineStreams) {
            const auto interval = *KlineInterval::parse(name);
            int64_t open = interval.open_of(at - 1001);
            const bool closed = interval.next(open) == at - 1000;
            if (!closed) {
                if (at % 2000 != 0) continue;
                open = interval.open_of(at - 1);
            }
            auto data = market_.kline_event(interval, name, open, closed, at);
            if (!data.empty())
                out.push_back(generated(stream_symbol_ + "@kline_" + std::string(name), data));
        }
        if (spot_) continue;  // spot has no mark price and no funding
        const auto mark = market_.mid_1e8();
        if (!mark) continue;
        mark_1e8_ = *mark;
        const auto price = format_fixed(*mark, 8);
        const int64_t next_funding = (at / kFundingEveryMs + 1) * kFundingEveryMs;
        const auto data = fmt::format(
            R"({{"e":"markPriceUpdate","E":{},"s":"{}","p":"{}","i":"{}","P":"{}","r":"{}","T":{}}})",
            at, market_.symbol(), price, price, price, format_fixed(options_.funding_rate_1e8, 8),
            next_funding);
        for (const auto &[suffix, every_ms] : kMarkStreams)
            if (at % every_ms == 0)
                out.push_back(generated(stream_symbol_ + std::string(suffix), data));
        if (at % kFundingEveryMs == 0)
            exchange_->settle_funding(at, *mark, options_.funding_rate_1e8);
    }
    return out;
}

Venue::~Venue() = default;

std::vector<std::string> Venue::take_user_events() {
    auto events = spot_ ? spot_->take_events() : exchange_->take_events();
    if (flaky_.p_dup <= 0) return events;
    std::vector<std::string> out;
    for (auto &e : events) {
        if (chance(flaky_.p_dup)) {
            ++faults_["dup"];
            out.push_back(e);
        }
        out.push_back(std::move(e));
    }
    return out;
}

bool Venue::listen_key_valid(std::string_view key, int64_t now_ms) const {
    return spot_ ? spot_->listen_key_valid(key, now_ms) : exchange_->listen_key_valid(key, now_ms);
}

bool Venue::skip_next_depth(const Frame &f) {
    if (!f.depth || !gap_pending_) return false;
    gap_pending_ = false;
    ++gaps_;
    return true;
}

void Venue::advance(int64_t now_ms) {
    if (const auto *trade = market_.advance()) {
        if (spot_)
            spot_->on_trade(*trade, now_ms);
        else
            exchange_->on_trade(*trade, now_ms);
    }
}

Reply Venue::handle(const Request &request, int64_t now_ms) {
    const auto q = request.target.find('?');
    const auto path = request.target.substr(0, q);
    const auto query =
        q == std::string_view::npos ? std::string_view{} : request.target.substr(q + 1);
    Params params;
    parse_form(query, params);
    parse_form(request.body, params);

    if (path.starts_with("/keel-test/")) {
        if (request.method == "POST" && path == "/keel-test/misbehave")
            return misbehave(params, now_ms);
        if (request.method == "GET" && path == "/keel-test/state") return state();
        return Reply{.status = 404, .body = R"({"code":-1,"msg":"unknown test endpoint"})"};
    }
    const Route *entry = find_route(request.method, path, options_.spot);
    if (!entry) {
        // Binance answers an unknown path with 404 and an HTML page; a JSON body is kinder to a
        // client's error log and changes nothing for a test.
        return Reply{.status = 404, .body = R"({"code":-5000,"msg":"Path not found"})"};
    }
    if (auto refused = limit(path, params, entry->is_signed, request.connection, now_ms))
        return std::move(*refused);
    Reply reply = with_faults(request, path, params, now_ms, entry->is_signed);
    reply.headers.emplace_back("X-MBX-USED-WEIGHT-1M", std::to_string(weight_used_));
    return reply;
}

Reply Venue::with_faults(const Request &request, std::string_view path, const Params &params,
                         int64_t now_ms, bool is_signed) {
    const auto fault = [&](const char *kind) {
        ++faults_[kind];
        return true;
    };
    if (flaky_.on()) {
        if (chance(flaky_.p429) && fault("429"))
            return too_many(now_ms + 1000, -1003,
                            "Too many requests; please use the websocket for live updates.",
                            request.connection, now_ms);
        if (chance(flaky_.p503) && fault("503")) {
            ++answered_503_;
            return reply_of(
                error(503, -1000, "Unknown error, please check your request or try again later."));
        }
        if (chance(flaky_.p_hang / 2) && fault("hang")) return Reply{.hang = true};
    }
    if (is_signed || key_only(path)) {
        if (auto refused = authenticate(request, params, now_ms)) return std::move(*refused);
    }
    std::vector<Params> batch;  // POST /fapi/v1/batchOrders: its orders
    if (path == "/fapi/v1/batchOrders")
        if (auto refused = read_batch(params, batch)) return reply_of(std::move(*refused));
    // New orders and amendments count against the ORDERS limits.
    const bool one_order = (path == "/fapi/v1/order" || path == "/api/v3/order") &&
                           (request.method == "POST" || request.method == "PUT");
    const size_t new_orders = !batch.empty() ? batch.size() : one_order ? 1 : 0;
    std::vector<std::pair<std::string, std::string>> order_counts;
    if (new_orders > 0)
        if (auto refused = count_orders(now_ms, new_orders, order_counts))
            return std::move(*refused);
    Reply reply = batch.empty() ? route(request, path, params, now_ms) : place_batch(batch, now_ms);
    for (auto &h : order_counts) reply.headers.push_back(std::move(h));
    if (!flaky_.on()) return reply;
    if (chance(flaky_.p503_after) && fault("503_after")) {
        ++answered_503_;
        reply.status = 503;
        reply.body =
            R"({"code":-1000,"msg":"Unknown error, please check your request or try again later."})";
    } else if (chance(flaky_.p_hang / 2) && fault("hang")) {
        reply.hang = true;
    } else if (chance(flaky_.p_timeout) && fault("timeout")) {
        reply.delay_ms = flaky_.timeout_ms;
    } else if (chance(flaky_.p_delay) && fault("delay")) {
        reply.delay_ms = std::uniform_int_distribution<int64_t>(1, flaky_.delay_ms)(rng_);
    }
    if (chance(flaky_.p_drop) && fault("drop")) {
        ++drops_;
        reply.drop_streams = true;
    }
    return reply;
}

std::optional<Reply> Venue::count_orders(
    int64_t now_ms, size_t orders, std::vector<std::pair<std::string, std::string>> &headers) {
    const auto n = static_cast<int64_t>(orders);
    for (auto &w : order_windows_) {
        if (now_ms / w.interval_ms != w.window) {
            w.window = now_ms / w.interval_ms;
            w.count = 0;
        }
        if (w.count + n > w.limit) {
            ++over_orders_;
            return too_many((w.window + 1) * w.interval_ms, -1015,
                            fmt::format("Too many new orders; current limit is {} orders per {}.",
                                        w.limit, w.header.substr(w.header.rfind('-') + 1)),
                            0, now_ms);
        }
    }
    for (auto &w : order_windows_) {
        w.count += n;
        headers.emplace_back(w.header, std::to_string(w.count));
    }
    return std::nullopt;
}

Reply Venue::too_many(int64_t until_ms, int code, std::string msg, uint64_t connection,
                      int64_t now_ms) {
    ++answered_429_;
    retry_until_ms_ = until_ms;
    retry_from_ms_ = now_ms;
    retry_connection_ = connection;
    Reply r = reply_of(error(429, code, msg));
    r.headers.emplace_back("Retry-After", std::to_string((until_ms - now_ms + 999) / 1000));
    r.headers.emplace_back("X-MBX-USED-WEIGHT-1M", std::to_string(weight_used_));
    return r;
}

std::optional<Reply> Venue::limit(std::string_view path, const Params &params, bool is_signed,
                                  uint64_t connection, int64_t now_ms) {
    const auto seconds_until = [&](int64_t t) { return std::to_string((t - now_ms + 999) / 1000); };
    const auto ban = [&] {
        ++answered_418_;
        Reply r = reply_of(
            error(418, -1003,
                  fmt::format(
                      "Way too much request weight used; IP banned until {}. Please use WebSocket "
                      "Streams for live updates to avoid bans.",
                      banned_until_ms_)));
        r.headers.emplace_back("Retry-After", seconds_until(banned_until_ms_));
        return r;
    };
    if (now_ms < banned_until_ms_) return ban();
    // A request on another connection just after the 429 may have left before it arrived.
    constexpr int64_t kInFlightMs = 500;
    const bool in_flight = connection != retry_connection_ && now_ms < retry_from_ms_ + kInFlightMs;
    if (now_ms < retry_until_ms_ && !in_flight) {
        // Sent again inside Retry-After: Binance escalates to a ban, longer than the wait was.
        banned_until_ms_ = now_ms + std::max<int64_t>(5000, 5 * (retry_until_ms_ - now_ms));
        retry_until_ms_ = 0;
        return ban();
    }
    if (now_ms / 60000 != weight_minute_) {
        weight_minute_ = now_ms / 60000;
        weight_used_ = 0;
    }
    int64_t weight = 1;
    for (const auto &r : kRoutes)
        if (r.path == path && r.weight > 0) weight = r.weight;
    if (path == "/api/v3/depth")
        weight = spot_depth_weight(to_int(find(params, "limit").value_or("100")).value_or(100));
    if (path == "/fapi/v1/depth")
        weight = depth_weight(to_int(find(params, "limit").value_or("500")).value_or(500));
    if (path == "/fapi/v1/klines")
        weight = klines_weight(to_int(find(params, "limit").value_or("500")).value_or(500));
    if (weight_used_ + weight > options_.weight_limit) {
        ++over_weight_;
        return too_many((weight_minute_ + 1) * 60000, -1003,
                        fmt::format("Too much request weight used; current limit is {} request "
                                    "weight per 1 MINUTE. Please use WebSocket Streams for live "
                                    "updates to avoid polling the API.",
                                    options_.weight_limit),
                        connection, now_ms);
    }
    if (is_signed && forced_429_ > 0 && (forced_429_path_.empty() || path == forced_429_path_)) {
        --forced_429_;
        return too_many(now_ms + forced_retry_after_s_ * 1000, -1003,
                        "Too many requests; please use the websocket for live updates.", connection,
                        now_ms);
    }
    if (is_signed && forced_failures_ > 0 && path == forced_failure_path_) {
        --forced_failures_;
        ++answered_503_;
        return reply_of(
            error(503, -1001, "Internal error; unable to process your request. Please try again."));
    }
    weight_used_ += weight;
    return std::nullopt;
}

std::optional<Reply> Venue::authenticate(const Request &request, const Params &params,
                                         int64_t now_ms) const {
    if (request.api_key.empty()) return reply_of(error(401, -2014, "API-key format invalid."));
    if (request.api_key != options_.api_key)
        return reply_of(error(401, -2015,
                              "Invalid API-key, IP, or permissions for action, request ip: "
                              "127.0.0.1"));
    if (key_only(request.target.substr(0, request.target.find('?')))) return std::nullopt;

    const auto mandatory = [](std::string_view name) {
        return reply_of(error(
            400, -1102,
            fmt::format("Mandatory parameter '{}' was not sent, was empty/null, or malformed.",
                        name)));
    };
    const auto q = request.target.find('?');
    std::string signature;
    const auto query = without_signature(
        q == std::string_view::npos ? std::string_view{} : request.target.substr(q + 1), signature);
    const auto body = without_signature(request.body, signature);
    if (signature.empty()) return mandatory("signature");
    const auto timestamp = to_int(find(params, "timestamp").value_or(""));
    if (!timestamp) return mandatory("timestamp");
    int64_t window = 5000;
    if (const auto w = find(params, "recvWindow")) {
        const auto v = to_int(*w);
        if (!v || *v <= 0 || *v > 60000)
            return reply_of(error(400, -1131, "recvWindow must be less than 60000"));
        window = *v;
    }
    if (binance::rest_signature(options_.secret, query, body) != signature)
        return reply_of(error(400, -1022, "Signature for this request is not valid."));
    if (*timestamp > now_ms + 1000)
        return reply_of(
            error(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."));
    if (now_ms - *timestamp > window)
        return reply_of(
            error(400, -1021, "Timestamp for this request is outside of the recvWindow."));
    return std::nullopt;
}

Reply Venue::place_batch(const std::vector<Params> &orders, int64_t now_ms) {
    ++batch_requests_;
    // Each order as POST /fapi/v1/order would take it; its answer or its error, in request order.
    std::string body = "[";
    bool any_placed = false;
    for (const auto &order : orders) {
        bool placed = false;
        if (body.size() > 1) body += ',';
        body += exchange_->place(order, now_ms, placed).body;
        any_placed = any_placed || placed;
    }
    body += ']';
    if (any_placed && forced_503_ > 0) {
        // The orders stand; only the answer is lost, as for a single order.
        --forced_503_;
        ++answered_503_;
        return reply_of(
            error(503, -1000, "Unknown error, please check your request or try again later."));
    }
    return Reply{.body = std::move(body)};
}

Reply Venue::route(const Request &request, std::string_view path, const Params &params,
                   int64_t now_ms) {
    if (spot_) return route_spot(request, path, params, now_ms);
    const auto method = request.method;
    if (path == "/fapi/v1/ping") return Reply{.body = "{}"};
    if (path == "/fapi/v1/time")
        return Reply{.body = fmt::format(R"({{"serverTime":{}}})", now_ms)};
    if (path == "/fapi/v1/exchangeInfo") return Reply{.body = exchange_info_text_};
    if (path == "/fapi/v1/depth") {
        if (find(params, "symbol") != market_.symbol())
            return reply_of(error(400, -1121, "Invalid symbol."));
        const auto limit = to_int(find(params, "limit").value_or("500"));
        if (!limit || *limit < 1 || *limit > 1000)
            return reply_of(error(400, -1100, "Illegal characters found in parameter 'limit'."));
        return Reply{.body = market_.depth_json(static_cast<size_t>(*limit))};
    }
    if (path == "/fapi/v1/klines") return klines(params);
    if (path == "/fapi/v1/order") {
        if (method == "POST") {
            bool placed = false;
            Answer a = exchange_->place(params, now_ms, placed);
            if (placed && forced_503_ > 0) {
                // The order stands; only the answer is lost, as Binance warns a 503 may mean.
                --forced_503_;
                ++answered_503_;
                return reply_of(error(
                    503, -1000, "Unknown error, please check your request or try again later."));
            }
            return reply_of(std::move(a));
        }
        if (method == "DELETE") return reply_of(exchange_->cancel(params, now_ms));
        if (method == "PUT") return reply_of(exchange_->amend(params, now_ms));
        return reply_of(exchange_->query(params));
    }
    if (path == "/fapi/v1/openOrders") return reply_of(exchange_->open_orders(params));
    if (path == "/fapi/v1/allOpenOrders") return reply_of(exchange_->cancel_all(params, now_ms));
    if (path == "/fapi/v2/account") return reply_of(exchange_->account(now_ms));
    if (path == "/fapi/v2/balance") return reply_of(exchange_->balance(now_ms));
    if (path == "/fapi/v1/userTrades") return reply_of(exchange_->user_trades(params));
    if (path == "/fapi/v1/income") return reply_of(exchange_->income(params));
    if (path == "/fapi/v1/leverage") return reply_of(exchange_->set_leverage(params));
    if (path == "/fapi/v1/marginType") return reply_of(exchange_->set_margin_type(params));
    const std::string key = exchange_->listen_key();  // one per account: the request names none
    return listen_key_answer(method, key,
                             exchange_->listen_key(method, now_ms, options_.listen_key_life_ms));
}

Reply Venue::listen_key_answer(std::string_view method, const std::string &key, Answer answer) {
    if (answer.status == 200) {
        if (method == "POST") ++listen_keys_created_;
        if (method == "PUT") ++keepalives_;
        if (method == "DELETE") closed_keys_.insert(key);
    }
    return reply_of(std::move(answer));
}

Reply Venue::route_spot(const Request &request, std::string_view path, const Params &params,
                        int64_t now_ms) {
    const auto method = request.method;
    if (path == "/api/v3/ping") return Reply{.body = "{}"};
    if (path == "/api/v3/time") return Reply{.body = fmt::format(R"({{"serverTime":{}}})", now_ms)};
    if (path == "/api/v3/exchangeInfo") return Reply{.body = exchange_info_text_};
    if (path == "/api/v3/depth") {
        if (find(params, "symbol") != market_.symbol())
            return reply_of(error(400, -1121, "Invalid symbol."));
        const auto limit = to_int(find(params, "limit").value_or("100"));
        if (!limit || *limit < 1 || *limit > 5000)
            return reply_of(error(400, -1100, "Illegal characters found in parameter 'limit'."));
        return Reply{.body = market_.depth_json(static_cast<size_t>(*limit), true)};
    }
    if (path == "/api/v3/klines") return klines(params);
    if (path == "/api/v3/order") {
        if (method == "POST") {
            bool placed = false;
            Answer a = spot_->place(params, now_ms, placed);
            if (placed && forced_503_ > 0) {
                --forced_503_;
                ++answered_503_;
                return reply_of(error(
                    503, -1000, "Unknown error, please check your request or try again later."));
            }
            return reply_of(std::move(a));
        }
        if (method == "DELETE") return reply_of(spot_->cancel(params, now_ms));
        return reply_of(spot_->query(params));
    }
    if (path == "/api/v3/openOrders") {
        if (method == "DELETE") return reply_of(spot_->cancel_all(params, now_ms));
        return reply_of(spot_->open_orders(params));
    }
    if (path == "/api/v3/account") return reply_of(spot_->account(now_ms));
    if (path == "/api/v3/myTrades") return reply_of(spot_->my_trades(params));
    return listen_key_answer(
        method, std::string(find(params, "listenKey").value_or("")),
        spot_->listen_key(method, params, now_ms, options_.listen_key_life_ms));
}

Reply Venue::klines(const Params &params) const {
    const auto symbol = find(params, "symbol");
    if (!symbol)
        return reply_of(
            error(400, -1102,
                  "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."));
    if (*symbol != market_.symbol()) return reply_of(error(400, -1121, "Invalid symbol."));
    const auto interval_text = find(params, "interval");
    if (!interval_text)
        return reply_of(
            error(400, -1102,
                  "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."));
    auto interval = KlineInterval::parse(*interval_text);
    if (spot_ && *interval_text == "1s") interval = KlineInterval{KlineInterval::Kind::fixed, 1000};
    if (!interval) return reply_of(error(400, -1120, "Invalid interval."));
    const auto limit = to_int(find(params, "limit").value_or("500"));
    if (!limit || *limit < 1 || *limit > (spot_ ? 1000 : 1500))
        return reply_of(error(400, -1100, "Illegal characters found in parameter 'limit'."));
    std::optional<int64_t> start, end;
    for (const auto &[name, value] : {std::pair{"startTime", &start}, std::pair{"endTime", &end}}) {
        if (const auto text = find(params, name)) {
            *value = to_int(*text);
            if (!*value)
                return reply_of(error(
                    400, -1100, fmt::format("Illegal characters found in parameter '{}'.", name)));
        }
    }
    if (start && end && *start > *end)
        return reply_of(error(400, -1023, "Start time is greater than end time."));
    return Reply{.body = market_.klines_json(*interval, start, end, static_cast<size_t>(*limit))};
}

Reply Venue::misbehave(const Params &params, int64_t now_ms) {
    const auto what = find(params, "what").value_or("");
    const auto number = [&](std::string_view name, int64_t fallback) {
        return to_int(find(params, name).value_or("")).value_or(fallback);
    };
    Reply r{.body = "{}"};
    if (what == "drop_streams") {
        ++drops_;
        r.drop_streams = true;
    } else if (what == "stall") {
        stall_until_ms_ = now_ms + number("ms", 1000);
    } else if (what == "gap") {
        gap_pending_ = true;
    } else if (what == "rate_limit") {
        forced_429_ = number("n", 1);
        forced_retry_after_s_ = std::max<int64_t>(1, number("retry_after", 1));
        forced_429_path_ = find(params, "path").value_or("");
    } else if (what == "unknown") {
        forced_503_ = number("n", 1);
    } else if (what == "fail") {
        forced_failures_ = number("n", 1);
        forced_failure_path_ = find(params, "path").value_or("");
    } else if (what == "flaky") {
        const auto p = [&](std::string_view name) {
            const auto v = find(params, name);
            return v ? std::strtod(std::string(*v).c_str(), nullptr) : 0.0;
        };
        flaky_ = Flaky{.p429 = p("p429"),
                       .p503 = p("p503"),
                       .p503_after = p("p503_after"),
                       .p_hang = p("p_hang"),
                       .p_delay = p("p_delay"),
                       .delay_ms = std::max<int64_t>(1, number("delay_ms", 300)),
                       .p_timeout = p("p_timeout"),
                       .timeout_ms = std::max<int64_t>(1, number("timeout_ms", 11000)),
                       .p_dup = p("p_dup"),
                       .p_drop = p("p_drop")};
        rng_.seed(static_cast<uint64_t>(number("seed", 1)));
    } else {
        return Reply{.status = 400, .body = R"({"code":-1,"msg":"unknown misbehaviour"})"};
    }
    return r;
}

Reply Venue::state() const {
    std::string faults;
    for (const auto &[kind, n] : faults_)
        faults += fmt::format(R"({}"{}":{})", faults.empty() ? "" : ",", kind, n);
    return Reply{
        .body = fmt::format(
            R"({{"account":{},"market":{{"symbol":"{}","sent":{},"total":{},"lastUpdateId":{},)"
            R"("exchangeTime":{},"markPrice":"{}","fundingRate":"{}","trades":{},"unparsed":{}}},)"
            R"("answered":{{"429":{},"418":{},"503":{}}},"overLimit":{{"weight":{},"orders":{}}},)"
            R"("faults":{{{}}},"gaps":{},"drops":{},"batchRequests":{},)"
            R"("listenKeys":{{"created":{},"keepalives":{},"expired":{},"closed":{}}}}})",
            spot_ ? spot_->state_json() : exchange_->state_json(), market_.symbol(), market_.sent(),
            market_.total(), market_.last_update_id(), market_.exchange_ms(),
            format_fixed(mark_1e8_, 8), format_fixed(options_.funding_rate_1e8, 8),
            market_.trades().size(), market_.unparsed(), answered_429_, answered_418_,
            answered_503_, over_weight_, over_orders_, faults, gaps_, drops_, batch_requests_,
            listen_keys_created_, keepalives_, listen_keys_expired_, closed_keys_.size())};
}

}  // namespace keel::venue
