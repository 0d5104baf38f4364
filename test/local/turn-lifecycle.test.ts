/**
 * coturn's life and secrets (issue 17): a script using startLocalKvs() that is ended by
 * SIGTERM, SIGINT, SIGHUP or SIGKILL leaves no coturn and no temporary folder behind; the TURN
 * secret is in a 0600 file, never on a command line or in the logs; and everything the service
 * and its coturn listen on is loopback.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalKvs } from '../../lib/local/index.js';
import { findExecutable } from '../../lib/local/turn.js';
import { cleanupChildBuild, startScriptChild, type ScriptChild } from './child.js';
import { removeDir, startTestService, tempDir } from './helpers.js';

const dirs: string[] = [];
const children: ScriptChild[] = [];

afterAll(() => {
  for (const c of children)
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  for (const d of dirs) removeDir(d);
  cleanupChildBuild();
});

interface Proc {
  pid: number;
  argv: string[];
}

/** Every process whose command line names one of these coturn listening ports. */
function turnProcesses(ports: number[]): Proc[] {
  const want = ports.map((p) => `--listening-port=${p}`);
  const out: Proc[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (argv.some((a) => want.includes(a))) out.push({ pid: Number(e), argv });
  }
  return out;
}

const portsOf = (uris: string[]): number[] => [
  ...new Set(uris.filter((u) => u.startsWith('turn:')).map((u) => Number(/:(\d+)\?/.exec(u)?.[1]))),
];

/** coturn's work directory, from its --pidfile argument. */
const workDirOf = (p: Proc): string | undefined =>
  p.argv
    .find((a) => a.startsWith('--pidfile='))
    ?.slice('--pidfile='.length)
    .replace(/\/turn\.pid$/, '');

/** Bounded wait (event loop free between polls) until `done` holds; returns whether it did. */
async function eventually(done: () => boolean, rounds = 300, everyMs = 100): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return done();
}

const hasCoturn = findExecutable('turnserver') !== undefined;

describe('coturn ends with the process that started it', () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGKILL'] as const)(
    'a script using startLocalKvs() ended by %s leaves no coturn and no temporary folder',
    async (sig) => {
      expect(hasCoturn, 'coturn (turnserver) must be installed: npm run setup').toBe(true);
      const dataDir = tempDir();
      dirs.push(dataDir);
      const script = await startScriptChild(dataDir);
      children.push(script);
      const ports = portsOf(script.info.turn?.uris ?? []);
      expect(ports).toHaveLength(2);
      const before = turnProcesses(ports);
      const coturns = before.filter((p) => p.argv[0]?.endsWith('turnserver'));
      expect(coturns).toHaveLength(2);
      const workDirs = coturns.map(workDirOf);
      for (const d of workDirs) expect(d !== undefined && existsSync(d)).toBe(true);
      try {
        script.child.kill(sig);
        const how = await script.exited;
        // The default action of the signal still ends the script (nothing swallowed it).
        expect(how.signal).toBe(sig);
        const gone = await eventually(
          () => turnProcesses(ports).length === 0 && workDirs.every((d) => d && !existsSync(d)),
        );
        expect({
          left: turnProcesses(ports).map((p) => p.argv.slice(0, 3).join(' ')),
          folders: workDirs.filter((d) => d && existsSync(d)),
        }).toEqual({ left: [], folders: [] });
        expect(gone).toBe(true);
      } finally {
        // Never leave our own coturn running, even when the test failed.
        for (const p of turnProcesses(ports)) {
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    },
  );
});

/** Local addresses of every socket in /proc/net/<file> bound to one of `ports`. */
function boundAddresses(ports: number[]): { file: string; address: string; port: number }[] {
  const out: { file: string; address: string; port: number }[] = [];
  for (const file of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/net/${file}`, 'utf8');
    } catch {
      continue; // no IPv6 in this namespace
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const [address, portHex] = (line.trim().split(/\s+/)[1] ?? '').split(':') as [string, string];
      const port = parseInt(portHex, 16);
      if (ports.includes(port)) out.push({ file, address, port });
    }
  }
  return out;
}

/** /proc/net spells IPv4 as a little-endian word: 127.x.y.z ends in 7F. */
function isLoopback(hex: string): boolean {
  if (hex.length === 8) return hex.endsWith('7F');
  return (
    hex === '00000000000000000000000001000000' ||
    (hex.startsWith('0000000000000000FFFF0000') && hex.endsWith('7F'))
  );
}

describe('secrets and addresses', () => {
  it('listens on loopback only, and refuses any other host', async () => {
    expect(hasCoturn).toBe(true);
    const { svc, dataDir } = await startTestService({ turn: true });
    try {
      const coturnPorts = [
        ...new Set((svc.turn?.uris ?? []).map((u) => Number(/:(\d+)\?/.exec(u)?.[1]))),
      ];
      expect(coturnPorts.length).toBeGreaterThanOrEqual(2);
      const bound = boundAddresses([svc.port, ...coturnPorts]);
      // Something was found for every port, so the check below is not vacuous.
      for (const p of [svc.port, ...coturnPorts]) {
        expect(bound.some((b) => b.port === p)).toBe(true);
      }
      expect(bound.filter((b) => !isLoopback(b.address))).toEqual([]);
    } finally {
      await svc.stop({ graceful: false });
      removeDir(dataDir);
    }
    for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
      const dir = tempDir();
      dirs.push(dir);
      await expect(
        startLocalKvs({ host: host as '127.0.0.1', turn: false, dataDir: dir }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });

  it('keeps the TURN secret in a 0600 file, off every command line and out of the logs', async () => {
    const { svc, dataDir, logs } = await startTestService({ turn: true });
    try {
      const ports = portsOf(svc.turn?.uris ?? []);
      const procs = turnProcesses(ports);
      const coturns = procs.filter((p) => p.argv[0]?.endsWith('turnserver'));
      expect(coturns).toHaveLength(2);
      for (const p of coturns) {
        const config = p.argv[p.argv.indexOf('-c') + 1] as string;
        expect(statSync(config).mode & 0o777).toBe(0o600);
        const secret = /^static-auth-secret=(.+)$/m.exec(readFileSync(config, 'utf8'))?.[1];
        expect(secret).toMatch(/^[0-9a-f]{48}$/);
        // Neither coturn nor its watchdog wrapper carries it in argv.
        for (const q of procs) expect(q.argv.join(' ')).not.toContain(secret);
        expect(logs.join('\n')).not.toContain(secret);
      }
      expect(logs.join('\n')).not.toContain(svc.credentials.secretAccessKey);
    } finally {
      await svc.stop({ graceful: false });
      removeDir(dataDir);
    }
  });
});
