#!/usr/bin/env node
// The path-change fault of restart-faults.test.ts, run inside a private network namespace
// (the test starts it with `unshare --net`): the local service on the namespace's loopback, a
// master on kvsr0 (10.98.0.1) and a viewer on kvsr1 (10.98.0.2), host candidates of those
// interfaces only. Mid-call the viewer's address becomes 10.98.0.3 (ip addr del/add); the
// viewer must restart ICE onto it and the video go on.
//   node restart-netns-child.mjs '<json: { outDir }>'
// Out (JSON lines): {type:'step', step}, {type:'result', ...}, {type:'error', message}.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const lib = require('../../dist/index.js');
const { startLocalKvs } = require('../../dist/local/index.js');
const { outDir } = JSON.parse(process.argv[2]);
const emit = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
// Bounded: the parent kills it long before this.
setTimeout(() => {
  emit({ type: 'error', message: 'the child ran out of time (100 s)' });
  process.exit(2);
}, 100_000).unref();

async function until(done, what, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function next(emitter, event, match, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    function on(...args) {
      if (!match(...args)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args);
    }
    emitter.on(event, on);
  });
}

async function local(viewer) {
  return lib.summarizeStats(await viewer.getStats()).local;
}

async function channelDelivers(master, viewer, tag) {
  const atMaster = next(master, 'message', (m) => String(m) === `v-${tag}`, 60_000, `v-${tag}`);
  const atViewer = next(viewer, 'message', (m) => String(m) === `m-${tag}`, 60_000, `m-${tag}`);
  viewer.sendMessage(`v-${tag}`);
  master.sendMessage(`m-${tag}`, viewer.clientId);
  await Promise.all([atMaster, atViewer]);
}

const dataDir = fs.mkdtempSync(path.join(outDir, 'svc-'));
const svc = await startLocalKvs({ port: 0, turn: false, dataDir, log: () => undefined });
const timeouts = { disconnected: 2000, failed: 15_000 };
const common = {
  channelName: 'path-change',
  region: svc.region,
  credentials: svc.credentials,
  endpoint: svc.endpoint,
  caCertPath: svc.caCertPath,
  signaling: { retry: { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 30 } },
};
const master = new lib.Master({
  ...common,
  peerConnection: { interfaces: { only: ['kvsr0'] }, timeouts },
});
const viewer = new lib.Viewer({
  ...common,
  clientId: 'moving',
  peerConnection: { interfaces: { only: ['kvsr1'] }, timeouts },
});
const source = new lib.LoopingMediaSource({ ...lib.sampleTracks(), answerKeyFrameRequests: true });
try {
  await master.start();
  source.on('frame', (kind, frame) => master.writeFrame(kind, frame));
  master.on('keyframerequest', () => source.requestKeyFrame());
  source.start();
  const frames = [];
  const arrivals = [];
  viewer.on('frame', (kind, f) => {
    if (kind !== 'video') return;
    frames.push(f);
    arrivals.push(performance.now());
  });
  await viewer.connect();
  await until(() => frames.length >= 50, 'the first 50 frames');
  await channelDelivers(master, viewer, 'before');
  const before = await local(viewer);
  emit({ type: 'step', step: 'streaming', local: before });

  const restarted = next(viewer, 'icerestart', () => true, 60_000, 'the viewer restarting ICE');
  const masterRestarted = next(
    master,
    'icerestart',
    (id) => id === 'moving',
    60_000,
    'the master answering the restart',
  );
  const atFault = frames.length;
  const faultAt = performance.now();
  execFileSync('ip', ['addr', 'del', '10.98.0.2/24', 'dev', 'kvsr1']);
  execFileSync('ip', ['addr', 'add', '10.98.0.3/24', 'dev', 'kvsr1']);
  emit({ type: 'step', step: 'address changed' });
  const [info] = await restarted;
  const restartedAt = performance.now();
  await masterRestarted;
  const after = await local(viewer);
  // From the first key frame after the fault, 50 frames in a row, for ffmpeg to decode.
  const key = () => frames.findIndex((f, i) => i >= atFault && lib.isKeyFrame('H264', f.frameData));
  await until(() => key() >= 0 && frames.length >= key() + 50, 'a key frame and 50 frames', 60_000);
  const k = key();
  const file = path.join(outDir, 'after.h264');
  fs.writeFileSync(file, Buffer.concat(frames.slice(k, k + 50).map((f) => f.frameData)));
  await channelDelivers(master, viewer, 'after');
  let gap = 0;
  for (let i = atFault; i < arrivals.length; i++)
    gap = Math.max(gap, arrivals[i] - arrivals[i - 1]);
  const result = {
    type: 'result',
    before,
    after,
    reason: info.reason,
    restartMs: info.ms,
    faultToFramesMs: arrivals[k] - faultAt,
    faultToRestartedMs: restartedAt - faultAt,
    faultToFirstFrameMs: arrivals[atFault] - faultAt,
    longestGapMs: gap,
    iceRestarts: viewer.iceRestarts,
    masterRestarts: master.viewers.get('moving')?.link?.counters.iceRestarts,
    viewerState: viewer.state,
    masterState: master.viewers.get('moving')?.state,
    file,
    framesAfter: frames.length - atFault,
  };
  source.stop();
  await viewer.close();
  await master.close();
  result.closed = { viewer: viewer.state, masterViewers: master.viewers.size };
  await svc.stop({ graceful: false });
  emit(result);
  process.exit(0);
} catch (e) {
  emit({ type: 'error', message: String(e?.stack ?? e) });
  source.stop();
  await Promise.allSettled([viewer.close(), master.close()]);
  await svc.stop({ graceful: false });
  process.exit(1);
}
