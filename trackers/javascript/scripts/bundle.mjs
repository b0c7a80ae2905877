// Bundles @plowline/tracker-browser (with tracker-core) with esbuild and prints the gzipped size.
//   dist/bundle/plowline-tracker.min.js   ESM, minified (what a site would ship)
//   dist/bundle/plowline-tracker.iife.js  IIFE exposing `window.plowline` (tests, driver, <script>)
import { build } from 'esbuild';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}packages/tracker-browser/dist/bundle`;
mkdirSync(out, { recursive: true });

const common = {
  entryPoints: [`${root}packages/tracker-browser/src/index.ts`],
  bundle: true,
  minify: true,
  target: ['es2020'],
  alias: { '@plowline/tracker-core': `${root}packages/tracker-core/src/index.ts` },
  legalComments: 'none',
  logLevel: 'warning',
};

await build({ ...common, format: 'esm', outfile: `${out}/plowline-tracker.min.js` });
await build({ ...common, format: 'iife', globalName: 'plowline', outfile: `${out}/plowline-tracker.iife.js` });

// The page side of driver/browser (tracker + spec adapters), global `plowlineDriver`.
await build({
  ...common,
  entryPoints: [`${root}driver/browser/page/page.ts`],
  alias: {
    ...common.alias,
    '@plowline/tracker-browser': `${root}packages/tracker-browser/src/index.ts`,
    '@plowline/tracker-core/conformance': `${root}packages/tracker-core/src/conformance.ts`,
  },
  format: 'iife',
  globalName: 'plowlineDriver',
  outfile: `${out}/driver-page.iife.js`,
});

export function bundleSizes() {
  const code = readFileSync(`${out}/plowline-tracker.min.js`);
  return { raw: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { raw, gzip } = bundleSizes();
  console.log(`bundle: plowline-tracker.min.js ${(raw / 1024).toFixed(1)} kB minified, ${(gzip / 1024).toFixed(2)} kB gzipped (goal <= 15 kB)`);
}
