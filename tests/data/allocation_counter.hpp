#pragma once
// Counts calls to the global operator new of the keel_data_tests binary, which
// allocation_counter.cpp replaces (in a translation unit of its own, so that no caller inlines
// it).

#include <cstdint>

namespace keel::test {

void start_counting_allocations();
// Allocations since start_counting_allocations().
uint64_t stop_counting_allocations();

}  // namespace keel::test
