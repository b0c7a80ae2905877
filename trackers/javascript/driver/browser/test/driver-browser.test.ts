/** The browser driver as a child process: hello, then vectors-shaped tracking from Chromium. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireChromium, SKIP_BROWSER } from '../../../tests/support/browser.js';
import { startCollector, type RecordingCollector } from '../../../tests/support/collector.js';
import { compareWire, eventIds, expectedEvents, loadTrackerVectors } from '../../../tests/support/vectors.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe.skipIf(SKIP_BROWSER)('driver/browser', () => {
  let proc: ChildProcessWithoutNullStreams;
  let collector: RecordingCollector;
  const lines: string[] = [];
  let waiters: (() => void)[] = [];
  let seq = 0;
  let exited: Promise<number | null>;

  async function send(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    const s = seq++;
    proc.stdin.write(JSON.stringify({ ...req, seq: s }) + '\n');
    while (lines.length === 0) await new Promise<void>((r) => waiters.push(r));
    const reply = JSON.parse(lines.shift()!) as Record<string, unknown>;
    expect(reply['seq']).toBe(s);
    return reply;
  }

  beforeAll(async () => {
    requireChromium();
    collector = await startCollector();
    proc = spawn(process.execPath, [MAIN], { stdio: 'pipe' });
    createInterface({ input: proc.stdout }).on('line', (l) => {
      lines.push(l);
      waiters.splice(0).forEach((w) => w());
    });
    exited = new Promise((r) => proc.on('exit', (code) => r(code)));
  });
  afterAll(async () => {
    proc.kill();
    await collector.close();
  });

  it('answers hello', async () => {
    const hello = await send({ cmd: 'hello', protocol: 1 });
    expect(hello).toMatchObject({ status: 'ok', protocol: 1, implementation: { name: 'plowline-tracker-browser' } });
  });

  it('passes every tracker vector from inside Chromium', async () => {
    const failures: string[] = [];
    for (const v of loadTrackerVectors()) {
      collector.requests.length = 0;
      const conf = await send({
        cmd: 'configure', endpoint: collector.url, method: v.method, tracker: v.tracker, clock_ms: v.clock_ms,
        ...(v.subject ? { subject: v.subject } : {}),
      });
      expect(conf, v.id).toEqual({ seq: seq - 1, status: 'ok' });
      const track = await send({ cmd: 'track', event: v.event, event_ids: eventIds(v) });
      expect(track['status'], `${v.id}: ${JSON.stringify(track)}`).toBe('ok');
      expect(await send({ cmd: 'flush', timeout_ms: 10_000 }), v.id).toMatchObject({ status: 'ok', delivered: true });
      const wire = collector.events();
      const expected = expectedEvents(v);
      if (wire.length !== expected.length) failures.push(`${v.id}: ${wire.length} wire events, expected ${expected.length}`);
      expected.forEach((exp, i) => {
        const problems = compareWire(wire[i] ?? {}, exp);
        if (problems.length) failures.push(`${v.id}[${i}]: ${problems.join('; ')}`);
      });
      await send({ cmd: 'reset' });
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('reports bad input as errored and stops cleanly', async () => {
    await send({ cmd: 'configure', endpoint: collector.url, method: 'POST', tracker: { namespace: 'n', app_id: 'a', platform: 'web', encode_base64: true } });
    expect(await send({ cmd: 'track', event: { type: 'page_view' } })).toMatchObject({ status: 'errored', error_type: 'invalid_argument' });
    expect(await send({ cmd: 'track', event: { type: 'teleport' } })).toMatchObject({ status: 'skipped' });
    expect(await send({ cmd: 'stop' })).toMatchObject({ status: 'ok' });
    expect(await exited).toBe(0);
  });
});
