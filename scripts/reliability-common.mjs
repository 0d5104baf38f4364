// What scripts/soak.mjs and scripts/churn.mjs share: their arguments, the resource sample
// (RSS after a full GC, open descriptors, active handles), medians, a seeded random source,
// and the embedded local service with a Master streaming the sample media on loopback.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// V8 sizes its young generation by the allocation rate it sees: it starts small and, once
// the load has run for a while (seen at 60 to 190 s), doubles it to its maximum of 16 MB per
// semi-space, a one-time step of 16 MB in heapTotal and RSS that says nothing about the
// library (the 30-minute soak failed on it). So both scripts run with the young generation at
// its maximum from the start (`--min-semi-space-size=16`, the default maximum on 64-bit):
// they re-run themselves with the flag when it is missing. Everything else, native and JS,
// is measured as before; the heapTotal column shows what V8 reserves.
const YOUNG_GENERATION_FLAG = '--min-semi-space-size=16';
if (!process.execArgv.some((a) => a.startsWith('--min-semi-space-size'))) {
  const r = spawnSync(
    process.execPath,
    [YOUNG_GENERATION_FLAG, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 2);
}

const require = createRequire(import.meta.url);
const { Master, LoopingMediaSource, sampleTracks } = require('../dist/index.js');
const { startEmbeddedService } = require('../dist/demo.js');
const { LOOPBACK_ONLY } = require('../dist/session/options.js');

export { Master, LOOPBACK_ONLY };
export const { Viewer } = require('../dist/index.js');

/** `--name value` and `--flag` arguments, with defaults; unknown names are an error. */
export function parseArgs(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const name = a.slice(2);
    if (!(name in defaults)) throw new Error(`unknown option --${name}`);
    if (typeof defaults[name] === 'boolean') {
      out[name] = true;
      continue;
    }
    const v = Number(argv[++i]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number >= 0`);
    out[name] = v;
  }
  return out;
}

// A full collection before each RSS reading: received frames are Buffers the heap frees
// lazily, and a reading without it moves by megabytes with the collector's timing.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

/** RSS and the JS heap (after a full GC), open descriptors, active handles, now. */
export function sampleResources() {
  gc();
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    /** The JS heap and the memory of Buffers, to tell a JS leak from a native one. */
    heap: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    /** V8's compiled code: optimizing tiers keep adding to it as more functions get hot. */
    code: codeSpaceUsed(),
    fds: fs.readdirSync('/proc/self/fd').length,
    handles: process.getActiveResourcesInfo().length,
    ...procMemory(),
  };
}

function codeSpaceUsed() {
  return getHeapSpaceStatistics()
    .filter((x) => x.space_name === 'code_space' || x.space_name === 'code_large_object_space')
    .reduce((n, x) => n + x.space_used_size, 0);
}

/**
 * Where the RSS is (Linux): anonymous memory (the malloc heaps and V8's) against mapped files,
 * and the thread count, since each thread that allocates can get a malloc arena of its own.
 */
function procMemory() {
  const out = { anon: NaN, threads: NaN };
  try {
    const rollup = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
    const anon = /^Anonymous:\s+(\d+) kB/m.exec(rollup);
    if (anon) out.anon = Number(anon[1]) * 1024;
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const threads = /^Threads:\s+(\d+)/m.exec(status);
    if (threads) out.threads = Number(threads[1]);
  } catch {
    // not Linux: the columns print NaN
  }
  return out;
}

export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** mulberry32: a small seeded generator, so that a churn run can be replayed. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The local service (no TURN: host candidates on loopback only), a Master on a fresh channel
 * and the looping sample media written to it. `viewers` sizes the service's limits.
 */
export async function startStreamingMaster({ viewers, maxViewers }) {
  const svc = await startEmbeddedService({ turn: false, viewers });
  const channel = `reliability-${process.pid}-${Date.now().toString(36)}`;
  const common = {
    ...svc.session,
    channelName: channel,
    peerConnection: { interfaces: LOOPBACK_ONLY },
  };
  const master = new Master({ ...common, maxViewers });
  const source = new LoopingMediaSource(sampleTracks());
  const written = { video: 0, audio: 0 };
  source.on('frame', (kind, frame) => {
    if (master.writeFrame(kind, frame) > 0) written[kind]++;
  });
  master.on('keyframerequest', () => source.requestKeyFrame());
  try {
    await master.start();
  } catch (e) {
    await svc.stop();
    throw e;
  }
  source.start();
  const stop = async () => {
    source.stop();
    await master.close();
    await svc.stop();
  };
  return { svc, master, source, common, written, stop };
}
