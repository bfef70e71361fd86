// Candle readers. Files are read where they are; nothing is copied.
//
// Formats:
//   JSON: an array of arrays [[open_time_ms, open, high, low, close, volume], ...]
//         (numbers or numeric strings).
//   CSV with a header naming at least timestamp,open,high,low,close[,volume];
//         timestamp is epoch milliseconds/seconds or a date "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC).
//   CSV without a header whose rows start open_time_ms,open,high,low,close,volume
//         (Binance Vision kline dumps; extra columns are ignored).
//   JSON Kraken REST OHLC answer: result.<PAIR> = [[time_s, open, high, low, close, vwap, volume, count], ...].
//
// Each candle is { time, open, high, low, close, volume } with time in epoch ms.

import { readFileSync } from 'node:fs';

function num(v, what, where) {
  const x = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(x)) throw new Error(`${where}: ${what} is not a number: ${JSON.stringify(v)}`);
  return x;
}

function parseTime(v, where) {
  const s = String(v).trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const x = Number(s);
    return x < 1e11 ? x * 1000 : x; // seconds -> ms
  }
  const m = s.match(/^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]00:?00)?$/);
  if (!m) throw new Error(`${where}: unreadable timestamp ${JSON.stringify(v)}`);
  const ms = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + ms;
}

/**
 * Kraken's REST OHLC answer {"error": [], "result": {"<PAIR>": [[time_s, open, high, low, close, vwap, volume, count], ...], "last": ...}}.
 */
function krakenCandles(data, name) {
  const pairs = Object.keys(data.result).filter((k) => Array.isArray(data.result[k]));
  if (pairs.length !== 1) throw new Error(`${name}: expected one pair in a Kraken OHLC result, found ${pairs.length}`);
  return data.result[pairs[0]].map((row, i) => {
    const where = `${name}[${i}]`;
    return {
      time: num(row[0], 'time', where) * 1000,
      open: num(row[1], 'open', where),
      high: num(row[2], 'high', where),
      low: num(row[3], 'low', where),
      close: num(row[4], 'close', where),
      volume: num(row[6], 'volume', where),
    };
  });
}

/** Parses the JSON array-of-arrays format (or a Kraken REST OHLC answer). */
export function parseJsonCandles(text, name = 'json') {
  const data = JSON.parse(text);
  if (data && !Array.isArray(data) && typeof data.result === 'object' && data.result !== null) return krakenCandles(data, name);
  if (!Array.isArray(data)) throw new Error(`${name}: expected a JSON array of [time, open, high, low, close, volume]`);
  return data.map((row, i) => {
    const where = `${name}[${i}]`;
    if (!Array.isArray(row) || row.length < 5) throw new Error(`${where}: expected [time, open, high, low, close, volume]`);
    return {
      time: num(row[0], 'time', where),
      open: num(row[1], 'open', where),
      high: num(row[2], 'high', where),
      low: num(row[3], 'low', where),
      close: num(row[4], 'close', where),
      volume: row.length > 5 ? num(row[5], 'volume', where) : 0,
    };
  });
}

/** Parses CSV, with the header `timestamp,open,high,low,close,volume` or without a header. */
export function parseCsvCandles(text, name = 'csv') {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const first = lines[0].split(',').map((s) => s.trim().toLowerCase());
  let cols;
  let start;
  if (first.includes('open') && first.includes('close')) {
    const idx = (n, alts = []) => {
      for (const k of [n, ...alts]) {
        const j = first.indexOf(k);
        if (j >= 0) return j;
      }
      return -1;
    };
    cols = {
      time: idx('timestamp', ['time', 'open_time', 'date']),
      open: idx('open'), high: idx('high'), low: idx('low'), close: idx('close'),
      volume: idx('volume'),
    };
    for (const k of ['time', 'open', 'high', 'low', 'close']) {
      if (cols[k] < 0) throw new Error(`${name}: header lacks a ${k} column`);
    }
    start = 1;
  } else {
    cols = { time: 0, open: 1, high: 2, low: 3, close: 4, volume: 5 };
    start = 0;
  }
  const out = [];
  for (let i = start; i < lines.length; i++) {
    const f = lines[i].split(',');
    const where = `${name}:${i + 1}`;
    out.push({
      time: parseTime(f[cols.time], where),
      open: num(f[cols.open], 'open', where),
      high: num(f[cols.high], 'high', where),
      low: num(f[cols.low], 'low', where),
      close: num(f[cols.close], 'close', where),
      volume: cols.volume >= 0 && f[cols.volume] !== undefined ? num(f[cols.volume], 'volume', where) : 0,
    });
  }
  return out;
}

/** Reads a candle file by extension (.json or .csv). */
export function readCandles(path) {
  const text = readFileSync(path, 'utf8');
  if (/\.json$/i.test(path)) return parseJsonCandles(text, path);
  if (/\.csv$/i.test(path)) return parseCsvCandles(text, path);
  const t = text.trimStart();
  return t.startsWith('[') ? parseJsonCandles(text, path) : parseCsvCandles(text, path);
}
