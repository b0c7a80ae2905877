/**
 * The emitter: a queue of payloads sent as GET (one event per request) or POST (payload_data
 * 1-0-4 batches up to maxPostBytes), stamped with stm at send time, retried with exponential
 * back-off. Transport, store, clock and sleep are injected so browser, Node and tests share it.
 */
import type { Payload } from './payload.js';
import {
  BACKOFF_MULTIPLIER,
  GIVE_UP_STATUSES,
  HONOUR_RETRY_AFTER,
  INITIAL_BACKOFF_MS,
  JITTER,
  MAX_ATTEMPTS,
  MAX_BACKOFF_MS,
  MAX_RETRY_AFTER_MS,
} from './delivery-rules.js';
import { PAYLOAD_DATA_SCHEMA } from './schemas.js';

export type HttpMethod = 'GET' | 'POST';

export interface SendRequest {
  method: HttpMethod;
  url: string;
  /** POST body (payload_data JSON); undefined for GET. */
  body?: string;
  headers: Record<string, string>;
  /** How many events this request carries. */
  events: number;
}

/** What a transport may report beyond the status: the raw Retry-After header, if any. */
export interface TransportResponse {
  status: number;
  retryAfter?: string | null;
}

/** Sends one request; resolves to the HTTP status (or a response), rejects on a network error. */
export type Transport = (request: SendRequest) => Promise<number | TransportResponse>;

/** Where queued payloads live between sends (memory, localStorage …). Synchronous on purpose. */
export interface EventStore {
  load(): Payload[];
  save(queue: readonly Payload[]): void;
}

export class MemoryStore implements EventStore {
  private queue: Payload[] = [];
  load(): Payload[] {
    return this.queue.slice();
  }
  save(queue: readonly Payload[]): void {
    this.queue = queue.slice();
  }
}

export interface RetryPolicy {
  /** Attempts per request, the first included (1 = no retry). */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
  /** Randomise each wait in (wait·(1−JITTER), wait] (default true; false: exact waits). */
  jitter?: boolean;
  /** Wait as a Retry-After header says (seconds or HTTP date) instead of the back-off (default true). */
  honourRetryAfter?: boolean;
  /** Longest Retry-After wait obeyed (default MAX_RETRY_AFTER_MS). */
  maxRetryAfterMs?: number;
}

/**
 * Milliseconds a Retry-After value asks for (RFC 9110 §10.2.3: delta-seconds or an HTTP date),
 * or undefined when the value is neither.
 */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP dates are GMT; Date.parse accepts far more, so require the IMF-fixdate's zone.
  if (!/GMT$/.test(text)) return undefined;
  const when = Date.parse(text);
  return Number.isNaN(when) ? undefined : Math.max(0, when - nowMs);
}

/** The shared defaults of spec/delivery/rules.yaml (generated constants). */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: MAX_ATTEMPTS,
  initialBackoffMs: INITIAL_BACKOFF_MS,
  maxBackoffMs: MAX_BACKOFF_MS,
  multiplier: BACKOFF_MULTIPLIER,
  jitter: true,
  honourRetryAfter: HONOUR_RETRY_AFTER,
  maxRetryAfterMs: MAX_RETRY_AFTER_MS,
};

export const POST_PATH = '/com.snowplowanalytics.snowplow/tp2';
export const GET_PATH = '/i';
export const DEFAULT_MAX_POST_BYTES = 40_000;
/** Bytes budgeted for the payload_data envelope around the events. */
const ENVELOPE_BYTES = 88;

export interface EmitterConfig {
  /** Collector base URL, e.g. `https://collector.example` (a path prefix is kept). */
  endpoint: string;
  method?: HttpMethod;
  postPath?: string;
  getPath?: string;
  /** Send automatically once this many events are queued (1 = every event). */
  bufferSize?: number;
  maxPostBytes?: number;
  /** Most events in one POST (default: as many as fit in maxPostBytes). */
  maxEventsPerRequest?: number;
  /** Most events queued; a new event beyond it is dropped (reported via onDrop). */
  maxQueueSize?: number;
  retry?: Partial<RetryPolicy>;
  transport: Transport;
  store?: EventStore;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Which non-2xx statuses are retried (default: all but spec/delivery's give-up set). */
  isRetryable?: (status: number) => boolean;
  onSend?: (result: SendOutcome) => void;
  onDrop?: (payloads: Payload[], reason: string) => void;
}

export interface SendOutcome {
  request: SendRequest;
  /** HTTP status, or 0 for a network error. */
  status: number;
  attempt: number;
  outcome: 'sent' | 'retry' | 'gave-up' | 'rejected';
}

export interface FlushResult {
  sent: number;
  /** Events the collector refused for good (non-retryable status): dropped. */
  rejected: number;
  /** Events still queued (retries exhausted: kept for a later flush). */
  pending: number;
}

/** spec/delivery/rules.yaml: every non-2xx status is retried except the give-up set. */
export function defaultIsRetryable(status: number): boolean {
  if (status >= 200 && status < 300) return false;
  return !GIVE_UP_STATUSES.has(status);
}

/** setTimeout exists in every runtime we target, but the core is compiled without DOM/Node types. */
const timers = globalThis as unknown as { setTimeout(cb: () => void, ms: number): unknown };
function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => timers.setTimeout(resolve, ms));
}

function joinUrl(endpoint: string, path: string): string {
  return endpoint.replace(/\/+$/, '') + path;
}

/** UTF-8 bytes of JSON.stringify(s) without building it (quotes included). */
export function jsonStringSize(s: string): number {
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) n += 2; // \" \\
    else if (c < 0x20) n += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
    else if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const low = s.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        n += 4;
        i++;
      } else n += 6; // lone surrogate: \udXXX
    } else if (c >= 0xdc00 && c <= 0xdfff) n += 6;
    else n += 3;
  }
  return n;
}

/** Bytes `p` adds to a POST body: its JSON, a comma, and the stm pair stamped at send time. */
function jsonSize(p: Payload): number {
  let n = 2 + 1 + 22; // {} , "stm":"<up to 15 digits>",
  for (const k in p) n += jsonStringSize(k) + jsonStringSize(p[k]!) + 2; // "k":"v",
  return n;
}

export function encodeQuery(params: Payload): string {
  return Object.keys(params)
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k]!)}`)
    .join('&');
}

export class Emitter {
  readonly method: HttpMethod;
  private readonly cfg: EmitterConfig;
  private readonly retry: RetryPolicy;
  /** Undefined: the queue lives only in memory (no copy per event). */
  private readonly store: EventStore | undefined;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly bufferSize: number;
  private readonly maxPostBytes: number;
  private readonly isRetryable: (status: number) => boolean;
  private queue: Payload[];
  private chain: Promise<unknown> = Promise.resolve();
  private draining = false;
  private saveScheduled = false;
  private totals = { sent: 0, rejected: 0 };
  private closed = false;
  private wakers = new Set<() => void>();

  constructor(config: EmitterConfig) {
    this.cfg = config;
    this.method = config.method ?? 'POST';
    if (this.method !== 'GET' && this.method !== 'POST') throw new TypeError(`method must be GET or POST`);
    this.retry = { ...DEFAULT_RETRY, ...config.retry };
    if (!(this.retry.maxAttempts >= 1)) throw new TypeError('retry.maxAttempts must be >= 1');
    this.store = config.store;
    this.clock = config.clock ?? Date.now;
    this.sleep = config.sleep ?? defaultSleep;
    this.bufferSize = Math.max(1, config.bufferSize ?? 1);
    this.maxPostBytes = config.maxPostBytes ?? DEFAULT_MAX_POST_BYTES;
    this.isRetryable = config.isRetryable ?? defaultIsRetryable;
    this.queue = this.store?.load() ?? [];
  }

  /** Number of queued events. */
  get size(): number {
    return this.queue.length;
  }

  /** Queue a payload; sends once bufferSize events wait. Returns false if the queue was full. */
  add(payload: Payload): boolean {
    const max = this.cfg.maxQueueSize ?? Infinity;
    if (this.queue.length >= max) {
      this.cfg.onDrop?.([payload], 'queue full');
      return false;
    }
    this.queue.push(payload);
    this.persist();
    // A running drain picks the new event up itself once a full buffer waits; otherwise start one.
    if (this.queue.length >= this.bufferSize && !this.draining) void this.run(false);
    return true;
  }

  /**
   * Write the queue to the store once per burst of synchronous calls (a microtask later), so
   * tracking n events in a row costs one write, not n. Nothing can unload the page in between.
   */
  private persist(): void {
    if (!this.store || this.saveScheduled) return;
    this.saveScheduled = true;
    void Promise.resolve().then(() => {
      this.saveScheduled = false;
      this.store?.save(this.queue);
    });
  }

  /** Send everything queued; resolves when the queue is empty or retries ran out. */
  flush(): Promise<FlushResult> {
    return this.run(true).then(() => {
      // Counts since the previous flush(), automatic sends in between included.
      const result = { ...this.totals, pending: this.queue.length };
      this.totals = { sent: 0, rejected: 0 };
      return result;
    });
  }

  /** Queue a drain behind the running one: `all` sends everything, else only full buffers. */
  private run(all: boolean): Promise<void> {
    const run = this.chain.then(() => this.drain(all));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Drop every queued event without sending it. */
  clear(): void {
    this.queue = [];
    this.persist();
  }

  /** Build the next request from the head of the queue: [request, number of events]. */
  buildRequest(batch: readonly Payload[]): SendRequest {
    const stm = String(this.clock());
    const stamped = batch.map((p) => ({ ...p, stm }));
    if (this.method === 'GET') {
      const url = joinUrl(this.cfg.endpoint, this.cfg.getPath ?? GET_PATH) + '?' + encodeQuery(stamped[0]!);
      return { method: 'GET', url, headers: {}, events: 1 };
    }
    return {
      method: 'POST',
      url: joinUrl(this.cfg.endpoint, this.cfg.postPath ?? POST_PATH),
      body: JSON.stringify({ schema: PAYLOAD_DATA_SCHEMA, data: stamped }),
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      events: stamped.length,
    };
  }

  /** How many head events go in the next request (≥ 1: an oversized event goes alone). */
  private batchLength(): number {
    if (this.method === 'GET') return 1;
    let bytes = ENVELOPE_BYTES;
    let n = 0;
    const most = this.cfg.maxEventsPerRequest ?? Infinity;
    for (const p of this.queue) {
      if (n >= most) break;
      const size = jsonSize(p);
      if (n > 0 && bytes + size > this.maxPostBytes) break;
      bytes += size;
      n++;
    }
    return n;
  }

  /**
   * Send from the head of the queue. An automatic drain (all = false) sends the full buffer it
   * found (several GETs, or POSTs split by size), then stops once fewer than bufferSize events
   * wait, so events tracked while a batch is on the wire form the next full batch instead of
   * trickling out one by one. The loop test and the reset of `draining` run in the same tick,
   * so add() never sees a drain that will not pick its event up.
   */
  private async drain(all: boolean): Promise<void> {
    this.draining = true;
    let owed = 0; // events of the full buffer this automatic drain still has to send
    try {
      for (;;) {
        if (this.closed || this.queue.length === 0) break;
        if (!all && owed <= 0) {
          if (this.queue.length < this.bufferSize) break;
          owed = this.queue.length;
        }
        const n = this.batchLength();
        const batch = this.queue.slice(0, n);
        const outcome = await this.sendWithRetry(batch);
        if (outcome === 'gave-up') break;
        owed -= n;
        // The queue only grows at its tail while sending, so the head is still this batch.
        this.queue.splice(0, n);
        this.persist();
        if (outcome === 'sent') this.totals.sent += n;
        else {
          this.totals.rejected += n;
          this.cfg.onDrop?.(batch, 'rejected by collector');
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async sendWithRetry(batch: Payload[]): Promise<'sent' | 'rejected' | 'gave-up'> {
    for (let attempt = 1; ; attempt++) {
      const request = this.buildRequest(batch);
      let status = 0;
      let retryAfter: string | null | undefined;
      try {
        const response = await this.cfg.transport(request);
        if (typeof response === 'number') status = response;
        else ({ status, retryAfter } = response);
      } catch {
        status = 0;
      }
      if (status >= 200 && status < 300) {
        this.cfg.onSend?.({ request, status, attempt, outcome: 'sent' });
        return 'sent';
      }
      if (status !== 0 && !this.isRetryable(status)) {
        this.cfg.onSend?.({ request, status, attempt, outcome: 'rejected' });
        return 'rejected';
      }
      if (attempt >= this.retry.maxAttempts || this.closed) {
        this.cfg.onSend?.({ request, status, attempt, outcome: 'gave-up' });
        return 'gave-up';
      }
      this.cfg.onSend?.({ request, status, attempt, outcome: 'retry' });
      let delay = Math.min(
        this.retry.maxBackoffMs,
        this.retry.initialBackoffMs * Math.pow(this.retry.multiplier, attempt - 1),
      );
      if (this.retry.jitter) delay *= 1 - JITTER * Math.random();
      if (this.retry.honourRetryAfter && retryAfter) {
        // Wall-clock time, not the injectable clock: an HTTP date is real time.
        const asked = parseRetryAfter(retryAfter, Date.now());
        if (asked !== undefined) delay = Math.min(asked, this.retry.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS);
      }
      await this.interruptibleSleep(delay);
      if (this.closed) return 'gave-up';
    }
  }

  private interruptibleSleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.wakers.delete(wake);
        resolve();
      };
      this.wakers.add(wake);
      void this.sleep(ms).then(wake);
    });
  }

  /**
   * Stop sending: no new request starts after the returned promise resolves (a request
   * already on the wire may still complete). Queued events stay in the store.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.wakers]) wake();
    await this.chain;
  }
}
