// keel's HTML backtest report in a real browser: `keel backtest` runs twice on a real recording
// (the bytes must not change), then headless Chromium (Debian's, driven by playwright-core) opens
// the page from disk with the network cut off. No console error or page error may occur, both
// charts must draw, and a screenshot of each chart must show more than a blank canvas.
// Usage: node report.test.mjs <keel binary> <shared data dir> <keel source dir>
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const [keel, data, source] = process.argv.slice(2);

// configs/replay-binance.yaml, with the recording wherever the data is.
function writeConfig(dir) {
  const text = readFileSync(join(source, 'configs/replay-binance.yaml'), 'utf8')
    .replaceAll('../../shared/data', data)
    .replaceAll('../strategies/', join(source, 'strategies') + '/');
  const file = join(dir, 'replay-binance.yaml');
  writeFileSync(file, text);
  return file;
}

// Decodes an 8-bit RGBA or RGB PNG (what Chromium writes) into its distinct colours.
function pngColours(buffer) {
  assert.equal(buffer.toString('latin1', 1, 4), 'PNG');
  let offset = 8, width = 0, height = 0, channels = 0;
  const idat = [];
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    const data = buffer.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth');
      channels = { 2: 3, 6: 4 }[data[9]];
      assert.ok(channels, `colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const previous = Buffer.alloc(stride), row = Buffer.alloc(stride);
  const colours = new Set();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? row[x - channels] : 0, b = previous[x];
      const c = x >= channels ? previous[x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      row[x] = v & 0xff;
    }
    for (let x = 0; x < stride; x += channels) colours.add(row.readUIntBE(x, 3));
    row.copy(previous);
  }
  return { width, height, colours: colours.size };
}

test('the backtest report is byte-identical across runs and draws both charts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-report-'));
  try {
    const config = writeConfig(dir);
    for (const run of ['a', 'b'])
      execFileSync(keel, ['backtest', config, '--report', join(dir, run)], { stdio: 'pipe' });
    for (const file of ['report.json', 'report.html'])
      assert.ok(readFileSync(join(dir, 'a', file)).equals(readFileSync(join(dir, 'b', file))),
                `${file} differs between two runs`);
    const report = JSON.parse(readFileSync(join(dir, 'a', 'report.json'), 'utf8'));
    assert.ok(report.equity.length > 2, 'an equity curve');

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      // Self-contained means no request leaves the page: refuse anything but the file itself.
      const requests = [];
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file://')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      const errors = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto('file://' + join(dir, 'a', 'report.html'));
      await page.waitForFunction(() =>
        document.querySelectorAll('#equity canvas').length > 0 &&
        document.querySelectorAll('#drawdown canvas').length > 0);
      await page.waitForTimeout(300);  // one animation frame or two for the first paint
      assert.deepEqual(errors, [], 'console or page errors');
      assert.deepEqual(requests, [], 'network requests from a self-contained page');
      for (const id of ['equity', 'drawdown']) {
        const png = await page.locator('#' + id).screenshot();
        const { width, height, colours } = pngColours(png);
        assert.ok(width > 300 && height > 200, `${id}: ${width}x${height}`);
        // A blank canvas has one colour; axes, labels and the series give dozens.
        assert.ok(colours > 20, `${id} chart looks empty (${colours} colours)`);
      }
      const trades = await page.locator('#trades tr').count();
      assert.equal(trades - 1, report.trades.length, 'one table row per trade');
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
