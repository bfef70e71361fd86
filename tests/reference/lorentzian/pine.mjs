// Pine Script v5 built-ins, re-implemented over plain arrays.
//
// A series is a JS array with one entry per bar; `null` stands for Pine's `na`.
// Every function here returns a new array of the same length as its input and
// never mutates its arguments. The semantics chosen for each built-in (seeding,
// na handling, division by zero) are listed in README.md; the comments below
// only say what the code does.

/** True when `x` is Pine's `na` (null, undefined or NaN). */
export const isNa = (x) => x === null || x === undefined || Number.isNaN(x);

/** Pine `nz(x, y)`: `y` (default 0) when x is na, else x. */
export const nz = (x, y = 0) => (isNa(x) ? y : x);

/** Division with Pine's na rules: na operand -> na; division by zero -> na. */
export function div(a, b) {
  if (isNa(a) || isNa(b) || b === 0) return null;
  const q = a / b;
  return Number.isFinite(q) ? q : null;
}

/** Value `offset` bars back (`src[offset]`), na before the first bar. */
export const at = (src, i, offset = 0) => (i - offset >= 0 ? nullify(src[i - offset]) : null);

/** Maps NaN/undefined/±Infinity to null, leaves other numbers alone. */
export function nullify(x) {
  if (typeof x === 'boolean') return x;
  return isNa(x) || !Number.isFinite(x) ? null : x;
}

/**
 * Smoothed average shared by ta.ema and ta.rma: `alpha*src + (1-alpha)*prev`,
 * seeded with the simple mean of the first `length` non-na source values.
 * Before the seed the output is na. An na source value after the seed gives an
 * na output for that bar and leaves the state unchanged.
 */
function smoothed(src, length, alpha) {
  const out = new Array(src.length).fill(null);
  const seed = [];
  let prev = null;
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    if (isNa(x)) continue;
    if (prev === null) {
      seed.push(x);
      if (seed.length < length) continue;
      let sum = 0;
      for (const v of seed) sum += v;
      prev = sum / length;
    } else {
      prev = alpha * x + (1 - alpha) * prev;
    }
    out[i] = prev;
  }
  return out;
}

/**
 * How ta.ema starts (see README "EMA seeding"):
 *   'sma'   (default) the SMA of the first `length` non-na values, na before it;
 *   'first' the reference manual's pine_ema code: sum := na(sum[1]) ? src : alpha*src + (1-alpha)*nz(sum[1]),
 *           i.e. the first non-na value itself, a value on every bar from then on.
 * Module-wide so the CLI can switch every EMA at once (--ema-seed); ta.rma is always SMA-seeded.
 */
export const config = { emaSeed: 'sma' };

/** The reference manual's pine_ema, literally (na source -> na, and the next bar restarts from src). */
function emaFirstSeed(src, length) {
  const alpha = 2 / (length + 1);
  const out = new Array(src.length).fill(null);
  let prev = null;
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    if (isNa(x)) { prev = null; continue; }
    prev = prev === null ? x : alpha * x + (1 - alpha) * prev;
    out[i] = prev;
  }
  return out;
}

/** ta.ema: alpha = 2/(length+1), seeded as config.emaSeed says. */
export function ema(src, length) {
  if (config.emaSeed === 'first') return emaFirstSeed(src, length);
  if (config.emaSeed !== 'sma') throw new Error(`unknown emaSeed ${config.emaSeed}`);
  return smoothed(src, length, 2 / (length + 1));
}

/** ta.rma: alpha = 1/length, SMA seed. */
export const rma = (src, length) => smoothed(src, length, 1 / length);

/**
 * ta.sma: mean of the last `length` bars; na while fewer than `length` bars
 * exist or when any value in the window is na.
 */
export function sma(src, length) {
  const out = new Array(src.length).fill(null);
  for (let i = length - 1; i < src.length; i++) {
    let sum = 0;
    let ok = true;
    for (let j = i - length + 1; j <= i; j++) {
      if (isNa(src[j])) { ok = false; break; }
      sum += src[j];
    }
    if (ok) out[i] = sum / length;
  }
  return out;
}

/** Rolling extreme over the last `length` bars; na while fewer bars or any na. */
function rolling(src, length, pick) {
  const out = new Array(src.length).fill(null);
  for (let i = length - 1; i < src.length; i++) {
    let best = null;
    for (let j = i - length + 1; j <= i; j++) {
      if (isNa(src[j])) { best = null; break; }
      best = best === null ? src[j] : pick(best, src[j]);
    }
    out[i] = best;
  }
  return out;
}

/** ta.highest(src, length). */
export const highest = (src, length) => rolling(src, length, Math.max);
/** ta.lowest(src, length). */
export const lowest = (src, length) => rolling(src, length, Math.min);

/** ta.dev: mean absolute deviation from the SMA over `length` bars. */
export function dev(src, length) {
  const mean = sma(src, length);
  const out = new Array(src.length).fill(null);
  for (let i = 0; i < src.length; i++) {
    if (mean[i] === null) continue;
    let sum = 0;
    for (let j = i - length + 1; j <= i; j++) sum += Math.abs(src[j] - mean[i]);
    out[i] = sum / length;
  }
  return out;
}

/** ta.cci: (src - sma) / (0.015 * dev); na when dev is 0. */
export function cci(src, length) {
  const mean = sma(src, length);
  const md = dev(src, length);
  return src.map((x, i) =>
    mean[i] === null || md[i] === null ? null : div(x - mean[i], 0.015 * md[i]));
}

/**
 * ta.rsi: rma of up/down changes. Bar 0 has no change (x[1] is na, and
 * math.max with an na argument is na), so the first RSI is at bar `length`.
 * down == 0 -> 100, else up == 0 -> 0, else 100 - 100/(1 + up/down).
 */
export function rsi(src, length) {
  const up = src.map((x, i) => (i === 0 || isNa(x) || isNa(src[i - 1]) ? null : Math.max(x - src[i - 1], 0)));
  const dn = src.map((x, i) => (i === 0 || isNa(x) || isNa(src[i - 1]) ? null : Math.max(src[i - 1] - x, 0)));
  const u = rma(up, length);
  const d = rma(dn, length);
  return src.map((_, i) => {
    if (u[i] === null || d[i] === null) return null;
    if (d[i] === 0) return 100;
    if (u[i] === 0) return 0;
    return 100 - 100 / (1 + u[i] / d[i]);
  });
}

/** True range as ta.tr(true)/ta.atr use it: bar 0 (no previous close) is high - low. */
export function trueRange(candles) {
  return candles.map((c, i) => {
    if (i === 0) return c.high - c.low;
    const pc = candles[i - 1].close;
    return Math.max(Math.max(c.high - c.low, Math.abs(c.high - pc)), Math.abs(c.low - pc));
  });
}

/** ta.atr(length) = rma(true range, length). */
export const atr = (candles, length) => rma(trueRange(candles), length);

/** Price sources by Pine name. */
export function source(candles, name = 'close') {
  switch (name) {
    case 'open': return candles.map((c) => c.open);
    case 'high': return candles.map((c) => c.high);
    case 'low': return candles.map((c) => c.low);
    case 'close': return candles.map((c) => c.close);
    case 'hl2': return candles.map((c) => (c.high + c.low) / 2);
    case 'hlc3': return candles.map((c) => (c.high + c.low + c.close) / 3);
    case 'ohlc4': return candles.map((c) => (c.open + c.high + c.low + c.close) / 4);
    default: throw new Error(`unknown source ${name}`);
  }
}

/**
 * ta.barssince(cond) over a boolean series: 0 on a bar where cond is true,
 * counting up afterwards; na until cond has been true once.
 */
export function barssince(cond) {
  const out = new Array(cond.length).fill(null);
  let last = null;
  for (let i = 0; i < cond.length; i++) {
    if (cond[i] === true) last = i;
    out[i] = last === null ? null : i - last;
  }
  return out;
}

/** Pine comparison: false when either side is na. */
export const gt = (a, b) => !isNa(a) && !isNa(b) && a > b;
export const lt = (a, b) => !isNa(a) && !isNa(b) && a < b;
export const ge = (a, b) => !isNa(a) && !isNa(b) && a >= b;
export const le = (a, b) => !isNa(a) && !isNa(b) && a <= b;
