// The ARM proof, run by Debian's arm64 or armhf node under qemu-user (test/arm/arm.test.ts).
// qemu-user here cannot start further ARM processes (no binfmt_misc), so everything happens
// in this one process: load the package and its prebuilt binary, versions(), selfTest(),
// and a native-to-native PeerConnection call on 127.0.0.1 that connects with SRTP keys on
// both sides. It prints one JSON report on stdout; the test makes the assertions.
//
//   node proof.mjs <consumer dir>   (a project with kvs-webrtc in its node_modules)
//
// Extending it: media (writeFrame) and data channels do not exist yet. When they do, add
// a step to CALL_STEPS below: an H.264 step that writes a few frames on the offerer's
// video transceiver and counts them on the answerer, and a data-channel step that sends
// one message each way on the SCTP association that enableDataChannels() negotiates here
// already. Each step gets the connected pair and returns what the test should check.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';

const consumer = path.resolve(process.argv[2] ?? '.');
// Resolves as code in the consumer project would.
const require = createRequire(path.join(consumer, 'index.js'));
const report = { arch: process.arch, node: process.version, timings: {} };
const since = (t) => Math.round((performance.now() - t) * 10) / 10;
const DEADLINE_MS = 120_000; // generous: emulated, on a busy machine

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), DEADLINE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function waitForConnected(pc) {
  return new Promise((resolve, reject) => {
    if (pc.connectionState === 'connected') return resolve();
    pc.on('connectionstatechange', (s) => {
      if (s === 'connected') resolve();
      else if (s === 'failed' || s === 'closed') reject(new Error(`connection went ${s}`));
    });
  });
}

/** Candidates each way, held until the other side has a remote description. */
function trickle(a, b, errors) {
  const wire = (from, to) => {
    const held = [];
    const flush = () => {
      while (held.length > 0 && to.remoteDescription) {
        to.addIceCandidate(held.shift()).catch((err) => {
          // A candidate still in flight when the call is closed is not an error.
          if (to.signalingState !== 'closed') errors.push(String(err));
        });
      }
    };
    from.on('icecandidate', (c) => {
      if (c) held.push(c.candidate);
      flush();
    });
    to.on('signalingstatechange', flush);
  };
  wire(a, b);
  wire(b, a);
}

/** The moment the offerer's ICE agent reports connected (polled: there is no event). */
function watchIce(pc) {
  const started = performance.now();
  let at;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || at !== undefined) return;
    busy = true;
    pc.getStats()
      .then((stats) => {
        if (at === undefined && stats.get('transport-0')?.iceState === 'connected') {
          at = performance.now();
        }
      })
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      return at === undefined ? undefined : at - started;
    },
  };
}

// Steps run on the connected pair; see the header for the ones to add.
const CALL_STEPS = [];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `new PeerConnection()` with its fresh ECDSA P-256 certificate (median of a few): an upper
 * bound on what certificate generation costs. (A given PEM certificate is no baseline:
 * OpenSSL 3.0's PEM decoders cost more than generating a P-256 key.)
 */
async function createCost(kvs, config) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const pc = new kvs.PeerConnection(config);
    times.push(performance.now() - t);
    await pc.close();
  }
  report.timings.createWithCertificateMs = Math.round(median(times) * 100) / 100;
}

/** One call, createOffer to both connected, with where the time went. */
async function connectOnce(kvs, config, runSteps) {
  const timings = {};
  const offerer = new kvs.PeerConnection(config);
  const answerer = new kvs.PeerConnection(config);
  const errors = [];
  trickle(offerer, answerer, errors);
  try {
    await offerer.addTransceiver({ kind: 'video', codecs: ['H264'], direction: 'sendrecv' });
    await offerer.enableDataChannels();
    const start = performance.now();
    const ice = watchIce(offerer);
    const connected = Promise.all([waitForConnected(offerer), waitForConnected(answerer)]);
    connected.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    const offer = await offerer.createOffer();
    await offerer.setLocalDescription(offer);
    await answerer.setRemoteDescription(offer);
    const answer = await answerer.createAnswer();
    await answerer.setLocalDescription(answer);
    await offerer.setRemoteDescription(answer);
    timings.negotiateMs = since(start); // offer/answer, both sides' descriptions applied
    await withTimeout(connected, 'both peers connected');
    timings.connectMs = since(start); // createOffer to both connected, as in bench/
    const iceMs = ice.stop();
    if (iceMs !== undefined) {
      // ICE checks (candidates trickle meanwhile) until the offerer's agent is connected,
      // then the DTLS handshake and the SRTP key export.
      timings.iceMs = Math.round((iceMs - timings.negotiateMs) * 10) / 10;
      timings.dtlsMs = Math.round((timings.connectMs - iceMs) * 10) / 10;
    }
    const side = async (pc) => {
      const stats = await pc.getStats();
      const transport = stats.get('transport-0') ?? {};
      const pair = stats.get(String(transport.selectedCandidatePairId)) ?? {};
      const local = stats.get(String(pair.localCandidateId)) ?? {};
      return {
        connectionState: pc.connectionState,
        iceState: transport.iceState,
        dtlsState: transport.dtlsState,
        tlsVersion: transport.tlsVersion,
        dtlsCipher: transport.dtlsCipher,
        dtlsRole: transport.dtlsRole,
        srtpCipher: transport.srtpCipher,
        localAddress: local.address,
        localType: local.candidateType,
      };
    };
    const result = { offerer: await side(offerer), answerer: await side(answerer) };
    result.errors = [...errors];
    result.timings = timings;
    if (runSteps) {
      result.steps = {};
      for (const step of CALL_STEPS) {
        result.steps[step.name] = await withTimeout(step.run(offerer, answerer), step.name);
      }
    }
    return result;
  } finally {
    await Promise.all([offerer.close(), answerer.close()]);
  }
}

async function call(kvs) {
  const config = { interfaces: { only: ['127.0.0.1'] } };
  // The first call also pays for compiling the JavaScript on its path (slow when emulated);
  // the second shows the set-up itself.
  report.call = await connectOnce(kvs, config, false);
  report.warmCall = await connectOnce(kvs, config, true);
  await createCost(kvs, config);
}

async function main() {
  let t = performance.now();
  const kvs = require('kvs-webrtc');
  report.timings.requireMs = since(t);
  const pkgDir = path.dirname(require.resolve('kvs-webrtc/package.json'));
  const gypBuild = createRequire(path.join(pkgDir, 'package.json'))('node-gyp-build');
  report.addonPath = gypBuild.path(pkgDir);
  t = performance.now();
  report.versions = kvs.versions();
  report.timings.versionsMs = since(t); // the first call loads the addon
  // Where the addon is mapped, so the test can tell its instructions from Node's own.
  report.addonMappings = fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.endsWith(path.basename(report.addonPath)));
  t = performance.now();
  report.selfTest = kvs.selfTest().map((r) => ({
    profile: r.profile,
    dtlsVersion: r.dtlsVersion,
    cipher: r.cipher,
    tamperRejected: r.srtp.tamperRejected,
    replayRejected: r.srtp.replayRejected,
    sctpSocketCreated: r.sctp.socketCreated,
  }));
  report.timings.selfTestMs = since(t); // per profile: two certificates and one handshake
  await call(kvs);
}

main().then(
  () => {
    console.log(JSON.stringify(report));
  },
  (err) => {
    report.error = String(err && err.stack ? err.stack : err);
    console.log(JSON.stringify(report));
    process.exitCode = 1;
  },
);
