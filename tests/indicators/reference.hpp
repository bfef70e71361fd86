#pragma once
// Shared by the indicator tests: the real candle files and the reference outputs the Node
// harnesses in tests/reference wrote before these tests run (CTest fixtures).

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "keel/indicators/bar.hpp"
#include "keel/market/candle_file.hpp"

namespace keel::test {

inline std::filesystem::path candle_dir() {
    return std::filesystem::path(KEEL_DATA_DIR) / "candles";
}
inline std::filesystem::path reference_dir() {
    return std::filesystem::path(KEEL_BINARY_DIR) / "reference";
}

// The 1m files the TA-Lib reference covers (tests/CMakeLists.txt passes the same list to it).
inline const std::vector<std::string> &talib_files() {
    static const std::vector<std::string> f = {
        "binance_BTCUSDT_1m_20210420_20210520.json", "binance_ETHUSDT_1m_20210420_20210520.json",
        "binance_SOLUSDT_1m_20210515_20210615.json", "ftx_BTC-PERP_1m_20211231_20220201.csv",
        "kraken_spot_XBTUSDT_1m_http_ohlc.json"};
    return f;
}

struct Bars {
    std::vector<indicators::Bar> bars;
    std::vector<TimeNs> starts;
};

inline Bars load_bars(const std::filesystem::path &file) {
    Bars out;
    for (auto &r : market::read_candle_file(file)) {
        out.bars.push_back({r.open, r.high, r.low, r.close, r.volume});
        out.starts.push_back(r.open_time);
    }
    return out;
}

// One reference series: the value at bar `begin + k` is values[k].
struct RefSeries {
    size_t begin = 0;
    std::vector<double> values;
};
std::map<std::string, RefSeries> read_talib_reference(const std::filesystem::path &json);

}  // namespace keel::test
