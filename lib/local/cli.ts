/**
 * `kvs-webrtc local`: runs the local KVS service in the foreground and prints what a client
 * needs (endpoint, region, credentials, CA path). Ctrl-C stops it gracefully (GO_AWAY and the
 * grace period); a second Ctrl-C stops it at once.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { invalidArgument, KvsError } from '../errors.js';
import type { LocalPrincipal } from './credentials.js';
import { DEFAULT_LIMITS, type LocalKvsLimits } from './limits.js';
import { startLocalKvs, type LocalKvsOptions } from './service.js';

const USAGE = `usage: kvs-webrtc local [options]

Runs the local Kinesis Video Streams signaling service on loopback.

options:
  --port <n>          TCP port (default 0: a free port)
  --host <ip>         127.0.0.1 (default) or ::1
  --data-dir <dir>    channels, credentials, TLS material, audit log (default ~/.kvs-webrtc/local)
  --region <region>   region the service answers for (default us-west-2)
  --no-turn           do not start coturn
  --limit <k>=<n>     override one quota or timer (repeatable), e.g. --limit goAwayGraceMs=5000;
                      names: ${Object.keys(DEFAULT_LIMITS).join(', ')}
  --principals <file> JSON list of extra principals: {accessKeyId, secretAccessKey,
                      sessionToken?, expiration? (ISO time), userName?, policies?}
  --iot-thing <name>  also serve the AWS IoT credentials endpoint, and write a device certificate
                      and key for this thing (repeatable); prints the AWS_IOT_CORE_* variables.
                      Its role alias allows kinesisvideo:* on the channel named like the thing.
  --json              print the connection details as one JSON line
  -h, --help          this text
`;

function parseLimits(specs: string[]): Partial<LocalKvsLimits> {
  const out: Partial<LocalKvsLimits> = {};
  for (const spec of specs) {
    const m = /^(\w+)=(\d+(?:\.\d+)?)$/.exec(spec);
    if (!m || !((m[1] as string) in DEFAULT_LIMITS)) {
      throw invalidArgument(
        `bad --limit ${JSON.stringify(spec)}: want <name>=<number> with a known name`,
      );
    }
    out[m[1] as keyof LocalKvsLimits] = Number(m[2]);
  }
  return out;
}

function loadPrincipals(file: string): LocalPrincipal[] {
  let list: unknown;
  try {
    list = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw invalidArgument(`--principals ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(list)) throw invalidArgument(`${file}: want a JSON list of principals`);
  return list.map((p: Record<string, unknown>) => {
    const out = { ...p } as unknown as LocalPrincipal;
    // JSON has no dates: expiration comes as an ISO string.
    if (typeof p['expiration'] === 'string') out.expiration = new Date(p['expiration']);
    return out;
  });
}

export async function runLocalCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        region: { type: 'string' },
        'no-turn': { type: 'boolean' },
        limit: { type: 'string', multiple: true },
        principals: { type: 'string' },
        'iot-thing': { type: 'string', multiple: true },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`kvs-webrtc local: ${(e as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const opts: LocalKvsOptions = {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`kvs-webrtc local: bad --port ${values.port}\n`);
      return 1;
    }
    opts.port = port;
  }
  if (values.host !== undefined) {
    if (values.host !== '127.0.0.1' && values.host !== '::1') {
      process.stderr.write('kvs-webrtc local: --host must be 127.0.0.1 or ::1 (loopback only)\n');
      return 1;
    }
    opts.host = values.host;
  }
  if (values['data-dir'] !== undefined) opts.dataDir = values['data-dir'];
  if (values.region !== undefined) opts.region = values.region;
  if (values['no-turn']) opts.turn = false;
  try {
    if (values.limit) opts.limits = parseLimits(values.limit);
    if (values.principals !== undefined) opts.principals = loadPrincipals(values.principals);
  } catch (e) {
    const code = e instanceof KvsError ? `[${e.code}] ` : '';
    process.stderr.write(`kvs-webrtc local: ${code}${(e as Error).message}\n`);
    return 1;
  }

  const things = values['iot-thing'] ?? [];
  if (things.length > 0) opts.iot = { things };

  const svc = await startLocalKvs(opts);
  const devices = svc.iot
    ? things.map((t) => svc.iot?.provisionThing(t)).filter((d) => d !== undefined)
    : [];
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        endpoint: svc.endpoint,
        region: svc.region,
        accessKeyId: svc.credentials.accessKeyId,
        secretAccessKey: svc.credentials.secretAccessKey,
        caCertPath: svc.caCertPath,
        dataDir: svc.dataDir,
        metricsUrl: svc.metricsUrl,
        auditLogPath: svc.auditLogPath,
        turn: svc.turn ?? null,
        iot: svc.iot ? { endpoint: svc.iot.endpoint, devices } : null,
        pid: process.pid,
      })}\n`,
    );
  } else {
    process.stdout.write(
      [
        'Local KVS signaling service running',
        `  endpoint        ${svc.endpoint}`,
        `  region          ${svc.region}`,
        `  AWS_ACCESS_KEY_ID=${svc.credentials.accessKeyId}`,
        `  AWS_SECRET_ACCESS_KEY=${svc.credentials.secretAccessKey}`,
        `  CA certificate  ${svc.caCertPath}`,
        `                  (trust it: export NODE_EXTRA_CA_CERTS=${svc.caCertPath})`,
        `  TURN            ${svc.turn ? svc.turn.uris.join(' ') : `none: ${svc.turnUnavailableReason ?? ''}`}`,
        `  metrics         ${svc.metricsUrl}`,
        `  audit log       ${svc.auditLogPath}`,
        `  data dir        ${svc.dataDir}`,
        `  admin           POST ${svc.endpoint}/local-admin/go-away | /local-admin/reconnect-ice-server (SigV4, these keys)`,
        ...devices.flatMap((d) => [
          `  IoT thing ${d.thingName} (certificate id ${d.certificateId}); on the device:`,
          ...Object.entries(d.env).map(([k, v]) => `    export ${k}=${v}`),
          `    kvs-webrtc master ${d.thingName} --endpoint ${svc.endpoint}`,
        ]),
        'Ctrl-C stops it (GO_AWAY to clients, then their grace period); press twice to stop at once.',
        '',
      ].join('\n'),
    );
  }

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (): void => {
      signals++;
      const failed = (e: unknown): void => {
        process.stderr.write(`kvs-webrtc local: stop failed: ${String(e)}\n`);
        resolve(1);
      };
      if (signals === 1) {
        svc.stop({ graceful: true }).then(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(0);
        }, failed);
      } else {
        svc.stop({ graceful: false }).catch(failed);
        process.exitCode = 130;
        setImmediate(() => process.exit(130));
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
