#pragma once
// A shipped config (configs/<name>) with its relative paths pointed at this checkout and at the
// capture data wherever KEEL_DATA_DIR says it is, for tests and benchmarks that run the configs
// users run.

#include <filesystem>
#include <fstream>
#include <string>

namespace keel::test {

inline std::string shipped_config(const std::string &name) {
    const std::filesystem::path source = KEEL_SOURCE_DIR;
    std::ifstream in(source / "configs" / name);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto replace = [&](const std::string &from, const std::string &to) {
        for (size_t p = 0; (p = text.find(from, p)) != std::string::npos; p += to.size())
            text.replace(p, from.size(), to);
    };
    replace("../../shared/data/", std::string(KEEL_DATA_DIR) + "/");
    replace("../strategies/", (source / "strategies").string() + "/");
    replace("preset: risk/", "preset: " + (source / "configs/risk").string() + "/");
    return text;
}

}  // namespace keel::test
