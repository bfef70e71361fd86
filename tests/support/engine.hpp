#pragma once
// The engine as tests run it: a simulated clock (minutes of market in milliseconds, the same
// session every time) and the plugins of this build.

#include "keel/engine/engine.hpp"

namespace keel::test {

inline engine::EngineOptions simulated() {
    engine::EngineOptions o;
    o.clock = engine::ClockKind::simulated;
    o.plugin_search = {KEEL_PLUGIN_DIR};
    return o;
}

}  // namespace keel::test
