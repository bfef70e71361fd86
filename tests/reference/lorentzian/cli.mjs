#!/usr/bin/env node
// node tests/reference/lorentzian/cli.mjs --out <dir> [--bars N] [--last-bar-index K] [--ema-seed sma|first] [--extra] <candle-file>...
//
// Writes <dir>/<basename>.lorentzian.json for each candle file:
//   { "source": path, "bars": N,
//     "wavetrend":  { "wt1": [...], "wt2": [...] },                       (n1 10, n2 21)
//     "chandelier": { "long_stop": [...], "short_stop": [...], "dir": [...] }, (22, 3.0, useClose)
//     "lorentzian": { "f1".."f5", "prediction", "signal", "filter_volatility", "filter_regime",
//                     "yhat1", "yhat2", "start_long", "start_short", "end_long", "end_short" } }
// one entry per bar, null for na. --bars N keeps the first N candles. --last-bar-index K
// overrides Pine's last_bar_index (default: bars - 1). --ema-seed first starts every ta.ema from
// its first value as the reference manual's pine_ema code does (default sma). --extra adds "lorentzian_extra"
// (y_train, filter_all, is_bullish, ...). Timing goes to stderr.

import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readCandles } from './candles.mjs';
import { wavetrend } from './wavetrend.mjs';
import { chandelier } from './chandelier.mjs';
import { lorentzian } from './lorentzian.mjs';
import { nullify, config as pineConfig } from './pine.mjs';

function usage(msg) {
  if (msg) process.stderr.write(`${msg}\n`);
  process.stderr.write('usage: cli.mjs --out <dir> [--bars N] [--last-bar-index K] [--ema-seed sma|first] [--extra] <candle-file>...\n');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { out: null, bars: null, lastBarIndex: undefined, extra: false, emaSeed: 'sma', files: [] };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${s} needs a value`);
      return argv[++i];
    };
    const int = (v) => {
      if (!/^\d+$/.test(v)) usage(`${s} needs a non-negative integer, got ${v}`);
      return Number(v);
    };
    if (s === '--out') a.out = val();
    else if (s === '--bars') a.bars = int(val());
    else if (s === '--last-bar-index') a.lastBarIndex = int(val());
    else if (s === '--extra') a.extra = true;
    else if (s === '--ema-seed') {
      a.emaSeed = val();
      if (a.emaSeed !== 'sma' && a.emaSeed !== 'first') usage('--ema-seed is sma or first');
    }
    else if (s === '-h' || s === '--help') usage();
    else if (s.startsWith('--')) usage(`unknown option ${s}`);
    else a.files.push(s);
  }
  if (!a.out) usage('--out is required');
  if (a.files.length === 0) usage('no candle files');
  return a;
}

const clean = (arr) => arr.map(nullify);

function outputName(path) {
  return `${basename(path).replace(/\.(json|csv)$/i, '')}.lorentzian.json`;
}

const args = parseArgs(process.argv.slice(2));
pineConfig.emaSeed = args.emaSeed;
mkdirSync(args.out, { recursive: true });
for (const path of args.files) {
  const t0 = performance.now();
  let candles = readCandles(path);
  if (args.bars !== null) candles = candles.slice(0, args.bars);
  const t1 = performance.now();
  const wt = wavetrend(candles, { n1: 10, n2: 21 });
  const t2 = performance.now();
  const ce = chandelier(candles, { length: 22, mult: 3.0, useClose: true });
  const t3 = performance.now();
  const lc = lorentzian(candles, { lastBarIndex: args.lastBarIndex });
  const t4 = performance.now();
  const doc = {
    source: path,
    bars: candles.length,
    ...(args.emaSeed !== 'sma' ? { ema_seed: args.emaSeed } : {}),
    wavetrend: { wt1: clean(wt.wt1), wt2: clean(wt.wt2) },
    chandelier: { long_stop: clean(ce.long_stop), short_stop: clean(ce.short_stop), dir: clean(ce.dir) },
    lorentzian: {},
  };
  for (const k of ['f1', 'f2', 'f3', 'f4', 'f5', 'prediction', 'signal', 'filter_volatility', 'filter_regime',
    'yhat1', 'yhat2', 'start_long', 'start_short', 'end_long', 'end_short']) {
    if (lc[k] !== undefined) doc.lorentzian[k] = clean(lc[k]);
  }
  if (args.extra) {
    doc.lorentzian_extra = {};
    for (const [k, v] of Object.entries(lc.extra)) doc.lorentzian_extra[k] = Array.isArray(v) ? clean(v) : v;
  }
  const outPath = join(args.out, outputName(path));
  writeFileSync(outPath, `${JSON.stringify(doc)}\n`);
  const t5 = performance.now();
  const ms = (x) => `${x.toFixed(0)}ms`;
  process.stderr.write(`${outPath}: ${candles.length} bars; read ${ms(t1 - t0)}, wavetrend ${ms(t2 - t1)}, `
    + `chandelier ${ms(t3 - t2)}, lorentzian ${ms(t4 - t3)} (maxBarsBackIndex ${lc.extra.max_bars_back_index}), `
    + `write ${ms(t5 - t4)}, total ${ms(t5 - t0)}\n`);
}
