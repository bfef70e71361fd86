// Hand-computed checks of the Pine built-ins in pine.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { config, ema, rma, sma, rsi, cci, dev, atr, trueRange, highest, lowest, barssince, nz, div } from './pine.mjs';
import { near, nearAll, hlc } from './testutil.mjs';

test('ema: SMA seed, then alpha = 2/(len+1)', () => {
  // len 3 -> alpha 0.5. bar 2: (1+2+3)/3 = 2; bar 3: 0.5*4 + 0.5*2 = 3; bar 4: 0.5*5 + 0.5*3 = 4
  nearAll(ema([1, 2, 3, 4, 5], 3), [null, null, 2, 3, 4], 'ema3');
  // len 1 -> alpha 1: the source itself (how n_rsi/n_cci use ema(x, 1))
  nearAll(ema([7, 3, 9], 1), [7, 3, 9], 'ema1');
});

test('ema: leading na are skipped, the seed uses the first `len` non-na values', () => {
  // len 2 -> alpha 2/3. Seed at bar 3: (2+4)/2 = 3; bar 4: 2/3*6 + 1/3*3 = 5; bar 5: 2/3*8 + 1/3*5 = 7
  nearAll(ema([null, null, 2, 4, 6, 8], 2), [null, null, null, 3, 5, 7], 'ema2');
});

test('rma: SMA seed, then alpha = 1/len', () => {
  // len 3: bar 2: (1+2+3)/3 = 2; bar 3: 4/3 + 2/3*2 = 8/3; bar 4: 5/3 + 2/3*8/3 = 31/9
  nearAll(rma([1, 2, 3, 4, 5], 3), [null, null, 2, 8 / 3, 31 / 9], 'rma3');
});

test('sma, highest, lowest: na until len bars', () => {
  nearAll(sma([1, 2, 3, 4, 6], 2), [null, 1.5, 2.5, 3.5, 5], 'sma');
  nearAll(sma([null, 2, 3, 4], 2), [null, null, 2.5, 3.5], 'sma with leading na');
  nearAll(highest([3, 1, 4, 1, 5], 3), [null, null, 4, 4, 5], 'highest');
  nearAll(lowest([3, 1, 4, 1, 5], 3), [null, null, 1, 1, 1], 'lowest');
});

test('rsi: first value at bar len; down == 0 gives 100', () => {
  // closes 1 2 3 2 3 4, len 3. up: na 1 1 0 1 1, down: na 0 0 1 0 0.
  // bar 3: U = (1+1+0)/3 = 2/3, D = (0+0+1)/3 = 1/3, RSI = 100 - 100/(1+2) = 66.67
  // bar 4: U = 1/3*1 + 2/3*2/3 = 7/9, D = 2/3*1/3 = 2/9, RSI = 100 - 100/(1+3.5) = 77.78
  // bar 5: U = 1/3 + 2/3*7/9 = 23/27, D = 2/3*2/9 = 4/27, RSI = 100 - 100/(1+23/4) = 100 - 400/27
  nearAll(rsi([1, 2, 3, 2, 3, 4], 3), [null, null, null, 100 - 100 / 3, 100 - 100 / 4.5, 100 - 400 / 27], 'rsi');
  nearAll(rsi([1, 2, 3, 4], 3), [null, null, null, 100], 'all up');
  nearAll(rsi([4, 3, 2, 1], 3), [null, null, null, 0], 'all down');
});

test('cci: (src - sma) / (0.015 * mean deviation)', () => {
  // len 4. bar 3: window 1 2 3 4, sma 2.5, dev (1.5+.5+.5+1.5)/4 = 1, cci = 1.5/0.015 = 100
  // bar 4: window 2 3 4 8, sma 4.25, dev (2.25+1.25+.25+3.75)/4 = 1.875, cci = 3.75/(0.015*1.875) = 133.33
  nearAll(dev([1, 2, 3, 4, 8], 4), [null, null, null, 1, 1.875], 'dev');
  nearAll(cci([1, 2, 3, 4, 8], 4), [null, null, null, 100, 3.75 / (0.015 * 1.875)], 'cci');
  // flat window: mean deviation 0 -> division by zero -> na
  nearAll(cci([5, 5, 5], 3), [null, null, null], 'flat');
});

test('atr: true range of bar 0 is high - low, then rma', () => {
  const c = hlc([[11, 9, 10], [13, 10, 12], [14, 11, 13], [13, 8, 9]]);
  // tr: 11-9 = 2; max(3, |13-10|, |10-10|) = 3; max(3, |14-12|, |11-12|) = 3; max(5, |13-13|, |8-13|) = 5
  nearAll(trueRange(c), [2, 3, 3, 5], 'tr');
  // atr(3): bar 2: (2+3+3)/3 = 8/3; bar 3: 5/3 + 2/3*8/3 = 31/9
  nearAll(atr(c, 3), [null, null, 8 / 3, 31 / 9], 'atr');
  nearAll(atr(c, 1), [2, 3, 3, 5], 'atr1 = tr');
});

test('barssince, nz, div', () => {
  assert.deepEqual(barssince([false, true, false, false, true]), [null, 0, 1, 2, 0]);
  assert.equal(nz(null), 0);
  assert.equal(nz(null, 7), 7);
  assert.equal(nz(3, 7), 3);
  assert.equal(div(1, 0), null);
  near(div(1, 4), 0.25);
});

test("ema with emaSeed 'first' (the reference manual's pine_ema code)", () => {
  config.emaSeed = 'first';
  try {
    // len 3 -> alpha 0.5: bar 0 = 1; bar 1: 0.5*2 + 0.5*1 = 1.5; bar 2: 0.5*3 + 0.5*1.5 = 2.25
    nearAll(ema([1, 2, 3], 3), [1, 1.5, 2.25], 'first');
    nearAll(ema([null, 4, 8], 3), [null, 4, 6], 'leading na');
  } finally {
    config.emaSeed = 'sma';
  }
});
