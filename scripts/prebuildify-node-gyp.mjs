#!/usr/bin/env node
// prebuildify drives node-gyp; this stands in for it: `rebuild --arch=<a> --release` becomes
// a clean cmake-js build for that target, without the C++ tests.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/paths.mjs';
import { run } from './lib/run.mjs';

const args = process.argv.slice(2);
if (args[0] !== 'rebuild') {
  process.stderr.write(`prebuildify-node-gyp: only "rebuild" is supported, got ${args[0]}\n`);
  process.exit(2);
}
const arch = args.find((a) => a.startsWith('--arch='))?.slice('--arch='.length) ?? process.arch;
fs.rmSync(path.join(ROOT, 'build'), { recursive: true, force: true });
run(
  process.execPath,
  [path.join(ROOT, 'scripts', 'build-native.mjs'), '--target', arch, '--no-tests'],
  { quiet: false },
);
