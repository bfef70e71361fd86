#include "keel/market/candle_file.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <simdjson.h>

namespace keel::market {
namespace {

[[noreturn]] void fail(const std::filesystem::path &path, size_t line, const std::string &what) {
    if (line) throw CandleFileError(fmt::format("{}:{}: {}", path.string(), line, what));
    throw CandleFileError(fmt::format("{}: {}", path.string(), what));
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '"'))
        s.remove_suffix(1);
    return s;
}

bool parse_double(std::string_view s, double &out) {
    s = trim(s);
    if (s.empty()) return false;
    if (s.front() == '+') s.remove_prefix(1);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

bool parse_int(std::string_view s, int64_t &out) {
    s = trim(s);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// Epoch seconds, ms, µs or ns, told apart by magnitude (any date after 1973 is unambiguous).
TimeNs epoch_to_ns(int64_t v) {
    int64_t a = v < 0 ? -v : v;
    if (a >= 100'000'000'000'000'000) return v;      // ns
    if (a >= 100'000'000'000'000) return v * 1'000;  // µs
    if (a >= 100'000'000'000) return v * 1'000'000;  // ms
    return v * 1'000'000'000;                        // s
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "YYYY-MM-DD[ T]HH:MM[:SS[.frac]][Z|+HH:MM|-HH:MM]" -> ns since the epoch.
bool parse_datetime(std::string_view s, TimeNs &out) {
    s = trim(s);
    auto num = [&](size_t pos, size_t len, int64_t &v) {
        if (pos + len > s.size()) return false;
        return parse_int(s.substr(pos, len), v);
    };
    int64_t y, mo, d, h = 0, mi = 0, sec = 0;
    if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
    if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d)) return false;
    size_t pos = 10;
    if (pos < s.size() && (s[pos] == ' ' || s[pos] == 'T')) {
        if (!num(pos + 1, 2, h) || s.size() < pos + 6 || s[pos + 3] != ':' || !num(pos + 4, 2, mi))
            return false;
        pos += 6;
        if (pos < s.size() && s[pos] == ':') {
            if (!num(pos + 1, 2, sec)) return false;
            pos += 3;
        }
    }
    int64_t frac_ns = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int64_t scale = 100'000'000;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            frac_ns += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
    }
    int64_t offset_s = 0;
    if (pos < s.size()) {
        if (s[pos] == 'Z') {
            ++pos;
        } else if (s[pos] == '+' || s[pos] == '-') {
            int64_t oh, om;
            if (!num(pos + 1, 2, oh) || s.size() < pos + 6 || s[pos + 3] != ':' ||
                !num(pos + 4, 2, om))
                return false;
            offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
            pos += 6;
        }
    }
    if (pos != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    out = ((days * 86400 + h * 3600 + mi * 60 + sec) - offset_s) * 1'000'000'000 + frac_ns;
    return true;
}

bool parse_time(std::string_view s, TimeNs &out) {
    int64_t v;
    if (parse_int(s, v)) {
        out = epoch_to_ns(v);
        return true;
    }
    double f;  // epoch seconds with a fraction
    if (parse_double(s, f) && f > 0 && f < 1e11) {
        out = static_cast<TimeNs>(std::llround(f * 1e9));
        return true;
    }
    return parse_datetime(s, out);
}

std::vector<std::string_view> split(std::string_view line) {
    std::vector<std::string_view> fields;
    size_t start = 0;
    for (size_t i = 0; i <= line.size(); ++i) {
        if (i == line.size() || line[i] == ',') {
            fields.push_back(line.substr(start, i - start));
            start = i + 1;
        }
    }
    return fields;
}

void check_row(const std::filesystem::path &path, size_t line, const CandleRow &r,
               const std::vector<CandleRow> &rows) {
    if (r.volume < 0) fail(path, line, "negative volume");
    if (r.low > r.high) fail(path, line, fmt::format("low {} above high {}", r.low, r.high));
    if (!rows.empty() && r.open_time <= rows.back().open_time)
        fail(path, line, "time does not increase (a duplicate or out-of-order row)");
}

std::vector<CandleRow> read_csv(const std::filesystem::path &path, const std::string &text) {
    std::vector<CandleRow> rows;
    std::istringstream in(text);
    std::string line_text;
    size_t line = 0;
    // Column positions: time, open, high, low, close, volume. Headerless = Binance layout.
    size_t col[6] = {0, 1, 2, 3, 4, 5};
    bool first = true;
    while (std::getline(in, line_text)) {
        ++line;
        std::string_view l = trim(line_text);
        if (l.empty()) continue;
        auto f = split(l);
        if (first) {
            first = false;
            int64_t probe;
            if (!parse_int(f[0], probe) && !parse_datetime(f[0], probe)) {
                bool found[6] = {};
                for (size_t i = 0; i < f.size(); ++i) {
                    std::string name(trim(f[i]));
                    for (auto &ch : name) ch = static_cast<char>(std::tolower(ch));
                    int k = -1;
                    if (name == "timestamp" || name == "open_time" || name == "time" ||
                        name == "date" || name == "datetime")
                        k = 0;
                    else if (name == "open")
                        k = 1;
                    else if (name == "high")
                        k = 2;
                    else if (name == "low")
                        k = 3;
                    else if (name == "close")
                        k = 4;
                    else if (name == "volume")
                        k = 5;
                    if (k >= 0 && !found[k]) {
                        col[k] = i;
                        found[k] = true;
                    }
                }
                static const char *names[] = {"time", "open", "high", "low", "close", "volume"};
                for (int k = 0; k < 6; ++k)
                    if (!found[k])
                        fail(path, line, fmt::format("header has no {} column", names[k]));
                continue;
            }
        }
        size_t need = 0;
        for (size_t c : col) need = c + 1 > need ? c + 1 : need;
        if (f.size() < need)
            fail(path, line, fmt::format("expected at least {} fields, found {}", need, f.size()));
        CandleRow r;
        if (!parse_time(f[col[0]], r.open_time))
            fail(path, line, fmt::format("bad time '{}'", trim(f[col[0]])));
        double *v[5] = {&r.open, &r.high, &r.low, &r.close, &r.volume};
        static const char *names[] = {"open", "high", "low", "close", "volume"};
        for (int k = 0; k < 5; ++k)
            if (!parse_double(f[col[k + 1]], *v[k]))
                fail(path, line, fmt::format("bad {} '{}'", names[k], trim(f[col[k + 1]])));
        check_row(path, line, r, rows);
        rows.push_back(r);
    }
    return rows;
}

// A JSON number or numeric string as a double.
bool json_number(simdjson::dom::element e, double &out) {
    if (e.is_string()) return parse_double(std::string_view(e.get_string().value()), out);
    if (e.is_int64()) {
        out = static_cast<double>(e.get_int64().value());
        return true;
    }
    if (e.is_uint64()) {
        out = static_cast<double>(e.get_uint64().value());
        return true;
    }
    if (e.is_double()) {
        out = e.get_double().value();
        return true;
    }
    return false;
}

// Volume column: Kraken puts vwap at 5 and volume at 6.
std::vector<CandleRow> read_json_rows(const std::filesystem::path &path, simdjson::dom::array arr,
                                      bool seconds, size_t volume_at) {
    std::vector<CandleRow> rows;
    rows.reserve(arr.size());
    size_t index = 0;
    for (auto item : arr) {
        ++index;
        auto bad = [&](const std::string &what) {
            fail(path, 0, fmt::format("row {}: {}", index, what));
        };
        simdjson::dom::array row;
        if (item.get_array().get(row)) bad("not an array");
        if (row.size() <= volume_at)
            bad(fmt::format("expected at least {} fields, found {}", volume_at + 1, row.size()));
        double t;
        if (!json_number(row.at(0).value(), t)) bad("bad time");
        CandleRow r;
        r.open_time = seconds ? static_cast<TimeNs>(std::llround(t * 1e9))
                              : epoch_to_ns(static_cast<int64_t>(std::llround(t)));
        double *v[5] = {&r.open, &r.high, &r.low, &r.close, &r.volume};
        static const char *names[] = {"open", "high", "low", "close", "volume"};
        for (size_t k = 0; k < 5; ++k)
            if (!json_number(row.at(k == 4 ? volume_at : k + 1).value(), *v[k]))
                bad(fmt::format("bad {}", names[k]));
        try {
            check_row(path, 0, r, rows);
        } catch (const CandleFileError &e) {
            bad(std::string(e.what()).substr(path.string().size() + 2));
        }
        rows.push_back(r);
    }
    return rows;
}

}  // namespace

std::vector<CandleRow> read_candle_file(const std::filesystem::path &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, 0, "cannot open");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) fail(path, 0, "empty file");
    if (text[first] != '[' && text[first] != '{') return read_csv(path, text);

    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (auto err = parser.parse(text).get(doc)) fail(path, 0, simdjson::error_message(err));
    if (doc.is_array()) return read_json_rows(path, doc.get_array().value(), false, 5);
    // Kraken: {"error": [], "result": {"PAIR": [[...]], "last": ...}}
    simdjson::dom::object result;
    if (doc["result"].get_object().get(result))
        fail(path, 0, "a JSON object must hold the rows in `result` (Kraken OHLC)");
    for (auto field : result) {
        simdjson::dom::array arr;
        if (!field.value.get_array().get(arr)) return read_json_rows(path, arr, true, 6);
    }
    fail(path, 0, "no array of rows in `result`");
}

}  // namespace keel::market
