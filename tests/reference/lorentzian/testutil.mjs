// Shared helpers for the *.test.mjs files (node:test + node:assert).
import assert from 'node:assert/strict';

/** Asserts two numbers agree to a relative (or, near 0, absolute) tolerance. */
export function near(actual, expected, msg = '', tol = 1e-9) {
  if (expected === null) {
    assert.equal(actual, null, `${msg}: expected na, got ${actual}`);
    return;
  }
  assert.ok(typeof actual === 'number' && Number.isFinite(actual), `${msg}: expected ${expected}, got ${actual}`);
  const scale = Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol * scale, `${msg}: expected ${expected}, got ${actual}`);
}

/** Element-wise `near` over two arrays of equal length (null = na). */
export function nearAll(actual, expected, msg = '', tol = 1e-9) {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  expected.forEach((e, i) => near(actual[i], e, `${msg}[${i}]`, tol));
}

/** Candles whose high = low = close = open = the given value. */
export const flat = (values) => values.map((v, i) => ({ time: i * 60000, open: v, high: v, low: v, close: v, volume: 1 }));

/** Candles from [high, low, close] triples; open = previous close (or close on bar 0). */
export const hlc = (rows) => rows.map(([h, l, c], i) => ({
  time: i * 60000, open: i > 0 ? rows[i - 1][2] : c, high: h, low: l, close: c, volume: 1,
}));

/** Deterministic pseudo-random walk of n candles (xorshift32), for smoke tests. */
export function randomWalk(n, seed = 12345, start = 100) {
  let s = seed >>> 0;
  const rnd = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  const out = [];
  let c = start;
  for (let i = 0; i < n; i++) {
    const o = c;
    c = Math.max(1, o * (1 + (rnd() - 0.5) * 0.02));
    const h = Math.max(o, c) * (1 + rnd() * 0.005);
    const l = Math.min(o, c) * (1 - rnd() * 0.005);
    out.push({ time: i * 60000, open: o, high: h, low: l, close: c, volume: 1 + rnd() });
  }
  return out;
}

export const firstNonNull = (a) => a.findIndex((x) => x !== null);
