/**
 * NAT behaviour discovery (RFC 5780 §4.3 and §4.4), the C SDK's `discoverNatBehavior`: the
 * mapping and filtering behaviour of the NAT between this host and a STUN server that has
 * two addresses (OTHER-ADDRESS) and honours CHANGE-REQUEST, such as coturn given two
 * listening IPs. Every test uses one local UDP socket, with bounded retransmissions.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { checkNumber, checkSignal, describeValue, MAX_TIMER_MS, readFields } from '../args.js';
import { invalidArgument, KvsError } from '../errors.js';
import {
  encodeBindingRequest,
  parseBindingResponse,
  sameAddress,
  type BindingResponse,
  type TransportAddress,
} from './stun-binding.js';

export type NatBehaviorKind =
  'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent';

export interface NatBehavior {
  server: { url: string; primary: TransportAddress; other: TransportAddress };
  local: TransportAddress;
  /** The address the server saw (test I). */
  mapped: TransportAddress;
  /** False when the mapped address is the local one: no NAT on the way. */
  natDetected: boolean;
  mapping: NatBehaviorKind;
  filtering: NatBehaviorKind;
  /** The C SDK's NAT_BEHAVIOR names for the two. */
  cSdk: { mapping: string; filtering: string };
  /** What each test sent and got, for the record. */
  tests: { name: string; to: TransportAddress; change: string; answer: TransportAddress | null }[];
}

export interface NatDiscoveryOptions {
  /** The local IPv4 address to send from; default the one the route to the server uses. */
  localAddress?: string;
  /** Per test: the retransmission schedule (ms after the first send), then give up. */
  retransmitsMs?: number[];
  giveUpMs?: number;
  signal?: AbortSignal;
}

/** stun:host[:port] (RFC 7064); the port defaults to 3478. */
export function parseStunUrl(url: string): { host: string; port: number } {
  const raw: unknown = url;
  const m =
    typeof raw === 'string'
      ? /^stun:(\[[0-9A-Fa-f:.]+\]|[^:?[\]/\s]+)(?::(\d{1,5}))?$/i.exec(raw.trim())
      : null;
  if (!m?.[1]) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `not a STUN URL: ${describeValue(raw)} (expected stun:host[:port], e.g. stun:stun.example.org:3478)`,
    );
  }
  // RFC 1035: a DNS name has at most 253 characters.
  if (m[1].length > 253) {
    throw new KvsError(
      'ERR_INVALID_ARGUMENT',
      `not a STUN URL: its host has ${m[1].length} characters; the limit is 253`,
    );
  }
  const port = Number(m[2] ?? 3478);
  if (!(port >= 1 && port <= 65535)) {
    throw new KvsError('ERR_INVALID_ARGUMENT', `${url}: the port must be 1..65535`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** The options, checked before any socket is opened. */
function checkDiscoveryOptions(options: NatDiscoveryOptions): void {
  const o = readFields(options, 'discoverNatBehavior: options', [
    'localAddress',
    'retransmitsMs',
    'giveUpMs',
    'signal',
  ]);
  checkNumber(o?.giveUpMs, 'discoverNatBehavior: giveUpMs', { min: 1, max: MAX_TIMER_MS });
  const schedule = o?.retransmitsMs;
  if (schedule !== undefined) {
    if (!Array.isArray(schedule))
      throw invalidArgument(
        `discoverNatBehavior: retransmitsMs must be an array of ms, got ${describeValue(schedule)}`,
      );
    if (schedule.length > MAX_RETRANSMITS)
      throw invalidArgument(
        `discoverNatBehavior: retransmitsMs has ${schedule.length} entries; at most ${MAX_RETRANSMITS}`,
      );
    schedule.forEach((v: unknown, i) =>
      checkNumber(v, `discoverNatBehavior: retransmitsMs[${i}]`, { min: 0, max: MAX_TIMER_MS }),
    );
  }
  const local = o?.localAddress;
  if (local !== undefined && (typeof local !== 'string' || isIP(local) !== 4))
    throw invalidArgument(
      `discoverNatBehavior: localAddress must be an IPv4 address, got ${describeValue(local)}`,
    );
  checkSignal(o?.signal, 'discoverNatBehavior');
}

/** Retransmissions per test: RFC 5389's Rc is 7; a schedule longer than this is a mistake. */
const MAX_RETRANSMITS = 20;

/** The local address the route to `to` uses (a connected probe socket, nothing sent). */
async function routeSource(to: TransportAddress): Promise<string> {
  const probe = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.connect(to.port, to.address, () => resolve());
    });
    return probe.address().address;
  } finally {
    probe.close();
  }
}

const C_SDK_NAMES: Record<NatBehaviorKind, string> = {
  'endpoint-independent': 'NAT_BEHAVIOR_ENDPOINT_INDEPENDENT',
  'address-dependent': 'NAT_BEHAVIOR_ADDRESS_DEPENDENT',
  'address-and-port-dependent': 'NAT_BEHAVIOR_PORT_DEPENDENT',
};

/** A response with the address it actually came from. */
type Answer = BindingResponse & { from: TransportAddress };

class Prober {
  readonly #socket: Socket;
  readonly #pending = new Map<string, (r: Answer) => void>();

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => {
      const r = parseBindingResponse(msg);
      if (!r) return;
      const done = this.#pending.get(r.transactionId.toString('hex'));
      if (done) done({ ...r, from: { address: rinfo.address, port: rinfo.port } });
    });
  }

  /** One transaction: resolves with the response, or null after giveUpMs. */
  async request(
    to: TransportAddress,
    change: { ip?: boolean; port?: boolean },
    schedule: number[],
    giveUpMs: number,
    signal?: AbortSignal,
  ): Promise<Answer | null> {
    const tid = randomBytes(12);
    const key = tid.toString('hex');
    const packet = encodeBindingRequest(tid, change);
    const timers: NodeJS.Timeout[] = [];
    try {
      return await new Promise<Answer | null>((resolve, reject) => {
        this.#pending.set(key, resolve);
        const send = (): void => {
          this.#socket.send(packet, to.port, to.address, (err) => {
            // A send error (no route) is an unanswered test, as a drop would be.
            if (err) timers.push(setTimeout(() => resolve(null), 0));
          });
        };
        send();
        for (const at of schedule) timers.push(setTimeout(send, at));
        timers.push(setTimeout(() => resolve(null), giveUpMs));
        signal?.addEventListener(
          'abort',
          () => reject(new KvsError('ERR_ABORTED', 'NAT discovery aborted')),
          { once: true },
        );
      });
    } finally {
      this.#pending.delete(key);
      for (const t of timers) clearTimeout(t);
    }
  }
}

/**
 * Discovers the mapping and filtering behaviour towards `stunUrl`. Rejects with
 * ERR_NAT_DISCOVERY when the server does not answer, or answers without OTHER-ADDRESS (it
 * has one address, or does not implement RFC 5780).
 */
export async function discoverNatBehavior(
  stunUrl: string,
  options: NatDiscoveryOptions = {},
): Promise<NatBehavior> {
  const { host, port } = parseStunUrl(stunUrl);
  checkDiscoveryOptions(options);
  let address = host;
  if (!isIP(host)) {
    try {
      address = (await lookup(host, { family: 4 })).address;
    } catch (e) {
      throw new KvsError('ERR_NAT_DISCOVERY', `cannot resolve ${host}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  if (isIP(address) !== 4) {
    throw new KvsError('ERR_NAT_DISCOVERY', `${stunUrl}: only IPv4 servers are supported`);
  }
  const primary = { address, port };
  const schedule = options.retransmitsMs ?? [100, 300, 700, 1500];
  const giveUpMs = options.giveUpMs ?? 2500;
  const localAddress = options.localAddress ?? (await routeSource(primary));
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, localAddress, () => resolve());
  });
  const local = { address: localAddress, port: socket.address().port };
  const prober = new Prober(socket);
  const tests: NatBehavior['tests'] = [];
  const run = async (
    name: string,
    to: TransportAddress,
    change: { ip?: boolean; port?: boolean } = {},
  ): Promise<Answer | null> => {
    const r = await prober.request(to, change, schedule, giveUpMs, options.signal);
    const changeText =
      change.ip && change.port ? 'ip+port' : change.ip ? 'ip' : change.port ? 'port' : 'none';
    tests.push({ name, to, change: changeText, answer: r?.mapped ?? null });
    return r;
  };
  try {
    // Test I: the mapped address, and the server's other address.
    const one = await run('I', primary);
    if (!one?.success || !one.mapped) {
      throw new KvsError(
        'ERR_NAT_DISCOVERY',
        one
          ? `${stunUrl} refused the Binding request (error ${one.errorCode ?? 'unknown'})`
          : `no answer from ${stunUrl} (${address}:${port}) in ${giveUpMs} ms: is the server up and UDP open to it?`,
      );
    }
    const other = one.other;
    if (!other) {
      throw new KvsError(
        'ERR_NAT_DISCOVERY',
        `${stunUrl} does not support RFC 5780 (no OTHER-ADDRESS in its answer): use a server ` +
          'with two addresses, such as coturn started with two --listening-ip',
      );
    }
    const mapped = one.mapped;
    const natDetected = !sameAddress(mapped, local);

    // Mapping (§4.3): from the same socket to the other IP, then to the other IP and port.
    let mapping: NatBehaviorKind = 'endpoint-independent';
    if (natDetected) {
      const two = await run('mapping II', { address: other.address, port: primary.port });
      if (!two?.mapped) {
        throw new KvsError(
          'ERR_NAT_DISCOVERY',
          `no answer from the other address ${other.address}:${primary.port}`,
        );
      }
      if (!sameAddress(two.mapped, mapped)) {
        const three = await run('mapping III', other);
        if (!three?.mapped) {
          throw new KvsError('ERR_NAT_DISCOVERY', `no answer from ${other.address}:${other.port}`);
        }
        mapping = sameAddress(three.mapped, two.mapped)
          ? 'address-dependent'
          : 'address-and-port-dependent';
      }
    }

    // Filtering (§4.4): ask the primary address to answer from the other IP and port, then
    // from the other port only; what arrives tells what the NAT lets in.
    // A server that ignores CHANGE-REQUEST answers from where it was asked: that would read
    // as an open NAT, so where each answer came from is checked.
    const ignored = (what: string): KvsError =>
      new KvsError(
        'ERR_NAT_DISCOVERY',
        `${stunUrl} ignored CHANGE-REQUEST (${what}): it answered from the address it was asked at`,
      );
    let filtering: NatBehaviorKind;
    const f2 = await run('filtering II', primary, { ip: true, port: true });
    if (f2?.success) {
      if (f2.from.address !== other.address) throw ignored('change IP and port');
      filtering = 'endpoint-independent';
    } else {
      const f3 = await run('filtering III', primary, { port: true });
      if (f3?.success && f3.from.port === primary.port) throw ignored('change port');
      filtering = f3?.success ? 'address-dependent' : 'address-and-port-dependent';
    }
    return {
      server: { url: stunUrl, primary, other },
      local,
      mapped,
      natDetected,
      mapping,
      filtering,
      cSdk: {
        mapping: natDetected ? C_SDK_NAMES[mapping] : 'NAT_BEHAVIOR_NOT_BEHIND_ANY_NAT',
        filtering: C_SDK_NAMES[filtering],
      },
      tests,
    };
  } finally {
    socket.close();
  }
}
