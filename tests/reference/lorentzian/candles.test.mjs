// Candle readers, and a smoke run of the CLI's computations on a real file when it is present.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { parseJsonCandles, parseCsvCandles, readCandles } from './candles.mjs';
import { wavetrend } from './wavetrend.mjs';
import { chandelier } from './chandelier.mjs';
import { lorentzian } from './lorentzian.mjs';
import { firstNonNull } from './testutil.mjs';

test('JSON array of [open_time_ms, open, high, low, close, volume]', () => {
  const c = parseJsonCandles('[[1618951320000,56738.76,56840.3,56733.23,56813.98,50.9752],[1618951380000,"1","2","0.5","1.5","3"]]');
  assert.deepEqual(c[0], { time: 1618951320000, open: 56738.76, high: 56840.3, low: 56733.23, close: 56813.98, volume: 50.9752 });
  assert.deepEqual(c[1], { time: 1618951380000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 3 });
  assert.throws(() => parseJsonCandles('{"a":1}'));
});

test('Kraken REST OHLC answer (time in seconds, volume is the 7th field)', () => {
  const c = parseJsonCandles('{"error":[],"result":{"XBTUSDT":[[1762777020,"106038.2","106040.0","106000.1","106010.5","106020.0","0.5",3]],"last":1}}');
  assert.deepEqual(c, [{ time: 1762777020000, open: 106038.2, high: 106040, low: 106000.1, close: 106010.5, volume: 0.5 }]);
});

test('CSV with header timestamp,open,high,low,close,volume', () => {
  const c = parseCsvCandles('timestamp,open,high,low,close,volume\n2021-12-31 23:01:00.000000,46319.0,46385.0,46319.0,46377.0,2300413.7295\n');
  assert.deepEqual(c, [{ time: Date.UTC(2021, 11, 31, 23, 1, 0), open: 46319, high: 46385, low: 46319, close: 46377, volume: 2300413.7295 }]);
  const ms = parseCsvCandles('timestamp,open,high,low,close,volume\n1637971200000,1,2,0.5,1.5,7\n');
  assert.equal(ms[0].time, 1637971200000);
  const tz = parseCsvCandles('open_time,open,high,low,close,volume\n2023-03-01 00:00:00+00:00,1,2,0.5,1.5,7\n');
  assert.equal(tz[0].time, Date.UTC(2023, 2, 1));
});

test('CSV without a header (Binance Vision klines)', () => {
  const c = parseCsvCandles('1637971200000,0.00002853,0.00002854,0.00002851,0.00002854,36304.2,1637971259999,1.03,79,19523,0.55,0\n');
  assert.deepEqual(c[0], { time: 1637971200000, open: 0.00002853, high: 0.00002854, low: 0.00002851, close: 0.00002854, volume: 36304.2 });
});

const REAL = '/work/shared/data/candles/binance_BTCUSDT_1m_20210420_20210520.json';
test('smoke: first 3000 bars of BTCUSDT 1m', { skip: !existsSync(REAL) && 'candle file not present' }, () => {
  const c = readCandles(REAL).slice(0, 3000);
  const wt = wavetrend(c);
  const ce = chandelier(c);
  const lc = lorentzian(c);
  assert.equal(firstNonNull(wt.wt1), 38);
  assert.equal(firstNonNull(wt.wt2), 41);
  assert.equal(firstNonNull(ce.long_stop), 21);
  assert.equal(lc.extra.max_bars_back_index, 999);
  for (const arr of [wt.wt1, wt.wt2, ce.long_stop, ce.short_stop, lc.f1, lc.f2, lc.f3, lc.f4, lc.f5, lc.yhat1, lc.yhat2, lc.prediction]) {
    assert.equal(arr.length, 3000);
    assert.ok(arr.every((x) => x === null || Number.isFinite(x)));
  }
  for (const k of ['f1', 'f2', 'f3', 'f4', 'f5']) {
    assert.ok(lc[k].every((x) => x === null || (x >= 0 && x <= 1)), `${k} in [0, 1]`);
  }
  assert.ok(lc.prediction.every((x) => x === null || (Number.isInteger(x) && Math.abs(x) <= 8)));
});
