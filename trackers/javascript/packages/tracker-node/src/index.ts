/**
 * Server-side tracker for Node (>= 20): TrackerCore + Emitter over the global fetch, with
 * batching, retries with back-off, a flush timer and a graceful flush on shutdown.
 */
import {
  Emitter,
  TrackerCore,
  type BuiltEvent,
  type EmitterConfig,
  type EventStore,
  type FlushResult,
  type HttpMethod,
  type Payload,
  type Platform,
  type RetryPolicy,
  type SendOutcome,
  type Subject,
  type Transport,
  type TrackOptions,
} from '@plowline/tracker-core';

export * from '@plowline/tracker-core';
export { FileStore } from './file-store.js';

export interface NodeTrackerConfig {
  /** Collector base URL, e.g. `http://127.0.0.1:9090`. */
  endpoint: string;
  namespace: string;
  appId: string;
  platform?: Platform;
  method?: HttpMethod;
  encodeBase64?: boolean;
  /** Events per POST and the count that triggers a send (default 10; 1 for GET). */
  bufferSize?: number;
  maxPostBytes?: number;
  /** Also send whatever is buffered every this many ms (default 1000; 0 disables). */
  flushIntervalMs?: number;
  /** Abort one HTTP exchange after this long (default 10 s); counts as a retryable failure. */
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  maxQueueSize?: number;
  subject?: Subject;
  clock?: () => number;
  eventId?: () => string;
  postPath?: string;
  getPath?: string;
  store?: EventStore;
  /** Replace the HTTP layer (tests, custom agents). */
  transport?: Transport;
  sleep?: (ms: number) => Promise<void>;
  onSend?: (outcome: SendOutcome) => void;
  onDrop?: (payloads: Payload[], reason: string) => void;
}

/**
 * HTTP via the global fetch (undici keeps connections alive between requests). A request ends
 * at its timeout or when `stop` aborts (the tracker's close()), whichever comes first; an
 * aborted request's connection is destroyed, not kept in the pool.
 */
export function fetchTransport(timeoutMs: number, stop?: AbortSignal): Transport {
  return async (req) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: stop ? AbortSignal.any([timeout, stop]) : timeout,
    });
    // Drain the body so the connection goes back to the pool.
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status, retryAfter: res.headers.get('retry-after') };
  };
}

export class NodeTracker {
  readonly core: TrackerCore;
  readonly emitter: Emitter;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Aborts the requests in flight when the tracker closes (close() means stop at once). */
  private readonly stopRequests = new AbortController();

  constructor(config: NodeTrackerConfig) {
    const method = config.method ?? 'POST';
    const emitterConfig: EmitterConfig = {
      endpoint: config.endpoint,
      method,
      bufferSize: config.bufferSize ?? (method === 'GET' ? 1 : 10),
      maxEventsPerRequest: config.bufferSize ?? 10,
      transport:
        config.transport ?? fetchTransport(config.requestTimeoutMs ?? 10_000, this.stopRequests.signal),
    };
    if (config.maxPostBytes !== undefined) emitterConfig.maxPostBytes = config.maxPostBytes;
    if (config.retry) emitterConfig.retry = config.retry;
    if (config.maxQueueSize !== undefined) emitterConfig.maxQueueSize = config.maxQueueSize;
    if (config.clock) emitterConfig.clock = config.clock;
    if (config.postPath) emitterConfig.postPath = config.postPath;
    if (config.getPath) emitterConfig.getPath = config.getPath;
    if (config.store) emitterConfig.store = config.store;
    if (config.sleep) emitterConfig.sleep = config.sleep;
    if (config.onSend) emitterConfig.onSend = config.onSend;
    if (config.onDrop) emitterConfig.onDrop = config.onDrop;
    this.emitter = new Emitter(emitterConfig);
    this.core = new TrackerCore({
      namespace: config.namespace,
      appId: config.appId,
      platform: config.platform ?? 'srv',
      encodeBase64: config.encodeBase64 ?? true,
      subject: config.subject,
      clock: config.clock,
      eventId: config.eventId,
      trackerVersion: undefined,
      emit: (p) => {
        this.emitter.add(p);
      },
    });
    const interval = config.flushIntervalMs ?? 1000;
    if (interval > 0) {
      this.timer = setInterval(() => {
        if (this.emitter.size > 0) void this.emitter.flush();
      }, interval);
      this.timer.unref(); // never keeps the process alive on its own
    }
  }

  /** Track a built event (see buildPageView, buildStructEvent …); returns the event ids. */
  track(event: BuiltEvent, options?: TrackOptions): string[] {
    if (this.closed) throw new Error('tracker is shut down');
    return this.core.track(event, options).map((p) => p['eid']!);
  }

  setSubject(subject: Subject): void {
    this.core.setSubject(subject);
  }

  /** Send everything buffered; resolves when sent or retries ran out (or after timeoutMs). */
  async flush(timeoutMs?: number): Promise<FlushResult & { timedOut: boolean }> {
    const run = this.emitter.flush().then((r) => ({ ...r, timedOut: false }));
    if (timeoutMs === undefined) return run;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<FlushResult & { timedOut: boolean }>((resolve) => {
      t = setTimeout(() => resolve({ sent: 0, rejected: 0, pending: this.emitter.size, timedOut: true }), timeoutMs);
    });
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(t);
    }
  }

  /** Stop at once: no new request starts after this resolves; unsent events stay queued. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.stopRequests.abort(); // a request on the wire fails now; its events stay queued
    await this.emitter.close();
  }

  /** Stop the timer, refuse new events and flush what is left (graceful shutdown). */
  async shutdown(timeoutMs = 5000): Promise<FlushResult & { timedOut: boolean }> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const result = await this.flush(timeoutMs);
    this.stopRequests.abort(); // past the deadline nothing waits for a hanging request
    await this.emitter.close();
    return result;
  }
}

export function newTracker(config: NodeTrackerConfig): NodeTracker {
  return new NodeTracker(config);
}
