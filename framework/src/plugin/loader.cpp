#include "keel/plugin/loader.hpp"

#include <dlfcn.h>
#include <glob.h>
#include <unistd.h>

#include <algorithm>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace keel::plugin {
namespace fs = std::filesystem;

const char *to_string(Kind kind) {
    return kind == Kind::exchange ? "exchange" : "notifier";
}

namespace {

std::string hex(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", v);
    return buf;
}

[[noreturn]] void fail(const fs::path &file, const std::string &what) {
    throw PluginError("plugin " + file.string() + ": " + what);
}

// Copies a plugin's size-stamped descriptor into a zeroed host-sized struct.
// `v1_size` is the size of the ABI 1.0 layout; later minors only append, so any plugin stamps at
// least that much.
template <typename T>
T copy_descriptor(const fs::path &file, const void *descriptor, size_t v1_size,
                  const char *type_name) {
    if (!descriptor) fail(file, std::string("info block has no ") + type_name + " descriptor");
    uint32_t size = 0;
    std::memcpy(&size, descriptor, sizeof size);
    if (size < v1_size)
        fail(file, std::string(type_name) + " descriptor too small (" + std::to_string(size) +
                       " bytes, ABI 1 needs " + std::to_string(v1_size) + ")");
    T out{};
    std::memcpy(&out, descriptor, std::min<size_t>(size, sizeof(T)));
    return out;
}

std::string kind_name(uint32_t kind) {
    switch (kind) {
        case KEEL_PLUGIN_EXCHANGE:
            return "exchange";
        case KEEL_PLUGIN_NOTIFIER:
            return "notifier";
        default:
            return "unknown kind " + std::to_string(kind);
    }
}

}  // namespace

Library::~Library() {
    if (handle_) dlclose(handle_);
}

std::shared_ptr<Library> Library::open(const fs::path &file, std::optional<Kind> wanted,
                                       const std::string &used_as) {
    std::error_code ec;
    if (!fs::exists(file, ec)) fail(file, "file not found");
    if (!fs::is_regular_file(file, ec)) fail(file, "not a regular file");

    std::shared_ptr<Library> lib(new Library());
    lib->file_ = file;
    lib->handle_ = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib->handle_) {
        const char *why = dlerror();
        fail(file, std::string("cannot be loaded as a shared library: ") + (why ? why : "?"));
    }
    dlerror();
    void *sym = dlsym(lib->handle_, KEEL_PLUGIN_QUERY_SYMBOL);
    if (!sym) fail(file, "is not a keel plugin: it does not export " KEEL_PLUGIN_QUERY_SYMBOL "()");
    auto query = reinterpret_cast<keel_plugin_query_fn>(sym);
    const keel_plugin_info *info = query();
    if (!info) fail(file, KEEL_PLUGIN_QUERY_SYMBOL "() returned NULL");

    // Read only what the plugin stamped, and the magic before believing anything else.
    keel_plugin_info block{};
    std::memcpy(&block.struct_size, info, sizeof block.struct_size);
    if (block.struct_size < offsetof(keel_plugin_info, abi_major))
        fail(file,
             "is not a keel plugin: info block of " + std::to_string(block.struct_size) + " bytes");
    std::memcpy(&block, info, std::min<size_t>(block.struct_size, sizeof block));
    if (block.magic != KEEL_PLUGIN_MAGIC)
        fail(file, "is not a keel plugin: bad magic " + hex(block.magic) + " (expected " +
                       hex(KEEL_PLUGIN_MAGIC) + ")");
    if (block.abi_major != KEEL_ABI_MAJOR)
        fail(file, "was built for plugin ABI " + std::to_string(block.abi_major) + "." +
                       std::to_string(block.abi_minor) + " but this keel speaks ABI " +
                       std::to_string(KEEL_ABI_MAJOR) + "." + std::to_string(KEEL_ABI_MINOR) +
                       "; rebuild it against this keel's plugins/include/keel/plugin.h");
    if (block.struct_size < offsetof(keel_plugin_info, descriptor) + sizeof(void *))
        fail(file, "info block too small for ABI 1 (" + std::to_string(block.struct_size) +
                       " bytes, need " +
                       std::to_string(offsetof(keel_plugin_info, descriptor) + sizeof(void *)) +
                       ")");
    if (block.pointer_size != sizeof(void *))
        fail(file, "was built for " + std::to_string(block.pointer_size * 8) +
                       "-bit pointers; this keel is " + std::to_string(sizeof(void *) * 8) +
                       "-bit");
    if (!block.name || !*block.name) fail(file, "info block has no name");

    lib->name_ = block.name;
    lib->version_ = block.version ? block.version : "";
    lib->description_ = block.description ? block.description : "";
    if (block.kind != KEEL_PLUGIN_EXCHANGE && block.kind != KEEL_PLUGIN_NOTIFIER)
        fail(file, "declares " + kind_name(block.kind) + " (expected exchange or notifier)");
    Kind expected = wanted.value_or(static_cast<Kind>(block.kind));
    if (block.kind != static_cast<uint32_t>(expected))
        fail(file, std::string(block.kind == KEEL_PLUGIN_EXCHANGE ? "is an " : "is a ") +
                       kind_name(block.kind) + " plugin (\"" + lib->name_ + "\"), but " + used_as +
                       " needs " + (expected == Kind::exchange ? "an" : "a") + " " +
                       to_string(expected) + " plugin");
    lib->kind_ = expected;
    if (expected == Kind::exchange) {
        lib->exchange_ = copy_descriptor<keel_exchange_plugin>(
            file, block.descriptor, offsetof(keel_exchange_plugin, start) + sizeof(void *),
            "exchange");
        auto &d = lib->exchange_;
        if (!d.create || !d.destroy || !d.subscribe || !d.start)
            fail(file,
                 "exchange descriptor lacks a required function "
                 "(create, destroy, subscribe and start are required)");
        if ((d.capabilities & KEEL_CAP_FRAMES) && !d.on_frame)
            fail(file, "declares KEEL_CAP_FRAMES but has no on_frame");
        if ((d.capabilities & KEEL_CAP_PLAYBACK) && !d.playback_start)
            fail(file, "declares KEEL_CAP_PLAYBACK but has no playback_start");
    } else {
        lib->notifier_ = copy_descriptor<keel_notifier_plugin>(
            file, block.descriptor, offsetof(keel_notifier_plugin, notify) + sizeof(void *),
            "notifier");
        auto &d = lib->notifier_;
        if (!d.create || !d.destroy || !d.notify)
            fail(file,
                 "notifier descriptor lacks a required function "
                 "(create, destroy and notify are required)");
    }
    const keel_config_key *keys =
        expected == Kind::exchange ? lib->exchange_.config_keys : lib->notifier_.config_keys;
    uint32_t count = expected == Kind::exchange ? lib->exchange_.config_key_count
                                                : lib->notifier_.config_key_count;
    if (count && !keys) fail(file, "declares config keys but config_keys is NULL");
    if (count) {
        // The array's stride is the plugin's struct size, which a newer minor may have grown.
        uint32_t stride = keys[0].struct_size;
        if (stride < offsetof(keel_config_key, description) + sizeof(void *))
            fail(file, "config key struct too small (" + std::to_string(stride) + " bytes)");
        auto *base = reinterpret_cast<const unsigned char *>(keys);
        for (uint32_t i = 0; i < count; ++i) {
            keel_config_key key{};
            std::memcpy(&key, base + size_t{i} * stride, std::min<size_t>(stride, sizeof key));
            if (!key.name || !*key.name)
                fail(file, "config key " + std::to_string(i) + " has no name");
            lib->keys_.push_back(key);
        }
    }
    return lib;
}

std::vector<fs::path> default_search_path() {
    std::vector<fs::path> dirs;
    if (const char *env = std::getenv("KEEL_PLUGIN_PATH")) {
        std::stringstream ss(env);
        std::string dir;
        while (std::getline(ss, dir, ':'))
            if (!dir.empty()) dirs.emplace_back(dir);
    }
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) dirs.push_back(exe.parent_path() / "plugins");
    return dirs;
}

fs::path resolve(const std::string &ref, Kind kind, const fs::path &config_dir,
                 const std::vector<fs::path> &search) {
    bool is_path = ref.find('/') != std::string::npos ||
                   (ref.size() > 3 && ref.compare(ref.size() - 3, 3, ".so") == 0);
    if (is_path) {
        fs::path p(ref);
        return p.is_absolute() ? p : config_dir / p;
    }
    std::string file = std::string("keel-") + to_string(kind) + "-" + ref + ".so";
    std::string looked;
    for (auto &dir : search) {
        auto candidate = dir / file;
        std::error_code ec;
        if (fs::exists(candidate, ec)) return candidate;
        looked += (looked.empty() ? "" : ", ") + dir.string();
    }
    throw PluginError(
        "plugin \"" + ref + "\": no " + file + " found (searched " +
        (looked.empty() ? std::string("nothing: KEEL_PLUGIN_PATH is empty") : looked) + ")");
}

const keel_setting *Settings::find(const std::string &name) const {
    for (auto &s : settings_)
        if (name == s.name) return &s;
    return nullptr;
}

namespace {

const char *type_name(uint32_t type) {
    switch (type) {
        case KEEL_CFG_STRING:
            return "a string";
        case KEEL_CFG_INT:
            return "an integer";
        case KEEL_CFG_DOUBLE:
            return "a number";
        case KEEL_CFG_BOOL:
            return "true or false";
        case KEEL_CFG_SECRET:
            return "a secret from the environment";
        case KEEL_CFG_PATH:
            return "a file path";
        case KEEL_CFG_PATHS:
            return "file paths (comma-separated, glob patterns allowed)";
        default:
            return "an unknown type";
    }
}

// Parses `text` as `type` into `out`; false when it does not fit.
bool parse_value(uint32_t type, const std::string &text, keel_setting &out) {
    const char *b = text.data();
    const char *e = b + text.size();
    switch (type) {
        case KEEL_CFG_STRING:
        case KEEL_CFG_SECRET:
            return true;
        case KEEL_CFG_PATH:
        case KEEL_CFG_PATHS:
            return !text.empty();
        case KEEL_CFG_INT: {
            int64_t v = 0;
            auto r = std::from_chars(b, e, v);
            if (r.ec != std::errc() || r.ptr != e) return false;
            out.integer = v;
            out.number = static_cast<double>(v);
            return true;
        }
        case KEEL_CFG_DOUBLE: {
            double v = 0;
            auto r = std::from_chars(b, e, v);
            if (r.ec != std::errc() || r.ptr != e) return false;
            out.number = v;
            return true;
        }
        case KEEL_CFG_BOOL:
            if (text == "true" || text == "yes" || text == "on")
                out.integer = 1;
            else if (text == "false" || text == "no" || text == "off")
                out.integer = 0;
            else
                return false;
            return true;
        default:
            return false;
    }
}

// A KEEL_CFG_PATHS value: comma-separated paths and glob patterns, resolved against the config's
// directory, patterns expanded in name order, every file checked; the files joined by '\n'.
std::string resolve_paths(const config::RawSetting &raw, const fs::path &config_dir) {
    auto fail = [&](const std::string &what) {
        throw config::ConfigError(raw.where + ": " + raw.key_path + ": " + what +
                                  " (relative paths are resolved against the config file's "
                                  "directory)");
    };
    std::string out;
    std::string_view rest = raw.value;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string item(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        const auto first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
        if (first == std::string::npos) continue;
        fs::path p(item.substr(first, last - first + 1));
        if (p.is_relative()) p = config_dir / p;
        const std::string shown = raw.from_env ? "from the environment" : p.lexically_normal();
        std::vector<std::string> files;
        if (p.string().find_first_of("*?[") == std::string::npos) {
            files.push_back(p.lexically_normal().string());
        } else {
            glob_t g{};
            const int rc = ::glob(p.c_str(), 0, nullptr, &g);
            files.assign(g.gl_pathv, g.gl_pathv + g.gl_pathc);
            globfree(&g);
            if (rc != 0 || files.empty()) fail("pattern " + shown + " matches no file");
            std::sort(files.begin(), files.end());
        }
        for (const auto &f : files) {
            std::error_code ec;
            if (!fs::is_regular_file(f, ec))
                fail("file " + (raw.from_env ? shown : "\"" + f + "\"") + " does not exist");
            out += (out.empty() ? "" : "\n") + f;
        }
    }
    if (out.empty()) fail("no file given");
    return out;
}

}  // namespace

Settings Settings::resolve(const Library &library, const config::PluginRef &ref,
                           const fs::path &config_dir) {
    Settings out;
    std::vector<std::string> names;
    for (uint32_t i = 0; i < library.config_key_count(); ++i)
        names.emplace_back(library.config_keys()[i].name ? library.config_keys()[i].name : "");

    for (auto &[key, raw] : ref.settings) {
        bool known = false;
        for (auto &n : names) known = known || n == key;
        if (known) continue;
        std::string hint;
        if (auto near = config::closest(key, names))
            hint = " (did you mean \"" + *near + "\"?)";
        else {
            hint = " (plugin \"" + library.name() + "\" accepts: ";
            for (size_t i = 0; i < names.size(); ++i) hint += (i ? ", " : "") + names[i];
            hint += names.empty() ? "no settings)" : ")";
        }
        throw config::ConfigError(raw.where + ": " + raw.key_path +
                                  ": unknown setting for plugin \"" + library.name() + "\"" + hint);
    }

    for (uint32_t i = 0; i < library.config_key_count(); ++i) {
        const keel_config_key &key = library.config_keys()[i];
        std::string name = key.name ? key.name : "";
        keel_setting s{};
        s.struct_size = sizeof s;
        s.type = key.type;
        auto it = ref.settings.find(name);
        std::string text;
        if (it != ref.settings.end()) {
            const auto &raw = it->second;
            if (key.type == KEEL_CFG_SECRET && !raw.uses_env)
                throw config::ConfigError(
                    raw.where + ": " + raw.key_path +
                    ": is a secret and must come from the environment; write ${SOME_VAR} and "
                    "export SOME_VAR, never the secret itself in YAML");
            if (!parse_value(key.type, raw.value, s)) {
                // A value from the environment is never echoed back.
                std::string found =
                    raw.from_env ? "a value from the environment" : "\"" + raw.value + "\"";
                throw config::ConfigError(raw.where + ": " + raw.key_path + ": expected " +
                                          type_name(key.type) + ", found " + found);
            }
            text = raw.value;
            if (key.type == KEEL_CFG_PATHS) text = resolve_paths(raw, config_dir);
            if (key.type == KEEL_CFG_PATH) {
                fs::path p(text);
                if (p.is_relative()) p = config_dir / p;
                text = p.lexically_normal().string();
                std::error_code ec;
                if (!fs::is_regular_file(text, ec))
                    throw config::ConfigError(
                        raw.where + ": " + raw.key_path + ": file " +
                        (raw.from_env ? std::string("from the environment") : "\"" + text + "\"") +
                        " does not exist (relative paths are resolved against the config file's "
                        "directory)");
            }
        } else if (key.default_value) {
            text = key.default_value;
            if (!parse_value(key.type, text, s))
                throw PluginError("plugin " + library.file().string() + ": default of \"" + name +
                                  "\" is not " + type_name(key.type));
        } else {
            throw config::ConfigError(ref.where + ": " + ref.key_path +
                                      ".settings: missing required setting \"" + name + "\" (" +
                                      (key.description ? key.description : "") + ")");
        }
        out.strings_.push_back(std::make_unique<std::string>(name));
        s.name = out.strings_.back()->c_str();
        out.strings_.push_back(std::make_unique<std::string>(text));
        s.string = out.strings_.back()->c_str();
        out.settings_.push_back(s);
    }
    return out;
}

}  // namespace keel::plugin
