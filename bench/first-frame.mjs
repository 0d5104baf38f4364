#!/usr/bin/env node
// Time to first frame in the demo's set-up on loopback: the embedded local KVS service, a
// Master streaming the sample (H.264 640x480 25 fps, an IDR every 25 frames, and Opus), and
// a fresh Viewer per run, from its connect() to its first whole video frame. Reported with
// its spread and broken into steps (signaling up to READY, the socket, offer to answer, ICE
// and DTLS, then the first frame).
//
//   node bench/first-frame.mjs [--runs 20] [--only answer,midstream,warm]
//
// Scenarios:
//   answer     the master answers the viewer's key-frame request at once (the demo)
//   midstream  it does not: the viewer waits for the clip's next key frame, as one joining a
//              camera's stream mid-GOP does (up to 1 s at 25 frames per GOP)
//   warm       as `answer`, with the endpoint cache shared by the runs (a device restarted
//              with the C SDK's file cache): no DescribeSignalingChannel and
//              GetSignalingChannelEndpoint calls
// Host candidates on 127.0.0.1 only; the service's per-channel rates are raised for the
// runs (they would throttle 60 viewers a minute). Needs dist/ (npm run build).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const k = require('../dist/index.js');
const { startEmbeddedService } = require('../dist/demo.js');

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const RUNS = Number(arg('runs', '20'));
const ONLY = arg('only', 'answer,midstream,warm').split(',');

function quantile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
function stats(values) {
  const s = values.filter((v) => v !== undefined).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return {
    n: s.length,
    median,
    p10: quantile(s, 0.1),
    p90: quantile(s, 0.9),
    min: s[0],
    max: s[s.length - 1],
  };
}
const fmt = (v) => (v === undefined ? '-' : v.toFixed(1));

async function scenario(name, { answer, warm }) {
  const svc = await startEmbeddedService({ turn: false, viewers: 100 });
  const common = {
    ...svc.session,
    channelName: `bench-${name}-${process.pid}`,
    peerConnection: { interfaces: { only: ['127.0.0.1'] } },
  };
  const master = new k.Master({ ...common, maxViewers: 100 });
  const source = new k.LoopingMediaSource({ ...k.sampleTracks(), answerKeyFrameRequests: answer });
  source.on('frame', (kind, f) => master.writeFrame(kind, f));
  master.on('keyframerequest', () => source.requestKeyFrame());
  await master.start();
  source.start();
  const cache = warm ? new k.MemoryEndpointCache() : undefined;
  const rows = [];
  try {
    // One warm-up run (module loading, the first certificate, JIT), not counted.
    for (let i = 0; i <= RUNS; i++) {
      const viewer = new k.Viewer({
        ...common,
        clientId: `bench-${i}`,
        ...(cache ? { signaling: { cache } } : {}),
      });
      const firstFrame = new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no frame in 10 s')), 10_000);
        viewer.on('frame', (kind) => {
          if (kind === 'video') {
            clearTimeout(t);
            resolve();
          }
        });
      });
      try {
        await viewer.connect();
        await firstFrame;
        const t = viewer.timeline;
        const from = (x) => (x === undefined ? undefined : x - t.connectStarted);
        if (i > 0) {
          rows.push({
            ttff: viewer.timeToFirstFrame('video'),
            ready: from(t.localDescription),
            socket: from(t.signalingConnected),
            answer: from(t.answerReceived),
            connected: from(t.connected),
          });
          if (process.env.BENCH_VERBOSE)
            process.stderr.write(`${name} ${i} ${JSON.stringify(rows.at(-1))}\n`);
        }
      } catch (e) {
        rows.push({ failed: String(e.message ?? e) });
      } finally {
        await viewer.close();
      }
      // Runs apart, at a random phase of the clip's 1 s GOP, as viewers join at any moment.
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 1000));
    }
  } finally {
    source.stop();
    await master.close();
    await svc.stop();
  }
  const ok = rows.filter((r) => r.failed === undefined);
  return {
    name,
    runs: rows.length,
    failed: rows.length - ok.length,
    ttff: stats(ok.map((r) => r.ttff)),
    steps: {
      connected: stats(ok.map((r) => r.connected)),
      socket: stats(ok.map((r) => r.socket)),
      answer: stats(ok.map((r) => r.answer)),
      afterConnected: stats(ok.map((r) => r.ttff - r.connected)),
    },
  };
}

const SCENARIOS = {
  answer: { answer: true, warm: false },
  midstream: { answer: false, warm: false },
  warm: { answer: true, warm: true },
};

const results = [];
for (const name of ONLY) {
  if (!SCENARIOS[name]) throw new Error(`unknown scenario ${name}`);
  results.push(await scenario(name, SCENARIOS[name]));
}
console.log(
  `time to first frame (viewer connect() -> first whole video frame), ${RUNS} runs each, loopback`,
);
console.log(
  'scenario    median    p10    p90    min    max  failed | median: socket up  answer  connected  connected->frame',
);
for (const r of results) {
  const t = r.ttff ?? {};
  const s = r.steps;
  console.log(
    `${r.name.padEnd(10)} ${fmt(t.median).padStart(7)} ${fmt(t.p10).padStart(6)} ${fmt(t.p90).padStart(6)} ` +
      `${fmt(t.min).padStart(6)} ${fmt(t.max).padStart(6)} ${String(r.failed).padStart(7)} | ` +
      `${fmt(s.socket?.median).padStart(17)} ${fmt(s.answer?.median).padStart(7)} ${fmt(s.connected?.median).padStart(10)} ` +
      `${fmt(s.afterConnected?.median).padStart(17)}`,
  );
}
if (process.env.BENCH_JSON) console.log(JSON.stringify(results));
process.exit(0);
