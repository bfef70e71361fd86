-- Lorentzian classification on two timeframes (seed 002).
--
-- Enters when the model on the entry timeframe (`entry_tf`, 1m by default) starts a trade (its
-- published entry signal) and the model on the other timeframe (5m) points the same way, and both
-- are confident enough (|prediction| / neighbours >= `confidence`). The stop starts at ATR(14) x
-- `atr_mult` from the entry and trails with the Chandelier Exit of the entry timeframe (it only
-- ever tightens). Size: the smaller of the entry timeframe's `size_<tf>` x `leverage_<tf>` of
-- equity (seed 002: 1m 2 % at 5x, 5m 3 % at 10x) and `risk_per_trade` of equity divided by the
-- stop distance (seed 001's formula). The risk gate has the last word on every order.
--
-- The models train on the latest `max_bars_back` candles (`recent_bars`), not on the first ones
-- the process saw as the TradingView script does: a session that runs for weeks keeps learning.
-- They need about 30 closed candles of each timeframe before they predict (see docs/lorentzian.md).

local p = keel.params
local CONFIDENCE   = p.confidence or 0.7
local ATR_PERIOD   = p.atr_period or 14
local ATR_MULT     = p.atr_mult or 2.0
local RISK         = p.risk_per_trade or 0.01      -- of equity, seed 002
local CE_PERIOD    = p.chandelier_period or 22
local CE_MULT      = p.chandelier_mult or 3.0
local ENTRY_TF     = p.entry_tf or "1m"
local CONFIRM_TF   = ENTRY_TF == "1m" and "5m" or "1m"
local SIZE         = p["size_" .. ENTRY_TF] or ({ ["1m"] = 0.02, ["5m"] = 0.03 })[ENTRY_TF]
local LEVERAGE     = p["leverage_" .. ENTRY_TF] or ({ ["1m"] = 5, ["5m"] = 10 })[ENTRY_TF]
assert(SIZE and LEVERAGE, "entry_tf must be 1m or 5m (or set size_<tf> and leverage_<tf>)")
local NEIGHBORS    = p.neighbors or 8
local BARS_BACK    = p.max_bars_back or 2000

local model_settings = { neighbors = NEIGHBORS, max_bars_back = BARS_BACK, recent_bars = true }
local state = {}

for _, inst in ipairs(keel.instruments) do
  state[inst] = {
    entry = keel.indicator.lorentzian(inst, ENTRY_TF, model_settings),
    confirm = keel.indicator.lorentzian(inst, CONFIRM_TF, model_settings),
    atr = keel.indicator.atr(inst, ENTRY_TF, ATR_PERIOD),
    ce = keel.indicator.chandelier(inst, ENTRY_TF, { period = CE_PERIOD, multiplier = CE_MULT }),
    stop = nil, pending = nil,
  }
end

local function lots(inst, qty)
  local lot = keel.instrument(inst).lot_size
  return math.floor(qty / lot) * lot
end

local function enter(inst, s, side, price)
  local atr = s.atr:value()
  if not atr or atr <= 0 then return end
  local stop = keel.risk.atr_stop(inst, side, price, atr, ATR_MULT)  -- seed 002: 2 x ATR(14)
  if not stop then return end
  -- Size for 90 % of the risk budget: the gate measures risk at the price the order would really
  -- pay, a tick or two worse than the close, against the same 1 % cap.
  local by_risk = keel.risk.size(inst, { risk_pct = RISK * 100 * 0.9, entry = price, stop = stop })
  local by_size = lots(inst, keel.equity() * SIZE * LEVERAGE / price)
  local qty = math.min(by_size, by_risk or 0)
  if qty <= 0 then return end
  s.stop = stop
  s.pending = keel.order{ instrument = inst, side = side, qty = qty, stop = stop,
                          timeframe = ENTRY_TF, tag = "entry" }
  keel.log.info(string.format("%s %s %.6g @ ~%.2f, stop %.2f (ATR %.2f x %.1f)", inst, side, qty,
    price, stop, atr, ATR_MULT))
end

local function exit(inst, s, qty, why)
  s.pending = keel.order{ instrument = inst, side = qty > 0 and "sell" or "buy", qty = math.abs(qty),
                          reduce_only = true, tag = why }
end

function on_candle(tf, c)
  if tf ~= ENTRY_TF then return end
  local inst = c.instrument
  local s = state[inst]
  if s.pending then return end
  local pos = keel.position(inst).qty

  if pos ~= 0 then
    -- Trail with the Chandelier Exit, never loosening the stop.
    local long_stop, short_stop = s.ce:output("long_stop"), s.ce:output("short_stop")
    if pos > 0 and long_stop then s.stop = math.max(s.stop, long_stop) end
    if pos < 0 and short_stop then s.stop = math.min(s.stop, short_stop) end
    return
  end

  local other = s.confirm:output("signal")
  local conf1, conf2 = s.entry:output("confidence"), s.confirm:output("confidence")
  if not (other and conf1 and conf2) or math.min(conf1, conf2) < CONFIDENCE then return end
  if s.entry:output("start_long") == 1 and other == 1 then
    enter(inst, s, "buy", c.close)
  elseif s.entry:output("start_short") == 1 and other == -1 then
    enter(inst, s, "sell", c.close)
  end
end

function on_book(inst, book)
  local s = state[inst]
  if s.pending or not s.stop then return end
  local pos = keel.position(inst).qty
  local mid = book:mid()
  if pos == 0 or not mid then return end
  if (pos > 0 and mid <= s.stop) or (pos < 0 and mid >= s.stop) then exit(inst, s, pos, "stop") end
end

function on_order(o)
  local s = state[o.instrument]
  if o.status == "rejected" then
    keel.log.warn(string.format("%s %s rejected: %s", o.tag or "", o.instrument, o.reason))
    s.pending = nil
    if o.tag == "entry" then s.stop = nil end
  elseif o.status == "filled" or o.status == "cancelled" then
    s.pending = nil
    if o.tag ~= "entry" then s.stop = nil end
  end
end
