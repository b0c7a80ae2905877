import { describe, expect, it } from 'vitest';
import {
  InvalidEventError, TrackerCore, base64urlDecode, buildEcommerceTransaction, buildPageView, buildScreenView,
  buildSelfDescribingEvent, buildStructEvent, buildAddToCart, subjectParams, type Payload,
} from '@plowline/tracker-core';
import { eventFromSpec, subjectFromSpec, UnsupportedEventError } from '@plowline/tracker-core/conformance';

function core(extra: Partial<ConstructorParameters<typeof TrackerCore>[0]> = {}) {
  const out: Payload[] = [];
  let n = 0;
  const c = new TrackerCore({
    namespace: 'ns', appId: 'app', clock: () => 5, eventId: () => `00000000-0000-4000-8000-00000000000${n++}`,
    emit: (p) => out.push(p), ...extra,
  });
  return { c, out };
}

describe('events and TrackerCore', () => {
  it('adds the common parameters', () => {
    const { c, out } = core();
    c.track(buildPageView({ pageUrl: 'https://a.example/' }));
    expect(out[0]).toMatchObject({ e: 'pv', url: 'https://a.example/', tna: 'ns', aid: 'app', p: 'web', dtm: '5', tv: 'js-0.1.0' });
    expect(out[0]!['eid']).toMatch(/^0{8}-/);
  });

  it.each([
    () => buildPageView({ pageUrl: '' }),
    () => buildPageView({ pageUrl: 42 as unknown as string }),
    () => buildStructEvent({ category: 'c', action: 'a', value: Number.NaN }),
    () => buildStructEvent({ category: 'c', action: 'a', value: Infinity }),
    () => buildSelfDescribingEvent({ event: { schema: 'not-iglu', data: {} } }),
    () => buildSelfDescribingEvent({ event: { schema: 'iglu:a/b/jsonschema/1-0-0' } as never }),
    () => buildScreenView({ name: 'Home', id: 'not-a-uuid' }),
    () => buildEcommerceTransaction({ orderId: 'o', totalValue: 1, items: [{ sku: 's', price: 1, quantity: 1.5 }] }),
    () => buildPageView({ pageUrl: 'u', context: [{ schema: 'bad', data: {} }] }),
    () => buildPageView({ pageUrl: 'u', trueTimestamp: -1 }),
    () => buildAddToCart({ sku: '', quantity: 1 }),
  ])('refuses bad input with InvalidEventError (%#)', (build) => {
    expect(build).toThrow(InvalidEventError);
  });

  it('refuses bad subjects and tracker settings', () => {
    expect(() => subjectParams({ screenResolution: [1, -1] })).toThrow(InvalidEventError);
    expect(() => subjectParams({ sessionIndex: 0 })).toThrow(InvalidEventError);
    expect(() => core({ platform: 'moon' as 'web' })).toThrow(InvalidEventError);
    expect(() => core({ namespace: '' })).toThrow(InvalidEventError);
  });

  it('emits nothing when one part of an event is bad', () => {
    const { c, out } = core({ eventId: () => { throw new InvalidEventError('no id'); } });
    expect(() => c.track(buildPageView({ pageUrl: 'u' }))).toThrow(InvalidEventError);
    expect(out).toEqual([]);
  });

  it('per-call subject overrides the tracker subject', () => {
    const { c, out } = core({ subject: { userId: 'a', language: 'en' } });
    c.track(buildPageView({ pageUrl: 'u' }), { subject: { userId: 'b' } });
    c.setSubject({ userId: undefined });
    c.track(buildPageView({ pageUrl: 'u' }));
    expect([out[0]!['uid'], out[0]!['lang'], out[1]!['uid'], out[1]!['lang']]).toEqual(['b', 'en', undefined, 'en']);
  });

  it('wraps entities in contexts/1-0-1 and events in unstruct_event/1-0-0 (base64url, no padding)', () => {
    const { c, out } = core();
    const ctx = { schema: 'iglu:com.acme/thing/jsonschema/1-0-0', data: { a: 1 } };
    c.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/ev/jsonschema/1-0-0', data: { b: 'ü' } }, context: [ctx] }));
    const p = out[0]!;
    expect(p['cx']).not.toContain('=');
    expect(JSON.parse(base64urlDecode(p['cx']!))).toEqual({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1', data: [ctx] });
    expect(JSON.parse(base64urlDecode(p['ue_px']!))).toEqual({
      schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
      data: { schema: 'iglu:com.acme/ev/jsonschema/1-0-0', data: { b: 'ü' } },
    });
  });

  it('the spec adapters refuse unknown keys and event types', () => {
    expect(() => subjectFromSpec({ favourite_colour: 'red' })).toThrow(InvalidEventError);
    expect(() => eventFromSpec({ type: 'teleport' })).toThrow(UnsupportedEventError);
    expect(() => eventFromSpec('page_view')).toThrow(InvalidEventError);
  });

  it('builds add_to_cart from the driver shape', () => {
    const { c, out } = core({ encodeBase64: false });
    c.track(eventFromSpec({ type: 'add_to_cart', sku: 's1', quantity: 2, unit_price: 9.5, currency: 'EUR' }));
    expect(JSON.parse(out[0]!['ue_pr']!).data).toEqual({
      schema: 'iglu:com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0',
      data: { sku: 's1', quantity: 2, unitPrice: 9.5, currency: 'EUR' },
    });
  });
});
