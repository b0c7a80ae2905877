// `npm run bench`: bundle size, track() cost in Chromium, and Node events/s to a loopback
// collector, each next to a baseline measured in the same run. Prints figures; asserts nothing.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleSizes } from '../scripts/bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Loopback collector: counts events, answers 200. */
async function startCollector() {
  let events = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') events += JSON.parse(Buffer.concat(chunks).toString()).data.length;
      else if (req.method === 'GET') events += 1;
      res.writeHead(req.method === 'OPTIONS' ? 204 : 200, {
        'Access-Control-Allow-Origin': req.headers.origin ?? '*',
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Headers': 'Content-Type',
      });
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    count: () => events,
    reset: () => (events = 0),
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

function fmt(n, digits = 1) {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

// 1. Bundle size ---------------------------------------------------------------------------
const { raw, gzip } = bundleSizes();
console.log(`bundle size (core + browser, esbuild minified): ${fmt(raw / 1024)} kB raw, ${fmt(gzip / 1024, 2)} kB gzipped (goal <= 15 kB: ${gzip <= 15 * 1024 ? 'met' : 'MISSED'})`);

// 2. Node events/s ---------------------------------------------------------------------------
const { newTracker, buildStructEvent } = await import('@plowline/tracker-node');
const collector = await startCollector();
const N = 20_000;
const BATCH = 100;

async function nodeTracker() {
  collector.reset();
  const t = newTracker({ endpoint: collector.url, namespace: 'bench', appId: 'bench', bufferSize: BATCH, flushIntervalMs: 0 });
  const start = performance.now();
  for (let i = 0; i < N; i++) t.track(buildStructEvent({ category: 'bench', action: 'tick', label: `n${i}`, value: i }));
  await t.shutdown(60_000);
  const secs = (performance.now() - start) / 1000;
  if (collector.count() !== N) throw new Error(`collector got ${collector.count()} of ${N}`);
  return N / secs;
}

async function rawFetch() {
  // Baseline: the same events, pre-built, POSTed in batches of BATCH by a bare fetch loop.
  collector.reset();
  const start = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const data = [];
    for (let j = i; j < i + BATCH; j++) data.push({ e: 'se', se_ca: 'bench', se_ac: 'tick', se_la: `n${j}`, se_va: String(j), tv: 'raw', p: 'srv', eid: crypto.randomUUID(), dtm: String(Date.now()), stm: String(Date.now()) });
    const res = await fetch(`${collector.url}/com.snowplowanalytics.snowplow/tp2`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data }),
    });
    await res.arrayBuffer();
  }
  const secs = (performance.now() - start) / 1000;
  if (collector.count() !== N) throw new Error(`collector got ${collector.count()} of ${N}`);
  return N / secs;
}

await nodeTracker(); // warm-up
await rawFetch();
const best = async (fn) => Math.max(await fn(), await fn(), await fn());
const trackerRate = await best(nodeTracker);
const rawRate = await best(rawFetch);
console.log(`node: ${fmt(trackerRate, 0)} events/s through @plowline/tracker-node (POST, batches of ${BATCH}, loopback); raw fetch loop ${fmt(rawRate, 0)} events/s; ratio ${fmt(trackerRate / rawRate, 2)}`);

// 3. track() in Chromium ---------------------------------------------------------------------
if (!existsSync(CHROMIUM)) {
  console.log(`browser: skipped (no Chromium at ${CHROMIUM})`);
} else {
  const { chromium } = await import('playwright-core');
  const bundle = readFileSync(`${root}packages/tracker-browser/dist/bundle/plowline-tracker.iife.js`, 'utf8');
  const site = createServer((req, res) => {
    if (req.url === '/p.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(bundle);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>bench</title><script src="/p.js"></script>');
    }
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const profile = mkdtempSync(join(tmpdir(), 'plowline-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${site.address().port}/`);
  const M = 500; // below the default maxQueueSize (1000): every call queues its event
  const r = await page.evaluate(async ({ url, M }) => {
    const t = plowline.newTracker({ namespace: 'bench', appId: 'bench', collectorUrl: url, bufferSize: 25 });
    const measure = (fn) => {
      const s = performance.now();
      for (let i = 0; i < M; i++) fn(i);
      return ((performance.now() - s) * 1000) / M; // µs per call
    };
    const trackCall = (i) => t.trackStructEvent({ category: 'bench', action: 'tick', label: `n${i}`, value: i });
    // Baseline: what any tracker must do at least — build the params, serialise, persist.
    const baseline = (i) => {
      const p = { e: 'se', se_ca: 'bench', se_ac: 'tick', se_la: `n${i}`, se_va: String(i), eid: crypto.randomUUID(), dtm: String(Date.now()) };
      localStorage.setItem('bench_baseline', JSON.stringify([p]));
    };
    measure(trackCall);
    measure(baseline); // warm-up
    const track = Math.min(measure(trackCall), measure(trackCall), measure(trackCall));
    const base = Math.min(measure(baseline), measure(baseline), measure(baseline));
    await t.flush();
    return { track, base };
  }, { url: collector.url, M });
  console.log(`browser: track() ${fmt(r.track)} µs per call in Chromium (struct event, session + web_page entities, base64, localStorage queue, bufferSize 25); baseline (build + JSON + localStorage.setItem) ${fmt(r.base)} µs; ratio ${fmt(r.track / r.base, 2)}`);
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  await new Promise((r) => site.close(r));
}

await collector.close();
