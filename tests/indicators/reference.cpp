#include "reference.hpp"

#include <stdexcept>

#include <simdjson.h>

namespace keel::test {

std::map<std::string, RefSeries> read_talib_reference(const std::filesystem::path &json) {
    simdjson::dom::parser parser;
    simdjson::padded_string text;
    if (simdjson::padded_string::load(json.string()).get(text))
        throw std::runtime_error("cannot read " + json.string() +
                                 " (the talib_reference test writes it)");
    simdjson::dom::element doc = parser.parse(text);
    std::map<std::string, RefSeries> out;
    for (auto field : doc["series"].get_object()) {
        RefSeries s;
        s.begin = static_cast<size_t>(field.value["begin"].get_int64().value());
        for (auto v : field.value["values"].get_array()) s.values.push_back(v.get_double());
        out.emplace(std::string(field.key), std::move(s));
    }
    return out;
}

}  // namespace keel::test
