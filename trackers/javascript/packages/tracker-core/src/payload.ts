/** Wire payloads: flat string→string maps, as the collector receives them. */
import { base64urlEncode } from './base64.js';
import { InvalidEventError } from './errors.js';

export type Payload = Record<string, string>;

/** A self-describing JSON object (`{schema: "iglu:…", data: …}`). */
export interface SelfDescribingJson<T = unknown> {
  schema: string;
  data: T;
}

const IGLU_URI = /^iglu:[a-zA-Z0-9_.-]+\/[a-zA-Z0-9_-]+\/[a-zA-Z0-9_-]+\/[1-9][0-9]*-(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$/;

export function checkSdj(name: string, value: unknown): SelfDescribingJson {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidEventError(`${name} must be a self-describing JSON object`);
  }
  const v = value as Record<string, unknown>;
  if (typeof v['schema'] !== 'string' || !IGLU_URI.test(v['schema'])) {
    throw new InvalidEventError(`${name}.schema must be an iglu: URI, got ${JSON.stringify(v['schema'])}`);
  }
  if (!('data' in v)) throw new InvalidEventError(`${name} has no data`);
  return { schema: v['schema'], data: v['data'] };
}

/** Add `value` unless it is undefined or null (absent and empty differ on the wire). */
export function put(p: Payload, key: string, value: string | number | undefined | null): void {
  if (value === undefined || value === null) return;
  p[key] = typeof value === 'number' ? numberText(key, value) : value;
}

/** JavaScript's shortest round-trip text: 10 → "10", 0.1 → "0.1"; non-finite is refused. */
export function numberText(name: string, value: number): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidEventError(`${name} must be a finite number, got ${String(value)}`);
  }
  return String(value);
}

export function toJson(name: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InvalidEventError(`${name} is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (text === undefined) throw new InvalidEventError(`${name} is not JSON-serialisable`);
  return text;
}

/** Add JSON under `plain` (co, ue_pr) or its base64url under `encoded` (cx, ue_px). */
export function putJson(
  p: Payload,
  value: unknown,
  encodeBase64: boolean,
  plain: string,
  encoded: string,
): void {
  const text = toJson(plain, value);
  if (encodeBase64) p[encoded] = base64urlEncode(text);
  else p[plain] = text;
}
