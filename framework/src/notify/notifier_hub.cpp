#include "keel/notify/notifier_hub.hpp"

#include <chrono>

#include "keel/log/log.hpp"

namespace keel::notify {

struct NotifierHub::Instance {
    std::string name;
    std::shared_ptr<plugin::Library> library;
    keel_host_api host{};
    void *self = nullptr;
    ~Instance() {
        if (self) library->notifier().destroy(self);
    }
};

namespace {

void host_log(void *ctx, uint32_t level, const char *msg) {
    auto *name = static_cast<const std::string *>(ctx);
    auto lvl = level >= KEEL_LOG_ERROR  ? spdlog::level::err
               : level == KEEL_LOG_WARN ? spdlog::level::warn
               : level == KEEL_LOG_INFO ? spdlog::level::info
                                        : spdlog::level::debug;
    keel::log::get("notify").log(lvl, "[{}] {}", *name, msg ? msg : "");
}

int64_t host_now(void *) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

NotifierHub::NotifierHub() = default;
NotifierHub::~NotifierHub() {
    stop();
}

void NotifierHub::add(const std::string &name, std::shared_ptr<plugin::Library> library,
                      const plugin::Settings &settings) {
    auto inst = std::make_unique<Instance>();
    inst->name = name;
    inst->library = std::move(library);
    inst->host.struct_size = sizeof(keel_host_api);
    inst->host.abi_minor = KEEL_ABI_MINOR;
    inst->host.log = host_log;
    inst->host.now_ns = host_now;
    char err[512] = {0};
    void *self = nullptr;
    auto rc = inst->library->notifier().create(&inst->host, &inst->name, settings.data(),
                                               settings.size(), &self, err, sizeof err);
    if (rc != KEEL_OK)
        throw plugin::PluginError("notifier \"" + name + "\" (" + inst->library->file().string() +
                                  "): " + (err[0] ? err : "create() failed without a message"));
    inst->self = self;
    instances_.push_back(std::move(inst));
}

void NotifierHub::start() {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
}

void NotifierHub::post(Notification n) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(n));
    }
    cv_.notify_one();
}

void NotifierHub::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    // Anything posted while no thread ran (check mode, start-up failures) is still delivered.
    std::deque<Notification> rest;
    {
        std::lock_guard lock(mutex_);
        rest.swap(queue_);
    }
    for (auto &n : rest) deliver(n);
    instances_.clear();
}

void NotifierHub::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        Notification n = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        deliver(n);
        lock.lock();
    }
}

void NotifierHub::deliver(const Notification &n) {
    keel_notification cn{};
    cn.struct_size = sizeof cn;
    cn.level = n.level;
    cn.ts_ns = n.ts_ns;
    cn.source = n.source.c_str();
    cn.title = n.title.c_str();
    cn.body = n.body.c_str();
    for (auto &inst : instances_) {
        char err[512] = {0};
        bool ok = inst->library->notifier().notify(inst->self, &cn, err, sizeof err) == KEEL_OK;
        std::lock_guard lock(mutex_);
        if (ok) {
            ++delivered_;
        } else {
            ++failed_;
            // A failed alert is never silent: it lands in the log with its content.
            keel::log::get("notify").error("notifier \"{}\" failed to deliver \"{}\": {}",
                                           inst->name, n.title, err[0] ? err : "no message");
        }
    }
}

uint64_t NotifierHub::delivered() const {
    std::lock_guard lock(mutex_);
    return delivered_;
}
uint64_t NotifierHub::failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
}

}  // namespace keel::notify
