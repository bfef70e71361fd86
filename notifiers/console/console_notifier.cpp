// The `console` notifier: one line per notification on stderr (or stdout), flushed at once.
//
//     2024-05-01T12:34:56.789Z [WARNING] risk: daily loss at 80 % of the limit — 400.00 of 500.00
//
// Settings: min_level (INFO|SUCCESS|WARNING|ERROR, default INFO: lower levels are dropped),
// color (default true: ANSI colours, only when the stream is a terminal), stream (stderr|stdout).
// Control characters in the text are replaced by spaces so a notification is always one line and
// cannot move the cursor or change the terminal's colours.

#include <keel/plugin.h>
#include <strings.h>
#include <unistd.h>
#include <keel/plugin_support.hpp>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

namespace keel::console {
namespace {

using plugin_support::find_setting;
using plugin_support::set_error;

constexpr const char *k_level_names[] = {"INFO", "SUCCESS", "WARNING", "ERROR"};
constexpr const char *k_level_colors[] = {"\x1b[36m", "\x1b[32m", "\x1b[33m", "\x1b[1;31m"};
constexpr const char *k_dim = "\x1b[2m";
constexpr const char *k_reset = "\x1b[0m";

struct notifier {
    const keel_host_api *host;
    void *ctx;
    FILE *stream;
    const char *stream_name;
    uint32_t min_level;
    bool color;
    std::string line;  // reused for every notification
};

// ---- settings ---------------------------------------------------------------------------------

const char *string_setting(const keel_setting *s, const char *fallback) {
    return s && s->string ? s->string : fallback;
}

bool parse_bool(const keel_setting &s, bool &out) {
    if (s.type == KEEL_CFG_BOOL || s.type == KEEL_CFG_INT) {
        out = s.integer != 0;
        return true;
    }
    if (!s.string) return false;
    for (const char *yes : {"true", "yes", "on", "1"}) {
        if (strcasecmp(s.string, yes) == 0) {
            out = true;
            return true;
        }
    }
    for (const char *no : {"false", "no", "off", "0"}) {
        if (strcasecmp(s.string, no) == 0) {
            out = false;
            return true;
        }
    }
    return false;
}

// ---- formatting -------------------------------------------------------------------------------

// Appends text with every control character (C0 and DEL) replaced by a space.
void append_clean(std::string &out, const char *text) {
    if (!text) return;
    for (const char *p = text; *p; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        out.push_back(c < 0x20 || c == 0x7F ? ' ' : *p);
    }
}

// 2024-05-01T12:34:56.789Z
void append_time(std::string &out, int64_t ts_ns) {
    int64_t secs = ts_ns / 1'000'000'000;
    int64_t rem = ts_ns % 1'000'000'000;
    if (rem < 0) {
        rem += 1'000'000'000;
        --secs;
    }
    const auto t = static_cast<std::time_t>(secs);
    std::tm tm{};
    char buf[48];
    if (!gmtime_r(&t, &tm)) {
        std::snprintf(buf, sizeof buf, "@%" PRId64 "ns", ts_ns);
    } else {
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      static_cast<int>(rem / 1'000'000));
    }
    out += buf;
}

void format_line(notifier &self, const keel_notification &n, int64_t ts_ns) {
    std::string &out = self.line;
    out.clear();
    if (self.color) out += k_dim;
    append_time(out, ts_ns);
    if (self.color) out += k_reset;
    out += ' ';

    char unknown[24];
    const char *name = nullptr;
    if (n.level < 4) {
        name = k_level_names[n.level];
    } else {
        std::snprintf(unknown, sizeof unknown, "LEVEL %u", n.level);
        name = unknown;
    }
    if (self.color && n.level < 4) out += k_level_colors[n.level];
    out += '[';
    out += name;
    out += ']';
    if (self.color && n.level < 4) out += k_reset;
    out += ' ';

    if (n.source && *n.source) {
        append_clean(out, n.source);
        out += ": ";
    }
    append_clean(out, n.title);
    if (n.body && *n.body) {
        out += " \xE2\x80\x94 ";  // em dash
        append_clean(out, n.body);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();  // no source, title nor body
    out += '\n';
}

// ---- the ABI ----------------------------------------------------------------------------------

uint32_t console_create(const keel_host_api *host, void *ctx, const keel_setting *settings,
                        uint32_t setting_count, void **self, char *err, size_t err_size) {
    if (!self) {
        set_error(err, err_size, "console: create() needs somewhere to put the instance");
        return KEEL_ERROR;
    }
    *self = nullptr;

    const char *level_text =
        string_setting(find_setting(settings, setting_count, "min_level"), "INFO");
    uint32_t min_level = 4;
    for (uint32_t i = 0; i < 4; ++i)
        if (strcasecmp(level_text, k_level_names[i]) == 0) min_level = i;
    if (min_level == 4) {
        set_error(err, err_size,
                  "console: min_level must be one of INFO, SUCCESS, WARNING, ERROR; got \"%s\"",
                  level_text);
        return KEEL_ERROR;
    }

    const char *stream_text =
        string_setting(find_setting(settings, setting_count, "stream"), "stderr");
    FILE *stream = nullptr;
    const char *stream_name = nullptr;
    if (strcasecmp(stream_text, "stderr") == 0) {
        stream = stderr;
        stream_name = "stderr";
    } else if (strcasecmp(stream_text, "stdout") == 0) {
        stream = stdout;
        stream_name = "stdout";
    } else {
        set_error(err, err_size, "console: stream must be stdout or stderr; got \"%s\"",
                  stream_text);
        return KEEL_ERROR;
    }

    bool color = true;
    if (const keel_setting *s = find_setting(settings, setting_count, "color")) {
        if (!parse_bool(*s, color)) {
            set_error(err, err_size, "console: color must be true or false; got \"%s\"",
                      s->string ? s->string : "");
            return KEEL_ERROR;
        }
    }
    // Colours only for a terminal: a file or a pipe gets plain text.
    color = color && isatty(fileno(stream)) == 1;

    try {
        auto n = std::make_unique<notifier>(notifier{.host = host,
                                                     .ctx = ctx,
                                                     .stream = stream,
                                                     .stream_name = stream_name,
                                                     .min_level = min_level,
                                                     .color = color,
                                                     .line = {}});
        n->line.reserve(512);
        *self = n.release();
        return KEEL_OK;
    } catch (const std::exception &e) {
        set_error(err, err_size, "console: %s", e.what());
        return KEEL_ERROR;
    }
}

void console_destroy(void *self) {
    delete static_cast<notifier *>(self);
}

uint32_t console_notify(void *self_ptr, const keel_notification *in, char *err, size_t err_size) {
    auto &self = *static_cast<notifier *>(self_ptr);
    if (!in) {
        set_error(err, err_size, "console: notify() without a notification");
        return KEEL_ERROR;
    }
    // Read only the fields the host stamped; anything beyond reads as zero/NULL.
    keel_notification n{};
    std::memcpy(&n, in, std::min<size_t>(in->struct_size, sizeof n));
    if (n.level < 4 && n.level < self.min_level) return KEEL_OK;

    int64_t ts_ns = n.ts_ns;
    if (ts_ns == 0 && self.host && self.host->now_ns) ts_ns = self.host->now_ns(self.ctx);
    try {
        format_line(self, n, ts_ns);
    } catch (const std::exception &e) {
        set_error(err, err_size, "console: %s", e.what());
        return KEEL_ERROR;
    }
    // One fwrite per line so lines from other writers to the same stream do not interleave.
    errno = 0;
    const size_t written = std::fwrite(self.line.data(), 1, self.line.size(), self.stream);
    const int flushed = std::fflush(self.stream);
    if (written != self.line.size() || flushed != 0) {
        const int e = errno;
        std::clearerr(self.stream);
        set_error(err, err_size, "console: cannot write to %s: %s", self.stream_name,
                  e ? std::strerror(e) : "short write");
        return KEEL_ERROR;
    }
    return KEEL_OK;
}

constexpr keel_config_key k_config_keys[] = {
    {.struct_size = sizeof(keel_config_key),
     .name = "min_level",
     .type = KEEL_CFG_STRING,
     .default_value = "INFO",
     .description = "Lowest level printed: INFO, SUCCESS, WARNING or ERROR"},
    {.struct_size = sizeof(keel_config_key),
     .name = "color",
     .type = KEEL_CFG_BOOL,
     .default_value = "true",
     .description = "ANSI colours (only ever used when the stream is a terminal)"},
    {.struct_size = sizeof(keel_config_key),
     .name = "stream",
     .type = KEEL_CFG_STRING,
     .default_value = "stderr",
     .description = "Where lines go: stderr or stdout"},
};

constexpr keel_notifier_plugin k_descriptor = {
    .struct_size = sizeof(keel_notifier_plugin),
    .capabilities = 0,
    .config_keys = k_config_keys,
    .config_key_count = sizeof(k_config_keys) / sizeof(k_config_keys[0]),
    .create = &console_create,
    .destroy = &console_destroy,
    .notify = &console_notify,
};

constexpr keel_plugin_info k_info = {
    KEEL_PLUGIN_INFO_HEADER,
    .kind = KEEL_PLUGIN_NOTIFIER,
    .name = "console",
    .version = "0.1.0",
    .description = "Prints notifications as one line each on stderr or stdout",
    .descriptor = &k_descriptor,
};

}  // namespace
}  // namespace keel::console

extern "C" KEEL_PLUGIN_EXPORT const keel_plugin_info *keel_plugin_query(void) {
    return &keel::console::k_info;
}
