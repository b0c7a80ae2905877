/**
 * The tracker core: turns a built event into finished wire payloads (common params, entities,
 * subject) and hands each to a callback (usually an Emitter). Clock and event ids are injected.
 */
import type { BuiltEvent } from './events.js';
import { InvalidEventError } from './errors.js';
import { putJson, type Payload, type SelfDescribingJson } from './payload.js';
import { CONTEXTS_SCHEMA, UNSTRUCT_EVENT_SCHEMA } from './schemas.js';
import { subjectParams, type Subject } from './subject.js';
import { VERSION } from './version.js';

export const PLATFORMS = ['web', 'mob', 'pc', 'srv', 'app', 'tv', 'cnsl', 'iot', 'headset'] as const;
export type Platform = (typeof PLATFORMS)[number];

export interface TrackerCoreConfig {
  namespace: string;
  appId: string;
  platform?: Platform;
  /** cx / ue_px (base64url) when true (default), co / ue_pr (plain JSON) when false. */
  encodeBase64?: boolean;
  /** Tracker version sent as tv; defaults to `js-<version>`. */
  trackerVersion?: string;
  subject?: Subject;
  /** Milliseconds since epoch; dtm. */
  clock?: () => number;
  /** A fresh UUID per wire event; eid. */
  eventId?: () => string;
  /** Receives every finished payload, in order. */
  emit: (payload: Payload) => void;
  /**
   * Entities added to every event at track time (e.g. the browser's client_session).
   * Called once per wire event with that event's params so far (eid, dtm included).
   */
  contextProviders?: ((params: Payload) => SelfDescribingJson[])[];
}

export interface TrackOptions {
  /** Subject for this call only; its properties override the tracker's. */
  subject?: Subject;
  /** Extra params merged last (the browser adds its automatic ones here). */
  extraParams?: Payload;
}

function defaultEventId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  // Fallback for old runtimes: RFC 4122 v4 layout from Math.random.
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (ch) => {
    const r = (Math.random() * 16) | 0;
    return (ch === 'x' ? r : (r & 3) | 8).toString(16);
  });
}

export class TrackerCore {
  readonly namespace: string;
  readonly appId: string;
  readonly platform: Platform;
  readonly encodeBase64: boolean;
  private subject: Subject;
  /** Wire form of `subject`, validated once per change rather than per event. */
  private subjectWire: Payload;
  private readonly tv: string;
  private readonly clock: () => number;
  private readonly eventId: () => string;
  private readonly emit: (payload: Payload) => void;
  private readonly providers: ((params: Payload) => SelfDescribingJson[])[];

  constructor(config: TrackerCoreConfig) {
    if (typeof config.namespace !== 'string' || !config.namespace) throw new InvalidEventError('namespace must be a non-empty string');
    if (typeof config.appId !== 'string') throw new InvalidEventError('appId must be a string');
    const platform = config.platform ?? 'web';
    if (!(PLATFORMS as readonly string[]).includes(platform)) throw new InvalidEventError(`platform must be one of ${PLATFORMS.join(', ')}`);
    this.namespace = config.namespace;
    this.appId = config.appId;
    this.platform = platform;
    this.encodeBase64 = config.encodeBase64 ?? true;
    this.tv = config.trackerVersion ?? `js-${VERSION}`;
    this.subject = { ...config.subject };
    this.subjectWire = subjectParams(this.subject);
    this.clock = config.clock ?? Date.now;
    this.eventId = config.eventId ?? defaultEventId;
    this.emit = config.emit;
    this.providers = config.contextProviders ?? [];
  }

  /** Replace properties of the tracker's subject (undefined removes one). */
  setSubject(subject: Subject): void {
    const next = { ...this.subject, ...subject };
    this.subjectWire = subjectParams(next);
    this.subject = next;
  }

  getSubject(): Subject {
    return { ...this.subject };
  }

  /** Finish and emit each wire event of `event`; returns their payloads (eids included). */
  track(event: BuiltEvent, options: TrackOptions = {}): Payload[] {
    const subject = options.subject ? subjectParams({ ...this.subject, ...options.subject }) : this.subjectWire;
    const dtm = String(this.clock());
    const out: Payload[] = [];
    for (const part of event.parts) {
      const p: Payload = { ...part.params };
      if (part.unstruct) {
        putJson(p, { schema: UNSTRUCT_EVENT_SCHEMA, data: part.unstruct }, this.encodeBase64, 'ue_pr', 'ue_px');
      }
      p['tv'] = this.tv;
      p['tna'] = this.namespace;
      p['aid'] = this.appId;
      p['p'] = this.platform;
      p['eid'] = this.eventId();
      p['dtm'] = dtm;
      if (event.trueTimestamp !== undefined) p['ttm'] = String(event.trueTimestamp);
      Object.assign(p, subject, options.extraParams);
      let contexts = event.contexts;
      if (this.providers.length > 0) {
        contexts = contexts.slice();
        for (const provide of this.providers) contexts.push(...provide(p));
      }
      if (contexts.length > 0) {
        putJson(p, { schema: CONTEXTS_SCHEMA, data: contexts }, this.encodeBase64, 'co', 'cx');
      }
      out.push(p);
    }
    // Emit only after every part is built, so a bad event sends nothing.
    for (const p of out) this.emit(p);
    return out;
  }
}
