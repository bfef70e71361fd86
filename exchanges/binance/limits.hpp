#pragma once
// What Binance has said about sending, shared by the plugin's market and trading sides: the
// request weight used this minute (X-MBX-USED-WEIGHT-1M) and, after a 429 or 418, until when
// nothing may be sent. A ban covers every request from the address, market data included, and
// asking again inside Retry-After is what turns a 429 into a 418, so both sides check here first.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <keel/plugin.h>

namespace keel::binance {

// A response header's value ("" if absent); names compare case-insensitively.
inline std::string header_value(const char *headers, std::string_view name) {
    if (!headers) return {};
    std::string_view all(headers);
    for (size_t at = 0; at < all.size();) {
        size_t end = all.find("\r\n", at);
        if (end == std::string_view::npos) end = all.size();
        std::string_view line = all.substr(at, end - at);
        size_t colon = line.find(':');
        if (colon == name.size()) {
            bool same = true;
            for (size_t k = 0; k < colon && same; ++k)
                same = std::tolower(static_cast<unsigned char>(line[k])) ==
                       std::tolower(static_cast<unsigned char>(name[k]));
            if (same) {
                std::string_view value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
                return std::string(value);
            }
        }
        at = end + 2;
    }
    return {};
}

class RequestLimits {
  public:
    static constexpr int64_t kMinuteNs = 60'000'000'000;

    explicit RequestLimits(int64_t weight_limit = 2400) : weight_limit_(weight_limit) {}

    // Reads an answer's headers. Returns the wait in seconds a 429/418 imposed (0: none).
    int64_t note(const keel_frame &f, int64_t now_ns) {
        if (std::string used = header_value(f.headers, "X-MBX-USED-WEIGHT-1M"); !used.empty()) {
            weight_used_ = std::strtoll(used.c_str(), nullptr, 10);
            weight_minute_ = now_ns / kMinuteNs;
        }
        if (f.http_status != 429 && f.http_status != 418) return 0;
        std::string after = header_value(f.headers, "Retry-After");
        int64_t seconds =
            after.empty() ? 60 : std::max<int64_t>(1, std::strtoll(after.c_str(), nullptr, 10));
        blocked_until_ns_ = std::max(blocked_until_ns_, now_ns + seconds * 1'000'000'000);
        reason_ = f.http_status == 418 ? KEEL_VENUE_BANNED : KEEL_VENUE_RATE_LIMITED;
        return seconds;
    }

    // True while nothing may be sent: inside Retry-After, or with 90 % of the minute's weight
    // spent (the rest is kept for cancels and questions).
    bool blocked(int64_t now_ns, keel_venue_reason &why) const {
        if (now_ns < blocked_until_ns_) {
            why = reason_;
            return true;
        }
        if (weight_minute_ == now_ns / kMinuteNs && weight_used_ * 10 >= weight_limit_ * 9) {
            why = KEEL_VENUE_RATE_LIMITED;
            return true;
        }
        return false;
    }
    bool banned(int64_t now_ns) const { return now_ns < blocked_until_ns_; }
    // When sending may resume (now_ns if it may now).
    int64_t resume_at(int64_t now_ns) const {
        keel_venue_reason why;
        if (!blocked(now_ns, why)) return now_ns;
        return now_ns < blocked_until_ns_ ? blocked_until_ns_
                                          : (now_ns / kMinuteNs + 1) * kMinuteNs;
    }

  private:
    int64_t weight_limit_;
    int64_t blocked_until_ns_ = 0;
    keel_venue_reason reason_ = KEEL_VENUE_OK;
    int64_t weight_used_ = 0, weight_minute_ = 0;
};

}  // namespace keel::binance
