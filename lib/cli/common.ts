/**
 * What the commands share: option parsing with a usage text per command, the log level,
 * where the region, credentials and CA come from (the real service, or a local one), errors
 * that say what to do next, and the status line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AwsCredentials, CredentialsInput } from '../channel/credentials.js';
import { fromIotCredentials, iotOptionsFromEnv } from '../channel/iot-credentials.js';
import { KvsError } from '../errors.js';
import { credentialProviderNode } from '../lazy.js';

/** A command's failure with the text to print; `code` is the exit status. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export type Print = (line: string) => void;

export interface ParsedArgs<V> {
  values: V;
  positionals: string[];
}

/**
 * parseArgs with the command's usage: an unknown option or a missing value is a usage error
 * (exit 2) that prints the usage; `--help` prints it and exits 0.
 */
export function parse(
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  usage: string,
  command: string,
): ParsedArgs<Record<string, string | boolean | string[] | undefined>> | undefined {
  try {
    const r = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const values = r.values as Record<string, string | boolean | string[] | undefined>;
    if (values['help']) {
      process.stdout.write(usage);
      return undefined;
    }
    return { values, positionals: r.positionals };
  } catch (e) {
    throw new CliError(`kvs-webrtc ${command}: ${(e as Error).message}\n\n${usage}`, 2);
  }
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A number option within bounds, or a usage error naming it. */
export function numberOption(
  value: string | boolean | string[] | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new CliError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${String(value)}`,
      2,
    );
  }
  return n;
}

/** The options every channel command takes, for its usage text. */
export const CHANNEL_USAGE = `  --region <region>     AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, or the
                        profile's region in ~/.aws/config)
  --endpoint <url>      a control-plane endpoint instead of AWS, such as the local service's
                        https://127.0.0.1:PORT (see: kvs-webrtc local)
  --ca-cert <file>      a CA to trust besides the system's (default AWS_KVS_CACERT_PATH; with a
                        local --endpoint, the local service's own CA)
  --local-data-dir <d>  the local service's data directory, for its key pair and CA when
                        --endpoint is local and AWS_ACCESS_KEY_ID is unset
                        (default ~/.kvs-webrtc/local)
  --relay               TURN only (iceTransportPolicy "relay")
  --interfaces <list>   only these addresses become host candidates (comma-separated);
                        default: 127.0.0.1 with a local --endpoint, every interface otherwise
  --log-level <level>   1-7 or verbose, debug, info, warn, error, fatal, silent
                        (default AWS_KVS_LOG_LEVEL, else silent)
`;

export const CHANNEL_OPTIONS = {
  region: { type: 'string' },
  endpoint: { type: 'string' },
  'ca-cert': { type: 'string' },
  'local-data-dir': { type: 'string' },
  relay: { type: 'boolean' },
  interfaces: { type: 'string' },
  'log-level': { type: 'string' },
} as const;

/**
 * The host-candidate addresses: --interfaces, else loopback alone against a local service
 * (everything stays on this machine), else every interface.
 */
export function interfacesFor(
  values: Record<string, unknown>,
  local: boolean,
): { only: string[] } | undefined {
  const list = str(values['interfaces'])
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list && list.length > 0) return { only: list };
  return local ? { only: ['127.0.0.1'] } : undefined;
}

const LEVELS: Record<string, number> = {
  verbose: 1,
  debug: 2,
  info: 3,
  warn: 4,
  warning: 4,
  error: 5,
  fatal: 6,
  silent: 7,
};

/**
 * `--log-level` as the C SDK's AWS_KVS_LOG_LEVEL (1 verbose … 7 silent): sets the variable,
 * so every logger made afterwards reads it. Without the option, the environment decides.
 */
export function applyLogLevel(value: string | boolean | string[] | undefined): void {
  if (value === undefined) return;
  const text = String(value).toLowerCase();
  const n = LEVELS[text] ?? Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 7) {
    throw new CliError(
      `--log-level must be 1-7 or one of ${Object.keys(LEVELS).join(', ')}, got ${String(value)}`,
      2,
    );
  }
  process.env['AWS_KVS_LOG_LEVEL'] = String(n);
}

/** The region of the profile in the shared config file, as the AWS CLI reads it. */
export function sharedConfigRegion(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env['AWS_CONFIG_FILE'] ?? path.join(os.homedir(), '.aws', 'config');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const profile = env['AWS_PROFILE'] ?? 'default';
  const wanted = profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`];
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      inSection = wanted.includes((section[1] ?? '').trim());
      continue;
    }
    const kv = /^region\s*=\s*(\S+)/.exec(line);
    if (inSection && kv) return kv[1];
  }
  return undefined;
}

function isLoopbackEndpoint(endpoint: string): boolean {
  try {
    const h = new URL(endpoint).hostname;
    return h === '127.0.0.1' || h === '[::1]' || h === 'localhost' || h === '::1';
  } catch {
    return false;
  }
}

/** Where a channel command connects, resolved from its options and the environment. */
export interface Target {
  region: string;
  endpoint: string | undefined;
  caCertPath: string | undefined;
  /** Access keys, or the AWS IoT provider when the `AWS_IOT_CORE_*` variables are set. */
  credentials: CredentialsInput | undefined;
  /** For messages: "the local service at ..." or "AWS us-west-2". */
  describe: string;
  local: boolean;
}

const NO_CREDENTIALS =
  'no AWS credentials found. Either\n' +
  '  - export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or\n' +
  '  - configure a profile (aws configure; AWS_PROFILE to pick one), or\n' +
  '  - try it without an AWS account: kvs-webrtc demo, or run kvs-webrtc local and pass\n' +
  '    its endpoint with --endpoint';

/**
 * The region, endpoint, CA and credentials of a channel command. Against AWS it needs a
 * region and credentials from the usual sources, and says what to do when either is missing.
 * Against a local --endpoint it falls back to the local service's own key pair and CA.
 */
export async function resolveTarget(values: Record<string, unknown>): Promise<Target> {
  const endpoint = str(values['endpoint']);
  let caCertPath = str(values['ca-cert']) ?? process.env['AWS_KVS_CACERT_PATH'];
  // The C SDK's device set-up: a certificate traded for temporary credentials at AWS IoT.
  let iotOptions;
  try {
    iotOptions = iotOptionsFromEnv();
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  if (iotOptions && iotOptions.caPath === undefined && caCertPath !== undefined)
    iotOptions.caPath = caCertPath;
  const iot = iotOptions ? fromIotCredentials(iotOptions) : undefined;
  const envCreds = (): CredentialsInput | undefined => {
    if (iot) return iot;
    const id = process.env['AWS_ACCESS_KEY_ID'];
    const secret = process.env['AWS_SECRET_ACCESS_KEY'];
    if (!id || !secret) return undefined;
    const token = process.env['AWS_SESSION_TOKEN'];
    return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) };
  };
  if (endpoint !== undefined) {
    try {
      new URL(endpoint);
    } catch {
      throw new CliError(`--endpoint ${endpoint} is not a URL (expected https://host:port)`, 2);
    }
    const region =
      str(values['region']) ??
      process.env['AWS_REGION'] ??
      process.env['AWS_DEFAULT_REGION'] ??
      'us-west-2';
    let credentials = envCreds();
    const local = isLoopbackEndpoint(endpoint);
    if (local && (!credentials || caCertPath === undefined)) {
      const dir = str(values['local-data-dir']) ?? path.join(os.homedir(), '.kvs-webrtc', 'local');
      const file = path.join(dir, 'credentials.json');
      if (!credentials) {
        try {
          const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<AwsCredentials>;
          if (typeof j.accessKeyId === 'string' && typeof j.secretAccessKey === 'string') {
            credentials = { accessKeyId: j.accessKeyId, secretAccessKey: j.secretAccessKey };
          }
        } catch {
          // Handled below.
        }
      }
      const ca = path.join(dir, 'tls', 'ca.pem');
      if (caCertPath === undefined && fs.existsSync(ca)) caCertPath = ca;
      if (!credentials) {
        throw new CliError(
          `no credentials for the local service at ${endpoint}: export the AWS_ACCESS_KEY_ID and ` +
            `AWS_SECRET_ACCESS_KEY that kvs-webrtc local printed, or pass --local-data-dir with ` +
            `its data directory (${file} was not found)`,
        );
      }
    }
    return {
      region,
      endpoint,
      caCertPath,
      credentials,
      describe: `${local ? 'the local service' : 'the endpoint'} ${endpoint}`,
      local,
    };
  }
  const region =
    str(values['region']) ??
    (process.env['AWS_REGION'] || undefined) ??
    (process.env['AWS_DEFAULT_REGION'] || undefined) ??
    sharedConfigRegion();
  if (!region) {
    throw new CliError(
      'no AWS region: pass --region (for example --region us-west-2), export AWS_REGION, or set ' +
        'region in ~/.aws/config; or use the local service with --endpoint',
    );
  }
  let credentials = envCreds();
  if (!credentials) {
    // The SDK's chain (profile, SSO, process, web identity, container, instance metadata),
    // asked once here so that its absence is reported before any connection is tried.
    try {
      const c = await credentialProviderNode().defaultProvider()();
      credentials = {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
        ...(c.expiration ? { expiration: c.expiration } : {}),
      };
    } catch (e) {
      throw new CliError(`${NO_CREDENTIALS}\n(the AWS SDK said: ${(e as Error).message})`);
    }
  }
  return {
    region,
    endpoint: undefined,
    caCertPath,
    credentials,
    describe: `AWS ${region}`,
    local: false,
  };
}

/** A KvsError (or anything) as a message that says what to do next. */
export function explain(
  e: unknown,
  ctx: { channel?: string; target?: Target; role?: string },
): string {
  const err = e instanceof KvsError ? e : undefined;
  const message = e instanceof Error ? e.message : String(e);
  const where = ctx.target?.describe ?? 'the service';
  const channel = ctx.channel ?? '?';
  const code = err?.code;
  // A recovery that gave up carries the last failure as its cause.
  const cause = err?.cause instanceof KvsError ? err.cause : undefined;
  const effective = code === 'ERR_SIGNALING_RETRIES_EXHAUSTED' && cause ? cause.code : code;
  switch (effective) {
    case 'ERR_SIGNALING_NOT_FOUND':
      return (
        `channel ${channel} does not exist on ${where}. Start the master first (kvs-webrtc master ` +
        `${channel} creates it), or create it: aws kinesisvideo create-signaling-channel ` +
        `--channel-name ${channel}${ctx.target ? ` --region ${ctx.target.region}` : ''}\n(${message})`
      );
    case 'ERR_SIGNALING_AUTH':
      return (
        `${where} refused the credentials: check the key pair (AWS_ACCESS_KEY_ID, the profile), ` +
        `that this machine's clock is right, and that the policy allows kinesisvideo:* on the ` +
        `channel (ConnectAsMaster/ConnectAsViewer, DescribeSignalingChannel, ` +
        `GetSignalingChannelEndpoint, GetIceServerConfig)\n(${message})`
      );
    case 'ERR_SIGNALING_NETWORK':
    case 'ERR_SIGNALING_TIMEOUT':
      return ctx.target?.local
        ? `cannot reach ${where}: is kvs-webrtc local running there?\n(${message})`
        : `cannot reach ${where}: check the network, the region and any proxy\n(${message})`;
    case 'ERR_IOT_FILE_UNREADABLE':
      return `${message}\n(check AWS_IOT_CORE_CERT, AWS_IOT_CORE_PRIVATE_KEY and AWS_KVS_CACERT_PATH)`;
    case 'ERR_IOT_CERT_REFUSED':
      return `${message}\n(AWS_IOT_CORE_CERT, AWS_IOT_CORE_THING_NAME)`;
    case 'ERR_IOT_ROLE_ALIAS_NOT_FOUND':
      return `${message}\n(check AWS_IOT_CORE_ROLE_ALIAS: aws iot list-role-aliases)`;
    case 'ERR_IOT_THROTTLED':
    case 'ERR_IOT_REQUEST':
      return `${message}\n(check AWS_IOT_CORE_CREDENTIAL_ENDPOINT: aws iot describe-endpoint --endpoint-type iot:CredentialProvider)`;
    case 'ERR_SIGNALING_INVALID':
      return /credential/i.test(message) ? `${NO_CREDENTIALS}\n(${message})` : message;
    default:
      return `${code ? `[${code}] ` : ''}${message}`;
  }
}

// ---- the status line ----

/** Prints a status line: rewritten in place on a terminal, one line per tick otherwise. */
export class StatusLine {
  readonly #tty: boolean;
  readonly #out: NodeJS.WriteStream;
  #shown = false;

  constructor(out: NodeJS.WriteStream = process.stdout, tty = out.isTTY) {
    this.#out = out;
    this.#tty = tty;
  }

  show(line: string): void {
    if (this.#tty) {
      this.#out.write(`\r\x1b[K${line}`);
      this.#shown = true;
    } else this.#out.write(`${line}\n`);
  }

  /** A line that must stay (an event): printed above the status line. */
  print(line: string): void {
    if (this.#tty && this.#shown) {
      this.#out.write(`\r\x1b[K${line}\n`);
      this.#shown = false;
    } else this.#out.write(`${line}\n`);
  }

  end(): void {
    if (this.#tty && this.#shown) this.#out.write('\n');
    this.#shown = false;
  }
}

export const fmtMs = (ms: number | undefined, digits = 1): string =>
  ms === undefined ? '-' : `${ms.toFixed(digits)} ms`;
export const fmtKbps = (bps: number | undefined): string =>
  bps === undefined ? '-' : `${(bps / 1000).toFixed(0)} kbit/s`;
export const fmtPct = (f: number | undefined): string =>
  f === undefined ? '-' : `${(f * 100).toFixed(1)}%`;
export const fmtBytes = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;

/** Median and spread of a list of numbers. */
export function spread(
  values: number[],
): { n: number; median: number; min: number; max: number; p10: number; p90: number } | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  const mid = s.length / 2;
  const median =
    s.length % 2 === 1
      ? (s[Math.floor(mid)] as number)
      : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return {
    n: s.length,
    median,
    min: s[0] as number,
    max: s[s.length - 1] as number,
    p10: q(0.1),
    p90: q(0.9),
  };
}

/** Resolves after `ms`, or at once when `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** An AbortSignal that fires on the first Ctrl-C (SIGINT) or SIGTERM; a second exits. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  let count = 0;
  const on = (): void => {
    count++;
    if (count === 1) ac.abort();
    else process.exit(130);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}
