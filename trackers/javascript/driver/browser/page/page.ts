/**
 * Runs inside the page: the browser tracker with injected clock and ids, driven by the Node
 * side of driver/browser through page.evaluate. Answers are plain data, never thrown errors.
 */
import { InvalidEventError, newTracker, type BrowserTracker, type BrowserTrackerConfig } from '@plowline/tracker-browser';
import { UnsupportedEventError, eventFromSpec, subjectFromSpec } from '@plowline/tracker-core/conformance';

type Obj = Record<string, unknown>;
export type Answer = { ok: true; value?: unknown } | { ok: false; kind: 'invalid_argument' | 'unsupported' | 'internal'; message: string };

const state = {
  tracker: undefined as BrowserTracker | undefined,
  clockMs: undefined as number | undefined,
  ids: [] as string[],
  seed: undefined as number | undefined,
  seq: 0,
};

function answer(fn: () => unknown): Answer {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    const err = e as Error;
    const kind = err instanceof UnsupportedEventError ? 'unsupported' : err instanceof InvalidEventError ? 'invalid_argument' : 'internal';
    return { ok: false, kind, message: err.message || String(err) };
  }
}

function nextId(): string {
  const injected = state.ids.shift();
  if (injected) return injected;
  if (state.seed === undefined) return crypto.randomUUID();
  const n = state.seq++;
  return `${state.seed.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export function configure(req: Obj): Answer {
  return answer(() => {
    const tracker = req['tracker'] as Obj;
    const batching = (req['batching'] ?? {}) as Obj;
    const retry = req['retry'] as Obj | undefined;
    const paths = (req['paths'] ?? {}) as Obj;
    state.clockMs = typeof req['clock_ms'] === 'number' ? req['clock_ms'] : undefined;
    state.seed = typeof req['event_id_seed'] === 'number' ? req['event_id_seed'] : undefined;
    state.seq = 0;
    state.ids = [];
    const count = typeof batching['count'] === 'number' ? batching['count'] : 1;
    const config: BrowserTrackerConfig = {
      namespace: tracker['namespace'] as string,
      appId: tracker['app_id'] as string,
      platform: tracker['platform'] as BrowserTrackerConfig['platform'],
      collectorUrl: req['endpoint'] as string,
      method: req['method'] as 'GET' | 'POST',
      encodeBase64: tracker['encode_base64'] as boolean,
      bufferSize: count,
      maxEventsPerRequest: count,
      // The wire must hold exactly what the harness asked for: no cookie session, no entities,
      // no facts read from the browser.
      session: false,
      browserFacts: false,
      contexts: { session: false, webPage: false },
      clock: () => state.clockMs ?? Date.now(),
      eventId: nextId,
      retry: retry
        ? {
            maxAttempts: (retry['max_attempts'] as number | undefined) ?? 5,
            initialBackoffMs: (retry['initial_backoff_ms'] as number | undefined) ?? 500,
            maxBackoffMs: (retry['max_backoff_ms'] as number | undefined) ?? 30_000,
            multiplier: (retry['multiplier'] as number | undefined) ?? 2,
            jitter: (retry['jitter'] as boolean | undefined) ?? false,
            honourRetryAfter: retry['honour_retry_after'] === true,
          }
        : { maxAttempts: 1 },
    };
    if (typeof batching['bytes'] === 'number') config.maxPostBytes = batching['bytes'];
    if (typeof paths['get'] === 'string') config.getPath = paths['get'];
    if (typeof paths['post'] === 'string') config.postPath = paths['post'];
    if (req['subject'] !== undefined) config.subject = subjectFromSpec(req['subject']);
    state.tracker = newTracker(config);
  });
}

export function track(req: Obj): Answer {
  return answer(() => {
    const t = state.tracker;
    if (!t) throw new Error('track before configure');
    if (typeof req['clock_ms'] === 'number') state.clockMs = req['clock_ms'];
    state.ids = (req['event_ids'] as string[] | undefined) ?? (req['event_id'] ? [req['event_id'] as string] : []);
    const event = eventFromSpec(req['event']);
    return req['subject'] !== undefined ? t.track(event, subjectFromSpec(req['subject'])) : t.track(event);
  });
}

export async function flush(): Promise<Answer> {
  const t = state.tracker;
  if (!t) return { ok: false, kind: 'internal', message: 'flush before configure' };
  const r = await t.flush();
  return { ok: true, value: r.pending === 0 && r.rejected === 0 };
}

export async function reset(): Promise<Answer> {
  const t = state.tracker;
  state.tracker = undefined;
  if (t) {
    await t.destroy();
    t.emitter.clear(); // buffered events are dropped (allowed by the protocol)
  }
  return { ok: true };
}
