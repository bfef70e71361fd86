#include "keel/core/time_text.hpp"

#include <cstdio>

namespace keel {

std::optional<TimeNs> parse_utc(const std::string &text) {
    std::tm tm{};
    int n = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3)
        return std::nullopt;
    std::string rest = text.substr(static_cast<size_t>(n));
    if (!rest.empty()) {
        int m = 0;
        if (std::sscanf(rest.c_str(), "T%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &m) != 2)
            return std::nullopt;
        rest = rest.substr(static_cast<size_t>(m));
        if (rest.starts_with(":")) {
            if (std::sscanf(rest.c_str(), ":%2d%n", &tm.tm_sec, &m) != 1) return std::nullopt;
            rest = rest.substr(static_cast<size_t>(m));
        }
        if (rest == "Z") rest.clear();
        if (!rest.empty()) return std::nullopt;
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 59)
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<TimeNs>(timegm(&tm)) * 1'000'000'000;
}

}  // namespace keel
