/**
 * startLocalKvs: wires the store, credentials, TLS, coturn, signaling hub and HTTPS front end
 * into one running service on loopback.
 */
import { createServer, type Server } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { checkFunction, checkNumber, describeValue, readFields } from '../args.js';
import { invalidArgument, KvsError } from '../errors.js';
import { AuditLog } from './audit.js';
import { CredentialTable, type LocalPrincipal } from './credentials.js';
import { clientLimit } from './errors.js';
import { handleHttp, handleUpgrade, type FrontEndDeps } from './front-end.js';
import { startIotEndpoint, type LocalIot, type LocalIotOptions } from './iot.js';
import { resolveLimits, type LocalKvsLimits } from './limits.js';
import { Metrics } from './metrics.js';
import type { ServiceContext } from './operations.js';
import { RateLimiter } from './rate.js';
import { SignalingHub } from './signaling.js';
import { ChannelStore } from './store.js';
import { ensureTlsMaterial } from './tls.js';
import { channelArnOfUsername, Coturn, findExecutable } from './turn.js';

export interface LocalKvsTurnOptions {
  /** The coturn binary; default `turnserver` on PATH. */
  binary?: string;
  /** Also offer `turns:` URIs (TLS and DTLS listeners with the service's certificate). Default true. */
  tls?: boolean;
}

export interface LocalKvsOptions {
  /** TCP port on loopback; 0 (the default) picks a free one. */
  port?: number;
  /** `127.0.0.1` (default) or `::1`. The service never listens beyond loopback. */
  host?: '127.0.0.1' | '::1';
  /** Where channels, credentials, TLS material and the audit log live. */
  dataDir?: string;
  region?: string;
  accountId?: string;
  /** false: no TURN. Default: start coturn if it is installed. */
  turn?: boolean | LocalKvsTurnOptions;
  limits?: Partial<LocalKvsLimits>;
  /** Principals besides the default full-access key pair. */
  principals?: LocalPrincipal[];
  /** Where service messages go; default: warnings to stderr, nothing else. */
  log?: (line: string) => void;
  /** Serve the AWS IoT credentials endpoint (true: with the default role alias only). */
  iot?: boolean | LocalIotOptions;
}

export interface LocalKvs {
  /** The control-plane endpoint, e.g. `https://127.0.0.1:43127`. */
  endpoint: string;
  port: number;
  region: string;
  accountId: string;
  /** The default key pair: full access (the seed's Example 3 policy). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** PEM file of the local CA; pass it as `ca` or through NODE_EXTRA_CA_CERTS. */
  caCertPath: string;
  caCert: string;
  dataDir: string;
  auditLogPath: string;
  /** `https://.../metrics` (Prometheus text, unauthenticated, loopback only). */
  metricsUrl: string;
  /** coturn's state: `undefined` when TURN is off or coturn is not installed. */
  turn: { uris: string[] } | undefined;
  /** Why TURN is off, when it is. */
  turnUnavailableReason: string | undefined;
  /** The IoT credentials endpoint, when the `iot` option asked for it. */
  iot: LocalIot | undefined;
  /** Sends GO_AWAY (to one channel's connections, or all) and closes them after the grace. */
  goAway(channelArn?: string): number;
  /** Sends RECONNECT_ICE_SERVER (to one channel's connections, or all). */
  reconnectIceServer(channelArn?: string): number;
  /** Graceful by default: GO_AWAY, wait for clients to leave (at most the grace), then close. */
  stop(options?: { graceful?: boolean }): Promise<void>;
}

/**
 * coturn of every running service in this process, killed synchronously when the process
 * goes without stop(): on exit, and on a terminating signal nobody else handles.
 */
const liveTurn = new Set<() => void>();
const TERMINATING = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

function killAllTurn(): void {
  for (const kill of liveTurn) kill();
}

function onTerminatingSignal(sig: NodeJS.Signals): void {
  // Another listener (the CLI, or the application) has taken over the signal and will stop
  // the service itself; with ours alone the signal would end the process as by default.
  if (process.listenerCount(sig) > 1) return;
  killAllTurn();
  untrackSignals();
  // Our listener is gone, so the default action applies: the process ends by this signal.
  process.kill(process.pid, sig);
}

function trackTurn(kill: () => void): void {
  if (liveTurn.size === 0) {
    process.on('exit', killAllTurn);
    for (const sig of TERMINATING) process.on(sig, onTerminatingSignal);
  }
  liveTurn.add(kill);
}

function untrackSignals(): void {
  process.off('exit', killAllTurn);
  for (const sig of TERMINATING) process.off(sig, onTerminatingSignal);
}

function untrackTurn(kill: () => void): void {
  liveTurn.delete(kill);
  if (liveTurn.size === 0) untrackSignals();
}

export function defaultDataDir(): string {
  return join(homedir(), '.kvs-webrtc', 'local');
}

/**
 * Starts the service. Rejects with a KvsError: `ERR_INVALID_ARGUMENT` for bad options,
 * `ERR_LOCAL_STORE` for an unreadable channel file, `ERR_LOCAL_START` for anything else (the
 * port, the data directory, TLS material, coturn), with the cause attached.
 */
export async function startLocalKvs(options: LocalKvsOptions = {}): Promise<LocalKvs> {
  try {
    return await start(options);
  } catch (e) {
    if (e instanceof KvsError) throw e;
    throw new KvsError(
      'ERR_LOCAL_START',
      `the local KVS service could not start: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

/**
 * The options, checked before anything is opened or written (JavaScript callers may pass
 * anything; the service must stay on loopback).
 */
function checkStartOptions(options: LocalKvsOptions): void {
  const raw: unknown = options;
  if (typeof raw !== 'object' || raw === null)
    throw invalidArgument(`startLocalKvs: options must be an object, got ${describeValue(raw)}`);
  const o = options as Record<keyof LocalKvsOptions, unknown>;
  if (o.host !== undefined && o.host !== '127.0.0.1' && o.host !== '::1')
    throw invalidArgument(
      `host must be "127.0.0.1" or "::1": the local service listens on loopback only, got ${describeValue(o.host)}`,
    );
  checkNumber(o.port, 'port', { min: 0, max: 65535, integer: true });
  if (o.dataDir !== undefined && (typeof o.dataDir !== 'string' || o.dataDir === ''))
    throw invalidArgument(`dataDir must be a path, got ${describeValue(o.dataDir)}`);
  if (
    o.region !== undefined &&
    (typeof o.region !== 'string' || !/^[a-z0-9-]{1,64}$/.test(o.region))
  )
    throw invalidArgument(
      `region must be 1-64 characters of [a-z0-9-], got ${describeValue(o.region)}`,
    );
  if (
    o.accountId !== undefined &&
    (typeof o.accountId !== 'string' || !/^\d{12}$/.test(o.accountId))
  )
    throw invalidArgument(`accountId must be 12 digits, got ${describeValue(o.accountId)}`);
  if (o.log !== undefined) checkFunction(o.log, 'log');
  const turn = o.turn;
  if (turn !== undefined && typeof turn !== 'boolean') {
    const t = typeof turn === 'object' ? readFields(turn, 'turn', ['binary', 'tls']) : undefined;
    if (
      typeof turn !== 'object' ||
      turn === null ||
      Array.isArray(turn) ||
      (t?.binary !== undefined && typeof t.binary !== 'string') ||
      (t?.tls !== undefined && typeof t.tls !== 'boolean')
    )
      throw invalidArgument(
        `turn must be a boolean or { binary?, tls? }, got ${describeValue(turn)}`,
      );
  }
  if (o.principals !== undefined && !Array.isArray(o.principals))
    throw invalidArgument(`principals must be an array, got ${describeValue(o.principals)}`);
  if (
    o.iot !== undefined &&
    typeof o.iot !== 'boolean' &&
    (typeof o.iot !== 'object' || o.iot === null)
  )
    throw invalidArgument(`iot must be a boolean or an object, got ${describeValue(o.iot)}`);
}

async function start(options: LocalKvsOptions): Promise<LocalKvs> {
  checkStartOptions(options);
  const log = options.log ?? ((line: string) => process.stderr.write(`kvs-local: ${line}\n`));
  const host = options.host ?? '127.0.0.1';
  const limits = resolveLimits(options.limits);
  const dataDir = options.dataDir ?? defaultDataDir();
  const region = options.region ?? 'us-west-2';
  const accountId = options.accountId ?? '123456789012';

  const store = new ChannelStore(dataDir);
  const { table, defaultPrincipal } = CredentialTable.withDefault(dataDir, options.principals);
  const tls = ensureTlsMaterial(dataDir);
  const metrics = new Metrics();
  const audit = new AuditLog(dataDir);
  const hub = new SignalingHub({ store, limits, metrics });
  const rate = new RateLimiter();

  // KVS answers GetIceServerConfig with two TURN servers, each with its own credentials and
  // the three URI forms (kvs-wire.md §2): two coturn processes, each with its own secret.
  let coturns: Coturn[] = [];
  let turnUnavailableReason: string | undefined;
  if (options.turn !== false) {
    const turnOpts = typeof options.turn === 'object' ? options.turn : {};
    const binary = findExecutable(turnOpts.binary ?? 'turnserver');
    if (!binary) {
      turnUnavailableReason =
        `coturn (${turnOpts.binary ?? 'turnserver'}) is not installed: GetIceServerConfig will return ` +
        'no TURN servers. Install Debian\'s "coturn" package to get them.';
      log(`WARNING: ${turnUnavailableReason}`);
    } else {
      const byArnName = (username: string): void => {
        const arn = channelArnOfUsername(username);
        const ch = arn === undefined ? undefined : store.byArn(arn);
        if (ch) metrics.turnConnected(ch.name);
      };
      const started = await Promise.allSettled(
        [0, 1].map(() =>
          Coturn.start(binary, {
            ...(turnOpts.tls === false
              ? {}
              : { tls: { certPath: tls.certPath, keyPath: tls.keyPath } }),
            host: host === '::1' ? '::1' : '127.0.0.1',
            onAllocation: byArnName,
          }),
        ),
      );
      coturns = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        await Promise.all(coturns.map((c) => c.stop()));
        throw failed.reason;
      }
    }
  } else {
    turnUnavailableReason = 'TURN is disabled (turn: false).';
  }

  let port = 0;
  const hostPort = (): string => (host === '::1' ? `[::1]:${port}` : `127.0.0.1:${port}`);
  const svc: ServiceContext = {
    region,
    accountId,
    store,
    hub,
    limits,
    now: Date.now,
    hostPort,
    iceServers: (arn) =>
      coturns
        .filter((c) => c.running)
        .map((c) => c.iceServer(arn, limits.turnCredentialTtlSeconds)),
    rate: (key, limit, scope) => {
      if (!rate.allow(key, limit, Date.now())) {
        throw clientLimit(`Rate exceeded: at most ${limit} requests per second per ${scope}.`);
      }
    },
  };
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  const server: Server = createServer({
    key: tls.key,
    cert: tls.cert,
    // Node's default is 120 s; a client that never says hello holds a socket until then.
    handshakeTimeout: limits.tlsHandshakeTimeoutMs,
  });
  const deps: FrontEndDeps = { svc, credentials: table, hub, metrics, audit, wss, log };
  server.on('request', (req, res) => handleHttp(deps, req, res));
  server.on('upgrade', (req, socket, head: Buffer) => handleUpgrade(deps, req, socket, head));
  // A failed or timed-out handshake ends the connection; nothing of it is logged.
  server.on('tlsClientError', (_err, socket) => socket.destroy());

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await Promise.all(coturns.map((c) => c.stop()));
    throw e;
  }
  port = (server.address() as { port: number }).port;

  let iot: LocalIot | undefined;
  if (options.iot) {
    try {
      iot = await startIotEndpoint({
        host,
        dataDir,
        tls,
        credentials: table,
        options: options.iot === true ? {} : options.iot,
        now: Date.now,
        log,
      });
    } catch (e) {
      server.close();
      await Promise.all(coturns.map((c) => c.stop()));
      throw e;
    }
  }

  // A process exiting without stop() must not leave coturn behind. (If it is killed with
  // SIGKILL, coturn's watchdog sees the pipe close and stops it: see turn.ts.)
  const killTurn = (): void => {
    for (const c of coturns) c.killNow();
  };
  if (coturns.length > 0) trackTurn(killTurn);

  let stopping: Promise<void> | undefined;
  let forced = false;
  const stop = (opts: { graceful?: boolean } = {}): Promise<void> => {
    // A forced stop also cuts short a graceful stop that is still waiting.
    if (opts.graceful === false) forced = true;
    // Read afresh each time: a forced stop() may come in while a graceful one waits.
    const clientsToWaitFor = (): boolean => !forced && hub.connectionCount > 0;
    stopping ??= (async () => {
      server.close();
      if (clientsToWaitFor()) {
        hub.goAway();
        // Bounded wait: the grace period, checked every 50 ms.
        const rounds = Math.ceil(limits.goAwayGraceMs / 50) + 1;
        for (let i = 0; i < rounds && clientsToWaitFor(); i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      hub.closeAll();
      iot?.close();
      wss.close();
      server.closeAllConnections();
      await Promise.all(coturns.map((c) => c.stop()));
      untrackTurn(killTurn);
    })();
    return stopping;
  };

  return {
    endpoint: `https://${hostPort()}`,
    port,
    region,
    accountId,
    credentials: {
      accessKeyId: defaultPrincipal.accessKeyId,
      secretAccessKey: defaultPrincipal.secretAccessKey,
    },
    caCertPath: tls.caCertPath,
    caCert: tls.caCert,
    dataDir,
    auditLogPath: audit.path,
    metricsUrl: `https://${hostPort()}/metrics`,
    turn: coturns.length > 0 ? { uris: coturns.flatMap((c) => c.uris()) } : undefined,
    turnUnavailableReason,
    iot,
    goAway: (arn) => hub.goAway(arn),
    reconnectIceServer: (arn) => hub.reconnectIceServer(arn),
    stop,
  };
}
