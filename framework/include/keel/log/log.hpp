#pragma once
// Logging: one spdlog logger per component ("engine", "risk", "strategy", "plugin", "exec",
// "notify", "config"), all writing to one sink. Text lines by default, JSON lines on request.

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace keel::log {

enum class Format { text, json };

struct Settings {
    Format format = Format::text;
    std::string level = "info";                     // default for every component
    std::map<std::string, std::string> components;  // per-component override
};

// Installs the sink and levels. Throws std::invalid_argument for an unknown level name.
void configure(const Settings &settings);

// The logger of a component, created on first use with the configured level.
spdlog::logger &get(const std::string &component);

// `s` as a JSON string literal, quotes included, escaped.
std::string json_string(std::string_view s);

// Parses "trace|debug|info|warn|error|off"; throws std::invalid_argument otherwise.
spdlog::level::level_enum parse_level(const std::string &name);

}  // namespace keel::log
