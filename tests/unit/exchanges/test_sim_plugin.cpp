// The sim exchange plugin seen exactly as the host sees it: dlopen, keel_plugin_query, the C
// descriptor, and a fake host function table that records and checks every event.

#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <keel/plugin.h>

namespace {

const char *const k_sim_path = KEEL_PLUGIN_DIR "/keel-exchange-sim.so";
constexpr int64_t k_start_ns = 1'700'000'000'000'000'000;

// The library stays loaded for the whole test run.
const keel_plugin_info &sim_info() {
    static const keel_plugin_info *info = [] {
        void *handle = dlopen(k_sim_path, RTLD_NOW | RTLD_LOCAL);
        if (!handle) FAIL("cannot load " << k_sim_path << ": " << dlerror());
        auto query =
            reinterpret_cast<keel_plugin_query_fn>(dlsym(handle, KEEL_PLUGIN_QUERY_SYMBOL));
        if (!query) FAIL(k_sim_path << " does not export " KEEL_PLUGIN_QUERY_SYMBOL);
        return query();
    }();
    REQUIRE(info != nullptr);
    return *info;
}

const keel_exchange_plugin &sim() {
    return *static_cast<const keel_exchange_plugin *>(sim_info().descriptor);
}

// A host that records what the plugin does. ctx is the host object itself.
struct fake_host {
    keel_host_api api{};
    int64_t now = k_start_ns;
    keel_timer_fn timer = nullptr;
    void *timer_user = nullptr;
    int64_t period_ns = 0;
    int timers = 0;
    std::vector<std::string> logs;
    std::map<keel_instrument_id, keel_instrument_def> defs;  // strings inside are not kept
    std::map<keel_instrument_id, std::string> symbols;
    uint64_t hash = 0xCBF29CE484222325ull;
    uint64_t book_events = 0;
    uint64_t trade_events = 0;
    std::function<void(const keel_book_event &)> on_book;
    std::function<void(const keel_trade_event &)> on_trade;

    fake_host() {
        api = keel_host_api{
            .struct_size = sizeof(keel_host_api),
            .abi_minor = KEEL_ABI_MINOR,
            .log = &log,
            .now_ns = &now_ns,
            .add_timer = &add_timer,
            .define_instrument = &define_instrument,
            .emit_book = &emit_book,
            .emit_trade = &emit_trade,
            .reject_frame = nullptr,
            .end_of_data = nullptr,
        };
    }

    void mix(const void *data, size_t size) {
        const auto *bytes = static_cast<const unsigned char *>(data);
        for (size_t i = 0; i < size; ++i) {
            hash ^= bytes[i];
            hash *= 0x100000001B3ull;
        }
    }

    // Advances the host clock by one timer period and fires the timer.
    void tick() {
        if (!timer) FAIL("the plugin registered no timer");
        now += period_ns;
        timer(timer_user, now);
    }

    static fake_host &self(void *ctx) { return *static_cast<fake_host *>(ctx); }
    static void log(void *ctx, uint32_t, const char *msg) { self(ctx).logs.emplace_back(msg); }
    static int64_t now_ns(void *ctx) { return self(ctx).now; }
    static uint32_t add_timer(void *ctx, int64_t period, keel_timer_fn fn, void *user) {
        auto &h = self(ctx);
        if (period <= 0) return KEEL_ERROR;
        h.timer = fn;
        h.timer_user = user;
        h.period_ns = period;
        ++h.timers;
        return KEEL_OK;
    }
    static void define_instrument(void *ctx, const keel_instrument_def *def) {
        auto &h = self(ctx);
        h.symbols[def->id] = def->symbol;
        h.defs[def->id] = *def;
        h.mix(&def->id, sizeof def->id);
        h.mix(def->symbol, std::strlen(def->symbol));
    }
    static void emit_book(void *ctx, const keel_book_event *e) {
        auto &h = self(ctx);
        ++h.book_events;
        h.mix(&e->instrument, sizeof e->instrument);
        h.mix(&e->is_snapshot, sizeof e->is_snapshot);
        h.mix(&e->exchange_ts_ns, sizeof e->exchange_ts_ns);
        h.mix(&e->sequence, sizeof e->sequence);
        h.mix(e->bids, e->bid_count * sizeof(keel_level));
        h.mix(e->asks, e->ask_count * sizeof(keel_level));
        if (h.on_book) h.on_book(*e);
    }
    static void emit_trade(void *ctx, const keel_trade_event *e) {
        auto &h = self(ctx);
        ++h.trade_events;
        h.mix(&e->instrument, sizeof e->instrument);
        h.mix(&e->exchange_ts_ns, sizeof e->exchange_ts_ns);
        h.mix(&e->price_ticks, sizeof e->price_ticks);
        h.mix(&e->qty_lots, sizeof e->qty_lots);
        h.mix(&e->aggressor, sizeof e->aggressor);
        h.mix(&e->trade_id, sizeof e->trade_id);
        if (h.on_trade) h.on_trade(*e);
    }
};

keel_setting int_setting(const char *name, int64_t v) {
    return {.struct_size = sizeof(keel_setting),
            .name = name,
            .type = KEEL_CFG_INT,
            .string = "",
            .integer = v,
            .number = static_cast<double>(v)};
}

keel_setting double_setting(const char *name, double v) {
    return {.struct_size = sizeof(keel_setting),
            .name = name,
            .type = KEEL_CFG_DOUBLE,
            .string = "",
            .integer = 0,
            .number = v};
}

// Settings as the host hands them: every declared key, defaults unless overridden.
std::vector<keel_setting> settings(int64_t seed = 42, int64_t tick_ms = 50, int64_t depth = 50,
                                   double volatility = 1.0) {
    return {int_setting("seed", seed), int_setting("tick_ms", tick_ms), int_setting("depth", depth),
            double_setting("volatility", volatility)};
}

// An instance of the plugin, destroyed at scope exit.
struct instance {
    void *self = nullptr;
    uint32_t status = KEEL_ERROR;
    char err[256] = "";

    instance(fake_host &host, const std::vector<keel_setting> &s) {
        status = sim().create(&host.api, &host, s.data(), static_cast<uint32_t>(s.size()), &self,
                              err, sizeof err);
    }
    ~instance() {
        if (self) sim().destroy(self);
    }
    instance(const instance &) = delete;
    instance &operator=(const instance &) = delete;

    uint32_t subscribe(const char *symbol, keel_instrument_id id) {
        return sim().subscribe(self, symbol, id, err, sizeof err);
    }
    uint32_t start() { return sim().start(self, err, sizeof err); }
};

// Rebuilds every instrument's book from the events and checks each state the plugin hands out.
struct book_checker {
    struct book {
        std::map<int64_t, int64_t, std::greater<>> bids;
        std::map<int64_t, int64_t> asks;
        uint64_t sequence = 0;
        uint64_t last_trade_id = 0;
        uint64_t states = 0;
        uint64_t above_3 = 0;    // states with top-5 bid/ask quantity ratio > 3
        uint64_t below_033 = 0;  // ... < 0.33
        uint64_t trades = 0;
        double first_mid = 0.0;
        double min_mid = 1e300;
        double max_mid = 0.0;
    };

    fake_host &host;
    uint32_t depth;
    std::map<keel_instrument_id, book> books;
    std::vector<std::string> problems;

    book_checker(fake_host &h, uint32_t d) : host(h), depth(d) {
        host.on_book = [this](const keel_book_event &e) { apply(e); };
        host.on_trade = [this](const keel_trade_event &e) { trade(e); };
    }
    ~book_checker() {
        host.on_book = nullptr;
        host.on_trade = nullptr;
    }

    void problem(const std::string &what) {
        if (problems.size() < 20) problems.push_back(what);
    }

    template <typename Side>
    void apply_side(Side &side, const keel_level *levels, uint32_t count, bool snapshot,
                    const char *name) {
        for (uint32_t i = 0; i < count; ++i) {
            const keel_level &l = levels[i];
            if (l.price_ticks <= 0) problem(std::string(name) + " price <= 0");
            if (l.qty_lots < 0) problem(std::string(name) + " negative quantity");
            if (l.qty_lots == 0) {
                if (snapshot) problem(std::string(name) + " zero quantity in a snapshot");
                if (side.erase(l.price_ticks) == 0)
                    problem(std::string(name) + " delete of a level that is not in the book");
            } else {
                side[l.price_ticks] = l.qty_lots;
            }
        }
    }

    void apply(const keel_book_event &e) {
        if (!host.defs.count(e.instrument)) problem("book event before define_instrument");
        book &b = books[e.instrument];
        if (e.struct_size < sizeof(keel_book_event)) problem("book event struct_size");
        if (e.sequence != b.sequence + 1) problem("book sequence does not grow by one");
        if (b.sequence == 0 && !e.is_snapshot) problem("first book event is not a snapshot");
        b.sequence = e.sequence;
        if (e.exchange_ts_ns != host.now) problem("book exchange_ts_ns is not the host's now");
        if (e.is_snapshot) {
            b.bids.clear();
            b.asks.clear();
        }
        apply_side(b.bids, e.bids, e.bid_count, e.is_snapshot != 0, "bid");
        apply_side(b.asks, e.asks, e.ask_count, e.is_snapshot != 0, "ask");

        if (b.bids.size() != depth || b.asks.size() != depth) {
            problem("book holds " + std::to_string(b.bids.size()) + "/" +
                    std::to_string(b.asks.size()) + " levels, expected " + std::to_string(depth));
            if (b.bids.empty() || b.asks.empty()) return;
        }
        const int64_t best_bid = b.bids.begin()->first;
        const int64_t best_ask = b.asks.begin()->first;
        if (best_bid >= best_ask)
            problem("crossed or locked book: " + std::to_string(best_bid) +
                    " >= " + std::to_string(best_ask));
        const double mid = static_cast<double>(best_bid + best_ask) / 2.0;
        if (b.first_mid == 0.0) b.first_mid = mid;
        b.min_mid = std::min(b.min_mid, mid);
        b.max_mid = std::max(b.max_mid, mid);

        double bid5 = 0.0;
        double ask5 = 0.0;
        int n = 0;
        for (auto it = b.bids.begin(); it != b.bids.end() && n < 5; ++it, ++n)
            bid5 += static_cast<double>(it->second);
        n = 0;
        for (auto it = b.asks.begin(); it != b.asks.end() && n < 5; ++it, ++n)
            ask5 += static_cast<double>(it->second);
        const double ratio = bid5 / ask5;
        ++b.states;
        if (ratio > 3.0) ++b.above_3;
        if (ratio < 0.33) ++b.below_033;
    }

    void trade(const keel_trade_event &e) {
        book &b = books[e.instrument];
        ++b.trades;
        if (e.price_ticks <= 0 || e.qty_lots <= 0) problem("trade with price or quantity <= 0");
        if (e.aggressor != KEEL_SIDE_BUY && e.aggressor != KEEL_SIDE_SELL)
            problem("trade aggressor");
        if (e.trade_id != b.last_trade_id + 1) problem("trade ids do not grow by one");
        b.last_trade_id = e.trade_id;
        if (e.exchange_ts_ns != host.now) problem("trade exchange_ts_ns is not the host's now");
        if (b.sequence == 0) problem("trade before the snapshot");
    }
};

// Runs a fresh instance for `steps` timer ticks and returns the hash of everything it emitted.
uint64_t run_hash(int64_t seed, int steps, int64_t tick_ms = 50) {
    fake_host host;
    instance sim_instance(host, settings(seed, tick_ms));
    REQUIRE(sim_instance.status == KEEL_OK);
    REQUIRE(sim_instance.subscribe("BTCUSDT", 1) == KEEL_OK);
    REQUIRE(sim_instance.subscribe("SOLUSDT", 2) == KEEL_OK);
    REQUIRE(sim_instance.start() == KEEL_OK);
    for (int i = 0; i < steps; ++i) host.tick();
    return host.hash;
}

}  // namespace

TEST_CASE("sim plugin: the info block is a valid ABI 1 exchange block", "[sim]") {
    const keel_plugin_info &info = sim_info();
    CHECK(info.struct_size >= sizeof(keel_plugin_info));
    CHECK(info.magic == KEEL_PLUGIN_MAGIC);
    CHECK(info.abi_major == KEEL_ABI_MAJOR);
    CHECK(info.pointer_size == sizeof(void *));
    CHECK(info.kind == KEEL_PLUGIN_EXCHANGE);
    CHECK(std::string(info.name) == "sim");
    REQUIRE(info.version != nullptr);
    REQUIRE(info.description != nullptr);
    REQUIRE(info.descriptor != nullptr);

    const keel_exchange_plugin &d = sim();
    CHECK(d.struct_size >= sizeof(keel_exchange_plugin));
    const uint64_t caps = KEEL_CAP_L2_BOOK | KEEL_CAP_TRADES | KEEL_CAP_SYNTHETIC;
    CHECK((d.capabilities & caps) == caps);
    CHECK(d.create != nullptr);
    CHECK(d.destroy != nullptr);
    CHECK(d.subscribe != nullptr);
    CHECK(d.start != nullptr);

    std::map<std::string, keel_config_key> keys;
    for (uint32_t i = 0; i < d.config_key_count; ++i)
        keys[d.config_keys[i].name] = d.config_keys[i];
    REQUIRE(keys.size() == 4);
    CHECK(keys["seed"].type == KEEL_CFG_INT);
    CHECK(std::string(keys["seed"].default_value) == "42");
    CHECK(keys["tick_ms"].type == KEEL_CFG_INT);
    CHECK(std::string(keys["tick_ms"].default_value) == "50");
    CHECK(keys["depth"].type == KEEL_CFG_INT);
    CHECK(std::string(keys["depth"].default_value) == "50");
    CHECK(keys["volatility"].type == KEEL_CFG_DOUBLE);
    for (auto &[name, key] : keys) {
        CHECK(key.struct_size == sizeof(keel_config_key));
        CHECK(key.description != nullptr);
    }
}

TEST_CASE("sim plugin: subscribe defines the instrument before returning", "[sim]") {
    fake_host host;
    instance sim_instance(host, settings());
    REQUIRE(sim_instance.status == KEEL_OK);
    REQUIRE(sim_instance.subscribe("BTCUSDT", 7) == KEEL_OK);
    REQUIRE(host.defs.count(7) == 1);
    const keel_instrument_def &def = host.defs[7];
    CHECK(host.symbols[7] == "BTCUSDT");
    CHECK(def.tick_size == Approx(0.1));
    CHECK(def.lot_size == Approx(0.001));
    CHECK(def.min_notional == Approx(5.0));
    CHECK(host.book_events == 0);  // nothing before start()

    REQUIRE(sim_instance.subscribe("ETHUSDT", 8) == KEEL_OK);
    REQUIRE(sim_instance.subscribe("SOLUSDT", 9) == KEEL_OK);
    CHECK(host.defs.size() == 3);

    REQUIRE(sim_instance.start() == KEEL_OK);
    CHECK(host.timers == 1);
    CHECK(host.period_ns == 50'000'000);
    CHECK(host.book_events == 3);  // one snapshot per instrument
    CHECK(!host.logs.empty());
    CHECK(sim_instance.start() == KEEL_ERROR);
}

TEST_CASE("sim plugin: an unknown symbol is refused with the catalogue", "[sim]") {
    fake_host host;
    instance sim_instance(host, settings());
    REQUIRE(sim_instance.status == KEEL_OK);
    CHECK(sim_instance.subscribe("DOGEUSDT", 1) == KEEL_ERROR);
    CHECK(std::string(sim_instance.err) ==
          "sim: unknown symbol \"DOGEUSDT\" (available: BTCUSDT, ETHUSDT, SOLUSDT)");
    CHECK(host.defs.empty());
    CHECK(sim_instance.subscribe("BTCUSDT", 1) == KEEL_OK);
    CHECK(sim_instance.subscribe("BTCUSDT", 2) == KEEL_ERROR);
    CHECK(std::string(sim_instance.err).find("already subscribed") != std::string::npos);
}

TEST_CASE("sim plugin: bad settings are refused with a clear message", "[sim]") {
    auto refused = [](const std::vector<keel_setting> &s, const std::string &needle) {
        fake_host host;
        instance sim_instance(host, s);
        CHECK(sim_instance.status == KEEL_ERROR);
        CHECK(sim_instance.self == nullptr);
        INFO("message: " << sim_instance.err);
        CHECK(std::string(sim_instance.err).find(needle) != std::string::npos);
    };
    refused(settings(42, 0), "tick_ms must be between 1 and 10000");
    refused(settings(42, 10001), "tick_ms must be between 1 and 10000");
    refused(settings(42, 50, 4), "depth must be between 5 and 1000");
    refused(settings(42, 50, 1001), "depth must be between 5 and 1000");
    refused(settings(42, 50, 50, 0.0), "volatility must be greater than 0");
    refused(settings(42, 50, 50, -1.0), "volatility must be greater than 0");
    refused({keel_setting{.struct_size = sizeof(keel_setting),
                          .name = "tick_ms",
                          .type = KEEL_CFG_STRING,
                          .string = "fast",
                          .integer = 0,
                          .number = 0.0}},
            "\"tick_ms\" must be an integer");
}

TEST_CASE("sim plugin: missing and unknown settings fall back to defaults", "[sim]") {
    fake_host host;
    std::vector<keel_setting> s = {int_setting("colour", 3)};
    instance sim_instance(host, s);
    REQUIRE(sim_instance.status == KEEL_OK);
    REQUIRE(sim_instance.subscribe("ETHUSDT", 1) == KEEL_OK);
    REQUIRE(sim_instance.start() == KEEL_OK);
    CHECK(host.period_ns == 50'000'000);
}

TEST_CASE("sim plugin: book invariants hold over a long run", "[sim]") {
    const uint32_t depth = GENERATE(50u, 5u);
    fake_host host;
    book_checker checker(host, depth);
    instance sim_instance(host, settings(42, 50, depth));
    REQUIRE(sim_instance.status == KEEL_OK);
    REQUIRE(sim_instance.subscribe("BTCUSDT", 1) == KEEL_OK);
    REQUIRE(sim_instance.subscribe("ETHUSDT", 2) == KEEL_OK);
    REQUIRE(sim_instance.subscribe("SOLUSDT", 3) == KEEL_OK);
    REQUIRE(sim_instance.start() == KEEL_OK);
    const int steps = 30 * 60 * 20;  // 30 minutes of market time
    for (int i = 0; i < steps; ++i) host.tick();

    INFO("first problems: " << (checker.problems.empty() ? "" : checker.problems.front()));
    CHECK(checker.problems.empty());
    REQUIRE(checker.books.size() == 3);
    for (auto &[id, b] : checker.books) {
        INFO("instrument " << host.symbols[id]);
        CHECK(b.states > static_cast<uint64_t>(steps) * 9 / 10);
        CHECK(b.trades > 30u * 60u);  // at least one trade a second on average
        // The price wanders but stays sane: within 15 % of where it started over 30 minutes.
        CHECK(b.min_mid > b.first_mid * 0.85);
        CHECK(b.max_mid < b.first_mid * 1.15);
    }
}

TEST_CASE("sim plugin: the same seed gives the same events", "[sim]") {
    const int steps = 2 * 60 * 20;  // two minutes
    const uint64_t a = run_hash(42, steps);
    const uint64_t b = run_hash(42, steps);
    const uint64_t c = run_hash(43, steps);
    CHECK(a == b);
    CHECK(a != c);
}

TEST_CASE("sim plugin: both imbalance signals occur in ten minutes", "[sim]") {
    const int64_t seed = GENERATE(42, 1, 2);
    fake_host host;
    book_checker checker(host, 50);
    instance sim_instance(host, settings(seed));
    REQUIRE(sim_instance.status == KEEL_OK);
    REQUIRE(sim_instance.subscribe("BTCUSDT", 1) == KEEL_OK);
    REQUIRE(sim_instance.subscribe("ETHUSDT", 2) == KEEL_OK);
    REQUIRE(sim_instance.subscribe("SOLUSDT", 3) == KEEL_OK);
    REQUIRE(sim_instance.start() == KEEL_OK);
    for (int i = 0; i < 10 * 60 * 20; ++i) host.tick();

    CHECK(checker.problems.empty());
    for (auto &[id, b] : checker.books) {
        const double states = static_cast<double>(b.states);
        const double above = static_cast<double>(b.above_3) / states;
        const double below = static_cast<double>(b.below_033) / states;
        INFO("seed " << seed << ", " << host.symbols[id] << ": ratio > 3 in " << above * 100
                     << " % of states, < 0.33 in " << below * 100 << " %");
        CHECK(above > 0.005);
        CHECK(below > 0.005);
        CHECK(above + below < 0.25);  // between the thresholds most of the time
    }
}
