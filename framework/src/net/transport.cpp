#include "keel/net/transport.hpp"

#include <atomic>
#include <cctype>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace keel::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

std::optional<Url> parse_url(std::string_view url) {
    Url u;
    std::string_view rest;
    for (auto [scheme, tls] :
         {std::pair{"wss://", true}, {"https://", true}, {"ws://", false}, {"http://", false}}) {
        std::string_view s(scheme);
        if (url.substr(0, s.size()) == s) {
            u.tls = tls;
            rest = url.substr(s.size());
            break;
        }
    }
    if (rest.empty()) return std::nullopt;
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
        u.host = authority.substr(0, colon);
        u.port = authority.substr(colon + 1);
    } else {
        u.host = authority;
        u.port = u.tls ? "443" : "80";
    }
    if (u.host.empty() || u.port.empty() ||
        u.port.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return u;
}

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// What the certificate must name: an IP literal is checked against the IP SANs, a name against
// the DNS names (OpenSSL does not match one against the other).
void expect_peer(SSL *ssl, const std::string &host) {
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    if (!ec)
        X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    else
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
}

std::string describe(const boost::system::error_code &ec) {
    return ec.message() + " (" + ec.category().name() + ")";
}

}  // namespace

struct WsConnection {
    uint64_t id = 0;
    Url url;
    Transport::FrameFn on_frame;
    Transport::StateFn on_state;
    WsOptions options;
    std::atomic<bool> closed{false};  // ws_close was called: do not reconnect
    bool aged = false;                // dropped at its age limit: reconnect at once
    std::deque<std::string> outbox;
    bool writing = false;
    // While connected: writes one frame, and drops the socket (for close and lifetime).
    std::function<void(const std::string &, std::function<void(bool)>)> write;
    std::function<void()> drop;
};

namespace {

// The seconds of a Retry-After header among "Name: value\r\n" lines (case-insensitive name).
std::optional<int64_t> retry_after_seconds(std::string_view headers) {
    constexpr std::string_view kName = "retry-after:";
    for (size_t at = 0; at < headers.size();) {
        size_t end = headers.find("\r\n", at);
        if (end == std::string_view::npos) end = headers.size();
        std::string_view line = headers.substr(at, end - at);
        at = end + 2;
        if (line.size() <= kName.size()) continue;
        bool same = true;
        for (size_t k = 0; k < kName.size() && same; ++k)
            same = std::tolower(static_cast<unsigned char>(line[k])) == kName[k];
        if (!same) continue;
        std::string_view value = line.substr(kName.size());
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        int64_t seconds = 0;
        auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec == std::errc() && seconds > 0) return seconds;
        return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

struct Transport::Impl {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    ssl::context tls{ssl::context::tls_client};
    std::thread thread;
    std::mutex mutex;  // connections and pool, touched from callers and the network thread
    std::map<uint64_t, std::shared_ptr<WsConnection>> connections;
    uint64_t next_id = 1;
    std::mt19937_64 jitter{std::random_device{}()};
    // Idle kept-alive HTTP connections by "host:port" (network thread only).
    std::map<std::string, std::vector<std::unique_ptr<TlsStream>>> tls_pool;
    std::map<std::string, std::vector<std::unique_ptr<beast::tcp_stream>>> plain_pool;
    // A 429 or 418 with Retry-After holds every request to that "host:port" until then
    // (network thread only): requests already queued here when it came are not sent into it.
    std::map<std::string, std::chrono::steady_clock::time_point> retry_after;

    asio::awaitable<tcp::resolver::results_type> resolve(const Url &u) {
        tcp::resolver resolver(io);
        co_return co_await resolver.async_resolve(u.host, u.port, use_awaitable);
    }

    asio::awaitable<std::unique_ptr<TlsStream>> connect_tls(const Url &u,
                                                            std::chrono::milliseconds timeout) {
        auto stream = std::make_unique<TlsStream>(io, tls);
        if (!SSL_set_tlsext_host_name(stream->native_handle(), u.host.c_str()))
            throw boost::system::system_error(boost::system::error_code(
                static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
        expect_peer(stream->native_handle(), u.host);
        auto endpoints = co_await resolve(u);
        beast::get_lowest_layer(*stream).expires_after(timeout);
        co_await beast::get_lowest_layer(*stream).async_connect(endpoints, use_awaitable);
        beast::get_lowest_layer(*stream).socket().set_option(tcp::no_delay(true));
        co_await stream->async_handshake(ssl::stream_base::client, use_awaitable);
        beast::get_lowest_layer(*stream).expires_never();
        co_return stream;
    }

    asio::awaitable<std::unique_ptr<beast::tcp_stream>> connect_plain(
        const Url &u, std::chrono::milliseconds timeout) {
        auto stream = std::make_unique<beast::tcp_stream>(io);
        auto endpoints = co_await resolve(u);
        stream->expires_after(timeout);
        co_await stream->async_connect(endpoints, use_awaitable);
        stream->socket().set_option(tcp::no_delay(true));
        stream->expires_never();
        co_return stream;
    }

    // ---- WebSocket ---------------------------------------------------------------------------

    template <typename Ws>
    asio::awaitable<void> session(std::shared_ptr<WsConnection> c, Ws &ws) {
        websocket::stream_base::timeout t{};
        t.handshake_timeout = std::chrono::seconds(10);
        t.idle_timeout = c->options.idle_timeout;
        t.keep_alive_pings = true;
        ws.set_option(t);
        ws.read_message_max(64 * 1024 * 1024);
        std::string host =
            c->url.host +
            (c->url.port == (c->url.tls ? "443" : "80") ? std::string() : ":" + c->url.port);
        co_await ws.async_handshake(host, c->url.target, use_awaitable);

        c->write = [&ws](const std::string &text, std::function<void(bool)> done) {
            ws.text(true);
            ws.async_write(
                asio::buffer(text),
                [done = std::move(done)](boost::system::error_code ec, size_t) { done(!ec); });
        };
        c->drop = [&ws] { beast::get_lowest_layer(ws).socket().close(); };
        c->on_state(c->id, LinkState::up, {});
        flush(c);

        asio::steady_timer lifetime(io);
        lifetime.expires_after(c->options.max_lifetime);
        lifetime.async_wait([c](boost::system::error_code ec) {
            if (ec || !c->drop) return;
            c->aged = true;
            c->drop();
        });
        beast::flat_buffer buffer;
        try {
            for (;;) {
                buffer.clear();
                co_await ws.async_read(buffer, use_awaitable);
                c->on_frame(c->id, beast::buffers_to_string(buffer.data()));
            }
        } catch (...) {
            lifetime.cancel();
            c->write = nullptr;
            c->drop = nullptr;
            c->outbox.clear();
            c->writing = false;
            throw;
        }
    }

    void flush(const std::shared_ptr<WsConnection> &c) {
        if (c->writing || c->outbox.empty() || !c->write) return;
        c->writing = true;
        c->write(c->outbox.front(), [this, c](bool ok) {
            c->writing = false;
            if (!ok) return;  // the read side sees the failure and reconnects
            if (!c->outbox.empty()) c->outbox.pop_front();
            flush(c);
        });
    }

    asio::awaitable<void> keep_open(std::shared_ptr<WsConnection> c) {
        auto delay = c->options.backoff_min;
        while (!c->closed) {
            std::string why;
            try {
                if (c->url.tls) {
                    auto stream = co_await connect_tls(c->url, std::chrono::seconds(10));
                    websocket::stream<TlsStream> ws(std::move(*stream));
                    delay = c->options.backoff_min;
                    co_await session(c, ws);
                } else {
                    auto stream = co_await connect_plain(c->url, std::chrono::seconds(10));
                    websocket::stream<beast::tcp_stream> ws(std::move(*stream));
                    delay = c->options.backoff_min;
                    co_await session(c, ws);
                }
            } catch (const boost::system::system_error &e) {
                why = describe(e.code());
            } catch (const std::exception &e) {
                why = e.what();
            }
            if (std::exchange(c->aged, false)) {
                // Planned: no backoff.
                c->on_state(c->id, LinkState::down,
                            "replaced before the venue's connection time limit");
                continue;
            }
            c->on_state(c->id, LinkState::down, why);
            if (c->closed) break;
            // Exponential backoff with jitter, so many clients do not come back in step.
            std::uniform_int_distribution<long> spread(0, delay.count() / 2);
            asio::steady_timer wait(io);
            wait.expires_after(delay + std::chrono::milliseconds(spread(jitter)));
            co_await wait.async_wait(use_awaitable);
            delay = std::min(delay * 2, c->options.backoff_max);
        }
        std::lock_guard lock(mutex);
        connections.erase(c->id);
    }

    // ---- HTTP --------------------------------------------------------------------------------

    template <typename Stream>
    // `sent` is set once the request is written, so a failure after it (no answer, a timeout)
    // is known to have left: the venue may have acted on it.
    asio::awaitable<HttpAnswer> exchange(Stream &stream, http::request<http::string_body> &req,
                                         std::chrono::milliseconds timeout, bool &reusable,
                                         bool &sent) {
        HttpAnswer answer;
        auto &layer = beast::get_lowest_layer(stream);
        layer.expires_after(timeout);
        co_await http::async_write(stream, req, use_awaitable);
        sent = answer.sent = true;
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        co_await http::async_read(stream, buffer, parser, use_awaitable);
        layer.expires_never();
        auto &res = parser.get();
        answer.status = static_cast<int>(res.result_int());
        for (const auto &field : res) {
            answer.headers.append(field.name_string().data(), field.name_string().size());
            answer.headers.append(": ");
            answer.headers.append(field.value().data(), field.value().size());
            answer.headers.append("\r\n");
        }
        answer.body = std::move(res.body());
        reusable = res.keep_alive();
        co_return answer;
    }

    template <typename Stream, typename Pool, typename Connect>
    asio::awaitable<HttpAnswer> request_on(Pool &pool, const std::string &key,
                                           http::request<http::string_body> &req,
                                           std::chrono::milliseconds timeout, Connect connect) {
        // A kept-alive connection the server closed fails on write, before anything was sent:
        // then one fresh connection is tried. A failure after sending leaves the outcome open.
        for (int attempt = 0; attempt < 2; ++attempt) {
            std::unique_ptr<Stream> stream;
            bool pooled = false;
            if (!pool[key].empty()) {
                stream = std::move(pool[key].back());
                pool[key].pop_back();
                pooled = true;
            } else {
                stream = co_await connect();
            }
            bool reusable = false, sent = false;
            HttpAnswer answer;
            try {
                answer = co_await exchange(*stream, req, timeout, reusable, sent);
            } catch (const boost::system::system_error &e) {
                if (pooled && !sent) continue;
                answer.status = 0;
                answer.sent = sent;
                answer.error = describe(e.code());
                co_return answer;
            }
            if (reusable && pool[key].size() < 4) pool[key].push_back(std::move(stream));
            co_return answer;
        }
        co_return HttpAnswer{.error = "no connection"};
    }

    asio::awaitable<void> request(Url u, http::verb verb, std::string headers, std::string body,
                                  std::chrono::milliseconds timeout, AnswerFn on_answer) {
        HttpAnswer answer;
        try {
            http::request<http::string_body> req{verb, u.target, 11};
            req.set(http::field::host, u.host);
            req.set(http::field::user_agent, "keel");
            req.keep_alive(true);
            for (size_t at = 0; at < headers.size();) {
                size_t end = headers.find("\r\n", at);
                if (end == std::string::npos) end = headers.size();
                std::string_view line(headers.data() + at, end - at);
                size_t colon = line.find(':');
                if (colon != std::string_view::npos) {
                    std::string_view value = line.substr(colon + 1);
                    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
                    req.set(beast::string_view(line.data(), colon),
                            beast::string_view(value.data(), value.size()));
                }
                at = end + 2;
            }
            req.body() = std::move(body);
            req.prepare_payload();
            std::string key = u.host + ":" + u.port;
            const auto now = std::chrono::steady_clock::now();
            if (auto held = retry_after.find(key);
                held != retry_after.end() && now < held->second) {
                answer.error = "not sent: " + key + " asked to wait (Retry-After) " +
                               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  held->second - now)
                                                  .count()) +
                               " ms more";
                on_answer(std::move(answer));
                co_return;
            }
            if (u.tls)
                answer = co_await request_on<TlsStream>(tls_pool, key, req, timeout,
                                                        [&] { return connect_tls(u, timeout); });
            else
                answer = co_await request_on<beast::tcp_stream>(
                    plain_pool, key, req, timeout, [&] { return connect_plain(u, timeout); });
            if (answer.status == 429 || answer.status == 418) {
                if (const auto seconds = retry_after_seconds(answer.headers))
                    retry_after[key] =
                        std::max(retry_after[key],
                                 std::chrono::steady_clock::now() + std::chrono::seconds(*seconds));
            }
        } catch (const boost::system::system_error &e) {
            answer.status = 0;
            answer.error = describe(e.code());
        } catch (const std::exception &e) {
            answer.status = 0;
            answer.error = e.what();
        }
        on_answer(std::move(answer));
    }
};

Transport::Transport(std::string ca_file) : impl_(std::make_unique<Impl>()) {
    impl_->tls.set_verify_mode(ssl::verify_peer);
    if (ca_file.empty())
        impl_->tls.set_default_verify_paths();
    else
        impl_->tls.load_verify_file(ca_file);
    impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

Transport::~Transport() {
    {
        std::lock_guard lock(impl_->mutex);
        for (auto &[id, c] : impl_->connections) c->closed = true;
    }
    impl_->io.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->tls_pool.clear();
    impl_->plain_pool.clear();
}

uint64_t Transport::ws_open(std::string_view url, FrameFn on_frame, StateFn on_state,
                            WsOptions options) {
    auto u = parse_url(url);
    if (!u || !(url.substr(0, 3) == "ws:" || url.substr(0, 4) == "wss:")) return 0;
    auto c = std::make_shared<WsConnection>();
    c->url = *u;
    c->on_frame = std::move(on_frame);
    c->on_state = std::move(on_state);
    c->options = options;
    {
        std::lock_guard lock(impl_->mutex);
        c->id = impl_->next_id++;
        impl_->connections[c->id] = c;
    }
    asio::co_spawn(impl_->io, impl_->keep_open(c), asio::detached);
    return c->id;
}

bool Transport::ws_send(uint64_t id, std::string text) {
    std::shared_ptr<WsConnection> c;
    {
        std::lock_guard lock(impl_->mutex);
        auto it = impl_->connections.find(id);
        if (it == impl_->connections.end()) return false;
        c = it->second;
    }
    asio::post(impl_->io, [impl = impl_.get(), c, text = std::move(text)]() mutable {
        if (c->closed || !c->write) return;
        c->outbox.push_back(std::move(text));
        impl->flush(c);
    });
    return true;
}

void Transport::ws_close(uint64_t id) {
    std::shared_ptr<WsConnection> c;
    {
        std::lock_guard lock(impl_->mutex);
        auto it = impl_->connections.find(id);
        if (it == impl_->connections.end()) return;
        c = it->second;
    }
    asio::post(impl_->io, [c] {
        c->closed = true;
        if (c->drop) c->drop();
    });
}

bool Transport::http(std::string_view method, std::string_view url, std::string headers,
                     std::string body, std::chrono::milliseconds timeout, AnswerFn on_answer) {
    auto u = parse_url(url);
    if (!u || url.substr(0, 4) != "http") return false;
    http::verb verb = http::string_to_verb(beast::string_view(method.data(), method.size()));
    if (verb == http::verb::unknown) return false;
    asio::co_spawn(impl_->io,
                   impl_->request(*u, verb, std::move(headers), std::move(body), timeout,
                                  std::move(on_answer)),
                   asio::detached);
    return true;
}

}  // namespace keel::net
