#pragma once
// Volume-based indicators: OBV and session-anchored VWAP.

#include <cstdint>

#include "keel/core/types.hpp"
#include "keel/indicators/bar.hpp"

namespace keel::indicators {

// On-Balance Volume as TA-Lib: starts at the first bar's volume, then adds the volume of an up
// close and subtracts that of a down close.
class Obv {
  public:
    void update(const Bar &b) {
        if (!ready_)
            value_ = b.volume;
        else if (b.close > prev_close_)
            value_ += b.volume;
        else if (b.close < prev_close_)
            value_ -= b.volume;
        prev_close_ = b.close;
        ready_ = true;
    }
    bool ready() const { return ready_; }
    double value() const { return ready_ ? value_ : kNotReady; }
    size_t warmup() const { return 1; }
    void reset() { ready_ = false; }

  private:
    double value_ = 0, prev_close_ = 0;
    bool ready_ = false;
};

// Volume-weighted average price of the typical price (high + low + close) / 3, anchored to a
// session: it restarts with the first bar of each session, sessions being consecutive intervals
// of `session` nanoseconds since the Unix epoch (1 day = UTC days; 0 = one session for ever, which
// reset() ends by hand). Bars without volume leave it unchanged; before any volume it is not ready.
class Vwap {
  public:
    static constexpr TimeNs kDay = 86'400'000'000'000;
    explicit Vwap(TimeNs session = kDay) : session_(session > 0 ? session : 0) {}
    // `start` is the bar's open time; it decides the session the bar belongs to.
    void update(const Bar &b, TimeNs start) {
        if (session_) {
            TimeNs s = start >= 0 ? start / session_ : (start - session_ + 1) / session_;
            if (!has_session_ || s != current_) reset();
            current_ = s;
            has_session_ = true;
        }
        pv_ += b.hlc3() * b.volume;
        volume_ += b.volume;
    }
    // Starts a new session now (an anchor the user chooses).
    void reset() {
        pv_ = volume_ = 0;
        has_session_ = false;
    }
    bool ready() const { return volume_ > 0; }
    double value() const { return ready() ? pv_ / volume_ : kNotReady; }
    size_t warmup() const { return 1; }

  private:
    TimeNs session_;
    TimeNs current_ = 0;
    bool has_session_ = false;
    double pv_ = 0, volume_ = 0;
};

}  // namespace keel::indicators
