#!/usr/bin/env node
/**
 * Conformance driver for @plowline/tracker-node (spec/driver, protocol v1): one JSON request per
 * stdin line, one JSON reply per stdout line. A dispatch table from command to handler; no test
 * logic lives here. Diagnostics go to stderr only.
 */
import { createInterface } from 'node:readline';
import { FileStore, InvalidEventError, NodeTracker, VERSION, type NodeTrackerConfig } from '@plowline/tracker-node';
import { UnsupportedEventError, eventFromSpec, subjectFromSpec } from '@plowline/tracker-core/conformance';

type Obj = Record<string, unknown>;
type Reply = Obj & { status: 'ok' | 'skipped' | 'errored' };

export const CAPABILITIES = [
  'get', 'post', 'base64', 'custom-paths', 'request-timeout',
  'batching-count', 'batching-bytes', 'retry', 'retry-after', 'persistence',
  'injected-clock', 'injected-event-id',
  'subject', 'subject-per-event', 'contexts', 'true-timestamp',
  'event-page-view', 'event-page-ping', 'event-structured', 'event-self-describing',
  'event-screen-view', 'event-screen-view-legacy', 'event-link-click', 'event-submit-form',
  'event-change-form', 'event-focus-form', 'event-site-search', 'event-timing',
  'event-ecommerce-transaction', 'event-add-to-cart', 'event-remove-from-cart',
];

class ProtocolError extends Error {}

interface Session {
  tracker: NodeTracker;
  clockMs: number | undefined;
  injectedIds: string[];
  seed: number | undefined;
  seq: number;
}

let session: Session | undefined;

function seededId(seed: number, n: number): string {
  return `${seed.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function randomId(): string {
  return crypto.randomUUID();
}

async function closeSession(timeoutMs: number | undefined): Promise<void> {
  if (!session) return;
  const s = session;
  session = undefined;
  // Buffered events are dropped (the protocol allows it); nothing starts after this.
  void timeoutMs;
  await s.tracker.close();
}

const handlers: Record<string, (req: Obj) => Promise<Omit<Reply, 'seq'>>> = {
  async hello(req) {
    if (req['protocol'] !== 1) return { status: 'skipped', reason: `protocol ${String(req['protocol'])} not spoken (only 1)` };
    return {
      status: 'ok',
      protocol: 1,
      implementation: {
        name: 'plowline-tracker-node',
        version: VERSION,
        language: 'typescript',
        tracker_version: `js-${VERSION}`,
      },
      capabilities: CAPABILITIES,
    };
  },

  async configure(req) {
    await closeSession(0);
    const tracker = (req['tracker'] ?? {}) as Obj;
    const batching = (req['batching'] ?? {}) as Obj;
    const retry = req['retry'] as Obj | undefined;
    const paths = (req['paths'] ?? {}) as Obj;
    const s: Session = {
      tracker: undefined as unknown as NodeTracker,
      clockMs: typeof req['clock_ms'] === 'number' ? req['clock_ms'] : undefined,
      injectedIds: [],
      seed: typeof req['event_id_seed'] === 'number' ? req['event_id_seed'] : undefined,
      seq: 0,
    };
    const config: NodeTrackerConfig = {
      endpoint: String(req['endpoint']),
      method: req['method'] as 'GET' | 'POST',
      namespace: tracker['namespace'] as string,
      appId: tracker['app_id'] as string,
      platform: tracker['platform'] as NodeTrackerConfig['platform'],
      encodeBase64: tracker['encode_base64'] as boolean,
      // Absent batching: send each event as soon as it is tracked.
      bufferSize: typeof batching['count'] === 'number' ? batching['count'] : 1,
      flushIntervalMs: 0,
      clock: () => s.clockMs ?? Date.now(),
      eventId: () => {
        const injected = s.injectedIds.shift();
        if (injected) return injected;
        return s.seed === undefined ? randomId() : seededId(s.seed, s.seq++);
      },
    };
    if (typeof batching['bytes'] === 'number') config.maxPostBytes = batching['bytes'];
    if (req['subject'] !== undefined) config.subject = subjectFromSpec(req['subject']);
    if (retry) {
      config.retry = {
        maxAttempts: (retry['max_attempts'] as number | undefined) ?? 5,
        initialBackoffMs: (retry['initial_backoff_ms'] as number | undefined) ?? 500,
        maxBackoffMs: (retry['max_backoff_ms'] as number | undefined) ?? 30_000,
        multiplier: (retry['multiplier'] as number | undefined) ?? 2,
        jitter: (retry['jitter'] as boolean | undefined) ?? false,
        honourRetryAfter: retry['honour_retry_after'] === true,
      };
    } else {
      config.retry = { maxAttempts: 1 };
    }
    if (typeof req['request_timeout_ms'] === 'number') config.requestTimeoutMs = req['request_timeout_ms'];
    if (req['persistence']) config.store = new FileStore(String((req['persistence'] as Obj)['path']));
    if (typeof paths['get'] === 'string') config.getPath = paths['get'];
    if (typeof paths['post'] === 'string') config.postPath = paths['post'];
    s.tracker = new NodeTracker(config);
    session = s;
    // Events a previous process left in the persistence file go out now.
    if (s.tracker.emitter.size > 0) void s.tracker.flush();
    return { status: 'ok' };
  },

  async track(req) {
    const s = session;
    if (!s) throw new ProtocolError('track before configure');
    if (typeof req['clock_ms'] === 'number') s.clockMs = req['clock_ms'];
    const ids = (req['event_ids'] as string[] | undefined) ?? (req['event_id'] ? [req['event_id'] as string] : []);
    s.injectedIds = [...ids];
    const event = eventFromSpec(req['event']);
    const options = req['subject'] !== undefined ? { subject: subjectFromSpec(req['subject']) } : {};
    const eventIds = s.tracker.track(event, options);
    return { status: 'ok', event_ids: eventIds };
  },

  async flush(req) {
    if (!session) throw new ProtocolError('flush before configure');
    const r = await session.tracker.flush(req['timeout_ms'] as number | undefined);
    return { status: 'ok', delivered: !r.timedOut && r.pending === 0 && r.rejected === 0 };
  },

  async reset(req) {
    await closeSession(req['timeout_ms'] as number | undefined);
    return { status: 'ok' };
  },

  async stop(req) {
    await closeSession(req['timeout_ms'] as number | undefined);
    return { status: 'ok' };
  },
};

export async function handle(line: string): Promise<Reply & { seq: number | null }> {
  let req: Obj;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    req = parsed as Obj;
  } catch (error) {
    return { seq: null, status: 'errored', message: `unreadable request: ${(error as Error).message}`, error_type: 'protocol' };
  }
  const seq = typeof req['seq'] === 'number' ? req['seq'] : null;
  const handler = typeof req['cmd'] === 'string' ? handlers[req['cmd']] : undefined;
  if (!handler) return { seq, status: 'errored', message: `unknown command ${JSON.stringify(req['cmd'])}`, error_type: 'protocol' };
  try {
    return { seq, ...(await handler(req)) } as Reply & { seq: number | null };
  } catch (error) {
    const e = error as Error;
    if (e instanceof UnsupportedEventError) return { seq, status: 'skipped', reason: e.message };
    const errorType = e instanceof InvalidEventError ? 'invalid_argument' : e instanceof ProtocolError ? 'protocol' : 'internal';
    return { seq, status: 'errored', message: e.message || String(e), error_type: errorType, details: e.stack ?? '' };
  }
}

async function main(): Promise<void> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const reply = await handle(line);
    process.stdout.write(JSON.stringify(reply) + '\n');
    if (line.includes('"stop"') && reply.status === 'ok' && (JSON.parse(line) as Obj)['cmd'] === 'stop') break;
  }
  await closeSession(0);
  process.exitCode = 0;
  rl.close();
}

await main();
