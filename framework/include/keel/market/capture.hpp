#pragma once
// Reads recorded market data line by line, gzip-compressed or plain (zlib reads both; a thread of
// the reader's own reads, inflates and cuts the file a few batches of lines ahead). Two formats:
// keel's own ("<receive_time_ns> <raw frame>", also hftbacktest's) and cryptofeed's raw
// captures. Every frame is handed out with spare readable bytes after it, as simdjson requires,
// and without allocation once the batches have grown.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/types.hpp"

namespace keel::market {

// The lines of a file, each followed by kPadding zero bytes. Shared by the capture formats.
class PaddedLineReader {
  public:
    static constexpr size_t kPadding = 64;  // >= simdjson::SIMDJSON_PADDING

    // Throws std::runtime_error naming the file if it cannot be opened.
    explicit PaddedLineReader(const std::filesystem::path &file);
    ~PaddedLineReader();
    PaddedLineReader(const PaddedLineReader &) = delete;
    PaddedLineReader &operator=(const PaddedLineReader &) = delete;

    // The next non-blank line, without its '\n', valid until the next call; false at the end.
    // Throws on a read error (a file cut short included), once: the file then reads as ended
    // there.
    bool next(std::string_view &line);
    // Bytes readable from `p` (a pointer into the current line) to the end of the padding.
    size_t capacity_from(const char *p) const {
        return batch_.text.size() - static_cast<size_t>(p - batch_.text.data());
    }
    uint64_t line_number() const { return line_number_; }
    // "file:line: what", for errors about the current line.
    [[noreturn]] void fail(std::string_view what) const;

  private:
    // Lines of the file, each followed by kPadding zero bytes in `text`.
    struct Batch {
        std::vector<char> text;
        std::vector<std::pair<size_t, size_t>> lines;  // where each starts in text, its size
    };
    class Splitter;

    std::filesystem::path file_;
    std::unique_ptr<Splitter> splitter_;
    Batch batch_;
    size_t next_line_ = 0;  // in batch_
    bool ended_ = false;
    uint64_t line_number_ = 0;
};

// keel's recordings and hftbacktest's captures: "<receive_time_ns> <raw frame>" per line. keel
// also writes the body of a REST answer as "<receive_time_ns> <url> <body>", so a replay knows
// what was asked (hftbacktest writes a depth snapshot bare, without its URL).
class CaptureReader {
  public:
    static constexpr size_t kPadding = PaddedLineReader::kPadding;

    explicit CaptureReader(const std::filesystem::path &file) : lines_(file) {}

    // The next frame; false at the end. Throws on a line without "<ts> " or on a read error.
    bool next(TimeNs &receive_ts, std::string_view &frame);
    // The URL of the last frame if it was a REST answer keel recorded; empty for a stream frame.
    // Valid until the next call.
    std::string_view url() const { return url_; }
    // Bytes readable from frame.data(): frame.size() + kPadding at least.
    size_t capacity() const { return capacity_; }
    uint64_t line_number() const { return lines_.line_number(); }

  private:
    PaddedLineReader lines_;
    size_t capacity_ = 0;
    std::string_view url_;
};

// Writes a recording in CaptureReader's format, gzip-compressed. Times must not go backwards
// (a replay relies on it); a frame with a line break cannot be written as one line and is
// refused. Throws std::runtime_error naming the file on any I/O error.
class CaptureWriter {
  public:
    explicit CaptureWriter(const std::filesystem::path &file);
    ~CaptureWriter();
    CaptureWriter(const CaptureWriter &) = delete;
    CaptureWriter &operator=(const CaptureWriter &) = delete;

    // `url` empty for a stream frame. False (nothing written) for a frame with a line break.
    bool write(TimeNs receive_ts, std::string_view url, std::string_view frame);
    // Flushes and closes; the destructor does it too but cannot report an error.
    void close();
    const std::filesystem::path &file() const { return file_; }
    uint64_t frames() const { return frames_; }

  private:
    std::filesystem::path file_;
    void *gz_ = nullptr;
    std::string line_;
    uint64_t frames_ = 0;
};

// cryptofeed's raw captures (its `raw_data_collection`): NAME.ws.N.0 for a WebSocket connection,
// NAME.http.N.0 and NAME.0 for REST calls. Times are Unix seconds with a fraction, converted to
// nanoseconds from the text (a double cannot hold them to the nanosecond).
enum class CryptofeedKind : uint8_t {
    connect,        // "<wss url> <-> <ts>": the connection opened; no payload
    sent,           // "<wss url> <- <ts>: <json>": a frame we sent (subscribe, ...)
    received,       // "<ts>: <json>": a frame the venue sent on the connection
    rest_response,  // "<url> -> <ts>: <body>": the answer to a REST call of `url`
    configuration,  // "configuration: <json>": the feed's settings; no time
};

struct CryptofeedLine {
    CryptofeedKind kind = CryptofeedKind::received;
    TimeNs ts = 0;             // receive (or send) time; 0 for configuration
    std::string_view url;      // connect, sent and rest_response; empty otherwise
    std::string_view payload;  // the JSON; empty for connect
};

class CryptofeedReader {
  public:
    static constexpr size_t kPadding = PaddedLineReader::kPadding;

    explicit CryptofeedReader(const std::filesystem::path &file) : lines_(file) {}

    // The next line; false at the end. Views stay valid until the next call. Throws
    // std::runtime_error with file:line on a line of no known form or on a read error.
    bool next(CryptofeedLine &line);
    // Bytes readable from payload.data(): payload.size() + kPadding at least.
    size_t capacity() const { return capacity_; }
    uint64_t line_number() const { return lines_.line_number(); }

  private:
    PaddedLineReader lines_;
    size_t capacity_ = 0;
};

// What a replay reads: a keel (or hftbacktest) recording, or a cryptofeed capture named by its
// WebSocket file NAME.ws.N.0, read together with the REST files beside it (NAME.http.N.0,
// NAME.0) as one stream in receive-time order, as the process that recorded them saw it: stream
// frames without a URL, REST answers with the URL asked. Lines that carry no frame (connects,
// what was sent, configuration) are skipped.
class RecordingReader {
  public:
    static constexpr size_t kPadding = PaddedLineReader::kPadding;

    // Throws std::runtime_error naming the file if one cannot be opened.
    explicit RecordingReader(const std::filesystem::path &file);
    ~RecordingReader();
    RecordingReader(const RecordingReader &) = delete;
    RecordingReader &operator=(const RecordingReader &) = delete;

    // As CaptureReader::next; throws with file:line on a line of no known form.
    bool next(TimeNs &receive_ts, std::string_view &frame);
    std::string_view url() const { return url_; }
    size_t capacity() const { return capacity_; }
    // The line just read (or that failed), counted across the files of a cryptofeed capture
    // in the order they are listed: it only has to grow as reading moves on.
    uint64_t line_number() const;
    // NAME.ws.N.0 and the REST files read with it; empty for a keel recording.
    static std::vector<std::filesystem::path> cryptofeed_files(const std::filesystem::path &ws);

  private:
    struct Cryptofeed;
    std::unique_ptr<CaptureReader> keel_;
    std::unique_ptr<Cryptofeed> cryptofeed_;
    std::string_view url_;
    size_t capacity_ = 0;
};

// "1626992741.06217" -> 1626992741062170000. Up to 9 fraction digits, since more cannot be
// exact in nanoseconds; false on anything else.
bool parse_unix_seconds(std::string_view text, TimeNs &out);

}  // namespace keel::market
