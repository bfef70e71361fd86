#include "keel/risk/risk_gate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace keel::risk {

namespace {

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kDay = 86'400 * kSecond;

double stage_factor(config::CapitalStage s) {
    switch (s) {
        case config::CapitalStage::micro:
            return 0.10;
        case config::CapitalStage::small:
            return 0.50;
        case config::CapitalStage::full:
            return 1.0;
    }
    return 1.0;
}

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

double pct_of(Money part, Money whole) {
    return whole.units > 0
               ? 100.0 * static_cast<double>(part.units) / static_cast<double>(whole.units)
               : 0.0;
}

// part > fraction * whole, for a positive whole; with no equity left any exposure is too much.
bool exceeds(Money part, double fraction, Money whole) {
    if (std::isinf(fraction)) return false;
    if (whole.units <= 0) return part.units > 0;
    return static_cast<double>(part.units) > fraction * static_cast<double>(whole.units);
}

// A loss limit: a positive loss of at least the absolute limit or the fraction of `base`.
bool loss_reached(Money loss, double absolute, double fraction, Money base) {
    if (loss.units <= 0) return false;
    if (!std::isinf(absolute) && loss >= Money::from_double(absolute)) return true;
    return !std::isinf(fraction) &&
           static_cast<double>(loss.units) >= fraction * static_cast<double>(base.units);
}

}  // namespace

const char *to_string(TradingState s) {
    switch (s) {
        case TradingState::active:
            return "ACTIVE";
        case TradingState::reducing:
            return "REDUCING";
        case TradingState::halted:
            return "HALTED";
    }
    return "UNKNOWN";
}

const char *code(VetoReason reason) {
    static constexpr const char *kCodes[kVetoReasonCount] = {
        "HALTED",
        "REDUCING",
        "NOT_WHITELISTED",
        "INVALID_QUANTITY",
        "INVALID_PRICE",
        "NO_MARKET",
        "BELOW_MIN_NOTIONAL",
        "PRICE_BAND",
        "MAX_ORDER_QTY",
        "MAX_ORDER_NOTIONAL",
        "MAX_POSITION_NOTIONAL",
        "MAX_POSITION_PCT",
        "MAX_INSTRUMENT_EXPOSURE",
        "MAX_LEVERAGE",
        "INSUFFICIENT_MARGIN",
        "INSUFFICIENT_BALANCE",
        "MAX_OPEN_POSITIONS",
        "MAX_OPEN_ORDERS",
        "MAX_ORDERS_PER_DAY",
        "MAX_ORDERS_PER_SECOND",
        "DAILY_LOSS_LIMIT",
        "MAX_DRAWDOWN",
        "DRAWDOWN_LEVEL",
        "SIZE_TOO_SMALL",
        "RISK_PER_TRADE",
        "NO_STOP",
        "DUPLICATE_ENTRY",
        "REDUCE_ONLY_INCREASES",
        "VENUE_PRICE_LIMIT",
        "POSITION_UNKNOWN",
    };
    auto k = static_cast<int>(reason);
    return k >= 0 && k < kVetoReasonCount ? kCodes[k] : "UNKNOWN";
}

// ---- limits ----------------------------------------------------------------------------------

void RiskGate::Resolved::tighten(const config::OrderLimits &o) {
    auto money = [](double quote) {
        return std::isinf(quote) ? Money::max() : Money::from_double(quote);
    };
    max_order_notional = std::min(max_order_notional, money(o.max_order_notional));
    max_order_qty = std::min(max_order_qty, o.max_order_qty);
    max_position_notional = std::min(max_position_notional, money(o.max_position_notional));
    max_position = std::min(max_position, o.max_position_pct / 100);
    max_exposure = std::min(max_exposure, o.max_instrument_exposure_pct / 100);
    risk_per_trade = std::min(risk_per_trade, o.risk_per_trade_pct / 100);
    max_leverage = std::min(max_leverage, o.max_leverage);
    for (const auto &[tf, cap] : o.max_leverage_by_timeframe) {
        auto it = std::find_if(leverage_by_timeframe.begin(), leverage_by_timeframe.end(),
                               [&](auto &p) { return p.first == tf; });
        if (it == leverage_by_timeframe.end())
            leverage_by_timeframe.emplace_back(tf, cap);
        else
            it->second = std::min(it->second, cap);
    }
    price_band = std::min(price_band, o.price_band_pct / 100);
    require_stop = require_stop || o.require_stop;
    no_duplicate_entry = no_duplicate_entry || o.no_duplicate_entry;
}

double RiskGate::Resolved::leverage_cap(TimeNs timeframe) const {
    double cap = max_leverage;
    for (const auto &[tf, c] : leverage_by_timeframe)
        if (tf == timeframe) cap = std::min(cap, c);
    return cap;
}

RiskGate::RiskGate(config::RiskLimits limits, const std::vector<InstrumentSpec> &instruments,
                   const std::vector<std::string> &strategy_names)
    : config_(std::move(limits)),
      instrument_count_(instruments.size()),
      strategy_count_(strategy_names.size()),
      stage_factor_(stage_factor(config_.capital_stage)),
      drawdown_(config_.drawdown_levels, config_.drawdown_hysteresis_pct) {
    table_.resize((strategy_count_ + 1) * instrument_count_);
    for (size_t s = 0; s <= strategy_count_; ++s) {
        for (size_t i = 0; i < instrument_count_; ++i) {
            Resolved &r = table_[s * instrument_count_ + i];
            r.tighten(config_.order);
            if (auto it = config_.instruments.find(instruments[i].id);
                it != config_.instruments.end())
                r.tighten(it->second);
            if (s < strategy_count_)
                if (auto it = config_.strategies.find(strategy_names[s]);
                    it != config_.strategies.end())
                    r.tighten(it->second);
            // Compared in lots, so an order of exactly max_order_qty passes (0.479 / 0.001 is
            // 479 lots, where 479 * 0.001 is 0.47900000000000004 in doubles).
            double lots = r.max_order_qty / instruments[i].lot_size;
            if (std::isfinite(lots) && lots < 9e18)
                r.max_order_lots = static_cast<Lots>(std::floor(lots * (1 + 1e-12)));
        }
    }
    for (const auto &spec : instruments) {
        const auto &wl = config_.whitelist;
        whitelisted_.push_back(wl.empty() || std::find(wl.begin(), wl.end(), spec.id) != wl.end());
    }
    recent_.assign(static_cast<size_t>(std::max(config_.max_orders_per_second, 0)), INT64_MIN);
    if (config_.halted)
        set_state(TradingState::halted, "configured to start halted (risk.halted)", Cause::manual);
}

const RiskGate::Resolved &RiskGate::resolved(exec::StrategyIndex strategy,
                                             InstrumentIndex instrument) const {
    size_t row = strategy < strategy_count_ ? strategy : strategy_count_;
    return table_[row * instrument_count_ + instrument];
}

bool RiskGate::rate_limited(TimeNs now) const {
    // The ring holds the last N order times; full and its oldest within a second: N in 1 s.
    return !recent_.empty() && recent_[recent_next_] > now - kSecond;
}

void RiskGate::record(const exec::OrderIntent &intent, bool new_risk, TimeNs now) {
    if (intent.strategy == exec::kNoStrategy) return;  // the kill switch is never rate limited
    if (!recent_.empty()) {
        recent_[recent_next_] = now;
        recent_next_ = (recent_next_ + 1) % recent_.size();
    }
    if (new_risk) ++orders_today_;
}

// ---- the check -------------------------------------------------------------------------------

std::variant<ApprovedOrder, Veto> RiskGate::check(exec::OrderIntent intent,
                                                  const RiskContext &ctx) {
    using exec::OrderType;
    const auto &spec = ctx.spec;
    const auto &pf = ctx.portfolio;
    const auto &open = ctx.open;
    const InstrumentIndex i = intent.instrument;
    const bool host = intent.strategy == exec::kNoStrategy;
    const Resolved &lim = resolved(intent.strategy, i);
    const Lots requested = intent.qty;
    auto veto = [](VetoReason r, std::string msg) { return Veto{r, std::move(msg)}; };

    if (intent.qty <= 0)
        return veto(VetoReason::invalid_quantity,
                    fmt::format("quantity {} lots is not positive", intent.qty));
    if (intent.qty > kMaxOrderLots || intent.price > kMaxOrderLots ||
        intent.stop_price > kMaxOrderLots)
        return veto(VetoReason::invalid_quantity,
                    fmt::format("quantity {} lots or price {} ticks is beyond what keel accounts",
                                intent.qty, intent.price));
    const bool conditional = exec::is_conditional(intent.type);
    if ((intent.type == OrderType::limit || intent.type == OrderType::stop ||
         intent.type == OrderType::take_profit) &&
        intent.price <= 0)
        return veto(VetoReason::invalid_price,
                    fmt::format("{} price {} is not positive", exec::to_string(intent.type),
                                spec.price_text(intent.price)));
    if (intent.type == OrderType::trailing_stop && intent.trail <= 0)
        return veto(VetoReason::invalid_price, fmt::format("trailing distance {} is not positive",
                                                           spec.price_text(intent.trail)));
    if (intent.stop_price < 0 || intent.bracket_stop < 0 || intent.bracket_target < 0)
        return veto(VetoReason::invalid_price,
                    "a stop, stop_loss or take_profit price is off the tick grid or not positive");

    if (!ctx.position_known)
        return veto(VetoReason::position_unknown,
                    fmt::format("the venue has not yet reported its position in {}", spec.id));

    // Resting orders on the same side will fill too: judge this order against the position they
    // leave, so several "reducing" orders cannot add up to a flip.
    const Lots position = pf.position(i).qty;
    const Lots pending = intent.side == Side::buy ? open.buy_qty : -open.sell_qty;
    const Lots committed = position + pending;
    Lots after = committed + sign(intent.side) * intent.qty;
    const bool reduces = committed != 0 && std::llabs(after) < std::llabs(committed) &&
                         (after == 0 || (after > 0) == (committed > 0));
    const bool new_risk = !reduces;

    if (state_ == TradingState::halted && !(host && reduces))
        return veto(VetoReason::halted, "trading is halted: " + state_reason_);
    if (state_ == TradingState::reducing && new_risk)
        return veto(VetoReason::reducing,
                    "only orders that reduce a position are allowed: " + state_reason_);
    if (intent.reduce_only && new_risk)
        return veto(
            VetoReason::reduce_only_increases,
            fmt::format("reduce-only {} {} with position {} and resting {} would not reduce it",
                        to_string(intent.side), spec.qty_text(intent.qty), spec.qty_text(position),
                        spec.qty_text(pending)));

    const Money equity = pf.equity();
    if (new_risk) {
        if (!whitelisted_[i])
            return veto(VetoReason::not_whitelisted,
                        fmt::format("{} is not in risk.whitelist", spec.id));
        Money day_loss = pf.day_start_equity() - equity;
        if (loss_reached(day_loss, config_.daily_loss, config_.daily_loss_pct / 100,
                         pf.day_start_equity()))
            return veto(VetoReason::daily_loss_limit,
                        fmt::format("today's loss {:.2f} ({:.2f} % of {:.2f}) reached the daily "
                                    "loss limit",
                                    day_loss.to_double(), pct_of(day_loss, pf.day_start_equity()),
                                    pf.day_start_equity().to_double()));
        Money drawdown = pf.peak_equity() - equity;
        if (loss_reached(drawdown, config_.max_drawdown, config_.max_drawdown_pct / 100,
                         pf.peak_equity()))
            return veto(VetoReason::max_drawdown,
                        fmt::format("drawdown {:.2f} ({:.2f} % from peak {:.2f}) reached the "
                                    "maximum drawdown",
                                    drawdown.to_double(), pct_of(drawdown, pf.peak_equity()),
                                    pf.peak_equity().to_double()));
        double factor = size_factor();
        if (factor <= 0)
            return veto(VetoReason::drawdown_level,
                        fmt::format("drawdown level {} allows no new risk ({:.2f} % from peak)",
                                    drawdown_.name(), pct_of(drawdown, pf.peak_equity())));
        if (factor < 1) {
            intent.qty = static_cast<Lots>(std::floor(static_cast<double>(intent.qty) * factor));
            intent.qty -= intent.qty % spec.qty_step_lots;  // down onto the venue's step
            if (intent.qty <= 0 || intent.qty < spec.min_qty_lots)
                return veto(
                    VetoReason::size_too_small,
                    fmt::format("{} scaled by {:.2f} (drawdown {}, capital stage) is {}, "
                                "below the minimum {}",
                                spec.qty_text(requested), factor, drawdown_.name(),
                                spec.qty_text(intent.qty), spec.qty_text(spec.min_qty_lots)));
            after = committed + sign(intent.side) * intent.qty;
        }
        if (!host && config_.max_orders_per_day > 0 && orders_today_ >= config_.max_orders_per_day)
            return veto(VetoReason::max_orders_per_day,
                        fmt::format("{} new-risk orders today, max_orders_per_day is {}",
                                    orders_today_, config_.max_orders_per_day));
        if (position == 0 && config_.max_open_positions > 0 &&
            pf.open_positions() >= config_.max_open_positions)
            return veto(VetoReason::max_open_positions,
                        fmt::format("{} positions open, max_open_positions is {}",
                                    pf.open_positions(), config_.max_open_positions));
        if (config_.max_open_orders > 0 && open.total >= config_.max_open_orders)
            return veto(VetoReason::max_open_orders,
                        fmt::format("{} orders open, max_open_orders is {}", open.total,
                                    config_.max_open_orders));
        bool same_side_open = intent.side == Side::buy ? (position > 0 || open.entry_buy)
                                                       : (position < 0 || open.entry_sell);
        if (lim.no_duplicate_entry && same_side_open)
            return veto(VetoReason::duplicate_entry,
                        fmt::format("a {} position or entry already exists on {} (position {}); "
                                    "no_duplicate_entry is set",
                                    intent.side == Side::buy ? "long" : "short", spec.id,
                                    spec.qty_text(position)));
    }
    if (!host && rate_limited(ctx.now))
        return veto(VetoReason::max_orders_per_second,
                    fmt::format("{} orders in the last second, max_orders_per_second is {}",
                                recent_.size(), config_.max_orders_per_second));

    // Prices: never decide on a book that is not whole.
    const auto &book = ctx.book;
    if (!book.valid())
        return veto(VetoReason::no_market, fmt::format("no valid book for {}", spec.id));
    if (!ctx.book_usable)
        return veto(VetoReason::no_market,
                    fmt::format("the book for {} is stale or resyncing", spec.id));
    const Ticks bid = book.best_bid()->price, ask = book.best_ask()->price;
    // The highest price the order can trade at (a buy) or the highest value it can sell (a
    // sell): its notional is never underestimated.
    // A stop or take-profit is judged at its trigger, a trailing stop at the touch: each is
    // judged again, as a market order, when it triggers.
    Ticks ref = intent.price;
    Ticks worst = intent.price;
    if (intent.type == OrderType::market) {
        auto sweep =
            book.vwap_to_size(intent.side == Side::buy ? Side::sell : Side::buy, intent.qty);
        worst = sweep.worst;
        ref = intent.side == Side::buy ? sweep.worst : bid;
    } else if (intent.type == OrderType::trailing_stop) {
        ref = worst = intent.side == Side::buy ? ask : bid;
    }
    // A bracket's legs sit on either side of the entry: a stop below a buy, a target above it.
    const bool buy = intent.side == Side::buy;
    if ((intent.bracket_stop > 0 &&
         (buy ? intent.bracket_stop >= ref : intent.bracket_stop <= ref)) ||
        (intent.bracket_target > 0 &&
         (buy ? intent.bracket_target <= ref : intent.bracket_target >= ref)))
        return veto(VetoReason::invalid_price,
                    fmt::format("bracket stop {} and target {} must be on either side of the "
                                "entry {} (stop below a buy, target above)",
                                spec.price_text(intent.bracket_stop),
                                spec.price_text(intent.bracket_target), spec.price_text(ref)));

    if (spec.min_qty_lots > 0 && intent.qty < spec.min_qty_lots)
        return veto(VetoReason::invalid_quantity,
                    fmt::format("quantity {} is below the venue minimum {}",
                                spec.qty_text(intent.qty), spec.qty_text(spec.min_qty_lots)));
    if (spec.qty_step_lots > 1 && intent.qty % spec.qty_step_lots != 0)
        return veto(VetoReason::invalid_quantity,
                    fmt::format("quantity {} is not a multiple of the venue's step {}",
                                spec.qty_text(intent.qty), spec.qty_text(spec.qty_step_lots)));
    const Money notional = pf.notional(i, ref, intent.qty);
    // Every sum below stays far inside int64 only if no single order is absurd.
    if (notional > kMaxOrderValue)
        return veto(
            VetoReason::invalid_quantity,
            fmt::format("order value {:.2f} is beyond the {:.0f} keel accepts for one order",
                        notional.to_double(), kMaxOrderValue.to_double()));
    if (spec.min_notional > 0 && notional < Money::from_double(spec.min_notional))
        return veto(VetoReason::below_min_notional,
                    fmt::format("order notional {:.2f} is below the venue minimum {:.2f}",
                                notional.to_double(), spec.min_notional));
    // The venue refuses a limit price outside its filters: so does the gate, with the numbers.
    if (intent.type == OrderType::limit) {
        if (spec.min_price > 0 && intent.price < spec.min_price)
            return veto(
                VetoReason::venue_price_limit,
                fmt::format("price {} is below the venue's minimum {}",
                            spec.price_text(intent.price), spec.price_text(spec.min_price)));
        if (spec.max_price > 0 && intent.price > spec.max_price)
            return veto(
                VetoReason::venue_price_limit,
                fmt::format("price {} is above the venue's maximum {}",
                            spec.price_text(intent.price), spec.price_text(spec.max_price)));
        const double two_mid = static_cast<double>(bid + ask);
        const double two_price = 2.0 * static_cast<double>(intent.price);
        if ((spec.price_multiplier_up > 0 && two_price > spec.price_multiplier_up * two_mid) ||
            (spec.price_multiplier_down > 0 && two_price < spec.price_multiplier_down * two_mid))
            return veto(VetoReason::venue_price_limit,
                        fmt::format("price {} is outside the venue's {:g} to {:g} x the mid {}",
                                    spec.price_text(intent.price), spec.price_multiplier_down,
                                    spec.price_multiplier_up, spec.mid_text(bid, ask)));
    }
    // Fat finger: the price an order may trade at. A stop far from the market is its point.
    if (!host && !conditional && !std::isinf(lim.price_band)) {
        // |price - mid| / mid, with the mid kept exact as bid + ask (two mids).
        double two_mid = static_cast<double>(bid + ask);
        double deviation = std::fabs(2.0 * static_cast<double>(worst) - two_mid) / two_mid;
        if (deviation > lim.price_band)
            return veto(VetoReason::price_band,
                        fmt::format("price {} is {:.2f} % from the mid {}, price_band_pct is "
                                    "{:.2f}",
                                    spec.price_text(worst), 100 * deviation,
                                    spec.mid_text(bid, ask), 100 * lim.price_band));
    }
    if (new_risk) {
        if (intent.qty > lim.max_order_lots)
            return veto(VetoReason::max_order_qty,
                        fmt::format("order quantity {} exceeds max_order_qty {}",
                                    spec.qty_text(intent.qty), lim.max_order_qty));
        if (notional > lim.max_order_notional)
            return veto(VetoReason::max_order_notional,
                        fmt::format("order notional {:.2f} exceeds max_order_notional {:.2f}",
                                    notional.to_double(), lim.max_order_notional.to_double()));
        // Worst-case position once this and every resting order on the same side fill.
        const Money position_value = pf.notional(i, ref, std::llabs(after));
        if (position_value > lim.max_position_notional)
            return veto(VetoReason::max_position_notional,
                        fmt::format("position notional would reach {:.2f} (position {}, resting "
                                    "{}, order {}), above max_position_notional {:.2f}",
                                    position_value.to_double(), spec.qty_text(position),
                                    spec.qty_text(pending), spec.qty_text(intent.qty),
                                    lim.max_position_notional.to_double()));
        if (exceeds(position_value, lim.max_position, equity))
            return veto(VetoReason::max_position_pct,
                        fmt::format("position notional would reach {:.2f}, {:.2f} % of equity "
                                    "{:.2f}, above max_position_pct {:.2f}",
                                    position_value.to_double(), pct_of(position_value, equity),
                                    equity.to_double(), 100 * lim.max_position));
        const Money exposure =
            pf.notional(i, ref, std::llabs(position) + open.buy_qty + open.sell_qty + intent.qty);
        if (exceeds(exposure, lim.max_exposure, equity))
            return veto(VetoReason::max_instrument_exposure,
                        fmt::format("{} exposure with resting orders would reach {:.2f}, {:.2f} "
                                    "% of equity, above max_instrument_exposure_pct {:.2f}",
                                    spec.id, exposure.to_double(), pct_of(exposure, equity),
                                    100 * lim.max_exposure));
        const Money gross = pf.gross_exposure() - pf.position(i).exposure + position_value;
        const double cap = lim.leverage_cap(intent.timeframe);
        if (exceeds(gross, cap, equity))
            return veto(VetoReason::max_leverage,
                        fmt::format("account exposure would reach {:.2f}, {:.2f}x equity {:.2f}, "
                                    "above the leverage cap {:.2f}x",
                                    gross.to_double(),
                                    equity.units > 0 ? static_cast<double>(gross.units) /
                                                           static_cast<double>(equity.units)
                                                     : 0.0,
                                    equity.to_double(), cap));
        if (pf.kind(i) == exec::InstrumentKind::spot) {
            if (after < 0)
                return veto(VetoReason::insufficient_balance,
                            fmt::format("spot sell of {} with {} held and {} resting would go "
                                        "short",
                                        spec.qty_text(intent.qty), spec.qty_text(position),
                                        spec.qty_text(open.sell_qty)));
            if (intent.side == Side::buy && notional + open.buy_notional > pf.free_cash())
                return veto(VetoReason::insufficient_balance,
                            fmt::format("spot buy of {:.2f} with {:.2f} resting needs more than "
                                        "the free cash {:.2f}",
                                        notional.to_double(), open.buy_notional.to_double(),
                                        pf.free_cash().to_double()));
        } else {
            Money margin_after =
                pf.margin_used() - pf.position(i).margin +
                Money::from_units(std::llround(static_cast<double>(position_value.units) /
                                               pf.leverage_setting(i)));
            if (margin_after > equity)
                return veto(VetoReason::insufficient_margin,
                            fmt::format("margin would reach {:.2f} at {}x, above equity {:.2f}",
                                        margin_after.to_double(), pf.leverage_setting(i),
                                        equity.to_double()));
        }
        if (intent.stop_price > 0) {
            bool wrong_side =
                intent.side == Side::buy ? intent.stop_price >= ref : intent.stop_price <= ref;
            if (wrong_side)
                return veto(VetoReason::invalid_price,
                            fmt::format("stop {} is on the wrong side of the entry {} for a {}",
                                        spec.price_text(intent.stop_price), spec.price_text(ref),
                                        to_string(intent.side)));
            Money at_risk = pf.notional(i, std::llabs(ref - intent.stop_price), intent.qty);
            if (exceeds(at_risk, lim.risk_per_trade, equity))
                return veto(VetoReason::risk_per_trade,
                            fmt::format("{} x stop distance {} risks {:.2f}, {:.2f} % of equity, "
                                        "above risk_per_trade_pct {:.2f}",
                                        spec.qty_text(intent.qty),
                                        spec.price_text(std::llabs(ref - intent.stop_price)),
                                        at_risk.to_double(), pct_of(at_risk, equity),
                                        100 * lim.risk_per_trade));
        } else if (lim.require_stop) {
            return veto(VetoReason::no_stop,
                        "require_stop is set and the order carries no stop price");
        }
    }

    record(intent, new_risk, ctx.now);
    return ApprovedOrder(std::move(intent), requested);
}

// ---- state -----------------------------------------------------------------------------------

void RiskGate::set_state(TradingState s, std::string why, Cause cause) {
    state_ = s;
    state_reason_ = std::move(why);
    cause_ = s == TradingState::active ? Cause::none : cause;
}

void RiskGate::halt(std::string why) {
    set_state(TradingState::halted, std::move(why), Cause::manual);
}

void RiskGate::reduce(std::string why) {
    if (state_ == TradingState::halted) return;  // never loosen a halt
    set_state(TradingState::reducing, std::move(why), Cause::manual);
}

void RiskGate::resume(exec::Portfolio &portfolio) {
    if (drawdown_tripped_ || drawdown_.level() >= 0) {
        portfolio.reset_peak();
        drawdown_.reset();
        drawdown_tripped_ = false;
    }
    if (daily_tripped_) {
        portfolio.start_day(portfolio.day());
        daily_tripped_ = false;
    }
    set_state(TradingState::active, "", Cause::none);
}

void RiskGate::trip(config::RiskAction action, Cause cause, std::string title, std::string message,
                    std::vector<RiskEvent> &out) {
    using config::RiskAction;
    // Only ever towards more caution: a trip never lifts a stricter state.
    if (action == RiskAction::halt)
        set_state(TradingState::halted, title, cause);
    else if (action != RiskAction::alert && state_ == TradingState::active)
        set_state(TradingState::reducing, title, cause);
    out.push_back({action, action != RiskAction::alert, std::move(title), std::move(message)});
}

void RiskGate::on_account(exec::Portfolio &pf, TimeNs now, std::vector<RiskEvent> &out) {
    using config::RiskAction;
    int64_t day = floor_div(now - config_.day_start_ns, kDay);
    if (day != day_) {
        bool first = day_ == INT64_MIN;
        day_ = day;
        pf.start_day(day);
        orders_today_ = 0;
        daily_tripped_ = false;
        if (!first && cause_ == Cause::daily_loss) {
            set_state(TradingState::active, "", Cause::none);
            out.push_back({RiskAction::alert, false, "new trading day: trading resumes",
                           "the daily loss limit of the previous day no longer applies"});
        }
    }

    const Money equity = pf.equity(), peak = pf.peak_equity();
    const Money drawdown = peak - equity;
    if (drawdown_.update(pct_of(drawdown, peak))) {
        std::string title = fmt::format("drawdown level {}", drawdown_.name());
        std::string message =
            fmt::format("equity {:.2f}, {:.2f} % below the peak {:.2f}; new risk sized x{:.2f}",
                        equity.to_double(), pct_of(drawdown, peak), peak.to_double(),
                        drawdown_.size_multiplier());
        if (drawdown_.action() != RiskAction::alert)
            trip(drawdown_.action(), Cause::drawdown_level, std::move(title), std::move(message),
                 out);
        else
            out.push_back({RiskAction::alert, drawdown_.size_multiplier() == 0, std::move(title),
                           std::move(message)});
    }

    const Money day_loss = pf.day_start_equity() - equity;
    if (!daily_tripped_ && loss_reached(day_loss, config_.daily_loss, config_.daily_loss_pct / 100,
                                        pf.day_start_equity())) {
        daily_tripped_ = true;
        trip(config_.on_daily_loss, Cause::daily_loss, "daily loss limit reached",
             fmt::format("today's loss {:.2f} is {:.2f} % of the day's starting equity {:.2f}",
                         day_loss.to_double(), pct_of(day_loss, pf.day_start_equity()),
                         pf.day_start_equity().to_double()),
             out);
    }
    if (!drawdown_tripped_ &&
        loss_reached(drawdown, config_.max_drawdown, config_.max_drawdown_pct / 100, peak)) {
        drawdown_tripped_ = true;
        trip(config_.on_max_drawdown, Cause::max_drawdown, "maximum drawdown reached",
             fmt::format("equity {:.2f} is {:.2f} below the peak {:.2f} ({:.2f} %)",
                         equity.to_double(), drawdown.to_double(), peak.to_double(),
                         pct_of(drawdown, peak)),
             out);
    }
}

}  // namespace keel::risk
