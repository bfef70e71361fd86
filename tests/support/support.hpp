#pragma once
// Helpers shared by keel's tests: temporary directories, files, and child processes with bounded
// waits (a hung child is killed, never waited on forever).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace keel::test {

namespace fs = std::filesystem;

inline fs::path source_dir() {
    return KEEL_SOURCE_DIR;
}
inline fs::path binary_dir() {
    return KEEL_BINARY_DIR;
}

class TempDir {
  public:
    TempDir() {
        std::random_device rd;
        path_ = fs::temp_directory_path() /
                ("keel-test-" + std::to_string(rd()) + "-" + std::to_string(::getpid()));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path &path() const { return path_; }
    fs::path write(const std::string &name, const std::string &content) const {
        auto p = path_ / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }

  private:
    fs::path path_;
};

// A child process with its stdout and stderr captured. Its stdin is a pipe this object holds
// open, so a child that exits when its stdin ends (a test server) goes with the test.
class Child {
  public:
    explicit Child(std::vector<std::string> argv) {
        int in[2], out[2], err[2];
        if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0)
            throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            dup2(err[1], 2);
            close(in[0]), close(in[1]), close(out[0]), close(out[1]), close(err[0]), close(err[1]);
            // The test runner may block signals; the child must see them.
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            std::vector<char *> args;
            for (auto &a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            execv(args[0], args.data());
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        close(err[1]);
        in_fd_ = in[1];
        out_fd_ = out[0];
        err_fd_ = err[0];
    }
    ~Child() {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (in_fd_ >= 0) close(in_fd_);
        if (out_fd_ >= 0) close(out_fd_);
        if (err_fd_ >= 0) close(err_fd_);
    }

    void signal(int sig) { ::kill(pid_, sig); }

    // Reads output until stderr or stdout contains `needle` or the timeout passes.
    bool wait_for_output(const std::string &needle, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            pump(50);
            if (out_.find(needle) != std::string::npos || err_.find(needle) != std::string::npos)
                return true;
        }
        return false;
    }

    // Waits for exit; returns the exit code, or -signal, or nullopt-like -1000 on timeout (after
    // which the child is killed).
    int wait(std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        int status = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            pump(20);
            pid_t r = waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exited_ = true;
                while (pump(0)) {
                }
                if (WIFEXITED(status)) return WEXITSTATUS(status);
                if (WIFSIGNALED(status)) return -WTERMSIG(status);
                return -999;
            }
        }
        return -1000;
    }

    const std::string &out() const { return out_; }
    const std::string &err() const { return err_; }

  private:
    // Reads what is available; true if anything was read.
    bool pump(int timeout_ms) {
        pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
        if (poll(fds, 2, timeout_ms) <= 0) return false;
        bool any = false;
        char buf[4096];
        for (int k = 0; k < 2; ++k) {
            if (!(fds[k].revents & (POLLIN | POLLHUP))) continue;
            ssize_t n = read(fds[k].fd, buf, sizeof buf);
            if (n > 0) {
                (k == 0 ? out_ : err_).append(buf, static_cast<size_t>(n));
                any = true;
            }
        }
        return any;
    }
    pid_t pid_ = -1;
    int in_fd_ = -1, out_fd_ = -1, err_fd_ = -1;
    bool exited_ = false;
    std::string out_, err_;
};

struct Result {
    int code;
    std::string out, err;
};

inline Result run(std::vector<std::string> argv,
                  std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    Child c(std::move(argv));
    int code = c.wait(timeout);
    return {code, c.out(), c.err()};
}

inline std::string keel_binary() {
    return (binary_dir() / "keel").string();
}

}  // namespace keel::test
