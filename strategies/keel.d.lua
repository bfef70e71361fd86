---@meta keel
-- LuaLS definitions of keel's strategy API, for completion and type checks in editors. keel never
-- loads this file. The API itself: docs/lua-api.md.

---@alias keel.Side "buy"|"sell"
---@alias keel.BookSide "bid"|"ask"
---@alias keel.OrderType "market"|"limit"|"stop"|"take_profit"|"trailing_stop"
---@alias keel.OrderStatus "accepted"|"partially_filled"|"filled"|"cancelled"|"rejected"|"triggered"|"expired"|"amended"|"pending_new"|"pending_cancel"
---@alias keel.NotifyLevel "info"|"success"|"warning"|"error"

---@class keel.Book
local Book = {}
---@return number? price, number? qty
function Book:best_bid() end
---@return number? price, number? qty
function Book:best_ask() end
---@param side keel.BookSide
---@param n integer 1 = best
---@return number? price, number? qty
function Book:level(side, n) end
---@return number?
function Book:mid() end
---@return number?
function Book:spread() end
---@param n? integer levels per side (default 5)
---@return number? ratio bid volume / ask volume
function Book:imbalance(n) end
---@return number?
function Book:microprice() end
---@param side keel.BookSide
---@param n integer 1 to 1000
---@param out? table reused between calls
---@return {price: number, qty: number}[]?
function Book:levels(side, n, out) end
---@param side keel.BookSide
---@param price number
---@return number? qty
function Book:volume_to(side, price) end
---@param side keel.BookSide
---@param qty number
---@return number? vwap, number? filled, number? worst
function Book:vwap(side, qty) end
---@return boolean
function Book:valid() end
---@return string
function Book:instrument() end

---@class keel.Trade
---@field price number
---@field qty number
---@field side keel.Side aggressor
---@field time number seconds since the epoch

---@class keel.Candle
---@field instrument string
---@field time number start, seconds since the epoch, aligned to the timeframe
---@field open number
---@field high number
---@field low number
---@field close number
---@field volume number
---@field trades integer
---@field flat boolean no trades in the interval
---@field history boolean loaded from history, not built live

---@class keel.OrderEvent
---@field id integer
---@field instrument string
---@field side keel.Side
---@field type keel.OrderType
---@field status keel.OrderStatus
---@field qty number
---@field price? number a limit's price (a conditional order's trigger)
---@field filled number
---@field avg_price number
---@field fill_qty? number
---@field fill_price? number
---@field fee? number
---@field slippage_bps? number against the mid when the order arrived; positive = worse
---@field reason? string stable code, e.g. "MAX_ORDER_NOTIONAL" (docs/risk.md)
---@field message? string the numbers behind the reason
---@field tag? string
---@field time number

---@class keel.OrderRequest
---@field instrument string
---@field side keel.Side
---@field qty number base units, on the lot grid
---@field type? keel.OrderType default "market"
---@field price? number limit price, or the trigger of a stop / take_profit, on the tick grid
---@field trail? number trailing_stop distance (a price difference)
---@field tif? "GTC"|"IOC"|"FOK" limits; default "GTC"
---@field post_only? boolean limits: rejected instead of taking liquidity
---@field reduce_only? boolean
---@field stop_loss? number bracket: a stop for what fills
---@field take_profit? number bracket: a take-profit for what fills (one cancels the other)
---@field stop? number the trade's protective stop (risk per trade, require_stop)
---@field timeframe? string the signal's timeframe, e.g. "5m" (per-timeframe leverage caps)
---@field tag? string echoed in the order's events

---@class keel.Indicator
local Indicator = {}
---@param ago? integer 0 = latest closed candle
---@return number?
function Indicator:value(ago) end
---@param name string e.g. "upper", "signal", "long_stop"
---@param ago? integer
---@return number?
function Indicator:output(name, ago) end
---@return boolean
function Indicator:ready() end
---@return string[]
function Indicator:outputs() end

---@alias keel.IndicatorFactory fun(inst: string, timeframe: string, ...: number|table): keel.Indicator

---@class keel.Position
---@field qty number signed: > 0 long, < 0 short
---@field avg_price number
---@field realized_pnl number
---@field unrealized_pnl number
---@field fees number
---@field funding number

---@class keel.InstrumentInfo
---@field id string
---@field symbol string
---@field venue string
---@field base string
---@field quote string
---@field tick_size number
---@field lot_size number
---@field min_qty number
---@field min_notional number

---@class keel.RiskState
---@field state "ACTIVE"|"REDUCING"|"HALTED"
---@field drawdown_level string
---@field size_factor number
---@field equity number
---@field peak_equity number
---@field day_start_equity number
---@field orders_today integer

---@class keel.SizeRequest
---@field risk_pct number % of equity to lose at the stop
---@field entry number
---@field stop number
---@field equity? number default: current equity

---@class keel.Log
---@field debug fun(...: any)
---@field info fun(...: any)
---@field warn fun(...: any)
---@field error fun(...: any)

---@class keel.Risk
---@field state fun(): keel.RiskState
---@field size fun(inst: string, r: keel.SizeRequest): number?, string?
---@field kelly fun(win_rate: number, avg_win: number, avg_loss: number, fraction?: number): number?, string?
---@field atr_stop fun(inst: string, side: keel.Side, entry: number, atr: number, multiple?: number): number?, string?

---@class keel.IndicatorKinds
---@field sma keel.IndicatorFactory
---@field ema keel.IndicatorFactory
---@field wma keel.IndicatorFactory
---@field rma keel.IndicatorFactory
---@field rsi keel.IndicatorFactory
---@field true_range keel.IndicatorFactory
---@field atr keel.IndicatorFactory
---@field adx keel.IndicatorFactory
---@field cci keel.IndicatorFactory
---@field macd keel.IndicatorFactory
---@field stochastic keel.IndicatorFactory
---@field wavetrend keel.IndicatorFactory
---@field bollinger keel.IndicatorFactory
---@field chandelier keel.IndicatorFactory
---@field donchian keel.IndicatorFactory
---@field keltner keel.IndicatorFactory
---@field highest keel.IndicatorFactory
---@field lowest keel.IndicatorFactory
---@field stddev keel.IndicatorFactory
---@field vwap keel.IndicatorFactory
---@field obv keel.IndicatorFactory
---@field lorentzian keel.IndicatorFactory

---@class keel.Api
---@field instruments string[] this strategy's instrument ids, in config order
---@field strategy string this strategy's name
---@field params table<string, number|boolean|string> from the YAML `params:`
---@field log keel.Log
---@field risk keel.Risk
---@field indicator keel.IndicatorKinds
keel = {}

---@param inst string
---@return keel.Book
function keel.book(inst) end
---@return number seconds since the epoch (the engine's clock)
function keel.now() end
---@param order keel.OrderRequest
---@return integer id the outcome arrives in on_order
function keel.order(order) end
---@param id integer
---@return boolean? ok, string? why
function keel.cancel(id) end
---@param id integer a resting GTC limit order of this strategy
---@param change {qty?: number, price?: number} the whole new quantity and/or the new price
---@return boolean? ok, string? why the outcome arrives in on_order as "amended"
function keel.amend(id, change) end
---@return integer[]
function keel.open_orders() end
---@param inst string
---@return keel.Position
function keel.position(inst) end
---@param inst string
---@return keel.InstrumentInfo
function keel.instrument(inst) end
---@return number
function keel.balance() end
---@return number
function keel.equity() end
---@param level keel.NotifyLevel
---@param title string
---@param body? string
function keel.notify(level, title, body) end
---@param seconds number 0.01 or more
---@return integer id on_timer(id) every `seconds` of engine time
function keel.every(seconds) end
---@param seconds number
---@return integer id on_timer(id) once, after `seconds`
function keel.after(seconds) end
---@param id integer
---@return boolean
function keel.cancel_timer(id) end
---@param inst string
---@param timeframe string one of the strategy's timeframes
---@param n? integer default 100, at most 5000
---@return keel.Candle[] oldest first
function keel.candles(inst, timeframe, n) end
---@param name string
---@param spec keel.ParamSpec
---@return any value the YAML value, checked, or the default
function keel.param(name, spec) end
---@param s keel.Signal
function keel.signal(s) end

---@class keel.ParamSpec
---@field type? "number"|"integer"|"boolean"|"string" default "number"
---@field default? any without one the param is required
---@field min? number
---@field max? number
---@field choices? string[] for strings

---@class keel.Signal
---@field instrument string
---@field direction "long"|"short"
---@field name? string default: the strategy's name
---@field entry? number
---@field stop? number
---@field target? number
---@field confidence? number

-- Callbacks a strategy may define (all optional).

---@type fun()
on_start = nil
---@type fun(inst: string, book: keel.Book)
on_book = nil
---@type fun(inst: string, trade: keel.Trade)
on_trade = nil
---@type fun(tf: string, candle: keel.Candle)
on_candle = nil
---@type fun(event: keel.OrderEvent)
on_order = nil
---@type fun(id: integer)
on_timer = nil
---@type fun()
on_stop = nil
---@type fun(): table?
on_save = nil
---@type fun(state: table?)
on_reload = nil
