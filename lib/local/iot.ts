/**
 * The local AWS IoT credentials endpoint: mutual TLS against the service's own CA, things with
 * their device certificates, role aliases with the policies of the role they stand for, and
 * temporary credentials (key, secret, session token, expiry) that the service's SigV4
 * verification then accepts. `GET /role-aliases/<alias>/credentials` with the header
 * `x-amzn-iot-thingname`, answered `{"credentials": {...}}` as AWS IoT does.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { invalidArgument } from '../errors.js';
import { atomicWriteFileSync } from './atomic-file.js';
import type { CredentialTable } from './credentials.js';
import { THING_NAME_VARIABLE, validatePolicy, type PolicyDocument } from './policy.js';
import { makeDeviceCert, type TlsMaterial } from './tls.js';

export interface LocalRoleAlias {
  alias: string;
  /** The role's identity policies; default: kinesisvideo:* on the channel named like the thing. */
  policies?: PolicyDocument[];
  /** Lifetime of the issued credentials. AWS allows 900..43200; here any value from 1. Default 3600. */
  credentialDurationSeconds?: number;
}

export interface LocalIotOptions {
  /** Role aliases besides the default `kvs-webrtc-local-role-alias`. */
  roleAliases?: LocalRoleAlias[];
  /** Things to provision (a device certificate and key for each) on start. */
  things?: string[];
}

/** What a device needs: its files and the C SDK's variables that point at them. */
export interface IotDevice {
  thingName: string;
  certificateId: string;
  certPath: string;
  keyPath: string;
  /** `AWS_IOT_CORE_*` and `AWS_KVS_CACERT_PATH`, ready to export. */
  env: Record<string, string>;
}

export interface LocalIot {
  /** `host:port` of the credentials endpoint, as `AWS_IOT_CORE_CREDENTIAL_ENDPOINT` takes it. */
  endpoint: string;
  port: number;
  /** The default role alias: its policy binds the channel name to the thing name. */
  defaultRoleAlias: string;
  /** Makes (or reuses) a thing's device certificate and key under `<dataDir>/iot/things/`. */
  provisionThing(thingName: string, roleAlias?: string): IotDevice;
  /** Marks a certificate (by id or by thing) revoked: the next request with it gets 403. */
  revoke(certificateIdOrThing: string): void;
  /** The next `n` credential requests are answered 429 (to see the client back off). */
  throttleNext(n: number): void;
  /** Credentials issued so far, and requests refused. */
  readonly issued: number;
  readonly refused: number;
  close(): void;
}

export const DEFAULT_ROLE_ALIAS = 'kvs-webrtc-local-role-alias';

/** AWS IoT's own pattern for thing names. */
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

interface CertRecord {
  certificateId: string;
  thingName: string;
  status: 'ACTIVE' | 'REVOKED';
}

function thingPolicy(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'kinesisvideo:*',
        Resource: `arn:aws:kinesisvideo:*:*:channel/\${${THING_NAME_VARIABLE}}/*`,
      },
    ],
  };
}

export function certificateIdOf(pem: string | Buffer): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const randomFrom = (alphabet: string, n: number): string =>
  Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');

/** Starts the endpoint on its own loopback port (AWS has it on its own host, too). */
export async function startIotEndpoint(deps: {
  host: '127.0.0.1' | '::1';
  dataDir: string;
  tls: TlsMaterial;
  credentials: CredentialTable;
  options: LocalIotOptions;
  now: () => number;
  log: (line: string) => void;
}): Promise<LocalIot> {
  const { tls, credentials, now } = deps;
  const dir = join(deps.dataDir, 'iot');
  mkdirSync(join(dir, 'things'), { recursive: true, mode: 0o700 });
  const registryPath = join(dir, 'registry.json');

  const aliases = new Map<string, { policies: PolicyDocument[]; durationMs: number }>();
  for (const a of [{ alias: DEFAULT_ROLE_ALIAS }, ...(deps.options.roleAliases ?? [])]) {
    if (!/^[\w=,@-]{1,128}$/.test(a.alias)) throw invalidArgument(`bad role alias ${a.alias}`);
    const seconds = a.credentialDurationSeconds ?? 3600;
    if (!(seconds >= 1 && seconds <= 43200))
      throw invalidArgument(`credentialDurationSeconds of ${a.alias} must be in 1..43200`);
    aliases.set(a.alias, {
      policies: (a.policies ?? [thingPolicy()]).map((p) => validatePolicy(p)),
      durationMs: seconds * 1000,
    });
  }

  // Certificates survive restarts, as the CA that signed them does.
  const certs = new Map<string, CertRecord>();
  if (existsSync(registryPath)) {
    const j = JSON.parse(readFileSync(registryPath, 'utf8')) as { certificates?: CertRecord[] };
    for (const c of j.certificates ?? []) certs.set(c.certificateId, c);
  }
  const save = (): void =>
    atomicWriteFileSync(
      registryPath,
      JSON.stringify({ version: 1, certificates: [...certs.values()] }),
    );

  let issued = 0;
  let refused = 0;
  let throttle = 0;

  const answer = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res
      .writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(text)),
        'x-amzn-RequestId': randomBytes(16).toString('hex'),
      })
      .end(text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const refuse = (status: number, message: string): void => {
      refused++;
      answer(res, status, { message });
    };
    const m = /^\/role-aliases\/([^/?]+)\/credentials$/.exec((req.url ?? '').split('?')[0] ?? '');
    if (req.method !== 'GET' || !m) {
      refuse(
        404,
        'Not found: the credentials endpoint serves GET /role-aliases/<alias>/credentials.',
      );
      return;
    }
    const socket = req.socket;
    // Without a certificate Node hands back an empty object.
    const raw =
      socket instanceof TLSSocket
        ? (socket.getPeerCertificate() as { raw?: Buffer }).raw
        : undefined;
    if (!(socket instanceof TLSSocket) || !socket.authorized || raw === undefined) {
      refuse(403, 'Access Denied: no client certificate issued by a registered CA.');
      return;
    }
    const certificateId = certificateIdOf(
      `-----BEGIN CERTIFICATE-----\n${raw.toString('base64')}\n-----END CERTIFICATE-----\n`,
    );
    const rec = certs.get(certificateId);
    if (!rec) {
      refuse(403, `Access Denied: certificate ${certificateId} is not registered.`);
      return;
    }
    if (rec.status !== 'ACTIVE') {
      refuse(403, `Access Denied: certificate ${certificateId} is ${rec.status}.`);
      return;
    }
    const thing = req.headers['x-amzn-iot-thingname'];
    if (typeof thing !== 'string' || !THING_NAME.test(thing)) {
      refuse(400, 'Invalid request: the x-amzn-iot-thingname header is missing or malformed.');
      return;
    }
    if (thing !== rec.thingName) {
      refuse(403, `Access Denied: certificate ${certificateId} is not attached to thing ${thing}.`);
      return;
    }
    const aliasName = decodeURIComponent(m[1] as string);
    const alias = aliases.get(aliasName);
    if (!alias) {
      refuse(404, `Role alias ${aliasName} does not exist.`);
      return;
    }
    if (throttle > 0) {
      throttle--;
      refuse(429, 'Rate exceeded.');
      return;
    }
    const t = now();
    const accessKeyId = `ASIA${randomFrom(UPPER_ALNUM, 16)}`;
    const secretAccessKey = randomBytes(30).toString('base64').replace(/[+/]/g, 'x');
    const sessionToken = randomBytes(96).toString('base64');
    const expiresAt = t + alias.durationMs;
    credentials.addTemporary(
      {
        accessKeyId,
        secretAccessKey,
        sessionToken,
        expiresAt,
        userName: `iot/${aliasName}/${thing}`,
        policies: alias.policies,
        admin: false,
        policyVariables: { [THING_NAME_VARIABLE]: thing },
      },
      t,
    );
    issued++;
    answer(res, 200, {
      credentials: {
        accessKeyId,
        secretAccessKey,
        sessionToken,
        expiration: new Date(expiresAt).toISOString(),
      },
    });
  };

  const server: Server = createServer({
    key: tls.key,
    cert: tls.cert,
    ca: tls.caCert,
    requestCert: true,
    // Checked per request instead, so an unknown certificate gets a 403 that says so.
    rejectUnauthorized: false,
  });
  server.on('request', (req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      deps.log(`iot endpoint: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) answer(res, 500, { message: 'Internal failure.' });
    }
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, deps.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const endpoint = deps.host === '::1' ? `[::1]:${port}` : `127.0.0.1:${port}`;

  const provisionThing = (thingName: string, roleAlias = DEFAULT_ROLE_ALIAS): IotDevice => {
    if (!THING_NAME.test(thingName)) {
      throw invalidArgument(
        `thing name ${JSON.stringify(thingName)} does not match [a-zA-Z0-9:_-]{1,128}`,
      );
    }
    if (!aliases.has(roleAlias)) throw invalidArgument(`no role alias ${roleAlias}`);
    const thingDir = join(dir, 'things', thingName);
    mkdirSync(thingDir, { recursive: true, mode: 0o700 });
    const certPath = join(thingDir, 'certificate.pem');
    const keyPath = join(thingDir, 'private.key');
    let certificateId: string | undefined;
    if (existsSync(certPath) && existsSync(keyPath)) {
      const id = certificateIdOf(readFileSync(certPath));
      if (certs.get(id)?.status === 'ACTIVE') certificateId = id;
    }
    if (certificateId === undefined) {
      const caKey = readFileSync(tls.caKeyPath, 'utf8');
      const dev = makeDeviceCert(tls.caCert, caKey, thingName, now());
      atomicWriteFileSync(keyPath, dev.keyPem);
      atomicWriteFileSync(certPath, dev.certPem, 0o644);
      certificateId = certificateIdOf(dev.certPem);
      certs.set(certificateId, { certificateId, thingName, status: 'ACTIVE' });
      save();
    }
    return {
      thingName,
      certificateId,
      certPath,
      keyPath,
      env: {
        AWS_IOT_CORE_CREDENTIAL_ENDPOINT: endpoint,
        AWS_IOT_CORE_ROLE_ALIAS: roleAlias,
        AWS_IOT_CORE_THING_NAME: thingName,
        AWS_IOT_CORE_CERT: certPath,
        AWS_IOT_CORE_PRIVATE_KEY: keyPath,
        AWS_KVS_CACERT_PATH: tls.caCertPath,
      },
    };
  };

  for (const t of deps.options.things ?? []) provisionThing(t);

  return {
    endpoint,
    port,
    defaultRoleAlias: DEFAULT_ROLE_ALIAS,
    provisionThing,
    revoke: (key) => {
      const hits = [...certs.values()].filter(
        (c) => c.certificateId === key || c.thingName === key,
      );
      if (hits.length === 0) throw invalidArgument(`no certificate or thing ${key}`);
      for (const c of hits) c.status = 'REVOKED';
      save();
    },
    throttleNext: (n) => {
      throttle = Math.max(0, Math.floor(n));
    },
    get issued() {
      return issued;
    },
    get refused() {
      return refused;
    },
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
