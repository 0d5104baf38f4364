#!/usr/bin/env node
// prebuildify drives node-gyp; this stands in for it. `rebuild --arch=<a> --release` builds
// the addon for that target with cmake-js and leaves it in <cwd>/build/Release, where
// prebuildify strips it and moves it into prebuilds/. scripts/prebuild.mjs runs prebuildify
// with a staging folder as its cwd, so the move never takes the checkout's own build.
//   host target:  the checkout's release build (build/, as `npm run build:native` makes it;
//                 the C++ tests in the same tree do not touch the addon);
//   cross target: build/prebuild/<target>, with the target's toolchain file and OpenSSL.
import fs from 'node:fs';
import path from 'node:path';
import { isCross, ROOT, TARGETS } from './lib/paths.mjs';
import { run } from './lib/run.mjs';

const args = process.argv.slice(2);
if (args[0] !== 'rebuild') {
  process.stderr.write(`prebuildify-node-gyp: only "rebuild" is supported, got ${args[0]}\n`);
  process.exit(2);
}
const target = args.find((a) => a.startsWith('--arch='))?.slice('--arch='.length) ?? process.arch;
if (!(target in TARGETS)) {
  process.stderr.write(`prebuildify-node-gyp: no recipe for --arch=${target}\n`);
  process.exit(2);
}
const stage = path.resolve(process.cwd());
if (stage === ROOT) {
  process.stderr.write(
    "prebuildify-node-gyp: prebuildify would move the checkout's own build; use `npm run prebuild`\n",
  );
  process.exit(2);
}

const out = isCross(target) ? path.join('build', 'prebuild', target) : 'build';
run(
  process.execPath,
  [
    path.join(ROOT, 'scripts', 'build-native.mjs'),
    '--target',
    target,
    '--out',
    out,
    ...(isCross(target) ? ['--no-tests'] : []),
  ],
  { quiet: false },
);
const release = path.join(stage, 'build', 'Release');
fs.rmSync(release, { recursive: true, force: true });
fs.mkdirSync(release, { recursive: true });
fs.copyFileSync(
  path.join(ROOT, out, 'Release', 'kvs_webrtc.node'),
  path.join(release, 'kvs_webrtc.node'),
);
