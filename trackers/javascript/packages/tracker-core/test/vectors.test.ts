/** Every spec/vectors/tracker vector through TrackerCore + Emitter, compared on the wire. */
import { describe, expect, it } from 'vitest';
import { Emitter, TrackerCore, type SendRequest } from '@plowline/tracker-core';
import { eventFromSpec, fixedClock, idSequence, subjectFromSpec } from '@plowline/tracker-core/conformance';
import type { Platform } from '@plowline/tracker-core';
import { compareWire, eventIds, expectedEvents, loadTrackerVectors, wireEventsOf } from '../../../tests/support/vectors.js';

const vectors = loadTrackerVectors();

describe('spec/vectors/tracker', () => {
  it('finds the vectors', () => {
    expect(vectors.length).toBeGreaterThan(0);
  });

  it.each(vectors.map((v) => [v.id, v] as const))('%s', async (_id, v) => {
    const requests: SendRequest[] = [];
    const clock = fixedClock(v.clock_ms);
    const emitter = new Emitter({
      endpoint: 'http://collector.test',
      method: v.method,
      bufferSize: 1000,
      clock,
      transport: async (r) => {
        requests.push(r);
        return 200;
      },
    });
    const core = new TrackerCore({
      namespace: v.tracker.namespace,
      appId: v.tracker.app_id,
      platform: v.tracker.platform as Platform,
      encodeBase64: v.tracker.encode_base64,
      subject: v.subject ? subjectFromSpec(v.subject) : undefined,
      clock,
      eventId: idSequence(eventIds(v)),
      emit: (p) => emitter.add(p),
    });
    core.track(eventFromSpec(v.event));
    await emitter.flush();
    const wire = requests.flatMap((r) => {
      expect(r.url).toMatch(v.method === 'GET' ? /\/i\?/ : /\/com\.snowplowanalytics\.snowplow\/tp2$/);
      return wireEventsOf(r.method, r.url, r.body);
    });
    const expected = expectedEvents(v);
    expect(wire).toHaveLength(expected.length);
    expected.forEach((exp, i) => expect(compareWire(wire[i]!, exp), `wire event ${i}`).toEqual([]));
  });
});
