// Chandelier Exit (everget, TradingView "Chandelier Exit"):
//   atr          = mult * ta.atr(length)
//   longStop     = (useClose ? highest(close, length) : highest(high, length)) - atr
//   longStopPrev = nz(longStop[1], longStop)
//   longStop    := close[1] > longStopPrev ? max(longStop, longStopPrev) : longStop
//   shortStop    = (useClose ? lowest(close, length) : lowest(low, length)) + atr
//   shortStopPrev= nz(shortStop[1], shortStop)
//   shortStop   := close[1] < shortStopPrev ? min(shortStop, shortStopPrev) : shortStop
//   var dir = 1
//   dir         := close > shortStopPrev ? 1 : close < longStopPrev ? -1 : dir
// `longStop[1]` is the previous bar's final (ratcheted) value. A comparison
// with na is false, so before the stops exist dir keeps its initial 1.

import { atr as pineAtr, highest, lowest, isNa, gt, lt } from './pine.mjs';

export function chandelier(candles, { length = 22, mult = 3.0, useClose = true } = {}) {
  const n = candles.length;
  const close = candles.map((c) => c.close);
  const a = pineAtr(candles, length);
  const hi = highest(useClose ? close : candles.map((c) => c.high), length);
  const lo = lowest(useClose ? close : candles.map((c) => c.low), length);
  const longStop = new Array(n).fill(null);
  const shortStop = new Array(n).fill(null);
  const longStopPrevOut = new Array(n).fill(null);
  const shortStopPrevOut = new Array(n).fill(null);
  const dir = new Array(n).fill(null);
  let d = 1;
  for (let i = 0; i < n; i++) {
    const atrM = a[i] === null ? null : mult * a[i];
    let ls = hi[i] === null || atrM === null ? null : hi[i] - atrM;
    let ss = lo[i] === null || atrM === null ? null : lo[i] + atrM;
    const prevClose = i > 0 ? close[i - 1] : null;
    const lsPrev = i > 0 && !isNa(longStop[i - 1]) ? longStop[i - 1] : ls;
    const ssPrev = i > 0 && !isNa(shortStop[i - 1]) ? shortStop[i - 1] : ss;
    // math.max/min with an na argument is na; the branch is only taken when
    // the comparison (which already needs lsPrev) holds, and ls is then set too.
    if (gt(prevClose, lsPrev)) ls = ls === null ? null : Math.max(ls, lsPrev);
    if (lt(prevClose, ssPrev)) ss = ss === null ? null : Math.min(ss, ssPrev);
    longStop[i] = ls;
    shortStop[i] = ss;
    longStopPrevOut[i] = lsPrev;
    shortStopPrevOut[i] = ssPrev;
    d = gt(close[i], ssPrev) ? 1 : lt(close[i], lsPrev) ? -1 : d;
    dir[i] = d;
  }
  return { long_stop: longStop, short_stop: shortStop, long_stop_prev: longStopPrevOut, short_stop_prev: shortStopPrevOut, dir, atr: a };
}
