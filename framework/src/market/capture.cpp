#include "keel/market/capture.hpp"

#include <zlib.h>

#include <charconv>
#include <cstring>

namespace keel::market {

CaptureReader::CaptureReader(const std::filesystem::path &file)
    : file_(file), chunk_(1 << 16), line_(1 << 12) {
    gz_ = gzopen(file.c_str(), "rb");
    if (!gz_) throw std::runtime_error(file.string() + ": cannot open capture: " + strerror(errno));
}

CaptureReader::~CaptureReader() {
    if (gz_) gzclose(static_cast<gzFile>(gz_));
}

bool CaptureReader::read_line() {
    line_len_ = 0;
    bool any = false;
    while (true) {
        if (chunk_pos_ == chunk_len_) {
            int n = gzread(static_cast<gzFile>(gz_), chunk_.data(),
                           static_cast<unsigned>(chunk_.size()));
            if (n < 0) {
                int code = 0;
                throw std::runtime_error(
                    file_.string() + ": read error: " + gzerror(static_cast<gzFile>(gz_), &code));
            }
            if (n == 0) return any;
            chunk_pos_ = 0;
            chunk_len_ = static_cast<size_t>(n);
        }
        const char *start = chunk_.data() + chunk_pos_;
        size_t avail = chunk_len_ - chunk_pos_;
        const void *nl = std::memchr(start, '\n', avail);
        size_t take = nl ? static_cast<size_t>(static_cast<const char *>(nl) - start) : avail;
        if (line_len_ + take + kPadding > line_.size())
            line_.resize(std::max(line_.size() * 2, line_len_ + take + kPadding));
        std::memcpy(line_.data() + line_len_, start, take);
        line_len_ += take;
        chunk_pos_ += take + (nl ? 1 : 0);
        any = true;
        if (nl) return true;
    }
}

bool CaptureReader::next(TimeNs &receive_ts, std::string_view &frame) {
    while (read_line()) {
        ++line_number_;
        if (line_len_ == 0) continue;  // blank lines carry nothing
        std::memset(line_.data() + line_len_, 0, kPadding);
        const char *begin = line_.data();
        const char *end = begin + line_len_;
        auto r = std::from_chars(begin, end, receive_ts);
        if (r.ec != std::errc() || r.ptr == end || *r.ptr != ' ')
            throw std::runtime_error(file_.string() + ":" + std::to_string(line_number_) +
                                     ": expected \"<receive_time_ns> <frame>\"");
        frame_offset_ = static_cast<size_t>(r.ptr + 1 - begin);
        frame = std::string_view(r.ptr + 1, static_cast<size_t>(end - r.ptr - 1));
        return true;
    }
    return false;
}

}  // namespace keel::market
