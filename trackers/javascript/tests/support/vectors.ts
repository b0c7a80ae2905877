/** Loads spec/vectors/tracker/*.yaml and compares a wire event to a vector's expectation. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { base64urlDecode } from '../../packages/tracker-core/src/base64.js';

export const VECTORS_DIR = fileURLToPath(new URL('../../../../spec/vectors/tracker/', import.meta.url));

export interface WireExpect {
  params: Record<string, string>;
  decoded?: Record<string, unknown>;
  present?: string[];
  absent?: string[];
}

export interface TrackerVector {
  id: string;
  kind: 'tracker_call';
  description: string;
  tracker: { namespace: string; app_id: string; platform: string; encode_base64: boolean };
  subject?: Record<string, unknown>;
  clock_ms: number;
  event_id?: string;
  event_ids?: string[];
  method: 'GET' | 'POST';
  event: Record<string, unknown> & { type: string };
  expect: WireExpect | { events: WireExpect[] };
}

export function loadTrackerVectors(): TrackerVector[] {
  return readdirSync(VECTORS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(join(VECTORS_DIR, f), 'utf8')) as TrackerVector)
    .filter((v) => v.kind === 'tracker_call');
}

export function expectedEvents(v: TrackerVector): WireExpect[] {
  return 'events' in v.expect ? v.expect.events : [v.expect];
}

export function eventIds(v: TrackerVector): string[] {
  return v.event_ids ?? (v.event_id ? [v.event_id] : []);
}

/** Every mismatch between one received wire event and its expectation (empty: conforms). */
export function compareWire(actual: Record<string, string>, exp: WireExpect): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(exp.params)) {
    if (actual[k] !== v) problems.push(`${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(actual[k])}`);
  }
  for (const [k, v] of Object.entries(exp.decoded ?? {})) {
    const raw = actual[k];
    if (raw === undefined) {
      problems.push(`${k}: missing`);
      continue;
    }
    const text = k === 'cx' || k === 'ue_px' ? base64urlDecode(raw) : raw;
    const got: unknown = JSON.parse(text);
    if (JSON.stringify(sortKeys(got)) !== JSON.stringify(sortKeys(v))) {
      problems.push(`${k}: decoded ${JSON.stringify(got)} != ${JSON.stringify(v)}`);
    }
  }
  for (const k of exp.present ?? []) if (!actual[k]) problems.push(`${k}: must be present and non-empty`);
  for (const k of exp.absent ?? []) if (k in actual) problems.push(`${k}: must be absent, got ${JSON.stringify(actual[k])}`);
  return problems;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** The wire events of one request as the collector reads them. */
export function wireEventsOf(method: string, url: string, body: string | undefined): Record<string, string>[] {
  if (method === 'GET') {
    const q = new URL(url, 'http://x').searchParams;
    return [Object.fromEntries(q.entries())];
  }
  const envelope = JSON.parse(body ?? 'null') as { schema: string; data: Record<string, string>[] };
  return envelope.data;
}
