#!/usr/bin/env node
// Reference values for keel's native indicators, computed by TA-Lib compiled to WebAssembly
// (npm package talib-web, pinned in package.json).
//
//   node tests/reference/talib.mjs --out <dir> <candle-file>...
//
// writes <dir>/<basename>.talib.json for each candle file. See README.md beside this file.
//
// The exported TA_* C functions of the wasm module are called directly. talib-web's own
// JavaScript functions are not used: they pass the same address (0) for outBegIdx and
// outNBElement and endIdx = length (one past the input), which corrupts STOCH, BBANDS, STDDEV
// and NATR and reads past the input buffer.

import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export const TA_SUCCESS = 0;
export const MA_SMA = 0;

// ---------------------------------------------------------------------------------------------
// Candle files

function num(v, where) {
    const x = typeof v === 'number' ? v : Number(String(v).trim());
    if (typeof v === 'string' && v.trim() === '') throw new Error(`${where}: empty number`);
    if (!Number.isFinite(x)) throw new Error(`${where}: not a finite number: ${JSON.stringify(v)}`);
    return x;
}

function columns(n) {
    return {
        time: new Array(n),
        open: new Float64Array(n),
        high: new Float64Array(n),
        low: new Float64Array(n),
        close: new Float64Array(n),
        volume: new Float64Array(n),
    };
}

// rows: arrays; idx: column index of time, open, high, low, close, volume in each row.
function fromRows(rows, idx, where) {
    const c = columns(rows.length);
    for (let i = 0; i < rows.length; ++i) {
        const r = rows[i];
        if (!Array.isArray(r)) throw new Error(`${where}: row ${i} is not an array`);
        const w = `${where}: row ${i}`;
        const t = r[idx.time];
        c.time[i] = typeof t === 'string' && Number.isFinite(Number(t)) ? Number(t) : t;
        c.open[i] = num(r[idx.open], w);
        c.high[i] = num(r[idx.high], w);
        c.low[i] = num(r[idx.low], w);
        c.close[i] = num(r[idx.close], w);
        c.volume[i] = num(r[idx.volume], w);
    }
    return c;
}

const PLAIN = { time: 0, open: 1, high: 2, low: 3, close: 4, volume: 5 };
// Kraken REST OHLC row: [time, open, high, low, close, vwap, volume, count]
const KRAKEN = { time: 0, open: 1, high: 2, low: 3, close: 4, volume: 6 };

function parseJson(text, where) {
    const doc = JSON.parse(text);
    if (Array.isArray(doc)) return fromRows(doc, PLAIN, where);
    if (doc && typeof doc === 'object' && doc.result && typeof doc.result === 'object') {
        if (Array.isArray(doc.error) && doc.error.length)
            throw new Error(`${where}: Kraken error ${JSON.stringify(doc.error)}`);
        const keys = Object.keys(doc.result).filter((k) => Array.isArray(doc.result[k]));
        if (keys.length !== 1)
            throw new Error(`${where}: expected one pair in result, found ${keys.join(', ')}`);
        return fromRows(doc.result[keys[0]], KRAKEN, where);
    }
    throw new Error(`${where}: unknown JSON candle layout`);
}

function parseCsv(text, where) {
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    if (!lines.length) return columns(0);
    const first = lines[0].split(',').map((s) => s.trim().toLowerCase());
    let idx = PLAIN;
    let body = lines;
    if (first.includes('open') && first.includes('close')) {
        // Header: timestamp|open_time,open,high,low,close,volume (any order).
        const at = (name) => {
            const i = first.indexOf(name);
            if (i < 0) throw new Error(`${where}: header has no ${name} column`);
            return i;
        };
        const time = ['timestamp', 'open_time', 'time', 'date'].map((n) => first.indexOf(n)).find((i) => i >= 0);
        idx = { time: time ?? 0, open: at('open'), high: at('high'), low: at('low'), close: at('close'), volume: at('volume') };
        body = lines.slice(1);
    } else if (first.length < 6) {
        throw new Error(`${where}: headerless CSV needs at least 6 columns, got ${first.length}`);
    }
    // Headerless: data.binance.vision kline layout (open_time, open, high, low, close, volume, ...).
    return fromRows(body.map((l) => l.split(',')), idx, where);
}

export function readCandles(path) {
    const text = readFileSync(path, 'utf8');
    const start = text.trimStart()[0];
    return start === '[' || start === '{' ? parseJson(text, path) : parseCsv(text, path);
}

// ---------------------------------------------------------------------------------------------
// TA-Lib (wasm)

let modulePromise;

// The emscripten module of talib-web. In Node 20 `fetch` exists, and the loader would then try
// to fetch() the wasm by file path and fail; without it, it reads the file from disk.
export function loadModule() {
    if (!modulePromise) {
        const talibWeb = require('talib-web');
        const saved = globalThis.fetch;
        globalThis.fetch = undefined;
        const p = talibWeb.init();
        modulePromise = p.finally(() => {
            globalThis.fetch = saved;
        });
    }
    return modulePromise;
}

// Number of C parameters of each function used, checked against the wasm export.
const ARITY = {
    TA_SMA: 7, TA_EMA: 7, TA_WMA: 7, TA_RSI: 7, TA_ATR: 9, TA_TRANGE: 8, TA_ADX: 9,
    TA_PLUS_DI: 9, TA_MINUS_DI: 9, TA_CCI: 9, TA_BBANDS: 12, TA_MACD: 11, TA_STOCH: 14,
    TA_OBV: 7, TA_MAX: 7, TA_MIN: 7, TA_STDDEV: 8, TA_MIDPRICE: 8,
};

const HEAP_NOTE = "talib-web's wasm heap is fixed at 16 MiB: about 160,000 bars per file at most";

export class Talib {
    constructor(M) {
        this.M = M;
        this.live = new Set();
    }

    static async create() {
        return new Talib(await loadModule());
    }

    malloc(bytes) {
        let p;
        try {
            p = this.M._malloc(bytes);
        } catch (e) {
            throw new Error(`wasm malloc(${bytes}) failed: ${e.message ?? e} (${HEAP_NOTE})`);
        }
        if (!p) throw new Error(`wasm malloc(${bytes}) returned 0 (${HEAP_NOTE})`);
        this.live.add(p);
        return p;
    }

    free(p) {
        if (this.live.delete(p)) this.M._free(p);
    }

    freeAll() {
        for (const p of this.live) this.M._free(p);
        this.live.clear();
    }

    // Copies a series into the wasm heap; returns its address.
    put(values) {
        const p = this.malloc(Math.max(1, values.length) * 8);
        this.M.HEAPF64.set(values, p >> 3);
        return p;
    }

    // Calls TA_<name>(0, n-1, ...inputs, ...options, &outBegIdx, &outNBElement, ...outputs).
    // inputs: wasm addresses of n doubles each; options: numbers, in C parameter order.
    // Returns { begin, values: [Float64Array per output] }.
    call(name, n, inputs, options, nOut) {
        const fn = this.M[`_${name}`];
        if (typeof fn !== 'function') throw new Error(`${name} is not exported by talib-web`);
        const want = 2 + inputs.length + options.length + 2 + nOut;
        const have = this.M.asm[name].length;
        if (have !== want) throw new Error(`${name}: wasm function takes ${have} parameters, call has ${want}`);
        if (ARITY[name] !== undefined && ARITY[name] !== want)
            throw new Error(`${name}: expected ${ARITY[name]} parameters, call has ${want}`);
        if (n === 0) return { begin: 0, values: Array.from({ length: nOut }, () => new Float64Array(0)) };

        // Separate ints for outBegIdx and outNBElement; one guard double past each output.
        const begP = this.malloc(4);
        const nbP = this.malloc(4);
        const outs = [];
        const SENTINEL = -1.2345678901234567e300;
        for (let k = 0; k < nOut; ++k) {
            const p = this.malloc((n + 1) * 8);
            this.M.HEAPF64.fill(SENTINEL, p >> 3, (p >> 3) + n + 1);
            outs.push(p);
        }
        this.M.HEAP32[begP >> 2] = -1;
        this.M.HEAP32[nbP >> 2] = -1;
        try {
            let rc;
            try {
                rc = fn(0, n - 1, ...inputs, ...options, begP, nbP, ...outs);
            } catch (e) {
                // emscripten aborts on an allocation TA-Lib makes inside the call; the module
                // is unusable after that.
                throw new Error(`${name} aborted for ${n} bars: ${e.message ?? e} (${HEAP_NOTE})`);
            }
            if (rc !== TA_SUCCESS) throw new Error(`${name} returned TA_RetCode ${rc}`);
            const begin = this.M.HEAP32[begP >> 2];
            const nb = this.M.HEAP32[nbP >> 2];
            if (nb < 0 || begin < 0 || nb > n || (nb > 0 && begin + nb !== n))
                throw new Error(`${name}: outBegIdx ${begin}, outNBElement ${nb} for ${n} bars`);
            const heap = this.M.HEAPF64;
            const values = outs.map((p) => {
                const v = heap.slice(p >> 3, (p >> 3) + nb);
                for (let i = 0; i < nb; ++i)
                    if (!Number.isFinite(v[i]) || v[i] === SENTINEL)
                        throw new Error(`${name}: output ${i} is ${v[i]}`);
                if (heap[(p >> 3) + n] !== SENTINEL) throw new Error(`${name}: wrote past the output buffer`);
                return v;
            });
            return { begin: nb > 0 ? begin : 0, values };
        } finally {
            for (const p of outs) this.free(p);
            this.free(begP);
            this.free(nbP);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The series keel is compared against. Keys are relied on by the C++ test.

export function computeSeries(ta, c) {
    const n = c.close.length;
    const ptr = {
        high: ta.put(c.high),
        low: ta.put(c.low),
        close: ta.put(c.close),
        volume: ta.put(c.volume),
    };
    const { high, low, close, volume } = ptr;
    const hlc = [high, low, close];
    const out = {};
    const one = (key, name, inputs, options) => {
        const r = ta.call(name, n, inputs, options, 1);
        out[key] = { begin: r.begin, values: r.values[0] };
    };
    const many = (keys, name, inputs, options) => {
        const r = ta.call(name, n, inputs, options, keys.length);
        keys.forEach((k, i) => (out[k] = { begin: r.begin, values: r.values[i] }));
    };
    try {
        one('SMA_20', 'TA_SMA', [close], [20]);
        one('SMA_7', 'TA_SMA', [close], [7]);
        one('EMA_20', 'TA_EMA', [close], [20]);
        one('EMA_50', 'TA_EMA', [close], [50]);
        one('WMA_20', 'TA_WMA', [close], [20]);
        one('RSI_14', 'TA_RSI', [close], [14]);
        one('RSI_9', 'TA_RSI', [close], [9]);
        one('ATR_14', 'TA_ATR', hlc, [14]);
        one('TRANGE', 'TA_TRANGE', hlc, []);
        one('ADX_14', 'TA_ADX', hlc, [14]);
        one('ADX_20', 'TA_ADX', hlc, [20]);
        one('PLUS_DI_14', 'TA_PLUS_DI', hlc, [14]);
        one('MINUS_DI_14', 'TA_MINUS_DI', hlc, [14]);
        one('CCI_20', 'TA_CCI', hlc, [20]);
        one('CCI_14', 'TA_CCI', hlc, [14]);
        many(['BBANDS_20_2_upper', 'BBANDS_20_2_middle', 'BBANDS_20_2_lower'], 'TA_BBANDS', [close], [20, 2, 2, MA_SMA]);
        many(['MACD_12_26_9_macd', 'MACD_12_26_9_signal', 'MACD_12_26_9_hist'], 'TA_MACD', [close], [12, 26, 9]);
        many(['STOCH_14_3_3_slowk', 'STOCH_14_3_3_slowd'], 'TA_STOCH', hlc, [14, 3, MA_SMA, 3, MA_SMA]);
        one('OBV', 'TA_OBV', [close, volume], []);
        one('MAX_20', 'TA_MAX', [high], [20]);
        one('MIN_20', 'TA_MIN', [low], [20]);
        one('STDDEV_20', 'TA_STDDEV', [close], [20, 1]);
        one('MIDPRICE_20', 'TA_MIDPRICE', [high, low], [20]);
    } finally {
        for (const p of Object.values(ptr)) ta.free(p);
    }
    return out;
}

// JSON with each series on its own line; numbers in JavaScript's shortest round-trip form.
export function toJson(source, bars, series) {
    const parts = Object.entries(series).map(
        ([k, s]) => `    ${JSON.stringify(k)}: {"begin": ${s.begin}, "values": [${Array.from(s.values).join(',')}]}`,
    );
    return `{"source": ${JSON.stringify(source)}, "bars": ${bars}, "series": {\n${parts.join(',\n')}\n}}\n`;
}

function usage() {
    return 'usage: node tests/reference/talib.mjs --out <dir> <candle-file>...';
}

export async function main(argv) {
    let outDir;
    const files = [];
    for (let i = 0; i < argv.length; ++i) {
        if (argv[i] === '--out') outDir = argv[++i];
        else if (argv[i].startsWith('--out=')) outDir = argv[i].slice(6);
        else if (argv[i] === '-h' || argv[i] === '--help') {
            console.log(usage());
            return 0;
        } else files.push(argv[i]);
    }
    if (!outDir || !files.length) {
        console.error(usage());
        return 2;
    }
    mkdirSync(outDir, { recursive: true });
    const ta = await Talib.create();
    for (const file of files) {
        const t0 = performance.now();
        const candles = readCandles(file);
        const series = computeSeries(ta, candles);
        const dest = join(outDir, `${basename(file)}.talib.json`);
        writeFileSync(dest, toJson(file, candles.close.length, series));
        const ms = (performance.now() - t0).toFixed(0);
        console.log(`${dest}: ${candles.close.length} bars, ${Object.keys(series).length} series, ${ms} ms`);
    }
    return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            console.error(`talib.mjs: ${e.message ?? e}`);
            process.exit(1);
        },
    );
}
