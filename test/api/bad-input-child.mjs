// Child of bad-input.test.ts: makes failed objects of every kind and closes nothing. Prints
// "ok <what>" for each failure that was a registered KvsError, then "done"; the process must
// then exit by itself. argv: dist/index.js, dist/local/index.js, a local endpoint, its CA.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [, , entry, localEntry, endpoint, caCertPath] = process.argv;
// The package's CommonJS build, as an application loads it.
const kvs = (await import(pathToFileURL(entry).href)).default;
const local = (await import(pathToFileURL(localEntry).href)).default;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function expectFailure(what, call) {
  let err;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof kvs.KvsError) || !kvs.isKvsErrorCode(err.code)) {
    console.log(`FAIL ${what}: ${err === undefined ? 'did not fail' : String(err)}`);
    process.exitCode = 1;
    return;
  }
  console.log(`ok ${what} (${err.code})`);
}

(async () => {
  // Peer connections refused by validation, and by the native side (a certificate it cannot
  // read is only found out there), many times over.
  for (let i = 0; i < 20; i++) {
    await expectFailure('bad certificate', () => {
      new kvs.PeerConnection({
        interfaces: { only: ['127.0.0.1'] },
        certificate: { certificatePem: 'not pem', privateKeyPem: 'not pem' },
      });
    });
  }
  await expectFailure('bad maxMessageSize', () => {
    new kvs.PeerConnection({ dataChannels: { maxMessageSize: 1 } });
  });
  await expectFailure('PeerConnection.create with bad servers', () =>
    kvs.PeerConnection.create({ iceServers: [{ urls: 'turn:127.0.0.1' }] }),
  );
  // Sessions refused at construction (after the signaling options were read).
  const session = {
    channelName: 'bad-input',
    region: 'us-west-2',
    endpoint,
    caCertPath,
    logger: quiet,
  };
  await expectFailure('Master with a bad peerConnection option', () => {
    new kvs.Master({ ...session, peerConnection: { timeouts: { failed: 0 } } });
  });
  await expectFailure('Viewer with a bad connectTimeoutMs', () => {
    new kvs.Viewer({ ...session, connectTimeoutMs: -1 });
  });
  // Rejected starts against the live local service, with wrong credentials, on the default
  // retries: the same credentials refused twice end the run (ERR_SIGNALING_AUTH).
  const wrong = { accessKeyId: 'AKIAWRONGWRONGWRONG1', secretAccessKey: 'wrong' };
  await expectFailure('Master.start with wrong credentials', () =>
    new kvs.Master({ ...session, credentials: wrong }).start(),
  );
  await expectFailure('Viewer.connect with wrong credentials', () =>
    new kvs.Viewer({ ...session, credentials: wrong }).connect(),
  );
  await expectFailure('SignalingClient.connect with wrong credentials', () =>
    new kvs.SignalingClient({
      role: 'MASTER',
      channelName: 'bad-input',
      region: 'us-west-2',
      endpoint,
      caCertPath,
      credentials: wrong,
      logger: quiet,
      cache: false,
    }).connect(),
  );
  // The local service refused before it opened anything.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvs-bad-input-child-'));
  await expectFailure('startLocalKvs port 65536', () =>
    local.startLocalKvs({ port: 65536, turn: false, dataDir, log() {} }),
  );
  await expectFailure('startLocalKvs host 0.0.0.0', () =>
    local.startLocalKvs({ host: '0.0.0.0', turn: false, dataDir, log() {} }),
  );
  fs.rmSync(dataDir, { recursive: true, force: true });
  // NAT discovery refused before its socket was bound.
  await expectFailure('discoverNatBehavior localAddress eth0', () =>
    kvs.discoverNatBehavior('stun:127.0.0.1:9', { localAddress: 'eth0' }),
  );
  console.log('done');
})().catch((e) => {
  console.log(`FAIL ${String(e)}`);
  process.exitCode = 1;
});
