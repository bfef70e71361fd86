#pragma once
// Reads recorded market data frames line by line, gzip-compressed or plain (zlib reads both).
// Format: one frame per line, "<receive_time_ns> <raw frame>" (hftbacktest's capture format and
// keel's own recordings). Each frame is handed out with spare readable bytes after it, as
// simdjson requires, and without allocation once the line buffer has grown.

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/types.hpp"

namespace keel::market {

class CaptureReader {
  public:
    static constexpr size_t kPadding = 64;  // >= simdjson::SIMDJSON_PADDING

    // Throws std::runtime_error naming the file if it cannot be opened.
    explicit CaptureReader(const std::filesystem::path &file);
    ~CaptureReader();
    CaptureReader(const CaptureReader &) = delete;
    CaptureReader &operator=(const CaptureReader &) = delete;

    // The next frame; false at the end. Throws on a line without "<ts> " or on a read error.
    bool next(TimeNs &receive_ts, std::string_view &frame);
    // Bytes readable from frame.data(): frame.size() + kPadding at least.
    size_t capacity() const { return line_.size() - frame_offset_; }
    uint64_t line_number() const { return line_number_; }

  private:
    bool read_line();

    std::filesystem::path file_;
    void *gz_ = nullptr;
    std::vector<char> chunk_;
    size_t chunk_pos_ = 0, chunk_len_ = 0;
    std::vector<char> line_;
    size_t line_len_ = 0, frame_offset_ = 0;
    uint64_t line_number_ = 0;
};

}  // namespace keel::market
