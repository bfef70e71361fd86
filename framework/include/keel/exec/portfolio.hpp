#pragma once
// The deployment's account: positions per instrument, cash, P&L, fees, funding, equity, peak
// equity, exposure and margin, all exact (Money, core/money.hpp). Fills and funding change it;
// marks (the book's mid) revalue it. The risk gate reads it; only the engine thread writes it.
//
// Average-cost accounting, as venues do for perpetuals: a position keeps the exact cost of its
// open quantity; reducing it realizes proceeds minus the closed share of that cost (the share is
// rounded to 1e-8 once, and the rest of the cost keeps the remainder, so nothing is ever lost).
// Spot holdings use the same arithmetic (a long position in base currency; cash is the quote).

#include <vector>

#include "keel/core/money.hpp"
#include "keel/core/types.hpp"

namespace keel::exec {

enum class InstrumentKind : uint8_t {
    linear,  // USDT-margined futures and perpetuals: long or short, margin = notional / leverage
    spot     // base-currency holdings: long only, paid for in full
};

struct Position {
    Lots qty = 0;      // signed: > 0 long, < 0 short
    Money cost;        // signed value of the open quantity at entry (negative when short)
    Money realized;    // closed P&L, before fees and funding
    Money fees;        // paid (positive)
    Money funding;     // received (positive) or paid (negative)
    Money unrealized;  // at the last mark
    Money exposure;    // |qty| at the last mark
    Money margin;      // linear: exposure / leverage; spot: cost of the holding
    bool marked = false;

    double avg_entry(const InstrumentSpec &spec) const {
        return qty == 0 ? 0.0 : cost.to_double() / spec.qty(qty);
    }
};

struct AccountSettings {
    Money starting_balance = Money::from_double(10000);
    std::vector<InstrumentKind> kinds;  // per instrument; linear when missing
    std::vector<double> leverage;       // per instrument (linear); 1 when missing
};

class Portfolio {
  public:
    Portfolio(const std::vector<InstrumentSpec> &instruments, AccountSettings settings);

    // A fill of `qty` lots at `price` ticks, paying `fee`.
    void on_fill(InstrumentIndex i, Side side, Lots qty, Ticks price, Money fee);
    // A funding payment on a perpetual: `rate` of the position's value at `mark_price` (an
    // amount: a mark lies off the tick grid); longs pay a positive rate, shorts receive it.
    Money on_funding(InstrumentIndex i, Rate rate, Money mark_price);
    // A funding payment the venue reports for the whole account (live; a cross-margin payment
    // names no position): + received, - paid.
    void on_venue_funding(Money amount);
    // Revalues instrument i at the mid of its touch.
    void mark(InstrumentIndex i, Ticks best_bid, Ticks best_ask);
    // Live, at the start: the position the venue holds (an earlier run's, or made by hand)
    // becomes keel's, `qty` lots at the venue's average `entry` price; nothing is realized. Its
    // profit or loss so far is not this session's: the day's start and the peak move with it
    // (at the first mark, if the instrument has none yet).
    void take_over(InstrumentIndex i, Lots qty, Ticks entry);

    const Position &position(InstrumentIndex i) const { return positions_.at(i); }
    InstrumentKind kind(InstrumentIndex i) const { return kinds_[i]; }
    double leverage_setting(InstrumentIndex i) const { return leverage_[i]; }
    Money notional(InstrumentIndex i, Ticks price, Lots qty) const {
        return scales_[i].notional(price, qty);
    }
    size_t size() const { return positions_.size(); }

    Money starting_balance() const { return starting_; }
    Money realized_pnl() const { return realized_; }
    Money fees() const { return fees_; }
    Money funding() const { return funding_; }
    // Starting balance + realized - fees + funding: what the account holds with nothing open.
    Money balance() const { return starting_ + realized_ - fees_ + funding_; }
    Money unrealized_pnl() const { return unrealized_; }
    Money equity() const { return balance() + unrealized_; }
    Money peak_equity() const { return peak_; }
    // Sum of |position| at the last marks, across instruments.
    Money gross_exposure() const { return exposure_; }
    // Margin held by linear positions (exposure / leverage) plus spot holdings at cost.
    Money margin_used() const { return margin_; }
    // Quote currency not tied up in spot holdings (what a spot buy can spend).
    Money free_cash() const { return balance() - spot_cost_; }
    int open_positions() const { return open_positions_; }

    // Trading days: the engine calls this when a new one starts (risk.day_start).
    void start_day(int64_t day) {
        day_ = day;
        day_start_equity_ = equity();
    }
    int64_t day() const { return day_; }
    Money day_start_equity() const { return day_start_equity_; }
    // Starts the drawdown anew from the current equity (after a manual resume).
    void reset_peak() { peak_ = equity(); }

  private:
    void revalue(InstrumentIndex i);
    void after_change();
    // Moves the day's start and the peak by what `change` (a revaluation) did to equity.
    template <class F>
    void outside_session(F change);

    std::vector<NotionalScale> scales_;
    std::vector<NotionalScale> amount_scales_;  // a price in Money units times lots
    std::vector<InstrumentKind> kinds_;
    std::vector<double> leverage_;
    std::vector<Position> positions_;
    std::vector<Ticks> mark_bid_, mark_ask_;
    std::vector<char> taken_over_unmarked_;  // by instrument: take_over before any mark
    Money starting_, realized_, fees_, funding_, unrealized_, exposure_, margin_, spot_cost_;
    Money peak_, day_start_equity_;
    int64_t day_ = INT64_MIN;
    int open_positions_ = 0;
};

}  // namespace keel::exec
