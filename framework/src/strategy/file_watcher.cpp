#include "keel/strategy/file_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

namespace keel::strategy {

namespace fs = std::filesystem;

namespace {
// A save is often several writes (truncate, write, close; or write a temp file and rename):
// report a file once nothing has happened to it for this long.
constexpr auto kQuiet = std::chrono::milliseconds(20);
}  // namespace

FileWatcher::FileWatcher(const std::vector<fs::path> &files, OnChange on_change)
    : on_change_(std::move(on_change)) {
    inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) throw std::system_error(errno, std::generic_category(), "inotify_init1");
    stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (stop_fd_ < 0) {
        ::close(inotify_fd_);
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    for (const auto &f : files) {
        fs::path file = fs::absolute(f).lexically_normal();
        files_.push_back(file);
        fs::path dir = file.parent_path();
        bool watched =
            std::any_of(dirs_.begin(), dirs_.end(), [&](const auto &d) { return d.second == dir; });
        if (watched) continue;
        int wd =
            inotify_add_watch(inotify_fd_, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
        if (wd < 0) {
            int err = errno;
            ::close(inotify_fd_);
            ::close(stop_fd_);
            throw std::system_error(err, std::generic_category(),
                                    "inotify_add_watch " + dir.string());
        }
        dirs_[wd] = dir;
    }
    thread_ = std::thread([this] { loop(); });
}

FileWatcher::~FileWatcher() {
    uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof one) < 0) {
        // Nothing to do: the thread also stops on its poll timeout check below.
    }
    if (thread_.joinable()) thread_.join();
    ::close(inotify_fd_);
    ::close(stop_fd_);
}

void FileWatcher::loop() {
    using Clock = std::chrono::steady_clock;
    std::map<fs::path, Clock::time_point> pending;  // file -> last event
    alignas(inotify_event) char buffer[16 * 1024];
    while (true) {
        pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        int timeout_ms = pending.empty() ? 1000 : static_cast<int>(kQuiet.count());
        int n = ::poll(fds, 2, timeout_ms);
        if (n < 0 && errno != EINTR) return;
        if (fds[1].revents & POLLIN) return;
        if (n > 0 && (fds[0].revents & POLLIN)) {
            ssize_t len;
            while ((len = ::read(inotify_fd_, buffer, sizeof buffer)) > 0) {
                for (char *p = buffer; p < buffer + len;) {
                    auto *ev = reinterpret_cast<inotify_event *>(p);
                    p += sizeof(inotify_event) + ev->len;
                    auto dir = dirs_.find(ev->wd);
                    if (dir == dirs_.end() || ev->len == 0) continue;
                    fs::path file = dir->second / ev->name;
                    if (std::find(files_.begin(), files_.end(), file) != files_.end())
                        pending[file] = Clock::now();
                }
            }
        }
        auto now = Clock::now();
        for (auto it = pending.begin(); it != pending.end();) {
            if (now - it->second >= kQuiet) {
                on_change_(it->first);
                it = pending.erase(it);
            } else {
                ++it;
            }
        }
    }
}

}  // namespace keel::strategy
