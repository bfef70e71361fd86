#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstring>
#include <fstream>
#include <optional>

#include "keel/market/capture.hpp"

using namespace keel;
using namespace keel::market;

namespace {

// A capture file in the temp dir, removed at the end of the test.
struct TempFile {
    explicit TempFile(const std::string &text)
        : path(std::filesystem::temp_directory_path() /
               ("keel_capture_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
                ".0")) {
        std::ofstream(path) << text;
    }
    ~TempFile() { std::filesystem::remove(path); }
    std::filesystem::path path;
    static inline int counter = 0;
};

// The message of the exception the reader throws on the file's first bad line.
std::string cryptofeed_error(const std::string &text) {
    TempFile f(text);
    CryptofeedReader reader(f.path);
    CryptofeedLine line;
    try {
        while (reader.next(line)) {
        }
    } catch (const std::runtime_error &e) {
        std::string what = e.what();
        // file:line: ... names the file and the line.
        CHECK(what.starts_with(f.path.string() + ":"));
        return what.substr(f.path.string().size() + 1);
    }
    FAIL("no error for: " << text);
    return {};
}

}  // namespace

TEST_CASE("unix seconds with a fraction become exact nanoseconds", "[capture]") {
    TimeNs ts = 0;
    REQUIRE(parse_unix_seconds("1633998512.0633569", ts));
    CHECK(ts == 1633998512063356900);  // a double holds 1633998512.063356876
    REQUIRE(parse_unix_seconds("1626992741.06217", ts));
    CHECK(ts == 1626992741062170000);
    REQUIRE(parse_unix_seconds("1626992741", ts));
    CHECK(ts == 1626992741000000000);
    REQUIRE(parse_unix_seconds("0.000000001", ts));
    CHECK(ts == 1);
    CHECK_FALSE(parse_unix_seconds("1.0000000001", ts));  // finer than a nanosecond
    CHECK_FALSE(parse_unix_seconds("", ts));
    CHECK_FALSE(parse_unix_seconds("1.", ts));
    CHECK_FALSE(parse_unix_seconds(".5", ts));
    CHECK_FALSE(parse_unix_seconds("-1.5", ts));
    CHECK_FALSE(parse_unix_seconds("1.5x", ts));
    CHECK_FALSE(parse_unix_seconds("1.6e9", ts));
    CHECK_FALSE(parse_unix_seconds("99999999999999999999.0", ts));
}

TEST_CASE("cryptofeed lines are told apart and handed out padded", "[capture]") {
    TempFile f(
        "wss://x.example/ws <-> 1626994927.139662\n"
        "wss://x.example/ws <- 1626994927.5: {\"event\":\"subscribe\"}\n"
        "1626994927.6892228: {\"feed\":\"book\"}\n"
        "\n"
        "https://x.example/depth?symbol=A -> 1626994928.25: {\"lastUpdateId\":1}\n"
        "configuration: {\"l2_book\":[\"A\"]}\n");
    CryptofeedReader reader(f.path);
    CryptofeedLine line;

    REQUIRE(reader.next(line));
    CHECK(line.kind == CryptofeedKind::connect);
    CHECK(line.url == "wss://x.example/ws");
    CHECK(line.ts == 1626994927139662000);
    CHECK(line.payload.empty());

    REQUIRE(reader.next(line));
    CHECK(line.kind == CryptofeedKind::sent);
    CHECK(line.url == "wss://x.example/ws");
    CHECK(line.ts == 1626994927500000000);
    CHECK(line.payload == "{\"event\":\"subscribe\"}");

    REQUIRE(reader.next(line));
    CHECK(line.kind == CryptofeedKind::received);
    CHECK(line.url.empty());
    CHECK(line.ts == 1626994927689222800);
    CHECK(line.payload == "{\"feed\":\"book\"}");
    REQUIRE(reader.capacity() >= line.payload.size() + CryptofeedReader::kPadding);
    const char zeros[CryptofeedReader::kPadding] = {};
    CHECK(std::memcmp(line.payload.data() + line.payload.size(), zeros, sizeof zeros) == 0);

    REQUIRE(reader.next(line));  // the blank line is skipped
    CHECK(reader.line_number() == 5);
    CHECK(line.kind == CryptofeedKind::rest_response);
    CHECK(line.url == "https://x.example/depth?symbol=A");
    CHECK(line.ts == 1626994928250000000);
    CHECK(line.payload == "{\"lastUpdateId\":1}");

    REQUIRE(reader.next(line));
    CHECK(line.kind == CryptofeedKind::configuration);
    CHECK(line.ts == 0);
    CHECK(line.payload == "{\"l2_book\":[\"A\"]}");

    CHECK_FALSE(reader.next(line));
}

TEST_CASE("malformed cryptofeed lines are refused with file:line", "[capture]") {
    CHECK(cryptofeed_error("1.5: {}\n1626994927.x: {}\n").starts_with("2: expected"));
    CHECK(cryptofeed_error("1626994927.5 {}\n").starts_with("1: expected"));
    CHECK(cryptofeed_error("wss://x <-> soon\n").starts_with("1: connect line: bad time"));
    CHECK(cryptofeed_error("wss://x <- 1.5 {}\n").starts_with("1: expected"));
    CHECK(cryptofeed_error("https://x => 1.5: {}\n").starts_with("1: unknown direction"));
    CHECK(cryptofeed_error("garbage\n").starts_with("1: expected"));
    CHECK(cryptofeed_error("1.5: {}\n\n1.0000000001: {}\n").starts_with("3: expected"));
}

TEST_CASE("keel capture lines without a time are refused with file:line", "[capture]") {
    TempFile f("1626994927000000000 {\"a\":1}\nnot-a-time {}\n");
    CaptureReader reader(f.path);
    TimeNs ts = 0;
    std::string_view frame;
    REQUIRE(reader.next(ts, frame));
    CHECK(ts == 1626994927000000000);
    CHECK(frame == "{\"a\":1}");
    CHECK(reader.capacity() >= frame.size() + CaptureReader::kPadding);
    CHECK_THROWS_WITH(reader.next(ts, frame), Catch::Contains(f.path.string() + ":2: expected"));
}

TEST_CASE("a capture line's time is all 64 bits of nanoseconds, never more", "[capture]") {
    auto first = [](const std::string &line) -> std::optional<TimeNs> {
        TempFile f(line + "\n");
        CaptureReader reader(f.path);
        TimeNs ts = 0;
        std::string_view frame;
        try {
            if (!reader.next(ts, frame)) return std::nullopt;
        } catch (const std::runtime_error &e) {
            CHECK_THAT(e.what(), Catch::Contains(":1: expected \"<receive_time_ns> <frame>\""));
            return std::nullopt;
        }
        CHECK(frame == "{}");
        return ts;
    };
    CHECK(first("0 {}") == 0);
    CHECK(first("7 {}") == 7);
    CHECK(first("1723075200123456789 {}") == 1723075200123456789);
    CHECK(first("9223372036854775807 {}") == INT64_MAX);
    CHECK(first("-9223372036854775808 {}") == INT64_MIN);
    CHECK(first("-5 {}") == -5);
    CHECK_FALSE(first("9223372036854775808 {}"));   // one past
    CHECK_FALSE(first("-9223372036854775809 {}"));  // one below
    CHECK_FALSE(first("17230752001234567890 {}"));  // 20 digits
    CHECK_FALSE(first("00000000000000000001 {}"));  // 20 digits, small
    CHECK_FALSE(first("- {}"));
    CHECK_FALSE(first("+5 {}"));
    CHECK_FALSE(first("5{}"));
    CHECK_FALSE(first("5"));
    CHECK_FALSE(first(" 5 {}"));
}

TEST_CASE("a compressed recording reads back frame for frame, however it is cut into chunks",
          "[capture]") {
    // Frames of every size, one far longer than the inflater's chunks; written compressed by
    // CaptureWriter and read back through the read-ahead thread.
    TempFile f("");
    std::vector<std::string> frames;
    {
        CaptureWriter writer(f.path);
        for (int i = 0; i < 20'000; ++i) {
            std::string frame = "{\"n\":" + std::to_string(i) + ",\"pad\":\"" +
                                std::string(size_t(i * 7919 % 1500), char('a' + i % 26)) + "\"}";
            if (i == 12'345) frame = "{\"long\":\"" + std::string(700'000, 'z') + "\"}";
            REQUIRE(
                writer.write(TimeNs(1'000'000 + i), i % 100 == 0 ? "https://x/depth" : "", frame));
            frames.push_back(std::move(frame));
        }
        writer.close();
    }
    CaptureReader reader(f.path);
    TimeNs ts = 0;
    std::string_view frame;
    size_t n = 0;
    while (reader.next(ts, frame)) {
        REQUIRE(n < frames.size());
        REQUIRE(ts == TimeNs(1'000'000 + n));
        REQUIRE(frame == frames[n]);
        REQUIRE(reader.url() == (n % 100 == 0 ? "https://x/depth" : ""));
        REQUIRE(reader.capacity() >= frame.size() + CaptureReader::kPadding);
        ++n;
    }
    CHECK(n == frames.size());
    CHECK_FALSE(reader.next(ts, frame));  // and stays at the end

    // Cut short: the frames before the cut, then an error naming the file (never a hang).
    auto size = std::filesystem::file_size(f.path);
    std::filesystem::resize_file(f.path, size / 2);
    CaptureReader cut(f.path);
    size_t read = 0;
    try {
        while (cut.next(ts, frame)) {
            REQUIRE(frame == frames[read]);
            ++read;
        }
        FAIL("a truncated file read to its end without an error");
    } catch (const std::runtime_error &e) {
        CHECK_THAT(e.what(), Catch::Contains(f.path.string() + ": read error"));
    }
    CHECK(read > 1000);
    CHECK(read < frames.size());
    CHECK_FALSE(cut.next(ts, frame));  // said once: what was there can still be replayed

    // Left half read: the reader closes without waiting for the rest.
    std::filesystem::resize_file(f.path, 0);
    {
        CaptureWriter writer(f.path);
        for (size_t i = 0; i < frames.size(); ++i) writer.write(TimeNs(i), "", frames[i]);
    }
    CaptureReader early(f.path);
    REQUIRE(early.next(ts, frame));
    CHECK(frame == frames[0]);
}
