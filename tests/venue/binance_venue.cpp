// keel_binance_venue: a loopback Binance USD-M (or, with --market spot, spot) venue for tests
// (docs/exchanges/binance.md, "The loopback venue (tests)"). HTTPS REST and WSS streams on one
// 127.0.0.1 port, replaying a real capture. This is the one translation unit with Boost.Beast (slow
// to compile); what the venue answers is decided in venue.cpp, exchange.cpp and market.cpp. One I/O
// thread runs everything.

#include <utility>  // before Asio: Boost 1.74 + GCC 12 coroutines need it first

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "cert.hpp"
#include "venue.hpp"

namespace keel::venue {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using WsStream = websocket::stream<TlsStream>;
using namespace std::chrono_literals;
using asio::use_awaitable;

constexpr auto kPingEvery = 5s;               // our own WebSocket pings
constexpr size_t kMaxConnections = 256;       // beyond this, new connections are closed at once
constexpr size_t kHighWater = 512;            // speed 0: frames queued on a socket before we wait
constexpr size_t kMaxQueuedBytes = 64 << 20;  // a consumer this far behind is disconnected
constexpr size_t kBatch = 256;                // frames sent between two looks at the clock

std::string_view view(beast::string_view s) {
    return {s.data(), s.size()};
}

int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// One WebSocket connection: a market stream (/stream?streams=…, /ws/<stream>) or a user-data
// stream (/ws/<listenKey>). Only its writer coroutine writes; pushes wake it.
struct WsSession {
    WsSession(TlsStream &&stream, asio::any_io_executor ex)
        : ws(std::move(stream)), wake(std::move(ex)) {}

    struct Out {
        std::string owned;
        std::string_view shared;  // a frame of the capture (lives as long as the venue)
        std::string_view text() const { return owned.empty() ? shared : std::string_view(owned); }
    };
    void push(Out out) {
        queued_bytes += out.text().size();
        queue.push_back(std::move(out));
        wake.cancel();
    }
    bool subscribed(std::string_view stream) const {
        for (const auto &s : streams)
            if (s == stream) return true;
        return false;
    }

    WsStream ws;
    asio::steady_timer wake;
    std::deque<Out> queue;
    size_t queued_bytes = 0;
    bool open = true;
    bool combined = true;  // /stream sends frames as recorded; /ws/<stream> their "data" only
    std::vector<std::string> streams;
    std::string listen_key;  // set on a user-data connection
    bool closing = false;    // closed once its queue is written (an expired listen key)
};
using Session = std::shared_ptr<WsSession>;

class Server {
  public:
    Server(asio::io_context &io, Venue &venue, ssl::context &tls)
        : io_(io), venue_(venue), tls_(tls), acceptor_(io), replay_wake_(io) {
        const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(at.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(at);
        acceptor_.listen();
    }
    uint16_t port() const { return acceptor_.local_endpoint().port(); }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            beast::error_code ec;
            tcp::socket socket =
                co_await acceptor_.async_accept(asio::redirect_error(use_awaitable, ec));
            if (ec) co_return;
            if (connections_ >= kMaxConnections) continue;  // the socket closes as it goes
            asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
        }
    }

    // Sends the capture's frames to their subscribers: at `speed` times the recorded pace from
    // the moment the first market stream connected, or (speed 0) as fast as the slowest
    // subscriber's socket takes them, pausing while nobody listens.
    asio::awaitable<void> replay() {
        Market &m = venue_.market();
        const double speed = venue_.options().speed;
        for (;;) {
            const int64_t now = wall_ms();
            expire_listen_keys(now);
            if (!started_ || m.done()) {
                co_await sleep(1s);
                continue;
            }
            if (now < venue_.stall_until_ms()) {
                co_await sleep(std::chrono::milliseconds(
                    std::min<int64_t>(venue_.stall_until_ms() - now, 50)));
                continue;
            }
            size_t budget = kBatch;
            if (speed <= 0) {
                if (!any_market_listener()) {
                    co_await sleep(10ms);
                    continue;
                }
                if (fullest_queue() >= kHighWater) {
                    co_await sleep(1ms);
                    continue;
                }
            }
            const auto due = [&] {
                if (speed <= 0) return true;
                const double elapsed = std::chrono::duration<double, std::nano>(
                                           std::chrono::steady_clock::now() - started_at_)
                                           .count();
                return double(m.next().receive_ns - first_ns_) <= elapsed * speed;
            };
            size_t sent = 0;
            while (sent < budget && !m.done() && due()) {
                for (const auto &g : venue_.before_next()) send(g);
                send(m.next());
                venue_.advance(now);
                ++sent;
            }
            deliver_user_events();
            if (sent == budget) {
                co_await sleep(0ms);  // let the sockets and REST requests have their turn
            } else if (!m.done() && speed > 0) {
                co_await sleep(2ms);
            }
        }
    }

  private:
    asio::awaitable<void> sleep(std::chrono::steady_clock::duration d) {
        replay_wake_.expires_after(d);
        beast::error_code ec;
        co_await replay_wake_.async_wait(asio::redirect_error(use_awaitable, ec));
    }

    bool any_market_listener() const {
        for (const auto &s : sessions_)
            if (s->open && !s->streams.empty()) return true;
        return false;
    }
    size_t fullest_queue() const {
        size_t n = 0;
        for (const auto &s : sessions_)
            if (!s->streams.empty()) n = std::max(n, s->queue.size());
        return n;
    }

    void send(const Frame &f) {
        if (venue_.skip_next_depth(f)) return;
        for (const auto &s : sessions_) {
            if (!s->open || !s->subscribed(f.stream)) continue;
            if (s->queued_bytes > kMaxQueuedBytes) {
                close(s);  // Binance disconnects a consumer that cannot keep up
                continue;
            }
            s->push({.shared = s->combined ? f.text : f.data});
        }
    }

    // A frame the venue made (markPrice): as a recorded one, but each socket gets its own copy.
    void send(const Generated &g) {
        for (const auto &s : sessions_) {
            if (!s->open || !s->subscribed(g.stream)) continue;
            if (s->queued_bytes > kMaxQueuedBytes) {
                close(s);
                continue;
            }
            s->push({.owned = s->combined ? g.text : std::string(g.data())});
        }
    }

    // Binance ends a user-data stream whose key was not kept alive with a listenKeyExpired
    // event, then closes it; one whose owner closed its key (DELETE) just closes.
    void expire_listen_keys(int64_t now) {
        for (const auto &s : sessions_) {
            if (!s->open || s->closing || s->listen_key.empty() ||
                venue_.listen_key_valid(s->listen_key, now))
                continue;
            s->closing = true;  // a normal close once what is queued is written
            if (venue_.listen_key_closed(s->listen_key)) {
                s->wake.cancel();
                continue;
            }
            s->push({.owned = fmt::format(R"({{"e":"listenKeyExpired","E":{},"listenKey":"{}"}})",
                                          now, s->listen_key)});
            venue_.note_listen_key_expired();
        }
    }

    void deliver_user_events() {
        auto events = venue_.take_user_events();
        if (events.empty()) return;
        const int64_t now = wall_ms();
        for (const auto &s : sessions_) {
            if (!s->open || s->listen_key.empty() || !venue_.listen_key_valid(s->listen_key, now))
                continue;
            for (const auto &e : events) s->push({.owned = e});
        }
    }

    void close(const Session &s) {
        if (!s->open) return;
        s->open = false;
        beast::error_code ec;
        beast::get_lowest_layer(s->ws).socket().close(ec);  // abrupt: no close frame
        s->wake.cancel();
    }
    void forget(const Session &s) {
        close(s);
        std::erase(sessions_, s);
    }

    asio::awaitable<void> serve(tcp::socket socket) {
        ++connections_;
        TlsStream stream(std::move(socket), tls_);
        co_await serve_tls(stream, ++connection_ids_);
        --connections_;
    }

    asio::awaitable<void> serve_tls(TlsStream &stream, uint64_t connection) {
        beast::error_code ec;
        beast::get_lowest_layer(stream).expires_after(10s);
        co_await stream.async_handshake(ssl::stream_base::server,
                                        asio::redirect_error(use_awaitable, ec));
        if (ec) co_return;
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(1 << 20);
            beast::get_lowest_layer(stream).expires_after(60s);
            co_await http::async_read(stream, buffer, parser,
                                      asio::redirect_error(use_awaitable, ec));
            if (ec) co_return;
            auto request = parser.release();
            if (websocket::is_upgrade(request)) {
                co_await upgrade(std::move(stream), std::move(request));
                co_return;
            }
            Reply reply = handle(request, connection);
            if (reply.hang) {
                beast::get_lowest_layer(stream).socket().close(ec);  // no answer, no close_notify
                co_return;
            }
            if (reply.delay_ms > 0) {
                asio::steady_timer wait(io_, std::chrono::milliseconds(reply.delay_ms));
                beast::get_lowest_layer(stream).expires_never();
                co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
            }
            http::response<http::string_body> response = answer(request, std::move(reply));
            co_await http::async_write(stream, response, asio::redirect_error(use_awaitable, ec));
            if (ec || !response.keep_alive()) break;
        }
        beast::get_lowest_layer(stream).expires_after(2s);
        co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
    }

    // What the venue makes of a request; its user-data events go out before the answer, as
    // Binance's usually do.
    Reply handle(const http::request<http::string_body> &request, uint64_t connection) {
        Reply reply;
        try {
            reply = venue_.handle({.method = view(request.method_string()),
                                   .target = view(request.target()),
                                   .api_key = view(request["X-MBX-APIKEY"]),
                                   .body = request.body(),
                                   .connection = connection},
                                  wall_ms());
        } catch (const std::exception &e) {
            reply = Reply{.status = 500,
                          .body = fmt::format(R"({{"code":-1000,"msg":"{}"}})", e.what())};
        }
        deliver_user_events();
        if (reply.drop_streams)
            for (const auto &s : std::vector<Session>(sessions_)) forget(s);
        return reply;
    }

    http::response<http::string_body> answer(const http::request<http::string_body> &request,
                                             Reply reply) {
        http::response<http::string_body> response;
        response.version(request.version());
        response.result(reply.status);
        if (reply.status == 418) response.reason("I'm a teapot");  // Beast 1.74 has no name for it
        response.set(http::field::server, "keel-binance-venue");
        response.set(http::field::content_type, "application/json");
        for (const auto &[name, value] : reply.headers) response.set(name, value);
        response.keep_alive(request.keep_alive());
        response.body() = std::move(reply.body);
        response.prepare_payload();
        return response;
    }

    asio::awaitable<void> upgrade(TlsStream stream, http::request<http::string_body> request) {
        auto s = std::make_shared<WsSession>(std::move(stream), io_.get_executor());
        const std::string_view target = view(request.target());
        if (target.starts_with("/stream")) {
            const auto at = target.find("streams=");
            if (at != std::string_view::npos) {
                auto list = target.substr(at + 8);
                list = list.substr(0, list.find('&'));
                while (!list.empty()) {
                    const auto slash = list.find('/');
                    if (slash) s->streams.emplace_back(list.substr(0, slash));
                    if (slash == std::string_view::npos) break;
                    list.remove_prefix(slash + 1);
                }
            }
        } else if (target.starts_with("/ws/")) {
            const auto name = target.substr(4, target.find('?') - 4);
            if (name.find('@') != std::string_view::npos) {
                s->combined = false;
                s->streams.emplace_back(name);
            } else {
                s->listen_key = name;
            }
        } else if (target != "/ws") {
            co_await refuse(s, request, http::status::not_found);
            co_return;
        }
        if (!s->listen_key.empty() && !venue_.listen_key_valid(s->listen_key, wall_ms())) {
            co_await refuse(s, request, http::status::bad_request);
            co_return;
        }

        beast::get_lowest_layer(s->ws).expires_never();
        websocket::stream_base::timeout timeout{};
        timeout.handshake_timeout = 10s;
        timeout.idle_timeout = 60s;  // our pings every 5 s get pongs back from a live client
        timeout.keep_alive_pings = false;
        s->ws.set_option(timeout);
        s->ws.read_message_max(1 << 16);
        beast::error_code ec;
        co_await s->ws.async_accept(request, asio::redirect_error(use_awaitable, ec));
        if (ec) co_return;
        s->ws.text(true);
        sessions_.push_back(s);
        if (s->listen_key.empty() && !started_) {
            started_ = true;
            started_at_ = std::chrono::steady_clock::now();
            if (!venue_.market().done()) first_ns_ = venue_.market().next().receive_ns;
        }
        asio::co_spawn(io_, write_loop(s), asio::detached);
        co_await read_loop(s);
        forget(s);
    }

    asio::awaitable<void> refuse(const Session &s, const http::request<http::string_body> &request,
                                 http::status status) {
        http::response<http::string_body> response{status, request.version()};
        response.set(http::field::content_type, "application/json");
        response.body() = R"({"code":-1121,"msg":"Invalid stream or listen key."})";
        response.prepare_payload();
        beast::error_code ec;
        co_await http::async_write(s->ws.next_layer(), response,
                                   asio::redirect_error(use_awaitable, ec));
    }

    asio::awaitable<void> read_loop(Session s) {
        beast::flat_buffer buffer;
        while (s->open) {
            beast::error_code ec;
            co_await s->ws.async_read(buffer, asio::redirect_error(use_awaitable, ec));
            if (ec) co_return;
            if (s->listen_key.empty()) on_method(s, beast::buffers_to_string(buffer.data()));
            buffer.consume(buffer.size());
        }
    }

    // The live SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS requests of a market stream.
    void on_method(const Session &s, const std::string &text) {
        simdjson::dom::element doc;
        std::string_view method;
        if (parser_.parse(text).get(doc) || doc["method"].get_string().get(method)) {
            s->push({.owned = R"({"code":2,"msg":"Invalid request"})"});
            return;
        }
        std::string id = "null";
        if (simdjson::dom::element e; !doc["id"].get(e)) id = simdjson::minify(e);
        simdjson::dom::array params;
        if (doc["params"].get_array().get(params)) params = {};
        if (method == "LIST_SUBSCRIPTIONS") {
            std::string list;
            for (const auto &name : s->streams)
                list += fmt::format(R"({}"{}")", list.empty() ? "" : ",", name);
            s->push({.owned = fmt::format(R"({{"result":[{}],"id":{}}})", list, id)});
            return;
        }
        if (method != "SUBSCRIBE" && method != "UNSUBSCRIBE") {
            s->push({.owned = fmt::format(R"({{"code":0,"msg":"Unknown property","id":{}}})", id)});
            return;
        }
        for (auto p : params) {
            std::string_view name;
            if (p.get_string().get(name)) continue;
            std::erase(s->streams, name);
            if (method == "SUBSCRIBE") s->streams.emplace_back(name);
        }
        if (!started_ && !s->streams.empty()) {
            started_ = true;
            started_at_ = std::chrono::steady_clock::now();
            if (!venue_.market().done()) first_ns_ = venue_.market().next().receive_ns;
        }
        s->push({.owned = fmt::format(R"({{"result":null,"id":{}}})", id)});
    }

    asio::awaitable<void> write_loop(Session s) {
        auto last_ping = std::chrono::steady_clock::now();
        while (s->open) {
            beast::error_code ec;
            if (std::chrono::steady_clock::now() - last_ping >= kPingEvery) {
                co_await s->ws.async_ping({}, asio::redirect_error(use_awaitable, ec));
                if (ec) break;
                last_ping = std::chrono::steady_clock::now();
                continue;
            }
            if (s->queue.empty() && s->closing) {
                co_await s->ws.async_close(websocket::close_code::normal,
                                           asio::redirect_error(use_awaitable, ec));
                break;
            }
            if (s->queue.empty()) {
                s->wake.expires_at(last_ping + kPingEvery);
                co_await s->wake.async_wait(asio::redirect_error(use_awaitable, ec));
                continue;
            }
            WsSession::Out out = std::move(s->queue.front());
            s->queue.pop_front();
            s->queued_bytes -= out.text().size();
            co_await s->ws.async_write(asio::buffer(out.text().data(), out.text().size()),
                                       asio::redirect_error(use_awaitable, ec));
            if (ec) break;
        }
        close(s);
    }

    asio::io_context &io_;
    Venue &venue_;
    ssl::context &tls_;
    tcp::acceptor acceptor_;
    asio::steady_timer replay_wake_;
    std::vector<Session> sessions_;
    size_t connections_ = 0;
    uint64_t connection_ids_ = 0;
    simdjson::dom::parser parser_;
    bool started_ = false;
    std::chrono::steady_clock::time_point started_at_;
    TimeNs first_ns_ = 0;
};

// Ends the process's run when stdin reaches its end, so a test that dies never leaves the venue
// behind. A stdin that cannot be polled (a regular file, /dev/null) counts as ended.
asio::awaitable<void> watch_stdin(asio::io_context &io) {
    asio::posix::stream_descriptor in(io);
    beast::error_code ec;
    in.assign(::dup(0), ec);
    char buffer[256];
    while (!ec)
        co_await in.async_read_some(asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
    io.stop();
}

[[noreturn]] void usage(const char *why) {
    std::fprintf(
        stderr,
        "keel_binance_venue: %s\n"
        "usage: keel_binance_venue --capture FILE.gz --exchange-info FILE.json --cert-dir "
        "DIR\n"
        "         [--speed X] [--api-key KEY] [--secret-env VAR] [--balance USDT]\n"
        "         [--weight-limit N] [--funding-rate R] [--skip SECONDS]\n"
        "         [--market usdm|spot] [--base-balance BASE] [--listen-key-life SECONDS]\n",
        why);
    std::exit(2);
}

// A funding rate as decimal text ("0.0001", "-0.00012345") in 1e-8; at most 8 decimals.
int64_t parse_rate(std::string_view text) {
    const bool negative = text.starts_with('-');
    if (negative) text.remove_prefix(1);
    const auto v = market::DecimalGrid{8, 1}.to_units(text);
    if (!v) usage("--funding-rate takes a decimal with at most 8 places");
    return negative ? -*v : *v;
}

Options parse_options(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc) usage("every option takes a value");
        const char *value = argv[++i];
        try {
            if (flag == "--capture")
                o.capture = value;
            else if (flag == "--exchange-info")
                o.exchange_info = value;
            else if (flag == "--cert-dir")
                o.cert_dir = value;
            else if (flag == "--speed")
                o.speed = std::stod(value);
            else if (flag == "--api-key")
                o.api_key = value;
            else if (flag == "--secret-env")
                o.secret_env = value;
            else if (flag == "--balance")
                o.balance = std::stoll(value);
            else if (flag == "--weight-limit")  // 0: exchangeInfo's REQUEST_WEIGHT
                o.weight_limit = std::stoll(value);
            else if (flag == "--funding-rate")
                o.funding_rate_1e8 = parse_rate(value);
            else if (flag == "--skip")
                o.skip_seconds = std::stod(value);
            else if (flag == "--listen-key-life")  // seconds a listen key lives unkept
                o.listen_key_life_ms = std::llround(std::stod(value) * 1000);
            else if (flag == "--market") {
                if (std::string_view(value) != "usdm" && std::string_view(value) != "spot")
                    usage("--market is usdm or spot");
                o.spot = std::string_view(value) == "spot";
            } else if (flag == "--base-balance") {  // spot: the base asset (BTC) at start
                const auto v = market::DecimalGrid{8, 1}.to_units(value);
                if (!v) usage("--base-balance takes a decimal with at most 8 places");
                o.base_balance_1e8 = *v;
            } else
                usage("unknown option");
        } catch (const std::logic_error &) {
            usage("a number was expected");
        }
    }
    if (o.skip_seconds < 0 || o.speed < 0 || o.listen_key_life_ms <= 0)
        usage("--skip and --speed cannot be negative, and --listen-key-life must be positive");
    if (o.capture.empty() || o.exchange_info.empty() || o.cert_dir.empty())
        usage("--capture, --exchange-info and --cert-dir are required");
    const char *secret = std::getenv(o.secret_env.c_str());
    if (!secret || !*secret)
        usage(("the secret is read from $" + o.secret_env + ", which is unset").c_str());
    o.secret = secret;
    return o;
}

}  // namespace
}  // namespace keel::venue

int main(int argc, char **argv) {
    using namespace keel::venue;
    const Options options = parse_options(argc, argv);
    try {
        Venue venue(options);
        const Identity identity = make_identity(options.cert_dir / "venue.crt");
        ssl::context tls(ssl::context::tls_server);
        tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        tls.use_certificate_chain(asio::buffer(identity.certificate_pem));
        tls.use_private_key(asio::buffer(identity.key_pem), ssl::context::pem);

        asio::io_context io(1);
        Server server(io, venue, tls);
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const beast::error_code &, int) { io.stop(); });
        asio::co_spawn(io, server.accept_loop(), asio::detached);
        asio::co_spawn(io, server.replay(), asio::detached);
        asio::co_spawn(io, watch_stdin(io), asio::detached);
        std::printf("listening 127.0.0.1:%u\n", server.port());
        std::fflush(stdout);
        io.run();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "keel_binance_venue: %s\n", e.what());
        return 1;
    }
    return 0;
}
