#pragma once
// Watches strategy files for saves (inotify on their directories, so editors that write a new
// file and rename it over the old one are seen too) and calls back once a file has been quiet
// for a moment. One thread; the callback runs on it and must only queue work.

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <thread>
#include <vector>

namespace keel::strategy {

class FileWatcher {
  public:
    using OnChange = std::function<void(const std::filesystem::path &file)>;

    // Throws std::system_error if inotify is unavailable.
    FileWatcher(const std::vector<std::filesystem::path> &files, OnChange on_change);
    ~FileWatcher();
    FileWatcher(const FileWatcher &) = delete;
    FileWatcher &operator=(const FileWatcher &) = delete;

  private:
    void loop();

    int inotify_fd_ = -1;
    int stop_fd_ = -1;                           // eventfd: wakes the thread to stop
    std::map<int, std::filesystem::path> dirs_;  // watch descriptor -> directory
    std::vector<std::filesystem::path> files_;   // absolute, normalized
    OnChange on_change_;
    std::thread thread_;
};

}  // namespace keel::strategy
