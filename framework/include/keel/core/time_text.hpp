#pragma once
// Times as UTC text, for file names, reports and the CLI: one place for the conversions.

#include <ctime>
#include <optional>
#include <string>

#include "keel/core/types.hpp"

namespace keel {

// `t` as strftime `format` in UTC (whole seconds; append a fraction yourself if wanted).
inline std::string utc_text(TimeNs t, const char *format) {
    std::time_t secs = static_cast<std::time_t>(t / 1'000'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
    return std::string(buf, n);
}

// "2021-05-01", "2021-05-01T12:00", "2021-05-01T12:00:00Z" (UTC) -> ns since the epoch.
std::optional<TimeNs> parse_utc(const std::string &text);

}  // namespace keel
