#include "keel/strategy/lua_strategy.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <lua.hpp>

#include "keel/log/log.hpp"
#include "keel/risk/sizing.hpp"

namespace keel::strategy {
namespace {

// ---- sandbox -------------------------------------------------------------------------------

// Globals a strategy never sees. The state is the strategy's own, so removing them from its
// globals (and string.dump from the shared string metatable's table) leaves no way back to them.
constexpr const char *kRemovedGlobals[] = {
    "load",           "loadstring", "loadfile", "dofile",   "getfenv", "setfenv",
    "collectgarbage", "newproxy",   "require",  "module",   "gcinfo",  "rawset",
    "rawget",         "rawequal",   "print",    "_VERSION", "jit",     "package",
    "debug",          "io",         "os",       "ffi",      "bit32"};

// t[name] = value for the table on top of the stack.
void set_field(lua_State *L, const char *name, lua_Number value) {
    lua_pushnumber(L, value);
    lua_setfield(L, -2, name);
}
void set_field(lua_State *L, const char *name, const char *value) {
    lua_pushstring(L, value);
    lua_setfield(L, -2, name);
}

LuaStrategy *self_of(lua_State *L) {
    return static_cast<LuaStrategy *>(lua_touserdata(L, lua_upvalueindex(1)));
}

// API functions run inside lua_pcall. A C++ exception must not cross Lua frames: catch it,
// leave the catch block, then raise a Lua error.
template <int (*Fn)(lua_State *, LuaStrategy &)>
int guarded(lua_State *L) {
    char message[256];
    // No catch (...): on x86-64 LuaJIT raises its own errors (luaL_error inside Fn) as foreign
    // C++ exceptions, and those must unwind through untouched.
    try {
        return Fn(L, *self_of(L));
    } catch (const std::exception &e) {
        std::snprintf(message, sizeof message, "keel: %s", e.what());
    }
    return luaL_error(L, "%s", message);
}

constexpr const char *kBookMeta = "keel.book";

struct BookHandle {
    InstrumentIndex instrument;
};

InstrumentIndex check_book(lua_State *L) {
    return static_cast<BookHandle *>(luaL_checkudata(L, 1, kBookMeta))->instrument;
}

InstrumentIndex check_instrument(lua_State *L, int arg, LuaStrategy &s) {
    size_t len = 0;
    const char *id = luaL_checklstring(L, arg, &len);
    auto i = s.services().find_instrument(std::string_view(id, len));
    if (!i) luaL_error(L, "unknown instrument \"%s\"", id);
    return *i;
}

int push_level(lua_State *L, LuaStrategy &s, InstrumentIndex i, std::optional<market::Level> lv) {
    if (!lv) {
        lua_pushnil(L);
        return 1;
    }
    const auto &spec = s.services().spec(i);
    lua_pushnumber(L, spec.price(lv->price));
    lua_pushnumber(L, spec.qty(lv->qty));
    return 2;
}

// ---- book handle methods ---------------------------------------------------------------------

int book_best_bid(lua_State *L, LuaStrategy &s) {
    auto i = check_book(L);
    return push_level(L, s, i, s.services().book(i).best_bid());
}
int book_best_ask(lua_State *L, LuaStrategy &s) {
    auto i = check_book(L);
    return push_level(L, s, i, s.services().book(i).best_ask());
}
int book_level(lua_State *L, LuaStrategy &s) {
    auto i = check_book(L);
    const char *side = luaL_checkstring(L, 2);
    lua_Integer n = luaL_checkinteger(L, 3);
    if (std::strcmp(side, "bid") != 0 && std::strcmp(side, "ask") != 0)
        return luaL_error(L, "book:level: side must be \"bid\" or \"ask\", got \"%s\"", side);
    if (n < 1) return luaL_error(L, "book:level: level numbers start at 1");
    Side sd = side[0] == 'b' ? Side::buy : Side::sell;
    return push_level(L, s, i, s.services().book(i).level(sd, static_cast<size_t>(n - 1)));
}
int book_mid(lua_State *L, LuaStrategy &s) {
    auto i = check_book(L);
    const auto &b = s.services().book(i);
    if (!b.valid()) return lua_pushnil(L), 1;
    const auto &spec = s.services().spec(i);
    lua_pushnumber(L, (spec.price(b.best_bid()->price) + spec.price(b.best_ask()->price)) / 2);
    return 1;
}
int book_spread(lua_State *L, LuaStrategy &s) {
    auto i = check_book(L);
    const auto &b = s.services().book(i);
    if (!b.valid()) return lua_pushnil(L), 1;
    lua_pushnumber(L, s.services().spec(i).price(b.best_ask()->price - b.best_bid()->price));
    return 1;
}
// "bid" or "ask" at argument `arg`; raises naming the method otherwise.
Side check_book_side(lua_State *L, int arg, const char *method) {
    const char *side = luaL_checkstring(L, arg);
    if (std::strcmp(side, "bid") != 0 && std::strcmp(side, "ask") != 0)
        luaL_error(L, "book:%s: side must be \"bid\" or \"ask\", got \"%s\"", method, side);
    return side[0] == 'b' ? Side::buy : Side::sell;
}

int book_microprice(lua_State *L, LuaStrategy &s) {
    auto i = check_book(L);
    const auto &b = s.services().book(i);
    if (!b.valid()) return lua_pushnil(L), 1;
    lua_pushnumber(L, *b.microprice() * s.services().spec(i).tick_size);
    return 1;
}

// book:levels(side, n [, out]) -> { {price=, qty=}, ... } best first. `out` is reused (and its
// level tables), so a strategy that passes the same table each time makes no garbage.
int book_levels(lua_State *L, LuaStrategy &s) {
    auto i = check_book(L);
    Side side = check_book_side(L, 2, "levels");
    lua_Integer n = luaL_checkinteger(L, 3);
    if (n < 1 || n > 1000) return luaL_error(L, "book:levels: n must be 1 to 1000");
    const auto &b = s.services().book(i);
    if (!b.valid()) return lua_pushnil(L), 1;
    if (lua_type(L, 4) == LUA_TTABLE) {
        lua_settop(L, 4);
    } else if (lua_isnoneornil(L, 4)) {
        lua_settop(L, 3);
        lua_createtable(L, static_cast<int>(n), 0);
    } else {
        return luaL_error(L, "book:levels: out must be a table");
    }
    const auto &spec = s.services().spec(i);
    int count = static_cast<int>(std::min(static_cast<size_t>(n), b.depth(side)));
    for (int k = 1; k <= count; ++k) {
        auto lv = *b.level(side, static_cast<size_t>(k - 1));
        lua_rawgeti(L, -1, k);
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            lua_createtable(L, 0, 2);
            lua_pushvalue(L, -1);
            lua_rawseti(L, -3, k);
        }
        set_field(L, "price", spec.price(lv.price));
        set_field(L, "qty", spec.qty(lv.qty));
        lua_pop(L, 1);
    }
    // Clear what a longer earlier answer left (the length is read once: it shrinks as we go).
    for (int k = count + 1, old_len = static_cast<int>(lua_objlen(L, -1)); k <= old_len; ++k) {
        lua_pushnil(L);
        lua_rawseti(L, -2, k);
    }
    return 1;
}

// book:volume_to(side, price) -> quantity on the side from the best level through `price`.
int book_volume_to(lua_State *L, LuaStrategy &s) {
    auto i = check_book(L);
    Side side = check_book_side(L, 2, "volume_to");
    double price = luaL_checknumber(L, 3);
    if (!(price > 0) || !std::isfinite(price))
        return luaL_error(L, "book:volume_to: price must be a positive number");
    const auto &b = s.services().book(i);
    if (!b.valid()) return lua_pushnil(L), 1;
    const auto &spec = s.services().spec(i);
    // An off-grid limit includes the levels it reaches: round toward the inside of the book.
    double units = price / spec.tick_size;
    if (units > 9.0e15) units = 9.0e15;
    Ticks limit = spec.on_tick_grid(price) ? spec.to_ticks(price)
                  : side == Side::buy      ? static_cast<Ticks>(std::ceil(units))
                                           : static_cast<Ticks>(std::floor(units));
    lua_pushnumber(L, spec.qty(b.volume_to_price(side, limit)));
    return 1;
}

// book:vwap(side, qty) -> average price, filled qty, worst price; nil if nothing can fill.
int book_vwap(lua_State *L, LuaStrategy &s) {
    auto i = check_book(L);
    Side side = check_book_side(L, 2, "vwap");
    double qty = luaL_checknumber(L, 3);
    const auto &spec = s.services().spec(i);
    if (!(qty > 0) || !(qty / spec.lot_size < 9.0e15))
        return luaL_error(L, "book:vwap: qty must be a positive number");
    const auto &b = s.services().book(i);
    if (!b.valid()) return lua_pushnil(L), 1;
    // An off-grid size is rounded up to whole lots: never estimate for less than asked.
    Lots lots = spec.on_lot_grid(qty) ? spec.to_lots(qty)
                                      : static_cast<Lots>(std::ceil(qty / spec.lot_size));
    auto sweep = b.vwap_to_size(side, lots);
    if (sweep.filled == 0) return lua_pushnil(L), 1;
    lua_pushnumber(L, sweep.vwap * spec.tick_size);
    lua_pushnumber(L, spec.qty(sweep.filled));
    lua_pushnumber(L, spec.price(sweep.worst));
    return 3;
}

int book_imbalance(lua_State *L, LuaStrategy &s) {
    auto i = check_book(L);
    lua_Integer n = luaL_optinteger(L, 2, 5);
    if (n < 1) return luaL_error(L, "book:imbalance: levels must be >= 1");
    auto r = s.services().book(i).imbalance(static_cast<size_t>(n));
    if (!r) return lua_pushnil(L), 1;
    lua_pushnumber(L, *r);
    return 1;
}
int book_valid(lua_State *L, LuaStrategy &s) {
    lua_pushboolean(L, s.services().book(check_book(L)).valid());
    return 1;
}
int book_instrument(lua_State *L, LuaStrategy &s) {
    lua_pushstring(L, s.services().spec(check_book(L)).id.c_str());
    return 1;
}

// ---- indicators ----------------------------------------------------------------------------

constexpr const char *kIndicatorMeta = "keel.indicator";
constexpr size_t kDefaultIndicatorHistory = 100;
constexpr size_t kMaxIndicators = 256;

struct IndicatorHandle {
    size_t slot;
};

const LuaStrategy::IndicatorSlot &check_indicator(lua_State *L, LuaStrategy &s) {
    return s.indicator(static_cast<IndicatorHandle *>(luaL_checkudata(L, 1, kIndicatorMeta))->slot);
}

// How many candles ago (argument `arg`, default 0).
size_t check_ago(lua_State *L, int arg, const LuaStrategy::IndicatorSlot &slot) {
    lua_Integer ago = luaL_optinteger(L, arg, 0);
    if (ago < 0 || static_cast<size_t>(ago) >= slot.series.depth())
        luaL_error(L, "indicator: `ago` must be 0..%d (the history kept), got %d",
                   static_cast<int>(slot.series.depth()) - 1, static_cast<int>(ago));
    return static_cast<size_t>(ago);
}

int push_value(lua_State *L, double v) {
    if (std::isnan(v))
        lua_pushnil(L);
    else
        lua_pushnumber(L, v);
    return 1;
}

// h:value([ago]) -> the main output, nil until ready.
int indicator_value(lua_State *L, LuaStrategy &s) {
    const auto &slot = check_indicator(L, s);
    return push_value(L, slot.series.value(0, check_ago(L, 2, slot)));
}
// h:output(name [, ago]) -> a named output ("upper", "signal", ...), nil until ready.
int indicator_output(lua_State *L, LuaStrategy &s) {
    const auto &slot = check_indicator(L, s);
    const char *name = luaL_checkstring(L, 2);
    auto names = slot.series.indicator().output_names();
    for (size_t k = 0; k < names.size(); ++k)
        if (std::strcmp(names[k], name) == 0)
            return push_value(L, slot.series.value(k, check_ago(L, 3, slot)));
    std::string known;
    for (auto n : names) known += (known.empty() ? "" : ", ") + std::string(n);
    return luaL_error(L, "indicator: no output \"%s\" (this one has: %s)", name, known.c_str());
}
int indicator_ready(lua_State *L, LuaStrategy &s) {
    lua_pushboolean(L, check_indicator(L, s).series.indicator().ready());
    return 1;
}
int indicator_outputs(lua_State *L, LuaStrategy &s) {
    auto names = check_indicator(L, s).series.indicator().output_names();
    lua_createtable(L, static_cast<int>(names.size()), 0);
    for (size_t k = 0; k < names.size(); ++k) {
        lua_pushstring(L, names[k]);
        lua_rawseti(L, -2, static_cast<int>(k + 1));
    }
    return 1;
}

// keel.indicator.<kind>(instrument, timeframe, [p1, p2, ... | {name = value, ..., history = n}])
int api_indicator(lua_State *L, LuaStrategy &s) {
    const char *kind = lua_tostring(L, lua_upvalueindex(2));
    auto i = check_instrument(L, 1, s);
    if (!s.wants(i))
        return luaL_error(L,
                          "keel.indicator.%s: instrument \"%s\" is not in this strategy's "
                          "instruments",
                          kind, lua_tostring(L, 1));
    const char *tf = luaL_checkstring(L, 2);
    const auto &tfs = s.config().timeframes;
    if (std::find(tfs.begin(), tfs.end(), tf) == tfs.end()) {
        std::string have;
        for (auto &t : tfs) have += (have.empty() ? "" : ", ") + t;
        return luaL_error(L,
                          "keel.indicator.%s: timeframe \"%s\" is not in this strategy's "
                          "timeframes [%s]: add it under `timeframes:` in the config",
                          kind, tf, have.c_str());
    }
    indicators::IndicatorParams params;
    size_t depth = kDefaultIndicatorHistory;
    const indicators::IndicatorKind *spec = nullptr;
    for (auto &k : indicators::indicator_kinds())
        if (std::strcmp(k.name, kind) == 0) spec = &k;
    if (lua_istable(L, 3)) {
        lua_pushnil(L);
        while (lua_next(L, 3)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                return luaL_error(L, "keel.indicator.%s: parameter names must be strings", kind);
            std::string name = lua_tostring(L, -2);
            double v;
            if (lua_isboolean(L, -1))
                v = lua_toboolean(L, -1) ? 1 : 0;
            else if (lua_type(L, -1) == LUA_TNUMBER)
                v = lua_tonumber(L, -1);
            else
                return luaL_error(L, "keel.indicator.%s: parameter %s must be a number or boolean",
                                  kind, name.c_str());
            if (name == "history") {
                // History lives outside the Lua memory cap: bounded like the indicator count.
                if (!(v >= 1 && v <= 10000) || v != std::floor(v))
                    return luaL_error(L, "keel.indicator.%s: history must be 1..10000", kind);
                depth = static_cast<size_t>(v);
            } else {
                params[name] = v;
            }
            lua_pop(L, 1);
        }
    } else {
        int top = lua_gettop(L);
        if (top - 2 > static_cast<int>(spec->params.size()))
            return luaL_error(L, "keel.indicator.%s takes at most %d parameters, got %d", kind,
                              static_cast<int>(spec->params.size()), top - 2);
        for (int a = 3; a <= top; ++a)
            params[spec->params[static_cast<size_t>(a - 3)].first] = luaL_checknumber(L, a);
    }
    auto ind = indicators::make_indicator(kind, params);  // throws with a clear message
    size_t slot = s.add_indicator(i, tf, std::move(ind), depth);
    auto *h = static_cast<IndicatorHandle *>(lua_newuserdata(L, sizeof(IndicatorHandle)));
    h->slot = slot;
    luaL_getmetatable(L, kIndicatorMeta);
    lua_setmetatable(L, -2);
    return 1;
}

// ---- keel.* ------------------------------------------------------------------------------------

int api_book(lua_State *L, LuaStrategy &s) {
    check_instrument(L, 1, s);              // raises for an unknown id
    lua_pushvalue(L, lua_upvalueindex(2));  // the table of book handles by instrument id
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    return 1;
}

int api_now(lua_State *L, LuaStrategy &s) {
    lua_pushnumber(L, static_cast<double>(s.services().now()) / 1e9);
    return 1;
}

// keel.order{instrument=, side="buy"|"sell", qty=, type="market"|"limit", price=,
//            reduce_only=, tag=}
// What a keel.order call gave, before validation: the C API and the FFI fast path both fill it,
// and one function (make_intent) turns it into an intent, so both modes accept and refuse the
// same orders with the same messages. A NULL string or a price field without its bit in `given`
// was not given (a NaN that was given is the gate's to veto). The layout is declared to the FFI
// in kFastPrelude too.
extern "C" struct keel_order_fields {
    const char *instrument, *side, *type, *tif, *timeframe, *tag, *trigger;
    double qty, price, trail, stop_loss, take_profit, stop;
    int32_t post_only, reduce_only;
    uint32_t given;  // kGivenPrice | kGivenTrail | ...
};
enum : uint32_t {
    kGivenPrice = 1,
    kGivenTrail = 2,
    kGivenStopLoss = 4,
    kGivenTakeProfit = 8,
    kGivenStop = 16
};

// The intent for `f`, or nullopt with the error a strategy gets (misuse, raised as a Lua error).
// Values the gate judges (off-grid, non-positive) pass as invalid, for a veto rather than an
// error.
std::optional<exec::OrderIntent> make_intent(LuaStrategy &s, const keel_order_fields &f,
                                             std::string &error) {
    auto fail = [&](std::string why) {
        error = "keel.order: " + std::move(why);
        return std::nullopt;
    };
    if (!f.instrument) return fail("instrument must be an instrument id string");
    auto found = s.services().find_instrument(f.instrument);
    if (!found) return fail(fmt::format("unknown instrument \"{}\"", f.instrument));
    auto i = *found;
    if (!s.wants(i))
        return fail(
            fmt::format("instrument \"{}\" is not in this strategy's instruments", f.instrument));
    const auto &spec = s.services().spec(i);
    exec::OrderIntent intent;
    intent.strategy = s.index();
    intent.instrument = i;
    if (!f.side || (std::strcmp(f.side, "buy") != 0 && std::strcmp(f.side, "sell") != 0))
        return fail("side must be \"buy\" or \"sell\"");
    intent.side = f.side[0] == 'b' ? Side::buy : Side::sell;
    intent.qty = spec.on_lot_grid(f.qty) ? spec.to_lots(f.qty) : 0;

    // Prices off the tick grid become -1 (0 when not given): the gate vetoes, never rounds.
    auto price = [&](uint32_t bit, double v) -> Ticks {
        if (!(f.given & bit)) return 0;
        return v > 0 && spec.on_tick_grid(v) ? spec.to_ticks(v) : -1;
    };
    const char *type = f.type ? f.type : "market";
    static const std::pair<const char *, exec::OrderType> kTypes[] = {
        {"market", exec::OrderType::market},
        {"limit", exec::OrderType::limit},
        {"stop", exec::OrderType::stop},
        {"take_profit", exec::OrderType::take_profit},
        {"trailing_stop", exec::OrderType::trailing_stop}};
    auto known = std::find_if(std::begin(kTypes), std::end(kTypes),
                              [&](auto &t) { return std::strcmp(t.first, type) == 0; });
    if (known == std::end(kTypes))
        return fail(fmt::format(
            "type must be market, limit, stop, take_profit or trailing_stop, got \"{}\"", type));
    intent.type = known->second;
    if (intent.type == exec::OrderType::limit || intent.type == exec::OrderType::stop ||
        intent.type == exec::OrderType::take_profit) {
        if (!(f.given & kGivenPrice)) return fail(fmt::format("a {} order needs a price", type));
        intent.price = std::max<Ticks>(price(kGivenPrice, f.price), 0);
    }
    if (intent.type == exec::OrderType::trailing_stop) {
        if (!(f.given & kGivenTrail)) return fail("a trailing_stop needs trail (a price distance)");
        intent.trail = std::max<Ticks>(price(kGivenTrail, f.trail), 0);
    }
    // What a stop, take-profit, trailing stop or bracket leg watches.
    const char *trigger = f.trigger ? f.trigger : "mid";
    if (std::strcmp(trigger, "mid") == 0)
        intent.trigger = exec::TriggerPrice::mid;
    else if (std::strcmp(trigger, "last") == 0)
        intent.trigger = exec::TriggerPrice::last;
    else if (std::strcmp(trigger, "mark") == 0)
        intent.trigger = exec::TriggerPrice::mark;
    else
        return fail(fmt::format("trigger must be mid, last or mark, got \"{}\"", trigger));
    intent.post_only = f.post_only != 0;
    const char *tif = f.tif ? f.tif : "GTC";
    if (std::strcmp(tif, "GTC") == 0)
        intent.tif = exec::TimeInForce::gtc;
    else if (std::strcmp(tif, "IOC") == 0)
        intent.tif = exec::TimeInForce::ioc;
    else if (std::strcmp(tif, "FOK") == 0)
        intent.tif = exec::TimeInForce::fok;
    else
        return fail(fmt::format("tif must be GTC, IOC or FOK, got \"{}\"", tif));
    intent.bracket_stop = price(kGivenStopLoss, f.stop_loss);  // -1 off the grid: INVALID_PRICE
    intent.bracket_target = price(kGivenTakeProfit, f.take_profit);
    intent.reduce_only = f.reduce_only != 0;
    // The trade's stop for risk per trade: given, or the bracket's stop loss.
    intent.stop_price = price(kGivenStop, f.stop);
    if (intent.stop_price == 0 && intent.bracket_stop > 0) intent.stop_price = intent.bracket_stop;
    if (f.timeframe) {
        auto length = market::parse_timeframe(f.timeframe);
        if (!length) return fail("timeframe must be like \"5m\"");
        intent.timeframe = *length;
    }
    if (f.tag) intent.tag = f.tag;
    return intent;
}

int api_order(lua_State *L, LuaStrategy &s) {
    luaL_checktype(L, 1, LUA_TTABLE);
    keel_order_fields f{};
    // One pass over the fields given (a call names three to six of the fifteen): looking each
    // name up instead would intern all fifteen keys on every order. Refusals are raised after
    // it, in the order the fields are listed.
    bool has_qty = false;
    const char *bad_price = nullptr;  // the first price field, in the order below, not a number
    int bad_rank = INT_MAX;
    struct PriceField {
        std::string_view key;
        double keel_order_fields::*value;
        uint32_t bit;
    };
    static constexpr PriceField kPrices[] = {
        {"price", &keel_order_fields::price, kGivenPrice},
        {"trail", &keel_order_fields::trail, kGivenTrail},
        {"stop_loss", &keel_order_fields::stop_loss, kGivenStopLoss},
        {"take_profit", &keel_order_fields::take_profit, kGivenTakeProfit},
        {"stop", &keel_order_fields::stop, kGivenStop}};
    static constexpr std::pair<std::string_view, const char * keel_order_fields::*> kTexts[] = {
        {"side", &keel_order_fields::side}, {"type", &keel_order_fields::type},
        {"tif", &keel_order_fields::tif},   {"timeframe", &keel_order_fields::timeframe},
        {"tag", &keel_order_fields::tag},   {"trigger", &keel_order_fields::trigger}};
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {  // the key at -2, its value at -1
        if (lua_type(L, -2) == LUA_TSTRING) {
            size_t n = 0;
            const char *k = lua_tolstring(L, -2, &n);  // a string already: no conversion
            const std::string_view key(k, n);
            const int type = lua_type(L, -1);
            if (key == "instrument") {
                if (type == LUA_TSTRING) f.instrument = lua_tostring(L, -1);
            } else if (key == "qty") {
                has_qty = lua_isnumber(L, -1) != 0;
                if (has_qty) f.qty = lua_tonumber(L, -1);
            } else if (key == "post_only") {
                f.post_only = lua_toboolean(L, -1);
            } else if (key == "reduce_only") {
                f.reduce_only = lua_toboolean(L, -1);
            } else if (auto t = std::find_if(std::begin(kTexts), std::end(kTexts),
                                             [&](auto &x) { return x.first == key; });
                       t != std::end(kTexts)) {
                if (type == LUA_TNUMBER) {
                    // As text, kept on the stack below the walk so the string outlives the call's
                    // use of it (the table holds the number, not this string).
                    lua_pushvalue(L, -1);
                    f.*(t->second) = lua_tostring(L, -1);
                    lua_insert(L, 2);
                } else {
                    f.*(t->second) = lua_tostring(L, -1);  // NULL (not given) unless a string
                }
            } else if (auto p = std::find_if(std::begin(kPrices), std::end(kPrices),
                                             [&](auto &x) { return x.key == key; });
                       p != std::end(kPrices)) {
                if (lua_isnumber(L, -1)) {
                    f.*(p->value) = lua_tonumber(L, -1);
                    f.given |= p->bit;
                } else if (int rank = int(p - std::begin(kPrices)); rank < bad_rank) {
                    bad_rank = rank;
                    bad_price = p->key.data();
                }
            }
        }
        lua_pop(L, 1);
    }
    if (!f.instrument)
        return luaL_error(L, "keel.order: instrument must be an instrument id string");
    if (!has_qty) return luaL_error(L, "keel.order: qty must be a number");
    if (bad_price) return luaL_error(L, "keel.order: %s must be a price", bad_price);
    // Every string above stays referenced, by the table or the stack, until the call returns.
    std::string error;
    auto intent = make_intent(s, f, error);
    if (!intent) return luaL_error(L, "%s", error.c_str());
    exec::OrderId id = s.services().submit(std::move(*intent));
    lua_pushnumber(L, static_cast<lua_Number>(id));
    return 1;
}

int api_cancel(lua_State *L, LuaStrategy &s) {
    lua_Number n = luaL_checknumber(L, 1);
    // Order ids are positive integers; anything else (NaN, negative, fractional) names no order
    // and must not reach an integer cast.
    if (!(n >= 1 && n <= 9.0e15 && n == std::floor(n)))
        return luaL_error(L, "keel.cancel: %f is not an order id", static_cast<double>(n));
    auto id = static_cast<exec::OrderId>(n);
    std::string why;
    if (s.services().cancel(s.index(), id, why)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, why.c_str());
    return 2;
}

// keel.amend(id, {qty = q, price = p}): either or both; true, or nil and why.
int api_amend(lua_State *L, LuaStrategy &s) {
    lua_Number n = luaL_checknumber(L, 1);
    if (!(n >= 1 && n <= 9.0e15 && n == std::floor(n)))
        return luaL_error(L, "keel.amend: %f is not an order id", static_cast<double>(n));
    luaL_checktype(L, 2, LUA_TTABLE);
    const auto id = static_cast<exec::OrderId>(n);
    auto number = [&](const char *key) -> std::optional<double> {
        lua_getfield(L, 2, key);
        if (lua_isnil(L, -1)) return std::nullopt;
        if (!lua_isnumber(L, -1)) luaL_error(L, "keel.amend: %s must be a number", key);
        return lua_tonumber(L, -1);
    };
    const auto qty = number("qty"), price = number("price");
    if (!qty && !price) return luaL_error(L, "keel.amend: give qty, price or both");
    std::string why;
    if (s.services().amend(s.index(), id, qty, price, why)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, why.c_str());
    return 2;
}

int api_open_orders(lua_State *L, LuaStrategy &s) {
    auto ids = s.services().open_orders(s.index());
    lua_createtable(L, static_cast<int>(ids.size()), 0);
    for (size_t k = 0; k < ids.size(); ++k) {
        lua_pushnumber(L, static_cast<lua_Number>(ids[k]));
        lua_rawseti(L, -2, static_cast<int>(k + 1));
    }
    return 1;
}

int api_position(lua_State *L, LuaStrategy &s) {
    auto i = check_instrument(L, 1, s);
    const auto &p = s.services().position(i);
    const auto &spec = s.services().spec(i);
    // The keys are the closure's upvalues 2-7 (set_fn, in this order): set by reference, not
    // interned anew on every call.
    const lua_Number values[] = {spec.qty(p.qty),        p.avg_entry(spec),
                                 p.realized.to_double(), p.unrealized.to_double(),
                                 p.fees.to_double(),     p.funding.to_double()};
    lua_createtable(L, 0, static_cast<int>(std::size(values)));
    for (size_t k = 0; k < std::size(values); ++k) {
        lua_pushvalue(L, lua_upvalueindex(static_cast<int>(k) + 2));
        lua_pushnumber(L, values[k]);
        lua_rawset(L, -3);
    }
    return 1;
}

int api_instrument(lua_State *L, LuaStrategy &s) {
    const auto &spec = s.services().spec(check_instrument(L, 1, s));
    lua_createtable(L, 0, 8);
    const std::pair<const char *, const std::string *> texts[] = {{"id", &spec.id},
                                                                  {"symbol", &spec.symbol},
                                                                  {"venue", &spec.venue},
                                                                  {"base", &spec.base},
                                                                  {"quote", &spec.quote}};
    for (auto &[k, v] : texts) {
        lua_pushlstring(L, v->data(), v->size());
        lua_setfield(L, -2, k);
    }
    const std::pair<const char *, double> numbers[] = {{"tick_size", spec.tick_size},
                                                       {"lot_size", spec.lot_size},
                                                       {"min_qty", spec.qty(spec.min_qty_lots)},
                                                       {"min_notional", spec.min_notional}};
    for (auto &[k, v] : numbers) {
        lua_pushnumber(L, v);
        lua_setfield(L, -2, k);
    }
    return 1;
}

int api_balance(lua_State *L, LuaStrategy &s) {
    lua_pushnumber(L, s.services().balance());
    return 1;
}
int api_equity(lua_State *L, LuaStrategy &s) {
    lua_pushnumber(L, s.services().equity());
    return 1;
}

// keel.risk.state(): the gate's trading state and the drawdown manager's level.
int api_risk_state(lua_State *L, LuaStrategy &s) {
    auto v = s.services().risk();
    lua_createtable(L, 0, 7);
    set_field(L, "state", v.state);
    set_field(L, "drawdown_level", v.drawdown_level);
    set_field(L, "size_factor", v.size_factor);
    set_field(L, "equity", v.equity);
    set_field(L, "peak_equity", v.peak_equity);
    set_field(L, "day_start_equity", v.day_start_equity);
    set_field(L, "orders_today", static_cast<double>(v.orders_today));
    return 1;
}

// Pushes a sizing result: the number, or nil and why.
int push_sized(lua_State *L, std::optional<double> v, const char *why) {
    if (v) {
        lua_pushnumber(L, *v);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, why);
    return 2;
}

double number_field(lua_State *L, int table, const char *key, const char *fn) {
    lua_getfield(L, table, key);
    if (!lua_isnumber(L, -1)) luaL_error(L, "%s: %s must be a number", fn, key);
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

// keel.risk.size(instrument, {risk_pct=, entry=, stop=, equity=}) -> qty | nil, why
int api_risk_size(lua_State *L, LuaStrategy &s) {
    auto i = check_instrument(L, 1, s);
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *fn = "keel.risk.size";
    double risk_pct = number_field(L, 2, "risk_pct", fn);
    double entry = number_field(L, 2, "entry", fn);
    double stop = number_field(L, 2, "stop", fn);
    lua_getfield(L, 2, "equity");
    double equity = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : s.services().equity();
    return push_sized(
        L, risk::fixed_fractional_size(s.services().spec(i), equity, risk_pct / 100, entry, stop),
        "cannot size: needs positive equity, risk_pct, prices and a stop distance");
}

// keel.risk.kelly(win_rate, avg_win, avg_loss, [fraction=0.5]) -> share of equity | nil, why
int api_risk_kelly(lua_State *L, LuaStrategy &) {
    double w = luaL_checknumber(L, 1), win = luaL_checknumber(L, 2), loss = luaL_checknumber(L, 3);
    double fraction = luaL_optnumber(L, 4, 0.5);
    return push_sized(L, risk::kelly_fraction(w, win, loss, fraction),
                      "kelly needs win_rate in [0, 1], positive averages, fraction in (0, 1]");
}

// keel.risk.atr_stop(instrument, side, entry, atr, [multiple=2]) -> stop price | nil, why
int api_risk_atr_stop(lua_State *L, LuaStrategy &s) {
    auto i = check_instrument(L, 1, s);
    const char *side = luaL_checkstring(L, 2);
    if (std::strcmp(side, "buy") != 0 && std::strcmp(side, "sell") != 0)
        return luaL_error(L, "keel.risk.atr_stop: side must be \"buy\" or \"sell\"");
    double entry = luaL_checknumber(L, 3), atr = luaL_checknumber(L, 4);
    double multiple = luaL_optnumber(L, 5, 2.0);
    return push_sized(L,
                      risk::atr_stop(s.services().spec(i), side[0] == 'b' ? Side::buy : Side::sell,
                                     entry, atr, multiple),
                      "atr_stop needs a positive entry, ATR (ready) and multiple");
}

std::string join_args(lua_State *L, int first) {
    std::string out;
    int n = lua_gettop(L);
    for (int k = first; k <= n; ++k) {
        size_t len = 0;
        // luaL_tolstring is 5.2; do what print does: tostring each argument.
        lua_getglobal(L, "tostring");
        lua_pushvalue(L, k);
        lua_call(L, 1, 1);
        const char *text = lua_tolstring(L, -1, &len);
        if (k > first) out += ' ';
        if (text) out.append(text, len);
        lua_pop(L, 1);
    }
    return out;
}

template <spdlog::level::level_enum Level>
int api_log(lua_State *L, LuaStrategy &s) {
    keel::log::get("strategy").log(Level, "[{}] {}", s.name(), join_args(L, 1));
    return 0;
}

int api_notify(lua_State *L, LuaStrategy &s) {
    static const char *levels[] = {"info", "success", "warning", "error", nullptr};
    int level = luaL_checkoption(L, 1, nullptr, levels);
    const char *title = luaL_checkstring(L, 2);
    const char *body = luaL_optstring(L, 3, "");
    s.services().notify(static_cast<NotifyLevel>(level), "strategy:" + s.name(), title, body);
    return 0;
}

// ---- the FFI fast path (strategies with `jit: true`)
// ---------------------------------------------
//
// Plain C functions the trusted fast prelude calls through ffi.cast function pointers: with the
// JIT on, a call costs a few nanoseconds instead of a Lua C-API round trip. `ctx` is the
// LuaStrategy; results go to `out`; 0 means "no data" (nil in Lua), -1 a bad instrument.

int fast_best(void *ctx, uint32_t inst, int ask, double *out) noexcept {
    auto &s = *static_cast<LuaStrategy *>(ctx);
    if (inst >= s.services().instrument_count()) return -1;
    const auto &b = s.services().book(inst);
    auto lv = ask ? b.best_ask() : b.best_bid();
    if (!lv) return 0;
    const auto &spec = s.services().spec(inst);
    out[0] = spec.price(lv->price);
    out[1] = spec.qty(lv->qty);
    return 1;
}

int fast_mid(void *ctx, uint32_t inst, double *out) noexcept {
    auto &s = *static_cast<LuaStrategy *>(ctx);
    if (inst >= s.services().instrument_count()) return -1;
    const auto &b = s.services().book(inst);
    if (!b.valid()) return 0;
    const auto &spec = s.services().spec(inst);
    out[0] = (spec.price(b.best_bid()->price) + spec.price(b.best_ask()->price)) / 2;
    return 1;
}

int fast_spread(void *ctx, uint32_t inst, double *out) noexcept {
    auto &s = *static_cast<LuaStrategy *>(ctx);
    if (inst >= s.services().instrument_count()) return -1;
    const auto &b = s.services().book(inst);
    if (!b.valid()) return 0;
    out[0] = s.services().spec(inst).price(b.best_ask()->price - b.best_bid()->price);
    return 1;
}

int fast_microprice(void *ctx, uint32_t inst, double *out) noexcept {
    auto &s = *static_cast<LuaStrategy *>(ctx);
    if (inst >= s.services().instrument_count()) return -1;
    const auto &b = s.services().book(inst);
    if (!b.valid()) return 0;
    out[0] = *b.microprice() * s.services().spec(inst).tick_size;
    return 1;
}

int fast_imbalance(void *ctx, uint32_t inst, int n, double *out) noexcept {
    auto &s = *static_cast<LuaStrategy *>(ctx);
    if (inst >= s.services().instrument_count()) return -1;
    auto r = s.services().book(inst).imbalance(static_cast<size_t>(n));
    if (!r) return 0;
    out[0] = *r;
    return 1;
}

// An indicator's output `output`, `ago` candles back: 1 and the value, 0 while it is not ready
// (NaN), -1 for an `ago` beyond the history kept, -2 for a bad handle or output.
int fast_indicator(void *ctx, uint64_t slot, int output, int ago, double *out) noexcept {
    auto &s = *static_cast<LuaStrategy *>(ctx);
    if (slot >= s.indicator_count()) return -2;
    const auto &series = s.indicator(slot).series;
    if (output < 0 || static_cast<size_t>(output) >= series.outputs()) return -2;
    if (ago < 0 || static_cast<size_t>(ago) >= series.depth()) return -1;
    double v = series.value(static_cast<size_t>(output), static_cast<size_t>(ago));
    if (std::isnan(v)) return 0;
    out[0] = v;
    return 1;
}

// An order from the fast prelude: its id, or -1 when make_intent refuses it (the prelude then
// calls the C API version, which raises the same refusal as a Lua error).
double fast_order(void *ctx, const keel_order_fields *f) noexcept {
    auto &s = *static_cast<LuaStrategy *>(ctx);
    try {
        std::string error;
        auto intent = make_intent(s, *f, error);
        if (!intent) return -1;
        return static_cast<double>(s.services().submit(std::move(*intent)));
    } catch (const std::exception &) {
        return -1;  // the C API path reports it
    }
}

int fast_indicator_ready(void *ctx, uint64_t slot) noexcept {
    auto &s = *static_cast<LuaStrategy *>(ctx);
    if (slot >= s.indicator_count()) return -2;
    return s.indicator(slot).series.indicator().ready() ? 1 : 0;
}

// Replaces the hot book methods with FFI versions. Arguments: the ffi module, the book methods
// table, the set of genuine book handles, the context and the function addresses. The strategy
// never sees any of them.
constexpr const char *kFastPrelude = R"lua(
local ffi, methods, books, ctx, fns, ind_methods, factories, api = ...
local cast, error = ffi.cast, error
ctx = cast("void *", ctx)  -- a cdata pointer: compiled code cannot pass a light userdata
local out = ffi.new("double[2]")
local handle = ffi.typeof("const uint32_t *")
local is_book = {}
for _, b in pairs(books) do is_book[b] = true end
local best = cast("int (*)(void *, uint32_t, int, double *)", fns.best)
local mid = cast("int (*)(void *, uint32_t, double *)", fns.mid)
local spread = cast("int (*)(void *, uint32_t, double *)", fns.spread)
local micro = cast("int (*)(void *, uint32_t, double *)", fns.microprice)
local imbalance = cast("int (*)(void *, uint32_t, int, double *)", fns.imbalance)
local function inst(self, name)
  if not is_book[self] then error("book:" .. name .. ": not a book (call it with ':')", 3) end
  return cast(handle, self)[0]
end
methods.best_bid = function(self)
  if best(ctx, inst(self, "best_bid"), 0, out) ~= 1 then return nil end
  return out[0], out[1]
end
methods.best_ask = function(self)
  if best(ctx, inst(self, "best_ask"), 1, out) ~= 1 then return nil end
  return out[0], out[1]
end
methods.mid = function(self)
  if mid(ctx, inst(self, "mid"), out) ~= 1 then return nil end
  return out[0]
end
methods.spread = function(self)
  if spread(ctx, inst(self, "spread"), out) ~= 1 then return nil end
  return out[0]
end
methods.microprice = function(self)
  if micro(ctx, inst(self, "microprice"), out) ~= 1 then return nil end
  return out[0]
end
-- Indicator handles: each one the factories make is recorded, so only genuine ones are read.
local is_indicator = setmetatable({}, { __mode = "k" })
for kind, make in pairs(factories) do
  factories[kind] = function(...)
    local h = make(...)
    is_indicator[h] = true
    return h
  end
end
local slot_t = ffi.typeof("const uint64_t *")
local ind_value = cast("int (*)(void *, uint64_t, int, int, double *)", fns.indicator)
local ind_ready = cast("int (*)(void *, uint64_t)", fns.indicator_ready)
local output_index = setmetatable({}, { __mode = "k" })  -- handle -> { name = index }
-- The C API versions stay for the error paths, so the messages are the same in both modes.
local outputs, classic_value, classic_output =
  ind_methods.outputs, ind_methods.value, ind_methods.output
local function slot(self, name)
  if not is_indicator[self] then error("indicator:" .. name .. ": not an indicator handle", 3) end
  return cast(slot_t, self)[0]
end
ind_methods.value = function(self, ago)
  local r = ind_value(ctx, slot(self, "value"), 0, ago or 0, out)
  if r == 1 then return out[0] end
  if r < 0 then return classic_value(self, ago) end  -- raises the C API's message
  return nil
end
ind_methods.ready = function(self) return ind_ready(ctx, slot(self, "ready")) == 1 end
ind_methods.output = function(self, name, ago)
  local index = output_index[self]
  if not index then
    index = {}
    for k, n in ipairs(outputs(self)) do index[n] = k - 1 end
    output_index[self] = index
  end
  local k = index[name]
  local r = k and ind_value(ctx, slot(self, "output"), k, ago or 0, out) or -2
  if r == 1 then return out[0] end
  if r < 0 then return classic_output(self, name, ago) end  -- raises the C API's message
  return nil
end
-- Orders: plain values go straight to make_intent through the FFI; anything else, and every
-- refusal, takes the C API version, which raises the message a strategy gets in both modes.
ffi.cdef[[
struct keel_order_fields {
  const char *instrument, *side, *type, *tif, *timeframe, *tag, *trigger;
  double qty, price, trail, stop_loss, take_profit, stop;
  int32_t post_only, reduce_only;
  uint32_t given;
};
]]
local fields = ffi.new("struct keel_order_fields")
local place = cast("double (*)(void *, const struct keel_order_fields *)", fns.order)
local classic_order, type = api.order, type
local function text(v) return v == nil or type(v) == "string" end
local function number(v) return v == nil or type(v) == "number" end
api.order = function(t)
  if type(t) ~= "table" then return classic_order(t) end
  local i, side, qty, kind, tif, tf, tag, trigger = t.instrument, t.side, t.qty, t.type, t.tif,
    t.timeframe, t.tag, t.trigger
  local price, trail, sl, tp, stop = t.price, t.trail, t.stop_loss, t.take_profit, t.stop
  if type(i) ~= "string" or type(qty) ~= "number" or not (text(side) and text(kind) and
      text(tif) and text(tf) and text(tag) and text(trigger) and number(price) and number(trail) and
      number(sl) and number(tp) and number(stop)) then
    return classic_order(t)
  end
  fields.instrument, fields.side, fields.type, fields.tif = i, side, kind, tif
  fields.timeframe, fields.tag, fields.trigger, fields.qty = tf, tag, trigger, qty
  fields.price, fields.trail, fields.stop_loss = price or 0, trail or 0, sl or 0
  fields.take_profit, fields.stop = tp or 0, stop or 0
  fields.given = (price and 1 or 0) + (trail and 2 or 0) + (sl and 4 or 0) + (tp and 8 or 0)
    + (stop and 16 or 0)
  fields.post_only = t.post_only and 1 or 0
  fields.reduce_only = t.reduce_only and 1 or 0
  local id = place(ctx, fields)
  if id < 0 then return classic_order(t) end
  return id
end
methods.imbalance = function(self, n)
  n = n or 5
  if type(n) ~= "number" or n < 1 or n ~= n then
    error("book:imbalance: levels must be >= 1", 2)
  end
  if imbalance(ctx, inst(self, "imbalance"), math.min(n, 1e6), out) ~= 1 then return nil end
  return out[0]
end
)lua";

// ---- timers, candle history, declared params, signals ------------------------------------------

constexpr size_t kMaxTimers = 64;
constexpr TimeNs kMinTimerPeriod = 10'000'000;  // 10 ms
constexpr int kMaxCandles = 5000;

TimeNs check_period(lua_State *L, const char *fn) {
    lua_Number seconds = luaL_checknumber(L, 1);
    if (!(seconds >= 0.01 && seconds <= 86400.0 * 365))
        luaL_error(L, "%s: the interval must be from 0.01 to 31536000 seconds", fn);
    return std::max(static_cast<TimeNs>(seconds * 1e9), kMinTimerPeriod);
}

// keel.every(seconds) / keel.after(seconds) -> id; on_timer(id) fires on the engine clock.
template <bool Repeat>
int api_timer(lua_State *L, LuaStrategy &s) {
    const char *fn = Repeat ? "keel.every" : "keel.after";
    TimeNs period = check_period(L, fn);
    if (s.timer_count() >= kMaxTimers)
        return luaL_error(L, "%s: a strategy may have at most %d timers", fn,
                          static_cast<int>(kMaxTimers));
    uint64_t id = s.services().add_timer(s.index(), period, Repeat);
    s.track_timer(id, Repeat);
    lua_pushnumber(L, static_cast<lua_Number>(id));
    return 1;
}

int api_cancel_timer(lua_State *L, LuaStrategy &s) {
    lua_Number n = luaL_checknumber(L, 1);
    auto id = static_cast<uint64_t>(n >= 0 ? n : 0);
    bool ok = s.services().cancel_timer(s.index(), id);
    if (ok) s.forget_timer(id);
    lua_pushboolean(L, ok);
    return 1;
}

// keel.candles(inst, timeframe, n) -> the last n closed candles, oldest first.
int api_candles(lua_State *L, LuaStrategy &s) {
    auto i = check_instrument(L, 1, s);
    const char *tf = luaL_checkstring(L, 2);
    auto length = market::parse_timeframe(tf);
    if (!length) return luaL_error(L, "keel.candles: \"%s\" is not a timeframe", tf);
    lua_Integer n = luaL_optinteger(L, 3, 100);
    if (n < 1 || n > kMaxCandles)
        return luaL_error(L, "keel.candles: n must be 1 to %d", kMaxCandles);
    const auto *history = s.services().candles(i, *length);
    size_t have = history ? history->size() : 0;
    size_t take = std::min(have, static_cast<size_t>(n));
    const auto &spec = s.services().spec(i);
    lua_createtable(L, static_cast<int>(take), 0);
    for (size_t k = 0; k < take; ++k) {
        const auto &c = (*history)[have - take + k];
        lua_createtable(L, 0, 8);
        set_field(L, "time", static_cast<double>(c.start) / 1e9);
        set_field(L, "open", spec.price(c.open));
        set_field(L, "high", spec.price(c.high));
        set_field(L, "low", spec.price(c.low));
        set_field(L, "close", spec.price(c.close));
        set_field(L, "volume", spec.qty(c.volume));
        set_field(L, "trades", static_cast<double>(c.trades));
        lua_pushboolean(L, c.flat);
        lua_setfield(L, -2, "flat");
        lua_rawseti(L, -2, static_cast<int>(k + 1));
    }
    return 1;
}

// Raises a Lua error whose text is exactly `message` (no "file:line:" of the caller: the message
// already names the YAML line it is about).
[[noreturn]] void raise_message(lua_State *L, const std::string &message) {
    lua_pushlstring(L, message.data(), message.size());
    lua_error(L);
    std::abort();  // not reached
}

// keel.param(name, {type=, default=, min=, max=, choices=}) -> the YAML value, checked, or the
// default. Every YAML param a strategy does not declare is an error once it declares any.
int api_param(lua_State *L, LuaStrategy &s) {
    std::string name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "type");
    std::string type = luaL_optstring(L, -1, "number");
    if (type != "number" && type != "integer" && type != "boolean" && type != "string")
        return luaL_error(L, "keel.param: type must be number, integer, boolean or string");
    lua_getfield(L, 2, "min");
    double min = luaL_optnumber(L, -1, -HUGE_VAL);
    lua_getfield(L, 2, "max");
    double max = luaL_optnumber(L, -1, HUGE_VAL);
    s.declare_param(name);

    const auto &params = s.config().params;
    auto it = params.find(name);
    if (it == params.end()) {
        lua_getfield(L, 2, "default");
        if (lua_isnil(L, -1))
            raise_message(L, s.config().where + ": strategies." + s.name() + ".params." + name +
                                 ": required by the strategy (keel.param without a default)");
        return 1;
    }
    const config::RawSetting &raw = it->second;
    std::string shown =
        raw.from_env ? "a value from the environment (not shown)" : "\"" + raw.value + "\"";
    auto fail = [&](const std::string &expected) {
        raise_message(
            L, raw.where + ": " + raw.key_path + ": expected " + expected + ", found " + shown);
    };
    if (type == "boolean") {
        if (raw.value != "true" && raw.value != "false") fail("true or false");
        lua_pushboolean(L, raw.value == "true");
        return 1;
    }
    if (type == "string") {
        lua_getfield(L, 2, "choices");
        if (lua_istable(L, -1)) {
            std::string options;
            bool found = false;
            for (int k = 1;; ++k) {
                lua_rawgeti(L, -1, k);
                if (lua_isnil(L, -1)) break;
                std::string choice = lua_tostring(L, -1) ? lua_tostring(L, -1) : "";
                found = found || choice == raw.value;
                options += (options.empty() ? "" : ", ") + choice;
                lua_pop(L, 1);
            }
            if (!found) fail("one of " + options);
        }
        lua_pushlstring(L, raw.value.data(), raw.value.size());
        return 1;
    }
    double v = 0;
    auto r = std::from_chars(raw.value.data(), raw.value.data() + raw.value.size(), v);
    bool number =
        r.ec == std::errc() && r.ptr == raw.value.data() + raw.value.size() && std::isfinite(v);
    bool ok = number && (type != "integer" || v == std::floor(v)) && v >= min && v <= max;
    if (!ok) {
        std::string what = type == "integer" ? "an integer" : "a number";
        if (min > -HUGE_VAL && max < HUGE_VAL)
            what += fmt::format(" from {:g} to {:g}", min, max);
        else if (min > -HUGE_VAL)
            what += fmt::format(" >= {:g}", min);
        else if (max < HUGE_VAL)
            what += fmt::format(" <= {:g}", max);
        fail(what);
    }
    lua_pushnumber(L, v);
    return 1;
}

// keel.signal{name=, instrument=, direction="long"|"short", entry=, stop=, target=, confidence=}
int api_signal(lua_State *L, LuaStrategy &s) {
    luaL_checktype(L, 1, LUA_TTABLE);
    Signal sig;
    lua_getfield(L, 1, "instrument");
    sig.instrument = check_instrument(L, -1, s);
    lua_getfield(L, 1, "direction");
    const char *direction = lua_tostring(L, -1);
    if (!direction || (std::strcmp(direction, "long") != 0 && std::strcmp(direction, "short") != 0))
        return luaL_error(L, "keel.signal: direction must be \"long\" or \"short\"");
    sig.side = direction[0] == 'l' ? Side::buy : Side::sell;
    lua_getfield(L, 1, "name");
    sig.name = luaL_optstring(L, -1, s.name().c_str());
    const std::pair<const char *, double *> numbers[] = {{"entry", &sig.entry},
                                                         {"stop", &sig.stop},
                                                         {"target", &sig.target},
                                                         {"confidence", &sig.confidence}};
    for (auto [key, out] : numbers) {
        lua_getfield(L, 1, key);
        if (lua_isnil(L, -1)) continue;
        if (!lua_isnumber(L, -1) || !std::isfinite(lua_tonumber(L, -1)))
            return luaL_error(L, "keel.signal: %s must be a finite number", key);
        *out = lua_tonumber(L, -1);
    }
    s.services().signal(s.index(), sig);
    return 0;
}

int traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

// keel.<name>: fn with the strategy as upvalue 1, and `keys` as upvalues 2.., strings it uses
// as table keys without interning them on every call.
void set_fn(lua_State *L, const char *name, lua_CFunction fn, void *self,
            std::initializer_list<const char *> keys = {}) {
    lua_pushlightuserdata(L, self);
    for (const char *key : keys) lua_pushstring(L, key);
    lua_pushcclosure(L, fn, 1 + static_cast<int>(keys.size()));
    lua_setfield(L, -2, name);
}

// A YAML param becomes a boolean, a number or a string.
void push_param(lua_State *L, const std::string &v) {
    if (v == "true" || v == "false") {
        lua_pushboolean(L, v == "true");
        return;
    }
    double d = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), d);
    if (r.ec == std::errc() && r.ptr == v.data() + v.size())
        lua_pushnumber(L, d);
    else
        lua_pushlstring(L, v.data(), v.size());
}

}  // namespace

// ---- runaway protection ----------------------------------------------------------------------
//
// Strategies run in the LuaJIT interpreter: the JIT compiler is never started in a strategy's
// state (luaopen_jit is not called), because a count hook never fires inside compiled code and
// `while true do end` could not be stopped (ARCHITECTURE.md). The hook checks the callback's
// deadline every kHookInstructions VM instructions; the allocator enforces the memory cap. Both
// mark the budget exhausted, and the sandbox's pcall, xpcall and coroutine.resume re-raise once
// it is, so a strategy cannot catch its own timeout and go on.

constexpr int kHookInstructions = 1000;

struct LuaStrategy::Budget {
    size_t used = 0;
    size_t limit = 0;
    int64_t deadline_ns = 0;  // steady clock; 0: no call in progress
    // The call's time budget, not yet counting: the hook's first firing starts it, so a callback
    // shorter than kHookInstructions never reads the clock (the budget then starts a few
    // microseconds late, which no runaway loop notices).
    int64_t unstarted_ns = 0;
    enum class Exhausted { no, time, memory } exhausted = Exhausted::no;

    static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
        auto *b = static_cast<Budget *>(ud);
        if (nsize == 0) {
            b->used -= osize;
            std::free(ptr);
            return nullptr;
        }
        size_t old = ptr ? osize : 0;
        if (nsize > old && b->used + (nsize - old) > b->limit) {
            if (b->deadline_ns != 0) b->exhausted = Exhausted::memory;
            return nullptr;  // "not enough memory"
        }
        void *p = std::realloc(ptr, nsize);
        if (p) b->used = b->used - old + nsize;
        return p;
    }

    static Budget *of(lua_State *L) {
        void *ud = nullptr;
        lua_getallocf(L, &ud);
        return static_cast<Budget *>(ud);
    }

    static int64_t now_ns() {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }

    static void hook(lua_State *L, lua_Debug *) {
        Budget *b = of(L);
        if (b->deadline_ns == 0) return;
        if (b->unstarted_ns != 0) {
            b->deadline_ns = now_ns() + std::exchange(b->unstarted_ns, 0);
            return;
        }
        if (b->exhausted == Exhausted::no && now_ns() > b->deadline_ns)
            b->exhausted = Exhausted::time;
        if (b->exhausted == Exhausted::time)
            luaL_error(L, "keel: the callback ran past its time budget (max_callback_ms)");
    }
};

namespace {

// Loaded before the strategy's own chunk, with the budget's state as its argument: wraps the
// functions that catch errors so that they re-raise once the budget is exhausted.
constexpr const char *kPrelude = R"lua(
local exhausted = ...
local raw_pcall, raw_xpcall, raw_resume, error = pcall, xpcall, coroutine.resume, error
local function pass(ok, ...)
  if not ok and exhausted() then error((...), 0) end
  return ok, ...
end
pcall = function(...) return pass(raw_pcall(...)) end
xpcall = function(f, handler, ...) return pass(raw_xpcall(f, handler, ...)) end
coroutine.resume = function(co, ...) return pass(raw_resume(co, ...)) end
)lua";

int lua_budget_exhausted(lua_State *L) {
    lua_pushboolean(L, LuaStrategy::budget_exhausted(L));
    return 1;
}

}  // namespace

bool LuaStrategy::budget_exhausted(lua_State *L) {
    return Budget::of(L)->exhausted != Budget::Exhausted::no;
}

LuaStrategy::LuaStrategy(exec::StrategyIndex index, config::Strategy config, Services &services,
                         std::vector<InstrumentIndex> instruments)
    : index_(index),
      config_(std::move(config)),
      services_(services),
      instruments_(std::move(instruments)),
      budget_(std::make_unique<Budget>()) {
    budget_->limit = static_cast<size_t>(config_.memory_mb * 1024 * 1024);
}

LuaStrategy::~LuaStrategy() {
    if (L_) lua_close(L_);
}

bool LuaStrategy::wants(InstrumentIndex i) const {
    return std::find(instruments_.begin(), instruments_.end(), i) != instruments_.end();
}

size_t LuaStrategy::memory_used() const {
    return budget_->used;
}

void LuaStrategy::install_api() {
    lua_State *L = L_;
    // Book handles: one userdata per instrument, methods in a protected metatable.
    luaL_newmetatable(L, kBookMeta);
    lua_newtable(L);
    set_fn(L, "best_bid", guarded<book_best_bid>, this);
    set_fn(L, "best_ask", guarded<book_best_ask>, this);
    set_fn(L, "level", guarded<book_level>, this);
    set_fn(L, "mid", guarded<book_mid>, this);
    set_fn(L, "spread", guarded<book_spread>, this);
    set_fn(L, "imbalance", guarded<book_imbalance>, this);
    set_fn(L, "microprice", guarded<book_microprice>, this);
    set_fn(L, "levels", guarded<book_levels>, this);
    set_fn(L, "volume_to", guarded<book_volume_to>, this);
    set_fn(L, "vwap", guarded<book_vwap>, this);
    set_fn(L, "valid", guarded<book_valid>, this);
    set_fn(L, "instrument", guarded<book_instrument>, this);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");  // getmetatable(book) gives false, setmetatable fails
    lua_pop(L, 1);

    // Indicator handles: methods in a protected metatable, like books.
    luaL_newmetatable(L, kIndicatorMeta);
    lua_newtable(L);
    set_fn(L, "value", guarded<indicator_value>, this);
    set_fn(L, "output", guarded<indicator_output>, this);
    set_fn(L, "ready", guarded<indicator_ready>, this);
    set_fn(L, "outputs", guarded<indicator_outputs>, this);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);

    lua_newtable(L);  // books by instrument id
    int books = lua_gettop(L);
    size_t count = services_.instrument_count();
    instrument_refs_.assign(count, LUA_NOREF);
    book_refs_.assign(count, LUA_NOREF);
    for (InstrumentIndex i = 0; i < count; ++i) {
        const std::string &id = services_.spec(i).id;
        lua_pushlstring(L, id.data(), id.size());
        lua_pushvalue(L, -1);
        instrument_refs_[i] = luaL_ref(L, LUA_REGISTRYINDEX);
        auto *h = static_cast<BookHandle *>(lua_newuserdata(L, sizeof(BookHandle)));
        h->instrument = i;
        luaL_getmetatable(L, kBookMeta);
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        book_refs_[i] = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_rawset(L, books);
    }

    lua_newtable(L);  // keel
    lua_pushlightuserdata(L, this);
    lua_pushvalue(L, books);
    lua_pushcclosure(L, guarded<api_book>, 2);
    lua_setfield(L, -2, "book");
    set_fn(L, "now", guarded<api_now>, this);
    set_fn(L, "order", guarded<api_order>, this);
    set_fn(L, "cancel", guarded<api_cancel>, this);
    set_fn(L, "amend", guarded<api_amend>, this);
    set_fn(L, "open_orders", guarded<api_open_orders>, this);
    set_fn(L, "position", guarded<api_position>, this,
           {"qty", "avg_price", "realized_pnl", "unrealized_pnl", "fees", "funding"});
    set_fn(L, "instrument", guarded<api_instrument>, this);
    set_fn(L, "balance", guarded<api_balance>, this);
    set_fn(L, "equity", guarded<api_equity>, this);
    set_fn(L, "notify", guarded<api_notify>, this);
    set_fn(L, "every", guarded<api_timer<true>>, this);
    set_fn(L, "after", guarded<api_timer<false>>, this);
    set_fn(L, "cancel_timer", guarded<api_cancel_timer>, this);
    set_fn(L, "candles", guarded<api_candles>, this);
    set_fn(L, "param", guarded<api_param>, this);
    set_fn(L, "signal", guarded<api_signal>, this);
    lua_newtable(L);  // keel.indicator.<kind>
    for (auto &k : indicators::indicator_kinds()) {
        lua_pushlightuserdata(L, this);
        lua_pushstring(L, k.name);
        lua_pushcclosure(L, guarded<api_indicator>, 2);
        lua_setfield(L, -2, k.name);
    }
    lua_setfield(L, -2, "indicator");
    lua_newtable(L);  // keel.risk
    set_fn(L, "state", guarded<api_risk_state>, this);
    set_fn(L, "size", guarded<api_risk_size>, this);
    set_fn(L, "kelly", guarded<api_risk_kelly>, this);
    set_fn(L, "atr_stop", guarded<api_risk_atr_stop>, this);
    lua_setfield(L, -2, "risk");
    lua_newtable(L);
    set_fn(L, "debug", guarded<api_log<spdlog::level::debug>>, this);
    set_fn(L, "info", guarded<api_log<spdlog::level::info>>, this);
    set_fn(L, "warn", guarded<api_log<spdlog::level::warn>>, this);
    set_fn(L, "error", guarded<api_log<spdlog::level::err>>, this);
    lua_setfield(L, -2, "log");

    lua_newtable(L);  // keel.params
    for (auto &[key, raw] : config_.params) {
        push_param(L, raw.value);
        lua_setfield(L, -2, key.c_str());
    }
    lua_setfield(L, -2, "params");

    lua_newtable(L);  // keel.instruments: this strategy's instrument ids, in config order
    for (size_t k = 0; k < instruments_.size(); ++k) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, instrument_refs_[instruments_[k]]);
        lua_rawseti(L, -2, static_cast<int>(k + 1));
    }
    lua_setfield(L, -2, "instruments");

    set_field(L, "strategy", config_.name.c_str());
    lua_setglobal(L, "keel");
    lua_pop(L, 1);  // books table

    // print goes to the log, like keel.log.info.
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, guarded<api_log<spdlog::level::info>>, 1);
    lua_setglobal(L, "print");
}

void LuaStrategy::load() {
    std::ifstream in(config_.file, std::ios::binary);
    if (!in)
        throw StrategyError(config_.file.string() +
                            ": cannot read strategy file: " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string source = ss.str();

    L_ = lua_newstate(&Budget::alloc, budget_.get());
    if (!L_) throw StrategyError(config_.file.string() + ": cannot create a Lua state");

    // Only the pure libraries: no io, os, package, debug, ffi or jit.
    const std::pair<const char *, lua_CFunction> libs[] = {{"", luaopen_base},
                                                           {LUA_TABLIBNAME, luaopen_table},
                                                           {LUA_STRLIBNAME, luaopen_string},
                                                           {LUA_MATHLIBNAME, luaopen_math},
                                                           {LUA_BITLIBNAME, luaopen_bit}};
    for (auto &[name, fn] : libs) {
        lua_pushcfunction(L_, fn);
        lua_pushstring(L_, name);
        lua_call(L_, 1, 0);
    }
    int ffi_ref = LUA_NOREF;
    if (config_.jit) {
        // The compiler (luaopen_jit switches it on) and the FFI, for the trusted fast prelude
        // only: both globals are removed just below.
        lua_pushcfunction(L_, luaopen_jit);
        lua_pushstring(L_, LUA_JITLIBNAME);
        lua_call(L_, 1, 0);
        lua_pushcfunction(L_, luaopen_ffi);
        lua_pushstring(L_, LUA_FFILIBNAME);
        lua_call(L_, 1, 1);
        ffi_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
    }
    for (const char *g : kRemovedGlobals) {
        lua_pushnil(L_);
        lua_setglobal(L_, g);
    }
    lua_getglobal(L_, "string");
    lua_pushnil(L_);
    lua_setfield(L_, -2, "dump");
    lua_pop(L_, 1);

    lua_pushcfunction(L_, traceback);
    traceback_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
    install_api();
    load_prelude();
    // An active hook stops LuaJIT from compiling anything, so a `jit: true` strategy runs without
    // one: it trades the time budget for speed (its memory cap still holds).
    if (config_.jit)
        load_fast_prelude(ffi_ref);
    else
        lua_sethook(L_, &Budget::hook, LUA_MASKCOUNT, kHookInstructions);

    if (!source.empty() && source[0] == '\x1b')  // LUA_SIGNATURE[0]: precompiled bytecode
        throw StrategyError(config_.file.string() +
                            ": precompiled bytecode is refused; strategies load from source");
    std::string chunk = "@" + config_.file.lexically_normal().string();
    // "t": text only; precompiled bytecode is refused.
    if (luaL_loadbufferx(L_, source.data(), source.size(), chunk.c_str(), "t") != 0) {
        std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "unknown error";
        throw StrategyError(msg);
    }
    lua_rawgeti(L_, LUA_REGISTRYINDEX, traceback_ref_);
    lua_insert(L_, -2);
    // The main chunk may build tables and indicators: ten callbacks' worth of time.
    start_budget(10);
    int status = lua_pcall(L_, 0, 0, -2);
    auto exhausted = end_budget();
    if (status != 0) {
        std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "unknown error";
        lua_pop(L_, 2);
        if (exhausted) msg = config_.file.string() + ": the main chunk " + *exhausted;
        throw StrategyError(msg);
    }
    lua_pop(L_, 1);
    // A strategy that declares its params (keel.param) owns the list: a YAML param it does not
    // declare is a typo or a leftover, and refused.
    if (!declared_params_.empty()) {
        for (const auto &[key, raw] : config_.params) {
            if (param_declared(key)) continue;
            std::string message = raw.where + ": " + raw.key_path + ": unknown param";
            if (auto best = config::closest(key, declared_params_))
                message += " (did you mean \"" + *best + "\"?)";
            std::string names;
            for (auto &d : declared_params_) names += (names.empty() ? "" : ", ") + d;
            throw StrategyError(message + "; " + config_.name + " declares: " + names);
        }
    }
}

void LuaStrategy::load_prelude() {
    if (luaL_loadbufferx(L_, kPrelude, std::strlen(kPrelude), "=keel prelude", "t") != 0)
        throw StrategyError(std::string("keel prelude: ") + lua_tostring(L_, -1));
    lua_pushcfunction(L_, lua_budget_exhausted);
    if (lua_pcall(L_, 1, 0, 0) != 0)
        throw StrategyError(std::string("keel prelude: ") + lua_tostring(L_, -1));
}

void LuaStrategy::load_fast_prelude(int ffi_ref) {
    if (luaL_loadbufferx(L_, kFastPrelude, std::strlen(kFastPrelude), "=keel fast prelude", "t") !=
        0)
        throw StrategyError(std::string("keel fast prelude: ") + lua_tostring(L_, -1));
    lua_rawgeti(L_, LUA_REGISTRYINDEX, ffi_ref);
    luaL_unref(L_, LUA_REGISTRYINDEX, ffi_ref);
    luaL_getmetatable(L_, kBookMeta);
    lua_getfield(L_, -1, "__index");
    lua_remove(L_, -2);
    lua_createtable(L_, static_cast<int>(book_refs_.size()), 0);  // the genuine handles
    for (size_t k = 0; k < book_refs_.size(); ++k) {
        if (book_refs_[k] == LUA_NOREF) continue;
        lua_rawgeti(L_, LUA_REGISTRYINDEX, book_refs_[k]);
        lua_rawseti(L_, -2, static_cast<int>(k + 1));
    }
    lua_pushlightuserdata(L_, this);
    lua_createtable(L_, 0, 5);
    const std::pair<const char *, void *> fns[] = {
        {"best", reinterpret_cast<void *>(&fast_best)},
        {"mid", reinterpret_cast<void *>(&fast_mid)},
        {"spread", reinterpret_cast<void *>(&fast_spread)},
        {"microprice", reinterpret_cast<void *>(&fast_microprice)},
        {"imbalance", reinterpret_cast<void *>(&fast_imbalance)},
        {"indicator", reinterpret_cast<void *>(&fast_indicator)},
        {"indicator_ready", reinterpret_cast<void *>(&fast_indicator_ready)},
        {"order", reinterpret_cast<void *>(&fast_order)}};
    for (auto [name, fn] : fns) {
        lua_pushlightuserdata(L_, fn);
        lua_setfield(L_, -2, name);
    }
    luaL_getmetatable(L_, kIndicatorMeta);
    lua_getfield(L_, -1, "__index");
    lua_remove(L_, -2);
    lua_getglobal(L_, "keel");
    lua_getfield(L_, -1, "indicator");
    lua_insert(L_, -2);  // the factories, then the keel table (its order is replaced)
    if (lua_pcall(L_, 8, 0, 0) != 0)
        throw StrategyError(std::string("keel fast prelude: ") + lua_tostring(L_, -1));
}

void LuaStrategy::start_budget(double callbacks) {
    budget_ms_ = config_.max_callback_ms * callbacks;
    budget_->exhausted = Budget::Exhausted::no;
    // Without the hook (jit: true) only the memory cap is watched: no clock to read.
    budget_->deadline_ns = INT64_MAX;
    budget_->unstarted_ns = config_.jit ? 0 : std::max<int64_t>(1, std::llround(budget_ms_ * 1e6));
}

std::optional<std::string> LuaStrategy::end_budget() {
    auto exhausted = budget_->exhausted;
    budget_->deadline_ns = 0;
    budget_->unstarted_ns = 0;
    budget_->exhausted = Budget::Exhausted::no;
    if (exhausted == Budget::Exhausted::time)
        return fmt::format("ran past its time budget of {:g} ms (max_callback_ms)", budget_ms_);
    if (exhausted == Budget::Exhausted::memory)
        return "went over its memory cap of " + fmt::format("{:g}", config_.memory_mb) +
               " MiB (memory_mb)";
    return std::nullopt;
}

void LuaStrategy::report_error(const char *where, const std::string &message) {
    ++errors_;
    // The first line is "file:line: message"; the traceback follows for debugging.
    auto first = message.substr(0, message.find('\n'));
    last_error_ = std::string(where) + ": " + first;
    auto &log = keel::log::get("strategy");
    log.error("[{}] {}: {}", config_.name, where, first);
    log.debug("[{}] {}", config_.name, message);
    // Alert on the first error and then sparingly, so a failing callback cannot flood notifiers.
    if (errors_ == 1 || errors_ % 1000 == 0)
        services_.notify(
            NotifyLevel::error, "strategy:" + config_.name,
            "strategy error in " + std::string(where) + " (" + std::to_string(errors_) + " so far)",
            first);
}

bool LuaStrategy::push_callback(const char *name) {
    if (faulted_) return false;  // stopped for good
    lua_rawgeti(L_, LUA_REGISTRYINDEX, traceback_ref_);
    int ref = LUA_NOREF;
    for (const auto &[known, r] : callback_names_)
        if (known == name) ref = r;
    if (ref == LUA_NOREF) {
        lua_pushstring(L_, name);
        ref = luaL_ref(L_, LUA_REGISTRYINDEX);
        callback_names_.emplace_back(name, ref);
    }
    lua_rawgeti(L_, LUA_REGISTRYINDEX, ref);
    lua_gettable(L_, LUA_GLOBALSINDEX);  // the global of that name, as lua_getglobal reads it
    if (lua_isfunction(L_, -1)) return true;
    lua_pop(L_, 2);
    return false;
}

void LuaStrategy::call(const char *name, int nargs) {
    // Stack: traceback, function, args...
    int base = lua_gettop(L_) - nargs - 1;
    start_budget(1);
    // Only this thread writes the counter: a plain store, no read-modify-write.
    if (busy_) busy_->store(busy_->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    int status = lua_pcall(L_, nargs, 0, base);
    if (busy_) busy_->store(busy_->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    auto exhausted = end_budget();
    if (status != 0) {
        const char *msg = lua_tostring(L_, -1);
        std::string text = msg ? msg : "(error object is not a string)";
        lua_pop(L_, 1);
        if (exhausted) {
            lua_pop(L_, 1);  // traceback
            fault_strategy(name, *exhausted);
            return;
        }
        report_error(name, text);
    }
    lua_pop(L_, 1);  // traceback
}

void LuaStrategy::fault_strategy(const char *where, const std::string &why) {
    faulted_ = true;
    fault_ = std::string(where) + " " + why;
    ++errors_;
    last_error_ = fault_;
    keel::log::get("strategy").error("[{}] FAULTED: {}; no more callbacks", config_.name, fault_);
    // Free what the runaway built: the state stays (its orders and indicators are read after).
    lua_gc(L_, LUA_GCCOLLECT, 0);
    services_.strategy_faulted(index_, fault_);
}

void LuaStrategy::push_instrument(InstrumentIndex i) {
    lua_rawgeti(L_, LUA_REGISTRYINDEX, instrument_refs_.at(i));
}

void LuaStrategy::on_start() {
    if (push_callback("on_start")) call("on_start", 0);
}

void LuaStrategy::on_timer(uint64_t id) {
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    if (!it->second) timers_.erase(it);  // a one-shot timer is gone once it fired
    if (!active_ || !push_callback("on_timer")) return;
    lua_pushnumber(L_, static_cast<lua_Number>(id));
    call("on_timer", 1);
}

bool LuaStrategy::param_declared(const std::string &name) const {
    return std::find(declared_params_.begin(), declared_params_.end(), name) !=
           declared_params_.end();
}

void LuaStrategy::on_stop() {
    if (push_callback("on_stop")) call("on_stop", 0);
}

void LuaStrategy::on_book(InstrumentIndex i) {
    if (!active_ || !push_callback("on_book")) return;
    push_instrument(i);
    lua_rawgeti(L_, LUA_REGISTRYINDEX, book_refs_.at(i));
    call("on_book", 2);
}

void LuaStrategy::on_trade(InstrumentIndex i, const TradeView &t) {
    if (!active_ || !push_callback("on_trade")) return;
    const auto &spec = services_.spec(i);
    push_instrument(i);
    lua_createtable(L_, 0, 4);
    set_field(L_, "price", spec.price(t.price));
    set_field(L_, "qty", spec.qty(t.qty));
    set_field(L_, "side", to_string(t.aggressor));
    set_field(L_, "time", static_cast<double>(t.ts) / 1e9);
    call("on_trade", 2);
}

size_t LuaStrategy::add_indicator(InstrumentIndex i, std::string timeframe,
                                  std::unique_ptr<indicators::AnyIndicator> ind, size_t depth) {
    // Indicator state lives outside the Lua heap and its memory cap, so their number is capped:
    // creating one per candle by mistake fails fast instead of growing for ever.
    if (indicators_.size() >= kMaxIndicators)
        throw std::runtime_error("a strategy may create at most " + std::to_string(kMaxIndicators) +
                                 " indicators (create them once, in the main chunk or on_start)");
    indicators_.push_back(
        {i, std::move(timeframe), indicators::IndicatorSeries(std::move(ind), depth)});
    return indicators_.size() - 1;
}

void LuaStrategy::update_indicators(InstrumentIndex i, const std::string &timeframe,
                                    const market::Candle &c) {
    if (indicators_.empty()) return;
    const auto &spec = services_.spec(i);
    indicators::Bar bar{spec.price(c.open), spec.price(c.high), spec.price(c.low),
                        spec.price(c.close), spec.qty(c.volume)};
    for (auto &slot : indicators_)
        if (slot.instrument == i && slot.timeframe == timeframe) slot.series.update(bar, c.start);
}

void LuaStrategy::on_candle(InstrumentIndex i, const std::string &timeframe,
                            const market::Candle &c) {
    const auto &spec = services_.spec(i);
    // Indicators first, so on_candle reads values that include this candle.
    update_indicators(i, timeframe, c);
    if (!active_ || !push_callback("on_candle")) return;
    lua_pushlstring(L_, timeframe.data(), timeframe.size());
    lua_createtable(L_, 0, 10);
    push_instrument(i);
    lua_setfield(L_, -2, "instrument");
    lua_pushboolean(L_, c.flat);
    lua_setfield(L_, -2, "flat");
    lua_pushboolean(L_, c.history);
    lua_setfield(L_, -2, "history");
    const std::pair<const char *, double> fields[] = {{"open", spec.price(c.open)},
                                                      {"high", spec.price(c.high)},
                                                      {"low", spec.price(c.low)},
                                                      {"close", spec.price(c.close)},
                                                      {"volume", spec.qty(c.volume)},
                                                      {"time", static_cast<double>(c.start) / 1e9},
                                                      {"trades", static_cast<double>(c.trades)}};
    for (auto &[k, v] : fields) {
        lua_pushnumber(L_, v);
        lua_setfield(L_, -2, k);
    }
    call("on_candle", 2);
}

void LuaStrategy::on_order(const exec::OrderEvent &e) {
    if (!push_callback("on_order")) return;
    const auto &spec = services_.spec(e.instrument);
    lua_createtable(L_, 0, 14);
    set_field(L_, "id", static_cast<lua_Number>(e.id));
    push_instrument(e.instrument);
    lua_setfield(L_, -2, "instrument");
    set_field(L_, "side", to_string(e.side));
    set_field(L_, "type", exec::to_string(e.type));
    set_field(L_, "status", exec::to_string(e.status));
    set_field(L_, "qty", spec.qty(e.qty));
    set_field(L_, "filled", spec.qty(e.filled));
    set_field(L_, "avg_price", e.avg_price);
    if (e.price > 0) set_field(L_, "price", spec.price(e.price));
    if (e.last_qty) {
        set_field(L_, "fill_qty", spec.qty(e.last_qty));
        set_field(L_, "fill_price", spec.price(e.last_price));
        set_field(L_, "fee", e.last_fee.to_double());
        set_field(L_, "slippage_bps", e.slippage_bps);
    }
    if (!e.reason.empty()) {
        set_field(L_, "reason", e.reason.c_str());
    }
    if (!e.message.empty()) {
        set_field(L_, "message", e.message.c_str());
    }
    if (!e.tag.empty()) {
        set_field(L_, "tag", e.tag.c_str());
    }
    set_field(L_, "time", static_cast<double>(e.ts) / 1e9);
    call("on_order", 1);
}

// ---- hot reload ------------------------------------------------------------------------------

namespace {

// Copies the value at `from_index` of `from` onto `to`'s stack: plain data only, so nothing of
// the old version (functions, handles, metatables) leaks into the new one.
void copy_plain(lua_State *from, int from_index, lua_State *to, const std::string &path,
                int depth) {
    from_index = from_index < 0 ? lua_gettop(from) + from_index + 1 : from_index;
    switch (lua_type(from, from_index)) {
        case LUA_TNIL:
            lua_pushnil(to);
            return;
        case LUA_TBOOLEAN:
            lua_pushboolean(to, lua_toboolean(from, from_index));
            return;
        case LUA_TNUMBER:
            lua_pushnumber(to, lua_tonumber(from, from_index));
            return;
        case LUA_TSTRING: {
            size_t len = 0;
            const char *text = lua_tolstring(from, from_index, &len);
            lua_pushlstring(to, text, len);
            return;
        }
        case LUA_TTABLE:
            break;
        default:
            throw StrategyError("on_save returned a " +
                                std::string(lua_typename(from, lua_type(from, from_index))) +
                                " at " + path +
                                ": only nil, booleans, numbers, strings and tables of them "
                                "cross a reload");
    }
    if (depth > 32) throw StrategyError("on_save returned tables nested deeper than 32 at " + path);
    lua_newtable(to);
    lua_pushnil(from);
    while (lua_next(from, from_index) != 0) {
        int key_type = lua_type(from, -2);
        if (key_type != LUA_TSTRING && key_type != LUA_TNUMBER && key_type != LUA_TBOOLEAN)
            throw StrategyError("on_save returned a table keyed by a " +
                                std::string(lua_typename(from, key_type)) + " at " + path);
        std::string child =
            path + "[" +
            (key_type == LUA_TSTRING ? std::string(lua_tostring(from, -2)) : std::string("#")) +
            "]";
        copy_plain(from, -2, to, child, depth + 1);  // key
        copy_plain(from, -1, to, child, depth + 1);  // value
        lua_rawset(to, -3);
        lua_pop(from, 1);
    }
}

}  // namespace

void LuaStrategy::call_or_throw(const char *name, int nargs, int nresults) {
    int base = lua_gettop(L_) - nargs - 1;
    start_budget(1);
    int status = lua_pcall(L_, nargs, nresults, base);
    auto exhausted = end_budget();
    if (status != 0) {
        std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "unknown error";
        lua_pop(L_, 2);  // message, traceback
        if (exhausted) msg = std::string(name) + " " + *exhausted;
        throw StrategyError(msg.substr(0, msg.find('\n')));
    }
    lua_remove(L_, base);  // the traceback, below the results
}

void LuaStrategy::take_over(LuaStrategy &old) {
    int top = lua_gettop(L_);
    bool has_state = false;
    if (!old.faulted_ && old.push_callback("on_save")) {
        try {
            old.call_or_throw("on_save", 0, 1);
        } catch (const StrategyError &e) {
            throw StrategyError(std::string("on_save of the running version failed: ") + e.what());
        }
        try {
            copy_plain(old.L_, -1, L_, "state", 0);
        } catch (...) {
            lua_pop(old.L_, 1);
            lua_settop(L_, top);
            throw;
        }
        lua_pop(old.L_, 1);
        has_state = true;
    }
    if (push_callback("on_reload")) {
        if (has_state)
            lua_pushvalue(L_, top + 1);
        else
            lua_pushnil(L_);
        try {
            call_or_throw("on_reload", 1, 0);
        } catch (...) {
            lua_settop(L_, top);
            throw;
        }
    }
    lua_settop(L_, top);
}

std::optional<std::string> LuaStrategy::global_as_string(const std::string &name) const {
    // "a.b.c" reads field c of table a.b.
    std::string path = name;
    size_t dot = path.find('.');
    lua_getglobal(L_, path.substr(0, dot).c_str());
    while (dot != std::string::npos && lua_istable(L_, -1)) {
        size_t next = path.find('.', dot + 1);
        std::string key = path.substr(dot + 1, next - dot - 1);
        if (!key.empty() && key.find_first_not_of("0123456789") == std::string::npos)
            lua_rawgeti(L_, -1, std::stoi(key));  // "times.1": the array's first element
        else
            lua_getfield(L_, -1, key.c_str());
        lua_remove(L_, -2);
        dot = next;
    }
    std::optional<std::string> out;
    if (dot == std::string::npos) {
        if (lua_isstring(L_, -1) || lua_isnumber(L_, -1))
            out = lua_tostring(L_, -1);
        else if (lua_isboolean(L_, -1))
            out = lua_toboolean(L_, -1) ? "true" : "false";
    }
    lua_pop(L_, 1);
    return out;
}

}  // namespace keel::strategy
