-- RSI oversold reversal with the R:R filter (seed 001, signal "RSI_Oversold_5m_Reversal").
--
-- Entry (long only): RSI(`rsi_period`) on `timeframe` candles dips below `oversold` and then
-- closes back above it. The stop goes under the lowest low of the last `swing_bars` candles (at
-- least `min_stop_atr` x ATR away); the take-profit is `reward_risk` times that distance above
-- the entry (seed 001: 45,000 entry, 44,500 stop, 46,000 target = 2:1). Size: `risk_pct` % of
-- equity at the stop (seed 001: 2 %). Stop and target are checked on every book update.
--
-- The R:R filter (seed 001's lenient thresholds): a trade is only taken if its reward:risk is at
-- least `reward_risk`, and the signal stops trading once it has `min_trades` closed trades and
-- its win rate is below the threshold for its R:R: 38 % at 2:1, 30 % at 3:1 (break-even plus
-- about five points in between: 1 / (1 + R) + 0.05). Its record is kept across reloads.
--
-- Params: timeframe (5m), rsi_period (14), oversold (30), swing_bars (10), min_stop_atr (0.5),
-- reward_risk (2), risk_pct (2), min_trades (20), max_notional (2000 USD per entry).

local p = keel.params
local TF          = p.timeframe or "5m"
local OVERSOLD    = p.oversold or 30
local REWARD_RISK = p.reward_risk or 2
local RISK_PCT    = p.risk_pct or 2
local MIN_STOP    = p.min_stop_atr or 0.5
local MIN_TRADES  = p.min_trades or 20
local MAX_USD     = p.max_notional or 2000

-- The win rate a signal needs at a reward:risk of R (seed 001: 2:1 -> 38 %, 3:1 -> 30 %).
local function required_win_rate(r)
  if r == 2 then return 0.38 elseif r == 3 then return 0.30 end
  return 1 / (1 + r) + 0.05
end

record = { wins = 0, losses = 0, killed = false }   -- global: visible to tests and on_save
local state = {}
for _, inst in ipairs(keel.instruments) do
  state[inst] = {
    rsi = keel.indicator.rsi(inst, TF, p.rsi_period or 14),
    low = keel.indicator.lowest(inst, TF, p.swing_bars or 10),
    atr = keel.indicator.atr(inst, TF, 14),
    stop = nil, target = nil, pending = nil,
  }
end

local function signal_alive()
  local n = record.wins + record.losses
  if record.killed then return false end
  if n >= MIN_TRADES and record.wins / n < required_win_rate(REWARD_RISK) then
    record.killed = true
    keel.notify("warning", "RSI reversal signal stopped",
      string.format("win rate %.1f %% over %d trades is below the %.0f %% a %g:1 signal needs",
        100 * record.wins / n, n, 100 * required_win_rate(REWARD_RISK), REWARD_RISK))
    return false
  end
  return true
end

local function enter(inst, s, price)
  local atr, swing_low = s.atr:value(), s.low:value()
  if not atr or not swing_low then return end
  local tick = keel.instrument(inst).tick_size
  local stop = math.min(swing_low - tick, price - MIN_STOP * atr)
  stop = math.floor(stop / tick) * tick
  local risk = price - stop
  if risk <= 0 then return end
  local target = math.ceil((price + REWARD_RISK * risk) / tick) * tick
  if (target - price) / risk < REWARD_RISK then return end   -- the R:R filter, per trade
  local qty = keel.risk.size(inst, { risk_pct = RISK_PCT * 0.9, entry = price, stop = stop })
  local lot = keel.instrument(inst).lot_size
  qty = math.min(qty or 0, math.floor(MAX_USD / price / lot) * lot)
  if qty <= 0 then return end
  s.stop, s.target = stop, target
  s.pending = keel.order{ instrument = inst, side = "buy", qty = qty, stop = stop,
                          timeframe = TF, tag = "entry" }
  keel.log.info(string.format("%s RSI reversal: buy %.6g @ ~%.2f, stop %.2f, target %.2f (%g:1)",
    inst, qty, price, stop, target, REWARD_RISK))
end

local function exit(inst, s, qty, why)
  s.pending = keel.order{ instrument = inst, side = "sell", qty = qty, reduce_only = true,
                          tag = why }
end

function on_candle(tf, c)
  if tf ~= TF then return end
  local s = state[c.instrument]
  local now, before = s.rsi:value(), s.rsi:value(1)
  if not now or not before or s.pending then return end
  if keel.position(c.instrument).qty ~= 0 then return end
  if before < OVERSOLD and now >= OVERSOLD and signal_alive() then
    enter(c.instrument, s, c.close)
  end
end

function on_book(inst, book)
  local s = state[inst]
  if s.pending or not s.stop then return end
  local pos, mid = keel.position(inst).qty, book:mid()
  if pos <= 0 or not mid then return end
  if mid <= s.stop then exit(inst, s, pos, "stop")
  elseif mid >= s.target then exit(inst, s, pos, "target") end
end

function on_order(o)
  local s = state[o.instrument]
  if o.status == "rejected" then
    keel.log.warn(string.format("%s %s rejected: %s", o.tag or "", o.instrument, o.reason))
    s.pending = nil
    if o.tag == "entry" then s.stop, s.target = nil, nil end
  elseif o.status == "filled" or o.status == "cancelled" then
    s.pending = nil
    if o.tag == "target" then record.wins = record.wins + 1 end
    if o.tag == "stop" then record.losses = record.losses + 1 end
    if o.tag == "target" or o.tag == "stop" then signal_alive() end  -- judge after every trade
    if o.tag ~= "entry" then s.stop, s.target = nil, nil end
  end
end

function on_save()
  local levels = {}
  for inst, s in pairs(state) do levels[inst] = { stop = s.stop, target = s.target } end
  return { record = record, levels = levels }
end
function on_reload(saved)
  if not saved then return end
  record = saved.record or record
  for inst, l in pairs(saved.levels or {}) do
    if state[inst] then state[inst].stop, state[inst].target = l.stop, l.target end
  end
end

function on_stop()
  for inst, s in pairs(state) do
    local pos = keel.position(inst).qty
    if pos > 0 then exit(inst, s, pos, "session_end") end
  end
end
