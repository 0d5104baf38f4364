/**
 * TURN for the local service: runs Debian's coturn on loopback in its shared-secret ("TURN REST
 * API") mode and mints credentials it accepts. Without coturn there are no TURN servers at all;
 * nothing here ever hands out credentials for a server that is not running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { networkInterfaces, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface IceServer {
  Uris: string[];
  Username: string;
  Password: string;
  Ttl: number;
}

/** Pure: the coturn REST-API credential for a channel, in the KVS username form. */
export function turnCredential(
  secret: string,
  channelArn: string,
  ttlSeconds: number,
  nowMs: number,
): { Username: string; Password: string } {
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const Username = `${expiry}:${Buffer.from(`v1:${channelArn}`).toString('base64')}`;
  const Password = createHmac('sha1', secret).update(Username).digest('base64');
  return { Username, Password };
}

/** Pure: the channel ARN a credential username was minted for, if it is one of ours. */
export function channelArnOfUsername(username: string): string | undefined {
  const colon = username.indexOf(':');
  if (colon < 0) return undefined;
  const decoded = Buffer.from(username.slice(colon + 1), 'base64').toString('utf8');
  return decoded.startsWith('v1:') ? decoded.slice(3) : undefined;
}

export function findExecutable(name: string): string | undefined {
  const candidates = name.includes('/')
    ? [name]
    : (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A port free for both TCP and UDP on 127.0.0.1 right now (coturn listens on both). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port for coturn after 20 attempts');
}

/** Whether this host has ::1 (a container may run without IPv6). */
function ipv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((list) =>
    (list ?? []).some((i) => i.family === 'IPv6' && i.address === '::1'),
  );
}

function tcpReachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** coturn did not come up on its ports (one taken, or no UDP listener): try other ports. */
class UdpNotServed extends Error {}

/**
 * Whether coturn answers a STUN Binding request on its UDP port. Its UDP listeners come up
 * apart from its TCP ones, so a TCP connect alone does not say UDP is served: an allocation
 * sent before then went unanswered (seen under load in the TURN URL form tests).
 */
function udpStunAnswers(port: number, waitMs = 250): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
    request.writeUInt32BE(0x2112a442, 4); // RFC 5389 magic cookie
    randomBytes(12).copy(request, 8);
    let finished = false;
    const finish = (answered: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.close();
      resolve(answered);
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('message', (m) => {
      if (m.length >= 20 && m.subarray(8, 20).equals(request.subarray(8, 20))) finish(true);
    });
    socket.on('error', () => finish(false));
    socket.send(request, port, '127.0.0.1');
  });
}

/**
 * The watchdog coturn runs under: `sh -c WATCHDOG watchdog <workDir> <turnserver> <args...>`.
 * Node has no parent-death signal, so the service holds the wrapper's stdin open instead.
 * When that pipe closes (stop(), a normal exit, or the service killed with SIGKILL), the
 * wrapper's reader sees end-of-file and sends coturn SIGTERM; once coturn has exited the
 * wrapper removes the work directory (config with the secret, pid file, user db) and exits
 * with coturn's status. coturn itself gets /dev/null as stdin and not the pipe, so only the
 * service holds the pipe's write end.
 */
const WATCHDOG = [
  'dir=$1; shift',
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'pid=$!',
  '{ while read -r _; do :; done; kill -TERM "$pid" 2>/dev/null; } <&3 &',
  'watch=$!',
  // The wrapper's own output would go to the service's pipes, which may be gone: a shell
  // message ("Terminated") would then kill it with SIGPIPE before it removes the folder.
  'exec 3<&- >/dev/null 2>&1',
  "trap '' PIPE",
  'trap \'kill -TERM "$pid"\' TERM INT HUP',
  'status=0',
  // `wait` returns early when a trapped signal arrives: wait until coturn is really gone.
  'while kill -0 "$pid" 2>/dev/null; do wait "$pid"; status=$?; done',
  'kill "$watch" 2>/dev/null',
  'rm -rf "$dir"',
  'exit "$status"',
].join('\n');

export interface CoturnOptions {
  binary?: string;
  /**
   * The address the URIs name. coturn listens and relays on both 127.0.0.1 and ::1 either way,
   * so that IPv6 clients get IPv6 relays (REQUESTED-ADDRESS-FAMILY).
   */
  host?: '127.0.0.1' | '::1';
  tls?: { certPath: string; keyPath: string };
  realm?: string;
  /** Called with the username of every successful allocation (for TURNConnected). */
  onAllocation?: (username: string) => void;
  log?: (line: string) => void;
}

export class Coturn {
  private exited = false;
  private readonly logTail: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly workDir: string,
    readonly secret: string,
    readonly port: number,
    readonly tlsPort: number | undefined,
    readonly host: '127.0.0.1' | '::1',
  ) {
    child.once('exit', () => {
      this.exited = true;
    });
  }

  get running(): boolean {
    return !this.exited;
  }

  /**
   * Starts coturn; resolves once it serves TCP, TLS and UDP. Throws if it cannot. A port
   * found free can be taken by another process (any UDP socket's ephemeral port) before
   * coturn binds it; coturn then serves TCP only, so that start is retried on new ports.
   */
  static async start(binary: string, opts: CoturnOptions = {}): Promise<Coturn> {
    let last: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await Coturn.startOnce(binary, opts);
      } catch (e) {
        if (!(e instanceof UdpNotServed)) throw e;
        last = e;
        opts.log?.(e.message);
      }
    }
    throw last ?? new Error('coturn did not start');
  }

  private static async startOnce(binary: string, opts: CoturnOptions): Promise<Coturn> {
    const workDir = mkdtempSync(join(tmpdir(), 'kvs-local-turn-'));
    const secret = randomBytes(24).toString('hex');
    const port = await freePort();
    const tlsPort = opts.tls ? await freePort() : undefined;
    const relayBase = 49152 + Math.floor(Math.random() * 15000);
    // The secret goes in a config file only this user can read, not on the command line,
    // where every local user could read it in /proc/<pid>/cmdline.
    const configPath = join(workDir, 'turnserver.conf');
    writeFileSync(configPath, `static-auth-secret=${secret}\n`, { mode: 0o600 });
    const args = [
      '-c',
      configPath,
      '-v',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      ...(ipv6Loopback() ? ['--listening-ip=::1', '--relay-ip=::1'] : []),
      `--listening-port=${port}`,
      `--min-port=${relayBase}`,
      `--max-port=${relayBase + 300}`,
      `--realm=${opts.realm ?? 'kinesisvideo.local'}`,
      '--fingerprint',
      '--use-auth-secret',
      '--no-cli',
      // No RFC 5780 alternate listeners: with two listening addresses coturn would also bind
      // each port plus one, ports nobody chose free (one in use failed a start under load).
      '--no-rfc5780',
      '--allow-loopback-peers',
      `--pidfile=${join(workDir, 'turn.pid')}`,
      `--userdb=${join(workDir, 'turndb')}`,
      '--log-file=stdout',
      '--simple-log',
    ];
    if (opts.tls && tlsPort !== undefined) {
      args.push(
        `--tls-listening-port=${tlsPort}`,
        `--cert=${opts.tls.certPath}`,
        `--pkey=${opts.tls.keyPath}`,
      );
    } else {
      args.push('--no-tls', '--no-dtls');
    }
    // detached: its own process group, so that a last-resort SIGKILL reaches coturn and its
    // wrapper together, and a terminal's Ctrl-C reaches the service only, which stops coturn.
    const child = spawn(
      '/bin/sh',
      ['-c', WATCHDOG, 'kvs-turn-watchdog', workDir, binary, ...args],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      },
    );
    // The pipe's only job is to close when this process goes; nothing is ever written to it.
    child.stdin.on('error', () => undefined);
    const turn = new Coturn(child, workDir, secret, port, tlsPort, opts.host ?? '127.0.0.1');
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        turn.logTail.push(line);
        if (turn.logTail.length > 50) turn.logTail.shift();
        opts.log?.(line);
        const m = /user <([^>]*)>: incoming packet ALLOCATE processed, success/.exec(line);
        if (m && m[1] !== undefined) opts.onAllocation?.(m[1]);
      }
      if (buffered.length > 65536) buffered = '';
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

    // Bounded wait for the listeners: 200 polls, 50 ms apart (10 s), or an early exit. Once
    // TCP (and TLS) accept, UDP must answer a Binding request within 12 probes (3 s).
    let udpProbes = 0;
    for (let i = 0; i < 200; i++) {
      if (turn.exited) break;
      if ((await tcpReachable(port)) && (tlsPort === undefined || (await tcpReachable(tlsPort)))) {
        if (await udpStunAnswers(port)) return turn;
        if (++udpProbes >= 12) {
          await turn.stop();
          throw new UdpNotServed(
            `coturn accepts TCP on 127.0.0.1:${port} but does not answer on UDP (the port was taken?): trying other ports`,
          );
        }
      }
      const err = await Promise.race([
        spawnError,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
      ]);
      if (err) {
        turn.cleanup();
        throw err;
      }
    }
    await turn.stop();
    // Another process may have taken a port between the check and coturn's bind: the
    // caller starts again on other ports.
    throw new UdpNotServed(
      `coturn did not start listening on 127.0.0.1:${port}:\n${turn.logTail.join('\n')}`,
    );
  }

  /** The KVS URI forms, in the real service's order, for the listeners this coturn has. */
  uris(): string[] {
    const h = this.host === '::1' ? '[::1]' : this.host;
    const out = [`turn:${h}:${this.port}?transport=udp`];
    if (this.tlsPort !== undefined) {
      out.push(
        `turns:${h}:${this.tlsPort}?transport=udp`,
        `turns:${h}:${this.tlsPort}?transport=tcp`,
      );
    }
    return out;
  }

  iceServer(channelArn: string, ttlSeconds: number, nowMs = Date.now()): IceServer {
    return {
      Uris: this.uris(),
      ...turnCredential(this.secret, channelArn, ttlSeconds, nowMs),
      Ttl: ttlSeconds,
    };
  }

  /** The watchdog wrapper's process id (coturn runs as its child, in the same group). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGKILL to the wrapper and coturn (one process group). */
  private killGroup(): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone between the check and the kill.
    }
  }

  /** Synchronous last resort for process exit or a fatal signal: kill, and remove the files. */
  killNow(): void {
    this.killGroup();
    this.cleanup();
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
      // Closing the pipe is the stop request: the wrapper sends coturn SIGTERM.
      this.child.stdin?.destroy();
      const timer = setTimeout(() => this.killGroup(), 5000);
      await gone;
      clearTimeout(timer);
    }
    this.cleanup();
  }

  private cleanup(): void {
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
