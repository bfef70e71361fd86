// Proves the TA-Lib reference (talib.mjs) on cases computed by hand before it is trusted.
//   node --test tests/reference/
// The candle-file tests read ../shared/data/candles beside the repository (KEEL_DATA_DIR
// overrides the data folder, as for the C++ tests) and are skipped when it is not there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { Talib, readCandles, computeSeries, loadModule, MA_SMA } from './talib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.KEEL_DATA_DIR ?? resolve(here, '../../../shared/data');
const candleDir = join(dataDir, 'candles');
const noData = existsSync(candleDir) ? false : `no candle files in ${candleDir} (set KEEL_DATA_DIR)`;

const ta = await Talib.create();

// Runs TA_<name> over the whole input; inputs are plain arrays of numbers.
function run(name, inputs, options, nOut = 1) {
    const n = inputs[0].length;
    const ptrs = inputs.map((a) => ta.put(Float64Array.from(a)));
    try {
        const r = ta.call(`TA_${name}`, n, ptrs, options, nOut);
        return { begin: r.begin, out: r.values.map((v) => Array.from(v)) };
    } finally {
        ptrs.forEach((p) => ta.free(p));
    }
}

function close(actual, expected, tol = 1e-12) {
    assert.equal(actual.length, expected.length, `length ${actual.length} != ${expected.length}`);
    for (let i = 0; i < expected.length; ++i) {
        const e = expected[i];
        const err = Math.abs(actual[i] - e) / Math.max(1, Math.abs(e));
        assert.ok(err <= tol, `[${i}] ${actual[i]} != ${e} (rel err ${err})`);
    }
}

test('SMA: mean of the last period values', () => {
    // period 3 on 2 4 6 8 10 12: (2+4+6)/3=4, (4+6+8)/3=6, (6+8+10)/3=8, (8+10+12)/3=10
    const r = run('SMA', [[2, 4, 6, 8, 10, 12]], [3]);
    assert.equal(r.begin, 2);
    assert.deepEqual(r.out[0], [4, 6, 8, 10]);
});

test('EMA: seeded with the SMA of the first period values, then k = 2/(period+1)', () => {
    // period 3, k = 2/4 = 0.5, on 1 3 2 6 4 8
    // [2] seed = (1+3+2)/3 = 2
    // [3] 2 + 0.5*(6-2) = 4
    // [4] 4 + 0.5*(4-4) = 4
    // [5] 4 + 0.5*(8-4) = 6
    const r = run('EMA', [[1, 3, 2, 6, 4, 8]], [3]);
    assert.equal(r.begin, 2);
    assert.deepEqual(r.out[0], [2, 4, 4, 6]);
    // period 4, k = 0.4, on 4 8 6 2 10 5: seed (4+8+6+2)/4 = 5; 5+0.4*(10-5) = 7; 7+0.4*(5-7) = 6.2
    const q = run('EMA', [[4, 8, 6, 2, 10, 5]], [4]);
    assert.equal(q.begin, 3);
    close(q.out[0], [5, 7, 6.2]);
});

test('WMA: weights 1..period on the oldest..newest value', () => {
    // period 3, weights 1 2 3 (sum 6), on 1 3 2 6 4 8
    // [2] (1*1 + 2*3 + 3*2)/6 = 13/6
    // [3] (1*3 + 2*2 + 3*6)/6 = 25/6
    // [4] (1*2 + 2*6 + 3*4)/6 = 26/6
    // [5] (1*6 + 2*4 + 3*8)/6 = 38/6
    const r = run('WMA', [[1, 3, 2, 6, 4, 8]], [3]);
    assert.equal(r.begin, 2);
    close(r.out[0], [13 / 6, 25 / 6, 26 / 6, 38 / 6]);
});

test('RSI: Wilder, seeded with the simple average of the first period gains and losses', () => {
    // period 3 on 10 11 10.5 12 11 13 12.5; changes +1 -0.5 +1.5 -1 +2 -0.5
    // [3] gain = (1+1.5)/3 = 2.5/3, loss = 0.5/3            -> 100*2.5/3 = 83.33..
    // [4] change -1:   gain = (2.5/3*2 + 0)/3 = 5/9, loss = (0.5/3*2 + 1)/3 = 4/9
    //                                                        -> 100*(5/9)/(9/9) = 55.55..
    // [5] change +2:   gain = (5/9*2 + 2)/3 = 28/27, loss = (4/9*2)/3 = 8/27
    //                                                        -> 100*28/36 = 77.77..
    // [6] change -0.5: gain = (28/27*2)/3 = 56/81, loss = (8/27*2 + 0.5)/3 = 29.5/81
    //                                                        -> 100*56/85.5 = 65.497..
    const r = run('RSI', [[10, 11, 10.5, 12, 11, 13, 12.5]], [3]);
    assert.equal(r.begin, 3);
    close(r.out[0], [250 / 3, 500 / 9, 2800 / 36, 5600 / 85.5]);
});

// (high, low, close) for the true-range cases
const H = [10, 11, 12, 11, 10.5];
const L = [8, 9, 11, 9.5, 10];
const C = [9, 10.5, 11.5, 10, 10.25];

test('TRANGE: max(high-low, |high-prev close|, |low-prev close|), from the second bar', () => {
    // [1] max(11-9, |11-9|, |9-9|)            = 2
    // [2] max(12-11, |12-10.5|, |11-10.5|)    = 1.5
    // [3] max(11-9.5, |11-11.5|, |9.5-11.5|)  = 2
    // [4] max(10.5-10, |10.5-10|, |10-10|)    = 0.5
    const r = run('TRANGE', [H, L, C], []);
    assert.equal(r.begin, 1);
    assert.deepEqual(r.out[0], [2, 1.5, 2, 0.5]);
});

test('ATR: SMA of the first period true ranges, then Wilder smoothing', () => {
    // period 3, true ranges above: 2 1.5 2 0.5
    // [3] (2+1.5+2)/3 = 5.5/3
    // [4] (5.5/3*2 + 0.5)/3 = 12.5/9
    const r = run('ATR', [H, L, C], [3]);
    assert.equal(r.begin, 3);
    close(r.out[0], [5.5 / 3, 12.5 / 9]);
});

const SD = [2, 4, 4, 4, 5, 5, 7, 9];

test('STDDEV: population standard deviation times nbdev', () => {
    // period 8 on 2 4 4 4 5 5 7 9: mean 5, squared deviations 9 1 1 1 0 0 4 16 = 32, 32/8 = 4 -> 2
    const all = run('STDDEV', [SD], [8, 1]);
    assert.equal(all.begin, 7);
    close(all.out[0], [2]);
    // period 4:
    // [3] 2 4 4 4: mean 3.5,  squares 2.25 .25 .25 .25      = 3     /4 = 0.75
    // [4] 4 4 4 5: mean 4.25, squares .0625*3 + .5625       = 0.75  /4 = 0.1875
    // [5] 4 4 5 5: mean 4.5,  squares .25*4                 = 1     /4 = 0.25
    // [6] 4 5 5 7: mean 5.25, squares 1.5625 .0625 .0625 3.0625 = 4.75 /4 = 1.1875
    // [7] 5 5 7 9: mean 6.5,  squares 2.25 2.25 .25 6.25    = 11    /4 = 2.75
    const r = run('STDDEV', [SD], [4, 1]);
    assert.equal(r.begin, 3);
    const sd = [0.75, 0.1875, 0.25, 1.1875, 2.75].map(Math.sqrt);
    close(r.out[0], sd);
    // nbdev 2 doubles it
    close(run('STDDEV', [SD], [4, 2]).out[0], sd.map((x) => 2 * x));
});

test('BBANDS: SMA middle, middle +/- nbdev * population stddev', () => {
    // period 4 on 2 4 4 4 5 5 7 9: middle = SMA 3.5 4.25 4.5 5.25 6.5, stddevs as in STDDEV above
    // e.g. [5] 4.5 +/- 2*0.5 -> upper 5.5, lower 3.5
    const r = run('BBANDS', [SD], [4, 2, 2, MA_SMA], 3);
    assert.equal(r.begin, 3);
    const mid = [3.5, 4.25, 4.5, 5.25, 6.5];
    const sd = [0.75, 0.1875, 0.25, 1.1875, 2.75].map(Math.sqrt);
    close(r.out[1], mid);
    close(r.out[0], mid.map((m, i) => m + 2 * sd[i]));
    close(r.out[2], mid.map((m, i) => m - 2 * sd[i]));
    assert.equal(r.out[0][2], 5.5);
    assert.equal(r.out[2][2], 3.5);
    // nbdevup 2, nbdevdn 1: [5] upper 4.5+1 = 5.5, lower 4.5-0.5 = 4
    const a = run('BBANDS', [SD], [4, 2, 1, MA_SMA], 3);
    assert.equal(a.out[0][2], 5.5);
    assert.equal(a.out[2][2], 4);
});

test('MAX / MIN over the last period values', () => {
    // period 3 on 3 1 4 1 5 9 2 6
    // MAX: (3 1 4)=4 (1 4 1)=4 (4 1 5)=5 (1 5 9)=9 (5 9 2)=9 (9 2 6)=9
    // MIN: 1 1 1 1 2 2
    const x = [3, 1, 4, 1, 5, 9, 2, 6];
    const mx = run('MAX', [x], [3]);
    const mn = run('MIN', [x], [3]);
    assert.equal(mx.begin, 2);
    assert.equal(mn.begin, 2);
    assert.deepEqual(mx.out[0], [4, 4, 5, 9, 9, 9]);
    assert.deepEqual(mn.out[0], [1, 1, 1, 1, 2, 2]);
});

test('MIDPRICE: (highest high + lowest low)/2 over the period', () => {
    // period 2, high 5 7 6 8, low 1 3 2 4: [1] (7+1)/2=4 [2] (7+2)/2=4.5 [3] (8+2)/2=5
    const r = run('MIDPRICE', [[5, 7, 6, 8], [1, 3, 2, 4]], [2]);
    assert.equal(r.begin, 1);
    assert.deepEqual(r.out[0], [4, 4.5, 5]);
});

test('OBV: starts at the first bar volume, then +/- volume on up/down closes', () => {
    // close 10 11 11 10 12, volume 100 20 30 40 50
    // [0] 100 (TA-Lib starts at volume[0], not 0)
    // [1] up   100+20 = 120
    // [2] flat 120
    // [3] down 120-40 = 80
    // [4] up   80+50  = 130
    const r = run('OBV', [[10, 11, 11, 10, 12], [100, 20, 30, 40, 50]], []);
    assert.equal(r.begin, 0);
    assert.deepEqual(r.out[0], [100, 120, 120, 80, 130]);
});

test('CCI: (TP - SMA(TP)) / (0.015 * mean absolute deviation)', () => {
    // (high, low, close) -> typical price (h+l+c)/3:
    //   (3,1,2)=2 (5,3,4)=4 (4,2,3)=3 (7,5,6)=6 (6,4,5)=5
    // period 3:
    // [2] TP 2 4 3: mean 3,    deviations 1 1 0       -> md 2/3;  (3-3)/(...)       = 0
    // [3] TP 4 3 6: mean 13/3, deviations 1/3 4/3 5/3 -> md 10/9; 0.015*10/9 = 1/60;
    //     (6-13/3)/(1/60) = (5/3)*60 = 100
    // [4] TP 3 6 5: mean 14/3, deviations 5/3 4/3 1/3 -> md 10/9; (5-14/3)*60 = 20
    const r = run('CCI', [[3, 5, 4, 7, 6], [1, 3, 2, 5, 4], [2, 4, 3, 6, 5]], [3]);
    assert.equal(r.begin, 2);
    close(r.out[0], [0, 100, 20]);
});

test('STOCH: fast %K over fastk bars, slow %K = SMA of fast %K, slow %D = SMA of slow %K', () => {
    // fastk 3, slowk 2 (SMA), slowd 2 (SMA); lookback 2+1+1 = 4
    // bar (h,l,c):  0 (10,6,8)  1 (12,8,11)  2 (11,7,9)  3 (13,9,12)  4 (14,10,13)  5 (12,8,9)  6 (11,7,8)
    // fast %K = 100*(c - lowest low 3)/(highest high 3 - lowest low 3):
    //   [2] 100*(9-6)/(12-6)  = 50
    //   [3] 100*(12-7)/(13-7) = 250/3
    //   [4] 100*(13-7)/(14-7) = 600/7
    //   [5] 100*(9-8)/(14-8)  = 50/3
    //   [6] 100*(8-7)/(14-7)  = 100/7
    // slow %K: [3] (50+250/3)/2 = 200/3  [4] (250/3+600/7)/2 = 1775/21
    //          [5] (600/7+50/3)/2 = 1075/21  [6] (50/3+100/7)/2 = 325/21
    // slow %D: [4] (200/3+1775/21)/2 = 3175/42  [5] (1775+1075)/42 = 2850/42  [6] (1075+325)/42 = 1400/42
    const h = [10, 12, 11, 13, 14, 12, 11];
    const l = [6, 8, 7, 9, 10, 8, 7];
    const c = [8, 11, 9, 12, 13, 9, 8];
    const r = run('STOCH', [h, l, c], [3, 2, MA_SMA, 2, MA_SMA], 2);
    assert.equal(r.begin, 4);
    close(r.out[0], [1775 / 21, 1075 / 21, 325 / 21]);
    close(r.out[1], [3175 / 42, 2850 / 42, 1400 / 42]);
});

test('MACD(12,26,9): begins at bar 33; both EMAs start at bar 25, the fast one seeded late', () => {
    const x = Array.from({ length: 40 }, (_, i) => 100 + ((i * 7) % 11) - i / 4);
    const r = run('MACD', [x], [12, 26, 9], 3);
    // lookback = 25 (slow EMA) + 8 (signal EMA) = 33
    assert.equal(r.begin, 33);
    assert.equal(r.out[0].length, 40 - 33);
    // By hand: slow EMA seeded at bar 25 with the SMA of bars 0..25; the fast EMA is not seeded
    // at bar 11 but also at bar 25, with the SMA of bars 14..25. The signal EMA(9) is seeded at
    // bar 33 with the SMA of macd[25..33].
    // EMA of x over bars from..to, seeded at bar `from` with `seed`.
    const ema = (from, to, period, seed) => {
        const k = 2 / (period + 1);
        const vals = [seed];
        for (let i = from + 1, m = seed; i <= to; ++i) vals.push((m = (x[i] - m) * k + m));
        return vals;
    };
    const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
    const slow = ema(25, 39, 26, mean(x.slice(0, 26)));
    const fast = ema(25, 39, 12, mean(x.slice(14, 26)));
    const macd = fast.map((f, i) => f - slow[i]); // bars 25..39
    const k9 = 2 / 10;
    let sig = mean(macd.slice(0, 9)); // bars 25..33
    const signal = [sig];
    for (let i = 9; i < macd.length; ++i) signal.push((sig = (macd[i] - sig) * k9 + sig));
    close(r.out[0], macd.slice(8));
    close(r.out[1], signal);
    close(r.out[2], macd.slice(8).map((m, i) => m - signal[i]));
    // ...and not the textbook fast EMA seeded at bar 11 with the SMA of bars 0..11.
    const early = ema(11, 39, 12, mean(x.slice(0, 12))).slice(14);
    assert.notEqual(early[0] - slow[0], macd[0]);
});

test('computeSeries: every key, its inputs and its begin index', () => {
    // 60 bars of a made-up market; each key is checked against a naive formula or its lookback.
    const n = 60;
    const c = {
        time: Array.from({ length: n }, (_, i) => i),
        open: Float64Array.from({ length: n }, (_, i) => 100 + Math.sin(i)),
        close: Float64Array.from({ length: n }, (_, i) => 100 + Math.sin(i + 0.5) + i / 10),
        volume: Float64Array.from({ length: n }, (_, i) => 1 + (i % 7)),
    };
    c.high = c.close.map((v, i) => Math.max(v, c.open[i]) + 0.3 + (i % 3) / 10);
    c.low = c.close.map((v, i) => Math.min(v, c.open[i]) - 0.2 - (i % 4) / 10);
    const s = computeSeries(ta, c);
    const begins = {
        SMA_20: 19, SMA_7: 6, EMA_20: 19, EMA_50: 49, WMA_20: 19, RSI_14: 14, RSI_9: 9, ATR_14: 14,
        TRANGE: 1, ADX_14: 27, ADX_20: 39, PLUS_DI_14: 14, MINUS_DI_14: 14, CCI_20: 19, CCI_14: 13,
        BBANDS_20_2_upper: 19, BBANDS_20_2_middle: 19, BBANDS_20_2_lower: 19,
        MACD_12_26_9_macd: 33, MACD_12_26_9_signal: 33, MACD_12_26_9_hist: 33,
        STOCH_14_3_3_slowk: 17, STOCH_14_3_3_slowd: 17, OBV: 0, MAX_20: 19, MIN_20: 19,
        STDDEV_20: 19, MIDPRICE_20: 19,
    };
    assert.deepEqual(Object.keys(s), Object.keys(begins));
    for (const [k, b] of Object.entries(begins)) {
        assert.equal(s[k].begin, b, k);
        assert.equal(s[k].values.length, n - b, k);
    }
    const win = (a, i, p) => Array.from(a.slice(i - p + 1, i + 1));
    const sum = (a) => a.reduce((t, v) => t + v, 0);
    for (let i = 19; i < n; ++i) {
        const j = i - 19;
        const w = win(c.close, i, 20);
        const m = sum(w) / 20;
        const sd = Math.sqrt(sum(w.map((v) => (v - m) ** 2)) / 20);
        close([s.SMA_20.values[j]], [m]);
        close([s.BBANDS_20_2_middle.values[j]], [m]);
        close([s.STDDEV_20.values[j]], [sd], 1e-9);
        close([s.BBANDS_20_2_upper.values[j]], [m + 2 * sd]);
        close([s.BBANDS_20_2_lower.values[j]], [m - 2 * sd]);
        assert.equal(s.MAX_20.values[j], Math.max(...win(c.high, i, 20)));
        assert.equal(s.MIN_20.values[j], Math.min(...win(c.low, i, 20)));
        close([s.MIDPRICE_20.values[j]], [(Math.max(...win(c.high, i, 20)) + Math.min(...win(c.low, i, 20))) / 2]);
    }
    for (let i = 6; i < n; ++i) close([s.SMA_7.values[i - 6]], [sum(win(c.close, i, 7)) / 7]);
    let obv = c.volume[0];
    for (let i = 0; i < n; ++i) {
        if (i > 0) obv += c.close[i] > c.close[i - 1] ? c.volume[i] : c.close[i] < c.close[i - 1] ? -c.volume[i] : 0;
        assert.equal(s.OBV.values[i], obv);
    }
    for (let i = 1; i < n; ++i) {
        const tr = Math.max(c.high[i] - c.low[i], Math.abs(c.high[i] - c.close[i - 1]), Math.abs(c.low[i] - c.close[i - 1]));
        close([s.TRANGE.values[i - 1]], [tr]);
    }
    // 20-bar EMA of close, seeded with the SMA of bars 0..19
    let e = sum(Array.from(c.close.slice(0, 20))) / 20;
    for (let i = 19; i < n; ++i) {
        if (i > 19) e = (c.close[i] - e) * (2 / 21) + e;
        close([s.EMA_20.values[i - 19]], [e]);
    }
    // WMA 20
    for (let i = 19; i < n; ++i) {
        const w = win(c.close, i, 20);
        close([s.WMA_20.values[i - 19]], [sum(w.map((v, k) => v * (k + 1))) / 210]);
    }
    // RSI 14 (Wilder, simple-average seed over changes 1..14)
    {
        let g = 0;
        let l = 0;
        for (let i = 1; i <= 14; ++i) {
            const d = c.close[i] - c.close[i - 1];
            if (d > 0) g += d;
            else l -= d;
        }
        g /= 14;
        l /= 14;
        close([s.RSI_14.values[0]], [(100 * g) / (g + l)]);
        for (let i = 15; i < n; ++i) {
            const d = c.close[i] - c.close[i - 1];
            g = (g * 13 + Math.max(d, 0)) / 14;
            l = (l * 13 + Math.max(-d, 0)) / 14;
            close([s.RSI_14.values[i - 14]], [(100 * g) / (g + l)], 1e-9);
        }
    }
    const trOf = (i) =>
        Math.max(c.high[i] - c.low[i], Math.abs(c.high[i] - c.close[i - 1]), Math.abs(c.low[i] - c.close[i - 1]));
    // ATR 14: SMA of TR over bars 1..14, then Wilder
    {
        let a = sum(Array.from({ length: 14 }, (_, k) => trOf(k + 1))) / 14;
        close([s.ATR_14.values[0]], [a]);
        for (let i = 15; i < n; ++i) {
            a = (a * 13 + trOf(i)) / 14;
            close([s.ATR_14.values[i - 14]], [a], 1e-9);
        }
    }
    // CCI 20 on typical price
    const tp = Array.from(c.close, (v, i) => (c.high[i] + c.low[i] + v) / 3);
    for (let i = 19; i < n; ++i) {
        const w = win(tp, i, 20);
        const m = sum(w) / 20;
        const md = sum(w.map((v) => Math.abs(v - m))) / 20;
        close([s.CCI_20.values[i - 19]], [(tp[i] - m) / (0.015 * md)], 1e-9);
    }
    // STOCH 14/3 SMA/3 SMA: fast %K from bar 13, slow %K from 15, slow %D from 17
    const fastK = [];
    for (let i = 13; i < n; ++i) {
        const hh = Math.max(...win(c.high, i, 14));
        const ll = Math.min(...win(c.low, i, 14));
        fastK[i] = (100 * (c.close[i] - ll)) / (hh - ll);
    }
    const slowK = [];
    for (let i = 15; i < n; ++i) slowK[i] = (fastK[i - 2] + fastK[i - 1] + fastK[i]) / 3;
    for (let i = 17; i < n; ++i) {
        close([s.STOCH_14_3_3_slowk.values[i - 17]], [slowK[i]], 1e-9);
        close([s.STOCH_14_3_3_slowd.values[i - 17]], [(slowK[i - 2] + slowK[i - 1] + slowK[i]) / 3], 1e-9);
    }
    // +DI/-DI 14 and ADX 14. TA-Lib seeds the smoothed +DM, -DM and TR with the sum over bars
    // 1..13 (period-1 of them), then from bar 14 on: x = x - x/14 + today's value, DI = 100*DM/TR.
    // DX = 100*|+DI - -DI|/(+DI + -DI); ADX = mean of DX over bars 14..27, then Wilder.
    {
        const dm = (i) => {
            const up = c.high[i] - c.high[i - 1];
            const down = c.low[i - 1] - c.low[i];
            return [up > 0 && up > down ? up : 0, down > 0 && down > up ? down : 0];
        };
        let p = 0;
        let m = 0;
        let t = 0;
        for (let i = 1; i < 14; ++i) {
            p += dm(i)[0];
            m += dm(i)[1];
            t += trOf(i);
        }
        const dx = [];
        for (let i = 14; i < n; ++i) {
            const [pi, mi] = dm(i);
            p = p - p / 14 + pi;
            m = m - m / 14 + mi;
            t = t - t / 14 + trOf(i);
            const pdi = (100 * p) / t;
            const mdi = (100 * m) / t;
            close([s.PLUS_DI_14.values[i - 14]], [pdi], 1e-9);
            close([s.MINUS_DI_14.values[i - 14]], [mdi], 1e-9);
            dx[i] = (100 * Math.abs(pdi - mdi)) / (pdi + mdi);
        }
        let adx = sum(dx.slice(14, 28)) / 14;
        close([s.ADX_14.values[0]], [adx], 1e-9);
        for (let i = 28; i < n; ++i) {
            adx = (adx * 13 + dx[i]) / 14;
            close([s.ADX_14.values[i - 27]], [adx], 1e-9);
        }
    }
});

// ---------------------------------------------------------------------------------------------
// Candle files: first and last candle as read with head/tail.

const formats = [
    {
        file: 'binance_BTCUSDT_1m_20210420_20210520.json', // JSON [[open_time_ms, o, h, l, c, v], ...]
        bars: 42915,
        first: [1618951320000, 56738.76, 56840.3, 56733.23, 56813.98, 50.9752],
        last: [1621543200000, 40152.59, 40190.0, 40088.0, 40123.96, 65.796633],
    },
    {
        file: 'ftx_BTC-PERP_1m_20211231_20220201.csv', // CSV with header timestamp,open,...
        bars: 45031,
        first: ['2021-12-31 23:01:00.000000', 46319.0, 46385.0, 46319.0, 46377.0, 2300413.7295],
        last: ['2022-02-01 05:31:00.000000', 38525.0, 38546.0, 38525.0, 38544.0, 685906.9735],
    },
    {
        file: 'kraken_spot_XBTUSDT_1m_http_ohlc.json', // Kraken REST [t, o, h, l, c, vwap, volume, count]
        bars: 721,
        first: [1762777020, 106038.2, 106038.2, 106038.2, 106038.2, 0],
        last: [1762820220, 105899.4, 105899.4, 105899.4, 105899.4, 0],
        // row 3 has vwap 106039.6 and volume 0.08317981: volume is column 6, not the vwap
        extra: [3, [1762777200, 106038.1, 106044.3, 106038.1, 106040.1, 0.08317981]],
    },
    {
        file: 'binance_vision_ADABTC-1m-2021-11-27.csv', // data.binance.vision, 12 columns, no header
        bars: 10,
        first: [1637971200000, 0.00002853, 0.00002854, 0.00002851, 0.00002854, 36304.2],
        last: [1637971740000, 0.00002863, 0.00002865, 0.00002863, 0.00002865, 8160.5],
    },
    {
        file: 'binanceus_BTCUSDT_1m_20230301_20230321.csv', // CSV with header open_time,open,...
        bars: 30240,
        first: ['2023-03-01 00:00:00+00:00', 23140.48, 23150.77, 23128.52, 23142.31, 2.131777],
    },
];

const candle = (c, i) => [c.time[i], c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i]];

for (const f of formats) {
    test(`reads ${f.file}`, { skip: noData }, () => {
        const c = readCandles(join(candleDir, f.file));
        assert.equal(c.close.length, f.bars);
        assert.deepEqual(candle(c, 0), f.first);
        if (f.last) assert.deepEqual(candle(c, f.bars - 1), f.last);
        if (f.extra) assert.deepEqual(candle(c, f.extra[0]), f.extra[1]);
    });
}

test('CLI writes <basename>.talib.json with begin and values per series', { skip: noData }, () => {
    const out = mkdtempSync(join(tmpdir(), 'talib-'));
    try {
        const src = join(candleDir, 'kraken_spot_XBTUSDT_1m_http_ohlc.json');
        const p = spawnSync(process.execPath, [join(here, 'talib.mjs'), '--out', out, src], { encoding: 'utf8' });
        assert.equal(p.status, 0, p.stderr);
        const text = readFileSync(join(out, 'kraken_spot_XBTUSDT_1m_http_ohlc.json.talib.json'), 'utf8');
        assert.ok(!/NaN|Infinity|null/.test(text));
        const doc = JSON.parse(text);
        assert.equal(doc.source, src);
        assert.equal(doc.bars, 721);
        assert.equal(Object.keys(doc.series).length, 28);
        const c = readCandles(src);
        const direct = computeSeries(ta, c);
        for (const [k, s] of Object.entries(direct)) {
            assert.equal(doc.series[k].begin, s.begin, k);
            // shortest round-trip formatting: the numbers read back are the same doubles
            assert.deepEqual(doc.series[k].values, Array.from(s.values), k);
        }
    } finally {
        rmSync(out, { recursive: true, force: true });
    }
});

test('the trap: talib-web\'s own STOCH and BBANDS differ from the direct calls', async () => {
    const wrapper = createRequire(import.meta.url)('talib-web');
    await loadModule(); // wrapper's init() has run; its functions share the module
    const n = 60;
    const close_ = Array.from({ length: n }, (_, i) => 100 + Math.sin(i / 3) * 5 + i / 10);
    const high = close_.map((v, i) => v + 1 + (i % 3) / 4);
    const low = close_.map((v, i) => v - 1 - (i % 5) / 4);
    const d = run('STOCH', [high, low, close_], [14, 3, MA_SMA, 3, MA_SMA], 2);
    const w = wrapper.STOCH({ high, low, close: close_, fastK_Period: 14, slowK_Period: 3, slowK_MAType: 0, slowD_Period: 3, slowD_MAType: 0 });
    assert.notDeepEqual(w.slowK.slice(0, d.out[0].length), d.out[0]);
    const b = run('BBANDS', [close_], [20, 2, 2, MA_SMA], 3);
    const wb = wrapper.BBANDS({ inReal: close_, timePeriod: 20, nbDevUp: 2, nbDevDn: 2, MAType: 0 });
    assert.notDeepEqual(wb.upperBand.slice(0, b.out[0].length), b.out[0]);
    // SMA comes out right, but the wrapper asks for endIdx = length, so it also computes one more
    // value from the double past the end of its input buffer.
    const s = run('SMA', [close_], [20]);
    const ws = wrapper.SMA({ inReal: close_, timePeriod: 20 });
    assert.deepEqual(ws.output.slice(0, s.out[0].length), s.out[0]);
});
