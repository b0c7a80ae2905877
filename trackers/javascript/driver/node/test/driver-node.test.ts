/** The Node driver as a child process: hello, configure, track a page view, flush, stop. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type RecordingCollector } from '../../../tests/support/collector.js';
import { compareWire, eventIds, expectedEvents, loadTrackerVectors } from '../../../tests/support/vectors.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

class Driver {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  private seq = 0;
  readonly exited: Promise<number | null>;

  constructor() {
    this.proc = spawn(process.execPath, [MAIN], { stdio: 'pipe' });
    createInterface({ input: this.proc.stdout }).on('line', (l) => {
      this.lines.push(l);
      this.waiters.splice(0).forEach((w) => w());
    });
    this.exited = new Promise((r) => this.proc.on('exit', (code) => r(code)));
  }

  async send(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    const seq = this.seq++;
    this.proc.stdin.write(JSON.stringify({ ...req, seq }) + '\n');
    while (this.lines.length === 0) await new Promise<void>((r) => this.waiters.push(r));
    const reply = JSON.parse(this.lines.shift()!) as Record<string, unknown>;
    expect(reply['seq']).toBe(seq);
    return reply;
  }

  sendRaw(line: string): void {
    this.proc.stdin.write(line + '\n');
  }

  async next(): Promise<Record<string, unknown>> {
    while (this.lines.length === 0) await new Promise<void>((r) => this.waiters.push(r));
    return JSON.parse(this.lines.shift()!) as Record<string, unknown>;
  }

  kill(): void {
    this.proc.kill();
  }
}

describe('driver/node', () => {
  let collector: RecordingCollector;
  let driver: Driver;
  beforeEach(async () => {
    collector = await startCollector();
    driver = new Driver();
  });
  afterEach(async () => {
    driver.kill();
    await collector.close();
  });

  it('answers hello with its capabilities', async () => {
    const hello = await driver.send({ cmd: 'hello', protocol: 1 });
    expect(hello['status']).toBe('ok');
    expect(hello['protocol']).toBe(1);
    expect((hello['implementation'] as Record<string, unknown>)['name']).toBe('plowline-tracker-node');
    expect(hello['capabilities']).toContain('event-page-view');
  });

  it('sends a page view and exits 0 on stop', async () => {
    await driver.send({ cmd: 'hello', protocol: 1 });
    const conf = await driver.send({
      cmd: 'configure',
      endpoint: collector.url,
      method: 'POST',
      tracker: { namespace: 'ns1', app_id: 'shop', platform: 'web', encode_base64: false },
      subject: { user_id: 'u-1' },
      clock_ms: 1665398554084,
    });
    expect(conf).toEqual({ seq: 1, status: 'ok' });
    const track = await driver.send({
      cmd: 'track',
      event: { type: 'page_view', page_url: 'https://a.example/p', page_title: 'P' },
      event_id: '2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e',
    });
    expect(track).toEqual({ seq: 2, status: 'ok', event_ids: ['2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e'] });
    expect(await driver.send({ cmd: 'flush', timeout_ms: 5000 })).toEqual({ seq: 3, status: 'ok', delivered: true });
    expect(collector.requests).toHaveLength(1);
    const req = collector.requests[0]!;
    expect(req.path).toBe('/com.snowplowanalytics.snowplow/tp2');
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(req.events[0]).toMatchObject({
      e: 'pv', url: 'https://a.example/p', page: 'P', tna: 'ns1', aid: 'shop', p: 'web', uid: 'u-1',
      eid: '2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e', dtm: '1665398554084', stm: '1665398554084',
    });
    expect(await driver.send({ cmd: 'stop' })).toEqual({ seq: 4, status: 'ok' });
    expect(await driver.exited).toBe(0);
  });

  it('answers bad input with errored, never a crash', async () => {
    driver.sendRaw('{not json');
    expect(await driver.next()).toMatchObject({ seq: null, status: 'errored', error_type: 'protocol' });
    expect(await driver.send({ cmd: 'track', event: { type: 'page_view', page_url: 'x' } })).toMatchObject({
      status: 'errored', error_type: 'protocol',
    });
    await driver.send({
      cmd: 'configure', endpoint: collector.url, method: 'GET',
      tracker: { namespace: 'ns1', app_id: 'shop', platform: 'web', encode_base64: true },
    });
    expect(await driver.send({ cmd: 'track', event: { type: 'page_view' } })).toMatchObject({
      status: 'errored', error_type: 'invalid_argument',
    });
    expect(await driver.send({ cmd: 'track', event: { type: 'teleport' } })).toMatchObject({ status: 'skipped' });
    expect(await driver.send({ cmd: 'stop' })).toMatchObject({ status: 'ok' });
    expect(await driver.exited).toBe(0);
  });

  it('retries a 503 and keeps eid, seeded ids', async () => {
    collector.statuses.push(503);
    await driver.send({
      cmd: 'configure', endpoint: collector.url, method: 'GET', event_id_seed: 7,
      tracker: { namespace: 'ns1', app_id: 'shop', platform: 'srv', encode_base64: true },
      retry: { max_attempts: 3, initial_backoff_ms: 10, max_backoff_ms: 20, multiplier: 2, jitter: false },
    });
    await driver.send({ cmd: 'track', event: { type: 'structured', category: 'c', action: 'a' } });
    expect(await driver.send({ cmd: 'flush', timeout_ms: 5000 })).toMatchObject({ delivered: true });
    expect(collector.requests.map((r) => r.path)).toEqual(['/i', '/i']);
    expect(collector.events().map((e) => e['eid'])).toEqual([
      '00000007-0000-4000-8000-000000000000', '00000007-0000-4000-8000-000000000000',
    ]);
    await driver.send({ cmd: 'stop' });
  });

  it('passes every tracker vector over real HTTP', async () => {
    const failures: string[] = [];
    await driver.send({ cmd: 'hello', protocol: 1 });
    for (const v of loadTrackerVectors()) {
      collector.requests.length = 0;
      const conf = await driver.send({
        cmd: 'configure', endpoint: collector.url, method: v.method, tracker: v.tracker, clock_ms: v.clock_ms,
        ...(v.subject ? { subject: v.subject } : {}),
      });
      expect(conf['status'], v.id).toBe('ok');
      const track = await driver.send({ cmd: 'track', event: v.event, event_ids: eventIds(v) });
      expect(track, v.id).toMatchObject({ status: 'ok', event_ids: eventIds(v) });
      expect(await driver.send({ cmd: 'flush', timeout_ms: 10_000 }), v.id).toMatchObject({ status: 'ok', delivered: true });
      const wire = collector.events();
      const expected = expectedEvents(v);
      if (wire.length !== expected.length) failures.push(`${v.id}: ${wire.length} wire events, expected ${expected.length}`);
      expected.forEach((exp, i) => {
        const problems = compareWire(wire[i] ?? {}, exp);
        if (problems.length) failures.push(`${v.id}[${i}]: ${problems.join('; ')}`);
      });
      await driver.send({ cmd: 'reset' });
    }
    expect(failures).toEqual([]);
    await driver.send({ cmd: 'stop' });
  });
});
