#!/usr/bin/env node
// Makes the prebuilt binaries that the package ships, with prebuildify's names (what
// node-gyp-build looks for):
//   prebuilds/linux-x64/kvs-webrtc.node
//   prebuilds/linux-arm64/kvs-webrtc.node
//   prebuilds/linux-arm/kvs-webrtc.armv7.node      (ARMv7-A, hard-float)
// then checks each one (machine, stripped, only libc-family needs, only the N-API entry
// points exported) and prints its size and glibc floor.
//
//   node scripts/prebuild.mjs [--targets x64,arm64,arm] [--clean] [--no-setup]
// It runs `scripts/setup.mjs --prebuild` first (Debian packages with the cross compilers
// and qemu-user, node modules, the host build), unless --no-setup says that just happened.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { inspectElf, LIBC_FAMILY } from './lib/elf.mjs';
import { isCross, ROOT, TARGETS } from './lib/paths.mjs';
import { log, run } from './lib/run.mjs';

/**
 * npm runs a script named `prebuild` before `build` too. `npm run build` must not start
 * three builds, so when this runs as that hook (npm's own arguments say `build`), it stops.
 */
function isPreHookOfBuild() {
  if (process.env.npm_lifecycle_event !== 'prebuild') return false;
  let pid = process.ppid;
  for (let depth = 0; depth < 4 && pid > 1; depth++) {
    let cmdline;
    let stat;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return false;
    }
    // npm sets its process title to "npm run build": one argument holding them all.
    const args = cmdline.length === 1 ? (cmdline[0] ?? '').split(/\s+/) : cmdline;
    const cli = args.findIndex((a) => /(^|\/)npm(-cli\.js)?$/.test(a));
    if (cli >= 0) {
      const words = args.slice(cli + 1).filter((a) => !a.startsWith('-'));
      return !words.includes('prebuild') && words.includes('build');
    }
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return false;
}

if (isPreHookOfBuild()) process.exit(0);

const argv = process.argv.slice(2);
if (!argv.includes('--no-setup')) {
  run(process.execPath, [path.join(ROOT, 'scripts', 'setup.mjs'), '--prebuild'], { quiet: false });
}
const hostTargets = process.arch === 'x64' ? Object.keys(TARGETS) : [process.arch];
const targetsArg = argv.includes('--targets') ? argv[argv.indexOf('--targets') + 1] : undefined;
const targets = targetsArg ? targetsArg.split(',') : hostTargets;
for (const t of targets) {
  if (!hostTargets.includes(t)) {
    throw new Error(`cannot build ${t} on ${process.arch}; this host builds ${hostTargets}`);
  }
}
if (argv.includes('--clean')) {
  for (const t of targets.filter(isCross)) {
    fs.rmSync(path.join(ROOT, 'build', 'prebuild', t), { recursive: true, force: true });
  }
}

const require = createRequire(import.meta.url);
const prebuildify = path.join(path.dirname(require.resolve('prebuildify/package.json')), 'bin.js');
const standIn = path.join(ROOT, 'scripts', 'prebuildify-node-gyp.mjs');
fs.chmodSync(standIn, 0o755); // prebuildify executes it directly

const rows = [];
for (const target of targets) {
  const t = TARGETS[target];
  const started = Date.now();
  const stage = path.join(ROOT, 'build', 'prebuild', `stage-${target}`);
  const dest = path.join(ROOT, 'prebuilds', t.prebuildDir);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  fs.rmSync(dest, { recursive: true, force: true });
  log(`prebuild for ${target} (${t.triplet})`);
  run(
    process.execPath,
    [
      prebuildify,
      '--napi',
      '--strip',
      '--strip-bin',
      isCross(target) ? `${t.triplet}-strip` : 'strip',
      '--name',
      'kvs-webrtc',
      '--cwd',
      stage,
      '--out',
      ROOT,
      '--node-gyp',
      standIn,
      ...t.prebuildifyArgs,
    ],
    { cwd: stage, quiet: false },
  );
  fs.rmSync(stage, { recursive: true, force: true });

  const file = path.join(dest, t.prebuildFile);
  if (!fs.existsSync(file)) throw new Error(`prebuildify did not produce ${file}`);
  const elf = inspectElf(file);
  const problems = [];
  if (elf.machine !== t.elfMachine) problems.push(`machine is ${elf.machine}`);
  if (!elf.stripped) problems.push('not stripped');
  const foreign = elf.needed.filter((n) => !LIBC_FAMILY.test(n));
  if (foreign.length) problems.push(`needs ${foreign.join(', ')}`);
  const exportsExpected = ['napi_register_module_v1', 'node_api_module_get_api_version_v1'];
  if (elf.exported.join() !== exportsExpected.join()) {
    problems.push(`exports ${elf.exported.length} symbols: ${elf.exported.slice(0, 5).join(', ')}`);
  }
  if (problems.length) throw new Error(`${path.relative(ROOT, file)}: ${problems.join('; ')}`);
  rows.push({
    target,
    file: path.relative(ROOT, file),
    bytes: elf.bytes,
    glibc: elf.glibcFloor,
    needed: elf.needed.join(' '),
    seconds: Math.round((Date.now() - started) / 100) / 10,
  });
}

for (const r of rows) {
  log(
    `${r.file}: ${(r.bytes / 1e6).toFixed(2)} MB stripped, glibc >= ${r.glibc}, ` +
      `needs ${r.needed}, built in ${r.seconds} s`,
  );
}
