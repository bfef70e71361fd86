// strategies/keel.d.lua (the editor definitions) names exactly the API a strategy gets: every
// function and table of `keel`, `keel.risk`, `keel.log` and `keel.indicator`, read from a live
// strategy, must be declared there, and nothing declared may be missing from the API.

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "keel/engine/engine.hpp"
#include "support/engine.hpp"
#include "support/support.hpp"

using namespace keel;

namespace {

std::set<std::string> split(const std::string &text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) out.insert(w);
    return out;
}

// "keel.order keel.risk.size ..." as the definitions declare them.
std::set<std::string> declared() {
    std::ifstream in(test::source_dir() / "strategies" / "keel.d.lua");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::set<std::string> out;
    std::smatch m;
    for (auto it = text.cbegin();
         std::regex_search(it, text.cend(), m, std::regex(R"(\nfunction (keel\.[a-z_]+)\()"));
         it = m.suffix().first)
        out.insert(m[1]);
    // Fields of the classes behind keel.risk, keel.log, keel.indicator and keel itself.
    const std::pair<const char *, const char *> classes[] = {
        {"keel.Risk", "keel.risk."},
        {"keel.Log", "keel.log."},
        {"keel.IndicatorKinds", "keel.indicator."},
        {"keel.Api", "keel."}};
    for (auto [cls, prefix] : classes) {
        auto start = text.find(std::string("---@class ") + cls + "\n");
        REQUIRE(start != std::string::npos);
        std::istringstream lines(text.substr(start));
        std::string line;
        std::getline(lines, line);
        while (std::getline(lines, line) && line.rfind("---@field ", 0) == 0)
            out.insert(std::string(prefix) + line.substr(10, line.find(' ', 10) - 10));
    }
    return out;
}

}  // namespace

TEST_CASE("keel.d.lua declares exactly the API a strategy gets", "[engine][lua]") {
    test::TempDir dir;
    dir.write("api.lua", R"(
local names = {}
local function list(prefix, t)
  for k, v in pairs(t) do
    names[#names + 1] = prefix .. k
  end
end
list("keel.", keel)
list("keel.risk.", keel.risk)
list("keel.log.", keel.log)
list("keel.indicator.", keel.indicator)
table.sort(names)
api = table.concat(names, " ")
)");
    auto cfg = config::load_file(dir.write("deploy.yaml", R"(venues: { sim: { plugin: sim } }
instruments: [ { symbol: BTCUSDT, venue: sim } ]
strategies: [ { name: api, file: api.lua, instruments: [BTCUSDT] } ]
)"));
    engine::Engine e(cfg, test::simulated());
    e.prepare();
    auto live = split(*e.strategy("api")->global_as_string("api"));
    auto defs = declared();
    for (auto &name : live) {
        INFO(name << " is in the API but not in strategies/keel.d.lua");
        CHECK(defs.count(name) == 1);
    }
    for (auto &name : defs) {
        INFO(name << " is declared in strategies/keel.d.lua but not in the API");
        CHECK(live.count(name) == 1);
    }
}
