#include "keel/market/candle_file.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <simdjson.h>

#include "keel/core/time_text.hpp"

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

// Where rows come from and what to do with a bad one: throw (reading) or note it and skip the row
// (checking, `issues` set).
struct Source {
    const std::filesystem::path &path;
    std::vector<CandleFileIssue> *issues = nullptr;

    // Always false: the row is not used.
    bool bad_row(size_t line, std::string what) const {
        if (!issues) fail(path, line, what);
        issues->push_back({line, std::move(what)});
        return false;
    }
};

// What is wrong with a row, or "" (`previous`: the last good row's time, 0 before the first).
std::string row_problem(const CandleRow &r, TimeNs previous, bool strict_prices) {
    if (r.volume < 0) return "negative volume";
    if (r.low > r.high) return fmt::format("low {} above high {}", r.low, r.high);
    if (previous && r.open_time == previous) return "duplicate time (the row before has it too)";
    if (previous && r.open_time < previous) return "time goes backwards (an out-of-order row)";
    if (strict_prices) {
        if (!(r.low > 0)) return fmt::format("price {} is not positive", r.low);
        if (r.open < r.low || r.open > r.high || r.close < r.low || r.close > r.high)
            return fmt::format("open {} or close {} outside low {} .. high {}", r.open, r.close,
                               r.low, r.high);
    }
    return {};
}

bool check_row(const Source &src, size_t line, const CandleRow &r,
               const std::vector<CandleRow> &rows) {
    auto problem = row_problem(r, rows.empty() ? 0 : rows.back().open_time, src.issues != nullptr);
    return problem.empty() || src.bad_row(line, problem);
}

std::vector<CandleRow> read_csv(const Source &src, std::string_view text) {
    const auto &path = src.path;
    std::vector<CandleRow> rows;
    size_t line = 0;
    // Column positions: time, open, high, low, close, volume. Headerless = Binance layout.
    size_t col[6] = {0, 1, 2, 3, 4, 5};
    bool first = true;
    for (size_t at = 0; at < text.size();) {
        const size_t end = std::min(text.find('\n', at), text.size());
        std::string_view l = trim(text.substr(at, end - at));
        at = end + 1;
        ++line;
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
        if (f.size() < need) {
            src.bad_row(line, fmt::format("expected at least {} fields, found {}", need, f.size()));
            continue;
        }
        CandleRow r;
        if (!parse_time(f[col[0]], r.open_time)) {
            src.bad_row(line, fmt::format("bad time '{}'", trim(f[col[0]])));
            continue;
        }
        double *v[5] = {&r.open, &r.high, &r.low, &r.close, &r.volume};
        static const char *names[] = {"open", "high", "low", "close", "volume"};
        bool good = true;
        for (int k = 0; k < 5 && good; ++k)
            if (!parse_double(f[col[k + 1]], *v[k]))
                good = src.bad_row(line, fmt::format("bad {} '{}'", names[k], trim(f[col[k + 1]])));
        if (good && check_row(src, line, r, rows)) rows.push_back(r);
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
// JSON rows have no line of their own: problems name the row ("row 12: bad high").
std::vector<CandleRow> read_json_rows(const Source &src, simdjson::dom::array arr, bool seconds,
                                      size_t volume_at) {
    std::vector<CandleRow> rows;
    rows.reserve(arr.size());
    size_t index = 0;
    for (auto item : arr) {
        ++index;
        auto bad = [&](const std::string &what) {
            return src.bad_row(0, fmt::format("row {}: {}", index, what));
        };
        simdjson::dom::array row;
        if (item.get_array().get(row)) {
            bad("not an array");
            continue;
        }
        if (row.size() <= volume_at) {
            bad(fmt::format("expected at least {} fields, found {}", volume_at + 1, row.size()));
            continue;
        }
        double t;
        if (!json_number(row.at(0).value(), t)) {
            bad("bad time");
            continue;
        }
        CandleRow r;
        r.open_time = seconds ? static_cast<TimeNs>(std::llround(t * 1e9))
                              : epoch_to_ns(static_cast<int64_t>(std::llround(t)));
        double *v[5] = {&r.open, &r.high, &r.low, &r.close, &r.volume};
        static const char *names[] = {"open", "high", "low", "close", "volume"};
        bool good = true;
        for (size_t k = 0; k < 5 && good; ++k)
            if (!json_number(row.at(k == 4 ? volume_at : k + 1).value(), *v[k]))
                good = bad(fmt::format("bad {}", names[k]));
        if (!good) continue;
        auto problem =
            row_problem(r, rows.empty() ? 0 : rows.back().open_time, src.issues != nullptr);
        if (problem.empty() || bad(problem)) rows.push_back(r);
    }
    return rows;
}

}  // namespace

namespace {

std::vector<CandleRow> read(const Source &src) {
    const auto &path = src.path;
    // Read in one go, padded for simdjson (which would otherwise copy it again).
    simdjson::padded_string padded;
    if (simdjson::padded_string::load(path.string()).get(padded)) fail(path, 0, "cannot open");
    const std::string_view text(padded.data(), padded.size());
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) fail(path, 0, "empty file");
    if (text[first] != '[' && text[first] != '{') return read_csv(src, text);

    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (auto err = parser.parse(padded).get(doc)) fail(path, 0, simdjson::error_message(err));
    if (doc.is_array()) return read_json_rows(src, doc.get_array().value(), false, 5);
    // Kraken: {"error": [], "result": {"PAIR": [[...]], "last": ...}}
    simdjson::dom::object result;
    if (doc["result"].get_object().get(result))
        fail(path, 0, "a JSON object must hold the rows in `result` (Kraken OHLC)");
    for (auto field : result) {
        simdjson::dom::array arr;
        if (!field.value.get_array().get(arr)) return read_json_rows(src, arr, true, 6);
    }
    fail(path, 0, "no array of rows in `result`");
}

}  // namespace

std::vector<CandleRow> read_candle_file(const std::filesystem::path &path) {
    return read(Source{path});
}

std::vector<CandleRow> scan_candle_file(const std::filesystem::path &path,
                                        std::vector<CandleFileIssue> &issues) {
    return read(Source{path, &issues});
}

std::vector<CandleRow> read_candle_files(const std::vector<std::filesystem::path> &paths,
                                         size_t *duplicates) {
    if (paths.size() == 1) return read_candle_file(paths.front());
    struct Sourced {
        CandleRow row;
        size_t file;
    };
    std::vector<Sourced> all;
    for (size_t k = 0; k < paths.size(); ++k)
        for (const auto &r : read_candle_file(paths[k])) all.push_back({r, k});
    std::stable_sort(all.begin(), all.end(), [](const Sourced &a, const Sourced &b) {
        return a.row.open_time < b.row.open_time;
    });
    std::vector<CandleRow> merged;
    merged.reserve(all.size());
    size_t repeats = 0;
    for (size_t k = 0; k < all.size(); ++k) {
        const auto &r = all[k].row;
        if (!merged.empty() && merged.back().open_time == r.open_time) {
            const auto &p = merged.back();
            if (p.open != r.open || p.high != r.high || p.low != r.low || p.close != r.close ||
                p.volume != r.volume)
                throw CandleFileError(fmt::format("the candle at {} differs between {} and {}",
                                                  utc_text(r.open_time, "%Y-%m-%d %H:%M:%S"),
                                                  paths[all[k - 1].file].string(),
                                                  paths[all[k].file].string()));
            ++repeats;
            continue;
        }
        merged.push_back(r);
    }
    if (duplicates) *duplicates = repeats;
    return merged;
}

TimeNs candle_interval(const std::vector<CandleRow> &rows) {
    std::map<TimeNs, size_t> steps;
    for (size_t k = 1; k < rows.size(); ++k) {
        TimeNs d = rows[k].open_time - rows[k - 1].open_time;
        if (d > 0) ++steps[d];
    }
    TimeNs interval = 0;
    size_t most = 0;
    for (const auto &[step, n] : steps) {
        if (n > most) {  // ties: the shorter step, since the map is in order
            most = n;
            interval = step;
        }
    }
    return interval;
}

std::vector<CandleGap> find_gaps(const std::vector<CandleRow> &rows, TimeNs &interval) {
    interval = candle_interval(rows);
    std::vector<CandleGap> gaps;
    if (interval == 0) return gaps;
    for (size_t k = 1; k < rows.size(); ++k) {
        TimeNs d = rows[k].open_time - rows[k - 1].open_time;
        if (d == interval) continue;
        bool off_grid = d % interval != 0;
        if (d > interval || off_grid)
            gaps.push_back(
                {rows[k - 1].open_time + interval, rows[k].open_time,
                 d > interval ? static_cast<uint64_t>(d / interval - (off_grid ? 0 : 1)) : 0,
                 off_grid});
    }
    return gaps;
}

}  // namespace keel::market
