/** A loopback recording collector: keeps every request and answers with a scripted status. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  query: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Wire events of this request (querystring for GET, payload_data items for POST). */
  events: Record<string, string>[];
}

export interface RecordingCollector {
  url: string;
  requests: Recorded[];
  /** Status for the next requests, in order; then 200. */
  statuses: number[];
  events(): Record<string, string>[];
  waitForEvents(n: number, timeoutMs?: number): Promise<Record<string, string>[]>;
  close(): Promise<void>;
  /** Extra handler for other paths (e.g. the test page). */
  route?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export async function startCollector(): Promise<RecordingCollector> {
  const requests: Recorded[] = [];
  const c: Partial<RecordingCollector> = { requests, statuses: [] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      if (c.route?.(req, res)) return;
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = Buffer.concat(chunks).toString('utf8');
      let events: Record<string, string>[] = [];
      if (req.method === 'GET') events = [Object.fromEntries(url.searchParams.entries())];
      else if (body) {
        try {
          events = (JSON.parse(body) as { data: Record<string, string>[] }).data;
        } catch {
          events = [];
        }
      }
      if (req.method === 'OPTIONS') {
        res.writeHead(204, cors(req));
        res.end();
        return;
      }
      requests.push({ method: req.method ?? '', path: url.pathname, query: url.search, headers: req.headers, body, events });
      const status = c.statuses!.shift() ?? 200;
      res.writeHead(status, cors(req));
      res.end();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  c.url = `http://127.0.0.1:${port}`;
  c.events = () => requests.flatMap((r) => r.events);
  c.waitForEvents = async (n, timeoutMs = 10_000) => {
    const end = Date.now() + timeoutMs;
    while (c.events!().length < n) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${n} events (got ${c.events!().length})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return c.events!();
  };
  c.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return c as RecordingCollector;
}

function cors(req: IncomingMessage): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': req.headers.origin ?? '*',
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Headers': 'Content-Type',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  };
}
