// Chandelier Exit worked by hand on 12 bars with length 3.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chandelier } from './chandelier.mjs';
import { nearAll, hlc, firstNonNull, randomWalk } from './testutil.mjs';

const BARS = hlc([[11, 9, 10], [13, 10, 12], [14, 11, 13], [13, 10, 11], [12, 8, 9], [10, 7, 8],
  [11, 8, 10], [14, 10, 13], [15, 12, 14], [14, 11, 12], [13, 9, 10], [12, 8, 9]]);

// length 3, mult 1, useClose. atr = rma(tr, 3): bar 2 = (2+3+3)/3 = 8/3, then atr_t = tr_t/3 + 2/3*atr_{t-1}.
// raw long = highest(close,3) - atr, raw short = lowest(close,3) + atr.
// longPrev = long[1] (raw long on the first bar); long = close[1] > longPrev ? max(raw, longPrev) : raw. Short mirrored.
// dir = close > shortPrev ? 1 : close < longPrev ? -1 : dir[1].
// bar H  L  C  tr atr          hh ll rawLong       longPrev  long          rawShort      shortPrev     short        dir
//  0  11  9 10 2  na           na na na            na        na            na            na            na           1
//  1  13 10 12 3  na           na na na            na        na            na            na            na           1
//  2  14 11 13 3  8/3          13 10 31/3          31/3      31/3          38/3          38/3          38/3         1
//  3  13 10 11 3  25/9         13 11 92/9          31/3      31/3 (c2 13 > 31/3: max)   124/9  38/3  124/9 (c2 13 !< 38/3) 1
//  4  12  8  9 4  86/27        13  9 265/27        31/3      31/3          329/27        124/9         329/27 (c3 11 < 124/9: min) -1 (9 < 31/3)
//  5  10  7  8 3  253/81       11  8 638/81        31/3      638/81 (c4 9 !> 31/3)      901/81  329/27 901/81   -1
//  6  11  8 10 3  749/243      10  8 1681/243      638/81    638/81 (c5 8 > 638/81: max) 2693/243 901/81 2693/243 -1
//  7  14 10 13 4  2470/729     13  8 7007/729      638/81    7007/729      8302/729      2693/243      2693/243     1 (13 > 2693/243)
//  8  15 12 14 3  7127/2187    14 10 23491/2187    7007/729  23491/2187    28997/2187    2693/243      28997/2187   1
//  9  14 11 12 3  20815/6561   14 12 71039/6561    23491/2187 71039/6561   99547/6561    28997/2187    99547/6561   1
// 10  13  9 10 4  67874/19683  14 10 207688/19683  71039/6561 71039/6561   264704/19683  99547/6561    264704/19683 -1 (10 < 71039/6561)
// 11  12  8  9 4  214480/59049 12  9 494108/59049  71039/6561 494108/59049 745921/59049  264704/19683  745921/59049 -1
test('Chandelier length 3, mult 1, close extremes', () => {
  const r = chandelier(BARS, { length: 3, mult: 1, useClose: true });
  nearAll(r.atr, [null, null, 8 / 3, 25 / 9, 86 / 27, 253 / 81, 749 / 243, 2470 / 729, 7127 / 2187,
    20815 / 6561, 67874 / 19683, 214480 / 59049], 'atr');
  nearAll(r.long_stop, [null, null, 31 / 3, 31 / 3, 31 / 3, 638 / 81, 638 / 81, 7007 / 729, 23491 / 2187,
    71039 / 6561, 71039 / 6561, 494108 / 59049], 'long_stop');
  nearAll(r.short_stop, [null, null, 38 / 3, 124 / 9, 329 / 27, 901 / 81, 2693 / 243, 2693 / 243,
    28997 / 2187, 99547 / 6561, 264704 / 19683, 745921 / 59049], 'short_stop');
  assert.deepEqual(r.dir, [1, 1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1]);
});

// Same bars, mult 2, high/low extremes (useClose false): highest(high,3) and lowest(low,3).
test('Chandelier length 3, mult 2, high/low extremes', () => {
  // long = close[1] > longPrev ? max(raw, longPrev) : raw; short = close[1] < shortPrev ? min(raw, shortPrev) : raw
  // bar hh ll atr        long          short          dir
  //  2  14  9 8/3        26/3          43/3           1
  //  3  14 10 25/9       26/3 (c2 13 > 26/3: max(76/9, 26/3))        43/3 (c2 13 < 43/3: min(140/9, 43/3))   1
  //  4  14  8 86/27      26/3 (c3 11 > 26/3)          43/3 (c3 11 < 43/3: min(388/27, 43/3))          1
  //  5  13  7 253/81     26/3 (c4 9 > 26/3: max(547/81, 26/3))         1073/81 (c4 9 < 43/3: min)     -1 (8 < 26/3)
  //  6  12  7 749/243    1418/243 (c5 8 !> 26/3)      3199/243 (c5 8 < 1073/81: min(3199/243, 3219/243)) -1
  //  7  14  7 2470/729   5266/729 (c6 10 > 1418/243: max(5266/729, 4254/729))  3199/243 (c6 10 < 3199/243: min(10043/729, 9597/729)) -1
  //  8  15  8 7127/2187  18551/2187 (c7 13 > 5266/729: max)  3199/243 (c7 13 < 13.16: min(31750/2187, 28791/2187)) 1 (14 > 3199/243)
  //  9  15 10 20815/6561 56785/6561 (c8 14 > longPrev: max)  107240/6561 (c8 14 !< 3199/243: raw)  1
  // 10  15  9 67874/19683 56785/6561 (c9 12 > 8.65: max(159497/19683, 170355/19683))  312895/19683 (c9 12 < 16.35: min)  1
  // 11  14  8 214480/59049 56785/6561 (c10 10 > 8.65: max)  901352/59049 (c10 10 < 15.90: min(901352/59049, 938685/59049)) 1
  const r = chandelier(BARS, { length: 3, mult: 2, useClose: false });
  nearAll(r.long_stop, [null, null, 26 / 3, 26 / 3, 26 / 3, 26 / 3, 1418 / 243, 5266 / 729, 18551 / 2187,
    56785 / 6561, 56785 / 6561, 56785 / 6561], 'long_stop');
  nearAll(r.short_stop, [null, null, 43 / 3, 43 / 3, 43 / 3, 1073 / 81, 3199 / 243, 3199 / 243, 3199 / 243,
    107240 / 6561, 312895 / 19683, 901352 / 59049], 'short_stop');
  assert.deepEqual(r.dir, [1, 1, 1, 1, 1, -1, -1, -1, 1, 1, 1, 1]);
});

test('Chandelier warm-up with the defaults (22, 3.0): stops from bar 21, dir 1 before', () => {
  const r = chandelier(randomWalk(60));
  assert.equal(firstNonNull(r.long_stop), 21);
  assert.equal(firstNonNull(r.short_stop), 21);
  assert.ok(r.dir.slice(0, 21).every((d) => d === 1));
});
