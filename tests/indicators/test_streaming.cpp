// Streaming equals batch, for every indicator on every real candle file: a fresh run over the
// whole file (batch) against (1) an instance first fed part of the file, reset, and fed the whole
// file, and (2) a copy taken part-way that continues on its own. Equal means bit for bit.
#include <catch2/catch.hpp>

#include <cstring>

#include "keel/indicators/registry.hpp"
#include "reference.hpp"

using namespace keel;
using namespace keel::indicators;

namespace {

std::vector<std::filesystem::path> candle_files() {
    std::vector<std::filesystem::path> files;
    for (auto dir : {test::candle_dir(), test::candle_dir() / "binance_usdm"})
        for (auto &e : std::filesystem::directory_iterator(dir)) {
            auto name = e.path().filename().string();
            // Funding-rate files are not candles.
            if (e.is_regular_file() && name.find("funding") == std::string::npos)
                files.push_back(e.path());
        }
    std::sort(files.begin(), files.end());
    return files;
}

bool same_bits(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

}  // namespace

TEST_CASE("every indicator streams exactly as it computes in batch, on every candle file",
          "[indicators][streaming]") {
    auto files = candle_files();
    REQUIRE(files.size() >= 18);
    for (const auto &file : files) {
        auto data = test::load_bars(file);
        REQUIRE(!data.bars.empty());
        std::span<const Bar> bars(data.bars);
        for (const auto &kind : indicator_kinds()) {
            INFO(file.filename().string() << " " << kind.name);
            auto proto = make_indicator(kind.name, {});
            size_t n = proto->output_names().size();
            auto batch = run_batch(*proto, bars, data.starts);
            REQUIRE(batch.size() == bars.size() * n);

            // Seed with a part, reset, then stream everything.
            auto a = proto->clone();
            size_t part = bars.size() / 3;
            for (size_t t = 0; t < part; ++t) a->update(bars[t], data.starts[t]);
            a->reset();
            std::unique_ptr<AnyIndicator> copy;
            size_t mismatches = 0, ready_rows = 0;
            for (size_t t = 0; t < bars.size(); ++t) {
                a->update(bars[t], data.starts[t]);
                if (t == part) copy = a->clone();
                if (copy && t > part) copy->update(bars[t], data.starts[t]);
                ready_rows += a->ready();
                for (size_t k = 0; k < n; ++k) {
                    double want = batch[t * n + k];
                    mismatches += !same_bits(a->output(k), want);
                    if (copy) mismatches += !same_bits(copy->output(k), want);
                }
            }
            CHECK(mismatches == 0);
            // Long enough files bring every indicator past its warm-up.
            if (bars.size() >= 3000) CHECK(ready_rows > 0);
        }
    }
}

TEST_CASE("IndicatorSeries keeps the current and previous values", "[indicators]") {
    IndicatorSeries s(make_indicator("sma", {{"period", 2}}), 3);
    CHECK(std::isnan(s.value(0)));
    for (double c : {1.0, 3.0, 5.0, 9.0}) s.update(Bar{c, c, c, c, 1}, 0);
    CHECK(s.value(0, 0) == 7.0);  // (5 + 9) / 2
    CHECK(s.value(0, 1) == 4.0);
    CHECK(s.value(0, 2) == 2.0);
    CHECK(std::isnan(s.value(0, 3)));  // deeper than kept
    CHECK(std::isnan(s.value(1, 0)));  // no such output
}

TEST_CASE("make_indicator refuses what it cannot build, saying why", "[indicators]") {
    auto message = [](std::string_view kind, IndicatorParams p) {
        try {
            make_indicator(kind, p);
        } catch (const std::invalid_argument &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(message("rsx", {}),
               Catch::Contains("unknown indicator 'rsx'") && Catch::Contains("rsi"));
    CHECK_THAT(message("rsi", {{"length", 14}}), Catch::Contains("unknown parameter 'length'"));
    CHECK_THAT(message("rsi", {{"period", 0}}), Catch::Contains("period must be a whole number"));
    CHECK_THAT(message("ema", {{"period", 2.5}}), Catch::Contains("period must be a whole number"));
    CHECK_THAT(message("bollinger", {{"deviations", -1}}),
               Catch::Contains("deviations must be a positive number"));
    CHECK_THAT(message("lorentzian", {{"neighbours", 8}}),
               Catch::Contains("unknown setting 'neighbours'"));
    CHECK_THAT(message("lorentzian", {{"feature_count", 6}}),
               Catch::Contains("feature_count must be 2..5"));
    CHECK_THAT(message("lorentzian", {{"max_bars_back", 1e9}}),
               Catch::Contains("max_bars_back must be 1..100000"));
    CHECK_THAT(message("sma", {{"period", 1e7}}),
               Catch::Contains("period must be a whole number from 1 to 100000"));
    CHECK_THAT(message("lorentzian", {{"regime_threshold", NAN}}),
               Catch::Contains("regime_threshold and adx_threshold must be numbers"));
}
