import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout } from 'node:timers';

// IPv6 test hosts in network namespaces, with a NAT66 router (ip6tables MASQUERADE):
//
//   priv fd00:99:2::2 ─ rtr (NAT66) fd00:99:1::1 ─ pub fd00:99:1::2 (coturn STUN; a public peer)
//
// Unique local addresses in namespaces this test makes and removes: nothing reaches a real
// interface.
export interface Nat66Topology {
  ns: { pub: string; rtr: string; priv: string };
  addresses: { pub: string; rtrWan: string; priv: string };
  destroy: () => void;
}

function sh(args: string[]): void {
  execFileSync(args[0] ?? '', args.slice(1), { stdio: 'pipe' });
}

/** Whether ip6tables can masquerade here (a kernel without IPv6 NAT cannot). */
export function canNat66(): boolean {
  const ns = `kn6-probe-${crypto.randomBytes(2).toString('hex')}`;
  try {
    sh(['ip', 'netns', 'add', ns]);
    sh([
      'ip',
      'netns',
      'exec',
      ns,
      'ip6tables',
      '-t',
      'nat',
      '-A',
      'POSTROUTING',
      '-j',
      'MASQUERADE',
    ]);
    return true;
  } catch {
    return false;
  } finally {
    try {
      sh(['ip', 'netns', 'del', ns]);
    } catch {
      // not made
    }
  }
}

export function makeNat66Topology(): Nat66Topology {
  const id = crypto.randomBytes(2).toString('hex');
  const ns = { pub: `k6p-${id}`, rtr: `k6r-${id}`, priv: `k6v-${id}` };
  const made: string[] = [];
  const destroy = () => {
    for (const n of made.reverse()) {
      try {
        sh(['ip', 'netns', 'del', n]);
      } catch {
        // already gone
      }
    }
  };
  try {
    for (const n of Object.values(ns)) {
      sh(['ip', 'netns', 'add', n]);
      made.push(n);
      sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
      sh(['ip', 'netns', 'exec', n, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=0']);
    }
    const link = (a: string, aNs: string, aAddr: string, b: string, bNs: string, bAddr: string) => {
      sh(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
      sh(['ip', 'link', 'set', a, 'netns', aNs]);
      sh(['ip', 'link', 'set', b, 'netns', bNs]);
      // nodad: usable at once, no duplicate-address detection wait.
      sh(['ip', '-n', aNs, '-6', 'addr', 'add', aAddr, 'dev', a, 'nodad']);
      sh(['ip', '-n', bNs, '-6', 'addr', 'add', bAddr, 'dev', b, 'nodad']);
      sh(['ip', '-n', aNs, 'link', 'set', a, 'up']);
      sh(['ip', '-n', bNs, 'link', 'set', b, 'up']);
    };
    link(`e0-${id}`, ns.pub, 'fd00:99:1::2/64', `e1-${id}`, ns.rtr, 'fd00:99:1::1/64');
    link(`f0-${id}`, ns.rtr, 'fd00:99:2::1/64', `f1-${id}`, ns.priv, 'fd00:99:2::2/64');
    sh(['ip', '-n', ns.priv, '-6', 'route', 'add', 'default', 'via', 'fd00:99:2::1']);
    sh(['ip', '-n', ns.rtr, '-6', 'route', 'add', 'default', 'via', 'fd00:99:1::2']);
    sh(['ip', 'netns', 'exec', ns.rtr, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1']);
    const wan = `e1-${id}`;
    sh([
      'ip',
      'netns',
      'exec',
      ns.rtr,
      'ip6tables',
      '-t',
      'nat',
      '-A',
      'POSTROUTING',
      '-o',
      wan,
      '-j',
      'MASQUERADE',
    ]);
    // As for IPv4 (nat.ts): nothing unsolicited from the public side gets in.
    for (const chain of ['INPUT', 'FORWARD']) {
      sh([
        'ip',
        'netns',
        'exec',
        ns.rtr,
        'ip6tables',
        '-A',
        chain,
        '-i',
        wan,
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-j',
        'DROP',
      ]);
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    ns,
    addresses: { pub: 'fd00:99:1::2', rtrWan: 'fd00:99:1::1', priv: 'fd00:99:2::2' },
    destroy,
  };
}

/** coturn as a STUN server on [address]:3478 in a namespace. */
export async function startStun6(namespace: string, address: string): Promise<() => void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-nat6-stun-'));
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      namespace,
      'turnserver',
      '-c',
      '/dev/null',
      '-n',
      '--stun-only',
      `--listening-ip=${address}`,
      '--listening-port=3478',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      `--pidfile=${path.join(dir, 'turn.pid')}`,
      `--userdb=${path.join(dir, 'turndb')}`,
      '--log-file=stdout',
      '--simple-log',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.resume();
  child.stderr.resume();
  let exited = false as boolean; // set by the exit listener
  child.on('exit', () => {
    exited = true;
  });
  const stop = () => {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Ready once the UDP listener is bound: polled, 100 x 100 ms at most.
  for (let i = 0; ; i++) {
    const listening = execFileSync(
      'ip',
      ['netns', 'exec', namespace, 'ss', '-Hlun', 'sport = :3478'],
      {
        encoding: 'utf8',
      },
    );
    if (listening.includes(`[${address}]:3478`)) break;
    if (exited || i >= 100) {
      stop();
      throw new Error('coturn (STUN) did not start listening');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return stop;
}
