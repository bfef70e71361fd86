#include "data/allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<bool> counting{false};
std::atomic<uint64_t> allocations{0};
}  // namespace

// The array and nothrow forms call these in libstdc++.
void *operator new(std::size_t n) {
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
    if (void *p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void *p) noexcept {
    std::free(p);
}
void operator delete(void *p, std::size_t) noexcept {
    std::free(p);
}

namespace keel::test {

void start_counting_allocations() {
    allocations = 0;
    counting = true;
}

uint64_t stop_counting_allocations() {
    counting = false;
    return allocations.load();
}

}  // namespace keel::test
