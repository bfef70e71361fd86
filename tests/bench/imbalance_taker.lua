-- bench_tick_to_order's strategy: an L2 imbalance taker that orders often, so the tick-to-order
-- path (frame -> book -> on_book -> keel.order -> risk gate -> venue) is taken on many frames.
-- It holds a target position by the top-5 imbalance: long when the bid side holds more than
-- RATIO times the ask side, short when the ask side does, and sends a market order for the
-- difference on the frame where the target changes.
local INST, LOT = "BTCUSDT", 0.001
local RATIO = keel.param("ratio", { type = "number", default = 1.5, min = 1 })
local SIZE = keel.param("size", { type = "number", default = 0.002, min = 0.001 })

local target = 0

function on_book(inst, book)
  local r = book:imbalance(5)
  if not r then return end
  local want = target
  if r > RATIO then
    want = SIZE
  elseif r < 1 / RATIO then
    want = -SIZE
  end
  if want == target then return end
  target = want
  local lots = math.floor((want - keel.position(INST).qty) / LOT + 0.5)
  local qty = math.abs(lots) * LOT
  if lots > 0 then
    keel.order{ instrument = INST, side = "buy", qty = qty }
  elseif lots < 0 then
    keel.order{ instrument = INST, side = "sell", qty = qty }
  end
end
