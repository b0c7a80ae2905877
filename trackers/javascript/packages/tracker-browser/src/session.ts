/**
 * The first-party id cookie: domain user id and session state, and the client_session entity.
 * A session ends after `timeoutMs` without events; the next event opens session index + 1.
 */
import { CLIENT_SESSION_SCHEMA, type SelfDescribingJson } from '@plowline/tracker-core';
import { readCookie, writeCookie } from './storage.js';

export interface SessionState {
  domainUserId: string;
  sessionId: string;
  sessionIndex: number;
  previousSessionId: string | null;
  lastActivityMs: number;
  firstEventId: string | null;
  firstEventMs: number | null;
  eventIndex: number;
}

const TWO_YEARS_S = 63_072_000;

/** Cookie value: fields joined by '.', empty for null (ids are UUIDs: no dots inside). */
export function serialise(s: SessionState): string {
  return [
    s.domainUserId, s.sessionId, s.sessionIndex, s.previousSessionId ?? '', s.lastActivityMs,
    s.firstEventId ?? '', s.firstEventMs ?? '', s.eventIndex,
  ].join('.');
}

export function parse(value: string | undefined): SessionState | undefined {
  if (!value) return undefined;
  const f = value.split('.');
  if (f.length !== 8) return undefined;
  const [duid, sid, idx, prev, last, first, firstMs, evIdx] = f as [string, string, string, string, string, string, string, string];
  const sessionIndex = Number(idx);
  const lastActivityMs = Number(last);
  if (!duid || !sid || !Number.isInteger(sessionIndex) || sessionIndex < 1 || !Number.isFinite(lastActivityMs)) return undefined;
  return {
    domainUserId: duid,
    sessionId: sid,
    sessionIndex,
    previousSessionId: prev || null,
    lastActivityMs,
    firstEventId: first || null,
    firstEventMs: firstMs ? Number(firstMs) : null,
    eventIndex: Number(evIdx) || 0,
  };
}

export class SessionManager {
  private state: SessionState | undefined;

  constructor(
    private readonly cookieName: string,
    private readonly timeoutMs: number,
    private readonly newId: () => string,
    private readonly cookieDomain?: string,
  ) {
    this.state = parse(readCookie(cookieName));
  }

  /** Current state without touching it (opens the first session if there is none). */
  peek(now: number): SessionState {
    if (!this.state) {
      this.state = this.fresh(this.newId(), 1, null, now);
      this.persist();
    }
    return this.state;
  }

  /** An event happens at `now` with id `eventId`: roll the session over if it timed out. */
  onEvent(now: number, eventId: string): SessionState {
    let s = this.state;
    if (!s) s = this.fresh(this.newId(), 1, null, now);
    else if (now - s.lastActivityMs > this.timeoutMs) s = this.fresh(s.domainUserId, s.sessionIndex + 1, s.sessionId, now);
    if (s.firstEventId === null) {
      s.firstEventId = eventId;
      s.firstEventMs = now;
    }
    s.eventIndex += 1;
    s.lastActivityMs = now;
    this.state = s;
    this.persist();
    return s;
  }

  /** End the current session now; the next event opens a new one. */
  newSession(now: number): void {
    const s = this.peek(now);
    this.state = this.fresh(s.domainUserId, s.sessionIndex + 1, s.sessionId, now);
    this.persist();
  }

  private fresh(duid: string, index: number, previous: string | null, now: number): SessionState {
    return {
      domainUserId: duid, sessionId: this.newId(), sessionIndex: index, previousSessionId: previous,
      lastActivityMs: now, firstEventId: null, firstEventMs: null, eventIndex: 0,
    };
  }

  private persist(): void {
    if (this.state) writeCookie(this.cookieName, serialise(this.state), TWO_YEARS_S, this.cookieDomain);
  }
}

export function clientSessionEntity(s: SessionState): SelfDescribingJson {
  return {
    schema: CLIENT_SESSION_SCHEMA,
    data: {
      userId: s.domainUserId,
      sessionId: s.sessionId,
      sessionIndex: s.sessionIndex,
      eventIndex: s.eventIndex,
      previousSessionId: s.previousSessionId,
      storageMechanism: 'COOKIE_1',
      firstEventId: s.firstEventId,
      firstEventTimestamp: s.firstEventMs === null ? null : new Date(s.firstEventMs).toISOString(),
    },
  };
}
