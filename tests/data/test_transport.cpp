// The host's network (keel::net::Transport) against the loopback Binance venue: real TLS with
// the venue's self-signed certificate, HTTPS answers with headers, a WebSocket stream that
// carries the capture, refusal of an untrusted peer, and reconnection after the venue drops
// every stream.

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "keel/net/transport.hpp"
#include "loopback_venue.hpp"

using namespace keel;
using namespace std::chrono_literals;

namespace {

// Collects what the network thread hands over, for the test thread to wait on.
struct Inbox {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<net::HttpAnswer> answers;
    uint64_t frames = 0, ups = 0, downs = 0;
    std::string first_frame, last_down;

    template <typename Pred>
    bool wait(Pred pred, std::chrono::seconds timeout = 20s) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, timeout, [&] { return pred(); });
    }
    net::Transport::AnswerFn answer() {
        return [this](net::HttpAnswer a) {
            std::lock_guard lock(mutex);
            answers.push_back(std::move(a));
            changed.notify_all();
        };
    }
    net::Transport::FrameFn frame() {
        return [this](uint64_t, std::string text) {
            std::lock_guard lock(mutex);
            if (frames++ == 0) first_frame = text;
            changed.notify_all();
        };
    }
    net::Transport::StateFn link() {
        return [this](uint64_t, net::LinkState s, std::string why) {
            std::lock_guard lock(mutex);
            if (s == net::LinkState::up) {
                ++ups;
            } else {
                ++downs;
                last_down = why;
            }
            changed.notify_all();
        };
    }
};

}  // namespace

TEST_CASE("URLs are split for connecting, and anything else is refused", "[net]") {
    auto u = net::parse_url("wss://fstream.binance.com/stream?streams=btcusdt@trade");
    REQUIRE(u);
    CHECK(u->tls);
    CHECK(u->host == "fstream.binance.com");
    CHECK(u->port == "443");
    CHECK(u->target == "/stream?streams=btcusdt@trade");
    u = net::parse_url("https://127.0.0.1:8443");
    REQUIRE(u);
    CHECK(u->port == "8443");
    CHECK(u->target == "/");
    u = net::parse_url("ws://localhost:9000/ws");
    REQUIRE(u);
    CHECK_FALSE(u->tls);
    CHECK_FALSE(net::parse_url("ftp://example.com/"));
    CHECK_FALSE(net::parse_url("https://:443/"));
    CHECK_FALSE(net::parse_url("https://host:port/"));
    net::Transport t;
    CHECK(t.ws_open("https://example.com/", {}, {}) == 0);
    CHECK_FALSE(t.http("GET", "wss://example.com/", "", "", 1s, {}));
    CHECK_FALSE(t.http("FETCH", "https://example.com/", "", "", 1s, {}));
}

TEST_CASE("HTTPS and a WebSocket stream from the loopback venue over verified TLS",
          "[net][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    net::Transport t(venue.cert().string());
    Inbox in;

    REQUIRE(t.http("GET", venue.https() + "/fapi/v1/depth?symbol=BTCUSDT&limit=5",
                   "X-Test: yes\r\n", "", 10s, in.answer()));
    REQUIRE(in.wait([&] { return in.answers.size() == 1; }));
    {
        const auto &a = in.answers[0];
        INFO(a.error);
        CHECK(a.status == 200);
        CHECK(a.sent);
        CHECK(a.body.starts_with("{\"lastUpdateId\":"));
        CHECK(a.headers.find("X-MBX-USED-WEIGHT-1M: ") != std::string::npos);
    }
    // A second request reuses the kept-alive connection and still gets its own answer.
    REQUIRE(t.http("GET", venue.https() + "/fapi/v1/time", "", "", 10s, in.answer()));
    REQUIRE(in.wait([&] { return in.answers.size() == 2; }));
    CHECK(in.answers[1].status == 200);
    CHECK(in.answers[1].body.starts_with("{\"serverTime\":"));

    uint64_t id = t.ws_open(venue.wss() + "/stream?streams=btcusdt@depth@0ms/btcusdt@trade",
                            in.frame(), in.link());
    REQUIRE(id != 0);
    REQUIRE(in.wait([&] { return in.frames > 1000; }));
    CHECK(in.ups == 1);
    CHECK(in.first_frame.starts_with("{\"stream\":\"btcusdt@"));

    // The venue drops every stream without a close frame: the link goes down and comes back.
    REQUIRE(t.http("POST", venue.https() + "/keel-test/misbehave?what=drop_streams", "", "", 10s,
                   in.answer()));
    REQUIRE(in.wait([&] { return in.downs >= 1 && in.ups >= 2; }));
    CHECK_FALSE(in.last_down.empty());

    t.ws_close(id);
    CHECK_FALSE(t.ws_send(id + 1000, "{}"));
}

TEST_CASE("a peer whose certificate is not trusted is refused, and nothing is sent",
          "[net][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    net::Transport system_trust;  // the venue's self-signed certificate is not in it
    Inbox in;
    REQUIRE(system_trust.http("GET", venue.https() + "/fapi/v1/time", "", "", 10s, in.answer()));
    REQUIRE(in.wait([&] { return in.answers.size() == 1; }));
    CHECK(in.answers[0].status == 0);
    CHECK_FALSE(in.answers[0].sent);
    CHECK(in.answers[0].error.find("certificate verify failed") != std::string::npos);

    // The trusted certificate, reached by its DNS name instead of its IP address.
    net::Transport trusting(venue.cert().string());
    REQUIRE(trusting.http("GET",
                          "https://localhost:" + std::to_string(venue.port()) + "/fapi/v1/time", "",
                          "", 10s, in.answer()));
    REQUIRE(in.wait([&] { return in.answers.size() == 2; }));
    INFO(in.answers[1].error);
    CHECK(in.answers[1].status == 200);
}

TEST_CASE("a request that got no answer after it was sent says so, and is never sent again",
          "[net][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir);
    net::Transport t(venue.cert().string());
    Inbox in;
    // One answered request leaves a kept-alive connection in the pool.
    REQUIRE(t.http("GET", venue.https() + "/fapi/v1/time", "", "", 10s, in.answer()));
    REQUIRE(in.wait([&] { return in.answers.size() == 1; }));
    REQUIRE(in.answers[0].status == 200);
    // From now on the venue acts on every request but answers only after 3 s; keel waits 500 ms.
    REQUIRE(t.http("POST",
                   venue.https() + "/keel-test/misbehave?what=flaky&p_timeout=1&timeout_ms=3000",
                   "", "", 10s, in.answer()));
    REQUIRE(in.wait([&] { return in.answers.size() == 2; }));
    REQUIRE(in.answers[1].status == 200);
    REQUIRE(t.http("GET", venue.https() + "/fapi/v1/time", "", "", 500ms, in.answer()));
    REQUIRE(in.wait([&] { return in.answers.size() == 3; }));
    const auto &a = in.answers[2];
    CHECK(a.status == 0);
    CHECK(a.sent);  // it left: whoever sent it must ask what became of it, not send it again
    CHECK_FALSE(a.error.empty());

    net::Transport other(venue.cert().string());
    Inbox state;
    std::this_thread::sleep_for(3s);  // the venue answers its held request first
    REQUIRE(other.http("GET", venue.https() + "/keel-test/state", "", "", 10s, state.answer()));
    REQUIRE(state.wait([&] { return state.answers.size() == 1; }));
    INFO(state.answers[0].body);
    // Held once: the request was not sent a second time on a fresh connection.
    CHECK(state.answers[0].body.find("\"faults\":{\"timeout\":1}") != std::string::npos);
}

TEST_CASE("a WebSocket is replaced before the venue's connection limit, and the stream goes on",
          "[net][network]") {
    test::TempDir dir;
    test::LoopbackVenue venue(dir, "1");  // the recorded pace: frames for minutes
    net::Transport t(venue.cert().string());
    Inbox in;
    net::WsOptions options;
    options.max_lifetime = 2s;  // Binance's 24 h, shortened: keel's default is 23 h
    const auto opened = std::chrono::steady_clock::now();
    uint64_t id = t.ws_open(venue.wss() + "/stream?streams=btcusdt@depth@0ms", in.frame(),
                            in.link(), options);
    REQUIRE(id != 0);
    REQUIRE(in.wait([&] { return in.ups == 1 && in.frames > 0; }));
    // Nothing went wrong: the host closes it at its age limit and opens it again.
    REQUIRE(in.wait([&] { return in.ups >= 2; }));
    CHECK(std::chrono::steady_clock::now() - opened >= 2s);
    CHECK(in.downs >= 1);
    CHECK(in.last_down == "replaced before the venue's connection time limit");
    uint64_t before = 0;
    {
        std::lock_guard lock(in.mutex);
        before = in.frames;
    }
    REQUIRE(in.wait([&] { return in.frames > before + 10; }));  // the new connection streams
    t.ws_close(id);
}
