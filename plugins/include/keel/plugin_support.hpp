// Helpers for plugins written in C++ (header-only, nothing to link): the two chores every plugin
// repeats. The ABI itself is plugin.h; a C plugin writes these in a few lines of its own.
#ifndef KEEL_PLUGIN_SUPPORT_HPP
#define KEEL_PLUGIN_SUPPORT_HPP

#include <cstdarg>
#include <cstdio>
#include <string_view>

#include <keel/plugin.h>

namespace keel::plugin_support {

// printf into the caller's error buffer (always NUL-terminated, truncated to its size).
__attribute__((format(printf, 3, 4))) inline void set_error(char *err, size_t size, const char *fmt,
                                                            ...) {
    if (!err || size == 0) return;
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(err, size, fmt, args);
    va_end(args);
}

// The host's setting called `name`, or NULL. Steps through the array by the size the host
// stamped, so a newer host with a longer struct still lines up (and a shorter one is refused).
inline const keel_setting *find_setting(const keel_setting *settings, uint32_t count,
                                        const char *name) {
    if (!settings || count == 0 || settings[0].struct_size < sizeof(keel_setting)) return nullptr;
    const size_t stride = settings[0].struct_size;
    const auto *bytes = reinterpret_cast<const unsigned char *>(settings);
    for (uint32_t i = 0; i < count; ++i) {
        const auto *s = reinterpret_cast<const keel_setting *>(bytes + i * stride);
        if (s->name && std::string_view(s->name) == name) return s;
    }
    return nullptr;
}

}  // namespace keel::plugin_support

#endif
