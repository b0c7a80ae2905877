/** @plowline/tracker-node against a loopback recording collector over real HTTP. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore, buildPageView, buildStructEvent, newTracker } from '@plowline/tracker-node';
import { startCollector, type RecordingCollector } from '../../../tests/support/collector.js';

describe('tracker-node', () => {
  let collector: RecordingCollector;
  let dir: string;
  beforeEach(async () => {
    collector = await startCollector();
    dir = mkdtempSync(join(tmpdir(), 'plowline-node-'));
  });
  afterEach(async () => {
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('batches POSTs by bufferSize and flushes the rest on shutdown', async () => {
    const t = newTracker({ endpoint: collector.url, namespace: 'srv1', appId: 'api', bufferSize: 3, flushIntervalMs: 0 });
    for (let i = 0; i < 7; i++) t.track(buildStructEvent({ category: 'c', action: `a${i}` }));
    await collector.waitForEvents(6);
    const result = await t.shutdown();
    expect(result).toMatchObject({ pending: 0, timedOut: false });
    expect(collector.requests.map((r) => r.events.length)).toEqual([3, 3, 1]);
    expect(collector.events().map((e) => e['se_ac'])).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    expect(collector.events()[0]).toMatchObject({ p: 'srv', tna: 'srv1', aid: 'api' });
    expect(() => t.track(buildStructEvent({ category: 'c', action: 'late' }))).toThrow(/shut down/);
  });

  it('sends on the flush interval without an explicit flush', async () => {
    const t = newTracker({ endpoint: collector.url, namespace: 'n', appId: 'a', bufferSize: 100, flushIntervalMs: 20 });
    t.track(buildPageView({ pageUrl: 'https://a.example/' }));
    await collector.waitForEvents(1);
    await t.shutdown();
  });

  it('retries a 503 and then delivers, keeping the eid', async () => {
    collector.statuses.push(503, 503);
    const t = newTracker({
      endpoint: collector.url, namespace: 'n', appId: 'a', bufferSize: 1, flushIntervalMs: 0,
      retry: { maxAttempts: 3, initialBackoffMs: 5, maxBackoffMs: 10 },
    });
    const [eid] = t.track(buildPageView({ pageUrl: 'https://a.example/' }));
    expect(await t.flush()).toMatchObject({ sent: 1, pending: 0 });
    expect(collector.events().map((e) => e['eid'])).toEqual([eid, eid, eid]);
    await t.shutdown();
  });

  it('treats an unreachable collector as retryable and reports pending', async () => {
    const t = newTracker({
      endpoint: 'http://127.0.0.1:9', namespace: 'n', appId: 'a', bufferSize: 10, flushIntervalMs: 0,
      retry: { maxAttempts: 2, initialBackoffMs: 1 }, requestTimeoutMs: 2000,
    });
    t.track(buildPageView({ pageUrl: 'u' }));
    expect(await t.flush()).toMatchObject({ sent: 0, pending: 1 });
    await t.close();
  });

  it('keeps unsent events in a FileStore for the next process', async () => {
    const path = join(dir, 'queue.json');
    const first = newTracker({
      endpoint: 'http://127.0.0.1:9', namespace: 'n', appId: 'a', bufferSize: 10, flushIntervalMs: 0,
      retry: { maxAttempts: 1 }, store: new FileStore(path),
    });
    const [eid] = first.track(buildPageView({ pageUrl: 'u' }));
    await first.close();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveLength(1);
    const second = newTracker({ endpoint: collector.url, namespace: 'n', appId: 'a', flushIntervalMs: 0, store: new FileStore(path) });
    await second.flush();
    expect(collector.events().map((e) => e['eid'])).toEqual([eid]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual([]);
    await second.shutdown();
  });

  it('a corrupt store file starts empty instead of crashing', () => {
    const path = join(dir, 'bad.json');
    const store = new FileStore(path);
    store.save([{ e: 'pv' }]);
    expect(store.load()).toEqual([{ e: 'pv' }]);
    rmSync(path);
    expect(new FileStore(path).load()).toEqual([]);
  });

  // flush(0) gives up before the connection is even accepted: the late connection must end too.
  it.each([0, 50])('flush(%i) returns when the collector hangs', async (timeoutMs) => {
    const hang = await startHangingServer();
    const t = newTracker({
      endpoint: hang.url, namespace: 'n', appId: 'a', bufferSize: 10, flushIntervalMs: 0,
      retry: { maxAttempts: 1 }, requestTimeoutMs: 3000,
    });
    t.track(buildPageView({ pageUrl: 'u' }));
    const r = await t.flush(timeoutMs);
    expect(r).toMatchObject({ timedOut: true, pending: 1 });
    await t.close();
    await hang.close(); // also ends a connection accepted only after flush gave up
  });

  it('close() aborts a request in flight instead of waiting for its timeout', async () => {
    const hang = await startHangingServer();
    const t = newTracker({
      endpoint: hang.url, namespace: 'n', appId: 'a', bufferSize: 10, flushIntervalMs: 0,
      retry: { maxAttempts: 1 }, requestTimeoutMs: 600_000,
    });
    t.track(buildPageView({ pageUrl: 'u' }));
    void t.flush();
    await hang.connected; // the request is on the wire and will never be answered
    await t.close(); // resolves only once the request has ended
    await hang.clientsGone; // the tracker closed its socket: nothing kept open
    expect(t.emitter.size).toBe(1); // unsent, still queued for a later process
    await hang.close();
  });
});

/** Accepts connections and never answers; close() ends every connection, however late. */
async function startHangingServer(): Promise<{
  url: string;
  connected: Promise<void>;
  clientsGone: Promise<void>;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let closing = false;
  let onConnect: () => void = () => undefined;
  let onGone: () => void = () => undefined;
  const connected = new Promise<void>((r) => (onConnect = r));
  const clientsGone = new Promise<void>((r) => (onGone = r));
  const server = createServer((s) => {
    if (closing) return void s.destroy();
    sockets.add(s);
    s.on('close', () => {
      sockets.delete(s);
      if (sockets.size === 0) onGone();
    });
    onConnect();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connected,
    clientsGone,
    close: async () => {
      closing = true;
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => server.close(r));
    },
  };
}
