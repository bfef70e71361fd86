#pragma once
// The text of a file under ../shared/data (KEEL_DATA_DIR), read in place.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace keel::test {

inline std::string data_file(const std::string &relative) {
    std::ifstream in(std::string(KEEL_DATA_DIR) + "/" + relative, std::ios::binary);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace keel::test
