#pragma once
// The drawdown manager (seed 000): the current drawdown from peak equity picks a level, each with
// a size multiplier for new risk and an action. A level is entered as soon as the drawdown
// reaches it and left only once the drawdown is `hysteresis` points below it, so equity hovering
// at a threshold does not flap between levels.

#include <string>
#include <vector>

#include "keel/config/config.hpp"

namespace keel::risk {

class DrawdownManager {
  public:
    DrawdownManager(std::vector<config::DrawdownLevel> levels, double hysteresis_pct)
        : levels_(std::move(levels)), hysteresis_(hysteresis_pct) {}

    // Feeds the current drawdown in percent; true if the level changed.
    bool update(double drawdown_pct) {
        int level = current_;
        while (level + 1 < static_cast<int>(levels_.size()) &&
               drawdown_pct >= levels_[level + 1].at_pct)
            ++level;
        if (level == current_)
            while (level >= 0 && drawdown_pct < levels_[level].at_pct - hysteresis_) --level;
        if (level == current_) return false;
        current_ = level;
        return true;
    }
    // Forgets the level (after a manual resume rebases the peak).
    void reset() { current_ = -1; }

    int level() const { return current_; }  // -1: NORMAL
    const char *name() const { return current_ < 0 ? "NORMAL" : levels_[current_].name.c_str(); }
    double size_multiplier() const { return current_ < 0 ? 1.0 : levels_[current_].size; }
    config::RiskAction action() const {
        return current_ < 0 ? config::RiskAction::alert : levels_[current_].action;
    }

  private:
    std::vector<config::DrawdownLevel> levels_;
    double hysteresis_;
    int current_ = -1;
};

}  // namespace keel::risk
