// Compiled with -mavx2 -mbmi -mbmi2 -mpclmul -mlzcnt (tests/bench/CMakeLists.txt), so simdjson's
// builtin on-demand implementation is haswell. Only called after supported() said yes.
#include "simdjson_ceiling.hpp"

#include <simdjson.h>

static_assert(SIMDJSON_CAN_ALWAYS_RUN_HASWELL, "this file must be built with the haswell flags");

namespace keel::bench {

struct SimdjsonCeiling::Parser {
    simdjson::ondemand::parser parser;
};

bool SimdjsonCeiling::supported() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("pclmul") &&
           __builtin_cpu_supports("abm");  // LZCNT
}

SimdjsonCeiling::SimdjsonCeiling() : parser_(std::make_unique<Parser>()) {}
SimdjsonCeiling::~SimdjsonCeiling() = default;

bool SimdjsonCeiling::touch(const char *text, size_t size, size_t capacity, uint64_t &touched) {
    bool ok = true;
    auto touch_side = [&](simdjson::ondemand::value side) {
        for (auto level : side.get_array()) {
            for (auto field : level.get_array()) {
                // The string's text in place: copying it out (get_string) would be work the
                // ceiling need not do.
                simdjson::ondemand::raw_json_string s;
                if (field.get_raw_json_string().get(s)) {
                    ok = false;
                    return;
                }
                touched += uint8_t(*s.raw());
            }
        }
    };
    auto doc = parser_->parser.iterate(text, size, capacity);
    auto data = doc["data"];
    touch_side(data["b"]);
    touch_side(data["a"]);
    return ok;
}

}  // namespace keel::bench
