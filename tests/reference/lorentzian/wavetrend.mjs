// WaveTrend oscillator (LazyBear, "WaveTrend Oscillator [WT]"):
//   ap  = hlc3
//   esa = ema(ap, n1)
//   d   = ema(abs(ap - esa), n1)
//   ci  = (ap - esa) / (0.015 * d)
//   tci = ema(ci, n2)
//   wt1 = tci
//   wt2 = sma(wt1, 4)
// ema is Pine's ta.ema (SMA-seeded, see pine.mjs / README), so with the
// defaults wt1 first exists at bar 2*(n1-1) + (n2-1) and wt2 three bars later.

import { ema, sma, isNa, div, source } from './pine.mjs';

/** WaveTrend over an arbitrary source series (array, null = na). */
export function wavetrendOf(ap, { n1 = 10, n2 = 21 } = {}) {
  const esa = ema(ap, n1);
  const absDev = ap.map((x, i) => (isNa(x) || esa[i] === null ? null : Math.abs(x - esa[i])));
  const d = ema(absDev, n1);
  const ci = ap.map((x, i) => (esa[i] === null || d[i] === null ? null : div(x - esa[i], 0.015 * d[i])));
  const wt1 = ema(ci, n2);
  const wt2 = sma(wt1, 4);
  return { esa, d, ci, wt1, wt2 };
}

/** WaveTrend over candles (ap = hlc3). Returns per-bar arrays, null for na. */
export function wavetrend(candles, opts = {}) {
  return wavetrendOf(source(candles, 'hlc3'), opts);
}
