// Hand-worked checks of the Lorentzian Classification pieces.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  lorentzianDistance, rescale, rescaleValue, normalize, rationalQuadratic, gaussian, trainingLabels,
  nearestNeighbors, maxBarsBackIndexOf, nAdx, regimeFilter, filterVolatility, tradeSignals, lorentzian,
} from './lorentzian.mjs';
import { near, nearAll, hlc, randomWalk, firstNonNull } from './testutil.mjs';

const ln = Math.log;

test('Lorentzian distance = sum of log(1 + |a - b|)', () => {
  // |0.5-0.1| = 0.4, |0.2-0.7| = 0.5: log(1.4) + log(1.5) = log(2.1)
  near(lorentzianDistance([0.5, 0.2], [0.1, 0.7]), ln(2.1));
  near(lorentzianDistance([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]), 0);
  // 5 features: |1|,|2|,|0|,|3|,|0.5| -> log 2 + log 3 + 0 + log 4 + log 1.5 = log 36
  near(lorentzianDistance([1, 2, 3, 4, 5], [2, 0, 3, 7, 4.5]), ln(36));
  assert.equal(lorentzianDistance([1, null], [1, 2]), null);
});

test('rescale', () => {
  // 0 + (1-0) * (50-0) / max(100-0, 1e-9) = 0.5
  near(rescaleValue(50, 0, 100, 0, 1), 0.5);
  nearAll(rescale([null, 0, 25, 100], 0, 100, 0, 1), [null, 0, 0.25, 1]);
  // -1 + 2 * (3-2) / max(6-2, 1e-9) = -0.5
  near(rescaleValue(3, 2, 6, -1, 1), -0.5);
  // degenerate range: divide by 10e-10 = 1e-9
  near(rescaleValue(2, 1, 1, 0, 1), 1e9);
});

test('normalize: running historic min/max starting at 10e10 / -10e10, na ignored', () => {
  // bar 0: na -> na, min/max stay 1e11 / -1e11
  // bar 1: 5 -> min 5, max 5, (5-5)/max(0, 1e-9) = 0
  // bar 2: 3 -> min 3, max 5, (3-3)/2 = 0
  // bar 3: 8 -> min 3, max 8, (8-3)/5 = 1
  // bar 4: na -> na; bar 5: 4 -> (4-3)/5 = 0.2
  nearAll(normalize([null, 5, 3, 8, null, 4], 0, 1), [null, 0, 0, 1, null, 0.2]);
  // same into [-1, 1]: -1 + 2*x
  nearAll(normalize([null, 5, 3, 8, null, 4], -1, 1), [null, -1, -1, 1, null, -0.6]);
});

test('kernels: window i = 0 .. 1 + startAtBar, na until it is full', () => {
  const src = [1, 2, 4, 7, 11, 16];
  // startAtBar 2 -> i = 0..3 (4 terms), first estimate at bar 3.
  // rational quadratic, lookback 1, r 1: w_i = (1 + i^2/2)^-1 = 1, 2/3, 1/3, 2/11; sum w = 24/11
  // bar 3: 7 + 4*2/3 + 2/3 + 1*2/11 = 347/33 -> /(24/11) = 347/72
  // bar 4: 11 + 14/3 + 4/3 + 4/11 = 191/11 -> 191/24
  // bar 5: 16 + 22/3 + 7/3 + 8/11 = 871/33 -> 871/72
  nearAll(rationalQuadratic(src, 1, 1, 2), [null, null, null, 347 / 72, 191 / 24, 871 / 72], 'rq');
  // lookback 2, r 2: w_i = (1 + i^2/16)^-2 = 1, 256/289, 16/25, 256/625
  const w = [1, 256 / 289, 16 / 25, 256 / 625];
  const sw = w[0] + w[1] + w[2] + w[3];
  near(rationalQuadratic(src, 2, 2, 2)[5], (16 * w[0] + 11 * w[1] + 7 * w[2] + 4 * w[3]) / sw, 'rq(2,2)');
  // gaussian, lookback 1: w_i = exp(-i^2/2) = 1, e^-0.5, e^-2, e^-4.5
  const g = [1, Math.exp(-0.5), Math.exp(-2), Math.exp(-4.5)];
  const sg = g[0] + g[1] + g[2] + g[3];
  nearAll(gaussian(src, 1, 2), [null, null, null,
    (7 * g[0] + 4 * g[1] + 2 * g[2] + 1 * g[3]) / sg,
    (11 * g[0] + 7 * g[1] + 4 * g[2] + 2 * g[3]) / sg,
    (16 * g[0] + 11 * g[1] + 7 * g[2] + 4 * g[3]) / sg], 'gaussian');
  // the script's settings: x = 25 -> 27 terms, first estimate at bar 26
  const long = Array.from({ length: 40 }, (_, i) => 100 + i);
  assert.equal(firstNonNull(rationalQuadratic(long, 8, 8, 25)), 26);
  assert.equal(firstNonNull(gaussian(long, 6, 25)), 26);
  // a constant series is its own estimate
  near(rationalQuadratic(Array(30).fill(5), 8, 8, 25)[29], 5);
});

test('training label: src[4] < src[0] -> short (-1), src[4] > src[0] -> long (1), else neutral', () => {
  // bars 0..3 compare with na -> 0; bar 4: 10 < 14 -> -1; bar 5: 11 < 12 -> -1; bar 6: 12 == 12 -> 0;
  // bar 7: 13 < 15 -> -1; bar 8: 14 > 11 -> 1
  assert.deepEqual(trainingLabels([10, 11, 12, 13, 14, 12, 12, 15, 11]), [0, 0, 0, 0, -1, -1, 0, -1, 1]);
});

// ANN on a synthetic feature set: feature 2 is constant 0, so d = log(1 + |f1 - f1_i|) and the
// order of distances is the order of |f1 - f1_i|.
const F1 = [5, null, 9, 6, 5, 0, 12, 7, 20, 1, 5, 4];
const F2 = F1.map(() => 0);
const LABELS = [0, 1, 1, -1, 1, -1, -1, -1, 1, 1, -1, 0];

test('ANN: maxBarsBack 20, k 2, last_bar_index 30 -> the search runs on bars 10 and 11 only', () => {
  // maxBarsBackIndex = 30 >= 20 ? 30 - 20 : 0 = 10
  assert.equal(maxBarsBackIndexOf(30, 20), 10);
  const r = nearestNeighbors({ features: [F1, F2], labels: LABELS, neighborsCount: 2, maxBarsBack: 20, lastBarIndex: 30, trace: true });
  assert.equal(r.maxBarsBackIndex, 10);
  // bars 0..9: not searched; prediction keeps its var initial value 0
  assert.deepEqual(r.prediction.slice(0, 10), Array(10).fill(0));
  // bar 10, current f1 = 5, size = min(19, 10) = 10, i = 0..10, lastDistance = -1; shift index round(2*3/4) = 2
  //   i=0  skipped (i % 4 == 0)
  //   i=1  f1 na -> d na -> skipped
  //   i=2  |5-9| = 4, d = ln5 >= -1   -> push; D [ln5]            P [1]       last ln5
  //   i=3  |5-6| = 1, ln2 < ln5       -> skip
  //   i=4  skipped (i % 4 == 0)
  //   i=5  |5-0| = 5, ln6 >= ln5      -> push; D [ln5 ln6]        P [1 -1]    last ln6
  //   i=6  |5-12| = 7, ln8 >= ln6     -> push; D [ln5 ln6 ln8]    P [1 -1 -1]; size 3 > 2:
  //                                      last = D[2] = ln8; shift -> D [ln6 ln8] P [-1 -1]
  //   i=7  |2| ln3 skip; i=8 skipped (i % 4 == 0; |5-20| = 15 would have been kept); i=9 |4| ln5 skip; i=10 0 skip
  //   prediction = -1 + -1 = -2
  assert.equal(r.prediction[10], -2);
  nearAll(r.kept[10].distances, [ln(6), ln(8)], 'bar 10 distances');
  assert.deepEqual(r.kept[10].predictions, [-1, -1]);
  // bar 11, current f1 = 4; the var arrays carry D [ln6 ln8] P [-1 -1]; lastDistance resets to -1; i = 0..11
  //   i=2  |4-9| = 5, ln6 >= -1       -> push; D [ln6 ln8 ln6] P [-1 -1 1]; size 3 > 2:
  //                                      last = D[2] = ln6; shift -> D [ln8 ln6] P [-1 1]
  //   i=3  |2| ln3 skip; i=5 |4| ln5 < ln6 skip
  //   i=6  |4-12| = 8, ln9 >= ln6     -> push; D [ln8 ln6 ln9] P [-1 1 -1]; size 3 > 2:
  //                                      last = ln9; shift -> D [ln6 ln9] P [1 -1]
  //   i=7 |3| skip; i=8 skipped; i=9 |3| skip; i=10 |1| skip; i=11 (itself) 0 skip
  //   prediction = 1 + -1 = 0
  assert.equal(r.prediction[11], 0);
  nearAll(r.kept[11].distances, [ln(6), ln(9)], 'bar 11 distances');
  assert.deepEqual(r.kept[11].predictions, [1, -1]);
});

test('ANN: short series (last_bar_index < maxBarsBack) searches from bar 0 and includes the current bar', () => {
  const r = nearestNeighbors({ features: [F1, F2], labels: LABELS, neighborsCount: 2, maxBarsBack: 20, trace: true });
  assert.equal(r.maxBarsBackIndex, 0);
  // bar 0: size 0, i = 0 only, skipped by i % 4 -> empty array -> array.sum = na
  // bar 1: current f1 na -> every d na -> still empty -> na
  // bar 2: current 9; i=2 is the bar itself: d = 0 >= -1, 2 % 4 != 0 -> push; P [1] -> 1
  // bar 3: current 6; i=2 |3| ln4 >= -1 push -> D [0 ln4] P [1 1]; i=3 itself 0 < ln4 skip -> 2
  // bar 4: current 5; i=2 |4| ln5 push -> D [0 ln4 ln5], size 3 > 2: last = D[2] = ln5,
  //        shift -> D [ln4 ln5] P [1 1]; i=3 |1| skip; i=4 skipped -> 2
  assert.deepEqual(r.prediction.slice(0, 5), [null, null, 1, 2, 2]);
  nearAll(r.kept[4].distances, [ln(4), ln(5)], 'bar 4 distances');
});

test('ANN: the loop reads the first maxBarsBack bars of the series, not the most recent ones', () => {
  // 30 bars, maxBarsBack 8 -> size = min(7, bar_index) -> i = 0..7 on every bar
  const f = Array.from({ length: 30 }, (_, i) => i);
  const labels = Array.from({ length: 30 }, (_, i) => (i < 8 ? 1 : -1));
  const r = nearestNeighbors({ features: [f, f.map(() => 0)], labels, neighborsCount: 3, maxBarsBack: 8, lastBarIndex: 29 });
  // maxBarsBackIndex = 29 - 8 = 21; only bars 1,2,3,5,6,7 (labels all +1, never the recent -1 bars) are
  // candidates. On bar t the distances |t - i| fall as i rises, so only i = 1 passes d >= lastDistance:
  // one neighbour per bar, accumulating in the var arrays up to k = 3: predictions 1, 2, 3, 3, ...
  assert.deepEqual(r.prediction.slice(21), [1, 2, 3, 3, 3, 3, 3, 3, 3]);
  assert.deepEqual(r.prediction.slice(0, 21), Array(21).fill(0));
});

test('n_adx: its own DI smoothing with nz() on bar 0', () => {
  // length 2. bar 0: H11 L9 C10, previous values nz -> 0: tr = max(2, 11, 9) = 11, dm+ = 11 (11 > -9), dm- = 0
  //   trS = 11, dm+S = 11, dm-S = 0 -> di+ 100, di- 0 -> dx 100
  // bar 1: H12 L9 C11: tr = max(3, |12-10|, |9-10|) = 3; dm+ = 12-11 = 1 (1 > 0); dm- = 0
  //   trS = 11 - 11/2 + 3 = 8.5; dm+S = 11 - 5.5 + 1 = 6.5; dm-S = 0 -> dx 100
  // bar 2: H11 L7 C8: tr = max(4, |11-11|, |7-11|) = 4; dm+ = 0 (-1 !> 2); dm- = 2 (2 > -1)
  //   trS = 8.5 - 4.25 + 4 = 8.25; dm+S = 6.5 - 3.25 = 3.25; dm-S = 0 + 2 = 2
  //   di+ = 3.25/8.25*100, di- = 2/8.25*100 -> dx = 1.25/5.25*100 = 23.8095
  // adx = rma(dx, 2): bar 1 (100+100)/2 = 100; bar 2 0.5*23.8095 + 0.5*100 = 61.9048; rescaled /100
  const c = hlc([[11, 9, 10], [12, 9, 11], [11, 7, 8]]);
  nearAll(nAdx(c.map((x) => x.high), c.map((x) => x.low), c.map((x) => x.close), 2),
    [null, 1, (0.5 * (1.25 / 5.25) * 100 + 0.5 * 100) / 100]);
});

test('regime filter: KLMF recursion on ohlc4 with the bar range, na before the ema(200) exists', () => {
  // src 10, 12, 11; high - low 2, 2, 4
  // value1: na (src[1] na), 0.2*2 + 0.8*nz(na) = 0.4, 0.2*(-1) + 0.8*0.4 = 0.12
  // value2: 0.1*2 = 0.2, 0.2 + 0.8*0.2 = 0.36, 0.4 + 0.8*0.36 = 0.688
  // omega = |value1/value2|; alpha = (-w^2 + sqrt(w^4 + 16 w^2)) / 8
  // klmf: na (alpha na), alpha1*12 + (1-alpha1)*nz(na) = 12 alpha1, alpha2*11 + (1-alpha2)*klmf1
  const alpha = (w) => (-(w ** 2) + Math.sqrt(w ** 4 + 16 * w ** 2)) / 8;
  const c = hlc([[11, 9, 10], [13, 11, 12], [13, 9, 11]]);
  const r = regimeFilter(c, [10, 12, 11], -0.1, true);
  const k1 = 12 * alpha(0.4 / 0.36);
  const a2 = alpha(0.12 / 0.688);
  nearAll(r.klmf, [null, k1, a2 * 11 + (1 - a2) * k1], 'klmf');
  assert.deepEqual(r.pass, [false, false, false]);
  // |klmf - klmf[1]| exists from bar 2, so ema(.., 200) from bar 201
  const w = randomWalk(260);
  const rr = regimeFilter(w, w.map((x) => (x.open + x.high + x.low + x.close) / 4), -0.1, true);
  assert.equal(firstNonNull(rr.value), 201);
  assert.ok(rr.pass.slice(0, 201).every((p) => p === false));
  assert.ok(regimeFilter(w, w.map((x) => x.close), -0.1, false).pass.every((p) => p === true));
});

test('volatility filter: atr(1) > atr(10)', () => {
  // bars 0..9: H11 L9 C10 -> tr 2 each (bar 0: high - low); bar 10: H13 L9 C10 -> tr max(4, 3, 1) = 4
  // atr10: bar 9 = 2, bar 10 = 0.1*4 + 0.9*2 = 2.2; atr1 = tr. bar 9: 2 > 2 false; bar 10: 4 > 2.2 true
  const c = hlc([...Array(10).fill([11, 9, 10]), [13, 9, 10]]);
  assert.deepEqual(filterVolatility(c, 1, 10, true), [...Array(10).fill(false), true]);
  assert.ok(filterVolatility(c, 1, 10, false).every((x) => x === true));
});

test('signal, kernel state, entries and the 4-bar exits', () => {
  // prediction: 0 0 3 3 3 3 3 3 -2 ..., every filter passes; yhat1 rises to bar 6 then falls
  const prediction = [0, 0, 3, 3, 3, 3, 3, 3, -2, -2, -2, -2, -2, -2];
  const yhat1 = [1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1, 0];
  const n = prediction.length;
  const r = tradeSignals({ prediction, filterAll: Array(n).fill(true), yhat1, yhat2: yhat1, close: Array(n).fill(1) });
  // signal = pred > 0 ? 1 : pred < 0 ? -1 : signal[1]
  assert.deepEqual(r.signal, [0, 0, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1]);
  // barsHeld := change(signal) ? 0 : barsHeld + 1 (change on bar 0 is na -> false -> 1)
  assert.deepEqual(r.bars_held, [1, 2, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
  // isBullish = yhat1[1] < yhat1 (false on bar 0: na); isBearish = yhat1[1] > yhat1
  assert.deepEqual(r.is_bullish, [false, true, true, true, true, true, true, false, false, false, false, false, false, false]);
  assert.deepEqual(r.is_bearish, [false, false, false, false, false, false, false, true, true, true, true, true, true, true]);
  const at = (arr) => arr.flatMap((x, i) => (x ? [i] : []));
  // new long signal on bar 2 with a rising kernel; new short on bar 8 with a falling kernel
  assert.deepEqual(at(r.start_long), [2]);
  assert.deepEqual(at(r.start_short), [8]);
  // bar 6: barsHeld 4, signal[4] = bar 2 = long, startLongTrade[4] = bar 2 -> end long
  // bar 12: barsHeld 4, signal[4] = bar 8 = short, startShortTrade[4] -> end short
  assert.deepEqual(at(r.end_long), [6]);
  assert.deepEqual(at(r.end_short), [12]);
});

test('signal: filters hold the previous signal; a falling kernel blocks a long entry', () => {
  const prediction = [0, 2, 2, -1, -1, null, 1];
  const filterAll = [true, false, true, false, true, true, true];
  const yhat1 = [9, 8, 7, 6, 5, 4, 3];
  const n = prediction.length;
  const r = tradeSignals({ prediction, filterAll, yhat1, yhat2: yhat1, close: Array(n).fill(1) });
  // bar 1: pred 2 but filter off -> 0; bar 2: 1; bar 3: pred -1, filter off -> 1; bar 4: -1;
  // bar 5: pred na -> -1; bar 6: 1
  assert.deepEqual(r.signal, [0, 0, 1, 1, -1, -1, 1]);
  // bar 2 and 6: new long but yhat1 falls -> no entry; bar 4: new short with a falling kernel -> entry
  assert.deepEqual(r.start_long, Array(n).fill(false));
  assert.deepEqual(r.start_short, [false, false, false, false, true, false, false]);
});

test('dynamic exits: na barssince(alert) makes the first exit invalid', () => {
  const prediction = [0, 0, 3, 3, 3, 3, 3, 3, 3, 3];
  const yhat1 = [1, 2, 3, 4, 5, 6, 7, 6, 7, 6];
  const n = prediction.length;
  const r = tradeSignals({ prediction, filterAll: Array(n).fill(true), yhat1, yhat2: yhat1, close: Array(n).fill(1), useDynamicExits: true });
  // entry at bar 2. alertBearish (bearish change: yhat1[2] < yhat1[1] > yhat1) on bars 7 and 9.
  // bar 7: isValidLongExit[1] = barssince(alertBearish)[6] (na) > barssince(startLong)[6] (4) -> false: no exit
  // bar 9: barssince(alertBearish)[8] = 1 > barssince(startLong)[8] = 6 -> false: no exit
  assert.deepEqual(r.end_long, Array(n).fill(false));
  // the strict exit would have fired on bar 6 (held 4 bars)
  const strict = tradeSignals({ prediction, filterAll: Array(n).fill(true), yhat1, yhat2: yhat1, close: Array(n).fill(1) });
  assert.deepEqual(strict.end_long.flatMap((x, i) => (x ? [i] : [])), [6]);
});

test('whole indicator: warm-up of every output with the default settings', () => {
  const c = randomWalk(600);
  const r = lorentzian(c);
  // f1 RSI(14): rsi from bar 14, ema(.,1) is itself; f5 RSI(9): bar 9
  // f2 WT(10,11): esa 9, d 18, wt1 18+10 = 28, wt2 28+3 = 31; f3 CCI(20): 19; f4 ADX(20): rma(dx, 20) from bar 19
  assert.deepEqual(['f1', 'f2', 'f3', 'f4', 'f5'].map((k) => firstNonNull(r[k])), [14, 31, 19, 19, 9]);
  assert.equal(firstNonNull(r.yhat1), 26);
  assert.equal(firstNonNull(r.yhat2), 26);
  // 600 bars < maxBarsBack: the search runs from bar 0; every distance is na until all 5 features exist
  // (bar 31), when the only candidate is the bar itself (31 % 4 = 3): prediction = its own label
  assert.equal(firstNonNull(r.prediction), 31);
  assert.equal(r.prediction[31], r.extra.y_train[31]);
  assert.ok(r.filter_regime.slice(0, 201).every((x) => x === false));
  for (const k of ['start_long', 'start_short', 'end_long', 'end_short', 'filter_volatility', 'filter_regime']) {
    assert.ok(r[k].every((x) => typeof x === 'boolean'), k);
  }
});

test('whole indicator: last_bar_index decides where the search starts', () => {
  const c = randomWalk(2100);
  // default last_bar_index = 2099 -> maxBarsBackIndex 99: prediction stays 0 before bar 99
  const r = lorentzian(c);
  assert.equal(r.extra.max_bars_back_index, 99);
  assert.ok(r.prediction.slice(0, 99).every((x) => x === 0));
  assert.ok(r.prediction.slice(99).some((x) => x !== 0));
  // a later last bar (as if more candles were still to come) moves it: 5000 - 2000 = 3000 > 2099 -> never searched
  const later = lorentzian(c, { lastBarIndex: 5000 });
  assert.ok(later.prediction.every((x) => x === 0));
  assert.ok(later.start_long.every((x) => x === false));
});
