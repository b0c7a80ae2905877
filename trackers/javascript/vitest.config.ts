import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Unit tests run against the TypeScript sources, not dist.
    alias: [
      { find: /^@plowline\/tracker-core\/conformance$/, replacement: src('./packages/tracker-core/src/conformance.ts') },
      { find: /^@plowline\/tracker-core$/, replacement: src('./packages/tracker-core/src/index.ts') },
      { find: /^@plowline\/tracker-node$/, replacement: src('./packages/tracker-node/src/index.ts') },
      { find: /^@plowline\/tracker-browser$/, replacement: src('./packages/tracker-browser/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'driver/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Browser tests each start Chromium; two cores here, keep it calm.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
