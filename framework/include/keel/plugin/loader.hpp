#pragma once
// Loads plugin shared libraries and checks them against ABI v1 before anything else is touched.
// Every failure is a PluginError naming the file and what was wrong.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <keel/plugin.h>

#include "keel/config/config.hpp"

namespace keel::plugin {

class PluginError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class Kind : uint32_t { exchange = KEEL_PLUGIN_EXCHANGE, notifier = KEEL_PLUGIN_NOTIFIER };
const char *to_string(Kind kind);

// An open plugin library with its validated info block and descriptor (copied into a zeroed
// struct of the host's size, so fields a smaller plugin did not stamp read as zero).
class Library {
  public:
    ~Library();
    Library(const Library &) = delete;
    Library &operator=(const Library &) = delete;

    const std::filesystem::path &file() const { return file_; }
    const std::string &name() const { return name_; }
    const std::string &version() const { return version_; }
    const std::string &description() const { return description_; }
    Kind kind() const { return kind_; }
    const keel_exchange_plugin &exchange() const { return exchange_; }
    const keel_notifier_plugin &notifier() const { return notifier_; }
    const keel_config_key *config_keys() const { return keys_.data(); }
    uint32_t config_key_count() const { return static_cast<uint32_t>(keys_.size()); }

    uint64_t capabilities() const {
        return kind_ == Kind::exchange ? exchange_.capabilities : notifier_.capabilities;
    }

    // Opens and validates `file` as a plugin of `expected` kind (any kind when nullopt).
    // `used_as` names the config block for the wrong-kind message ("venues.sim").
    static std::shared_ptr<Library> open(const std::filesystem::path &file,
                                         std::optional<Kind> expected,
                                         const std::string &used_as = "");

  private:
    Library() = default;
    void *handle_ = nullptr;
    std::filesystem::path file_;
    std::string name_, version_, description_;
    Kind kind_ = Kind::exchange;
    keel_exchange_plugin exchange_{};
    keel_notifier_plugin notifier_{};
    std::vector<keel_config_key> keys_;  // copied at the plugin's stride into host-sized structs
};

// Directories searched for a plugin named by short name: $KEEL_PLUGIN_PATH (colon-separated),
// then <directory of the keel executable>/plugins.
std::vector<std::filesystem::path> default_search_path();

// Turns a config `plugin:` value into a file. A value with a '/' or ending in ".so" is a path
// relative to the config file's directory; otherwise "keel-<kind>-<name>.so" is looked up in
// `search`. Throws PluginError listing where it looked.
std::filesystem::path resolve(const std::string &ref, Kind kind,
                              const std::filesystem::path &config_dir,
                              const std::vector<std::filesystem::path> &search);

// A plugin's settings, validated against its declared keys and typed, with defaults filled.
// Owns the strings the keel_setting array points into.
class Settings {
  public:
    const keel_setting *data() const { return settings_.data(); }
    uint32_t size() const { return static_cast<uint32_t>(settings_.size()); }
    const keel_setting *find(const std::string &name) const;

    // Throws config::ConfigError (file:line:col, key path, expected/found) for unknown keys,
    // wrong types, missing required keys, and secrets written literally in YAML.
    // `config_dir` anchors relative KEEL_CFG_PATH values.
    static Settings resolve(const Library &library, const config::PluginRef &ref,
                            const std::filesystem::path &config_dir = {});

  private:
    std::vector<std::unique_ptr<std::string>> strings_;
    std::vector<keel_setting> settings_;
};

}  // namespace keel::plugin
