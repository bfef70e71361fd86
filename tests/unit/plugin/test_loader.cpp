#include <catch2/catch.hpp>

#include "keel/plugin/loader.hpp"
#include "support/support.hpp"

using Catch::Matchers::Contains;
using keel::plugin::Kind;
using keel::plugin::Library;
using keel::plugin::PluginError;

namespace {

std::string fixture(const std::string &name) {
    return std::string(KEEL_TEST_PLUGIN_DIR) + "/" + name + ".so";
}

std::string open_error(const std::string &file, Kind kind = Kind::exchange) {
    try {
        Library::open(file, kind, "venues.x");
    } catch (const PluginError &e) {
        return e.what();
    }
    FAIL("expected a PluginError for " << file);
    return {};
}

}  // namespace

TEST_CASE("a missing plugin file is named in the error", "[plugin]") {
    auto msg = open_error("/nonexistent/keel-exchange-nope.so");
    CHECK_THAT(msg, Contains("/nonexistent/keel-exchange-nope.so") && Contains("file not found"));
}

TEST_CASE("a file that is not a shared library is refused", "[plugin]") {
    keel::test::TempDir dir;
    auto file = dir.write("keel-exchange-text.so", "this is not an ELF file\n");
    auto msg = open_error(file.string());
    CHECK_THAT(msg, Contains(file.string()) && Contains("cannot be loaded as a shared library"));
}

TEST_CASE("a shared library without the entry point is not a keel plugin", "[plugin]") {
    auto msg = open_error(fixture("no_entry_point"));
    CHECK_THAT(msg, Contains("no_entry_point.so") &&
                        Contains("is not a keel plugin: it does not export keel_plugin_query()"));
}

TEST_CASE("an entry point returning NULL is refused", "[plugin]") {
    CHECK_THAT(open_error(fixture("null_info")), Contains("keel_plugin_query() returned NULL"));
}

TEST_CASE("a wrong magic number is refused before anything else is read", "[plugin]") {
    CHECK_THAT(open_error(fixture("bad_magic")),
               Contains("bad magic 0xDEADBEEF (expected 0x4B45454C)"));
}

TEST_CASE("an ABI major mismatch names both versions", "[plugin]") {
    auto msg = open_error(fixture("abi_mismatch"));
    CHECK_THAT(msg, Contains("abi_mismatch.so") && Contains("built for plugin ABI 2.3") &&
                        Contains("this keel speaks ABI 1.6") && Contains("rebuild"));
}

TEST_CASE("a truncated info block is refused", "[plugin]") {
    CHECK_THAT(open_error(fixture("small_info")), Contains("info block too small for ABI 1"));
}

TEST_CASE("a descriptor without a required function is refused", "[plugin]") {
    CHECK_THAT(open_error(fixture("missing_create")),
               Contains("exchange descriptor lacks a required function"));
}

TEST_CASE("a plugin of the wrong kind names what it is and what was needed", "[plugin]") {
    auto console = std::string(KEEL_PLUGIN_DIR) + "/keel-notifier-console.so";
    auto msg = open_error(console, Kind::exchange);
    CHECK_THAT(msg, Contains("is a notifier plugin (\"console\")") &&
                        Contains("venues.x needs an exchange plugin"));
    auto sim = std::string(KEEL_PLUGIN_DIR) + "/keel-exchange-sim.so";
    CHECK_THAT(open_error(sim, Kind::notifier),
               Contains("is an exchange plugin (\"sim\")") && Contains("needs a notifier plugin"));
}

TEST_CASE("the shipped plugins load", "[plugin]") {
    auto sim = Library::open(std::string(KEEL_PLUGIN_DIR) + "/keel-exchange-sim.so", Kind::exchange,
                             "venues.sim");
    CHECK(sim->name() == "sim");
    CHECK(sim->config_key_count() > 0);
    auto console = Library::open(std::string(KEEL_PLUGIN_DIR) + "/keel-notifier-console.so",
                                 Kind::notifier, "notifiers.console");
    CHECK(console->name() == "console");
}

TEST_CASE("plugin names resolve through the search path", "[plugin]") {
    std::vector<std::filesystem::path> search = {"/nonexistent", KEEL_PLUGIN_DIR};
    auto p = keel::plugin::resolve("sim", Kind::exchange, "/etc", search);
    CHECK(p == std::filesystem::path(KEEL_PLUGIN_DIR) / "keel-exchange-sim.so");
    CHECK(keel::plugin::resolve("lib/x.so", Kind::exchange, "/cfg", search) == "/cfg/lib/x.so");
    CHECK_THROWS_WITH(keel::plugin::resolve("nope", Kind::exchange, "/etc", search),
                      Contains("no keel-exchange-nope.so found (searched /nonexistent, ") &&
                          Contains(KEEL_PLUGIN_DIR));
}

namespace {

keel::config::RawSetting raw(std::string value, bool uses_env = false) {
    keel::config::RawSetting r;
    r.value = std::move(value);
    r.uses_env = uses_env;
    r.from_env = uses_env;
    r.where = "deploy.yaml:7:17";
    return r;
}

keel::config::PluginRef ref_with(std::map<std::string, keel::config::RawSetting> settings) {
    keel::config::PluginRef ref;
    ref.plugin = "with_secret";
    ref.where = "deploy.yaml:5:3";
    ref.key_path = "venues.acme";
    for (auto &[k, v] : settings) {
        v.key_path = "venues.acme.settings." + k;
        ref.settings[k] = v;
    }
    return ref;
}

std::string settings_error(const keel::config::PluginRef &ref) {
    auto lib = Library::open(fixture("with_secret"), Kind::exchange, "venues.acme");
    try {
        keel::plugin::Settings::resolve(*lib, ref);
    } catch (const keel::config::ConfigError &e) {
        return e.what();
    }
    FAIL("expected a ConfigError");
    return {};
}

}  // namespace

TEST_CASE("plugin settings are validated against the plugin's declared keys", "[plugin]") {
    SECTION("unknown key with a suggestion") {
        auto msg = settings_error(ref_with({{"acount", raw("main")}, {"api_key", raw("k", true)}}));
        CHECK_THAT(msg, Contains("deploy.yaml:7:17: venues.acme.settings.acount: unknown setting "
                                 "for plugin \"with_secret\" (did you mean \"account\"?)"));
    }
    SECTION("wrong type") {
        auto msg = settings_error(ref_with({{"account", raw("main")},
                                            {"api_key", raw("secret-value", true)},
                                            {"timeout_ms", raw("fast")}}));
        CHECK_THAT(msg, Contains("venues.acme.settings.timeout_ms: expected an integer, found "
                                 "\"fast\""));
    }
    SECTION("a secret written in YAML is refused, and not echoed") {
        auto msg = settings_error(
            ref_with({{"account", raw("main")}, {"api_key", raw("hunter2-literal")}}));
        CHECK_THAT(msg, Contains("venues.acme.settings.api_key: is a secret and must come from "
                                 "the environment"));
        CHECK_THAT(msg, !Contains("hunter2"));
    }
    SECTION("a required key is missing") {
        auto msg = settings_error(ref_with({{"api_key", raw("secret-value", true)}}));
        CHECK_THAT(msg, Contains("deploy.yaml:5:3: venues.acme.settings: missing required "
                                 "setting \"account\""));
    }
    SECTION("a bad value from the environment is not echoed") {
        auto msg = settings_error(ref_with({{"account", raw("main")},
                                            {"api_key", raw("secret-value", true)},
                                            {"testnet", raw("maybe-secret", true)}}));
        CHECK_THAT(msg, Contains("expected true or false, found a value from the environment"));
        CHECK_THAT(msg, !Contains("maybe-secret"));
    }
    SECTION("valid settings are typed and defaults filled") {
        auto lib = Library::open(fixture("with_secret"), Kind::exchange, "venues.acme");
        auto s = keel::plugin::Settings::resolve(
            *lib, ref_with({{"account", raw("main")}, {"api_key", raw("secret-value", true)}}));
        REQUIRE(s.size() == 4);
        CHECK(std::string(s.find("account")->string) == "main");
        CHECK(s.find("timeout_ms")->integer == 1000);
        CHECK(s.find("testnet")->integer == 1);
        CHECK(std::string(s.find("api_key")->string) == "secret-value");
    }
}
