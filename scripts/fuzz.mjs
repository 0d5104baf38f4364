#!/usr/bin/env node
// Builds and runs every fuzz target for a bounded time: the libFuzzer targets of the native
// core (test/fuzz/*_fuzz.cc, built with clang into build/fuzz/), and the JavaScript fuzz
// properties of the local service and the signaling codec (test/fuzz-js/*.test.ts, fast-check
// under vitest). Each native target starts from its committed corpus
// (test/fuzz/corpus/<name>/), copied to a scratch directory (build/fuzz/work/<name>/) so that
// runs never rewrite the committed files. Any crash, leak, timeout or out-of-memory fails the
// run; the input that caused it is kept in build/fuzz/artifacts/<name>/ and named in the
// output. Executions per target are printed and appended to build/fuzz/runs.jsonl.
//
// Jazzer.js (a coverage-guided JS fuzzer) was the first choice for the JavaScript targets; its
// package carries a prebuilt binary, but one linked against glibc 2.38 that Debian 12 (2.36)
// cannot load, and its older versions download their binaries from GitHub. So they are
// fast-check properties: random, structure-aware inputs, not coverage-guided.
//
//   node scripts/fuzz.mjs [--seconds N | --minutes N] [--only a,b] [--native] [--jobs 1|2]
//                         [--keep] [--merge] [--build-only] [--nice] [--leaks-at-end]
//
//   --seconds/--minutes  time per target (default 20 s: what `npm test` spends)
//   --only               a comma-separated subset of the targets
//   --native             the native targets only (`npm test` runs the JavaScript properties
//                        in its vitest run, with a fixed number of inputs each)
//   --jobs               targets run at once (default 2, at most 2: the machine is shared)
//   --keep               continue from the scratch corpus of the previous run instead of
//                        reseeding it from the committed one (long runs in several sittings)
//   --merge              after the run, add to each committed corpus what its scratch corpus
//                        covers beyond it, minimised (libFuzzer -merge=1)
//   --build-only         build the native targets and stop
//   --nice               run the fuzzers at nice 19 (long runs beside other work)
//   --leaks-at-end       no leak check after each input (LeakSanitizer's scans took ~40% of
//                        the sctp target's time); instead the scratch corpus, every input
//                        that found something new, is replayed once with leak checks on at
//                        the end, and a leak there fails the run as usual
//
// `npm run fuzz -- --minutes 30` runs everything for 30 minutes per target.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDebianSource } from '../deps/debian-source.mjs';
import { cacheRoot, ROOT } from './lib/paths.mjs';
import { have, log, run } from './lib/run.mjs';

const CORE = 'binding/core';
const SAN = '-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer';

/**
 * The native targets: the core sources each links (globs under binding/core), extra flags,
 * and libFuzzer options. max_len and timeout follow each target's header.
 */
const NATIVE = {
  stun: {
    sources: ['stun/*.cc', 'net/address.cc', 'crypto/openssl.cc'],
    libs: ['-lssl', '-lcrypto'],
    options: ['-timeout=10'],
  },
  sdp: { sources: ['sdp/*.cc'], options: ['-max_len=8192', '-timeout=10'] },
  rtp: { sources: ['rtp/*.cc'], options: ['-timeout=10'] },
  depacketizer: {
    sources: ['media/*.cc', 'rtp/*.cc', 'sdp/*.cc'],
    options: ['-max_len=4096', '-timeout=10'],
  },
  jitter_buffer: {
    sources: ['media/*.cc', 'rtp/*.cc', 'sdp/*.cc'],
    options: ['-max_len=4096', '-timeout=10'],
  },
  dcep: { sources: ['sctp/dcep.cc'], options: ['-timeout=10'] },
  mdns: { sources: ['mdns/*.cc', 'net/address.cc'], options: ['-timeout=10'] },
  // usrsctp rebuilt with coverage and ASan (cached, see ensureFuzzUsrsctp), so that the
  // fuzzer sees into it. Both findings of its author were hangs: -timeout matters.
  sctp: {
    sources: ['sctp/*.cc'],
    usrsctp: true,
    includes: ['-Itest/cpp'],
    libs: ['-lpthread'],
    options: ['-max_len=2048', '-timeout=20'],
  },
};

/** The JavaScript targets: fast-check property files, run by vitest for the time given. */
const JS = {
  js_sigv4: 'test/fuzz-js/sigv4.test.ts',
  js_codec: 'test/fuzz-js/codec.test.ts',
  js_hub: 'test/fuzz-js/hub.test.ts',
};

// ---- arguments ----

const argv = process.argv.slice(2);
const arg = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const seconds = arg('--minutes')
  ? Math.round(Number(arg('--minutes')) * 60)
  : Number(arg('--seconds') ?? 20);
if (!Number.isFinite(seconds) || seconds < 1)
  throw new Error('--seconds/--minutes: a positive time');
const all = [...Object.keys(NATIVE), ...Object.keys(JS)];
const only = arg('--only')?.split(',') ?? (argv.includes('--native') ? Object.keys(NATIVE) : all);
for (const name of only) if (!all.includes(name)) throw new Error(`unknown fuzz target ${name}`);
const jobs = Math.max(1, Math.min(2, Number(arg('--jobs') ?? 2)));
const keep = argv.includes('--keep');
const merge = argv.includes('--merge');
const buildOnly = argv.includes('--build-only');
const nice = argv.includes('--nice');
const leaksAtEnd = argv.includes('--leaks-at-end');

const OUT = path.join(ROOT, 'build', 'fuzz');
const CORPUS = path.join(ROOT, 'test', 'fuzz', 'corpus');

// ---- building ----

function clangVersion() {
  return run('clang++', ['--version']).split('\n')[0] ?? '';
}

function checkToolchain() {
  if (!have('clang++') || !have('ninja')) {
    throw new Error(
      'clang++ or ninja is missing: run `node scripts/setup.mjs` as root (it installs clang, ' +
        'libclang-rt-14-dev and ninja-build)',
    );
  }
}

/**
 * usrsctp built with clang, coverage (fuzzer-no-link) and ASan, as the sctp target's header
 * describes, cached under ~/.cache/kvs-webrtc/fuzz/ keyed by its inputs: the Debian source
 * version, this recipe and the compiler. Returns the install prefix (include/, lib/).
 */
function ensureFuzzUsrsctp() {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'deps', 'manifest.json'), 'utf8'));
  const pkg = manifest.packages.usrsctp;
  const recipe = [
    '-G',
    'Ninja',
    '-DCMAKE_C_COMPILER=clang',
    '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
    `-DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer`,
    '-DCMAKE_INSTALL_LIBDIR=lib',
    '-Dsctp_build_programs=OFF',
    '-Dsctp_build_shared_lib=OFF',
    '-Dsctp_werror=OFF',
    '-Dsctp_debug=OFF',
    '-Dsctp_inet=OFF',
    '-Dsctp_inet6=OFF',
  ];
  const key = crypto
    .createHash('sha256')
    .update(JSON.stringify({ pkg, suite: manifest.debianSuite, recipe, clang: clangVersion() }))
    .digest('hex')
    .slice(0, 12);
  const cache = cacheRoot();
  const prefix = path.join(cache, 'fuzz', `usrsctp-${key}`);
  if (fs.existsSync(path.join(prefix, '.complete'))) return prefix;
  const src = ensureDebianSource({ cache, suite: manifest.debianSuite, ...pkg });
  const staging = `${prefix}.tmp-${process.pid}`;
  const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-fuzz-usrsctp-'));
  try {
    log(`building usrsctp ${pkg.version} with coverage and ASan for the sctp fuzz target`);
    fs.rmSync(staging, { recursive: true, force: true });
    run('cmake', ['-S', src, '-B', buildDir, ...recipe, `-DCMAKE_INSTALL_PREFIX=${staging}`]);
    run('cmake', ['--build', buildDir, '--parallel', '2']);
    run('cmake', ['--install', buildDir]);
    fs.writeFileSync(path.join(staging, '.complete'), `${pkg.version}\n`);
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.renameSync(staging, prefix);
  } finally {
    fs.rmSync(buildDir, { recursive: true, force: true });
  }
  return prefix;
}

/** Expands `dir/*.cc` and plain paths under binding/core, relative to the root. */
function expand(globs) {
  const out = [];
  for (const g of globs) {
    const full = path.join(CORE, g);
    if (!g.includes('*')) {
      out.push(full);
      continue;
    }
    const dir = path.dirname(full);
    for (const f of fs.readdirSync(path.join(ROOT, dir)).sort()) {
      if (f.endsWith('.cc')) out.push(path.join(dir, f));
    }
  }
  return out;
}

/**
 * Writes build/fuzz/build.ninja (every source compiled once with coverage and sanitizers,
 * each target linked from its objects) and runs ninja: incremental, dependencies from -MD.
 */
function buildNative(names) {
  checkToolchain();
  fs.mkdirSync(OUT, { recursive: true });
  const needUsrsctp = names.some((n) => NATIVE[n].usrsctp);
  const usrsctp = needUsrsctp ? ensureFuzzUsrsctp() : undefined;
  const esc = (p) => p.replace(/([ :$])/g, '$$$1');
  const lines = [
    '# Generated by scripts/fuzz.mjs: do not edit.',
    `root = ${esc(ROOT)}`,
    `cxxflags = -std=c++17 -g -O1 ${SAN} -fsanitize=fuzzer-no-link -I$root/${CORE}`,
    'rule cxx',
    '  command = clang++ -MD -MF $out.d $cxxflags $extra -c $in -o $out',
    '  depfile = $out.d',
    '  deps = gcc',
    '  description = CXX $out',
    'rule link',
    `  command = clang++ -g ${SAN} -fsanitize=fuzzer $in $libs -o $out`,
    '  description = LINK $out',
  ];
  const objects = new Map(); // source -> object path (shared across targets)
  const objOf = (src, extra) => {
    const id = `${src}${extra}`;
    if (!objects.has(id)) {
      const obj = `obj/${src.replace(/\//g, '_')}${extra ? `.${hash(extra)}` : ''}.o`;
      lines.push(`build ${obj}: cxx $root/${src}`);
      if (extra) lines.push(`  extra = ${extra}`);
      objects.set(id, obj);
    }
    return objects.get(id);
  };
  for (const name of names) {
    const t = NATIVE[name];
    const extra = [
      ...(t.includes ?? []).map((i) => i.replace(/^-I/, `-I${ROOT}/`)),
      ...(usrsctp && t.usrsctp ? [`-isystem ${usrsctp}/include`] : []),
    ].join(' ');
    const objs = [`test/fuzz/${name}_fuzz.cc`, ...expand(t.sources)].map((s) => objOf(s, extra));
    const libs = [...(t.usrsctp ? [`${usrsctp}/lib/libusrsctp.a`] : []), ...(t.libs ?? [])];
    lines.push(`build ${name}_fuzz: link ${objs.join(' ')}`);
    lines.push(`  libs = ${libs.join(' ')}`);
  }
  fs.writeFileSync(path.join(OUT, 'build.ninja'), `${lines.join('\n')}\n`);
  run('ninja', ['-C', OUT, '-j', '2', ...names.map((n) => `${n}_fuzz`)]);
}

function hash(s) {
  return crypto.createHash('sha256').update(s).digest('hex').slice(0, 8);
}

// ---- running ----

/** Copies the committed corpus into the scratch directory (unless --keep and it exists). */
function scratchCorpus(name) {
  const work = path.join(OUT, 'work', name);
  const committed = path.join(CORPUS, name);
  if (!fs.existsSync(committed)) throw new Error(`no committed corpus: ${committed}`);
  if (!keep || !fs.existsSync(work)) {
    fs.rmSync(work, { recursive: true, force: true });
    fs.cpSync(committed, work, { recursive: true });
  }
  return work;
}

function spawnCollect(cmd, args, { deadlineMs, ...options }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer =
      deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            out += `\n[fuzz.mjs] no result after ${deadlineMs / 1000} s: killed as hung\n`;
            child.kill('SIGKILL');
          }, deadlineMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

/** Inputs run by a JavaScript target, summed from what its properties logged. */
function jsExecutions(file) {
  if (!fs.existsSync(file)) return NaN;
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .reduce((n, line) => n + JSON.parse(line).execs, 0);
}

function wrap(cmd, args) {
  return nice ? ['nice', ['-n', '19', cmd, ...args]] : [cmd, args];
}

/** One target for `seconds`: { name, ok, execs, seconds, artifacts, tail }. */
async function runTarget(name) {
  const work = name in NATIVE ? scratchCorpus(name) : undefined;
  const artifacts = path.join(OUT, 'artifacts', name);
  fs.mkdirSync(artifacts, { recursive: true });
  const before = new Set(fs.readdirSync(artifacts));
  const common = [
    `-max_total_time=${seconds}`,
    `-artifact_prefix=${artifacts}/`,
    '-print_final_stats=1',
    '-rss_limit_mb=2048',
  ];
  let cmd;
  let args;
  const env = { ...process.env };
  const jsLog = path.join(OUT, 'work', `${name}.jsonl`);
  if (name in NATIVE) {
    cmd = path.join(OUT, `${name}_fuzz`);
    args = [...NATIVE[name].options, ...common, work];
    // Leaks fail the run (the libFuzzer default under ASan), as do UBSan findings.
    env.ASAN_OPTIONS = `detect_leaks=${leaksAtEnd ? 0 : 1}:abort_on_error=0:halt_on_error=1`;
    if (leaksAtEnd) args.unshift('-detect_leaks=0');
    env.UBSAN_OPTIONS = 'print_stacktrace=1:halt_on_error=1';
  } else {
    cmd = process.execPath;
    args = [path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', JS[name]];
    env.KVS_FUZZ_JS_SECONDS = String(seconds);
    env.KVS_FUZZ_JS_LOG = jsLog;
    fs.rmSync(jsLog, { force: true });
  }
  const started = Date.now();
  const [c, a] = wrap(cmd, args);
  // libFuzzer bounds each input (-timeout); a JavaScript property that hangs is caught here.
  const res = await spawnCollect(c, a, { cwd: ROOT, env, deadlineMs: (seconds + 300) * 1000 });
  if (leaksAtEnd && name in NATIVE && res.code === 0) {
    // -runs=0 executes each corpus input once; LeakSanitizer then checks at exit.
    const [rc, ra] = wrap(cmd, [...NATIVE[name].options, '-runs=0', work]);
    const replay = await spawnCollect(rc, ra, {
      cwd: ROOT,
      env: { ...env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:halt_on_error=1' },
      deadlineMs: 600_000,
    });
    if (replay.code !== 0) {
      res.code = replay.code;
      res.signal = replay.signal;
      res.out += `\n[fuzz.mjs] replaying the corpus with leak checks failed:\n${replay.out}`;
    }
  }
  const elapsed = (Date.now() - started) / 1000;
  const execs =
    name in NATIVE
      ? Number(/stat::number_of_executed_units:\s*(\d+)/.exec(res.out)?.[1] ?? NaN)
      : jsExecutions(jsLog);
  if (!(name in NATIVE) && res.code !== 0) {
    // fast-check's report (seed, path, shrunk counterexample) is what reproduces it.
    const file = path.join(
      artifacts,
      `failure-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`,
    );
    fs.writeFileSync(file, res.out);
  }
  const fresh = fs.readdirSync(artifacts).filter((f) => !before.has(f));
  const ok = res.code === 0 && fresh.length === 0 && Number.isFinite(execs);
  return {
    name,
    ok,
    execs,
    seconds: elapsed,
    corpusFiles: work ? fs.readdirSync(work).length : undefined,
    artifacts: fresh.map((f) => path.join(artifacts, f)),
    exit: res.signal ?? res.code,
    tail: res.out.trimEnd().split('\n').slice(-60).join('\n'),
  };
}

/** Adds to the committed corpus what the scratch one covers beyond it, minimised. */
async function mergeInto(name) {
  const work = path.join(OUT, 'work', name);
  const committed = path.join(CORPUS, name);
  const cmd = path.join(OUT, `${name}_fuzz`);
  const args = [...NATIVE[name].options, '-merge=1', committed, work];
  const [c, a] = wrap(cmd, args);
  const res = await spawnCollect(c, a, {
    cwd: ROOT,
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' },
  });
  if (res.code !== 0) throw new Error(`merging ${name} failed:\n${res.out.slice(-3000)}`);
  const files = fs.readdirSync(committed);
  const bytes = files.reduce((n, f) => n + fs.statSync(path.join(committed, f)).size, 0);
  log(`${name}: committed corpus now ${files.length} files, ${(bytes / 1024).toFixed(1)} KB`);
}

async function main() {
  const native = only.filter((n) => n in NATIVE);
  const t0 = Date.now();
  if (native.length > 0) buildNative(native);
  const buildSeconds = (Date.now() - t0) / 1000;
  if (buildOnly) {
    log(`fuzz targets built in ${buildSeconds.toFixed(1)} s`);
    return;
  }
  log(
    `fuzzing ${only.length} targets for ${seconds} s each, ${jobs} at a time` +
      (native.length > 0 ? ` (native build ${buildSeconds.toFixed(1)} s)` : ''),
  );
  const queue = [...only];
  const results = [];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const r = await runTarget(name);
      results.push(r);
      const rate = Number.isFinite(r.execs) ? Math.round(r.execs / r.seconds) : 0;
      log(
        `${r.ok ? 'ok  ' : 'FAIL'} ${name}: ${r.execs} executions in ${r.seconds.toFixed(0)} s ` +
          `(${rate}/s)${r.corpusFiles !== undefined ? `, corpus ${r.corpusFiles} files` : ''}`,
      );
      fs.appendFileSync(
        path.join(OUT, 'runs.jsonl'),
        `${JSON.stringify({ at: new Date().toISOString(), name: r.name, ok: r.ok, execs: r.execs, seconds: r.seconds })}\n`,
      );
    }
  };
  fs.mkdirSync(OUT, { recursive: true });
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) {
    process.stderr.write(`\n---- ${r.name} failed (exit ${r.exit}) ----\n${r.tail}\n`);
    for (const a of r.artifacts) process.stderr.write(`crashing input kept: ${a}\n`);
  }
  if (merge && failed.length === 0) for (const name of native) await mergeInto(name);
  const total = ((Date.now() - t0) / 1000).toFixed(1);
  if (failed.length > 0) {
    log(`fuzzing failed: ${failed.map((r) => r.name).join(', ')} (${total} s)`);
    process.exit(1);
  }
  log(`fuzzing passed: ${results.length} targets, no crash, leak or timeout (${total} s)`);
}

await main();
