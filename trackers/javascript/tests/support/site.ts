/** A loopback site that serves the test pages and the IIFE bundle (another origin than the collector). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startCollector, type RecordingCollector } from './collector.js';

export const BUNDLE = fileURLToPath(new URL('../../packages/tracker-browser/dist/bundle/plowline-tracker.iife.js', import.meta.url));

export function page(title: string, crossDomainHref: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<script src="/plowline.js"></script></head>
<body style="height: 6000px; width: 3000px">
<a id="link1" class="nav primary" href="/other.html" target="_self">Other <b>page</b></a>
<a id="xd" href="${crossDomainHref}">partner</a>
<form id="signup" class="form wide">
  <input id="email" name="email" type="email" class="field">
  <input id="pw" name="pw" type="password">
  <textarea id="comment" name="comment"></textarea>
  <select id="plan" name="plan"><option value="free">free</option><option value="pro">pro</option></select>
  <button id="send" type="submit">send</button>
</form>
</body></html>`;
}

/** The site: `/` and `/other.html` are test pages, `/plowline.js` the bundle. */
export async function startSite(crossDomainHref = 'http://localhost:1/landing'): Promise<RecordingCollector> {
  const site = await startCollector();
  const bundle = readFileSync(BUNDLE, 'utf8');
  site.route = (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/plowline.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(bundle);
      return true;
    }
    if (path === '/' || path === '/other.html' || path === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(page(path === '/other.html' ? 'Other page' : 'Test page', crossDomainHref));
      return true;
    }
    if (path === '/favicon.ico') {
      res.writeHead(404);
      res.end();
      return true;
    }
    return false;
  };
  return site;
}
