#pragma once
// Delivers notifications to every notifier plugin on a thread of its own, so a slow channel never
// delays the engine. post() never blocks on a notifier; stop() delivers what is queued first.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "keel/plugin/loader.hpp"

namespace keel::notify {

struct Notification {
    uint32_t level = KEEL_NOTIFY_INFO;  // keel_notify_level
    int64_t ts_ns = 0;
    std::string source, title, body;
};

class NotifierHub {
  public:
    NotifierHub();
    ~NotifierHub();
    NotifierHub(const NotifierHub &) = delete;
    NotifierHub &operator=(const NotifierHub &) = delete;

    // Creates a notifier instance (on the calling thread, before start). Throws PluginError.
    void add(const std::string &name, std::shared_ptr<plugin::Library> library,
             const plugin::Settings &settings);
    void start();
    void post(Notification n);
    // Delivers the queue, destroys the instances and joins the thread. Idempotent.
    void stop();

    uint64_t delivered() const;
    uint64_t failed() const;

  private:
    struct Instance;
    void run();
    void deliver(const Notification &n);

    std::vector<std::unique_ptr<Instance>> instances_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Notification> queue_;
    bool stopping_ = false;
    std::thread thread_;
    uint64_t delivered_ = 0, failed_ = 0;
};

}  // namespace keel::notify
