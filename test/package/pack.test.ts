import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.js';
import { PREBUILDS, packCheckout, scratchProject, type Packed } from './packed.js';

// `npm pack`, then the tarball installed into an empty project on "a machine with no
// compiler": a private mount namespace in which every compiler, assembler, linker and
// build tool is replaced by a stub that fails, and gcc's and CMake's own folders are empty.
// The install (its install hook included) must then load the prebuilt binary, not build.
const present = Object.values(PREBUILDS).every((f) => fs.existsSync(path.join(ROOT, f)));
const required = process.env.CI === 'true' || process.env.KVS_REQUIRE_PREBUILDS === '1';

const TOOLS = [
  'cc',
  'c++',
  'gcc',
  'g++',
  'cpp',
  'clang',
  'clang++',
  'as',
  'ld',
  'cmake',
  'make',
  'gmake',
  'ninja',
  'aarch64-linux-gnu-gcc',
  'aarch64-linux-gnu-g++',
  'arm-linux-gnueabihf-gcc',
  'arm-linux-gnueabihf-g++',
];
const HIDE_COMPILERS = `
set -e
stub="$(mktemp -d)/hidden"
printf '#!/bin/sh\\necho "$0: hidden by the test" >&2\\nexit 127\\n' > "$stub"
chmod 755 "$stub"
for tool in ${TOOLS.join(' ')}; do
  p="$(command -v "$tool" || true)"
  if [ -n "$p" ]; then mount --bind "$stub" "$(readlink -f "$p")"; fi
done
for d in /usr/lib/gcc /usr/lib/gcc-cross /usr/libexec/gcc /usr/share/cmake-*; do
  if [ -d "$d" ]; then mount -t tmpfs none "$d"; fi
done
exec "$@"
`;

const sha256 = (file: string) =>
  crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Runs a command in a private mount namespace without compilers. */
function withoutCompilers(cwd: string, cmd: string, args: string[]) {
  return spawnSync('unshare', ['--mount', 'sh', '-c', HIDE_COMPILERS, 'hide', cmd, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'error' },
    timeout: 300_000,
  });
}

let tmp = '';
let packed: Packed;
let scratch = '';

beforeAll(() => {
  if (!present) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-pack-'));
  packed = packCheckout(tmp);
  scratch = path.join(tmp, 'scratch');
  fs.mkdirSync(scratch);
  scratchProject(scratch, packed.tarball);
}, 120_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!present && !required)('the packed package', () => {
  it('was built: npm run prebuild made every prebuilt binary', () => {
    expect(present, 'run `npm run prebuild` first').toBe(true);
  });

  it('holds the prebuilt binaries, dist/ and the types, and no build tree or test data', () => {
    const files = new Set(packed.files);
    for (const f of Object.values(PREBUILDS)) expect(files.has(f), f).toBe(true);
    expect(files.has('dist/index.js')).toBe(true);
    expect(files.has('dist/index.d.ts')).toBe(true);
    expect(files.has('package.json')).toBe(true);
    const unwanted = packed.files.filter(
      (f) =>
        /^(build|test|bench|lib|node_modules|\.ci|\.cache|cmake)\//.test(f) ||
        /\.tsbuildinfo$/.test(f) ||
        (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)),
    );
    expect(unwanted).toEqual([]);
    // Demo media may ship in samples/, within 2 MB.
    const samples = packed.files
      .filter((f) => f.startsWith('samples/'))
      .reduce((sum, f) => sum + fs.statSync(path.join(packed.dir, f)).size, 0);
    expect(samples).toBeLessThan(2 * 1024 * 1024);
  });

  it('the namespace really has no compiler or build tool', () => {
    for (const [cmd, args] of [
      ['cc', ['--version']],
      ['sh', ['-c', 'printf "int main(){return 0;}" | c++ -x c++ - -o /dev/null']],
      ['cmake', ['--version']],
      ['make', ['--version']],
    ] as const) {
      const r = withoutCompilers(scratch, cmd, [...args]);
      expect(r.status, `${cmd} ${args.join(' ')} ran: ${r.stdout}`).not.toBe(0);
    }
  });

  it('installs into an empty project with no compiler, its install hook included', () => {
    const r = withoutCompilers(scratch, 'npm', [
      'ci',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--foreground-scripts',
    ]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    // The hook ran (it loads the addon) and did not fall back to a source build.
    expect(`${r.stdout}${r.stderr}`).toMatch(
      /> kvs-webrtc@[\d.]+ install\n> node scripts\/install\.mjs/,
    );
    expect(`${r.stdout}${r.stderr}`).not.toMatch(
      /building from source|hidden by the test|not yet covered/,
    );
    expect(fs.existsSync(path.join(scratch, 'node_modules', 'kvs-webrtc', 'build'))).toBe(false);
  });

  it('loads the x64 prebuilt binary, not a local build, and it works', () => {
    const pkg = path.join(scratch, 'node_modules', 'kvs-webrtc');
    const r = withoutCompilers(scratch, process.execPath, [
      '-e',
      "const k = require('kvs-webrtc'); const dir = require.resolve('kvs-webrtc/package.json');" +
        "const b = require(require.resolve('node-gyp-build', { paths: [dir] }));" +
        'console.log(JSON.stringify({ file: b.path(require("path").dirname(dir)),' +
        ' v: k.versions(), s: k.selfTest().map((x) => x.dtlsVersion) }))',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; v: { openssl: string }; s: string[] };
    expect(out.file).toBe(path.join(pkg, PREBUILDS.x64));
    expect(sha256(out.file)).toBe(sha256(path.join(ROOT, PREBUILDS.x64)));
    expect(out.v.openssl).toMatch(/^OpenSSL 3\./);
    expect(out.s).toEqual(['DTLSv1.2', 'DTLSv1.2', 'DTLSv1.2']);
  });

  it('makes a loopback call from the installed package (the ARM proof, on x64)', () => {
    const r = withoutCompilers(scratch, process.execPath, [
      path.join(ROOT, 'test', 'arm', 'proof.mjs'),
      scratch,
    ]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const report = JSON.parse(r.stdout) as {
      addonPath: string;
      call: {
        offerer: Record<string, unknown>;
        answerer: Record<string, unknown>;
        timings: Record<string, number>;
      };
      timings: Record<string, number>;
      warmCall: { timings: Record<string, number> };
    };
    expect(report.addonPath).toBe(path.join(scratch, 'node_modules', 'kvs-webrtc', PREBUILDS.x64));
    for (const side of [report.call.offerer, report.call.answerer]) {
      expect(side).toMatchObject({ connectionState: 'connected', dtlsState: 'connected' });
      // IANA names, as Chromium reports them (RFC 5764 §4.1.2, RFC 7714 §14.2).
      expect(side.srtpCipher).toMatch(/^SRTP_(AEAD_AES_128_GCM|AES128_CM_HMAC_SHA1_(80|32))$/);
    }
    // For the README's comparison with the emulated ARM runs (not asserted: no timings).
    console.log(
      `x64 set-up: ${JSON.stringify({ ...report.timings, cold: report.call.timings, warm: report.warmCall.timings })}`,
    );
  });
});
