#pragma once
// Indicators by name, behind one interface: how the engine and the Lua API create and update
// them without knowing their types. The typed classes (averages.hpp, momentum.hpp, ...) are the
// fast path for C++ callers; this layer adds one virtual call per closed candle.

#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "keel/core/types.hpp"
#include "keel/indicators/bar.hpp"
#include "keel/indicators/lorentzian.hpp"

namespace keel::indicators {

class AnyIndicator {
  public:
    virtual ~AnyIndicator() = default;
    // `start` is the candle's open time (VWAP's session anchor); the others ignore it.
    virtual void update(const Bar &b, TimeNs start) = 0;
    virtual bool ready() const = 0;
    // Named outputs, the first being the indicator's main value. NaN when not available.
    virtual std::span<const char *const> output_names() const = 0;
    virtual double output(size_t k) const = 0;
    virtual void reset() = 0;
    virtual std::unique_ptr<AnyIndicator> clone() const = 0;
};

// A parameter as given (Lua numbers and booleans are both doubles here).
using IndicatorParams = std::map<std::string, double, std::less<>>;

struct IndicatorKind {
    const char *name;
    const char *summary;
    // Parameter names in positional order, with defaults.
    std::vector<std::pair<const char *, double>> params;
};

// Every kind make_indicator() knows, in documentation order.
std::span<const IndicatorKind> indicator_kinds();

// Throws std::invalid_argument with a message naming the kind or parameter at fault: unknown
// kind, unknown parameter, a period below 1 or not whole, and so on.
std::unique_ptr<AnyIndicator> make_indicator(std::string_view kind, const IndicatorParams &params);

// The Lorentzian model's settings from named parameters (the names are the fields of
// LorentzianSettings); throws like make_indicator.
LorentzianSettings lorentzian_settings(const IndicatorParams &params);

// Batch: a fresh copy of `prototype` run over every bar; row t holds the outputs after bar t
// (row-major, output_names().size() columns). Exactly what streaming the same bars gives.
std::vector<double> run_batch(const AnyIndicator &prototype, std::span<const Bar> bars,
                              std::span<const TimeNs> starts);

// An indicator with the history of its outputs: value(k, ago) for ago = 0 (the latest closed
// candle) .. depth - 1. Storage is allocated once.
class IndicatorSeries {
  public:
    IndicatorSeries(std::unique_ptr<AnyIndicator> indicator, size_t depth);
    void update(const Bar &b, TimeNs start);
    const AnyIndicator &indicator() const { return *indicator_; }
    size_t depth() const { return depth_; }
    size_t outputs() const { return outputs_; }
    // NaN if not available that many candles ago.
    double value(size_t output, size_t ago = 0) const;

  private:
    std::unique_ptr<AnyIndicator> indicator_;
    size_t depth_, outputs_;
    std::vector<double> history_;  // depth_ rows of outputs_, a ring by row
    size_t head_ = 0, filled_ = 0;
};

}  // namespace keel::indicators
