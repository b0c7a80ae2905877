/** The browser tracker: TrackerCore + Emitter wired to the page, cookies and localStorage. */
import {
  Emitter,
  TrackerCore,
  WEB_PAGE_SCHEMA,
  buildLinkClick,
  buildPagePing,
  buildPageView,
  buildSelfDescribingEvent,
  buildStructEvent,
  type BuiltEvent,
  type CommonEventOptions,
  type FlushResult,
  type HttpMethod,
  type Payload,
  type Platform,
  type RetryPolicy,
  type SelfDescribingEvent,
  type SelfDescribingJson,
  type SendOutcome,
  type SendRequest,
  type StructuredEvent,
  type Subject,
  type Transport,
} from '@plowline/tracker-core';
import { SessionManager, clientSessionEntity, type SessionState } from './session.js';
import { queueStore } from './storage.js';
import { ActivityTracker, type ActivityOptions } from './activity.js';
import { enableForms, enableLinks, type FormTrackingOptions, type LinkTrackingOptions } from './dom.js';

export interface BrowserTrackerConfig {
  namespace: string;
  appId: string;
  /** Collector base URL, e.g. `https://c.example.com`. */
  collectorUrl: string;
  /** Platform code (default `web`). */
  platform?: Platform;
  method?: HttpMethod;
  encodeBase64?: boolean;
  /** Events queued before a send (default 1: send at once). */
  bufferSize?: number;
  maxPostBytes?: number;
  /** Most events in one POST (default: as many as fit in maxPostBytes). */
  maxEventsPerRequest?: number;
  /** Most events kept in the queue (and localStorage); newer ones are dropped (default 1000). */
  maxQueueSize?: number;
  postPath?: string;
  getPath?: string;
  retry?: Partial<RetryPolicy>;
  /** `fetch` (keepalive, default) or `beacon` (navigator.sendBeacon, fetch as fallback). */
  transport?: 'fetch' | 'beacon';
  /** Minutes without events before the next one opens a new session (default 30). */
  sessionTimeoutMinutes?: number;
  cookieDomain?: string;
  /** Prefix of the id cookie and queue key (default `_plow`). */
  cookieName?: string;
  /**
   * Keep the first-party id cookie and send duid / sid / vid (default true). False is anonymous
   * tracking: no cookie, no session params, no client_session entity.
   */
  session?: boolean;
  /** Send res, vp, ds, cd, lang, tz, cs, cookie read from the browser (default true). */
  browserFacts?: boolean;
  /** Attach the client_session entity (default true) and the web_page entity (default true). */
  contexts?: { session?: boolean; webPage?: boolean };
  /** Links whose URL gets `_sp=<duid>.<ms>` when followed (cross-domain linker). */
  crossDomainLinker?: (link: HTMLAnchorElement | HTMLAreaElement) => boolean;
  subject?: Subject;
  clock?: () => number;
  eventId?: () => string;
  onSend?: (outcome: SendOutcome) => void;
}

function fetchTransport(): Transport {
  return async (req: SendRequest) => {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body ?? null,
      keepalive: true, // the request outlives the page (link clicks, unload)
      credentials: 'include', // the collector's network_userid cookie
      mode: 'cors',
    });
    // Readable cross-origin only where the collector exposes it (Access-Control-Expose-Headers).
    return { status: res.status, retryAfter: res.headers.get('retry-after') };
  };
}

function beaconTransport(fallback: Transport): Transport {
  return async (req: SendRequest) => {
    if (req.method === 'POST' && typeof navigator.sendBeacon === 'function') {
      try {
        const blob = new Blob([req.body ?? ''], { type: req.headers['Content-Type'] ?? 'application/json' });
        // A beacon gives no status: queued by the browser counts as sent.
        if (navigator.sendBeacon(req.url, blob)) return 200;
      } catch {
        // fall through to fetch
      }
    }
    return fallback(req);
  };
}

function dims(w: number, h: number): string {
  return `${Math.round(w)}x${Math.round(h)}`;
}

/** Facts read at each event (they change with the page). */
function pageParams(): Payload {
  const de = document.documentElement;
  const body = document.body;
  return {
    vp: dims(window.innerWidth, window.innerHeight),
    ds: dims(Math.max(de.scrollWidth, body?.scrollWidth ?? 0), Math.max(de.scrollHeight, body?.scrollHeight ?? 0)),
    cs: document.characterSet,
    cookie: navigator.cookieEnabled ? '1' : '0',
  };
}

function browserSubject(): Subject {
  const s: Subject = {
    screenResolution: [screen.width, screen.height],
    colorDepth: screen.colorDepth,
    language: navigator.language,
  };
  try {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz) s.timezone = tz;
  } catch {
    // no Intl: no tz
  }
  return s;
}

export class BrowserTracker {
  readonly core: TrackerCore;
  readonly emitter: Emitter;
  readonly session: SessionManager;
  private readonly clock: () => number;
  private readonly newId: () => string;
  private pageViewId: string;
  private readonly facts: boolean;
  private activity: ActivityTracker | undefined;
  private readonly cleanups: (() => void)[] = [];

  constructor(private readonly config: BrowserTrackerConfig) {
    this.clock = config.clock ?? (() => Date.now());
    const cryptoId = (): string => crypto.randomUUID();
    this.newId = config.eventId ?? cryptoId;
    const prefix = `${config.cookieName ?? '_plow'}_${config.namespace}`;
    this.session = new SessionManager(`${prefix}_id`, (config.sessionTimeoutMinutes ?? 30) * 60_000, cryptoId, config.cookieDomain);
    this.pageViewId = cryptoId();
    const http = fetchTransport();
    const emitterConfig: ConstructorParameters<typeof Emitter>[0] = {
      endpoint: config.collectorUrl,
      method: config.method ?? 'POST',
      bufferSize: config.bufferSize ?? 1,
      transport: config.transport === 'beacon' ? beaconTransport(http) : http,
      store: queueStore(`${prefix}_queue`),
      maxQueueSize: config.maxQueueSize ?? 1000,
      clock: this.clock,
    };
    if (config.maxPostBytes !== undefined) emitterConfig.maxPostBytes = config.maxPostBytes;
    if (config.maxEventsPerRequest !== undefined) emitterConfig.maxEventsPerRequest = config.maxEventsPerRequest;
    if (config.postPath) emitterConfig.postPath = config.postPath;
    if (config.getPath) emitterConfig.getPath = config.getPath;
    if (config.retry) emitterConfig.retry = config.retry;
    if (config.onSend) emitterConfig.onSend = config.onSend;
    this.emitter = new Emitter(emitterConfig);
    const ctx = config.contexts ?? {};
    const useSession = config.session !== false;
    this.facts = config.browserFacts !== false;
    this.core = new TrackerCore({
      namespace: config.namespace,
      appId: config.appId,
      platform: config.platform ?? 'web',
      encodeBase64: config.encodeBase64 ?? true,
      subject: this.facts ? { ...browserSubject(), ...config.subject } : config.subject,
      clock: this.clock,
      eventId: this.newId,
      emit: (p) => {
        this.emitter.add(p);
      },
      contextProviders: [
        (p) => {
          const out: SelfDescribingJson[] = [];
          if (useSession) {
            // Session params are set here because they depend on this event's eid and time.
            const s = this.session.onEvent(Number(p['dtm']), p['eid']!);
            p['duid'] = s.domainUserId;
            p['sid'] = s.sessionId;
            p['vid'] = String(s.sessionIndex);
            if (ctx.session !== false) out.push(clientSessionEntity(s));
          }
          if (ctx.webPage !== false) out.push({ schema: WEB_PAGE_SCHEMA, data: { id: this.pageViewId } });
          return out;
        },
      ],
    });
    // Send what a previous page left in the queue, and again whenever the network comes back.
    if (this.emitter.size > 0) void this.flush();
    this.listen(window, 'online', () => void this.flush());
    // Last chance before the page goes away: keepalive requests survive it.
    this.listen(window, 'pagehide', () => void this.flush());
    this.listen(document, 'visibilitychange', () => {
      if (document.visibilityState === 'hidden') void this.flush();
    });
    if (config.crossDomainLinker) this.cleanups.push(enableLinks(this, { linkerOnly: true }));
  }

  private listen(target: EventTarget, type: string, fn: (e: Event) => void): void {
    target.addEventListener(type, fn, true);
    this.cleanups.push(() => target.removeEventListener(type, fn, true));
  }

  /** Track any built event (see the build* functions of @plowline/tracker-core). */
  track(event: BuiltEvent, subject?: Subject): string[] {
    const extraParams = this.facts ? pageParams() : {};
    const options = subject ? { subject, extraParams } : { extraParams };
    return this.core.track(event, options).map((p) => p['eid']!);
  }

  trackPageView(ev: Partial<{ title: string; url: string; referrer: string }> & CommonEventOptions = {}): string {
    this.pageViewId = crypto.randomUUID();
    const args = {
      pageUrl: ev.url ?? location.href,
      pageTitle: ev.title ?? document.title,
      referrer: ev.referrer ?? (document.referrer || undefined),
      context: ev.context,
      trueTimestamp: ev.trueTimestamp,
    };
    const ids = this.track(buildPageView(args));
    this.activity?.pageViewed();
    return ids[0]!;
  }

  /** Sent by activity tracking; public for custom schedulers. */
  trackPagePing(offsets: { minX: number; maxX: number; minY: number; maxY: number }): string {
    return this.track(
      buildPagePing({
        pageUrl: location.href,
        pageTitle: document.title,
        referrer: document.referrer || undefined,
        minXOffset: offsets.minX,
        maxXOffset: offsets.maxX,
        minYOffset: offsets.minY,
        maxYOffset: offsets.maxY,
      }),
    )[0]!;
  }

  trackStructEvent(ev: StructuredEvent): string {
    return this.track(buildStructEvent(ev))[0]!;
  }

  trackSelfDescribingEvent(ev: SelfDescribingEvent): string {
    return this.track(buildSelfDescribingEvent(ev))[0]!;
  }

  trackLinkClick(ev: Parameters<typeof buildLinkClick>[0]): string {
    return this.track(buildLinkClick(ev))[0]!;
  }

  /** Page pings every heartbeat while the user is active (after a minimum visit). */
  enableActivityTracking(options: ActivityOptions): void {
    this.activity?.stop();
    this.activity = new ActivityTracker(this, options);
    this.cleanups.push(() => this.activity?.stop());
  }

  enableLinkClickTracking(options: LinkTrackingOptions = {}): void {
    this.cleanups.push(enableLinks(this, options));
  }

  enableFormTracking(options: FormTrackingOptions = {}): void {
    this.cleanups.push(enableForms(this, options));
  }

  setUserId(userId: string | undefined): void {
    this.core.setSubject({ userId });
  }

  setSubject(subject: Subject): void {
    this.core.setSubject(subject);
  }

  getDomainUserId(): string {
    return this.session.peek(this.clock()).domainUserId;
  }

  getSession(): SessionState {
    return { ...this.session.peek(this.clock()) };
  }

  /** End the session now; the next event opens a new one. */
  newSession(): void {
    this.session.newSession(this.clock());
  }

  /** `_sp=<duid>.<ms>` for the cross-domain linker. */
  crossDomainValue(): string {
    return `${this.getDomainUserId()}.${this.clock()}`;
  }

  /** Whether the configured linker wants this link decorated. */
  wantsLinker(link: HTMLAnchorElement | HTMLAreaElement): boolean {
    return this.config.crossDomainLinker?.(link) ?? false;
  }

  flush(): Promise<FlushResult> {
    return this.emitter.flush();
  }

  /** Remove every listener and timer this tracker added. */
  destroy(): Promise<void> {
    this.cleanups.splice(0).forEach((c) => c());
    return this.emitter.close();
  }
}

export function newTracker(config: BrowserTrackerConfig): BrowserTracker {
  return new BrowserTracker(config);
}
