-- L2 order-book imbalance scalper (seed 003).
--
-- Buys when the bid volume over the top levels is more than `buy_ratio` times the ask volume,
-- sells (short) when it is below `sell_ratio`. Exits at +take_profit, -stop_loss, or after
-- max_hold_s seconds, whichever comes first. While the signal persists in the same direction it
-- may scale in up to `max_entries` times; the risk gate decides how far that may go.
--
-- Every parameter can be set under `params:` in the YAML config.

local p = keel.params
local BUY_RATIO   = p.buy_ratio or 3.0
local SELL_RATIO  = p.sell_ratio or 0.33
local LEVELS      = p.levels or 5
local TAKE_PROFIT = p.take_profit or 0.002    -- 0.2 %
local STOP_LOSS   = p.stop_loss or 0.0015     -- 0.15 %
local MAX_HOLD    = p.max_hold_s or 60
local ORDER_USD   = p.order_notional or 500
local MAX_ENTRIES = p.max_entries or 1
local COOLDOWN    = p.cooldown_s or 5         -- after an exit, before the next entry

local state = {}   -- per instrument

local function st(inst)
  local s = state[inst]
  if not s then
    s = { entries = 0, pending = nil, entered_at = 0, cooldown_until = 0, last_signal = nil }
    state[inst] = s
  end
  return s
end

-- Order size in base units for ORDER_USD at `price`, on the instrument's lot grid.
local function size_for(inst, price)
  local lot = keel.instrument(inst).lot_size
  local lots = math.floor(ORDER_USD / price / lot)
  return lots * lot
end

local function enter(inst, side, price, s)
  local qty = size_for(inst, price)
  if qty <= 0 then return end
  s.pending = keel.order{ instrument = inst, side = side, qty = qty, type = "market", tag = "entry" }
  s.last_signal = side
end

local function exit(inst, pos_qty, why, s)
  local side = pos_qty > 0 and "sell" or "buy"
  s.pending = keel.order{ instrument = inst, side = side, qty = math.abs(pos_qty), type = "market",
                          reduce_only = true, tag = why }
end

function on_start()
  keel.log.info(string.format("imbalance scalper: buy > %.2f, sell < %.2f over %d levels, "
    .. "TP %.2f%%, SL %.2f%%, max hold %ds, %s USD per entry", BUY_RATIO, SELL_RATIO, LEVELS,
    TAKE_PROFIT * 100, STOP_LOSS * 100, MAX_HOLD, ORDER_USD))
end

function on_book(inst, book)
  local s = st(inst)
  if s.pending then return end          -- one order in flight per instrument
  local mid = book:mid()
  local ratio = book:imbalance(LEVELS)
  if not mid or not ratio then return end
  local now = keel.now()
  local pos = keel.position(inst)

  if pos.qty ~= 0 then
    local move = (mid - pos.avg_price) / pos.avg_price
    if pos.qty < 0 then move = -move end
    if move >= TAKE_PROFIT then return exit(inst, pos.qty, "take_profit", s) end
    if move <= -STOP_LOSS then return exit(inst, pos.qty, "stop_loss", s) end
    if now - s.entered_at >= MAX_HOLD then return exit(inst, pos.qty, "max_hold", s) end
    -- Scale in while the same signal persists.
    if s.entries < MAX_ENTRIES then
      if pos.qty > 0 and ratio > BUY_RATIO then return enter(inst, "buy", mid, s) end
      if pos.qty < 0 and ratio < SELL_RATIO then return enter(inst, "sell", mid, s) end
    end
    return
  end

  if now < s.cooldown_until then return end
  if ratio > BUY_RATIO then
    enter(inst, "buy", mid, s)
  elseif ratio < SELL_RATIO then
    enter(inst, "sell", mid, s)
  end
end

function on_order(o)
  local s = st(o.instrument)
  if o.status == "rejected" then
    keel.log.warn(string.format("%s %s %s rejected: %s (%s)", o.tag or "", o.side, o.instrument,
      o.reason, o.message or ""))
    s.pending = nil
    -- Do not hammer the gate with the same order: wait like after an exit.
    s.cooldown_until = keel.now() + COOLDOWN
    -- A refused scale-in ends scaling in for this position.
    if o.tag == "entry" and keel.position(o.instrument).qty ~= 0 then s.entries = MAX_ENTRIES end
  elseif o.status == "filled" or o.status == "cancelled" then
    s.pending = nil
    if o.tag == "entry" and o.filled > 0 then
      if s.entries == 0 then s.entered_at = keel.now() end
      s.entries = s.entries + 1
    elseif o.tag ~= "entry" then
      keel.log.info(string.format("exit %s %s %.6g @ %.2f (%s)", o.instrument, o.side, o.filled,
        o.avg_price, o.tag))
      s.entries = 0
      s.cooldown_until = keel.now() + COOLDOWN
    end
  end
end

-- A scalper holds nothing past its session: flatten what is open.
local FLATTEN_ON_STOP = p.flatten_on_stop ~= false

function on_stop()
  for inst, s in pairs(state) do
    local pos = keel.position(inst)
    if pos.qty ~= 0 then
      keel.log.info(string.format("stopping with %s position %.6g (unrealized %.2f)%s", inst,
        pos.qty, pos.unrealized_pnl, FLATTEN_ON_STOP and ": flattening" or ""))
      if FLATTEN_ON_STOP then exit(inst, pos.qty, "session_end", s) end
    end
  end
end
