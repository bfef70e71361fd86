#include "keel/market/capture.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>

namespace keel::market {

namespace {

// gzread into `buffer`: the bytes read, 0 at the end, -1 with `error` set. A file cut short is an
// error too, at the end (zlib gives what it could inflate, then only flags it).
int read_gz(gzFile gz, std::vector<char> &buffer, std::string &error) {
    int n = gzread(gz, buffer.data(), static_cast<unsigned>(buffer.size()));
    int code = Z_OK;
    const char *message = gzerror(gz, &code);
    if (n < 0 || (n == 0 && code != Z_OK)) {
        error = message;
        return -1;
    }
    return n;
}

}  // namespace

// Reads the file on a thread of its own (inflating it if it is compressed) and cuts it into
// lines, up to kAhead batches ahead of the reader: inflating and splitting cost about as much as
// everything else a replay does with a frame, and this way the two overlap. The reader sees the
// same lines in the same order, so a replay stays deterministic.
class PaddedLineReader::Splitter {
  public:
    static constexpr size_t kChunk = 1 << 18, kAhead = 4;

    // Takes `gz` over once constructed.
    explicit Splitter(gzFile gz) : gz_(gz) {
        for (size_t i = 0; i < kAhead; ++i) free_.emplace_back();
        thread_ = std::thread([this] { run(); });
    }
    ~Splitter() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        changed_.notify_all();
        thread_.join();
        gzclose(gz_);
    }

    // The next batch, swapped into `batch` (whose old buffers go back to be filled again): 1, 0
    // at the end, -1 with `error` set (what the file held before the error has been handed out).
    int next(Batch &batch, std::string &error) {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !full_.empty() || done_; });
        if (full_.empty()) {
            error = error_;
            return error.empty() ? 0 : -1;
        }
        std::swap(batch, full_.front());
        free_.push_back(std::move(full_.front()));
        full_.pop_front();
        lock.unlock();
        changed_.notify_all();
        return 1;
    }

  private:
    void run() {
        std::vector<char> chunk(kChunk);
        std::string carry;  // the start of a line the last chunk ended inside
        Batch batch;
        bool have_batch = false;
        // Hands the batch over; false once the reader has gone.
        auto hand_over = [&] {
            std::unique_lock lock(mutex_);
            full_.push_back(std::move(batch));
            have_batch = false;
            changed_.notify_all();
            return !stop_;
        };
        auto line = [&](const char *text, size_t size) {
            if (!have_batch) {
                std::unique_lock lock(mutex_);
                changed_.wait(lock, [&] { return stop_ || !free_.empty(); });
                if (stop_) return false;
                batch = std::move(free_.back());
                free_.pop_back();
                batch.text.clear();
                batch.lines.clear();
                have_batch = true;
            }
            const size_t at = batch.text.size();
            batch.text.insert(batch.text.end(), text, text + size);
            batch.text.insert(batch.text.end(), kPadding, '\0');
            batch.lines.push_back({at, size});
            return batch.text.size() < kChunk || hand_over();
        };
        for (;;) {
            std::string error;
            const int n = read_gz(gz_, chunk, error);
            if (n <= 0) {
                // A last line without '\n' is a line; after an error, its start is not.
                if (n == 0 && !carry.empty() && !line(carry.data(), carry.size())) return;
                if (have_batch && !hand_over()) return;
                std::lock_guard lock(mutex_);
                error_ = std::move(error);
                done_ = true;
                changed_.notify_all();
                return;
            }
            const char *p = chunk.data(), *end = p + n;
            while (p != end) {
                const auto *nl = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
                if (!nl) {
                    carry.append(p, end);
                    break;
                }
                bool more;
                if (carry.empty()) {
                    more = line(p, size_t(nl - p));
                } else {
                    carry.append(p, nl);
                    more = line(carry.data(), carry.size());
                    carry.clear();
                }
                if (!more) return;
                p = nl + 1;
            }
        }
    }

    gzFile gz_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Batch> full_;   // cut, in file order
    std::vector<Batch> free_;  // to be filled
    bool stop_ = false, done_ = false;
    std::string error_;
    std::thread thread_;  // last: starts once the rest exists
};

PaddedLineReader::PaddedLineReader(const std::filesystem::path &file) : file_(file) {
    auto gz = gzopen(file.c_str(), "rb");
    if (!gz) throw std::runtime_error(file.string() + ": cannot open capture: " + strerror(errno));
    try {
        splitter_ = std::make_unique<Splitter>(gz);
    } catch (...) {  // no thread to be had: the file must not stay open
        gzclose(gz);
        throw;
    }
}

PaddedLineReader::~PaddedLineReader() = default;

void PaddedLineReader::fail(std::string_view what) const {
    throw std::runtime_error(file_.string() + ":" + std::to_string(line_number_) + ": " +
                             std::string(what));
}

bool PaddedLineReader::next(std::string_view &line) {
    for (;;) {
        if (next_line_ == batch_.lines.size()) {
            if (ended_) return false;
            std::string error;
            const int got = splitter_->next(batch_, error);
            next_line_ = 0;
            if (got <= 0) {
                // A read error is reported once: a recording cut short (a crash while
                // recording) then reads as ending there, so what it holds can still be replayed.
                ended_ = true;
                batch_.lines.clear();
                if (got < 0) throw std::runtime_error(file_.string() + ": read error: " + error);
                return false;
            }
        }
        const auto [at, size] = batch_.lines[next_line_++];
        ++line_number_;
        if (size == 0) continue;  // blank lines carry nothing
        line = std::string_view(batch_.text.data() + at, size);
        return true;
    }
}

bool CaptureReader::next(TimeNs &receive_ts, std::string_view &frame) {
    std::string_view line;
    if (!lines_.next(line)) return false;
    // The time by hand: std::from_chars checks for overflow at each of its 19 digits, which
    // showed in replays; 19 digits cannot overflow 64 bits unsigned, so one check at the end.
    const char *p = line.data(), *end = p + line.size();
    const bool negative = p != end && *p == '-';
    p += negative;
    const char *digits = p;
    uint64_t t = 0;
    while (p != end && p - digits < 19 && static_cast<unsigned>(*p - '0') < 10)
        t = t * 10 + static_cast<unsigned>(*p++ - '0');
    if (p == digits || p == end || *p != ' ' ||
        t > static_cast<uint64_t>(INT64_MAX) + uint64_t{negative})
        lines_.fail("expected \"<receive_time_ns> <frame>\"");
    receive_ts = static_cast<TimeNs>(negative ? ~t + 1 : t);
    frame = std::string_view(p + 1, static_cast<size_t>(end - p - 1));
    url_ = {};
    if (frame.starts_with("http")) {  // "<url> <body>": a frame itself starts with { or [
        auto space = frame.find(' ');
        if (space == std::string_view::npos)
            lines_.fail("expected \"<receive_time_ns> <url> <body>\"");
        url_ = frame.substr(0, space);
        frame.remove_prefix(space + 1);
    }
    capacity_ = lines_.capacity_from(frame.data());
    return true;
}

CaptureWriter::CaptureWriter(const std::filesystem::path &file) : file_(file) {
    gz_ = gzopen(file.c_str(), "wb6");
    if (!gz_)
        throw std::runtime_error(file.string() + ": cannot create recording: " + strerror(errno));
}

CaptureWriter::~CaptureWriter() {
    if (gz_) gzclose(static_cast<gzFile>(gz_));
}

bool CaptureWriter::write(TimeNs receive_ts, std::string_view url, std::string_view frame) {
    if (frame.find('\n') != std::string_view::npos || url.find_first_of(" \n") != url.npos)
        return false;
    line_.clear();
    char digits[24];
    auto r = std::to_chars(digits, digits + sizeof digits, receive_ts);
    line_.append(digits, r.ptr);
    line_ += ' ';
    if (!url.empty()) {
        line_ += url;
        line_ += ' ';
    }
    line_ += frame;
    line_ += '\n';
    if (!gz_ || gzwrite(static_cast<gzFile>(gz_), line_.data(),
                        static_cast<unsigned>(line_.size())) != static_cast<int>(line_.size())) {
        int code = 0;
        throw std::runtime_error(file_.string() + ": write error: " +
                                 (gz_ ? gzerror(static_cast<gzFile>(gz_), &code) : "closed"));
    }
    ++frames_;
    return true;
}

void CaptureWriter::close() {
    if (!gz_) return;
    int rc = gzclose(static_cast<gzFile>(gz_));
    gz_ = nullptr;
    if (rc != Z_OK) throw std::runtime_error(file_.string() + ": error closing the recording");
}

bool parse_unix_seconds(std::string_view text, TimeNs &out) {
    auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac =
        dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (dot != std::string_view::npos && frac.empty()) return false;
    if (frac.size() > 9) return false;
    int64_t seconds = 0;
    auto r = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
    if (whole.empty() || r.ec != std::errc() || r.ptr != whole.data() + whole.size() ||
        whole[0] == '-')
        return false;
    int64_t nanos = 0;
    for (size_t i = 0; i < 9; ++i) {
        int64_t d = 0;
        if (i < frac.size()) {
            if (frac[i] < '0' || frac[i] > '9') return false;
            d = frac[i] - '0';
        }
        nanos = nanos * 10 + d;
    }
    constexpr int64_t kNsPerSecond = 1'000'000'000;
    if (seconds > (std::numeric_limits<int64_t>::max() - nanos) / kNsPerSecond) return false;
    out = seconds * kNsPerSecond + nanos;
    return true;
}

namespace {

// Splits "<ts>: <rest>" into the time and the rest.
bool time_then_payload(std::string_view text, TimeNs &ts, std::string_view &payload) {
    auto colon = text.find(": ");
    if (colon == std::string_view::npos) return false;
    if (!parse_unix_seconds(text.substr(0, colon), ts)) return false;
    payload = text.substr(colon + 2);
    return true;
}

}  // namespace

bool CryptofeedReader::next(CryptofeedLine &out) {
    std::string_view line;
    if (!lines_.next(line)) return false;
    out = {};
    constexpr std::string_view kConfiguration = "configuration: ";
    if (line.starts_with(kConfiguration)) {
        out.kind = CryptofeedKind::configuration;
        out.payload = line.substr(kConfiguration.size());
    } else if (line[0] >= '0' && line[0] <= '9') {
        out.kind = CryptofeedKind::received;
        if (!time_then_payload(line, out.ts, out.payload))
            lines_.fail("expected \"<unix_ts>: <json>\" (a received frame)");
    } else {
        // "<url> <arrow> <ts>[: <json>]"; URLs hold no spaces.
        auto sp = line.find(' ');
        auto sp2 = sp == std::string_view::npos ? sp : line.find(' ', sp + 1);
        if (sp2 == std::string_view::npos)
            lines_.fail(
                "expected \"<url> <-> <ts>\", \"<url> <- <ts>: <json>\" or "
                "\"<url> -> <ts>: <json>\"");
        out.url = line.substr(0, sp);
        std::string_view arrow = line.substr(sp + 1, sp2 - sp - 1);
        std::string_view rest = line.substr(sp2 + 1);
        if (arrow == "<->") {
            out.kind = CryptofeedKind::connect;
            if (!parse_unix_seconds(rest, out.ts)) lines_.fail("connect line: bad time");
        } else if (arrow == "<-" || arrow == "->") {
            out.kind = arrow == "<-" ? CryptofeedKind::sent : CryptofeedKind::rest_response;
            if (!time_then_payload(rest, out.ts, out.payload))
                lines_.fail("expected \"<ts>: <json>\" after \"" + std::string(arrow) + "\"");
        } else {
            lines_.fail("unknown direction \"" + std::string(arrow) + "\"");
        }
    }
    // The payload (or, without one, the whole line) ends where the line does: padding follows.
    capacity_ = lines_.capacity_from(out.payload.data() ? out.payload.data() : line.data());
    return true;
}

}  // namespace keel::market

namespace keel::market {

struct RecordingReader::Cryptofeed {
    std::vector<std::unique_ptr<CryptofeedReader>> readers;
    std::vector<CryptofeedLine> lines;  // each reader's next frame-carrying line
    std::vector<bool> pending;
    int consumed = -1;  // the reader whose line was handed out last
    uint64_t line_base = 0;

    // Moves reader k to its next line that carries a frame.
    void advance(size_t k) {
        CryptofeedLine &l = lines[k];
        while ((pending[k] = readers[k]->next(l)))
            if (l.kind == CryptofeedKind::received || l.kind == CryptofeedKind::rest_response)
                return;
    }
};

std::vector<std::filesystem::path> RecordingReader::cryptofeed_files(
    const std::filesystem::path &ws) {
    // NAME.ws.N.0
    const std::string name = ws.filename().string();
    const auto at = name.rfind(".ws.");
    if (at == std::string::npos || !name.ends_with(".0") || at + 4 >= name.size() - 2) return {};
    for (char ch : std::string_view(name).substr(at + 4, name.size() - 2 - at - 4))
        if (ch < '0' || ch > '9') return {};
    const std::string base = name.substr(0, at);
    std::vector<std::filesystem::path> files{ws};
    std::vector<std::filesystem::path> rest;
    const auto dir = ws.has_parent_path() ? ws.parent_path() : std::filesystem::path(".");
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string other = entry.path().filename().string();
        if (other == base + ".0" || (other.starts_with(base + ".http.") && other.ends_with(".0")))
            rest.push_back(entry.path());
    }
    std::sort(rest.begin(), rest.end());  // a stable order for line numbers and ties
    files.insert(files.end(), rest.begin(), rest.end());
    return files;
}

RecordingReader::RecordingReader(const std::filesystem::path &file) {
    const auto files = cryptofeed_files(file);
    if (files.empty()) {
        keel_ = std::make_unique<CaptureReader>(file);
        return;
    }
    cryptofeed_ = std::make_unique<Cryptofeed>();
    auto &c = *cryptofeed_;
    for (const auto &f : files) c.readers.push_back(std::make_unique<CryptofeedReader>(f));
    c.lines.resize(files.size());
    c.pending.resize(files.size());
    for (size_t k = 0; k < files.size(); ++k) c.advance(k);
}

RecordingReader::~RecordingReader() = default;

bool RecordingReader::next(TimeNs &receive_ts, std::string_view &frame) {
    if (keel_) {
        if (!keel_->next(receive_ts, frame)) return false;
        url_ = keel_->url();
        capacity_ = keel_->capacity();
        return true;
    }
    auto &c = *cryptofeed_;
    if (c.consumed >= 0) c.advance(static_cast<size_t>(c.consumed));
    int best = -1;
    for (size_t k = 0; k < c.lines.size(); ++k)
        if (c.pending[k] && (best < 0 || c.lines[k].ts < c.lines[static_cast<size_t>(best)].ts))
            best = static_cast<int>(k);
    c.consumed = best;
    if (best < 0) return false;
    const CryptofeedLine &l = c.lines[static_cast<size_t>(best)];
    receive_ts = l.ts;
    frame = l.payload;
    url_ = l.kind == CryptofeedKind::rest_response ? l.url : std::string_view{};
    capacity_ = c.readers[static_cast<size_t>(best)]->capacity();
    return true;
}

uint64_t RecordingReader::line_number() const {
    if (keel_) return keel_->line_number();
    uint64_t n = 0;
    for (const auto &r : cryptofeed_->readers) n += r->line_number();
    return n;
}

}  // namespace keel::market
