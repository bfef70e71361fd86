// "Machine Learning: Lorentzian Classification" (jdehorty, TradingView), with
// its MLExtensions and KernelFunctions libraries, written from the Pine source.
// Every function is pure over arrays (null = na). See README.md for the Pine
// semantics chosen and the ambiguities resolved.

import {
  isNa, nz, div, ema, sma, rma, rsi, cci, atr, source, barssince, gt, lt, ge, le,
} from './pine.mjs';
import { wavetrendOf } from './wavetrend.mjs';

// ---------------------------------------------------------------------------
// MLExtensions: rescale / normalize and the normalized features
// ---------------------------------------------------------------------------

/**
 * ml.rescale for one value: newMin + (newMax-newMin) * (src-oldMin) / max(oldMax-oldMin, 10e-10).
 * na in -> na out.
 */
export function rescaleValue(x, oldMin, oldMax, newMin, newMax) {
  if (isNa(x)) return null;
  return newMin + (newMax - newMin) * (x - oldMin) / Math.max(oldMax - oldMin, 10e-10);
}

/** ml.rescale over a series. */
export const rescale = (src, oldMin, oldMax, newMin, newMax) =>
  src.map((x) => rescaleValue(x, oldMin, oldMax, newMin, newMax));

/**
 * ml.normalize over a series: a running historic min/max that start at
 * 10e10 / -10e10 and ignore na (nz(src, historic)), then
 * min + (max-min) * (src - hMin) / max(hMax - hMin, 10e-10). na in -> na out.
 */
export function normalize(src, min, max) {
  let hMin = 10e10;
  let hMax = -10e10;
  return src.map((x) => {
    hMin = Math.min(nz(x, hMin), hMin);
    hMax = Math.max(nz(x, hMax), hMax);
    if (isNa(x)) return null;
    return min + (max - min) * (x - hMin) / Math.max(hMax - hMin, 10e-10);
  });
}

/** ml.n_rsi(src, n1, n2) = rescale(ema(rsi(src, n1), n2), 0, 100, 0, 1). */
export const nRsi = (src, n1, n2) => rescale(ema(rsi(src, n1), n2), 0, 100, 0, 1);

/** ml.n_cci(src, n1, n2) = normalize(ema(cci(src, n1), n2), 0, 1). */
export const nCci = (src, n1, n2) => normalize(ema(cci(src, n1), n2), 0, 1);

/** ml.n_wt(src, n1, n2) = normalize(wt1 - wt2, 0, 1) with WaveTrend(n1, n2) of src. */
export function nWt(src, n1 = 10, n2 = 11) {
  const { wt1, wt2 } = wavetrendOf(src, { n1, n2 });
  return normalize(wt1.map((x, i) => (x === null || wt2[i] === null ? null : x - wt2[i])), 0, 1);
}

/**
 * The DI/DX/ADX recursion shared by ml.n_adx and ml.filter_adx (not ta.dmi):
 *   tr   = max(max(h - l, |h - nz(c[1])|), |l - nz(c[1])|)
 *   dm+  = h - nz(h[1]) > nz(l[1]) - l ? max(h - nz(h[1]), 0) : 0
 *   dm-  = nz(l[1]) - l > h - nz(h[1]) ? max(nz(l[1]) - l, 0) : 0
 *   s    = nz(s[1]) - nz(s[1]) / length + x      (for tr, dm+, dm-)
 *   di±  = sDM± / sTR * 100
 *   dx   = |di+ - di-| / (di+ + di-) * 100
 *   adx  = ta.rma(dx, length)
 * On bar 0 the nz() turn the previous close/high/low into 0.
 */
export function adxSeries(high, low, close, length) {
  const n = high.length;
  const dx = new Array(n).fill(null);
  let trS = null;
  let pS = null;
  let mS = null;
  for (let i = 0; i < n; i++) {
    const h = high[i];
    const l = low[i];
    const pc = nz(i > 0 ? close[i - 1] : null);
    const ph = nz(i > 0 ? high[i - 1] : null);
    const pl = nz(i > 0 ? low[i - 1] : null);
    const tr = Math.max(Math.max(h - l, Math.abs(h - pc)), Math.abs(l - pc));
    const dmPlus = h - ph > pl - l ? Math.max(h - ph, 0) : 0;
    const dmMinus = pl - l > h - ph ? Math.max(pl - l, 0) : 0;
    trS = nz(trS) - nz(trS) / length + tr;
    pS = nz(pS) - nz(pS) / length + dmPlus;
    mS = nz(mS) - nz(mS) / length + dmMinus;
    const diP = div(pS, trS) === null ? null : div(pS, trS) * 100;
    const diN = div(mS, trS) === null ? null : div(mS, trS) * 100;
    if (diP === null || diN === null) continue;
    const q = div(Math.abs(diP - diN), diP + diN);
    dx[i] = q === null ? null : q * 100;
  }
  return rma(dx, length);
}

/** ml.n_adx(high, low, close, n1) = rescale(adx, 0, 100, 0, 1). */
export const nAdx = (high, low, close, n1) => rescale(adxSeries(high, low, close, n1), 0, 100, 0, 1);

// ---------------------------------------------------------------------------
// MLExtensions: filters
// ---------------------------------------------------------------------------

/**
 * ml.regime_filter(src, threshold, use). Uses the chart's high/low for value2
 * and `src` (ohlc4 in the script) everywhere else:
 *   value1 := 0.2 * (src - src[1]) + 0.8 * nz(value1[1])
 *   value2 := 0.1 * (high - low)   + 0.8 * nz(value2[1])
 *   omega   = |value1 / value2|
 *   alpha   = (-omega^2 + sqrt(omega^4 + 16 omega^2)) / 8
 *   klmf   := alpha * src + (1 - alpha) * nz(klmf[1])
 *   slope   = |klmf - klmf[1]|
 *   avg     = ema(slope, 200)
 *   nsd     = (slope - avg) / avg
 *   pass    = use ? nsd >= threshold : true      (na >= x is false)
 */
export function regimeFilter(candles, src, threshold, use = true) {
  const n = candles.length;
  const value1 = new Array(n).fill(null);
  const value2 = new Array(n).fill(null);
  const klmf = new Array(n).fill(null);
  const slope = new Array(n).fill(null);
  for (let i = 0; i < n; i++) {
    const s = src[i];
    const s1 = i > 0 ? src[i - 1] : null;
    const v1prev = i > 0 ? value1[i - 1] : null;
    const v2prev = i > 0 ? value2[i - 1] : null;
    value1[i] = isNa(s) || isNa(s1) ? null : 0.2 * (s - s1) + 0.8 * nz(v1prev);
    value2[i] = 0.1 * (candles[i].high - candles[i].low) + 0.8 * nz(v2prev);
    const q = div(value1[i], value2[i]);
    const omega = q === null ? null : Math.abs(q);
    const kprev = i > 0 ? klmf[i - 1] : null;
    if (omega !== null && !isNa(s)) {
      const alpha = (-Math.pow(omega, 2) + Math.sqrt(Math.pow(omega, 4) + 16 * Math.pow(omega, 2))) / 8;
      klmf[i] = alpha * s + (1 - alpha) * nz(kprev);
    }
    slope[i] = klmf[i] === null || isNa(kprev) ? null : Math.abs(klmf[i] - kprev);
  }
  const avg = ema(slope, 200).map((x) => (x === null ? null : 1.0 * x));
  const nsd = slope.map((x, i) => (x === null || avg[i] === null ? null : div(x - avg[i], avg[i])));
  const pass = nsd.map((x) => (use ? ge(x, threshold) : true));
  return { pass, value: nsd, klmf };
}

/** ml.filter_adx(src, length, threshold, use): adx computed with src as the close. */
export function filterAdx(candles, src, length, threshold, use = false) {
  if (!use) return candles.map(() => true);
  const adx = adxSeries(candles.map((c) => c.high), candles.map((c) => c.low), src, length);
  return adx.map((x) => gt(x, threshold));
}

/** ml.filter_volatility(minLength, maxLength, use) = use ? atr(min) > atr(max) : true. */
export function filterVolatility(candles, minLength = 1, maxLength = 10, use = true) {
  if (!use) return candles.map(() => true);
  const recent = atr(candles, minLength);
  const historical = atr(candles, maxLength);
  return recent.map((x, i) => gt(x, historical[i]));
}

// ---------------------------------------------------------------------------
// KernelFunctions
// ---------------------------------------------------------------------------

/**
 * Nadaraya-Watson estimate with weights w(i), i = 0 .. _size + startAtBar where
 * _size = array.size(array.from(_src)) = 1, i.e. startAtBar + 2 terms:
 *   yhat = sum(src[i] * w(i)) / sum(w(i))
 * src[i] is i bars back; any na term (including bars before the first) makes yhat na.
 */
function kernel(src, startAtBar, weight) {
  const last = 1 + startAtBar;
  const w = [];
  for (let i = 0; i <= last; i++) w.push(weight(i));
  return src.map((_, t) => {
    let cur = 0;
    let cum = 0;
    for (let i = 0; i <= last; i++) {
      const y = t - i >= 0 ? src[t - i] : null;
      if (isNa(y)) return null;
      cur += y * w[i];
      cum += w[i];
    }
    return cur / cum;
  });
}

/** kernels.rationalQuadratic: w(i) = (1 + i^2 / (lookback^2 * 2 * r))^-r. */
export const rationalQuadratic = (src, lookback, relativeWeight, startAtBar) =>
  kernel(src, startAtBar, (i) =>
    Math.pow(1 + (Math.pow(i, 2) / ((Math.pow(lookback, 2) * 2 * relativeWeight))), -relativeWeight));

/** kernels.gaussian: w(i) = exp(-i^2 / (2 * lookback^2)). */
export const gaussian = (src, lookback, startAtBar) =>
  kernel(src, startAtBar, (i) => Math.exp(-Math.pow(i, 2) / (2 * Math.pow(lookback, 2))));

// ---------------------------------------------------------------------------
// Core ML logic
// ---------------------------------------------------------------------------

export const LONG = 1;
export const SHORT = -1;
export const NEUTRAL = 0;

/**
 * y_train_series = src[4] < src[0] ? short : src[4] > src[0] ? long : neutral
 * (bars 0..3 compare against na and are neutral).
 */
export function trainingLabels(src) {
  return src.map((x, t) => {
    const past = t >= 4 ? src[t - 4] : null;
    return lt(past, x) ? SHORT : gt(past, x) ? LONG : NEUTRAL;
  });
}

/**
 * Lorentzian distance between two feature vectors: sum of log(1 + |a_k - b_k|).
 * na in any feature -> na (null).
 */
export function lorentzianDistance(a, b) {
  let d = 0;
  for (let k = 0; k < a.length; k++) {
    if (isNa(a[k]) || isNa(b[k])) return null;
    d += Math.log(1 + Math.abs(a[k] - b[k]));
  }
  return d;
}

/**
 * maxBarsBackIndex = last_bar_index >= maxBarsBack ? last_bar_index - maxBarsBack : 0
 */
export const maxBarsBackIndexOf = (lastBarIndex, maxBarsBack) =>
  lastBarIndex >= maxBarsBack ? lastBarIndex - maxBarsBack : 0;

/**
 * The approximate nearest neighbours search, bar by bar, as in the script:
 *
 *   (each bar) push features and y_train label onto the var arrays
 *   lastDistance = -1.0                       (not var: reset every bar)
 *   size     = min(maxBarsBack-1, size(y_train_array)-1)
 *   sizeLoop = min(maxBarsBack-1, size)
 *   if bar_index >= maxBarsBackIndex
 *     for i = 0 to sizeLoop                   (inclusive; i indexes bar i from the START of the series)
 *       d = lorentzian distance(current features, features of bar i)
 *       if d >= lastDistance and i % 4        (int->bool: i not a multiple of 4)
 *         lastDistance := d
 *         push d onto distances, round(y_train[i]) onto predictions (both var: kept across bars)
 *         if size(predictions) > k
 *           lastDistance := distances[round(k*3/4)]
 *           shift distances and predictions
 *     prediction := sum(predictions)          (na for an empty array)
 *   prediction is var, starting at 0.
 *
 * @param features  array of per-feature series (featureCount arrays of length n)
 * @param labels    y_train per bar
 * @param trace     when true, also returns the kept distances/predictions after each bar
 */
export function nearestNeighbors({
  features, labels, neighborsCount = 8, maxBarsBack = 2000, lastBarIndex, trace = false,
}) {
  const n = labels.length;
  const lbi = lastBarIndex ?? n - 1;
  const mbbIndex = maxBarsBackIndexOf(lbi, maxBarsBack);
  const fc = features.length;
  const prediction = new Array(n).fill(null);
  const kept = trace ? new Array(n).fill(null) : null;
  const distances = [];
  const predictions = [];
  let pred = 0;
  const cur = new Array(fc);
  const past = new Array(fc);
  const shiftAt = Math.round((neighborsCount * 3) / 4);
  for (let t = 0; t < n; t++) {
    const size = Math.min(maxBarsBack - 1, t + 1 - 1);
    const sizeLoop = Math.min(maxBarsBack - 1, size);
    if (t >= mbbIndex) {
      let lastDistance = -1.0;
      for (let k = 0; k < fc; k++) cur[k] = features[k][t];
      for (let i = 0; i <= sizeLoop; i++) {
        for (let k = 0; k < fc; k++) past[k] = features[k][i];
        const d = lorentzianDistance(cur, past);
        if (d !== null && d >= lastDistance && i % 4 !== 0) {
          lastDistance = d;
          distances.push(d);
          predictions.push(Math.round(labels[i]));
          if (predictions.length > neighborsCount) {
            lastDistance = distances[shiftAt];
            distances.shift();
            predictions.shift();
          }
        }
      }
      if (predictions.length === 0) {
        pred = null;
      } else {
        pred = 0;
        for (const p of predictions) pred += p;
      }
    }
    prediction[t] = pred;
    if (trace) kept[t] = { distances: distances.slice(), predictions: predictions.slice() };
  }
  return { prediction, maxBarsBackIndex: mbbIndex, kept };
}

// ---------------------------------------------------------------------------
// Signal, kernel state, entries and exits
// ---------------------------------------------------------------------------

/**
 * Everything after the prediction, bar by bar, as in the script.
 *
 * @param prediction  ANN prediction per bar (null = na)
 * @param filterAll   filter.volatility and filter.regime and filter.adx per bar
 * @param yhat1       rational quadratic estimate per bar
 * @param yhat2       gaussian estimate per bar
 * @param close       close per bar (for the optional EMA/SMA filters)
 */
export function tradeSignals({
  prediction, filterAll, yhat1, yhat2, close,
  useEmaFilter = false, emaPeriod = 200, useSmaFilter = false, smaPeriod = 200,
  useKernelFilter = true, useKernelSmoothing = false, useDynamicExits = false,
}) {
  const n = prediction.length;
  const emaC = useEmaFilter ? ema(close, emaPeriod) : null;
  const smaC = useSmaFilter ? sma(close, smaPeriod) : null;
  const isEmaUptrend = close.map((c, i) => (useEmaFilter ? gt(c, emaC[i]) : true));
  const isEmaDowntrend = close.map((c, i) => (useEmaFilter ? lt(c, emaC[i]) : true));
  const isSmaUptrend = close.map((c, i) => (useSmaFilter ? gt(c, smaC[i]) : true));
  const isSmaDowntrend = close.map((c, i) => (useSmaFilter ? lt(c, smaC[i]) : true));
  const y1 = (i) => (i >= 0 ? yhat1[i] : null);
  const y2 = (i) => (i >= 0 ? yhat2[i] : null);

  const signal = new Array(n);
  const barsHeld = new Array(n);
  const changed = new Array(n);
  const isBullishOut = new Array(n);
  const isBearishOut = new Array(n);
  const isBullishChange = new Array(n);
  const isBearishChange = new Array(n);
  const alertBullish = new Array(n);
  const alertBearish = new Array(n);
  const isNewBuy = new Array(n);
  const isNewSell = new Array(n);
  const startLong = new Array(n);
  const startShort = new Array(n);
  let sig = NEUTRAL;
  let held = 0;
  for (let t = 0; t < n; t++) {
    const p = prediction[t];
    const prev = t > 0 ? signal[t - 1] : null;
    sig = gt(p, 0) && filterAll[t] ? LONG : lt(p, 0) && filterAll[t] ? SHORT : nz(prev);
    signal[t] = sig;
    // ta.change(signal) as a bool: na on bar 0 (false), else signal != signal[1].
    changed[t] = t > 0 && sig !== prev;
    held = changed[t] ? 0 : held + 1;
    barsHeld[t] = held;

    const isBuySignal = sig === LONG && isEmaUptrend[t] && isSmaUptrend[t];
    const isSellSignal = sig === SHORT && isEmaDowntrend[t] && isSmaDowntrend[t];
    isNewBuy[t] = isBuySignal && changed[t];
    isNewSell[t] = isSellSignal && changed[t];

    const wasBearishRate = gt(y1(t - 2), y1(t - 1));
    const wasBullishRate = lt(y1(t - 2), y1(t - 1));
    const isBearishRate = gt(y1(t - 1), y1(t));
    const isBullishRate = lt(y1(t - 1), y1(t));
    isBearishChange[t] = isBearishRate && wasBullishRate;
    isBullishChange[t] = isBullishRate && wasBearishRate;
    const isBullishCrossAlert = gt(y2(t), y1(t)) && le(y2(t - 1), y1(t - 1));
    const isBearishCrossAlert = lt(y2(t), y1(t)) && ge(y2(t - 1), y1(t - 1));
    const isBullishSmooth = ge(y2(t), y1(t));
    const isBearishSmooth = le(y2(t), y1(t));
    alertBullish[t] = useKernelSmoothing ? isBullishCrossAlert : isBullishChange[t];
    alertBearish[t] = useKernelSmoothing ? isBearishCrossAlert : isBearishChange[t];
    isBullishOut[t] = useKernelFilter ? (useKernelSmoothing ? isBullishSmooth : isBullishRate) : true;
    isBearishOut[t] = useKernelFilter ? (useKernelSmoothing ? isBearishSmooth : isBearishRate) : true;

    startLong[t] = isNewBuy[t] && isBullishOut[t] && isEmaUptrend[t] && isSmaUptrend[t];
    startShort[t] = isNewSell[t] && isBearishOut[t] && isEmaDowntrend[t] && isSmaDowntrend[t];
  }

  const barsSinceRedEntry = barssince(startShort);
  const barsSinceRedExit = barssince(alertBullish);
  const barsSinceGreenEntry = barssince(startLong);
  const barsSinceGreenExit = barssince(alertBearish);
  const isValidShortExit = barsSinceRedExit.map((x, i) => gt(x, barsSinceRedEntry[i]));
  const isValidLongExit = barsSinceGreenExit.map((x, i) => gt(x, barsSinceGreenEntry[i]));
  const isDynamicExitValid = !useEmaFilter && !useSmaFilter && !useKernelSmoothing;

  const endLong = new Array(n);
  const endShort = new Array(n);
  for (let t = 0; t < n; t++) {
    const isHeldFourBars = barsHeld[t] === 4;
    const isHeldLessThanFourBars = barsHeld[t] > 0 && barsHeld[t] < 4;
    const isLastSignalBuy = t >= 4 && signal[t - 4] === LONG && isEmaUptrend[t - 4] && isSmaUptrend[t - 4];
    const isLastSignalSell = t >= 4 && signal[t - 4] === SHORT && isEmaDowntrend[t - 4] && isSmaDowntrend[t - 4];
    const startLong4 = t >= 4 && startLong[t - 4];
    const startShort4 = t >= 4 && startShort[t - 4];
    const endLongStrict = ((isHeldFourBars && isLastSignalBuy)
      || (isHeldLessThanFourBars && isNewSell[t] && isLastSignalBuy)) && startLong4;
    const endShortStrict = ((isHeldFourBars && isLastSignalSell)
      || (isHeldLessThanFourBars && isNewBuy[t] && isLastSignalSell)) && startShort4;
    const endLongDynamic = isBearishChange[t] && t >= 1 && isValidLongExit[t - 1];
    const endShortDynamic = isBullishChange[t] && t >= 1 && isValidShortExit[t - 1];
    endLong[t] = useDynamicExits && isDynamicExitValid ? endLongDynamic : endLongStrict;
    endShort[t] = useDynamicExits && isDynamicExitValid ? endShortDynamic : endShortStrict;
  }

  return {
    signal, bars_held: barsHeld, is_bullish: isBullishOut, is_bearish: isBearishOut,
    start_long: startLong, start_short: startShort, end_long: endLong, end_short: endShort,
  };
}

// ---------------------------------------------------------------------------
// The whole indicator
// ---------------------------------------------------------------------------

export const DEFAULT_FEATURES = [
  { kind: 'RSI', a: 14, b: 1 },
  { kind: 'WT', a: 10, b: 11 },
  { kind: 'CCI', a: 20, b: 1 },
  { kind: 'ADX', a: 20, b: 2 },
  { kind: 'RSI', a: 9, b: 1 },
];

/** series_from(feature_string, close, high, low, hlc3, paramA, paramB). */
export function featureSeries(candles, { kind, a, b }) {
  const close = source(candles, 'close');
  switch (kind) {
    case 'RSI': return nRsi(close, a, b);
    case 'WT': return nWt(source(candles, 'hlc3'), a, b);
    case 'CCI': return nCci(close, a, b);
    case 'ADX': return nAdx(source(candles, 'high'), source(candles, 'low'), close, a);
    default: throw new Error(`unknown feature ${kind}`);
  }
}

export const DEFAULTS = Object.freeze({
  source: 'close',
  neighborsCount: 8,
  maxBarsBack: 2000,
  featureCount: 5,
  features: DEFAULT_FEATURES,
  useVolatilityFilter: true,
  useRegimeFilter: true,
  useAdxFilter: false,
  regimeThreshold: -0.1,
  adxThreshold: 20,
  useEmaFilter: false,
  emaPeriod: 200,
  useSmaFilter: false,
  smaPeriod: 200,
  useKernelFilter: true,
  useKernelSmoothing: false,
  h: 8,
  r: 8.0,
  x: 25,
  lag: 2,
  useDynamicExits: false,
  lastBarIndex: undefined, // defaults to candles.length - 1
});

/**
 * Runs the indicator over `candles` ({open, high, low, close, ...} per bar).
 * Returns per-bar arrays (null = na; booleans for the bool series).
 */
export function lorentzian(candles, options = {}) {
  const o = { ...DEFAULTS, ...options };
  const n = candles.length;
  const src = source(candles, o.source);
  const close = source(candles, 'close');
  const featureSpecs = o.features.slice(0, o.featureCount);
  if (featureSpecs.length < 2 || featureSpecs.length > 5 || featureSpecs.length !== o.featureCount) {
    throw new Error('featureCount must be 2..5 with that many feature specs');
  }
  const feats = featureSpecs.map((spec) => featureSeries(candles, spec));
  const labels = trainingLabels(src);
  const lastBarIndex = o.lastBarIndex ?? n - 1;
  const ann = nearestNeighbors({
    features: feats, labels, neighborsCount: o.neighborsCount, maxBarsBack: o.maxBarsBack, lastBarIndex,
  });

  const vol = filterVolatility(candles, 1, 10, o.useVolatilityFilter);
  const regime = regimeFilter(candles, source(candles, 'ohlc4'), o.regimeThreshold, o.useRegimeFilter);
  const adx = filterAdx(candles, src, 14, o.adxThreshold, o.useAdxFilter);
  const filterAll = vol.map((v, i) => v && regime.pass[i] && adx[i]);

  const yhat1 = rationalQuadratic(src, o.h, o.r, o.x);
  const yhat2 = gaussian(src, o.h - o.lag, o.x);

  const sig = tradeSignals({
    prediction: ann.prediction, filterAll, yhat1, yhat2, close,
    useEmaFilter: o.useEmaFilter, emaPeriod: o.emaPeriod, useSmaFilter: o.useSmaFilter, smaPeriod: o.smaPeriod,
    useKernelFilter: o.useKernelFilter, useKernelSmoothing: o.useKernelSmoothing, useDynamicExits: o.useDynamicExits,
  });

  const out = {
    prediction: ann.prediction,
    signal: sig.signal,
    filter_volatility: vol,
    filter_regime: regime.pass,
    yhat1,
    yhat2,
    start_long: sig.start_long,
    start_short: sig.start_short,
    end_long: sig.end_long,
    end_short: sig.end_short,
    // not in the CLI's default output; see cli.mjs --extra
    extra: {
      y_train: labels,
      filter_adx: adx,
      filter_all: filterAll,
      regime_value: regime.value,
      is_bullish: sig.is_bullish,
      is_bearish: sig.is_bearish,
      bars_held: sig.bars_held,
      max_bars_back_index: ann.maxBarsBackIndex,
      last_bar_index: lastBarIndex,
    },
  };
  feats.forEach((f, k) => { out[`f${k + 1}`] = f; });
  return out;
}
