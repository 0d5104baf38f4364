// Device credentials from AWS IoT, end to end against the local service: a Master configured
// by the C SDK's AWS_IOT_CORE_* variables alone serves a viewer; an unknown certificate stops
// it with an error naming the certificate; short-lived credentials are renewed under a live
// signaling connection with no message lost and no reconnect. Loopback only.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fromIotCredentials,
  KvsError,
  Master,
  SignalingClient,
  Viewer,
  type IceCandidate,
} from '../../lib/index.js';
import type { LocalKvs } from '../../lib/local/index.js';
import { ensureTlsMaterial, makeDeviceCert } from '../../lib/local/tls.js';
import { removeDir, startTestService } from '../local/helpers.js';
import { nextEvent, until } from './helpers.js';

const IOT_VARS = [
  'AWS_IOT_CORE_CREDENTIAL_ENDPOINT',
  'AWS_IOT_CORE_ROLE_ALIAS',
  'AWS_IOT_CORE_THING_NAME',
  'AWS_IOT_CORE_CERT',
  'AWS_IOT_CORE_PRIVATE_KEY',
  'AWS_KVS_CACERT_PATH',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
];
const savedEnv = Object.fromEntries(IOT_VARS.map((k) => [k, process.env[k]]));

let svc: LocalKvs | undefined;
let dataDir: string | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  await svc?.stop({ graceful: false });
  svc = undefined;
  if (dataDir) removeDir(dataDir);
  dataDir = undefined;
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) Reflect.deleteProperty(process.env, k);
    else process.env[k] = v;
  }
});

async function start(durationSeconds?: number): Promise<LocalKvs> {
  const r = await startTestService({
    // The test asks for the ICE configuration more often than the real service's 5 TPS allow.
    limits: { dataPlaneTpsPerChannel: 50 },
    iot: {
      roleAliases:
        durationSeconds === undefined
          ? []
          : [{ alias: 'short', credentialDurationSeconds: durationSeconds }],
    },
  });
  svc = r.svc;
  dataDir = r.dataDir;
  return r.svc;
}

function useOnlyIotEnv(env: Record<string, string>): void {
  for (const k of IOT_VARS) Reflect.deleteProperty(process.env, k);
  // No shared config either: nothing but the IoT variables can supply credentials.
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/credentials';
  process.env['AWS_CONFIG_FILE'] = '/nonexistent/config';
  Object.assign(process.env, env);
}

describe('IoT device credentials in sessions', () => {
  it('a Master with only the AWS_IOT_CORE_* variables set connects and serves a viewer', async () => {
    const s = await start();
    const device = s.iot?.provisionThing('front-door');
    if (!device) throw new Error('no IoT endpoint');
    useOnlyIotEnv(device.env);
    const master = new Master({
      channelName: 'front-door',
      endpoint: s.endpoint,
      peerConnection: { interfaces: { only: ['127.0.0.1'] } },
    });
    closers.push(() => master.close());
    master.on('message', (m, id) => master.sendMessage(`echo:${String(m)}`, id));
    await master.start();
    expect(s.iot?.issued).toBeGreaterThan(0);

    // The viewer is the app's user: access keys, not a device certificate.
    const viewer = new Viewer({
      channelName: 'front-door',
      endpoint: s.endpoint,
      caCertPath: s.caCertPath,
      credentials: s.credentials,
      clientId: 'phone',
      peerConnection: { interfaces: { only: ['127.0.0.1'] } },
    });
    closers.push(() => viewer.close());
    await viewer.connect();
    const back = nextEvent<[string | Buffer]>(viewer, 'message', (m) => String(m) === 'echo:ring');
    const ch = viewer.dataChannel;
    if (!ch) throw new Error('no data channel');
    if (ch.readyState !== 'open') await nextEvent(ch, 'open');
    viewer.sendMessage('ring');
    await back;
    expect(master.viewers.get('phone')?.state).toBe('connected');
  });

  it('a Master whose certificate the service does not know stops with an error naming it', async () => {
    const s = await start();
    const known = s.iot?.provisionThing('porch');
    if (!known || !dataDir) throw new Error('no IoT endpoint');
    // porch's name with a certificate of another CA, which the service has never seen.
    const otherCa = ensureTlsMaterial(join(dataDir, 'elsewhere'));
    const foreign = makeDeviceCert(
      otherCa.caCert,
      readFileSync(otherCa.caKeyPath, 'utf8'),
      'porch',
    );
    const certPath = join(dataDir, 'stranger.pem');
    const keyPath = join(dataDir, 'stranger.key');
    writeFileSync(certPath, foreign.certPem);
    writeFileSync(keyPath, foreign.keyPem);
    const certificateId = new X509Certificate(foreign.certPem).fingerprint256
      .replace(/:/g, '')
      .toLowerCase();
    useOnlyIotEnv({ ...known.env, AWS_IOT_CORE_CERT: certPath, AWS_IOT_CORE_PRIVATE_KEY: keyPath });
    const master = new Master({
      channelName: 'porch',
      endpoint: s.endpoint,
      peerConnection: { interfaces: { only: ['127.0.0.1'] } },
    });
    closers.push(() => master.close());
    let err: unknown;
    try {
      await master.start();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KvsError);
    const chain: KvsError[] = [];
    for (let e: unknown = err; e instanceof KvsError; e = e.cause) chain.push(e);
    const iot = chain.find((e) => e.code === 'ERR_IOT_CERT_REFUSED');
    expect(iot, chain.map((e) => `${e.code}: ${e.message}`).join('\n')).toBeDefined();
    expect(iot?.message).toContain(certPath);
    expect(iot?.message).toContain(certificateId);
    // Refused once: a refused certificate is not retried.
    expect(s.iot?.refused).toBe(1);
  });

  it('renews short-lived credentials during a connection: no message lost, no reconnect', async () => {
    // 5 s credentials, refreshed 2.5 s before they expire (margin enough for a busy machine).
    const s = await start(5);
    const device = s.iot?.provisionThing('garage', 'short');
    if (!device) throw new Error('no IoT endpoint');
    const provider = fromIotCredentials({
      endpoint: device.env['AWS_IOT_CORE_CREDENTIAL_ENDPOINT'] as string,
      roleAlias: 'short',
      thingName: 'garage',
      certPath: device.certPath,
      keyPath: device.keyPath,
      caPath: s.caCertPath,
    });
    const common = {
      region: s.region,
      endpoint: s.endpoint,
      caCertPath: s.caCertPath,
      channelName: 'garage',
      retry: { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 12 },
    };
    const master = new SignalingClient({
      ...common,
      role: 'MASTER',
      credentials: provider,
      createIfMissing: true,
    });
    closers.push(() => master.close());
    const reconnects: string[] = [];
    const errors: KvsError[] = [];
    const states: string[] = [];
    master.on('reconnect', (r) => reconnects.push(r));
    master.on('error', (e) => errors.push(e));
    await master.connect();
    const firstExpiry = (await provider()).expiration?.getTime() ?? 0;
    master.on('stateChange', (st) => states.push(st));

    const viewer = new SignalingClient({
      ...common,
      role: 'VIEWER',
      clientId: 'watcher',
      credentials: s.credentials,
    });
    closers.push(() => viewer.close());
    await viewer.connect();

    const atMaster: string[] = [];
    const atViewer: string[] = [];
    master.on('sdpOffer', (_d, from) => {
      void master.sendSdpAnswer({ type: 'answer', sdp: 'v=0\r\n' }, from);
    });
    master.on('iceCandidate', (c: IceCandidate, from) => {
      atMaster.push(c.candidate);
      void master.sendIceCandidate({ ...c, candidate: `echo ${c.candidate}` }, from);
    });
    viewer.on('iceCandidate', (c: IceCandidate) => atViewer.push(c.candidate));
    const answered = nextEvent(viewer, 'sdpAnswer');
    await viewer.sendSdpOffer({ type: 'offer', sdp: 'v=0\r\n' });
    await answered;

    // Set in a listener: an object, so that the loop reads it afresh.
    const seen = { refreshes: 0, afterExpiry: false };
    master.on('iceServers', () => {
      seen.refreshes++;
      if (Date.now() > firstExpiry) seen.afterExpiry = true;
    });
    // Messages both ways, and now and then a signed call on the master's side (the service's
    // RECONNECT_ICE_SERVER makes it fetch the ICE configuration), until the credentials were
    // renewed twice and a call after the first ones expired went through.
    let sent = 0;
    for (let round = 0; round < 2000; round++) {
      const text = `candidate:${round} 1 udp 1 127.0.0.1 ${10000 + (round % 50000)} typ host`;
      const echoed = nextEvent(
        viewer,
        'iceCandidate',
        (c: IceCandidate) => c.candidate === `echo ${text}`,
      );
      await viewer.sendIceCandidate({ candidate: text, sdpMid: '0', sdpMLineIndex: 0 });
      sent++;
      await echoed;
      if (round % 10 === 9) {
        const before = seen.refreshes;
        s.reconnectIceServer(master.channelARN);
        await until(() => seen.refreshes > before || errors.length > 0, 'an ICE refresh');
      }
      if ((s.iot?.issued ?? 0) >= 3 && seen.afterExpiry) break;
    }
    expect(s.iot?.issued).toBeGreaterThanOrEqual(3);
    expect(seen.afterExpiry).toBe(true);
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(reconnects).toEqual([]);
    expect(states).toEqual([]);
    expect(master.state).toBe('CONNECTED');
    // Every message arrived, in order, both ways.
    const expected = Array.from(
      { length: sent },
      (_v, i) => `candidate:${i} 1 udp 1 127.0.0.1 ${10000 + (i % 50000)} typ host`,
    );
    expect(atMaster).toEqual(expected);
    expect(atViewer).toEqual(expected.map((t) => `echo ${t}`));
    const m = master.getMetrics();
    expect(m.numberOfReconnects).toBe(0);
    expect(m.numberOfErrors).toBe(0);
    expect(m.iceRefreshCount).toBeGreaterThan(0);
  });
});
