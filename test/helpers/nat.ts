import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout } from 'node:timers';

// Test hosts in network namespaces:
//
//   privA 10.99.2.2 ─ rtrA (NAT) 10.99.1.1 ─┐
//                                            pub 10.99.1.2 / 10.99.4.2  (coturn: STUN and TURN)
//   privB 10.99.3.2 ─ rtrB (NAT) 10.99.4.1 ─┘
//
// Both routers masquerade; "symmetric" adds --random so every destination gets its own port.
// All of it lives in namespaces this test makes and removes; nothing reaches a real interface.

export interface NatTopology {
  ns: { pub: string; rtrA: string; privA: string; rtrB: string; privB: string };
  addresses: { server: string; a: string; b: string };
  destroy(): void;
}

function sh(args: string[]): void {
  execFileSync(args[0] ?? '', args.slice(1), { stdio: 'pipe' });
}

export function makeNatTopology(symmetric: boolean): NatTopology {
  const id = crypto.randomBytes(2).toString('hex');
  const ns = {
    pub: `kp-${id}`,
    rtrA: `kra-${id}`,
    privA: `kpa-${id}`,
    rtrB: `krb-${id}`,
    privB: `kpb-${id}`,
  };
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
    }
    const link = (a: string, aNs: string, aAddr: string, b: string, bNs: string, bAddr: string) => {
      sh(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
      sh(['ip', 'link', 'set', a, 'netns', aNs]);
      sh(['ip', 'link', 'set', b, 'netns', bNs]);
      sh(['ip', '-n', aNs, 'addr', 'add', aAddr, 'dev', a]);
      sh(['ip', '-n', bNs, 'addr', 'add', bAddr, 'dev', b]);
      sh(['ip', '-n', aNs, 'link', 'set', a, 'up']);
      sh(['ip', '-n', bNs, 'link', 'set', b, 'up']);
    };
    link(`a0-${id}`, ns.pub, '10.99.1.2/24', `a1-${id}`, ns.rtrA, '10.99.1.1/24');
    link(`b0-${id}`, ns.rtrA, '10.99.2.1/24', `b1-${id}`, ns.privA, '10.99.2.2/24');
    link(`c0-${id}`, ns.pub, '10.99.4.2/24', `c1-${id}`, ns.rtrB, '10.99.4.1/24');
    link(`d0-${id}`, ns.rtrB, '10.99.3.1/24', `d1-${id}`, ns.privB, '10.99.3.2/24');
    sh(['ip', '-n', ns.privA, 'route', 'add', 'default', 'via', '10.99.2.1']);
    sh(['ip', '-n', ns.privB, 'route', 'add', 'default', 'via', '10.99.3.1']);
    sh(['ip', '-n', ns.rtrA, 'route', 'add', 'default', 'via', '10.99.1.2']);
    sh(['ip', '-n', ns.rtrB, 'route', 'add', 'default', 'via', '10.99.4.2']);
    // What the public side sends to a private address goes to that network's router, which
    // drops it (below), as on the internet; nothing answers with an error.
    sh(['ip', '-n', ns.pub, 'route', 'add', '10.99.2.0/24', 'via', '10.99.1.1']);
    sh(['ip', '-n', ns.pub, 'route', 'add', '10.99.3.0/24', 'via', '10.99.4.1']);
    for (const n of [ns.pub, ns.rtrA, ns.rtrB]) {
      sh(['ip', 'netns', 'exec', n, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      sh(['ip', 'netns', 'exec', n, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0']);
    }
    const masquerade = (n: string, out: string) =>
      sh([
        'ip',
        'netns',
        'exec',
        n,
        'iptables',
        '-t',
        'nat',
        '-A',
        'POSTROUTING',
        '-o',
        out,
        '-j',
        'MASQUERADE',
        ...(symmetric ? ['--random'] : []),
      ]);
    // A router drops what nobody inside asked for. Dropped in INPUT, such a packet never
    // becomes a conntrack entry, which would otherwise take the mapping the inside host's
    // own packets need (Linux's answer to simultaneous opens) and defeat hole punching.
    const firewall = (n: string, wan: string) =>
      sh([
        'ip',
        'netns',
        'exec',
        n,
        'iptables',
        '-A',
        'INPUT',
        '-i',
        wan,
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-j',
        'DROP',
      ]);
    masquerade(ns.rtrA, `a1-${id}`);
    masquerade(ns.rtrB, `c1-${id}`);
    firewall(ns.rtrA, `a1-${id}`);
    firewall(ns.rtrB, `c1-${id}`);
    const noUnsolicitedForwarding = (n: string, wan: string) =>
      sh([
        'ip',
        'netns',
        'exec',
        n,
        'iptables',
        '-A',
        'FORWARD',
        '-i',
        wan,
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-j',
        'DROP',
      ]);
    noUnsolicitedForwarding(ns.rtrA, `a1-${id}`);
    noUnsolicitedForwarding(ns.rtrB, `c1-${id}`);
  } catch (err) {
    destroy();
    throw err;
  }
  return { ns, addresses: { server: '10.99.1.2', a: '10.99.2.2', b: '10.99.3.2' }, destroy };
}

/** coturn in the public namespace, with a REST-style shared secret. */
export async function startCoturn(
  namespace: string,
  address: string,
): Promise<{ stop(): void; username: string; credential: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-nat-turn-'));
  const secret = crypto.randomBytes(16).toString('hex');
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
      `--listening-ip=${address}`,
      `--relay-ip=${address}`,
      '--listening-port=3478',
      '--min-port=49152',
      '--max-port=49300',
      '--realm=kvs-nat',
      '--fingerprint',
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
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
  const stop = () => {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Ready once the UDP listener is bound: polled, 100 x 100 ms at most.
  if (process.env.NAT_DEBUG) child.stdout.pipe(process.stderr);
  else child.stdout.resume();
  for (let i = 0; ; i++) {
    const listening = execFileSync(
      'ip',
      ['netns', 'exec', namespace, 'ss', '-Hlun', 'sport = :3478'],
      {
        encoding: 'utf8',
      },
    );
    if (listening.includes(`${address}:3478`)) break;
    if (child.exitCode !== null || child.signalCode !== null || i >= 100) {
      stop();
      throw new Error('coturn did not start listening');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const username = `${Math.floor(Date.now() / 1000) + 3600}:nat`;
  const credential = crypto.createHmac('sha1', secret).update(username).digest('base64');
  return { stop, username, credential };
}

export interface PeerProcess {
  child: ChildProcess;
  messages: AsyncIterableIterator<Record<string, unknown>>;
  send(msg: Record<string, unknown>): void;
}

/** Starts test/interop/nat-peer.mjs in a namespace, talking JSON lines. */
export function startPeer(namespace: string, script: string, config: unknown): PeerProcess {
  const child = spawn(
    'ip',
    ['netns', 'exec', namespace, process.execPath, script, JSON.stringify(config)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
  async function* parse(): AsyncGenerator<Record<string, unknown>> {
    for await (const line of lines) yield JSON.parse(line) as Record<string, unknown>;
  }
  return {
    child,
    messages: parse(),
    send: (msg) => {
      child.stdin.write(`${JSON.stringify(msg)}\n`);
    },
  };
}
