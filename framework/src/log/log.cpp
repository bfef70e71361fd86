#include "keel/log/log.hpp"

#include <chrono>
#include <mutex>
#include <stdexcept>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace keel::log {

std::string json_string(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
    return out;
}

namespace {

// One JSON object per line: {"ts":"…Z","level":"info","component":"risk","msg":"…"}.
class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg &msg, spdlog::memory_buf_t &dest) override {
        using namespace std::chrono;
        auto since = msg.time.time_since_epoch();
        auto secs = duration_cast<seconds>(since);
        auto millis = duration_cast<milliseconds>(since - secs).count();
        std::time_t t = secs.count();
        std::tm tm{};
        gmtime_r(&t, &tm);
        char ts[64];
        std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      static_cast<int>(millis));
        append(dest, "{\"ts\":\"");
        append(dest, ts);
        append(dest, "\",\"level\":\"");
        auto level = spdlog::level::to_string_view(msg.level);
        dest.append(level.data(), level.data() + level.size());
        append(dest, "\",\"component\":");
        append_escaped(dest, {msg.logger_name.data(), msg.logger_name.size()});
        append(dest, ",\"msg\":");
        append_escaped(dest, {msg.payload.data(), msg.payload.size()});
        append(dest, "}\n");
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }

  private:
    static void append(spdlog::memory_buf_t &dest, std::string_view s) {
        dest.append(s.data(), s.data() + s.size());
    }
    static void append_escaped(spdlog::memory_buf_t &dest, std::string_view s) {
        std::string quoted = json_string(s);
        append(dest, quoted);
    }
};

struct Registry {
    std::mutex mutex;
    Settings settings;
    spdlog::sink_ptr sink;
    std::map<std::string, std::shared_ptr<spdlog::logger>> loggers;

    void apply(spdlog::logger &logger) {
        auto it = settings.components.find(logger.name());
        logger.set_level(
            parse_level(it == settings.components.end() ? settings.level : it->second));
    }
};

Registry &registry() {
    static Registry r;
    return r;
}

spdlog::sink_ptr make_sink(Format format) {
    // Logs go to stderr so stdout carries only what a command was asked to print.
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    if (format == Format::json) {
        sink->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
            "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v", spdlog::pattern_time_type::utc));
    }
    return sink;
}

}  // namespace

spdlog::level::level_enum parse_level(const std::string &name) {
    static const std::pair<const char *, spdlog::level::level_enum> levels[] = {
        {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
        {"error", spdlog::level::err},   {"off", spdlog::level::off}};
    for (auto &[n, l] : levels)
        if (name == n) return l;
    throw std::invalid_argument("unknown log level \"" + name +
                                "\" (expected trace, debug, info, warn, error or off)");
}

void configure(const Settings &settings) {
    parse_level(settings.level);
    for (auto &[component, level] : settings.components) parse_level(level);
    auto &r = registry();
    std::lock_guard lock(r.mutex);
    r.settings = settings;
    r.sink = make_sink(settings.format);
    for (auto &[name, logger] : r.loggers) {
        logger->sinks().assign(1, r.sink);
        r.apply(*logger);
    }
}

spdlog::logger &get(const std::string &component) {
    auto &r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.loggers.find(component);
    if (it != r.loggers.end()) return *it->second;
    if (!r.sink) r.sink = make_sink(r.settings.format);
    auto logger = std::make_shared<spdlog::logger>(component, r.sink);
    r.apply(*logger);
    return *r.loggers.emplace(component, std::move(logger)).first->second;
}

}  // namespace keel::log
