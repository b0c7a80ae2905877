/** An EventStore in a JSON file, so events not yet sent survive a process restart. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventStore, Payload } from '@plowline/tracker-core';

export class FileStore implements EventStore {
  constructor(private readonly path: string) {}

  load(): Payload[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    try {
      const data: unknown = JSON.parse(text);
      return Array.isArray(data) ? (data as Payload[]) : [];
    } catch {
      return []; // a torn or foreign file: start empty rather than crash
    }
  }

  save(queue: readonly Payload[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(queue));
    renameSync(tmp, this.path); // atomic on POSIX: a crash leaves the old or the new file
  }
}
