#!/usr/bin/env node
// npm's install hook for consumers: use the prebuilt binary when one loads, otherwise build
// from source (needs the Debian packages that scripts/setup.mjs lists).
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from './lib/paths.mjs';
import { log, run } from './lib/run.mjs';

if (process.env.KVS_WEBRTC_SKIP_INSTALL_BUILD === '1') process.exit(0);

const require = createRequire(import.meta.url);
try {
  require('node-gyp-build')(ROOT);
  process.exit(0);
} catch {
  log('no prebuilt binary for this platform: building from source');
}
try {
  run(process.execPath, [path.join(ROOT, 'scripts', 'build-native.mjs')], { quiet: false });
} catch (err) {
  log(`build failed: ${err.message}`);
  process.exit(1);
}
