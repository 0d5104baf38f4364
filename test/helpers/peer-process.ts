// kvs-webrtc peers in child processes (test/datachannel/dc-peer.mjs), talking JSON lines,
// optionally inside a network namespace; and a lossy link between two namespaces.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';
import { ROOT } from './root.js';

export const PEER_SCRIPT = path.join(ROOT, 'test', 'datachannel', 'dc-peer.mjs');

export type PeerMessage = Record<string, unknown> & { type: string };

export interface PeerChild {
  child: ChildProcess;
  /** Every message so far, in order. */
  history: PeerMessage[];
  send(msg: Record<string, unknown>): void;
  /** The first message (already received or to come) that matches; rejects after `ms`. */
  waitFor(match: (m: PeerMessage) => boolean, ms: number, what: string): Promise<PeerMessage>;
  /** Registers a listener for every message from now on. */
  onMessage(listener: (m: PeerMessage) => void): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

/** Starts dc-peer.mjs (or another script that talks the same way), in `namespace` when given. */
export function startPeerChild(
  config: Record<string, unknown>,
  namespace?: string,
  script: string = PEER_SCRIPT,
): PeerChild {
  const args = [script, JSON.stringify(config)];
  const child = namespace
    ? spawn('ip', ['netns', 'exec', namespace, process.execPath, ...args], {
        stdio: ['pipe', 'pipe', 'inherit'],
      })
    : spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const history: PeerMessage[] = [];
  const listeners: ((m: PeerMessage) => void)[] = [];
  const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    let m: PeerMessage;
    try {
      m = JSON.parse(line) as PeerMessage;
    } catch {
      return; // not ours (a stray log line)
    }
    history.push(m);
    for (const l of [...listeners]) l(m);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    history,
    send(msg) {
      if (child.stdin.writable) child.stdin.write(`${JSON.stringify(msg)}\n`);
    },
    waitFor(match, ms, what) {
      const found = history.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const listener = (m: PeerMessage) => {
          if (!match(m)) return;
          clearTimeout(timer);
          listeners.splice(listeners.indexOf(listener), 1);
          resolve(m);
        };
        const timer = setTimeout(() => {
          listeners.splice(listeners.indexOf(listener), 1);
          reject(new Error(`peer process: no ${what} within ${ms} ms`));
        }, ms);
        listeners.push(listener);
        void exited.then(({ code, signal }) => {
          if (!listeners.includes(listener)) return;
          clearTimeout(timer);
          listeners.splice(listeners.indexOf(listener), 1);
          reject(new Error(`peer process exited (${code ?? signal}) before ${what}`));
        });
      });
    },
    onMessage(listener) {
      listeners.push(listener);
    },
    exited,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Relays offers, answers and candidates from one child to the other (both ways), as a
 * signaling channel would.
 */
export function relaySignaling(a: PeerChild, b: PeerChild): void {
  const wire = (from: PeerChild, to: PeerChild) =>
    from.onMessage((m) => {
      if (m.type === 'offer' || m.type === 'answer' || m.type === 'candidate') to.send(m);
    });
  wire(a, b);
  wire(b, a);
}

function sh(args: string[]): void {
  execFileSync(args[0] ?? '', args.slice(1), { stdio: 'pipe' });
}

/**
 * Two namespaces joined by one veth pair, 10.99.5.1 and 10.99.5.2, nothing else in them but
 * loopback. `setLoss(p)` drops that fraction of the UDP each side sends (iptables
 * `statistic --mode random` in OUTPUT; this kernel has no netem). Traffic cannot leave them.
 *
 * With `{ chain: 'INPUT' }` each side drops that fraction of the UDP it receives instead: the
 * same loss both ways, but silent, as on a network. A DROP in OUTPUT fails the sender's
 * sendto() with EPERM, so the sending stack knows that datagram never left.
 */
export interface LossyLink {
  ns: { a: string; b: string };
  addresses: { a: string; b: string };
  setLoss(probability: number): void;
  /** Packets the loss rules dropped so far, each side. */
  dropped(): { a: number; b: number };
  destroy(): void;
}

export function makeLossyLink(options: { chain?: 'OUTPUT' | 'INPUT' } = {}): LossyLink {
  const chain = options.chain ?? 'OUTPUT';
  const id = crypto.randomBytes(2).toString('hex');
  const ns = { a: `kdla-${id}`, b: `kdlb-${id}` };
  const dev = { a: `dla-${id}`, b: `dlb-${id}` };
  const addresses = { a: '10.99.5.1', b: '10.99.5.2' };
  const made: string[] = [];
  const destroy = () => {
    for (const n of made.splice(0).reverse()) {
      try {
        sh(['ip', 'netns', 'del', n]);
      } catch {
        // already gone
      }
    }
  };
  try {
    for (const n of [ns.a, ns.b]) {
      sh(['ip', 'netns', 'add', n]);
      made.push(n);
      sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
    }
    sh(['ip', 'link', 'add', dev.a, 'type', 'veth', 'peer', 'name', dev.b]);
    sh(['ip', 'link', 'set', dev.a, 'netns', ns.a]);
    sh(['ip', 'link', 'set', dev.b, 'netns', ns.b]);
    sh(['ip', '-n', ns.a, 'addr', 'add', `${addresses.a}/24`, 'dev', dev.a]);
    sh(['ip', '-n', ns.b, 'addr', 'add', `${addresses.b}/24`, 'dev', dev.b]);
    sh(['ip', '-n', ns.a, 'link', 'set', dev.a, 'up']);
    sh(['ip', '-n', ns.b, 'link', 'set', dev.b, 'up']);
  } catch (err) {
    destroy();
    throw err;
  }
  const iptables = (side: 'a' | 'b', args: string[]) =>
    execFileSync('ip', ['netns', 'exec', ns[side], 'iptables', ...args], { encoding: 'utf8' });
  return {
    ns,
    addresses,
    setLoss(probability) {
      for (const side of ['a', 'b'] as const) {
        iptables(side, ['-F', chain]);
        if (probability > 0) {
          iptables(side, [
            '-A',
            chain,
            chain === 'OUTPUT' ? '-o' : '-i',
            dev[side],
            '-p',
            'udp',
            '-m',
            'statistic',
            '--mode',
            'random',
            '--probability',
            String(probability),
            '-j',
            'DROP',
          ]);
        }
      }
    },
    dropped() {
      const count = (side: 'a' | 'b') => {
        const out = iptables(side, ['-L', chain, '-v', '-x', '-n']);
        const rule = out.split('\n').find((l) => l.includes('DROP'));
        return rule ? Number(rule.trim().split(/\s+/)[0]) : 0;
      };
      return { a: count('a'), b: count('b') };
    },
    destroy,
  };
}
