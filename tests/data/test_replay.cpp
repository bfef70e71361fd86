// Replay through the whole engine: the real Binance USD-M BTCUSDT capture handed frame by frame
// to the binance plugin, whose events pass the engine's sequence sync and L0 sanitizer before a
// Lua strategy sees them. A reference rebuild (codec + BookFeed, no engine) says what every
// on_book must show. Faults are injected into a rewritten copy of the capture: the engine must
// count them, stop calling strategies, resync from the next snapshot, and end on the same book.
// Recording: a replay with `record:` writes a copy that replays to the same session.

#include <catch2/catch.hpp>

#include <fstream>

#include <fmt/format.h>

#include "codec.hpp"
#include "keel/config/config.hpp"
#include "keel/engine/engine.hpp"
#include "keel/market/book_feed.hpp"
#include "keel/market/capture.hpp"
#include "support/engine.hpp"
#include "support/support.hpp"
#include "usdm_reference.hpp"

using namespace keel;
using namespace keel::test::usdm;
using binance::MessageKind;

namespace {

// The fault tests break the book at event kFaultAt and heal it after event kHealAt.
constexpr size_t kFaultAt = 500, kHealAt = 800;

const Reference &clean_reference() {
    static const Reference r(kCapture, kHealAt);
    return r;
}

config::Config replay_config(const test::TempDir &dir, const std::filesystem::path &recording,
                             const std::string &extra_venue_keys = "") {
    dir.write("watcher.lua", kWatcher);
    auto cfg = config::load_file(dir.write(
        "replay.yaml", fmt::format(R"(mode: paper
venues:
  binance:
    plugin: binance
    replay: {}
{}    settings:
      market: usdm
      exchange_info: {}
instruments:
  - {{ symbol: BTCUSDT, venue: binance }}
strategies:
  - {{ name: watcher, file: watcher.lua, instruments: [BTCUSDT] }}
)",
                                   recording.string(), extra_venue_keys, kExchangeInfo.string())));
    cfg.notifiers.clear();
    return cfg;
}

struct Replayed {
    engine::Summary summary;
    Tops seen;
    double crossed = 0, invalid_ticks = 0, leaked = 0;
    market::Book book;
};

Replayed replay(const config::Config &cfg) {
    engine::Engine e(cfg, test::simulated());
    Replayed r;
    r.summary = e.run(TimeNs{3600} * 1'000'000'000);  // the recording ends first
    auto num = [&](const char *g) {
        return std::stod(*e.strategy("watcher")->global_as_string(g));
    };
    r.seen = watched_tops(e);
    r.crossed = num("crossed");
    r.invalid_ticks = num("invalid_ticks");
    r.leaked = num("leaked");
    r.book = e.book(0);
    return r;
}

void check_same_book(const market::Book &a, const market::Book &b) {
    for (Side sd : {Side::buy, Side::sell}) {
        REQUIRE(a.depth(sd) == b.depth(sd));
        for (size_t k = 0; k < a.depth(sd); ++k) {
            INFO("side " << (sd == Side::buy ? "bid" : "ask") << " level " << k);
            REQUIRE(a.level(sd, k)->price == b.level(sd, k)->price);
            REQUIRE(a.level(sd, k)->qty == b.level(sd, k)->qty);
        }
    }
}

void check_tops(const Tops &seen, const Tops &expected) {
    CHECK(seen.n == expected.n);
    CHECK(seen.bid_ticks == expected.bid_ticks);
    CHECK(seen.ask_ticks == expected.ask_ticks);
    CHECK(seen.top_lots == expected.top_lots);
}

// Rewrites the capture: the frame of reference event kFaultAt (a depth delta) is replaced by the
// lines `mutate` writes (none drops it), and after the frame of event kHealAt a bare snapshot of
// the reference book at that point is inserted, as a venue answers a resync.
std::filesystem::path rewrite(const test::TempDir &dir,
                              const std::function<void(std::string_view, std::string &)> &mutate) {
    const auto &ref = clean_reference();
    const size_t at = kFaultAt, heal = kHealAt;
    auto out = dir.path() / "faulty.gz";
    market::CaptureWriter writer(out);
    market::CaptureReader reader(kCapture);
    binance::Codec codec(*market::DecimalGrid::parse("0.10"), *market::DecimalGrid::parse("0.001"));
    TimeNs ts;
    std::string_view frame;
    size_t event = 0;
    std::string lines;
    while (reader.next(ts, frame)) {
        auto kind = codec.parse(frame, reader.capacity());
        bool is_event = (kind == MessageKind::snapshot && event == 0) ||
                        (kind == MessageKind::depth && event > 0 && event < ref.events.size() &&
                         codec.depth().last == ref.events[event].last_id);
        if (!is_event) {
            writer.write(ts, "", frame);
            continue;
        }
        if (event == at) {
            lines.clear();
            mutate(frame, lines);
            for (size_t b = 0, e; b < lines.size(); b = e + 1) {
                e = lines.find('\n', b);
                writer.write(ts, "", std::string_view(lines).substr(b, e - b));
            }
        } else {
            writer.write(ts, "", frame);
        }
        if (event == heal) writer.write(ts, "", ref.snapshot);
        ++event;
    }
    writer.close();
    return out;
}

}  // namespace

TEST_CASE("replaying the real USD-M capture through the engine shows every book state",
          "[data][replay]") {
    const auto &ref = clean_reference();
    REQUIRE(ref.events.size() > 6000);
    test::TempDir dir;
    auto r = replay(replay_config(dir, kCapture));

    REQUIRE(r.summary.market.size() == 1);
    const auto &m = r.summary.market[0];
    CHECK(m.sync.gaps == 0);
    CHECK(m.sync.out_of_order == 0);
    CHECK(m.rejects.total() == 0);
    CHECK(m.resyncs == 0);
    CHECK(r.summary.malformed_frames == 0);
    CHECK(r.summary.trade_events > 20000);  // every trade of the capture went to candles
    CHECK(r.crossed == 0);
    CHECK(r.leaked == 0);
    // The engine applied exactly what the reference applied, and the strategy saw each state.
    check_tops(r.seen, ref.total);
    check_same_book(r.book, ref.final_book);
    // The recording's clock: the local receive time runs about 1.27 s behind Binance's E.
    CHECK(m.latency_samples > 6000);
    CHECK(m.latency_p50_ms < -1000);
    CHECK(m.latency_p50_ms > -1500);
}

TEST_CASE("faults in a real replay are counted, hidden from strategies and healed by a snapshot",
          "[data][replay]") {
    const auto &ref = clean_reference();
    const size_t at = kFaultAt, heal = kHealAt;
    // Each line ends with '\n'; `lines` receives what replaces the frame.
    struct Fault {
        const char *name;
        std::function<void(std::string_view, std::string &)> mutate;
        market::Reject reason;
        size_t first_hidden;  // reference events the strategy must not see: [first_hidden, heal)
        uint64_t malformed;
    };
    const Fault faults[] = {
        {"a dropped delta", [](std::string_view, std::string &) {}, market::Reject::gap, at, 0},
        {"a duplicated delta",
         [](std::string_view f, std::string &out) {
             out = std::string(f) + "\n" + std::string(f) + "\n";
         },
         market::Reject::out_of_order, at + 1, 0},
        {"a crossed update",
         [](std::string_view f, std::string &out) {
             out = std::string(f);
             auto b = out.find("\"b\":[");
             out.insert(b + 5,
                        std::string("[\"99999.0\",\"1.000\"]") + (out[b + 5] == ']' ? "" : ","));
             out += "\n";
         },
         market::Reject::crossed, at, 0},
        {"a NaN price",
         [](std::string_view f, std::string &out) {
             out = std::string(f);
             auto p = out.find("[[\"");  // the first level's price
             out.replace(p + 3, out.find('"', p + 3) - (p + 3), "NaN");
             out += "\n";
         },
         market::Reject::gap, at, 1},  // the frame is refused, so the next delta leaves a gap
    };
    for (const auto &fault : faults) {
        DYNAMIC_SECTION(fault.name) {
            test::TempDir dir;
            auto file = rewrite(dir, fault.mutate);
            auto r = replay(replay_config(dir, file));
            const auto &m = r.summary.market.at(0);
            CHECK(m.rejects[fault.reason] == 1);
            CHECK(m.rejects.total() == 1);
            CHECK(m.resyncs == 1);
            CHECK(r.summary.malformed_frames == fault.malformed);
            CHECK(r.crossed == 0);
            // Timers during the fault (the 300 deltas until the snapshot span seconds) found the
            // book empty, never its stale levels.
            CHECK(r.invalid_ticks > 0);
            CHECK(r.leaked == 0);
            // Every state but those between the fault and the healing snapshot, and the same
            // book at the end as if nothing had happened.
            Tops expected = ref.total;
            for (size_t k = fault.first_hidden; k < heal; ++k) expected.remove(ref.events[k].tops);
            check_tops(r.seen, expected);
            check_same_book(r.book, ref.final_book);
        }
    }
}

TEST_CASE("a replay with recording on writes a copy that replays to the same session",
          "[data][replay]") {
    test::TempDir dir;
    auto first = replay(replay_config(dir, kCapture, "    record: recorded\n"));
    std::vector<std::filesystem::path> files;
    for (auto &f : std::filesystem::directory_iterator(dir.path() / "recorded"))
        files.push_back(f.path());
    REQUIRE(files.size() == 1);
    CHECK(files[0].filename().string() == "binance-20240808T235415Z.gz");  // its first frame
    // Frame for frame the input.
    market::CaptureReader a(kCapture), b(files[0]);
    TimeNs ta, tb;
    std::string_view fa, fb;
    uint64_t frames = 0;
    while (a.next(ta, fa)) {
        REQUIRE(b.next(tb, fb));
        REQUIRE(ta == tb);
        REQUIRE(fa == fb);
        ++frames;
    }
    CHECK_FALSE(b.next(tb, fb));
    CHECK(frames == first.summary.frames);

    test::TempDir again;
    auto second = replay(replay_config(again, files[0]));
    check_tops(second.seen, first.seen);
    CHECK(second.summary.trade_events == first.summary.trade_events);
    check_same_book(second.book, first.book);
}

TEST_CASE("reloads during a real replay lose and repeat no event", "[data][replay][reload]") {
    test::TempDir dir;
    dir.write("reference.lua", R"(
books, trades = 0, 0
function on_book(inst, book) books = books + 1 end
function on_trade(inst, t) trades = trades + 1 end
)");
    // Counts like the reference and hands its counts to the next version.
    dir.write("live.lua", R"(
books, trades, versions = 0, 0, 1
function on_book(inst, book) books = books + 1 end
function on_trade(inst, t) trades = trades + 1 end
function on_save() return { books = books, trades = trades, versions = versions } end
function on_reload(s) books, trades, versions = s.books, s.trades, s.versions + 1 end
)");
    auto cfg = config::load_file(
        dir.write("replay.yaml", fmt::format(R"(mode: paper
venues:
  binance:
    plugin: binance
    replay: {}
    settings: {{ market: usdm, exchange_info: {} }}
instruments:
  - {{ symbol: BTCUSDT, venue: binance }}
strategies:
  - {{ name: reference, file: reference.lua, instruments: [BTCUSDT] }}
  - {{ name: live, file: live.lua, instruments: [BTCUSDT] }}
)",
                                             kCapture.string(), kExchangeInfo.string())));
    cfg.notifiers.clear();
    engine::Engine e(cfg, test::simulated());
    e.prepare();
    const TimeNs start = e.now(), second = 1'000'000'000;
    for (int k = 1; k <= 5; ++k)
        e.schedule(engine::Command::reload, start + k * 50 * second, "test", "live");
    auto summary = e.run(TimeNs{3600} * second);
    CHECK(summary.reloads == 5);
    CHECK(summary.failed_reloads == 0);
    auto get = [&](const char *s, const char *g) { return *e.strategy(s)->global_as_string(g); };
    CHECK(get("live", "versions") == "6");
    CHECK(std::stoll(get("reference", "books")) > 6000);
    CHECK(std::stoll(get("reference", "trades")) > 20000);
    CHECK(get("live", "books") == get("reference", "books"));
    CHECK(get("live", "trades") == get("reference", "trades"));
}

TEST_CASE("lines of a recording that are not frames are counted and skipped", "[data][replay]") {
    // The first 400 lines of the capture, plain text, twice: as they are, and with lines that are
    // not "<ts> <frame>" between them.
    const auto head = kData / "binance/usdm/ws_capture/btcusdt_20240808_head3947.txt";
    std::ifstream in(head);
    std::string clean, dirty, line;
    for (int k = 0; k < 400 && std::getline(in, line); ++k) {
        clean += line + "\n";
        dirty += line + "\n";
        if (k == 100) dirty += "garbage without a time\n";
        if (k == 200) dirty += "17231614550000000x0 {\"stream\":1}\n";
    }
    test::TempDir dir;
    auto a = replay(replay_config(dir, dir.write("clean.txt", clean)));
    test::TempDir dir2;
    auto b = replay(replay_config(dir2, dir2.write("dirty.txt", dirty)));
    CHECK(a.summary.malformed_frames == 0);
    CHECK(b.summary.malformed_frames == 2);
    CHECK(b.summary.frames == a.summary.frames);
    CHECK(b.summary.book_events == a.summary.book_events);
    check_tops(b.seen, a.seen);
    CHECK(a.seen.n > 10);
}
