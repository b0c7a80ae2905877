/**
 * The browser tracker in headless Chromium against a loopback recording collector on another
 * origin (CORS with credentials, as in production): page view, page pings on a fake clock,
 * link click, form tracking, session rollover, offline queue surviving a reload, `_sp` linker.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { base64urlDecode } from '../../tracker-core/src/base64.js';
import { launchChromium, requireChromium, SKIP_BROWSER, type LaunchedBrowser } from '../../../tests/support/browser.js';
import { startCollector, type RecordingCollector } from '../../../tests/support/collector.js';
import { startSite } from '../../../tests/support/site.js';

type Wire = Record<string, string>;
interface Sdj {
  schema: string;
  data: Record<string, unknown>;
}

function contexts(ev: Wire): Sdj[] {
  return (JSON.parse(base64urlDecode(ev['cx']!)) as { data: Sdj[] }).data;
}

function entity(ev: Wire, name: string): Record<string, unknown> {
  const found = contexts(ev).find((c) => c.schema.includes(`/${name}/`));
  if (!found) throw new Error(`no ${name} entity in ${ev['cx']}`);
  return found.data;
}

function unstruct(ev: Wire): Sdj {
  return (JSON.parse(base64urlDecode(ev['ue_px']!)) as { data: Sdj }).data;
}

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

describe.skipIf(SKIP_BROWSER)('tracker-browser in Chromium', () => {
  let browser: LaunchedBrowser;
  let collector: RecordingCollector;
  let site: RecordingCollector;
  let page: Page;

  beforeAll(async () => {
    requireChromium();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    collector = await startCollector();
    site = await startSite();
    page = await browser.context.newPage();
  });
  afterEach(async () => {
    await page.close();
    await browser.context.clearCookies();
    await collector.close();
    await site.close();
  });

  /** Open the site and create a tracker (extra config as a JS object literal string). */
  async function open(extra = '{}', path = '/'): Promise<void> {
    await page.goto(site.url + path);
    await page.evaluate(
      ([url, extraSrc]) => {
        const extraConfig = (0, eval)(`(${extraSrc})`) as object;
        (window as unknown as { t: unknown }).t = (window as any).plowline.newTracker({
          namespace: 'ns1', appId: 'site', collectorUrl: url, ...extraConfig,
        });
      },
      [collector.url, extra] as const,
    );
  }

  it('sends a page view with session, web_page entity and browser facts', async () => {
    await open();
    const eid = await page.evaluate(() => (window as any).t.trackPageView());
    const [ev] = await collector.waitForEvents(1);
    const req = collector.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/com.snowplowanalytics.snowplow/tp2');
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(req.body).schema).toBe('iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4');
    expect(ev).toMatchObject({ e: 'pv', url: `${site.url}/`, page: 'Test page', tna: 'ns1', aid: 'site', p: 'web', eid, vid: '1', cookie: '1' });
    for (const k of ['tv', 'dtm', 'stm', 'duid', 'sid', 'res', 'vp', 'ds', 'cd', 'lang', 'tz', 'cs']) expect(ev![k], k).toBeTruthy();
    const session = entity(ev!, 'client_session');
    expect(session).toMatchObject({ userId: ev!['duid'], sessionId: ev!['sid'], sessionIndex: 1, eventIndex: 1, previousSessionId: null, firstEventId: eid, storageMechanism: 'COOKIE_1' });
    expect(entity(ev!, 'web_page')['id']).toMatch(/^[0-9a-f-]{36}$/);
    const cookies = await browser.context.cookies(site.url);
    expect(cookies.find((c) => c.name === '_plow_ns1_id')?.value).toContain(ev!['duid']);
  });

  it('sends GET /i with plain JSON when configured so', async () => {
    await open("{ method: 'GET', encodeBase64: false }");
    await page.evaluate(() => (window as any).t.trackStructEvent({ category: 'c', action: 'a', value: 2.5 }));
    const [ev] = await collector.waitForEvents(1);
    expect(collector.requests[0]!.method).toBe('GET');
    expect(collector.requests[0]!.path).toBe('/i');
    expect(ev).toMatchObject({ e: 'se', se_ca: 'c', se_ac: 'a', se_va: '2.5' });
    expect(JSON.parse(ev!['co']!).data.length).toBe(2);
    expect(ev!['cx']).toBeUndefined();
  });

  it('sends page pings on a fake clock only while the user is active', async () => {
    await page.clock.install({ time: T0 - 60_000 });
    await open();
    await page.clock.pauseAt(T0); // from here on time moves only when the test says so
    await page.evaluate(() => {
      (window as any).t.enableActivityTracking({ minimumVisitLength: 5, heartbeatDelay: 10 });
      (window as any).t.trackPageView();
    });
    await collector.waitForEvents(1);
    await page.mouse.move(10, 10);
    await page.evaluate(() => window.scrollTo(0, 700));
    await page.mouse.move(20, 20);
    await page.clock.runFor(5_000); // minimum visit: active → first ping
    let events = await collector.waitForEvents(2);
    expect(events[1]).toMatchObject({ e: 'pp', url: `${site.url}/`, pp_mix: '0', pp_max: '0', pp_miy: '0', pp_may: '700' });
    expect(events[1]!['dtm']).toBe(String(T0 + 5_000));
    await page.clock.runFor(10_000); // no activity since → no ping
    await page.mouse.move(30, 30);
    await page.evaluate(() => window.scrollTo(0, 300));
    await page.mouse.move(40, 40);
    await page.clock.runFor(10_000); // active again → second ping
    events = await collector.waitForEvents(3);
    expect(events.map((e) => e['e'])).toEqual(['pv', 'pp', 'pp']);
    expect(events[2]).toMatchObject({ pp_miy: '300', pp_may: '700', dtm: String(T0 + 25_000) });
    expect(entity(events[2]!, 'web_page')['id']).toBe(entity(events[0]!, 'web_page')['id']);
  });

  it('tracks a link click that navigates away (keepalive)', async () => {
    await open('{}');
    await page.evaluate(() => (window as any).t.enableLinkClickTracking({ trackContent: true }));
    await Promise.all([page.waitForURL(`${site.url}/other.html`), page.click('#link1')]);
    const [ev] = await collector.waitForEvents(1);
    expect(unstruct(ev!)).toEqual({
      schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1',
      data: { targetUrl: `${site.url}/other.html`, elementId: 'link1', elementClasses: ['nav', 'primary'], elementTarget: '_self', elementContent: 'Other <b>page</b>' },
    });
  });

  it('tracks form changes and the submission, never a password', async () => {
    await open();
    await page.evaluate(() => {
      (window as any).t.enableFormTracking();
      document.getElementById('signup')!.addEventListener('submit', (e) => e.preventDefault());
    });
    await page.fill('#email', 'a@b.example');
    await page.fill('#pw', 'secret');
    await page.selectOption('#plan', 'pro');
    await page.click('#send');
    const events = await collector.waitForEvents(3);
    const [email, plan, submit] = events.map(unstruct);
    expect(email).toMatchObject({ schema: expect.stringContaining('/change_form/'), data: { formId: 'signup', elementId: 'email', nodeName: 'INPUT', type: 'email', value: 'a@b.example', elementClasses: ['field'] } });
    expect(plan).toMatchObject({ schema: expect.stringContaining('/change_form/'), data: { elementId: 'plan', nodeName: 'SELECT', value: 'pro' } });
    expect(submit!.schema).toContain('/submit_form/');
    expect(submit!.data).toEqual({
      formId: 'signup',
      formClasses: ['form', 'wide'],
      elements: [
        { name: 'email', value: 'a@b.example', nodeName: 'INPUT', type: 'email' },
        { name: 'comment', value: '', nodeName: 'TEXTAREA' },
        { name: 'plan', value: 'pro', nodeName: 'SELECT' },
      ],
    });
    expect(JSON.stringify(events)).not.toContain('secret');
  });

  it('rolls the session over after the timeout and keeps the domain user id', async () => {
    await page.clock.install({ time: T0 - 60_000 });
    await open('{ sessionTimeoutMinutes: 30 }');
    await page.clock.pauseAt(T0);
    await page.evaluate(() => (window as any).t.trackPageView());
    await page.clock.fastForward(10 * 60_000);
    await page.evaluate(() => (window as any).t.trackStructEvent({ category: 'c', action: 'same-session' }));
    await page.clock.fastForward(31 * 60_000);
    await page.evaluate(() => (window as any).t.trackStructEvent({ category: 'c', action: 'new-session' }));
    const [a, b, c] = await collector.waitForEvents(3);
    expect(b!['sid']).toBe(a!['sid']);
    expect(c!['sid']).not.toBe(a!['sid']);
    expect([a!['vid'], b!['vid'], c!['vid']]).toEqual(['1', '1', '2']);
    expect(new Set([a!['duid'], b!['duid'], c!['duid']]).size).toBe(1);
    expect(entity(b!, 'client_session')).toMatchObject({ eventIndex: 2, firstEventId: a!['eid'] });
    expect(entity(c!, 'client_session')).toMatchObject({
      sessionIndex: 2, previousSessionId: a!['sid'], eventIndex: 1, firstEventId: c!['eid'],
      firstEventTimestamp: new Date(Number(c!['dtm'])).toISOString(),
    });
    // A new page (same cookie) continues the session.
    await open('{ sessionTimeoutMinutes: 30 }');
    await page.evaluate(() => (window as any).t.trackPageView());
    const [, , , d] = await collector.waitForEvents(4);
    expect([d!['sid'], d!['vid'], d!['duid']]).toEqual([c!['sid'], '2', a!['duid']]);
  });

  it('keeps events in localStorage while offline and sends them after a reload', async () => {
    await open('{ retry: { maxAttempts: 1 } }');
    await browser.context.setOffline(true);
    const ids = await page.evaluate(async () => {
      const t = (window as any).t;
      const ids = [t.trackPageView(), t.trackStructEvent({ category: 'c', action: 'offline' })];
      await t.flush();
      return ids;
    });
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('_plow_ns1_queue') ?? '[]').map((p: Wire) => p['eid']));
    expect(stored).toEqual(ids);
    expect(collector.requests).toHaveLength(0);
    // The page goes away while still offline (its unload flush fails too) ...
    await page.close();
    await browser.context.setOffline(false);
    // ... and the next page load's tracker sends the stored queue.
    page = await browser.context.newPage();
    await open('{ retry: { maxAttempts: 1 } }');
    // The new page empties the stored queue only after the collector answered 2xx.
    await page.waitForFunction(() => localStorage.getItem('_plow_ns1_queue') === null);
    const events = await collector.waitForEvents(2);
    // At-least-once: the closing page's keepalive request may also get through once the network
    // is back, so an event can arrive twice, always with the same eid and never reordered.
    expect([...new Set(events.map((e) => e['eid']))]).toEqual(ids);
    expect(events.every((e) => e['e'] === (e['eid'] === ids[0] ? 'pv' : 'se'))).toBe(true);
  });

  it('decorates cross-domain links with _sp=<duid>.<ms>', async () => {
    await page.clock.install({ time: T0 - 60_000 });
    await page.goto(site.url);
    await page.clock.pauseAt(T0);
    const href = await page.evaluate((url) => {
      const t = (window as any).plowline.newTracker({
        namespace: 'ns1', appId: 'site', collectorUrl: url,
        crossDomainLinker: (a: HTMLAnchorElement) => a.id === 'xd',
      });
      const link = document.getElementById('xd') as HTMLAnchorElement;
      link.addEventListener('click', (e) => e.preventDefault());
      link.click();
      return { href: link.href, duid: t.getDomainUserId(), other: (document.getElementById('link1') as HTMLAnchorElement).href };
    }, collector.url);
    const sp = new URL(href.href).searchParams.get('_sp');
    expect(sp).toBe(`${href.duid}.${T0}`);
    expect(href.other).not.toContain('_sp');
  });
});
