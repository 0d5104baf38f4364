// The local AWS IoT credentials endpoint with the IoT credential provider (fromIotCredentials):
// mutual TLS, things and role aliases, 403/404/429, temporary credentials the SigV4 check
// accepts (session token checked, expiry enforced), and the `${credentials-iot:ThingName}`
// policy variable. Loopback only.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import {
  CreateSignalingChannelCommand,
  DescribeSignalingChannelCommand,
  KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fromIotCredentials,
  iotOptionsFromEnv,
  KvsError,
  type AwsCredentials,
  type IotCredentialsOptions,
} from '../../lib/index.js';
import type { LocalKvs, LocalKvsOptions } from '../../lib/local/index.js';
import { evaluate } from '../../lib/local/policy.js';
import { ensureTlsMaterial, makeDeviceCert } from '../../lib/local/tls.js';
import { rejection, removeDir, startTestService, tempDir } from './helpers.js';

let svc: LocalKvs | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await svc?.stop({ graceful: false });
  svc = undefined;
  for (const d of dirs.splice(0)) removeDir(d);
});

async function start(opts: LocalKvsOptions = {}): Promise<LocalKvs> {
  const r = await startTestService({ iot: true, ...opts });
  dirs.push(r.dataDir);
  svc = r.svc;
  return r.svc;
}

function iotOf(s: LocalKvs) {
  if (!s.iot) throw new Error('the service has no IoT endpoint');
  return s.iot;
}

/** The provider's options for a provisioned thing, as the C SDK's variables give them. */
function deviceOptions(s: LocalKvs, thing: string, alias?: string): IotCredentialsOptions {
  const d = iotOf(s).provisionThing(thing, alias);
  return {
    endpoint: d.env['AWS_IOT_CORE_CREDENTIAL_ENDPOINT'] as string,
    roleAlias: d.env['AWS_IOT_CORE_ROLE_ALIAS'] as string,
    thingName: thing,
    certPath: d.certPath,
    keyPath: d.keyPath,
    caPath: s.caCertPath,
    backoffBaseMs: 20,
  };
}

function kvsClient(
  s: LocalKvs,
  credentials: KinesisVideoClient['config']['credentials'] | AwsCredentials,
) {
  return new KinesisVideoClient({
    region: s.region,
    endpoint: s.endpoint,
    credentials: credentials as AwsCredentials,
    maxAttempts: 1,
    requestHandler: { httpsAgent: new Agent({ ca: s.caCert }) },
  });
}

async function kvsError(p: Promise<unknown>): Promise<KvsError> {
  const e = await rejection(p);
  if (!(e instanceof KvsError)) throw e;
  return e;
}

/** Waits (bounded, polling the clock) until `t` has passed. */
async function until(t: number): Promise<void> {
  for (let i = 0; i < 600 && Date.now() <= t; i++) await new Promise((r) => setTimeout(r, 100));
}

describe('the local AWS IoT credentials endpoint', () => {
  it('issues temporary credentials for a registered certificate; the AWS SDK signs with them', async () => {
    const s = await start();
    const provider = fromIotCredentials(deviceOptions(s, 'cam-1'));
    const c = await provider();
    expect(c.accessKeyId).toMatch(/^ASIA/);
    expect(c.sessionToken).toBeTruthy();
    expect(c.expiration?.getTime()).toBeGreaterThan(Date.now());
    // Cached: a second call makes no request.
    await provider();
    expect(provider.requests).toBe(1);
    expect(iotOf(s).issued).toBe(1);

    const kv = kvsClient(s, provider);
    const made = await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'cam-1' }));
    expect(made.ChannelARN).toContain(':channel/cam-1/');
  });

  it('binds the channel to the thing name: its own channel is allowed, another refused', async () => {
    const s = await start();
    const admin = kvsClient(s, s.credentials);
    await admin.send(new CreateSignalingChannelCommand({ ChannelName: 'other-cam' }));
    const kv = kvsClient(s, fromIotCredentials(deviceOptions(s, 'cam-2')));
    await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'cam-2' }));
    const own = await kv.send(new DescribeSignalingChannelCommand({ ChannelName: 'cam-2' }));
    expect(own.ChannelInfo?.ChannelName).toBe('cam-2');
    const e = await rejection(
      kv.send(new DescribeSignalingChannelCommand({ ChannelName: 'other-cam' })),
    );
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toContain('other-cam');
    const e2 = await rejection(
      kv.send(new CreateSignalingChannelCommand({ ChannelName: 'cam-2x' })),
    );
    expect(e2.name).toBe('AccessDeniedException');
  });

  it('checks the session token, and enforces the expiry', async () => {
    const s = await start({
      iot: { roleAliases: [{ alias: 'short', credentialDurationSeconds: 5 }] },
    });
    const c = await fromIotCredentials(deviceOptions(s, 'cam-3', 'short'))();
    const describe = (creds: AwsCredentials) =>
      kvsClient(s, creds).send(new CreateSignalingChannelCommand({ ChannelName: 'cam-3' }));
    const noToken = await rejection(
      describe({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }),
    );
    expect(noToken.name).toBe('UnrecognizedClientException');
    const wrongToken = await rejection(describe({ ...c, sessionToken: `${c.sessionToken}x` }));
    expect(wrongToken.name).toBe('UnrecognizedClientException');
    await describe(c);
    await until((c.expiration as Date).getTime());
    const expired = await rejection(describe(c));
    expect(expired.name).toBe('ExpiredTokenException');
  });

  it('refuses a certificate it does not know with an error naming it (foreign CA and unregistered)', async () => {
    const s = await start();
    const opts = deviceOptions(s, 'cam-4');
    const other = tempDir();
    dirs.push(other);
    // A certificate of another CA.
    const foreignCa = ensureTlsMaterial(other);
    const foreign = makeDeviceCert(
      foreignCa.caCert,
      readFileSync(foreignCa.caKeyPath, 'utf8'),
      'cam-4',
    );
    const fCert = join(other, 'foreign.pem');
    const fKey = join(other, 'foreign.key');
    writeFileSync(fCert, foreign.certPem);
    writeFileSync(fKey, foreign.keyPem);
    const e = await kvsError(fromIotCredentials({ ...opts, certPath: fCert, keyPath: fKey })());
    expect(e.code).toBe('ERR_IOT_CERT_REFUSED');
    expect(e.message).toContain(fCert);
    expect(e.message).toMatch(/certificate id [0-9a-f]{64}/);
    expect(e.message).toContain('cam-4');

    // Signed by the service's own CA, but never registered.
    const unregistered = makeDeviceCert(
      s.caCert,
      readFileSync(join(s.dataDir, 'tls', 'ca-key.pem'), 'utf8'),
      'cam-4',
    );
    const uCert = join(other, 'unregistered.pem');
    const uKey = join(other, 'unregistered.key');
    writeFileSync(uCert, unregistered.certPem);
    writeFileSync(uKey, unregistered.keyPem);
    const e2 = await kvsError(fromIotCredentials({ ...opts, certPath: uCert, keyPath: uKey })());
    expect(e2.code).toBe('ERR_IOT_CERT_REFUSED');
    expect(e2.message).toContain(uCert);
    expect(e2.message).toContain('not registered');
    expect(iotOf(s).issued).toBe(0);
  });

  it('refuses a revoked certificate at the next refresh; issued credentials stay valid until then', async () => {
    const s = await start({
      iot: { roleAliases: [{ alias: 'short', credentialDurationSeconds: 6 }] },
    });
    const provider = fromIotCredentials(deviceOptions(s, 'cam-5', 'short'));
    const first = await provider();
    iotOf(s).revoke('cam-5');
    // Until the refresh, the cached credentials are handed out and accepted.
    expect((await provider()).accessKeyId).toBe(first.accessKeyId);
    await kvsClient(s, first).send(new CreateSignalingChannelCommand({ ChannelName: 'cam-5' }));
    expect(provider.requests).toBe(1);
    // The refresh (half the 6 s lifetime before expiry) asks again, and is refused.
    let err: unknown;
    for (let i = 0; i < 300 && err === undefined; i++) {
      try {
        await provider();
        await new Promise((r) => setTimeout(r, 100));
      } catch (e) {
        err = e;
      }
    }
    expect(err).toBeInstanceOf(KvsError);
    expect((err as KvsError).code).toBe('ERR_IOT_CERT_REFUSED');
    expect((err as KvsError).message).toContain('REVOKED');
    expect(provider.requests).toBe(2);
  });

  it('names a missing certificate or key file, and an unknown role alias', async () => {
    const s = await start();
    const opts = deviceOptions(s, 'cam-6');
    const missing = join(s.dataDir, 'nope.pem');
    const e1 = await kvsError(fromIotCredentials({ ...opts, certPath: missing })());
    expect(e1.code).toBe('ERR_IOT_FILE_UNREADABLE');
    expect(e1.message).toContain(`device certificate ${missing}`);
    expect(e1.message).toContain('ENOENT');
    const e2 = await kvsError(fromIotCredentials({ ...opts, keyPath: missing })());
    expect(e2.code).toBe('ERR_IOT_FILE_UNREADABLE');
    expect(e2.message).toContain(`private key ${missing}`);
    // A key that is not the certificate's.
    const other = iotOf(s).provisionThing('cam-6b');
    const e3 = await kvsError(fromIotCredentials({ ...opts, keyPath: other.keyPath })());
    expect(e3.code).toBe('ERR_IOT_FILE_UNREADABLE');
    expect(e3.message).toContain(other.keyPath);
    const e4 = await kvsError(fromIotCredentials({ ...opts, roleAlias: 'no-such-alias' })());
    expect(e4.code).toBe('ERR_IOT_ROLE_ALIAS_NOT_FOUND');
    expect(e4.message).toContain('no-such-alias');
    expect(iotOf(s).issued).toBe(0);
  });

  it('retries a throttled request with back-off, and gives up with ERR_IOT_THROTTLED', async () => {
    const s = await start();
    const opts = deviceOptions(s, 'cam-7');
    iotOf(s).throttleNext(2);
    const p = fromIotCredentials({ ...opts, maxAttempts: 4 });
    await p();
    expect(p.requests).toBe(3);
    iotOf(s).throttleNext(100);
    const q = fromIotCredentials({ ...opts, maxAttempts: 3 });
    const e = await kvsError(q());
    expect(e.code).toBe('ERR_IOT_THROTTLED');
    expect(q.requests).toBe(3);
  });

  it('keeps provisioned certificates across a restart, and the same files for the same thing', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const s1 = await start({ dataDir });
    const d1 = iotOf(s1).provisionThing('cam-8');
    const saved = join(dataDir, 'saved.pem');
    copyFileSync(d1.certPath, saved);
    await s1.stop({ graceful: false });
    svc = undefined;
    const s2 = await start({ dataDir });
    const d2 = iotOf(s2).provisionThing('cam-8');
    expect(d2.certificateId).toBe(d1.certificateId);
    await fromIotCredentials(deviceOptions(s2, 'cam-8'))();
  });
});

describe('the IoT pieces, without a service', () => {
  it('reads the C SDK variables, and names the missing ones when half are set', () => {
    expect(iotOptionsFromEnv({})).toBeUndefined();
    const env = {
      AWS_IOT_CORE_CREDENTIAL_ENDPOINT: 'abc.credentials.iot.us-west-2.amazonaws.com',
      AWS_IOT_CORE_ROLE_ALIAS: 'alias',
      AWS_IOT_CORE_THING_NAME: 'thing',
      AWS_IOT_CORE_CERT: '/c.pem',
      AWS_IOT_CORE_PRIVATE_KEY: '/k.pem',
      AWS_KVS_CACERT_PATH: '/ca.pem',
    };
    expect(iotOptionsFromEnv(env)).toEqual({
      endpoint: 'abc.credentials.iot.us-west-2.amazonaws.com',
      roleAlias: 'alias',
      thingName: 'thing',
      certPath: '/c.pem',
      keyPath: '/k.pem',
      caPath: '/ca.pem',
    });
    const half = Object.fromEntries(
      Object.entries(env).filter(
        ([k]) => k !== 'AWS_IOT_CORE_CERT' && k !== 'AWS_IOT_CORE_ROLE_ALIAS',
      ),
    );
    let err: unknown;
    try {
      iotOptionsFromEnv(half);
    } catch (e) {
      err = e;
    }
    expect((err as KvsError).code).toBe('ERR_INVALID_ARGUMENT');
    expect((err as KvsError).message).toContain('AWS_IOT_CORE_ROLE_ALIAS, AWS_IOT_CORE_CERT');
  });

  it('expands ${credentials-iot:ThingName} in Resource, and matches nothing without it', () => {
    const policy = {
      Statement: {
        Effect: 'Allow' as const,
        Action: 'kinesisvideo:*',
        Resource: 'arn:aws:kinesisvideo:*:*:channel/${credentials-iot:ThingName}/*',
      },
    };
    const arn = (name: string) => `arn:aws:kinesisvideo:us-west-2:123456789012:channel/${name}/1`;
    const vars = { 'credentials-iot:ThingName': 'cam' };
    expect(evaluate([policy], 'kinesisvideo:ConnectAsMaster', arn('cam'), vars)).toBe('Allow');
    expect(evaluate([policy], 'kinesisvideo:ConnectAsMaster', arn('cam2'), vars)).toBe(
      'ImplicitDeny',
    );
    expect(evaluate([policy], 'kinesisvideo:ConnectAsMaster', arn('cam'))).toBe('ImplicitDeny');
    // The literal text is not a way in either.
    expect(
      evaluate([policy], 'kinesisvideo:ConnectAsMaster', arn('${credentials-iot:ThingName}')),
    ).toBe('ImplicitDeny');
    // A value with glob characters matches nothing.
    expect(
      evaluate([policy], 'kinesisvideo:ConnectAsMaster', arn('cam'), {
        'credentials-iot:ThingName': '*',
      }),
    ).toBe('ImplicitDeny');
    // NotResource with the variable: everything but the thing's channel.
    const deny = {
      Statement: [
        { Effect: 'Allow' as const, Action: '*', Resource: '*' },
        {
          Effect: 'Deny' as const,
          Action: '*',
          NotResource: 'arn:aws:kinesisvideo:*:*:channel/${credentials-iot:ThingName}/*',
        },
      ],
    };
    expect(evaluate([deny], 'kinesisvideo:X', arn('cam'), vars)).toBe('Allow');
    expect(evaluate([deny], 'kinesisvideo:X', arn('dog'), vars)).toBe('ExplicitDeny');
  });
});
