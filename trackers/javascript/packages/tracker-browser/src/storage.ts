/** First-party cookies and a localStorage-backed event queue (both fail soft when blocked). */
import { MemoryStore, type EventStore, type Payload } from '@plowline/tracker-core';

export function readCookie(name: string): string | undefined {
  const prefix = `${name}=`;
  for (const part of document.cookie.split('; ')) {
    if (part.startsWith(prefix)) return decodeURIComponent(part.slice(prefix.length));
  }
  return undefined;
}

export function writeCookie(name: string, value: string, maxAgeSeconds: number, domain?: string, sameSite = 'Lax'): void {
  let cookie = `${name}=${encodeURIComponent(value)}; Max-Age=${maxAgeSeconds}; Path=/; SameSite=${sameSite}`;
  if (domain) cookie += `; Domain=${domain}`;
  if (location.protocol === 'https:') cookie += '; Secure';
  document.cookie = cookie;
}

/** The event queue in localStorage, so events not yet delivered survive a reload. */
export class LocalStorageStore implements EventStore {
  constructor(private readonly key: string) {}

  load(): Payload[] {
    try {
      const data: unknown = JSON.parse(localStorage.getItem(this.key) ?? '[]');
      return Array.isArray(data) ? (data as Payload[]) : [];
    } catch {
      return [];
    }
  }

  save(queue: readonly Payload[]): void {
    try {
      if (queue.length === 0) localStorage.removeItem(this.key);
      else localStorage.setItem(this.key, JSON.stringify(queue));
    } catch {
      // Quota exceeded or storage blocked: the in-memory queue still holds the events.
    }
  }
}

export function queueStore(key: string): EventStore {
  try {
    const probe = `${key}.probe`;
    localStorage.setItem(probe, '1');
    localStorage.removeItem(probe);
    return new LocalStorageStore(key);
  } catch {
    return new MemoryStore();
  }
}
