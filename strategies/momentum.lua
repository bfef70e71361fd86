-- Momentum (seed 004).
--
-- Momentum is the close's change over `lookback` candles of `timeframe`: close / close[lookback]
-- - 1. Above +threshold the strategy goes long, below -threshold short. A position is closed when
-- momentum falls back through zero against it, or at its stop: `atr_mult` x ATR(`atr_period`)
-- from the entry, checked on every book update. Size: `risk_pct` % of equity at the stop
-- (keel.risk.size), which the risk gate checks again with the stop the order carries.
--
-- Params (YAML `params:`): timeframe (1m), lookback (20), threshold (0.002 = 0.2 %),
-- atr_period (14), atr_mult (2), risk_pct (1), max_notional (2000 USD per entry).

local p = keel.params
local TF        = p.timeframe or "1m"
local LOOKBACK  = p.lookback or 20
local THRESHOLD = p.threshold or 0.002
local ATR_MULT  = p.atr_mult or 2
local RISK_PCT  = p.risk_pct or 1
local MAX_USD   = p.max_notional or 2000

local state = {}
for _, inst in ipairs(keel.instruments) do
  state[inst] = { closes = {}, atr = keel.indicator.atr(inst, TF, p.atr_period or 14),
                  stop = nil, pending = nil }
end

local function momentum(s)
  local n = #s.closes
  if n <= LOOKBACK then return nil end
  return s.closes[n] / s.closes[n - LOOKBACK] - 1
end

local function enter(inst, s, side, price)
  local atr = s.atr:value()
  if not atr then return end
  local stop = keel.risk.atr_stop(inst, side, price, atr, ATR_MULT)
  if not stop then return end
  local qty = keel.risk.size(inst, { risk_pct = RISK_PCT * 0.9, entry = price, stop = stop })
  local lot = keel.instrument(inst).lot_size
  qty = math.min(qty or 0, math.floor(MAX_USD / price / lot) * lot)
  if qty <= 0 then return end
  s.stop = stop
  s.pending = keel.order{ instrument = inst, side = side, qty = qty, stop = stop, timeframe = TF,
                          tag = "entry" }
end

local function exit(inst, s, qty, why)
  s.pending = keel.order{ instrument = inst, side = qty > 0 and "sell" or "buy",
                          qty = math.abs(qty), reduce_only = true, tag = why }
end

function on_candle(tf, c)
  if tf ~= TF then return end
  local s = state[c.instrument]
  table.insert(s.closes, c.close)
  if #s.closes > LOOKBACK + 1 then table.remove(s.closes, 1) end
  local m = momentum(s)
  if not m or s.pending then return end
  local pos = keel.position(c.instrument).qty
  if pos > 0 and m < 0 then return exit(c.instrument, s, pos, "momentum_reversed") end
  if pos < 0 and m > 0 then return exit(c.instrument, s, pos, "momentum_reversed") end
  if pos ~= 0 then return end
  if m > THRESHOLD then enter(c.instrument, s, "buy", c.close)
  elseif m < -THRESHOLD then enter(c.instrument, s, "sell", c.close) end
end

function on_book(inst, book)
  local s = state[inst]
  if s.pending or not s.stop then return end
  local pos, mid = keel.position(inst).qty, book:mid()
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

-- A reload keeps the closes seen so far and the stops of open positions.
function on_save()
  local out = {}
  for inst, s in pairs(state) do out[inst] = { closes = s.closes, stop = s.stop } end
  return out
end
function on_reload(saved)
  for inst, s in pairs(saved or {}) do
    if state[inst] then state[inst].closes, state[inst].stop = s.closes, s.stop end
  end
end

function on_stop()
  for inst, s in pairs(state) do
    local pos = keel.position(inst).qty
    if pos ~= 0 then exit(inst, s, pos, "session_end") end
  end
end
