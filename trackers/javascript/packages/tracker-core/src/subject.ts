/** Who and what events are about; every property maps to one wire parameter. */
import { InvalidEventError } from './errors.js';
import type { Payload } from './payload.js';

export interface Subject {
  userId?: string; // uid
  domainUserId?: string; // duid
  /** Sent as tnuid, which enrich applies last, so it beats the collector cookie and nuid. */
  networkUserId?: string;
  screenResolution?: [number, number]; // res
  viewport?: [number, number]; // vp
  colorDepth?: number; // cd
  timezone?: string; // tz
  language?: string; // lang
  ipAddress?: string; // ip
  useragent?: string; // ua
  sessionId?: string; // sid
  sessionIndex?: number; // vid
}

const TEXT_KEYS: [keyof Subject, string][] = [
  ['userId', 'uid'],
  ['domainUserId', 'duid'],
  ['networkUserId', 'tnuid'],
  ['timezone', 'tz'],
  ['language', 'lang'],
  ['ipAddress', 'ip'],
  ['useragent', 'ua'],
  ['sessionId', 'sid'],
];

function dims(name: string, v: unknown): string {
  if (
    !Array.isArray(v) ||
    v.length !== 2 ||
    !v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)
  ) {
    throw new InvalidEventError(`${name} must be [width, height] of non-negative integers`);
  }
  return `${v[0] as number}x${v[1] as number}`;
}

function positiveInt(name: string, v: unknown, min: number): string {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new InvalidEventError(`${name} must be an integer >= ${min}`);
  }
  return String(v);
}

/** The subject's wire parameters (validated; throws InvalidEventError on a bad value). */
export function subjectParams(subject: Subject | undefined): Payload {
  const p: Payload = {};
  if (!subject) return p;
  for (const [key, wire] of TEXT_KEYS) {
    const v = subject[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new InvalidEventError(`${key} must be a string`);
    p[wire] = v;
  }
  if (subject.screenResolution !== undefined) p['res'] = dims('screenResolution', subject.screenResolution);
  if (subject.viewport !== undefined) p['vp'] = dims('viewport', subject.viewport);
  if (subject.colorDepth !== undefined) p['cd'] = positiveInt('colorDepth', subject.colorDepth, 0);
  if (subject.sessionIndex !== undefined) p['vid'] = positiveInt('sessionIndex', subject.sessionIndex, 1);
  return p;
}
