#pragma once
// The loopback Binance venue (tests/venue) as a child process of a test: started on the real
// USD-M BTCUSDT capture with a self-signed certificate in a temporary directory, stopped (its
// stdin closes) when the object goes.

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keel/net/transport.hpp"
#include "support/support.hpp"

namespace keel::test {

class LoopbackVenue {
  public:
    // `exchange_info`: the file it serves (and whose limits it keeps); the real one by default.
    // `more`: further options (--skip, --funding-rate, …).
    explicit LoopbackVenue(const TempDir &dir, const std::string &speed = "0",
                           std::filesystem::path exchange_info = {},
                           const std::vector<std::string> &more = {})
        : cert_(dir.path() / "venue.crt"),
          child_(start(dir, speed, std::move(exchange_info), more)) {
        if (!child_.wait_for_output("listening 127.0.0.1:", std::chrono::seconds(30)))
            throw std::runtime_error("the loopback venue did not start: " + child_.err());
        auto at = child_.out().find("listening 127.0.0.1:");
        port_ = std::stoi(child_.out().substr(at + std::string("listening 127.0.0.1:").size()));
    }

    int port() const { return port_; }
    std::string https() const { return "https://127.0.0.1:" + std::to_string(port_); }
    std::string wss() const { return "wss://127.0.0.1:" + std::to_string(port_); }
    const std::filesystem::path &cert() const { return cert_; }
    Child &process() { return child_; }

    // GET /keel-test/state: the venue's own record (account, market, faults), as JSON text.
    std::string state() const {
        net::Transport t(cert_.string());
        std::mutex m;
        std::condition_variable cv;
        std::optional<net::HttpAnswer> answer;
        if (!t.http("GET", https() + "/keel-test/state", "", "", std::chrono::seconds(10),
                    [&](net::HttpAnswer a) {
                        std::lock_guard lock(m);
                        answer = std::move(a);
                        cv.notify_all();
                    }))
            throw std::runtime_error("the venue's state could not be asked for");
        std::unique_lock lock(m);
        if (!cv.wait_for(lock, std::chrono::seconds(20), [&] { return answer.has_value(); }) ||
            answer->status != 200)
            throw std::runtime_error("the venue did not answer its state");
        return answer->body;
    }

    static constexpr const char *kApiKey = "keel-test-key";
    static constexpr const char *kSecretVar = "KEEL_VENUE_SECRET";
    static constexpr const char *kSecret = "keel-test-secret-not-a-real-one";

  private:
    static Child start(const TempDir &dir, const std::string &speed,
                       std::filesystem::path exchange_info, const std::vector<std::string> &more) {
        ::setenv(kSecretVar, kSecret, 1);
        const std::string data = KEEL_DATA_DIR;
        if (exchange_info.empty())
            exchange_info = data + "/binance/usdm/rest/http_futures_market_exchange_info.json";
        // `more` may name another market and capture (--market spot --capture …).
        const bool own_capture = std::find(more.begin(), more.end(), "--capture") != more.end();
        std::vector<std::string> args = {KEEL_BINANCE_VENUE,
                                         "--capture",
                                         data + "/binance/usdm/ws_capture/btcusdt_20240808.gz",
                                         "--exchange-info",
                                         exchange_info.string(),
                                         "--cert-dir",
                                         dir.path().string(),
                                         "--speed",
                                         speed,
                                         "--api-key",
                                         kApiKey,
                                         "--secret-env",
                                         kSecretVar};
        if (own_capture) args.erase(args.begin() + 1, args.begin() + 3);
        args.insert(args.end(), more.begin(), more.end());
        return Child(args);
    }
    std::filesystem::path cert_;
    Child child_;
    int port_ = 0;
};

}  // namespace keel::test
