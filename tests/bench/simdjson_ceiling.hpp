#pragma once
// The simdjson-only ceiling of bench_book: parse a depth frame with simdjson's on-demand API and
// touch every price and size string, nothing more. Built in its own translation unit for
// simdjson's AVX2 kernel (haswell): with the project's baseline x86-64 flags, on-demand compiles
// to simdjson's scalar fallback, which would make a ceiling two to three times too low.

#include <cstddef>
#include <cstdint>
#include <memory>

namespace keel::bench {

class SimdjsonCeiling {
  public:
    // False on a CPU without AVX2, BMI1/2, PCLMUL and LZCNT: the kernel cannot run there.
    static bool supported();
    SimdjsonCeiling();
    ~SimdjsonCeiling();
    // `text` holds `size` bytes of JSON and `capacity` - `size` bytes of padding after them.
    // Adds each string's first byte to `touched`, so none can be optimized away. False if a
    // price or size is not a string.
    bool touch(const char *text, size_t size, size_t capacity, uint64_t &touched);

  private:
    struct Parser;
    std::unique_ptr<Parser> parser_;
};

}  // namespace keel::bench
