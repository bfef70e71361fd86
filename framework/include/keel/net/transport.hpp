#pragma once
// The host's network: WebSocket connections and HTTP requests for venue plugins, over TLS with
// certificate and host checks, on one network thread. Plugins never open sockets; they ask the
// host (keel_host_api::ws_open / http_request) and get frames and answers back on the engine
// thread. Boost.Beast stays inside transport.cpp, the one translation unit that compiles it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace keel::net {

// ws://, wss://, http:// or https:// URLs, split for connecting.
struct Url {
    bool tls = false;
    std::string host, port, target;  // target: path and query, "/" at least
};
std::optional<Url> parse_url(std::string_view url);

enum class LinkState : uint8_t { up, down };

struct HttpAnswer {
    int status = 0;       // 0: no answer (error says why; the request may or may not have arrived)
    bool sent = false;    // false: certainly not sent (connect or TLS failed), safe to retry
    std::string headers;  // "Name: value\r\n" lines
    std::string body;
    std::string error;
};

struct WsOptions {
    // Reconnect after a drop, waiting from `backoff_min` doubling to `backoff_max`, with jitter.
    std::chrono::milliseconds backoff_min{500}, backoff_max{30'000};
    // Reconnect on our own before a venue's connection limit (Binance: 24 h).
    std::chrono::seconds max_lifetime{23 * 3600};
    // No frame and no pong for this long: the connection is dead (Beast pings at half of it).
    std::chrono::seconds idle_timeout{30};
};

class Transport {
  public:
    // Callbacks run on the network thread; keep them short (queue and return).
    using FrameFn = std::function<void(uint64_t id, std::string text)>;
    using StateFn = std::function<void(uint64_t id, LinkState state, std::string why)>;
    using AnswerFn = std::function<void(HttpAnswer answer)>;

    // `ca_file`: the certificates to trust (PEM); empty: the system's trust store.
    explicit Transport(std::string ca_file = {});
    ~Transport();  // closes every connection and joins the network thread
    Transport(const Transport &) = delete;
    Transport &operator=(const Transport &) = delete;

    // Opens a WebSocket and keeps it open (reconnecting) until ws_close. Returns its id, or 0
    // for a URL that is not ws:// or wss://.
    uint64_t ws_open(std::string_view url, FrameFn on_frame, StateFn on_state,
                     WsOptions options = {});
    // Queues a text frame; false if the connection is unknown or closed. Frames queued while
    // it is down are dropped (a plugin resubscribes when it is up again).
    bool ws_send(uint64_t id, std::string text);
    void ws_close(uint64_t id);

    // One HTTP request on a kept-alive connection per host. `headers`: "Name: value\r\n" lines.
    // False for a URL that is not http:// or https://.
    bool http(std::string_view method, std::string_view url, std::string headers, std::string body,
              std::chrono::milliseconds timeout, AnswerFn on_answer);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace keel::net
