#!/usr/bin/env node
/**
 * Conformance driver for @plowline/tracker-browser: the tracker runs in headless Chromium
 * (Debian's /usr/bin/chromium through playwright-core); this process speaks the driver protocol
 * (spec/driver v1, JSON lines) and forwards each request to the page. The page comes from a
 * loopback server of this driver; CORS is off (--disable-web-security) so the tracker reaches
 * the harness's collector exactly as configured, whatever headers it answers with.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

type Obj = Record<string, unknown>;
type Answer = { ok: true; value?: unknown } | { ok: false; kind: 'invalid_argument' | 'unsupported' | 'internal'; message: string };
type Reply = Obj & { status: 'ok' | 'skipped' | 'errored' };

const VERSION = '0.1.0';
const PAGE_BUNDLE = fileURLToPath(new URL('../../../packages/tracker-browser/dist/bundle/driver-page.iife.js', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const CAPABILITIES = [
  'get', 'post', 'base64', 'custom-paths', 'batching-count', 'batching-bytes', 'retry', 'retry-after',
  'injected-clock', 'injected-event-id', 'subject', 'subject-per-event', 'contexts', 'true-timestamp',
  'event-page-view', 'event-page-ping', 'event-structured', 'event-self-describing',
  'event-screen-view', 'event-screen-view-legacy', 'event-link-click', 'event-submit-form',
  'event-change-form', 'event-focus-form', 'event-site-search', 'event-timing',
  'event-ecommerce-transaction', 'event-add-to-cart', 'event-remove-from-cart',
];

class ProtocolError extends Error {}

let server: Server | undefined;
const sockets = new Set<Socket>();
let origin = '';
let context: BrowserContext | undefined;
let profile = '';
let page: Page | undefined;
let configured = false;

async function ensureBrowser(): Promise<void> {
  if (context) return;
  const bundle = readFileSync(PAGE_BUNDLE, 'utf8');
  server = createServer((req, res) => {
    if (req.url === '/driver.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(bundle);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html><head><meta charset="utf-8"><title>plowline driver</title><script src="/driver.js"></script></head><body></body></html>');
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  profile = mkdtempSync(join(tmpdir(), 'plowline-driver-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-web-security',
    ],
  });
}

async function inPage(fn: string, arg: Obj): Promise<Answer> {
  if (!page) throw new ProtocolError(`${fn} before configure`);
  return page.evaluate(([f, a]) => (globalThis as unknown as Record<string, Record<string, (x: unknown) => unknown>>)['plowlineDriver']![f]!(a), [fn, arg] as const) as Promise<Answer>;
}

function fromAnswer(a: Answer, ok: (value: unknown) => Omit<Reply, 'seq'>): Omit<Reply, 'seq'> {
  if (a.ok) return ok(a.value);
  if (a.kind === 'unsupported') return { status: 'skipped', reason: a.message };
  return { status: 'errored', message: a.message, error_type: a.kind };
}

async function closePage(): Promise<void> {
  if (page) {
    await inPage('reset', {}).catch(() => undefined);
    await page.close().catch(() => undefined);
  }
  page = undefined;
  configured = false;
}

const handlers: Record<string, (req: Obj) => Promise<Omit<Reply, 'seq'>>> = {
  async hello(req) {
    if (req['protocol'] !== 1) return { status: 'skipped', reason: `protocol ${String(req['protocol'])} not spoken (only 1)` };
    return {
      status: 'ok',
      protocol: 1,
      implementation: { name: 'plowline-tracker-browser', version: VERSION, language: 'typescript', tracker_version: `js-${VERSION}` },
      capabilities: CAPABILITIES,
    };
  },
  async configure(req) {
    if (req['request_timeout_ms'] !== undefined) return { status: 'skipped', reason: 'no request timeout in the browser tracker', capability: 'request-timeout' };
    if (req['persistence'] !== undefined) return { status: 'skipped', reason: 'the browser keeps its queue in localStorage, not a file', capability: 'persistence' };
    await closePage();
    await ensureBrowser();
    page = await context!.newPage();
    await page.goto(origin + '/');
    await page.evaluate(() => (globalThis as unknown as { localStorage: { clear(): void } }).localStorage.clear());
    const a = await inPage('configure', req);
    configured = a.ok;
    return fromAnswer(a, () => ({ status: 'ok' }));
  },
  async track(req) {
    if (!configured) throw new ProtocolError('track before configure');
    return fromAnswer(await inPage('track', req), (ids) => ({ status: 'ok', event_ids: ids as string[] }));
  },
  async flush(req) {
    if (!configured) throw new ProtocolError('flush before configure');
    const timeout = typeof req['timeout_ms'] === 'number' ? req['timeout_ms'] : undefined;
    const run = inPage('flush', {});
    const a = timeout === undefined ? await run : await Promise.race([run, new Promise<Answer>((r) => setTimeout(() => r({ ok: true, value: false }), timeout))]);
    return fromAnswer(a, (delivered) => ({ status: 'ok', delivered: delivered as boolean }));
  },
  async reset() {
    await closePage();
    return { status: 'ok' };
  },
  async stop() {
    await closePage();
    return { status: 'ok' };
  },
};

async function handle(line: string): Promise<Reply & { seq: number | null }> {
  let req: Obj;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    req = parsed as Obj;
  } catch (error) {
    return { seq: null, status: 'errored', message: `unreadable request: ${(error as Error).message}`, error_type: 'protocol' };
  }
  const seq = typeof req['seq'] === 'number' ? req['seq'] : null;
  const handler = typeof req['cmd'] === 'string' ? handlers[req['cmd']] : undefined;
  if (!handler) return { seq, status: 'errored', message: `unknown command ${JSON.stringify(req['cmd'])}`, error_type: 'protocol' };
  try {
    return { seq, ...(await handler(req)) } as Reply & { seq: number | null };
  } catch (error) {
    const e = error as Error;
    return { seq, status: 'errored', message: e.message || String(e), error_type: e instanceof ProtocolError ? 'protocol' : 'internal' };
  }
}

const debug = process.env['PLOWLINE_DRIVER_DEBUG'] ? (m: string): void => void process.stderr.write(`${Date.now()} ${m}\n`) : (): void => undefined;

async function shutdown(): Promise<void> {
  await closePage();
  debug('page closed');
  await context?.close().catch(() => undefined);
  context = undefined;
  debug('context closed');
  if (profile) rmSync(profile, { recursive: true, force: true });
  debug('profile removed');
  // Chromium may leave a speculative socket open that never sends a request; do not wait for it.
  server?.close();
  for (const socket of sockets) socket.destroy();
  debug('server closed');
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  const reply = await handle(line);
  process.stdout.write(JSON.stringify(reply) + '\n');
  if (reply.status === 'ok' && (JSON.parse(line) as Obj)['cmd'] === 'stop') break;
}
rl.close();
await shutdown();
debug('main done');
// Exit now rather than when the last handle lets go (Playwright can keep one for seconds);
// every reply has been written by then.
await new Promise<void>((r) => process.stdout.write('', () => r()));
process.exit(0);
