// Fails fast, with the fix, when no Chromium is available for the browser tests.
import { existsSync } from 'node:fs';
import { findChromium } from './browser-path.mjs';

const path = findChromium();
if (!path || !existsSync(path)) {
  console.error(`No Chromium found for the browser tests.
Install Debian's:   sudo apt-get update && sudo apt-get install -y chromium
or point CHROMIUM_PATH at a Chromium/Chrome binary.`);
  process.exit(1);
}
console.log(`e2e: using ${path}`);
