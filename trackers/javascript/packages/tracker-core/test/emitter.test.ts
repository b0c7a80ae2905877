import { describe, expect, it } from 'vitest';
import { Emitter, MemoryStore, jsonStringSize, parseRetryAfter, PAYLOAD_DATA_SCHEMA, type EmitterConfig, type SendRequest } from '@plowline/tracker-core';

function setup(statuses: (number | 'network')[] = [], config: Partial<EmitterConfig> = {}) {
  const requests: SendRequest[] = [];
  const sleeps: number[] = [];
  let now = 1000;
  const emitter = new Emitter({
    endpoint: 'http://c.test/prefix/',
    transport: async (r) => {
      requests.push(r);
      now += 1;
      const s = statuses.shift() ?? 200;
      if (s === 'network') throw new Error('ECONNREFUSED');
      return s;
    },
    clock: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    bufferSize: 100,
    ...config,
  });
  return { emitter, requests, sleeps, events: (r: SendRequest) => (JSON.parse(r.body!) as { data: Record<string, string>[] }).data };
}

const ev = (i: number): Record<string, string> => ({ e: 'se', se_ca: 'c', se_ac: String(i), eid: `id-${i}`, tv: 'js', p: 'web' });

describe('Emitter', () => {
  it('POSTs a payload_data 1-0-4 batch with stm stamped at send time', async () => {
    const { emitter, requests, events } = setup();
    emitter.add(ev(1));
    emitter.add(ev(2));
    expect(requests).toHaveLength(0);
    expect(await emitter.flush()).toEqual({ sent: 2, rejected: 0, pending: 0 });
    expect(requests).toHaveLength(1);
    const r = requests[0]!;
    expect(r.url).toBe('http://c.test/prefix/com.snowplowanalytics.snowplow/tp2');
    expect(r.headers['Content-Type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(r.body!).schema).toBe(PAYLOAD_DATA_SCHEMA);
    expect(events(r).map((e) => [e['eid'], e['stm']])).toEqual([['id-1', '1000'], ['id-2', '1000']]);
  });

  it('sends GET /i one event per request, URL-encoded', async () => {
    const { emitter, requests } = setup([], { method: 'GET' });
    emitter.add({ e: 'pv', url: 'https://a.example/p?q=1&r=ü', eid: 'x' });
    emitter.add(ev(2));
    await emitter.flush();
    expect(requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    const q = new URL(requests[0]!.url).searchParams;
    expect(new URL(requests[0]!.url).pathname).toBe('/prefix/i');
    expect(q.get('url')).toBe('https://a.example/p?q=1&r=ü');
    expect(q.get('stm')).toBe('1000');
    expect(requests[0]!.body).toBeUndefined();
  });

  it('sends by itself once bufferSize events wait', async () => {
    const { emitter, requests } = setup([], { bufferSize: 2 });
    emitter.add(ev(1));
    expect(requests).toHaveLength(0);
    emitter.add(ev(2));
    await emitter.flush();
    expect(requests).toHaveLength(1);
  });

  it('splits POST batches at maxPostBytes and maxEventsPerRequest', async () => {
    const big = (i: number) => ({ ...ev(i), se_la: 'x'.repeat(300) });
    const { emitter, requests, events } = setup([], { maxPostBytes: 1000 });
    for (let i = 0; i < 7; i++) emitter.add(big(i));
    await emitter.flush();
    expect(requests.length).toBeGreaterThan(1);
    for (const r of requests) expect(Buffer.byteLength(r.body!)).toBeLessThanOrEqual(1000);
    expect(requests.flatMap((r) => events(r).map((e) => e['eid']))).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `id-${i}`));

    const counted = setup([], { maxEventsPerRequest: 3 });
    for (let i = 0; i < 7; i++) counted.emitter.add(ev(i));
    await counted.emitter.flush();
    expect(counted.requests.map((r) => r.events)).toEqual([3, 3, 1]);
  });

  it('sizes JSON exactly, escapes included (property)', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = ['a', '"', '\\', '\n', '\u0001', 'é', '日', '🚀', '\ud800', '\udc00', '/', '<'];
    for (let i = 0; i < 300; i++) {
      let str = '';
      for (let j = rand(30); j > 0; j--) str += alphabet[rand(alphabet.length)];
      expect(jsonStringSize(str), JSON.stringify(str)).toBe(Buffer.byteLength(JSON.stringify(str)));
    }
  });

  it('never builds a POST body over maxPostBytes from escape-heavy events', async () => {
    const heavy = (i: number) => ({ ...ev(i), co: JSON.stringify({ schema: 'iglu:a/b/jsonschema/1-0-0', data: { q: '"'.repeat(50) } }) });
    const { emitter, requests } = setup([], { maxPostBytes: 1200 });
    for (let i = 0; i < 20; i++) emitter.add(heavy(i));
    await emitter.flush();
    expect(requests.length).toBeGreaterThan(2);
    for (const r of requests) expect(Buffer.byteLength(r.body!)).toBeLessThanOrEqual(1200);
  });

  it('sends an event bigger than maxPostBytes alone', async () => {
    const { emitter, requests } = setup([], { maxPostBytes: 200 });
    emitter.add({ ...ev(1), se_la: 'y'.repeat(500) });
    emitter.add(ev(2));
    await emitter.flush();
    expect(requests.map((r) => r.events)).toEqual([1, 1]);
  });

  it('retries 5xx, 429 and network errors with exponential back-off, same eid, new stm', async () => {
    const { emitter, requests, sleeps, events } = setup([503, 'network', 429], {
      retry: { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 250, multiplier: 2, jitter: false },
    });
    emitter.add(ev(1));
    expect(await emitter.flush()).toEqual({ sent: 1, rejected: 0, pending: 0 });
    expect(requests).toHaveLength(4);
    expect(sleeps).toEqual([100, 200, 250]);
    expect(requests.map((r) => events(r)[0]!['eid'])).toEqual(['id-1', 'id-1', 'id-1', 'id-1']);
    expect(requests.map((r) => events(r)[0]!['stm'])).toEqual(['1000', '1001', '1002', '1003']);
  });

  it('drops a batch the collector refuses with a 4xx (no retry)', async () => {
    const dropped: string[] = [];
    const { emitter, requests } = setup([400], { onDrop: (p, why) => dropped.push(`${p.length}:${why}`) });
    emitter.add(ev(1));
    expect(await emitter.flush()).toEqual({ sent: 0, rejected: 1, pending: 0 });
    expect(requests).toHaveLength(1);
    expect(dropped).toEqual(['1:rejected by collector']);
  });

  it('keeps events queued (and stored) when retries run out', async () => {
    const store = new MemoryStore();
    const { emitter, requests } = setup([500, 500], { retry: { maxAttempts: 2, initialBackoffMs: 1 }, store });
    emitter.add(ev(1));
    expect(await emitter.flush()).toEqual({ sent: 0, rejected: 0, pending: 1 });
    expect(requests).toHaveLength(2);
    expect(store.load()).toHaveLength(1);
    // A later emitter on the same store sends it.
    const later = setup([], { store });
    expect(later.emitter.size).toBe(1);
    expect(await later.emitter.flush()).toMatchObject({ sent: 1, pending: 0 });
    expect(store.load()).toEqual([]);
  });

  it('drops new events beyond maxQueueSize', () => {
    const drops: number[] = [];
    const { emitter } = setup([], { maxQueueSize: 2, onDrop: (p) => drops.push(p.length) });
    expect([emitter.add(ev(1)), emitter.add(ev(2)), emitter.add(ev(3))]).toEqual([true, true, false]);
    expect(drops).toEqual([1]);
  });

  it('close() interrupts a back-off and starts no further request', async () => {
    let wake: (() => void) | undefined;
    const requests: SendRequest[] = [];
    const emitter = new Emitter({
      endpoint: 'http://c.test',
      transport: async (r) => {
        requests.push(r);
        return 503;
      },
      sleep: () => new Promise<void>((r) => (wake = r)),
      retry: { maxAttempts: 10 },
    });
    emitter.add(ev(1));
    const flushing = emitter.flush();
    await new Promise((r) => setTimeout(r, 5));
    await emitter.close();
    expect((await flushing).pending).toBe(1);
    wake?.();
    expect(requests).toHaveLength(1);
  });

  it('sends events added while a request is in flight, in order', async () => {
    const { emitter, requests, events } = setup([], { bufferSize: 1, maxEventsPerRequest: 1 });
    for (let i = 0; i < 5; i++) emitter.add(ev(i));
    await emitter.flush();
    expect(requests.map((r) => events(r)[0]!['eid'])).toEqual(['id-0', 'id-1', 'id-2', 'id-3', 'id-4']);
  });

  it('rejects a bad method or retry policy', () => {
    expect(() => setup([], { method: 'PUT' as 'GET' })).toThrow(TypeError);
    expect(() => setup([], { retry: { maxAttempts: 0 } })).toThrow(TypeError);
  });
});

describe('Emitter batching while a request is on the wire', () => {
  it('keeps events tracked during a send for the next full batch (conformance: batch-count-sends-when-full)', async () => {
    let release: () => void = () => undefined;
    const sizes: number[] = [];
    const emitter = new Emitter({
      endpoint: 'http://c.test',
      bufferSize: 3,
      transport: async (r) => {
        sizes.push(r.events);
        if (sizes.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return 200;
      },
    });
    for (let i = 1; i <= 3; i++) emitter.add(ev(i));
    await new Promise((resolve) => setTimeout(resolve, 0)); // the first batch is on the wire
    emitter.add(ev(4));
    emitter.add(ev(5));
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sizes).toEqual([3]); // events 4 and 5 wait for a third, not sent one by one
    emitter.add(ev(6));
    await emitter.flush();
    expect(sizes).toEqual([3, 3]);
  });

  it('sends every event of a full buffer as GETs (conformance: batch-count-get)', async () => {
    const { emitter, requests } = setup([], { method: 'GET', bufferSize: 3 });
    for (let i = 1; i <= 3; i++) emitter.add(ev(i));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(requests).toHaveLength(3);
  });
});

describe('Retry-After', () => {
  it('parses delta-seconds and HTTP dates, refusing anything else', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter(' 0 ', 0)).toBe(0);
    const now = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:40 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:30 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('1994-11-06', now)).toBeUndefined();
  });

  function withRetryAfter(honour: boolean) {
    const sleeps: number[] = [];
    const answers = [{ status: 503, retryAfter: '7' }, { status: 200 }];
    const emitter = new Emitter({
      endpoint: 'http://c.test',
      bufferSize: 10,
      retry: { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 100, multiplier: 2, jitter: false, honourRetryAfter: honour },
      transport: async () => answers.shift() ?? 200,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    return { emitter, sleeps };
  }

  it('waits as Retry-After says when honoured', async () => {
    const { emitter, sleeps } = withRetryAfter(true);
    emitter.add(ev(1));
    expect(await emitter.flush()).toEqual({ sent: 1, rejected: 0, pending: 0 });
    expect(sleeps).toEqual([7000]);
  });

  it('uses the back-off when Retry-After is not honoured', async () => {
    const { emitter, sleeps } = withRetryAfter(false);
    emitter.add(ev(1));
    await emitter.flush();
    expect(sleeps).toEqual([20]);
  });
});
