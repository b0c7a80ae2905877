// Browser tests need Debian's Chromium (browsers cannot be downloaded here). Under CI a missing
// browser is an error; on a workstation the browser tests are skipped with a reason.
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(path)) {
  const msg = `Chromium not found at ${path}: install it with \`apt-get update && apt-get install -y chromium\` (or set CHROMIUM_PATH).`;
  if (process.env.CI === 'true') {
    console.error(`ERROR: ${msg} The browser tests cannot run.`);
    process.exit(1);
  }
  console.warn(`WARNING: ${msg} Browser tests will be skipped.`);
}
