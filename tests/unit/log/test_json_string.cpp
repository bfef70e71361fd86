#include <catch2/catch.hpp>

#include "keel/log/log.hpp"

using keel::log::json_string;

TEST_CASE("json_string quotes and escapes what a JSON string may not hold", "[log]") {
    CHECK(json_string("plain") == "\"plain\"");
    CHECK(json_string("say \"hi\"\\now") == "\"say \\\"hi\\\"\\\\now\"");
    CHECK(json_string("a\nb\tc\rd") == "\"a\\nb\\tc\\rd\"");
    CHECK(json_string(std::string("\x01", 1)) == "\"\\u0001\"");
    CHECK(json_string("") == "\"\"");
}
