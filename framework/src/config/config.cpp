// Loading and validating the deployment configuration (docs/config.md).
//
// The whole file is checked before anything starts; the first mistake found is thrown as a
// ConfigError of the form "<file>:<line>:<col>: <key.path>: <message>". Values that came from the
// environment (${VAR}) are never written into a message: they may be secrets.

#include "keel/config/config.hpp"

#include "keel/market/candles.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

namespace keel::config {

namespace fs = std::filesystem;

namespace {

using Keys = std::initializer_list<std::string_view>;

const Keys kTopLevelKeys = {"mode",    "venues",          "instruments",   "strategies",
                            "risk",    "account",         "market",        "notifiers",
                            "logging", "confirm_mainnet", "earlier_orders"};

std::string join(const std::vector<std::string> &items, const char *sep = ", ") {
    std::string out;
    for (const auto &item : items) {
        if (!out.empty()) out += sep;
        out += item;
    }
    return out;
}

std::string join(Keys items) {
    std::vector<std::string> v;
    for (auto item : items) v.emplace_back(item);
    return join(v);
}

// "value" with quotes and control characters escaped, shortened when long.
std::string quote(std::string_view text) {
    constexpr std::size_t max_len = 60;
    std::string out = "\"";
    std::size_t n = 0;
    for (char c : text) {
        if (n++ == max_len) {
            out += "...";
            break;
        }
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
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
    return out;
}

std::string child(const std::string &path, std::string_view key) {
    if (path.empty()) return std::string(key);
    std::string out = path;
    out += '.';
    out += key;
    return out;
}

std::string at_index(const std::string &path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

// A value to check: the node, the best location for messages about it, and its key path.
struct Val {
    YAML::Node node;
    YAML::Mark mark;
    std::string path;
};

struct Entry {
    std::string key;
    YAML::Node key_node;
    Val val;
};

// The entries of one mapping in file order, after duplicate and unknown-key checks.
struct MapView {
    Val self;
    std::vector<Entry> entries;

    const Entry *find(std::string_view key) const {
        for (const auto &e : entries)
            if (e.key == key) return &e;
        return nullptr;
    }
};

// A scalar after ${VAR} substitution.
struct Text {
    std::string value;
    std::string raw;        // as written in the YAML
    bool from_env = false;  // any ${VAR} was substituted
    bool uses_env = false;  // raw is exactly one ${VAR}
};

// A name defined somewhere in the file (instrument id, strategy name), for duplicate checks and
// "did you mean" hints.
struct Defined {
    std::string name;
    bool from_env = false;
    std::string where;
    std::string path;
};

bool valid_env_name(std::string_view name) {
    if (name.empty()) return false;
    if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

bool valid_timeframe(std::string_view tf) {
    // ^[1-9][0-9]*(s|m|h|d)$
    if (tf.size() < 2 || tf[0] < '1' || tf[0] > '9') return false;
    for (std::size_t i = 1; i + 1 < tf.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(tf[i]))) return false;
    char unit = tf.back();
    return unit == 's' || unit == 'm' || unit == 'h' || unit == 'd';
}

std::optional<double> parse_number(std::string_view s) {
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    if (s.empty() || s[0] == '+' || s[0] == ' ') return std::nullopt;
    double v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<long long> parse_integer(std::string_view s) {
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    if (s.empty() || s[0] == '+') return std::nullopt;
    long long v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

std::optional<bool> parse_bool(std::string_view s) {
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    return std::nullopt;
}

class Loader {
  public:
    Loader(const fs::path &file, EnvLookup env) : file_(file), display_(file.string()) {
        if (env) {
            env_ = std::move(env);
        } else {
            env_ = [](const std::string &name) -> std::optional<std::string> {
                const char *v = std::getenv(name.c_str());
                if (!v) return std::nullopt;
                return std::string(v);
            };
        }
    }

    Config load(const std::string &yaml) {
        std::vector<YAML::Node> docs;
        try {
            docs = YAML::LoadAll(yaml);
        } catch (const YAML::ParserException &e) {
            throw ConfigError(location(e.mark) + ": YAML syntax error: " + e.msg);
        } catch (const YAML::Exception &e) {
            throw ConfigError(location(e.mark) + ": YAML error: " + e.msg);
        }
        if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
            throw ConfigError(display_ + ": the file is empty; expected a mapping with keys " +
                              join(kTopLevelKeys));
        }
        if (docs.size() > 1) {
            fail(docs[1].Mark(), "",
                 "expected one YAML document, found " + std::to_string(docs.size()) +
                     " (remove the extra \"---\")");
        }
        try {
            return build(docs[0]);
        } catch (const YAML::Exception &e) {
            // Not expected: every node is type-checked before it is read.
            throw ConfigError(location(e.mark) + ": YAML error: " + e.msg);
        }
    }

  private:
    // ---- locations and errors ---------------------------------------------------------------

    std::string location(const YAML::Mark &m) const {
        if (m.is_null() || m.line < 0 || m.column < 0) return display_;
        return display_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    }

    [[noreturn]] void fail(const YAML::Mark &m, const std::string &path,
                           const std::string &message) const {
        std::string out = location(m) + ": ";
        if (!path.empty()) out += path + ": ";
        out += message;
        throw ConfigError(out);
    }

    [[noreturn]] void fail(const Val &v, const std::string &message) const {
        fail(v.mark, v.path, message);
    }

    // ---- describing what was found ----------------------------------------------------------

    static const char *kind(const YAML::Node &n) {
        switch (n.Type()) {
            case YAML::NodeType::Map:
                return n.size() == 0 ? "an empty mapping" : "a mapping";
            case YAML::NodeType::Sequence:
                return n.size() == 0 ? "an empty sequence" : "a sequence";
            case YAML::NodeType::Null:
                return "an empty value";
            case YAML::NodeType::Scalar:
                return "a scalar";
            case YAML::NodeType::Undefined:
                break;
        }
        return "nothing";
    }

    // A scalar's text for a message; the value itself is withheld when it came from the
    // environment.
    static std::string shown(const Text &t) {
        if (t.from_env) return quote(t.raw) + " (value from the environment, not shown)";
        return quote(t.value);
    }

    // What a node is, for "found ..."; a scalar is shown as written (before substitution).
    static std::string found(const Val &v) {
        if (!v.node.IsScalar()) return kind(v.node);
        return quote(v.node.Scalar());
    }

    // ---- ${VAR} substitution ----------------------------------------------------------------

    Text substitute(const Val &v) {
        Text t;
        t.raw = v.node.Scalar();
        const std::string &raw = t.raw;
        std::size_t pos = 0;
        int refs = 0;
        while (pos < raw.size()) {
            std::size_t start = raw.find("${", pos);
            if (start == std::string::npos) {
                t.value.append(raw, pos, std::string::npos);
                break;
            }
            t.value.append(raw, pos, start - pos);
            std::size_t end = raw.find('}', start + 2);
            if (end == std::string::npos) {
                fail(v, "unterminated \"${\" in " + quote(raw) +
                            " (expected ${NAME}, NAME made of letters, digits and _)");
            }
            std::string name = raw.substr(start + 2, end - start - 2);
            if (!valid_env_name(name)) {
                fail(v, "invalid environment variable reference " +
                            quote(raw.substr(start, end - start + 1)) +
                            " (expected ${NAME}, NAME made of letters, digits and _, not "
                            "starting with a digit)");
            }
            std::optional<std::string> value = env_(name);
            if (!value) fail(v, "environment variable " + name + " is not set");
            t.value += *value;
            t.from_env = true;
            ++refs;
            pos = end + 1;
        }
        t.uses_env = refs == 1 && raw.size() >= 3 && raw.compare(0, 2, "${") == 0 &&
                     raw.back() == '}' && raw.find("${", 2) == std::string::npos;
        return t;
    }

    // ---- structure --------------------------------------------------------------------------

    // The location to blame for a value: an empty value has no position of its own (yaml-cpp
    // marks it where the next token starts), so its key's position is used instead.
    static Val value_of(const YAML::Node &key, const YAML::Node &value, const std::string &path) {
        YAML::Mark m = value.IsNull() ? key.Mark() : value.Mark();
        return Val{value, m, path};
    }

    Val item_of(const Val &seq, const YAML::Node &item, std::size_t i) const {
        YAML::Mark m = item.IsNull() ? seq.mark : item.Mark();
        return Val{item, m, at_index(seq.path, i)};
    }

    // Checks that v is a mapping (unless it is empty and `null_ok`), that its keys are distinct
    // scalars and, when `allowed` is given, that every key is one of them.
    MapView map(const Val &v, const char *expected, const Keys *allowed, bool null_ok) {
        MapView out{v, {}};
        if (v.node.IsNull() && null_ok) return out;
        if (!v.node.IsMap()) fail(v, std::string("expected ") + expected + ", found " + found(v));
        for (auto it = v.node.begin(); it != v.node.end(); ++it) {
            const YAML::Node key = it->first;  // a copy: it-> returns a temporary proxy
            if (!key.IsScalar()) {
                fail(key.Mark(), v.path,
                     std::string("expected a plain key, found ") + kind(key) + " as a key");
            }
            const std::string name = key.Scalar();
            const std::string path = child(v.path, name);
            for (const auto &e : out.entries) {
                if (e.key == name) {
                    fail(key.Mark(), path,
                         "duplicate key " + quote(name) + " (first at line " +
                             std::to_string(e.key_node.Mark().line + 1) + ")");
                }
            }
            if (allowed && std::find(allowed->begin(), allowed->end(), name) == allowed->end()) {
                std::vector<std::string> names;
                for (auto k : *allowed) names.emplace_back(k);
                if (auto best = closest(name, names)) {
                    fail(key.Mark(), path, "unknown key (did you mean " + quote(*best) + "?)");
                }
                fail(key.Mark(), path, "unknown key (allowed keys: " + join(*allowed) + ")");
            }
            out.entries.push_back(Entry{name, key, value_of(key, it->second, path)});
        }
        return out;
    }

    MapView map(const Val &v, const char *expected, Keys allowed, bool null_ok) {
        return map(v, expected, &allowed, null_ok);
    }

    const Entry &require(const MapView &m, const char *key) const {
        if (const Entry *e = m.find(key)) return *e;
        fail(m.self, std::string("missing required key \"") + key + "\"");
    }

    std::vector<Val> sequence(const Val &v, const char *expected, bool null_ok) {
        std::vector<Val> out;
        if (v.node.IsNull() && null_ok) return out;
        if (!v.node.IsSequence()) {
            fail(v, std::string("expected ") + expected + ", found " + found(v));
        }
        std::size_t i = 0;
        for (const auto &item : v.node) out.push_back(item_of(v, item, i++));
        return out;
    }

    // ---- scalars ----------------------------------------------------------------------------

    Text scalar(const Val &v, const char *expected) {
        if (!v.node.IsScalar())
            fail(v, std::string("expected ") + expected + ", found " + found(v));
        return substitute(v);
    }

    std::string string(const Val &v) {
        Text t = scalar(v, "a string");
        if (t.value.empty()) fail(v, "expected a non-empty string, found " + shown(t));
        return t.value;
    }

    double number(const Val &v, double min, bool min_inclusive, std::optional<double> max,
                  const std::string &expected) {
        Text t = scalar(v, expected.c_str());
        std::optional<double> n = parse_number(t.value);
        bool ok = n && (min_inclusive ? *n >= min : *n > min) && (!max || *n <= *max);
        if (!ok) fail(v, "expected " + expected + ", found " + shown(t));
        return *n;
    }

    double positive(const Val &v) { return number(v, 0.0, false, std::nullopt, "a number > 0"); }

    double fee(const Val &v) {
        return number(v, -0.01, true, 0.01,
                      "a number between -0.01 and 0.01 (a fraction of notional: 0.001 = 0.1%)");
    }

    int integer(const Val &v, int min) {
        const std::string expected = "an integer >= " + std::to_string(min);
        Text t = scalar(v, expected.c_str());
        std::optional<long long> n = parse_integer(t.value);
        if (!n || *n < min) fail(v, "expected " + expected + ", found " + shown(t));
        if (*n > std::numeric_limits<int>::max()) {
            fail(v, "expected " + expected + " and at most " +
                        std::to_string(std::numeric_limits<int>::max()) + ", found " + shown(t));
        }
        return static_cast<int>(*n);
    }

    bool boolean(const Val &v) {
        Text t = scalar(v, "true or false");
        std::optional<bool> b = parse_bool(t.value);
        if (!b) fail(v, "expected true or false, found " + shown(t));
        return *b;
    }

    std::string one_of(const Val &v, Keys allowed, const char *note = nullptr) {
        const std::string expected = "one of " + join(allowed);
        Text t = scalar(v, expected.c_str());
        if (std::find(allowed.begin(), allowed.end(), t.value) != allowed.end()) return t.value;
        std::string message = "expected " + expected + ", found " + shown(t);
        std::vector<std::string> names;
        for (auto k : allowed) names.emplace_back(k);
        if (!t.from_env) {
            if (auto best = closest(t.value, names))
                message += " (did you mean " + quote(*best) + "?)";
        }
        if (note) message += note;
        fail(v, message);
    }

    RawSetting setting(const Val &v) {
        Text t = scalar(v, "a scalar value (string, number or boolean)");
        RawSetting s;
        s.value = std::move(t.value);
        s.from_env = t.from_env;
        s.uses_env = t.uses_env;
        s.where = location(v.mark);
        s.key_path = v.path;
        return s;
    }

    // settings / params: a flat mapping of scalars; an empty value means none.
    std::map<std::string, RawSetting> settings(const Val &v) {
        MapView m = map(v, "a mapping of key: value", nullptr, true);
        std::map<std::string, RawSetting> out;
        for (const auto &e : m.entries) {
            if (!e.val.node.IsScalar()) {
                fail(e.val, std::string("expected a scalar value (string, number or boolean), "
                                        "found ") +
                                found(e.val) + "; settings are flat key: value pairs");
            }
            out.emplace(e.key, setting(e.val));
        }
        return out;
    }

    // ---- names defined in the file ----------------------------------------------------------

    // "unknown instrument "X" (did you mean "Y"?)" or the list of known names. Names that came
    // from the environment are neither suggested nor listed.
    std::string unknown(const char *what, const Text &t, const std::vector<Defined> &known) const {
        std::vector<std::string> names;
        for (const auto &d : known)
            if (!d.from_env) names.push_back(d.name);
        std::string message = std::string("unknown ") + what + " " + shown(t);
        if (!t.from_env) {
            if (auto best = closest(t.value, names)) {
                return message + " (did you mean " + quote(*best) + "?)";
            }
        }
        if (names.empty()) return message;
        return message + " (configured: " + join(names) + ")";
    }

    static const Defined *find(const std::vector<Defined> &list, const std::string &name) {
        for (const auto &d : list)
            if (d.name == name) return &d;
        return nullptr;
    }

    // An instrument id reference (strategy instruments, risk whitelist).
    std::string instrument_ref(const Val &v) {
        Text t = scalar(v, "an instrument id");
        if (find(instruments_, t.value)) return t.value;
        if (!t.from_env) {
            // A symbol given where the instrument has an id of its own.
            for (std::size_t i = 0; i < instruments_.size(); ++i) {
                const Defined &d = instruments_[i];
                if (symbols_[i] == t.value && !d.from_env) {
                    fail(v, "unknown instrument " + shown(t) + " (did you mean " + quote(d.name) +
                                "? instruments are named by id, and " + quote(d.name) +
                                " is the id of symbol " + t.value + ")");
                }
            }
        }
        fail(v, unknown("instrument", t, instruments_));
    }

    std::vector<std::string> instrument_refs(const Val &v, bool required) {
        std::vector<Val> items = sequence(
            v, required ? "a non-empty sequence of instrument ids" : "a sequence of instrument ids",
            !required);
        if (required && items.empty()) {
            fail(v, "expected a non-empty sequence of instrument ids, found " + found(v));
        }
        std::vector<std::string> out;
        for (const auto &item : items) {
            std::string id = instrument_ref(item);
            if (std::find(out.begin(), out.end(), id) != out.end()) {
                fail(item, "instrument " + shown(substitute(item)) + " is listed twice");
            }
            out.push_back(std::move(id));
        }
        return out;
    }

    // ---- sections ---------------------------------------------------------------------------

    // Live trading names its network on every venue, and real money needs a written yes.
    void live_rules(const Config &cfg, const MapView &m) const {
        for (const auto &[name, ref] : cfg.venues) {
            auto it = ref.settings.find("network");
            const std::string path = "venues." + name + ".settings.network";
            if (it == ref.settings.end())
                throw ConfigError(ref.where + ": " + path +
                                  ": a live config must name the network: testnet or mainnet");
            const RawSetting &net = it->second;
            if (net.value != "testnet" && net.value != "mainnet")
                throw ConfigError(net.where + ": " + path +
                                  ": expected testnet or mainnet, found \"" + net.value + "\"");
            if (net.value == "mainnet" && !cfg.confirm_mainnet) {
                const Entry *mode = m.find("mode");
                fail(mode->val,
                     "live on mainnet trades real money: add `confirm_mainnet: true` "
                     "to the config to say so (venue " +
                         name + ")");
            }
        }
    }

    Config build(const YAML::Node &root) {
        Val root_val{root, root.Mark(), ""};
        if (!root.IsMap()) {
            fail(root_val, "expected a mapping with keys " + join(kTopLevelKeys) + ", found " +
                               found(root_val));
        }
        MapView m = map(root_val, "a mapping", kTopLevelKeys, false);

        Config cfg;
        cfg.file = file_;
        if (const Entry *e = m.find("mode")) {
            std::string mode = one_of(e->val, {"paper", "shadow", "live"},
                                      " (a backtest is `keel backtest <config>`, in any mode)");
            cfg.mode = mode == "live" ? Mode::live : mode == "shadow" ? Mode::shadow : Mode::paper;
        }
        if (const Entry *e = m.find("confirm_mainnet")) cfg.confirm_mainnet = boolean(e->val);
        if (const Entry *e = m.find("earlier_orders"))
            cfg.earlier_orders = one_of(e->val, {"cancel", "keep"}) == "keep"
                                     ? EarlierOrders::keep
                                     : EarlierOrders::cancel;
        cfg.venues = plugins(require(m, "venues").val, "venue", true);
        if (cfg.mode == Mode::live) live_rules(cfg, m);
        if (const Entry *e = m.find("notifiers"))
            cfg.notifiers = plugins(e->val, "notifier", false);
        cfg.instruments = instruments(require(m, "instruments").val, cfg);
        if (const Entry *e = m.find("strategies")) cfg.strategies = strategies(e->val);
        if (const Entry *e = m.find("risk")) cfg.risk = risk(e->val);
        if (const Entry *e = m.find("account")) cfg.account = account(e->val);
        if (const Entry *e = m.find("market")) cfg.market = market(e->val);
        if (const Entry *e = m.find("logging")) cfg.logging = logging(e->val);
        return cfg;
    }

    std::map<std::string, PluginRef> plugins(const Val &v, const char *what, bool required) {
        const std::string expected =
            std::string("a mapping of ") + what + " name -> {plugin, settings}";
        MapView m = map(v, expected.c_str(), nullptr, !required);
        if (required && m.entries.empty()) {
            fail(v, "expected " + expected + " with at least one " + what + ", found " + found(v));
        }
        std::map<std::string, PluginRef> out;
        const bool venue = std::string_view(what) == "venue";
        for (const auto &e : m.entries) {
            MapView block = venue
                                ? map(e.val,
                                      "a mapping with keys plugin, settings, replay, record, "
                                      "ca_file",
                                      {"plugin", "settings", "replay", "record", "ca_file"}, false)
                                : map(e.val, "a mapping with keys plugin, settings",
                                      {"plugin", "settings"}, false);
            PluginRef ref;
            ref.plugin = string(require(block, "plugin").val);
            if (const Entry *s = block.find("settings")) ref.settings = settings(s->val);
            if (const Entry *r = block.find("replay")) ref.replay = input_file(r->val, "recording");
            if (const Entry *r = block.find("record")) ref.record = directory(r->val);
            if (const Entry *r = block.find("ca_file"))
                ref.ca_file = input_file(r->val, "certificate file");
            ref.where = location(e.val.mark);
            ref.key_path = e.val.path;
            out.emplace(e.key, std::move(ref));
        }
        return out;
    }

    std::vector<Instrument> instruments(const Val &v, const Config &cfg) {
        std::vector<Val> items = sequence(v, "a non-empty sequence of instruments", false);
        if (items.empty())
            fail(v, "expected a non-empty sequence of instruments, found " + found(v));
        std::vector<std::string> venue_names;
        for (const auto &[name, ref] : cfg.venues) venue_names.push_back(name);

        std::vector<Instrument> out;
        for (const auto &item : items) {
            MapView m = map(item, "a mapping with keys symbol, venue, id, kind, leverage, history",
                            {"symbol", "venue", "id", "kind", "leverage", "history"}, false);
            const Entry &symbol = require(m, "symbol");
            const Entry &venue = require(m, "venue");
            const Entry *id = m.find("id");

            Instrument inst;
            inst.symbol = string(symbol.val);
            const bool symbol_from_env = substitute(symbol.val).from_env;
            Text venue_text = scalar(venue.val, "a venue name");
            if (!cfg.venues.count(venue_text.value)) {
                std::string message = "unknown venue " + shown(venue_text);
                auto best =
                    venue_text.from_env ? std::nullopt : closest(venue_text.value, venue_names);
                if (best) {
                    message += " (did you mean " + quote(*best) + "?)";
                } else {
                    message += " (configured venues: " + join(venue_names) + ")";
                }
                fail(venue.val, message);
            }
            inst.venue = venue_text.value;

            const Val &id_val = id ? id->val : symbol.val;
            Text id_text = id ? scalar(id->val, "a string") : substitute(symbol.val);
            if (id_text.value.empty()) fail(id_val, "expected a non-empty string, found \"\"");
            inst.id = id_text.value;
            if (const Entry *k = m.find("kind"))
                inst.spot = one_of(k->val, {"linear", "spot"}) == "spot";
            if (const Entry *l = m.find("leverage")) {
                if (inst.spot) fail(l->val, "spot instruments have no leverage setting");
                inst.leverage = number(l->val, 1.0, true, 200.0, "a leverage from 1 to 200");
            }
            if (inst.spot) inst.leverage = 1;
            if (const Entry *h = m.find("history")) {
                MapView files = map(h->val, "a mapping of timeframe -> candle file", nullptr, true);
                for (const auto &f : files.entries) {
                    auto length = market::parse_timeframe(f.key);
                    if (!valid_timeframe(f.key) || !length)
                        fail(f.val, "expected a timeframe like 1m, 5m, 1h as the key, found " +
                                        quote(f.key));
                    if (inst.history.count(*length))
                        fail(f.val, "timeframe " + quote(f.key) + " is listed twice");
                    inst.history[*length] = input_file(f.val, "candle history");
                }
            }
            inst.where = location(item.mark);

            if (const Defined *first = find(instruments_, inst.id)) {
                std::string message = "duplicate instrument id " + shown(id_text) + " (first at " +
                                      first->where + ", " + first->path + ")";
                if (!id)
                    message += "; the id defaults to the symbol: set \"id\" to tell them apart";
                fail(id_val, message);
            }
            instruments_.push_back(
                Defined{inst.id, id_text.from_env, location(id_val.mark), id_val.path});
            symbols_.push_back(symbol_from_env ? std::nullopt
                                               : std::optional<std::string>(inst.symbol));
            out.push_back(std::move(inst));
        }
        return out;
    }

    std::vector<Strategy> strategies(const Val &v) {
        std::vector<Val> items = sequence(v, "a sequence of strategies", true);
        std::vector<Defined> names;
        std::vector<Strategy> out;
        for (const auto &item : items) {
            MapView m = map(item,
                            "a mapping with keys name, file, instruments, timeframes, "
                            "empty_candles, params, max_callback_ms, memory_mb, active, jit",
                            {"name", "file", "instruments", "timeframes", "empty_candles", "params",
                             "max_callback_ms", "memory_mb", "active", "jit"},
                            false);
            const Entry &name = require(m, "name");
            const Entry &file = require(m, "file");
            const Entry &insts = require(m, "instruments");

            Strategy s;
            s.where = location(item.mark);
            Text name_text = scalar(name.val, "a string");
            if (name_text.value.empty()) fail(name.val, "expected a non-empty string, found \"\"");
            if (const Defined *first = find(names, name_text.value)) {
                fail(name.val, "duplicate strategy name " + shown(name_text) + " (first at " +
                                   first->where + ", " + first->path + ")");
            }
            names.push_back(Defined{name_text.value, name_text.from_env, location(name.val.mark),
                                    name.val.path});
            strategy_names_.push_back(names.back());
            s.name = name_text.value;

            s.file = input_file(file.val, "strategy");
            s.instruments = instrument_refs(insts.val, true);

            if (const Entry *tfs = m.find("timeframes")) {
                for (const auto &tf : sequence(tfs->val, "a sequence of timeframes", true)) {
                    Text t = scalar(tf, "a timeframe");
                    if (!valid_timeframe(t.value)) {
                        fail(tf,
                             "expected a timeframe like 1s, 5s, 1m, 5m, 15m, 1h, 4h, 1d (a "
                             "positive number followed by s, m, h or d), found " +
                                 shown(t));
                    }
                    if (std::find(s.timeframes.begin(), s.timeframes.end(), t.value) !=
                        s.timeframes.end()) {
                        fail(tf, "timeframe " + shown(t) + " is listed twice");
                    }
                    auto length = market::parse_timeframe(t.value);
                    if (!length || !market::divides_day(*length)) {
                        fail(tf, "timeframe " + shown(t) +
                                     " must be from 1s to 1d and divide a day evenly (candles "
                                     "are aligned to 00:00 UTC), e.g. 1s, 5s, 1m, 5m, 15m, 1h, "
                                     "4h, 1d");
                    }
                    for (const auto &other : s.timeframes) {
                        if (market::parse_timeframe(other) == length) {
                            fail(tf, "timeframe " + shown(t) + " is the same length as \"" + other +
                                         "\", listed before");
                        }
                    }
                    s.timeframes.push_back(t.value);
                }
            }
            if (const Entry *e = m.find("empty_candles")) {
                s.empty_candles = one_of(e->val, {"flat", "skip"}) == "flat" ? EmptyCandles::flat
                                                                             : EmptyCandles::skip;
            }
            if (const Entry *p = m.find("params")) s.params = settings(p->val);
            if (const Entry *e = m.find("max_callback_ms"))
                s.max_callback_ms =
                    number(e->val, 0.0, false, 60'000.0, "a time in milliseconds, up to 60000");
            if (const Entry *e = m.find("active")) s.active = boolean(e->val);
            if (const Entry *e = m.find("jit")) s.jit = boolean(e->val);
            if (const Entry *e = m.find("memory_mb"))
                s.memory_mb = number(e->val, 1.0, true, 4096.0, "a size in MiB from 1 to 4096");
            out.push_back(std::move(s));
        }
        return out;
    }

    // A path resolved against the config file's directory.
    fs::path path(const Val &v, Text &t) {
        t = scalar(v, "a file path");
        if (t.value.empty()) fail(v, "expected a file path, found \"\"");
        fs::path p(t.value);
        if (p.is_relative()) p = file_.parent_path() / p;
        return p.lexically_normal();
    }

    // A file that must exist now: a strategy, a recording, a candle history.
    fs::path input_file(const Val &v, const char *what) {
        Text t;
        fs::path p = path(v, t);
        std::error_code ec;
        fs::file_status st = fs::status(p, ec);
        const std::string shown_path = t.from_env ? shown(t) : quote(p.string());
        if (!fs::exists(st)) {
            std::string message = std::string(what) + " file " + shown_path + " does not exist";
            if (fs::path(t.value).is_relative()) {
                message += " (relative paths are resolved against the config file's directory)";
            }
            fail(v, message);
        }
        if (!fs::is_regular_file(st))
            fail(v, std::string(what) + " file " + shown_path + " is not a file");
        return p;
    }

    // A directory to write into; created when the session starts if it does not exist.
    fs::path directory(const Val &v) {
        Text t;
        fs::path p = path(v, t);
        std::error_code ec;
        if (fs::exists(p, ec) && !fs::is_directory(p, ec))
            fail(v, "expected a directory, found the file " +
                        (t.from_env ? shown(t) : quote(p.string())));
        return p;
    }

    MarketData market(const Val &v) {
        MapView m =
            map(v, "a mapping", {"stale_after_s", "max_jump_pct", "outlier_confirmations"}, true);
        MarketData d;
        for (const auto &e : m.entries) {
            if (e.key == "stale_after_s")
                d.stale_after_s = positive(e.val);
            else if (e.key == "max_jump_pct")
                d.max_jump_pct = positive(e.val);
            else if (e.key == "outlier_confirmations")
                d.outlier_confirmations = integer(e.val, 1);
        }
        return d;
    }

    // A limit: a number >= 0, or "off" to disable it.
    double limit(const Val &v) {
        Text t = scalar(v, "a number >= 0 or off");
        if (t.value == "off") return OrderLimits::kOff;
        return number(v, 0.0, true, std::nullopt, "a number >= 0 or off");
    }

    double percent(const Val &v) {
        Text t = scalar(v, "a percentage from 0 to 100 or off");
        if (t.value == "off") return OrderLimits::kOff;
        return number(v, 0.0, true, 100.0, "a percentage from 0 to 100 or off");
    }

    int count_limit(const Val &v) {
        const char *expected = "an integer >= 1 or off";
        Text t = scalar(v, expected);
        if (t.value == "off") return 0;
        std::optional<long long> n = parse_integer(t.value);
        if (!n || *n < 1 || *n > std::numeric_limits<int>::max())
            fail(v, std::string("expected ") + expected + ", found " + shown(t));
        return static_cast<int>(*n);
    }

    RiskAction action(const Val &v) {
        std::string a = one_of(v, {"alert", "reduce", "halt", "flatten"});
        return a == "alert"    ? RiskAction::alert
               : a == "reduce" ? RiskAction::reduce
               : a == "halt"   ? RiskAction::halt
                               : RiskAction::flatten;
    }

    static const std::vector<std::string> &order_limit_keys() {
        static const std::vector<std::string> keys = {"max_order_notional",
                                                      "max_order_qty",
                                                      "max_position_notional",
                                                      "max_position_pct",
                                                      "max_instrument_exposure_pct",
                                                      "risk_per_trade_pct",
                                                      "max_leverage",
                                                      "max_leverage_by_timeframe",
                                                      "price_band_pct",
                                                      "require_stop",
                                                      "no_duplicate_entry"};
        return keys;
    }

    [[noreturn]] void unknown_key(const Entry &e, const std::string &where,
                                  const std::vector<std::string> &names) {
        (void)where;
        if (auto best = closest(e.key, names))
            fail(e.key_node.Mark(), e.val.path, "unknown key (did you mean " + quote(*best) + "?)");
        fail(e.key_node.Mark(), e.val.path, "unknown key (docs/risk.md lists every risk setting)");
    }

    // Sets `o` from an order-limit key; false if `e` is not one.
    bool order_limit(const Entry &e, OrderLimits &o) {
        if (e.key == "max_order_notional") {
            o.max_order_notional = limit(e.val);
        } else if (e.key == "max_order_qty") {
            o.max_order_qty = limit(e.val);
        } else if (e.key == "max_position_notional") {
            o.max_position_notional = limit(e.val);
        } else if (e.key == "max_position_pct") {
            o.max_position_pct = limit(e.val);
        } else if (e.key == "max_instrument_exposure_pct") {
            o.max_instrument_exposure_pct = limit(e.val);
        } else if (e.key == "risk_per_trade_pct") {
            o.risk_per_trade_pct = percent(e.val);
        } else if (e.key == "max_leverage") {
            o.max_leverage = limit(e.val);
        } else if (e.key == "max_leverage_by_timeframe") {
            MapView m = map(e.val, "a mapping of timeframe -> leverage cap", nullptr, false);
            for (const auto &tf : m.entries) {
                auto length = market::parse_timeframe(tf.key);
                if (!length)
                    fail(tf.key_node.Mark(), tf.val.path,
                         "expected a timeframe key like 1m, 5m, 15m, found \"" + tf.key + "\"");
                o.max_leverage_by_timeframe[*length] = limit(tf.val);
            }
        } else if (e.key == "price_band_pct") {
            o.price_band_pct = limit(e.val);
        } else if (e.key == "require_stop") {
            o.require_stop = boolean(e.val);
        } else if (e.key == "no_duplicate_entry") {
            o.no_duplicate_entry = boolean(e.val);
        } else {
            return false;
        }
        return true;
    }

    // risk.instruments.<id> / risk.strategies.<name>: extra limits, off unless set.
    std::map<std::string, OrderLimits> limit_overrides(const Val &v, const char *what,
                                                       const std::vector<Defined> &known) {
        MapView m = map(v, "a mapping of name -> limits", nullptr, true);
        std::map<std::string, OrderLimits> out;
        for (const auto &e : m.entries) {
            if (!find(known, e.key)) fail(e.val, unknown(what, Text{e.key, e.key}, known));
            MapView limits = map(e.val, "a mapping of order limits", nullptr, false);
            OrderLimits o;
            for (const auto &le : limits.entries)
                if (!order_limit(le, o)) unknown_key(le, e.val.path, order_limit_keys());
            out.emplace(e.key, std::move(o));
        }
        return out;
    }

    std::vector<DrawdownLevel> drawdown_levels(const Val &v) {
        std::vector<Val> items = sequence(v, "a sequence of drawdown levels", false);
        std::vector<DrawdownLevel> out;
        for (const auto &item : items) {
            MapView m = map(item, "a mapping with keys name, at_pct, size, action",
                            {"name", "at_pct", "size", "action"}, false);
            DrawdownLevel level;
            level.name = string(require(m, "name").val);
            level.at_pct = number(require(m, "at_pct").val, 0.0, false, 100.0,
                                  "a percentage above 0 and at most 100");
            if (!out.empty() && level.at_pct <= out.back().at_pct)
                fail(require(m, "at_pct").val,
                     "drawdown levels must be listed from the smallest drawdown up");
            if (const Entry *e = m.find("size"))
                level.size = number(e->val, 0.0, true, 1.0, "a size multiplier from 0 to 1");
            if (const Entry *e = m.find("action")) level.action = action(e->val);
            out.push_back(std::move(level));
        }
        return out;
    }

    RiskLimits risk(const Val &v, bool in_preset = false) {
        MapView m = map(v, "a mapping", nullptr, true);
        RiskLimits r;
        if (const Entry *p = m.find("preset")) {
            if (in_preset) fail(p->val, "a preset cannot name another preset");
            r = preset(p->val);
        }
        for (const auto &e : m.entries) {
            if (e.key == "preset") continue;
            if (order_limit(e, r.order)) continue;
            if (e.key == "instruments") {
                r.instruments = limit_overrides(e.val, "instrument", instruments_);
            } else if (e.key == "strategies") {
                r.strategies = limit_overrides(e.val, "strategy", strategy_names_);
            } else if (e.key == "max_open_positions") {
                r.max_open_positions = count_limit(e.val);
            } else if (e.key == "max_open_orders") {
                r.max_open_orders = count_limit(e.val);
            } else if (e.key == "max_orders_per_day") {
                r.max_orders_per_day = count_limit(e.val);
            } else if (e.key == "max_orders_per_second") {
                r.max_orders_per_second = count_limit(e.val);
            } else if (e.key == "daily_loss_pct") {
                r.daily_loss_pct = percent(e.val);
            } else if (e.key == "daily_loss") {
                r.daily_loss = limit(e.val);
            } else if (e.key == "max_drawdown_pct") {
                r.max_drawdown_pct = percent(e.val);
            } else if (e.key == "max_drawdown") {
                r.max_drawdown = limit(e.val);
            } else if (e.key == "on_daily_loss") {
                r.on_daily_loss = action(e.val);
            } else if (e.key == "on_max_drawdown") {
                r.on_max_drawdown = action(e.val);
            } else if (e.key == "day_start") {
                r.day_start_ns = time_of_day(e.val);
            } else if (e.key == "capital_stage") {
                std::string stage = one_of(e.val, {"micro", "small", "full"});
                r.capital_stage = stage == "micro"   ? CapitalStage::micro
                                  : stage == "small" ? CapitalStage::small
                                                     : CapitalStage::full;
            } else if (e.key == "drawdown_levels") {
                r.drawdown_levels = drawdown_levels(e.val);
            } else if (e.key == "drawdown_hysteresis_pct") {
                r.drawdown_hysteresis_pct = number(e.val, 0.0, true, 100.0, "a percentage");
            } else if (e.key == "whitelist") {
                r.whitelist = instrument_refs(e.val, false);
            } else if (e.key == "halted") {
                r.halted = boolean(e.val);
            } else {
                std::vector<std::string> names = {"preset",
                                                  "instruments",
                                                  "strategies",
                                                  "max_open_positions",
                                                  "max_open_orders",
                                                  "max_orders_per_day",
                                                  "max_orders_per_second",
                                                  "daily_loss_pct",
                                                  "daily_loss",
                                                  "max_drawdown_pct",
                                                  "max_drawdown",
                                                  "on_daily_loss",
                                                  "on_max_drawdown",
                                                  "day_start",
                                                  "capital_stage",
                                                  "drawdown_levels",
                                                  "drawdown_hysteresis_pct",
                                                  "whitelist",
                                                  "halted"};
                names.insert(names.end(), order_limit_keys().begin(), order_limit_keys().end());
                unknown_key(e, "risk", names);
            }
        }
        return r;
    }

    // risk.preset: a file of risk settings (configs/risk/*.yaml); keys next to it override it.
    // Its errors name its own file and lines.
    RiskLimits preset(const Val &v) {
        Text t = scalar(v, "a preset file path");
        fs::path path(t.value);
        if (path.is_relative()) path = file_.parent_path() / path;
        path = path.lexically_normal();
        std::ifstream in(path, std::ios::binary);
        if (!in)
            fail(v, "cannot read risk preset " + quote(path.string()) +
                        " (relative paths are resolved against the config file's directory)");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        Loader sub(path, env_);
        sub.instruments_ = instruments_;
        sub.symbols_ = symbols_;
        sub.strategy_names_ = strategy_names_;
        std::vector<YAML::Node> docs;
        try {
            docs = YAML::LoadAll(text);
        } catch (const YAML::Exception &e) {
            throw ConfigError(sub.location(e.mark) + ": YAML syntax error: " + e.msg);
        }
        if (docs.size() != 1 || !docs[0].IsMap())
            throw ConfigError(sub.display_ + ": expected one mapping of risk settings");
        return sub.risk(Val{docs[0], docs[0].Mark(), "risk"}, true);
    }

    // "HH:MM" in UTC -> offset into the day.
    int64_t time_of_day(const Val &v) {
        Text t = scalar(v, "a UTC time of day HH:MM");
        int h = -1, mi = -1;
        char extra = 0;
        if (std::sscanf(t.value.c_str(), "%2d:%2d%c", &h, &mi, &extra) != 2 || h < 0 || h > 23 ||
            mi < 0 || mi > 59 || t.value.size() != 5)
            fail(v, "expected a UTC time of day HH:MM such as \"00:00\", found " + shown(t));
        return (static_cast<int64_t>(h) * 60 + mi) * 60 * 1'000'000'000LL;
    }

    // ---- the fill simulator's latency ------------------------------------------------------

    static constexpr double kMaxLatencyMs = 60'000;

    double latency_ms(const Val &v) {
        return number(v, 0.0, true, kMaxLatencyMs, "a number of milliseconds from 0 to 60000");
    }

    // `order_latency: {dist: lognormal, median_ms: 20, p99_ms: 120}` and its kin; a constant is
    // written `order_latency_ms: 25` (`constant_key`).
    Latency latency(const Val &v, const std::string &constant_key) {
        const std::string expected =
            "a mapping such as {dist: lognormal, median_ms: 20, p99_ms: "
            "120} (a constant latency is written " +
            constant_key + ": <ms>)";
        if (!v.node.IsMap()) fail(v, "expected " + expected + ", found " + found(v));
        MapView m = map(v, expected.c_str(),
                        {"dist", "median_ms", "p99_ms", "min_ms", "max_ms", "samples_ms"}, false);
        const Entry &d = require(m, "dist");
        const std::string dist = one_of(d.val, {"lognormal", "uniform", "empirical"});
        const std::vector<std::string> keys =
            dist == "lognormal" ? std::vector<std::string>{"median_ms", "p99_ms"}
            : dist == "uniform" ? std::vector<std::string>{"min_ms", "max_ms"}
                                : std::vector<std::string>{"samples_ms"};
        for (const auto &e : m.entries) {
            if (e.key == "dist" || std::find(keys.begin(), keys.end(), e.key) != keys.end())
                continue;
            fail(e.key_node.Mark(), e.val.path,
                 "not a key of dist " + dist + " (its keys: " + join(keys) + ")");
        }
        for (const auto &k : keys) require(m, k.c_str());
        Latency l;
        if (dist == "lognormal") {
            l.dist = Latency::Dist::lognormal;
            const Entry &median = *m.find("median_ms"), &p99 = *m.find("p99_ms");
            l.median_ms = number(median.val, 0.0, false, kMaxLatencyMs,
                                 "a number of milliseconds > 0 and at most 60000");
            l.p99_ms = latency_ms(p99.val);
            if (l.p99_ms <= l.median_ms)
                fail(p99.val, "expected a number of milliseconds greater than median_ms (" +
                                  median.val.node.Scalar() + "), found " + found(p99.val));
        } else if (dist == "uniform") {
            l.dist = Latency::Dist::uniform;
            const Entry &lo = *m.find("min_ms"), &hi = *m.find("max_ms");
            l.min_ms = latency_ms(lo.val);
            l.max_ms = latency_ms(hi.val);
            if (l.max_ms < l.min_ms)
                fail(hi.val, "expected a number of milliseconds at least min_ms (" +
                                 lo.val.node.Scalar() + "), found " + found(hi.val));
        } else {
            l.dist = Latency::Dist::empirical;
            const Entry &samples = *m.find("samples_ms");
            auto items =
                sequence(samples.val,
                         "a sequence of latencies in milliseconds, such as [12, 15, 40]", false);
            if (items.empty())
                fail(samples.val,
                     "expected at least one latency in milliseconds, found an empty "
                     "sequence");
            for (const auto &item : items) l.samples_ms.push_back(latency_ms(item));
        }
        return l;
    }

    Account account(const Val &v) {
        MapView m = map(v, "a mapping",
                        {"starting_balance", "maker_fee", "taker_fee", "funding_rate",
                         "funding_interval_h", "order_latency_ms", "order_latency",
                         "cancel_latency_ms", "cancel_latency", "latency_seed"},
                        true);
        Account a;
        // Each latency is a constant or a distribution, never both.
        for (const char *what : {"order_latency", "cancel_latency"}) {
            const std::string constant = std::string(what) + "_ms";
            const Entry *c = m.find(constant), *d = m.find(what);
            if (!c || !d) continue;
            auto at = [](const Entry *e) {
                return std::pair(e->key_node.Mark().line, e->key_node.Mark().column);
            };
            const Entry &second = at(c) > at(d) ? *c : *d;
            const Entry &first = &second == c ? *d : *c;
            fail(second.key_node.Mark(), second.val.path,
                 "give either " + constant + " (a constant) or " + what +
                     " (a distribution), not both (" + first.key + " is at line " +
                     std::to_string(first.key_node.Mark().line + 1) + ")");
        }
        for (const auto &e : m.entries) {
            if (e.key == "order_latency_ms") {
                a.order_latency.ms = latency_ms(e.val);
            } else if (e.key == "cancel_latency_ms") {
                a.cancel_latency.ms = latency_ms(e.val);
            } else if (e.key == "order_latency") {
                a.order_latency = latency(e.val, "order_latency_ms");
            } else if (e.key == "cancel_latency") {
                a.cancel_latency = latency(e.val, "cancel_latency_ms");
            } else if (e.key == "latency_seed") {
                a.latency_seed = static_cast<uint64_t>(integer(e.val, 0));
            } else if (e.key == "starting_balance") {
                a.starting_balance = positive(e.val);
            } else if (e.key == "maker_fee") {
                a.maker_fee = fee(e.val);
            } else if (e.key == "taker_fee") {
                a.taker_fee = fee(e.val);
            } else if (e.key == "funding_rate") {
                a.funding_rate = fee(e.val);
            } else if (e.key == "funding_interval_h") {
                a.funding_interval_h = integer(e.val, 0);
                if (a.funding_interval_h != 0 && 24 % a.funding_interval_h != 0)
                    fail(e.val,
                         "expected 0 (no funding) or hours that divide a day (1, 2, 3, 4, 6, 8, "
                         "12, 24), found " +
                             std::to_string(a.funding_interval_h));
            }
        }
        return a;
    }

    Logging logging(const Val &v) {
        const Keys levels = {"trace", "debug", "info", "warn", "error", "off"};
        MapView m = map(v, "a mapping", {"level", "format", "components"}, true);
        Logging l;
        for (const auto &e : m.entries) {
            if (e.key == "level") {
                l.level = one_of(e.val, levels);
            } else if (e.key == "format") {
                l.format = one_of(e.val, {"text", "json"});
            } else if (e.key == "components") {
                MapView c = map(e.val, "a mapping of component -> level", nullptr, true);
                for (const auto &ce : c.entries) l.components[ce.key] = one_of(ce.val, levels);
            }
        }
        return l;
    }

    fs::path file_;
    std::string display_;
    EnvLookup env_;
    std::vector<Defined> instruments_;
    std::vector<Defined> strategy_names_;
    // symbol of instruments_[i], unless it came from the environment
    std::vector<std::optional<std::string>> symbols_;
};

}  // namespace

Config load_string(const std::string &yaml, const fs::path &file_name, EnvLookup env) {
    return Loader(file_name, std::move(env)).load(yaml);
}

Config load_file(const fs::path &file, EnvLookup env) {
    std::FILE *f = std::fopen(file.c_str(), "rb");
    if (!f) {
        throw ConfigError(file.string() + ": cannot read config file: " + std::strerror(errno));
    }
    std::string text;
    char buf[8192];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    int read_error = std::ferror(f) ? errno : 0;
    std::fclose(f);
    if (read_error) {
        throw ConfigError(file.string() +
                          ": cannot read config file: " + std::strerror(read_error));
    }
    return load_string(text, file, std::move(env));
}

std::optional<std::string> closest(const std::string &word,
                                   const std::vector<std::string> &candidates) {
    auto lower = [](std::string s) {
        for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    // Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a
    // substring), case-insensitive so "BTCusdt" finds "BTCUSDT".
    auto distance = [](const std::string &a, const std::string &b) {
        const std::size_t n = a.size(), m = b.size();
        std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
        for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
        for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
        for (std::size_t i = 1; i <= n; ++i) {
            for (std::size_t j = 1; j <= m; ++j) {
                std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                    d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[n][m];
    };

    const std::string w = lower(word);
    const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
    std::optional<std::string> best;
    std::size_t best_distance = 0;
    for (const auto &candidate : candidates) {
        const std::size_t dist = distance(w, lower(candidate));
        // A candidate that shares nothing with the word (every character replaced) is no hint.
        if (dist > limit || dist >= std::max(word.size(), candidate.size())) continue;
        if (!best || dist < best_distance) {
            best = candidate;
            best_distance = dist;
        }
    }
    return best;
}

const char *to_string(Mode m) {
    switch (m) {
        case Mode::shadow:
            return "shadow";
        case Mode::live:
            return "live";
        case Mode::paper:
            break;
    }
    return "paper";
}

}  // namespace keel::config
