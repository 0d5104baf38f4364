import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.js';
import { PREBUILDS, packCheckout, type Packed } from '../package/packed.js';

// The ARM proof: the packed package with its arm64 and armv7 prebuilt binaries, loaded by
// Debian's own arm64 and armhf node under qemu-user, runs test/arm/proof.mjs (one process:
// load, versions(), selfTest(), a loopback call with SRTP keys). qemu's instruction log
// (-d in_asm) then shows which of OpenSSL's code paths the addon itself ran: ARMv8 AES,
// PMULL (GHASH) and SHA-256 instructions by default, none with OPENSSL_armcap=0.
const ARM = {
  arm64: {
    debianArch: 'arm64',
    triplet: 'aarch64-linux-gnu',
    qemu: 'qemu-aarch64',
    opensslPlatform: 'debian-arm64',
    // AArch64 mnemonics of the ARMv8 crypto extensions, as qemu disassembles them.
    crypto: { aes: ['aese', 'aesmc'], pmull: ['pmull', 'pmull2'], sha256: ['sha256h', 'sha256h2'] },
    // The functions of OpenSSL's arm64 assembly that use them.
    functions: {
      aes: /^aes_v8_/,
      pmull: /^gcm_(init|gmult|ghash)_v8/,
      sha256: /^sha256_block_armv8$/,
    },
  },
  arm: {
    debianArch: 'armhf',
    triplet: 'arm-linux-gnueabihf',
    qemu: 'qemu-arm',
    opensslPlatform: 'debian-armhf',
    // The same extensions in AArch32 (an ARMv8 core running a 32-bit system).
    crypto: {
      aes: ['aese.8', 'aesmc.8'],
      pmull: ['vmull.p64'],
      sha256: ['sha256h.32', 'sha256h2.32'],
    },
    functions: {
      aes: /^aes_v8_/,
      pmull: /^gcm_(init|gmult|ghash)_v8/,
      sha256: /^sha256_block_data_order_armv8$/,
    },
  },
} as const;
type ArmTarget = keyof typeof ARM;

const present = (['arm64', 'arm'] as const).every((t) =>
  fs.existsSync(path.join(ROOT, PREBUILDS[t])),
);
const required = process.env.CI === 'true' || process.env.KVS_REQUIRE_PREBUILDS === '1';
const haveQemu =
  spawnSync('sh', ['-c', 'command -v qemu-aarch64 && command -v qemu-arm']).status === 0;

interface ProofReport {
  arch: string;
  addonPath: string;
  addonMappings: string[];
  versions: { openssl: string; opensslPlatform: string; libsrtp2: string; napi: number };
  selfTest: {
    profile: string;
    dtlsVersion: string;
    tamperRejected: boolean;
    replayRejected: boolean;
  }[];
  call: CallReport;
  warmCall: CallReport;
  timings: Record<string, number>;
  error?: string;
}
interface CallReport {
  offerer: Record<string, string>;
  answerer: Record<string, string>;
  errors: string[];
  timings: Record<string, number>;
}

let tmp = '';
let packed: Packed;
const consumers: Partial<Record<ArmTarget, string>> = {};
const nodes: Partial<Record<ArmTarget, string>> = {};

beforeAll(() => {
  if (!present || !haveQemu) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-arm-'));
  packed = packCheckout(tmp);
  for (const target of ['arm64', 'arm'] as const) {
    // The package as installed on the board: the tarball's files, its JavaScript
    // dependencies (no native ones) from the checkout, and only this target's binary.
    const consumer = path.join(tmp, target);
    const pkg = path.join(consumer, 'node_modules', 'kvs-webrtc');
    fs.mkdirSync(path.dirname(pkg), { recursive: true });
    fs.cpSync(packed.dir, pkg, { recursive: true });
    for (const [t, file] of Object.entries(PREBUILDS)) {
      if (t !== target) fs.rmSync(path.join(pkg, path.dirname(file)), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
    consumers[target] = consumer;
    const fetched = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { ensureDebianNode18 } from ${JSON.stringify(path.join(ROOT, 'scripts/lib/debian-node.mjs'))};` +
          `console.log(ensureDebianNode18(${JSON.stringify({ arch: ARM[target].debianArch, triplet: ARM[target].triplet })}).root);`,
      ],
      // `node scripts/setup.mjs --prebuild` fetched it: the test asks no archive.
      { encoding: 'utf8', env: { ...process.env, KVS_WEBRTC_OFFLINE: '1' } },
    );
    if (fetched.status !== 0) throw new Error(`Debian node for ${target}: ${fetched.stderr}`);
    nodes[target] = fetched.stdout.trim();
  }
}, 300_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs the proof under qemu-user; with `log`, qemu writes its instruction log there. */
function runProof(
  target: ArmTarget,
  { log, env = {} }: { log?: string; env?: Record<string, string> } = {},
): Promise<ProofReport> {
  const root = nodes[target] ?? '';
  const args = [
    ...(log ? ['-d', 'in_asm', '-D', log] : []),
    '-L',
    root,
    path.join(root, 'usr', 'bin', 'node'),
    path.join(ROOT, 'test', 'arm', 'proof.mjs'),
    consumers[target] ?? '',
  ];
  return new Promise((resolve, reject) => {
    execFile(
      ARM[target].qemu,
      args,
      { env: { ...process.env, ...env }, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        try {
          const report = JSON.parse(stdout) as ProofReport;
          if (report.error) reject(new Error(`${target}: ${report.error}\n${stderr}`));
          else if (err) reject(new Error(`${target}: ${err.message}\n${stderr}`));
          else resolve(report);
        } catch {
          reject(new Error(`${target}: no report (${err?.message ?? ''})\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

/** Function symbols of the unstripped build the prebuilt binary was stripped from. */
function functionSymbols(target: ArmTarget): { start: number; end: number; name: string }[] {
  const unstripped = path.join(ROOT, 'build', 'prebuild', target, 'Release', 'kvs_webrtc.node');
  const buildId = (f: string) =>
    execFileSync('readelf', ['-nW', f], { encoding: 'utf8' }).match(/Build ID: (\w+)/)?.[1];
  expect(fs.existsSync(unstripped), `${unstripped} (npm run prebuild keeps it)`).toBe(true);
  expect(buildId(unstripped)).toBe(buildId(path.join(ROOT, PREBUILDS[target])));
  return execFileSync('readelf', ['-sW', unstripped], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && f[3] === 'FUNC' && f[6] !== 'UND')
    .map((f) => {
      // Thumb functions have the low bit set.
      const start = Number.parseInt(f[1] ?? '0', 16) & ~1;
      return { start, end: start + Number(f[2]), name: f[7] ?? '' };
    });
}

/**
 * The crypto-extension instructions qemu translated inside the addon's code, by family,
 * with the functions they belong to. A translated block is code that ran.
 */
function cryptoInAddon(target: ArmTarget, report: ProofReport, log: string) {
  const exec = report.addonMappings.find((l) => / r-xp /.test(l));
  const base = Number.parseInt(report.addonMappings[0]?.split('-')[0] ?? '0', 16);
  const [lo, hi] = (exec?.split(/\s+/)[0] ?? '0-0').split('-').map((h) => Number.parseInt(h, 16));
  const families = ARM[target].crypto;
  const found: Record<string, { count: number; functions: Set<string> }> = {};
  for (const family of Object.keys(families)) found[family] = { count: 0, functions: new Set() };
  const symbols = functionSymbols(target);
  const seen = new Set<string>();
  const line = /^0x([0-9a-f]+):\s+(?:[0-9a-f]{8}|[0-9a-f]{4} [0-9a-f]{4}|[0-9a-f]{4})\s+(\S+)/;
  for (const l of fs.readFileSync(log, 'utf8').split('\n')) {
    const m = line.exec(l);
    if (!m?.[1] || !m[2]) continue;
    const addr = Number.parseInt(m[1], 16);
    if (addr < (lo ?? 0) || addr >= (hi ?? 0) || seen.has(m[1] + m[2])) continue;
    seen.add(m[1] + m[2]);
    for (const [family, mnemonics] of Object.entries(families)) {
      if (!(mnemonics as readonly string[]).includes(m[2])) continue;
      const entry = found[family];
      if (!entry) continue;
      entry.count++;
      const offset = addr - base;
      const fn = symbols.find((s) => offset >= s.start && offset < s.end);
      entry.functions.add(fn?.name ?? `?+0x${offset.toString(16)}`);
    }
  }
  return found;
}

function expectConnected(report: ProofReport, target: ArmTarget) {
  expect(report.arch).toBe(target);
  expect(report.addonPath).toBe(
    path.join(consumers[target] ?? '', 'node_modules', 'kvs-webrtc', PREBUILDS[target]),
  );
  for (const call of [report.call, report.warmCall]) {
    expect(call.errors).toEqual([]);
    for (const side of [call.offerer, call.answerer]) {
      expect(side).toMatchObject({
        connectionState: 'connected',
        iceState: 'connected',
        dtlsState: 'connected',
        tlsVersion: 'DTLSv1.2',
        localAddress: '127.0.0.1',
        localType: 'host',
      });
      // SRTP keys were exported on both sides for the negotiated profile.
      // IANA names, as Chromium reports them (RFC 5764 §4.1.2, RFC 7714 §14.2).
      expect(side.srtpCipher).toMatch(/^SRTP_(AEAD_AES_128_GCM|AES128_CM_HMAC_SHA1_(80|32))$/);
    }
    expect(call.offerer.srtpCipher).toBe(call.answerer.srtpCipher);
    expect(new Set([call.offerer.dtlsRole, call.answerer.dtlsRole])).toEqual(
      new Set(['client', 'server']),
    );
  }
}

describe.skipIf((!present || !haveQemu) && !required)(
  'the ARM prebuilt binaries under qemu-user',
  () => {
    it('exist, and qemu-user is installed (npm test makes both)', () => {
      expect(present, 'run `npm run prebuild`').toBe(true);
      expect(haveQemu, 'run `node scripts/setup.mjs --prebuild`').toBe(true);
    });

    for (const target of ['arm64', 'arm'] as const) {
      it(`${target}: Debian's node loads the prebuild; versions(), selfTest() and a loopback call with SRTP keys work, on ARMv8 crypto instructions`, async () => {
        const log = path.join(tmp, `${target}.in_asm.log`);
        const report = await runProof(target, { log });
        expectConnected(report, target);
        expect(report.versions.opensslPlatform).toBe(ARM[target].opensslPlatform);
        expect(report.versions.openssl).toMatch(/^OpenSSL 3\.0\./);
        expect(report.versions.napi).toBe(8);
        expect(report.selfTest.map((r) => r.profile)).toEqual([
          'AES_CM_128_HMAC_SHA1_80',
          'AES_CM_128_HMAC_SHA1_32',
          'AEAD_AES_128_GCM',
        ]);
        for (const r of report.selfTest) {
          expect(r).toMatchObject({
            dtlsVersion: 'DTLSv1.2',
            tamperRejected: true,
            replayRejected: true,
          });
        }
        // qemu's default CPU has the crypto extensions: OpenSSL's runtime detection (getauxval)
        // must pick its ARMv8 AES, PMULL and SHA-256 code in our static copy.
        const crypto = cryptoInAddon(target, report, log);
        fs.rmSync(log, { force: true });
        for (const [family, pattern] of Object.entries(ARM[target].functions)) {
          const entry = crypto[family];
          expect(entry?.count, `${family} instructions in the addon`).toBeGreaterThan(0);
          expect(
            [...(entry?.functions ?? [])].some((f) => pattern.test(f)),
            `${family}: ${[...(entry?.functions ?? [])].join(', ')}`,
          ).toBe(true);
        }
        const summary = Object.fromEntries(
          Object.entries(crypto).map(([k, v]) => [k, [...v.functions].sort().join(' ')]),
        );
        console.log(
          `${target} under qemu: ${JSON.stringify({ ...report.timings, cold: report.call.timings, warm: report.warmCall.timings, openssl: report.versions.openssl, crypto: summary })}`,
        );
      }, 600_000);
    }

    it('arm64 with OPENSSL_armcap=0: no crypto-extension instruction runs in the addon, and the call still connects', async () => {
      const log = path.join(tmp, 'arm64-armcap0.in_asm.log');
      const report = await runProof('arm64', { log, env: { OPENSSL_armcap: '0' } });
      expectConnected(report, 'arm64');
      const crypto = cryptoInAddon('arm64', report, log);
      fs.rmSync(log, { force: true });
      for (const [family, entry] of Object.entries(crypto)) {
        expect(entry.count, `${family}: ${[...entry.functions].join(', ')}`).toBe(0);
      }
    }, 600_000);
  },
);
