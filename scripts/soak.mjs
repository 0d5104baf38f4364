#!/usr/bin/env node
// Soak: one Master streams the sample media (H.264 640x480 25 fps and Opus 20 ms, looping)
// through the embedded local KVS service to N native Viewers in this process, on loopback
// host candidates only (no TURN), for a bounded time; every viewer and the master also send
// each other one data-channel message a second, numbered, and each side checks the numbers
// (none may be missing, repeated or out of order). Every --interval seconds it prints RSS,
// open descriptors (/proc/self/fd), active handles (process.getActiveResourcesInfo()),
// frames sent and received, messages sent and received, and RTP loss. Not part of `npm test`.
// (Frames sent count the frames handed to each viewer's tracks; the core discards a joiner's
// frames until its first key frame, so before the warm-up's end sent runs ahead of received.)
//
//   npm run soak -- [--minutes 60] [--viewers 10] [--warmup 2] [--interval 10] [--json]
//
// Pass criteria, after the warm-up (--warmup minutes):
// - RSS: every reading is taken after a full garbage collection (the script turns on
//   --expose-gc itself). The median of the first 6 readings after the warm-up (fewer when
//   the run is short: half of the readings after it) is the start; the median of the last
//   6 readings while the media flows is the end; the end may not exceed the start by more
//   than 5%. Medians, because single readings move by a megabyte or so (heap pages,
//   allocator arenas) and a median of six does not.
// - Descriptors and active handles: the median of the end window may not exceed the largest
//   reading of the start window (a handle that exists for a moment, such as a resend timer,
//   shows in one reading; a leak moves the median).
// - Frames: at the end the source is stopped and the stream drained (3 s); for every viewer
//   and kind, frames received since the warm-up must equal frames the master handed to that
//   viewer's track since then, give or take the one frame per kind that may be in flight
//   at the warm-up's end (it counts as received but not as written). Such a frame could hide
//   one loss per kind, so the RTP packets the viewers' inbound-rtp statistics count as lost
//   since the warm-up must be 0 as well.
// - Messages: every message sent, either way, arrived, in order, none twice.
// - No viewer's session may end during the run.
// The process runs the local service as well, so its figures are the whole demo's.
// Exit 0 when every criterion holds, 1 with the failing criteria named, 2 on a setup failure.
import {
  Viewer,
  median,
  mb,
  parseArgs,
  sampleResources,
  sleep,
  startStreamingMaster,
} from './reliability-common.mjs';

const opts = parseArgs(process.argv.slice(2), {
  minutes: 60,
  viewers: 10,
  warmup: 2,
  interval: 10,
  json: false,
});
if (!(opts.minutes > opts.warmup)) throw new Error('--minutes must be more than --warmup');
if (!Number.isInteger(opts.viewers) || opts.viewers < 1 || opts.viewers > 50) {
  throw new Error('--viewers must be an integer 1..50');
}
const log = opts.json ? () => undefined : (line) => console.log(line);
const DRAIN_MS = 3000;
const failures = [];
/** Set once the run is over: sessions ending after it are the teardown's. */
let stopping = false;

const stream = await startStreamingMaster({ viewers: opts.viewers, maxViewers: opts.viewers });
const { master, common } = stream;

// ---- data-channel sequence checks, both ways ----
/** Per viewer: what each side sent, what the other side got, and what went wrong. */
const peers = new Map();
const badSeq = (dir, id, got, want) =>
  failures.push(`message order: ${dir} ${id}: got #${got}, expected #${want}`);
master.on('message', (data, id) => {
  const p = peers.get(id);
  if (!p) return;
  const n = Number(String(data));
  if (n !== p.toMaster.received + 1) badSeq('viewer->master', id, n, p.toMaster.received + 1);
  p.toMaster.received = n;
});
master.on('viewerleft', (id, reason) => {
  if (!stopping) failures.push(`viewer ${id}: its session ended during the run (${reason})`);
});

const viewers = [];
for (let i = 0; i < opts.viewers; i++) {
  const v = new Viewer({ ...common, clientId: `soak-viewer-${i + 1}`, connectTimeoutMs: 60_000 });
  const p = { viewer: v, toMaster: { sent: 0, received: 0 }, toViewer: { sent: 0, received: 0 } };
  peers.set(v.clientId, p);
  v.on('message', (data) => {
    const n = Number(String(data));
    if (n !== p.toViewer.received + 1)
      badSeq('master->viewer', v.clientId, n, p.toViewer.received + 1);
    p.toViewer.received = n;
  });
  v.on('close', (reason) => {
    if (!stopping) failures.push(`viewer ${v.clientId}: closed during the run (${reason})`);
  });
  viewers.push(v);
}
const t0 = performance.now();
log(
  `soak: ${opts.minutes} min, ${opts.viewers} viewers on loopback, warm-up ${opts.warmup} min, ` +
    `a sample every ${opts.interval} s (RSS after a full GC)`,
);
const connected = await Promise.allSettled(viewers.map((v) => v.connect()));
const notConnected = connected.filter((r) => r.status === 'rejected');
if (notConnected.length > 0) {
  console.error(`soak: ${notConnected.length} viewers did not connect: ${notConnected[0].reason}`);
  stopping = true;
  await Promise.allSettled(viewers.map((v) => v.close()));
  await stream.stop();
  process.exit(2);
}
log(`soak: ${opts.viewers} viewers connected in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const messageTimer = setInterval(() => {
  for (const [id, p] of peers) {
    if (p.viewer.dataChannel?.readyState === 'open') {
      p.viewer.sendMessage(String(p.toMaster.sent + 1));
      p.toMaster.sent++;
    }
    if (master.sendMessage(String(p.toViewer.sent + 1), id) === 1) p.toViewer.sent++;
  }
}, 1000);

// ---- counters ----
const written = (id, kind) => master.viewers.get(id)?.link?.counters.framesWritten[kind] ?? 0;
const received = (v, kind) => v.counters?.framesReceived[kind] ?? 0;
async function rtpLost(v) {
  const m = await v.metrics().catch(() => undefined);
  return m?.packetsLost ?? 0;
}
function totals() {
  const t = { sent: 0, received: 0, msgSent: 0, msgReceived: 0 };
  for (const [id, p] of peers) {
    for (const kind of ['video', 'audio']) {
      t.sent += written(id, kind);
      t.received += received(p.viewer, kind);
    }
    t.msgSent += p.toMaster.sent + p.toViewer.sent;
    t.msgReceived += p.toMaster.received + p.toViewer.received;
  }
  return t;
}

// ---- the run ----
const samples = [];
let baseline; // per viewer, at the warm-up's end
const endAt = t0 + opts.minutes * 60_000;
const warmupAt = t0 + opts.warmup * 60_000;
log(
  '     s   rss MB  anon MB  heap MB (of)  ext MB  threads  fds  handles  frames sent  received' +
    '   msgs sent  received  rtp lost',
);
for (let k = 1; ; k++) {
  const at = t0 + k * opts.interval * 1000;
  if (at > endAt) break;
  await sleep(Math.max(0, at - performance.now()));
  if (!baseline && performance.now() >= warmupAt) {
    baseline = new Map();
    for (const [id, p] of peers) {
      baseline.set(id, {
        written: { video: written(id, 'video'), audio: written(id, 'audio') },
        received: { video: received(p.viewer, 'video'), audio: received(p.viewer, 'audio') },
        lost: await rtpLost(p.viewer),
      });
    }
  }
  const r = sampleResources();
  let lost = 0;
  for (const p of peers.values()) lost += await rtpLost(p.viewer);
  const t = totals();
  const s = Math.round((performance.now() - t0) / 1000);
  samples.push({ s, warm: baseline !== undefined, ...r, ...t, rtpLost: lost });
  log(
    `${String(s).padStart(6)} ${mb(r.rss).padStart(8)} ${mb(r.anon).padStart(8)} ` +
      `${mb(r.heap).padStart(8)} ${`(${mb(r.heapTotal)})`.padStart(7)} ${mb(r.external).padStart(7)} ${String(r.threads).padStart(8)} ` +
      `${String(r.fds).padStart(4)} ` +
      `${String(r.handles).padStart(8)} ${String(t.sent).padStart(12)} ${String(t.received).padStart(9)} ` +
      `${String(t.msgSent).padStart(11)} ${String(t.msgReceived).padStart(9)} ${String(lost).padStart(9)}`,
  );
}

// ---- drain and judge ----
clearInterval(messageTimer);
stream.source.stop();
await sleep(DRAIN_MS);
const frameLoss = { video: 0, audio: 0 };
let rtpLostAfterWarmup = 0;
let messagesLost = 0;
for (const [id, p] of peers) {
  const b = baseline?.get(id);
  if (!b) break;
  for (const kind of ['video', 'audio']) {
    const w = written(id, kind) - b.written[kind];
    const got = received(p.viewer, kind) - b.received[kind];
    frameLoss[kind] += w - got;
    // One more received than written is the frame that was in flight at the warm-up's end.
    if (got < w || got > w + 1) {
      failures.push(
        `frames: viewer ${id} ${kind}: ${w} written since the warm-up, ${got} received`,
      );
    }
    if (w === 0) failures.push(`frames: viewer ${id} ${kind}: none written after the warm-up`);
  }
  const l = (await rtpLost(p.viewer)) - b.lost;
  rtpLostAfterWarmup += l;
  if (l !== 0) failures.push(`rtp: viewer ${id}: ${l} packets lost after the warm-up`);
  for (const [dir, c] of [
    ['viewer->master', p.toMaster],
    ['master->viewer', p.toViewer],
  ]) {
    messagesLost += c.sent - c.received;
    if (c.sent !== c.received) {
      failures.push(`messages: ${dir} ${id}: ${c.sent} sent, ${c.received} received`);
    }
    if (c.sent === 0) failures.push(`messages: ${dir} ${id}: none sent`);
  }
}

const warm = samples.filter((x) => x.warm);
const k = Math.max(1, Math.min(6, Math.floor(warm.length / 2)));
const startWin = warm.slice(0, k);
const endWin = warm.slice(-k);
const summary = {
  ok: false,
  failures,
  minutes: opts.minutes,
  warmupMinutes: opts.warmup,
  viewers: opts.viewers,
  samples: samples.length,
  windowSamples: k,
  rss: undefined,
  fds: undefined,
  handles: undefined,
  frames: {
    sent: totals().sent,
    received: totals().received,
    lostAfterWarmup: frameLoss,
    rtpPacketsLostAfterWarmup: rtpLostAfterWarmup,
  },
  messages: { sent: totals().msgSent, received: totals().msgReceived, lost: messagesLost },
};
if (warm.length < 2) {
  failures.push(`too few samples after the warm-up (${warm.length}): run longer`);
} else {
  const rs = median(startWin.map((x) => x.rss));
  const re = median(endWin.map((x) => x.rss));
  summary.rss = { startMedian: rs, endMedian: re, growth: (re - rs) / rs };
  if (re > rs * 1.05) {
    failures.push(
      `rss: grew ${(((re - rs) / rs) * 100).toFixed(1)}% (${mb(rs)} -> ${mb(re)} MB; limit 5%)`,
    );
  }
  for (const key of ['fds', 'handles']) {
    const a = Math.max(...startWin.map((x) => x[key]));
    const b = median(endWin.map((x) => x[key]));
    summary[key] = { start: a, end: b };
    if (b > a) failures.push(`${key}: grew from ${a} to ${b}`);
  }
}

stopping = true;
await Promise.allSettled(viewers.map((v) => v.close()));
await stream.stop();
summary.ok = failures.length === 0;
if (opts.json) {
  console.log(JSON.stringify(summary, null, 2));
} else {
  if (summary.rss) {
    log(
      `rss: ${mb(summary.rss.startMedian)} -> ${mb(summary.rss.endMedian)} MB ` +
        `(${(summary.rss.growth * 100).toFixed(2)}%, medians of ${k}); ` +
        `fds ${summary.fds.start} -> ${summary.fds.end}; handles ${summary.handles.start} -> ${summary.handles.end}`,
    );
  }
  log(
    `frames: ${summary.frames.sent} written to viewers, ${summary.frames.received} received; ` +
      `lost after the warm-up: video ${frameLoss.video}, audio ${frameLoss.audio}, RTP packets ${rtpLostAfterWarmup}`,
  );
  log(`messages: ${summary.messages.sent} sent, ${summary.messages.received} received`);
  log(summary.ok ? 'soak: PASS' : `soak: FAIL\n  ${failures.join('\n  ')}`);
}
process.exit(summary.ok ? 0 : 1);
