// `kvs-webrtc nat`: RFC 5780 discovery against coturn given two addresses, from hosts in
// network namespaces this test makes: on the server's own network (no NAT), behind a
// masquerading router (mapping endpoint-independent, filtering address-and-port-dependent,
// as Linux conntrack is), and behind one that picks a random port per destination.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatBehavior } from '../../lib/nat/discover.js';
import { makeNatTopology, type NatTopology } from '../helpers/nat.js';
import { skipWithoutNetns } from '../helpers/netns.js';
import { cli, lastJson } from './helpers.js';

const PRIMARY = '10.99.1.2';
const OTHER = '10.99.4.2';

/** coturn in `ns` listening on the given addresses (two make it an RFC 5780 server). */
async function startStun(ns: string, addresses: string[]): Promise<() => void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-nat-stun-'));
  const child: ChildProcess = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'turnserver',
      '-c',
      '/dev/null',
      '-n',
      ...addresses.map((a) => `--listening-ip=${a}`),
      '--listening-port=3478',
      '--realm=kvs-nat',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--stun-only',
      `--pidfile=${path.join(dir, 'turn.pid')}`,
      `--userdb=${path.join(dir, 'turndb')}`,
      '--log-file=stdout',
      '--simple-log',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.resume();
  child.stderr?.resume();
  const stop = (): void => {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Ready once every address listens on UDP 3478: polled, 100 x 100 ms at most.
  for (let i = 0; ; i++) {
    const ss = spawnSync('ip', ['netns', 'exec', ns, 'ss', '-Hlun', 'sport = :3478'], {
      encoding: 'utf8',
    }).stdout;
    if (addresses.every((a) => ss.includes(`${a}:3478`))) break;
    if (child.exitCode !== null || i >= 100) {
      stop();
      throw new Error('coturn did not start listening');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return stop;
}

function nat(
  ns: string,
  args: string[] = [],
): { status: number | null; result: NatBehavior | undefined; stderr: string } {
  const r = cli(['nat', `stun:${PRIMARY}:3478`, '--json', ...args], {
    netns: ns,
    timeoutMs: 60_000,
  });
  return {
    status: r.status,
    result: r.status === 0 ? (lastJson(r.stdout) as NatBehavior) : undefined,
    stderr: r.stderr,
  };
}

describe.skipIf(skipWithoutNetns('kvs-webrtc nat'))(
  'kvs-webrtc nat (RFC 5780) in namespaces',
  () => {
    describe('a masquerading router', () => {
      let topo: NatTopology;
      let stop: (() => void) | undefined;
      beforeAll(async () => {
        topo = makeNatTopology(false);
        stop = await startStun(topo.ns.pub, [PRIMARY, OTHER]);
      });
      afterAll(() => {
        stop?.();
        topo.destroy();
      });

      it('on the server network: no NAT, open filtering', () => {
        const { status, result, stderr } = nat(topo.ns.pub);
        expect(status, stderr).toBe(0);
        expect(result?.server.other).toEqual({ address: OTHER, port: 3479 });
        expect(result?.natDetected).toBe(false);
        expect(result?.mapped).toEqual(result?.local);
        expect(result?.filtering).toBe('endpoint-independent');
        expect(result?.cSdk).toEqual({
          mapping: 'NAT_BEHAVIOR_NOT_BEHIND_ANY_NAT',
          filtering: 'NAT_BEHAVIOR_ENDPOINT_INDEPENDENT',
        });
      });

      it('behind it: endpoint-independent mapping, address-and-port-dependent filtering', () => {
        const { status, result, stderr } = nat(topo.ns.privA);
        expect(status, stderr).toBe(0);
        expect(result?.natDetected).toBe(true);
        expect(result?.local.address).toBe(topo.addresses.a);
        expect(result?.mapped.address).toBe('10.99.1.1'); // the router's public side
        expect(result?.mapping).toBe('endpoint-independent');
        expect(result?.filtering).toBe('address-and-port-dependent');
        expect(result?.tests.map((t) => [t.name, t.answer !== null])).toEqual([
          ['I', true],
          ['mapping II', true],
          ['filtering II', false],
          ['filtering III', false],
        ]);
      });

      it('says so in words without --json', () => {
        const r = cli(['nat', `stun:${PRIMARY}:3478`], { netns: topo.ns.privA, timeoutMs: 60_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain('behind a NAT');
        expect(r.stdout).toContain(
          'mapping:   endpoint-independent (NAT_BEHAVIOR_ENDPOINT_INDEPENDENT)',
        );
        expect(r.stdout).toContain(
          'filtering: address-and-port-dependent (NAT_BEHAVIOR_PORT_DEPENDENT)',
        );
      });
    });

    describe('a router that picks a port per destination (--random)', () => {
      let topo: NatTopology;
      let stop: (() => void) | undefined;
      beforeAll(async () => {
        topo = makeNatTopology(true);
        stop = await startStun(topo.ns.pub, [PRIMARY, OTHER]);
      });
      afterAll(() => {
        stop?.();
        topo.destroy();
      });

      it('behind it: address-and-port-dependent mapping', () => {
        const { status, result, stderr } = nat(topo.ns.privB);
        expect(status, stderr).toBe(0);
        expect(result?.natDetected).toBe(true);
        expect(result?.mapping).toBe('address-and-port-dependent');
        expect(result?.filtering).toBe('address-and-port-dependent');
      });
    });

    describe('a server with one address', () => {
      let topo: NatTopology;
      let stop: (() => void) | undefined;
      beforeAll(async () => {
        topo = makeNatTopology(false);
        stop = await startStun(topo.ns.pub, [PRIMARY]);
      });
      afterAll(() => {
        stop?.();
        topo.destroy();
      });

      it('is reported as not supporting RFC 5780, with what to use instead', () => {
        const { status, stderr } = nat(topo.ns.privA);
        expect(status).toBe(1);
        expect(stderr).toContain('does not support RFC 5780 (no OTHER-ADDRESS');
        expect(stderr).toContain('two --listening-ip');
      });

      it('and a server that does not answer as such', () => {
        const r = cli(['nat', 'stun:10.99.1.2:3999', '--json'], {
          netns: topo.ns.privA,
          timeoutMs: 60_000,
        });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/no answer from stun:10\.99\.1\.2:3999 .* is the server up/);
      });
    });
  },
);
